//! The format of filter lists kept in SSM Parameter Store: the desired filters (written
//! by the deployment) and the ledger of managed filters (written by the Lambda).
//!
//! A list is split into *shards* that each fit an SSM parameter value (4 KB for the
//! Standard tier; a shard holding one very long entry uses the Advanced tier's 8 KB).
//! Each shard is a JSON object naming the whole list's hash, its own index and the
//! shard count, so a reader detects a missing shard or shards of different versions:
//!
//! ```json
//! {"syncscope":1,"hash":"9f2c...","shard":0,"of":2,
//!  "entries":[{"Type":"GROUP","Name":"AWS-Admins","Description":"Platform team"}]}
//! ```
//!
//! Shard `i` of a list stored under `BASE` is the parameter `BASE/NNN` (`000`, `001`,
//! ...). A single parameter holding a whole list (`"shard":0,"of":1`) is also read.
//!
//! The Lambda writes its ledgers *packed* (format 2): the entries' JSON, gzipped,
//! base64, cut into shards that carry a `"packed"` piece instead of `"entries"`. The
//! hash is the same (of the entries' JSON), and a ledger of 5,000 AD names takes about
//! a tenth of the parameters, so a run makes a tenth of the SSM writes. The desired
//! filters stay format 1: the deployment writes them, and people read them in the
//! console.
//!
//! The paths are here too: where a stack keeps its parameters ([`ParameterNames`]),
//! and where every stack of a sync profile keeps its ownership record
//! ([`OWNERS_ROOT`]).

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::de::DeserializeSeed;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::names::{Description, DomainName, FilterName};
use crate::scope::{Desired, DesiredFilter, FilterKind, Ledger, LedgerEntry};
use crate::walker::{MAX_FILTERS, json_error_text};

/// The format version of shards that hold their entries as JSON.
pub const FORMAT: u32 = 1;
/// The format version of packed shards (gzipped JSON, base64, in pieces).
pub const PACKED: u32 = 2;
/// The most bytes a packed list may unpack to: the JSON of 10,000 entries with the
/// longest names and descriptions (about 52 MB, a test checks it) fits, and a
/// hand-made "zip bomb" stops here. The JSON is parsed as it is unzipped and the
/// entries are counted as they come (at most [`MAX_FILTERS`]), so the memory a list
/// takes is that of its entries, whatever the stored value holds: within the
/// function's 256 MB (`synth::FUNCTION_MEMORY_MB`).
const MAX_UNPACKED: u64 = 64 << 20;
/// The value limit of a Standard-tier parameter, in bytes.
pub const STANDARD_LIMIT: usize = 4096;
/// The value limit of an Advanced-tier parameter, in bytes.
pub const ADVANCED_LIMIT: usize = 8192;
/// Most shards one list may have.
pub const MAX_SHARDS: usize = 1000;

/// One entry of a stored list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Group or user.
    #[serde(rename = "Type")]
    pub kind: FilterKind,
    /// The sAMAccountName.
    #[serde(rename = "Name")]
    pub name: String,
    /// The description (desired filters only).
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    /// The AD domain (ledger entries only).
    #[serde(rename = "Domain", default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// A create recorded before it was sent, its outcome unknown (ledger entries only).
    #[serde(
        rename = "Pending",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub pending: bool,
    /// The hash of the filters before the run that created it (ledger entries only;
    /// see [`LedgerEntry::added_from`]).
    #[serde(rename = "AddedFrom", default, skip_serializing_if = "Option::is_none")]
    pub added_from: Option<String>,
    /// The same for an adopted filter (ledger entries only).
    #[serde(
        rename = "AdoptedFrom",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub adopted_from: Option<String>,
    /// Owned but not listed by the stack's config (ledger entries only; see
    /// [`LedgerEntry::unlisted`]).
    #[serde(
        rename = "Unlisted",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub unlisted: bool,
}

