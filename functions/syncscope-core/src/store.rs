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

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{MAX_FILTERS, json_error_text};
use crate::names::{Description, DomainName, FilterName};
use crate::scope::{Desired, DesiredFilter, FilterKind, Ledger, LedgerEntry};

/// The format version written in every shard.
pub const FORMAT: u32 = 1;
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
}

/// One shard as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardDoc {
    syncscope: u32,
    hash: String,
    shard: usize,
    of: usize,
    entries: Vec<Entry>,
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
    let canonical = serde_json::to_vec(entries).unwrap_or_default();
    hex::encode(Sha256::digest(&canonical))
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
        })
        .collect()
}

/// Splits a list into shards of at most 4 KB each (8 KB for an entry that needs it).
pub fn encode(entries: &[Entry]) -> Vec<Shard> {
    let hash = hash(entries);
    let value_of = |chunk: &[Entry], shard: usize, of: usize| {
        serde_json::to_string(&ShardDoc {
            syncscope: FORMAT,
            hash: hash.clone(),
            shard,
            of,
            entries: chunk.to_vec(),
        })
        .unwrap_or_default()
    };
    // Pack greedily, measuring with a worst-case header ("of" as wide as MAX_SHARDS).
    let mut chunks: Vec<&[Entry]> = Vec::new();
    let mut start = 0;
    while start < entries.len() {
        let mut end = start + 1;
        while end < entries.len()
            && value_of(&entries[start..=end], MAX_SHARDS, MAX_SHARDS).len() <= STANDARD_LIMIT
        {
            end += 1;
        }
        chunks.push(&entries[start..end]);
        start = end;
    }
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let of = chunks.len();
    chunks
        .iter()
        .enumerate()
        .map(|(index, chunk)| {
            let value = value_of(chunk, index, of);
            let advanced = value.len() > STANDARD_LIMIT;
            Shard {
                index,
                value,
                advanced,
            }
        })
        .collect()
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
        if doc.syncscope != FORMAT {
            return Err(StoreError::BadShard {
                name: name.clone(),
                message: format!(
                    "format version {} is not supported (expected {FORMAT})",
                    doc.syncscope
                ),
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
    let (hash, of) = (first.hash.clone(), first.of);
    for (_, doc) in &docs {
        if doc.hash != hash || doc.of != of {
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
    let entries: Vec<Entry> = docs.into_iter().flat_map(|(_, d)| d.entries).collect();
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

/// The SSM path of a resource's ownership record under the ledger base `base`:
/// `BASE/REGION/PROFILE` (both are valid SSM path segments by their own rules).
pub fn record_path(base: &str, key: &crate::scope::ProfileKey) -> String {
    format!(
        "{}/{}/{}",
        base.trim_end_matches('/'),
        key.region,
        key.profile
    )
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
    fn ledgers_round_trip_with_their_domain() {
        let ledger = Ledger::new(vec![LedgerEntry {
            kind: FilterKind::Group,
            name: "A".into(),
            domain: "corp.example.com".into(),
            pending: true,
        }]);
        let shards = encode(&entries_of_ledger(&ledger));
        let back = decode("/l", &stored("/l", &shards)).unwrap();
        assert_eq!(ledger_from(&back.entries), ledger);
    }
}