/// One shard as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardDoc {
    syncscope: u32,
    hash: String,
    shard: usize,
    of: usize,
    /// The shard's entries (format 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entries: Option<Vec<Entry>>,
    /// The shard's piece of the packed list (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    packed: Option<String>,
}

/// A shard ready to write: its index, value and whether it needs the Advanced tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// Index, for the parameter name suffix.
    pub index: usize,
    /// The JSON value.
    pub value: String,
    /// True when the value is over the Standard tier's 4 KB.
    pub advanced: bool,
}

/// The parameter name of shard `index` under `base`.
pub fn shard_name(base: &str, index: usize) -> String {
    format!("{}/{index:03}", base.trim_end_matches('/'))
}

/// The SHA-256 (hex) of a list: what changes whenever any entry changes.
pub fn hash(entries: &[Entry]) -> String {
    // Streamed into the digest: 10,000 entries with long descriptions are megabytes of
    // JSON that need not be held at once.
    let mut digest = Digesting(Sha256::new());
    let _ = serde_json::to_writer(&mut digest, entries);
    hex::encode(digest.0.finalize())
}

/// A SHA-256 that JSON is written into.
struct Digesting(Sha256);

impl Write for Digesting {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The hash of a list from its compact JSON (what [`hash`] serialises).
fn hash_of_json(json: &[u8]) -> String {
    hex::encode(Sha256::digest(json))
}

/// The entries of a config's desired filters, groups first, in config order.
pub fn entries_of(desired: &Desired) -> Vec<Entry> {
    desired
        .filters
        .iter()
        .map(|f| Entry {
            kind: f.kind,
            name: f.name.as_str().to_owned(),
            description: f.description.as_str().to_owned(),
            domain: None,
            pending: false,
            added_from: None,
            adopted_from: None,
            unlisted: false,
        })
        .collect()
}

/// The entries of a ledger.
pub fn entries_of_ledger(ledger: &Ledger) -> Vec<Entry> {
    ledger
        .entries
        .iter()
        .map(|e| Entry {
            kind: e.kind,
            name: e.name.clone(),
            description: String::new(),
            domain: Some(e.domain.clone()),
            pending: e.pending,
            added_from: e.added_from.clone(),
            adopted_from: e.adopted_from.clone(),
            unlisted: e.unlisted,
        })
        .collect()
}

/// Splits a list into shards of at most 4 KB each (8 KB for an entry that needs it).
///
/// Greedy packing, measured with a worst-case header ("of" as wide as `MAX_SHARDS`).
/// Compact JSON makes a shard's length the empty shard's length plus each entry's own
/// length plus one comma between entries, so every entry is serialised once to
/// measure it (linear in the list, whatever the shard size).
pub fn encode(entries: &[Entry]) -> Vec<Shard> {
    let hash = hash(entries);
    let doc = |entries: Vec<Entry>, shard: usize, of: usize| ShardDoc {
        syncscope: FORMAT,
        hash: hash.clone(),
        shard,
        of,
        entries: Some(entries),
        packed: None,
    };
    let header = json_len(&doc(Vec::new(), MAX_SHARDS, MAX_SHARDS));
    let mut chunks: Vec<&[Entry]> = Vec::new();
    let (mut start, mut len) = (0, header);
    for (i, entry) in entries.iter().enumerate() {
        let grown = len + json_len(entry) + usize::from(i > start);
        if i > start && grown > STANDARD_LIMIT {
            chunks.push(&entries[start..i]);
            start = i;
            len = header + json_len(entry);
        } else {
            len = grown;
        }
    }
    if start < entries.len() || chunks.is_empty() {
        chunks.push(&entries[start..]);
    }
    let of = chunks.len();
    chunks
        .iter()
        .enumerate()
        .map(|(index, chunk)| {
            let value = serde_json::to_string(&doc(chunk.to_vec(), index, of)).unwrap_or_default();
            let advanced = value.len() > STANDARD_LIMIT;
            Shard {
                index,
                value,
                advanced,
            }
        })
        .collect()
}

/// Packs a list (format 2): its JSON gzipped and base64-encoded, cut into Standard-tier
/// shards. Same hash, same reader ([`decode`]) as [`encode`]'s shards.
pub fn encode_packed(entries: &[Entry]) -> Vec<Shard> {
    let json = serde_json::to_vec(entries).unwrap_or_default();
    let hash = hash_of_json(&json);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    let packed = gz
        .write_all(&json)
        .and_then(|()| gz.finish())
        .map(|bytes| BASE64.encode(bytes))
        .unwrap_or_default();
    let doc = |piece: &str, shard: usize, of: usize| ShardDoc {
        syncscope: PACKED,
        hash: hash.clone(),
        shard,
        of,
        entries: None,
        packed: Some(piece.to_owned()),
    };
    let room = STANDARD_LIMIT - json_len(&doc("", MAX_SHARDS, MAX_SHARDS));
    // base64 is ASCII: any byte offset is a character boundary.
    let pieces: Vec<&str> = if packed.is_empty() {
        vec![""]
    } else {
        (0..packed.len())
            .step_by(room)
            .map(|at| &packed[at..packed.len().min(at + room)])
            .collect()
    };
    let of = pieces.len();
    pieces
        .iter()
        .enumerate()
        .map(|(index, piece)| Shard {
            index,
            value: serde_json::to_string(&doc(piece, index, of)).unwrap_or_default(),
            advanced: false,
        })
        .collect()
}

/// Unpacks the pieces of a packed list, in shard order: parsed while it is unzipped,
/// at most [`MAX_UNPACKED`] bytes and [`MAX_FILTERS`] entries.
fn unpack(pieces: &str) -> Result<Vec<Entry>, String> {
    let gz = BASE64
        .decode(pieces)
        .map_err(|e| format!("its packed entries are not base64: {e}"))?;
    let reader = std::io::BufReader::new(Capped {
        inner: GzDecoder::new(gz.as_slice()),
        left: MAX_UNPACKED,
    });
    let mut json = serde_json::Deserializer::from_reader(reader);
    let entries = AtMost(MAX_FILTERS)
        .deserialize(&mut json)
        .and_then(|entries| json.end().map(|()| entries));
    entries.map_err(|e| match e.io_error_kind() {
        Some(std::io::ErrorKind::FileTooLarge) => {
            format!("its packed entries unpack to more than {MAX_UNPACKED} bytes")
        }
        Some(_) => format!("its packed entries do not unzip: {e}"),
        None => format!(
            "its packed entries are not a list of entries: line {}, column {}: {}",
            e.line(),
            e.column(),
            json_error_text(&e)
        ),
    })
}

/// A reader that fails (`FileTooLarge`) once it would give more than `left` bytes.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self
            .left
            .checked_sub(n as u64)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::FileTooLarge, "unpack limit"))?;
        Ok(n)
    }
}

/// A JSON list of entries, refused as soon as it holds more than this many.
struct AtMost(usize);

impl<'de> serde::de::DeserializeSeed<'de> for AtMost {
    type Value = Vec<Entry>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for AtMost {
    type Value = Vec<Entry>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a list of at most {} entries", self.0)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.0));
        while let Some(entry) = seq.next_element::<Entry>()? {
            if entries.len() == self.0 {
                return Err(serde::de::Error::custom(format!(
                    "it holds more than {} entries; syncscope supports at most {}",
                    self.0, self.0
                )));
            }
            entries.push(entry);
        }
        Ok(entries)
    }
}

/// The length of a value's compact JSON.
fn json_len<T: Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(0, |v| v.len())
}

/// Why a stored list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A parameter's value is not a shard.
    #[error("parameter {name}: {message}")]
    BadShard {
        /// The parameter.
        name: String,
        /// What is wrong, with line and column for JSON errors.
        message: String,
    },
    /// A shard of the list is not there.
    #[error("shard {missing} of {of} is missing under {base} (expected parameter {expected})")]
    Missing {
        /// The index missing.
        missing: usize,
        /// The shard count the others name.
        of: usize,
        /// The base path.
        base: String,
        /// The name the missing shard should have.
        expected: String,
    },
    /// Shards of two versions of the list are mixed.
    #[error(
        "parameters under {base} belong to different versions of the list ({first} and {second}); redeploy to rewrite them"
    )]
    Mixed {
        /// The base path.
        base: String,
        /// One hash.
        first: String,
        /// Another hash.
        second: String,
    },
    /// The shards are complete but their content does not match their hash.
    #[error("the list under {base} does not match its hash {expected} (was it edited by hand?)")]
    HashMismatch {
        /// The base path.
        base: String,
        /// The hash the shards name.
        expected: String,
    },
    /// More entries than syncscope supports.
    #[error("the list under {base} has {count} entries; syncscope supports at most {MAX_FILTERS}")]
    TooMany {
        /// The base path.
        base: String,
        /// Entries found.
        count: usize,
    },
}

/// A list read back: its entries and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The entries in stored order.
    pub entries: Vec<Entry>,
    /// The list's hash, verified against the content.
    pub hash: String,
}

/// Reassembles a list from `(parameter name, value)` pairs read under `base`.
pub fn decode(base: &str, parameters: &[(String, String)]) -> Result<Stored, StoreError> {
    let mut docs: Vec<(String, ShardDoc)> = Vec::with_capacity(parameters.len());
    for (name, value) in parameters {
        let doc: ShardDoc = serde_json::from_str(value).map_err(|e| StoreError::BadShard {
            name: name.clone(),
            message: format!(
                "not a syncscope shard: line {}, column {}: {}",
                e.line(),
                e.column(),
                json_error_text(&e)
            ),
        })?;
        let problem = match (doc.syncscope, &doc.entries, &doc.packed) {
            (FORMAT, Some(_), None) | (PACKED, None, Some(_)) => None,
            (FORMAT, _, _) => {
                Some("a format 1 shard holds \"entries\" and no \"packed\"".to_owned())
            }
            (PACKED, _, _) => {
                Some("a format 2 shard holds \"packed\" and no \"entries\"".to_owned())
            }
            (other, _, _) => Some(format!(
                "format version {other} is not supported (expected {FORMAT} or {PACKED}; was it written by a newer syncscope?)"
            )),
        };
        if let Some(message) = problem {
            return Err(StoreError::BadShard {
                name: name.clone(),
                message,
            });
        }
        if doc.of == 0 || doc.of > MAX_SHARDS || doc.shard >= doc.of {
            return Err(StoreError::BadShard {
                name: name.clone(),
                message: format!("shard {} of {} is out of range", doc.shard, doc.of),
            });
        }
        docs.push((name.clone(), doc));
    }
    let Some((_, first)) = docs.first() else {
        return Err(StoreError::Missing {
            missing: 0,
            of: 1,
            base: base.to_owned(),
            expected: shard_name(base, 0),
        });
    };
    let (hash, of, format) = (first.hash.clone(), first.of, first.syncscope);
    for (_, doc) in &docs {
        if doc.hash != hash || doc.of != of || doc.syncscope != format {
            return Err(StoreError::Mixed {
                base: base.to_owned(),
                first: short(&hash),
                second: short(&doc.hash),
            });
        }
    }
    docs.sort_by_key(|(_, d)| d.shard);
    docs.dedup_by_key(|(_, d)| d.shard);
    for index in 0..of {
        if docs.get(index).map(|(_, d)| d.shard) != Some(index) {
            return Err(StoreError::Missing {
                missing: index,
                of,
                base: base.to_owned(),
                expected: shard_name(base, index),
            });
        }
    }
    let entries: Vec<Entry> = if format == PACKED {
        let first_name = docs[0].0.clone();
        let pieces: String = docs.into_iter().filter_map(|(_, d)| d.packed).collect();
        unpack(&pieces).map_err(|message| StoreError::BadShard {
            name: first_name,
            message,
        })?
    } else {
        docs.into_iter()
            .flat_map(|(_, d)| d.entries.unwrap_or_default())
            .collect()
    };
    if entries.len() > MAX_FILTERS {
        return Err(StoreError::TooMany {
            base: base.to_owned(),
            count: entries.len(),
        });
    }
    if self::hash(&entries) != hash {
        return Err(StoreError::HashMismatch {
            base: base.to_owned(),
            expected: short(&hash),
        });
    }
    Ok(Stored { entries, hash })
}

/// Where every stack keeps its ownership records unless its properties say otherwise.
pub const OWNERS_ROOT: &str = "/syncscope/owners";

/// Where a stack keeps its parameters in SSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterNames {
    /// Base of every version of the filters: `/syncscope/STACK/filters`.
    pub filters_base: String,
    /// Base of the ledgers of syncscope before co-ownership: `/syncscope/STACK/ledger`
    /// (read until a run moves them to `owners`).
    pub ledger: String,
    /// Where every stack keeps its ownership record of a sync profile:
    /// `/syncscope/owners` (`OWNERS/REGION/PROFILE/STACK`).
    pub owners: String,
    /// The SecureString holding a literal webhook URL of the config, which the
    /// template never carries: `/syncscope/STACK/teams-webhook`.
    pub webhook: String,
}

impl ParameterNames {
    /// The names for a stack.
    pub fn for_stack(stack: &str) -> Self {
        Self {
            filters_base: format!("/syncscope/{stack}/filters"),
            ledger: format!("/syncscope/{stack}/ledger"),
            owners: OWNERS_ROOT.to_owned(),
            webhook: format!("/syncscope/{stack}/teams-webhook"),
        }
    }

    /// The path of one version of the filters: content-addressed, so a rollback finds
    /// the previous version still in place.
    pub fn filters_version(&self, hash: &str) -> String {
        format!("{}/{}", self.filters_base, short(hash))
    }
}

/// The SSM path of a resource's ownership record under the ledger base `base`:
/// `BASE/REGION/PROFILE` (both are valid SSM path segments by their own rules). Since
/// co-ownership this is where a record was: it is read until the next write moves it.
pub fn record_path(base: &str, key: &crate::scope::ProfileKey) -> String {
    format!(
        "{}/{}/{}",
        base.trim_end_matches('/'),
        key.region,
        key.profile
    )
}

/// The SSM path under which every stack keeps its record of one sync profile:
/// `OWNERS/REGION/PROFILE`.
pub fn profile_owners_path(owners: &str, key: &crate::scope::ProfileKey) -> String {
    record_path(owners, key)
}

/// The SSM path of one stack's record of a sync profile: `OWNERS/REGION/PROFILE/STACK`
/// (a stack name is letters, digits and hyphens: a valid path segment).
pub fn owner_record_path(owners: &str, key: &crate::scope::ProfileKey, stack: &str) -> String {
    format!("{}/{stack}", profile_owners_path(owners, key))
}

/// The first 16 hex digits of a hash: enough to tell versions apart in names.
pub fn short(hash: &str) -> String {
    hash.chars().take(16).collect()
}

/// Validates stored desired filters as strictly as the config validator does.
///
/// Each problem names the entry: `entry 14 (GROUP "x"): ...`.
pub fn desired_from(domain: &DomainName, entries: &[Entry]) -> Result<Desired, Vec<String>> {
    let mut problems = Vec::new();
    let mut filters = Vec::with_capacity(entries.len());
    let mut seen = std::collections::HashMap::new();
    for (index, entry) in entries.iter().enumerate() {
        let at = format!("entry {index} ({} {:?})", entry.kind, entry.name);
        if entry.pending {
            problems.push(format!(
                "{at}: \"Pending\" belongs to the ledger, not to the desired filters"
            ));
        }
        if entry.added_from.is_some() || entry.adopted_from.is_some() || entry.unlisted {
            problems.push(format!(
                "{at}: \"AddedFrom\", \"AdoptedFrom\" and \"Unlisted\" belong to the ledger, not to the desired filters"
            ));
        }
        let name = FilterName::parse(&entry.name, entry.kind);
        let description = Description::parse(&entry.description);
        match (name, description) {
            (Ok(name), Ok(description)) => {
                if let Some(first) = seen.insert((entry.kind, name.key()), index) {
                    problems.push(format!(
                        "{at}: duplicates entry {first} (names compare case-insensitively)"
                    ));
                }
                filters.push(DesiredFilter {
                    kind: entry.kind,
                    name,
                    description,
                });
            }
            (Err(e), _) => problems.push(format!("{at}: name {e}")),
            (_, Err(e)) => problems.push(format!("{at}: description {e}")),
        }
    }
    if problems.is_empty() {
        Ok(Desired {
            domain: domain.clone(),
            filters,
        })
    } else {
        Err(problems)
    }
}

/// A ledger from stored entries (entries without a domain are skipped).
pub fn ledger_from(entries: &[Entry]) -> Ledger {
    Ledger::new(
        entries
            .iter()
            .filter_map(|e| {
                Some(LedgerEntry {
                    kind: e.kind,
                    name: e.name.clone(),
                    domain: e.domain.clone()?,
                    pending: e.pending,
                    added_from: e.added_from.clone(),
                    adopted_from: e.adopted_from.clone(),
                    unlisted: e.unlisted,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: usize, description: &str) -> Vec<Entry> {
        (0..n)
            .map(|i| Entry {
                kind: if i % 10 == 9 {
                    FilterKind::User
                } else {
                    FilterKind::Group
                },
                name: format!("AWS-Group-{i:05}"),
                description: description.to_owned(),
                domain: None,
                pending: false,
                added_from: None,
                adopted_from: None,
                unlisted: false,
            })
            .collect()
    }

    fn stored(base: &str, shards: &[Shard]) -> Vec<(String, String)> {
        shards
            .iter()
            .map(|s| (shard_name(base, s.index), s.value.clone()))
            .collect()
    }

    #[test]
    fn two_thousand_filters_round_trip_through_standard_shards() {
        let list = entries(
            2000,
            "Access to the payments accounts for the team that owns them",
        );
        let shards = encode(&list);
        assert!(shards.len() > 30, "{}", shards.len());
        assert!(
            shards
                .iter()
                .all(|s| s.value.len() <= STANDARD_LIMIT && !s.advanced)
        );
        let back = decode("/p", &stored("/p", &shards)).unwrap();
        assert_eq!(back.entries, list);
        assert_eq!(back.hash, hash(&list));
    }

    #[test]
    fn an_entry_too_big_for_4_kb_gets_an_advanced_shard_of_its_own() {
        let mut list = entries(3, "short");
        list[1].description = "😀".repeat(1024); // 4 KB of UTF-8 on its own
        let shards = encode(&list);
        assert_eq!(shards.len(), 3);
        assert!(shards[1].advanced && shards[1].value.len() <= ADVANCED_LIMIT);
        assert!(!shards[0].advanced && !shards[2].advanced);
    }

    #[test]
    fn an_empty_list_is_one_shard() {
        let shards = encode(&[]);
        assert_eq!(shards.len(), 1);
        assert_eq!(decode("/p", &stored("/p", &shards)).unwrap().entries, []);
    }

    #[test]
    fn a_missing_shard_is_named() {
        let shards = encode(&entries(500, "x"));
        let mut params = stored("/p", &shards);
        params.remove(2);
        let e = decode("/p", &params).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "shard 2 of {} is missing under /p (expected parameter /p/002)",
                shards.len()
            )
        );
    }

    #[test]
    fn shards_of_two_versions_are_refused() {
        let a = encode(&entries(500, "x"));
        let b = encode(&entries(500, "y"));
        let mut params = stored("/p", &a);
        params[1] = stored("/p", &b)[1].clone();
        assert!(matches!(
            decode("/p", &params),
            Err(StoreError::Mixed { .. })
        ));
    }

    #[test]
    fn a_hand_edited_shard_fails_its_hash() {
        let shards = encode(&entries(3, "x"));
        let params = vec![(
            "/p/000".to_owned(),
            shards[0]
                .value
                .replace("AWS-Group-00001", "AWS-Group-99999"),
        )];
        assert!(matches!(
            decode("/p", &params),
            Err(StoreError::HashMismatch { .. })
        ));
    }

    #[test]
    fn bad_json_reports_parameter_line_and_column() {
        let params = vec![(
            "/p/000".to_owned(),
            "{\"syncscope\":1,\n\"hash\":}".to_owned(),
        )];
        let e = decode("/p", &params).unwrap_err().to_string();
        assert!(
            e.starts_with("parameter /p/000: not a syncscope shard: line 2, column 8"),
            "{e}"
        );
    }

    #[test]
    fn stored_filters_are_validated_like_the_config() {
        let domain = DomainName::parse("corp.example.com").unwrap();
        let mut list = entries(3, "x");
        list[2].name = "aws-group-00000".into();
        list[2].kind = FilterKind::Group;
        list[1].name = "bad<name".into();
        let problems = desired_from(&domain, &list).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("entry 1 (GROUP \"bad<name\"): name"),
            "{problems:?}"
        );
        assert!(problems[1].contains("duplicates entry 0"), "{problems:?}");
    }

    #[test]
    fn a_packed_list_round_trips_in_a_fraction_of_the_shards() {
        let list = entries(5000, "");
        let plain = encode(&list);
        let packed = encode_packed(&list);
        assert!(
            packed.len() * 5 < plain.len(),
            "{} packed shards, {} plain",
            packed.len(),
            plain.len()
        );
        assert!(
            packed
                .iter()
                .all(|s| !s.advanced && s.value.len() <= STANDARD_LIMIT)
        );
        let back = decode("/p", &stored("/p", &packed)).unwrap();
        assert_eq!(back.entries, list);
        assert_eq!(back.hash, hash(&list));
        let empty = encode_packed(&[]);
        assert_eq!(decode("/p", &stored("/p", &empty)).unwrap().entries, []);
    }

    #[test]
    fn packed_shards_that_do_not_unpack_are_named() {
        let packed = encode_packed(&entries(3, "x"));
        let value = packed[0].value.replace("\"packed\":\"", "\"packed\":\"!");
        let e = decode("/p", &[("/p/000".to_owned(), value)]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("parameter /p/000: its packed entries are not base64"),
            "{e}"
        );
        let not_gzip = serde_json::json!({"syncscope": PACKED, "hash": "ab", "shard": 0, "of": 1,
            "packed": BASE64.encode("[]")})
        .to_string();
        let e = decode("/p", &[("/p/000".to_owned(), not_gzip)]).unwrap_err();
        assert!(e.to_string().contains("do not unzip"), "{e}");
    }

    #[test]
    fn a_packed_list_that_unpacks_beyond_the_limit_is_refused() {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..=(MAX_UNPACKED >> 20) {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = BASE64.encode(gz.finish().unwrap());
        let value = serde_json::json!({"syncscope": PACKED, "hash": "ab", "shard": 0, "of": 1,
            "packed": bomb})
        .to_string();
        let e = decode("/p", &[("/p/000".to_owned(), value)]).unwrap_err();
        assert!(e.to_string().contains("unpack to more than"), "{e}");
    }

    #[test]
    fn the_longest_legitimate_list_fits_the_unpack_limit() {
        use crate::names::{MAX_DESCRIPTION_CHARS, MAX_GROUP_NAME_CHARS};
        // Four UTF-8 bytes per character, every optional field set.
        let wide = |n: usize| "\u{1D538}".repeat(n);
        let longest = Entry {
            kind: FilterKind::Group,
            name: wide(MAX_GROUP_NAME_CHARS),
            description: wide(MAX_DESCRIPTION_CHARS),
            domain: Some(format!("{}.example", "a".repeat(245))),
            pending: true,
            added_from: Some("f".repeat(64)),
            adopted_from: Some("f".repeat(64)),
            unlisted: true,
        };
        let each = serde_json::to_vec(&longest).unwrap().len() + 1;
        let list = (each * MAX_FILTERS + 2) as u64;
        assert!(list <= MAX_UNPACKED, "{list} bytes > {MAX_UNPACKED}");
        assert!(
            list > MAX_UNPACKED / 2,
            "{list}: the limit is not far above the need"
        );
    }

    #[test]
    fn a_packed_list_of_more_entries_than_allowed_is_refused_while_it_unzips() {
        // A million tiny entries zip to a few kilobytes; parsed all at once they would
        // take a few hundred MB.
        let one = serde_json::to_string(&entries(1, "")[0]).unwrap();
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(b"[").unwrap();
        for i in 0..1_000_000 {
            if i > 0 {
                gz.write_all(b",").unwrap();
            }
            gz.write_all(one.as_bytes()).unwrap();
        }
        gz.write_all(b"]").unwrap();
        let packed = BASE64.encode(gz.finish().unwrap());
        assert!(packed.len() < 4 * STANDARD_LIMIT * MAX_SHARDS, "storable");
        let value = serde_json::json!({"syncscope": PACKED, "hash": "ab", "shard": 0, "of": 1,
            "packed": packed})
        .to_string();
        let e = decode("/p", &[("/p/000".to_owned(), value)]).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("it holds more than {MAX_FILTERS} entries")),
            "{e}"
        );
    }

    #[test]
    fn shards_of_both_formats_are_not_mixed_and_shapes_are_checked() {
        let list = entries(500, "x");
        let mut params = stored("/p", &encode(&list));
        params.truncate(1);
        params.push(stored("/p", &encode_packed(&list))[0].clone());
        params[1].0 = "/p/001".into();
        assert!(matches!(
            decode("/p", &params),
            Err(StoreError::Mixed { .. })
        ));
        let wrong = serde_json::json!({"syncscope": PACKED, "hash": "ab", "shard": 0, "of": 1,
            "entries": []})
        .to_string();
        let e = decode("/p", &[("/p/000".to_owned(), wrong)]).unwrap_err();
        assert!(
            e.to_string().contains("a format 2 shard holds \"packed\""),
            "{e}"
        );
        let newer =
            serde_json::json!({"syncscope": 9, "hash": "ab", "shard": 0, "of": 1}).to_string();
        let e = decode("/p", &[("/p/000".to_owned(), newer)]).unwrap_err();
        assert!(
            e.to_string().contains("format version 9 is not supported"),
            "{e}"
        );
    }

    #[test]
    fn ledgers_round_trip_with_their_domain() {
        let ledger = Ledger::new(vec![LedgerEntry {
            kind: FilterKind::Group,
            name: "A".into(),
            domain: "corp.example.com".into(),
            pending: true,
            added_from: Some("0123456789abcdef".into()),
            adopted_from: None,
            unlisted: false,
        }]);
        let shards = encode(&entries_of_ledger(&ledger));
        let back = decode("/l", &stored("/l", &shards)).unwrap();
        assert_eq!(ledger_from(&back.entries), ledger);
    }
}
