//! The SSM Parameter Store adapter: reads the desired filters and reads and writes the
//! ledger of managed filters, both in the sharded format of `syncscope_core::store`.
//!
//! Ownership is recorded per resource: one stack (its StackId), one region, one sync
//! profile. Every stack of a profile keeps its record under one path, so each finds
//! the others' ([`ParameterStore::read_co_owners`]): the record of stack `STACK` lives
//! under `OWNERS/REGION/PROFILE/STACK` as `head` (which version is current, whose it
//! is, and which config wrote it) and `<hash16>.z/NNN` (the shards of each version). A
//! new version's shards are written before the head moves, so a crash mid-write never
//! leaves a torn record. A record whose head names another StackId belongs to an
//! earlier stack of the same name: it is not claimed.
//!
//! Two earlier places are read until the next write moves the record: the per-stack
//! record of syncscope before co-ownership (`LEDGER/REGION/PROFILE`), and the ledger
//! of syncscope 0.1 (`LEDGER/head`, format 1, one per stack), read as the record of
//! the resource it is attributed to.

use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use serde::{Deserialize, Serialize};
use syncscope_core::scope::{Ledger, Owner, ProfileKey};
use syncscope_core::store::{self, StoreError};

/// Why reading or writing a parameter failed.
#[derive(Debug, thiserror::Error)]
pub enum SsmError {
    /// Neither a parameter nor a path of shards exists under the name.
    #[error("no filters found in SSM: neither a parameter {name} nor shards under {name}/ exist")]
    NotFound {
        /// The name looked up.
        name: String,
    },
    /// A secret parameter (the Teams webhook) does not exist.
    #[error("the SSM parameter {name} does not exist")]
    SecretNotFound {
        /// The parameter name.
        name: String,
    },
    /// The SSM API failed.
    #[error("failed to {what}: {message}")]
    Api {
        /// What was being done, naming the parameter.
        what: String,
        /// The SDK error with its context.
        message: String,
    },
    /// The stored content is not a valid list.
    #[error("{0}")]
    Format(#[from] StoreError),
    /// The ledger head names something unreadable.
    #[error("ledger head {name} is not valid: {message}")]
    BadHead {
        /// The head parameter.
        name: String,
        /// Why.
        message: String,
    },
}

fn api<E: ProvideErrorMetadata + std::error::Error + 'static>(
    what: impl Into<String>,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> SsmError {
    let what = what.into();
    move |e| SsmError::Api {
        what,
        message: crate::http::sdk_error(&e),
    }
}

/// The head of a record: which version is current, whose record it is, and (when
/// the whole record fits one parameter) the entries themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Head {
    syncscope: u32,
    hash: String,
    /// Shards of the version (0: the entries are inline).
    of: usize,
    /// The owner (format 2; absent in the per-stack ledger of format 1).
    #[serde(default, skip_serializing_if = "Option::is_none", flatten)]
    owner: Option<Owner>,
    /// The entries, when the record fits the head (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entries: Option<Vec<store::Entry>>,
    /// The (short) hash of the filters of the run that wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    config: Option<String>,
    /// The config the stack had before that run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<String>,
}

/// The head format of an ownership record: 3 names packed shards (`store::PACKED`)
/// under `PATH/<hash16>.z`; 2 (syncscope before packing) and 1 (the per-stack ledger of
/// 0.1) name format 1 shards under `PATH/<hash16>`. A different directory per shard
/// format: leftovers of an interrupted write in one format never mix with the other.
const HEAD_FORMAT: u32 = 3;

/// Where the shards of version `hash` of the record at `path` are, by head format.
fn version_path(path: &str, head_format: u32, hash: &str) -> String {
    let short = store::short(hash);
    if head_format >= 3 {
        format!("{path}/{short}.z")
    } else {
        format!("{path}/{short}")
    }
}

/// What was found where a resource's ownership record belongs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Found {
    /// Nothing: this resource owns nothing yet.
    #[default]
    Nothing,
    /// The resource's own record.
    Own,
    /// A record in an earlier place (syncscope 0.1's per-stack ledger, or the
    /// per-stack record before co-ownership), attributed to this resource.
    Legacy,
    /// A record left by an earlier stack of the same name (its StackId): not claimed.
    OtherStack(String),
}

/// What one head names: its version and the parameters that hold it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Version {
    /// The head parameter.
    head: String,
    /// The version's hash.
    hash: String,
    /// The shard parameters of the version (empty when inline).
    shards: Vec<String>,
}

/// A resource's ownership record as read: what it owns, and what is stored where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredLedger {
    /// The filters this resource owns (empty unless `found` is `Own` or `Legacy`).
    pub ledger: Ledger,
    /// What was found.
    pub found: Found,
    /// The record's path (`OWNERS/REGION/PROFILE/STACK`).
    pub path: String,
    /// What is stored at `path` (whoever's it is), replaced by the next write.
    stored: Option<Version>,
    /// The legacy ledger attributed to this resource, moved away by the next write.
    legacy: Option<Version>,
}

impl StoredLedger {
    /// The version stored at the record's path (or the legacy one), if any.
    pub fn version(&self) -> Option<&str> {
        self.stored
            .as_ref()
            .or(self.legacy.as_ref())
            .map(|s| s.hash.as_str())
    }
}

/// Where a stack's record of a sync profile is, and where it was before.
#[derive(Debug, Clone, Copy)]
pub struct RecordAt<'a> {
    /// The owners' path every stack of the profile shares (`OwnersParameter`).
    pub owners: &'a str,
    /// The stack's ledger base before co-ownership (`LedgerParameter`).
    pub ledger_base: &'a str,
    /// The sync profile and region.
    pub key: &'a ProfileKey,
    /// The stack's name.
    pub stack: &'a str,
}

impl RecordAt<'_> {
    /// `OWNERS/REGION/PROFILE/STACK`.
    pub fn path(&self) -> String {
        store::owner_record_path(self.owners, self.key, self.stack)
    }
}

/// Another stack's record of the same sync profile.
#[derive(Debug, Clone)]
pub struct CoRecord {
    /// The stack name (the record's path segment).
    pub stack: String,
    /// The StackId the record names (None: a record that does not say).
    pub stack_id: Option<String>,
    /// The record, as [`ParameterStore::delete_ledger`] takes it.
    pub record: StoredLedger,
}

/// Reads and writes syncscope's parameters.
#[derive(Debug, Clone)]
pub struct ParameterStore {
    client: aws_sdk_ssm::Client,
}

impl ParameterStore {
    /// Wraps an SSM client.
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Self { client }
    }

    /// Every parameter directly under `path`, decrypted, as (name, value).
    pub async fn read_path(&self, path: &str) -> Result<Vec<(String, String)>, SsmError> {
        self.parameters_under(path, false).await
    }

    /// Every parameter under `path` (at any depth with `recursive`), decrypted, as
    /// (name, value).
    async fn parameters_under(
        &self,
        path: &str,
        recursive: bool,
    ) -> Result<Vec<(String, String)>, SsmError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(path)
            .recursive(recursive)
            .with_decryption(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api(format!("read parameters under {path}")))?;
            for p in page.parameters() {
                if let (Some(name), Some(value)) = (p.name(), p.value()) {
                    out.push((name.to_owned(), value.to_owned()));
                }
            }
        }
        Ok(out)
    }

    /// One parameter, decrypted; `Ok(None)` if it does not exist.
    async fn read_one(&self, name: &str) -> Result<Option<String>, SsmError> {
        match self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
        {
            Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_owned)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found()) =>
            {
                Ok(None)
            }
            Err(e) => Err(api(format!("read parameter {name}"))(e)),
        }
    }

    /// Reads a list stored as shards under `name`, or as the single parameter `name`.
    pub async fn read_list(&self, name: &str) -> Result<store::Stored, SsmError> {
        let base = name.trim_end_matches('/');
        let shards = self.read_path(base).await?;
        if !shards.is_empty() {
            return Ok(store::decode(base, &shards)?);
        }
        match self.read_one(base).await? {
            Some(value) => Ok(store::decode(base, &[(base.to_owned(), value)])?),
            None => Err(SsmError::NotFound {
                name: base.to_owned(),
            }),
        }
    }

    /// Reads a head and the version it names; `Ok(None)` without a head.
    async fn read_head(&self, path: &str) -> Result<Option<(Head, Ledger, Version)>, SsmError> {
        let head_name = format!("{path}/head");
        let Some(raw) = self.read_one(&head_name).await? else {
            return Ok(None);
        };
        let bad = |message: String| SsmError::BadHead {
            name: head_name.clone(),
            message,
        };
        let mut head: Head = serde_json::from_str(&raw).map_err(|e| bad(e.to_string()))?;
        let (entries, shards) = match head.entries.take() {
            Some(entries) => {
                if store::hash(&entries) != head.hash {
                    return Err(bad(format!(
                        "its entries do not match its hash {}",
                        store::short(&head.hash)
                    )));
                }
                (entries, Vec::new())
            }
            None => {
                let version = version_path(path, head.syncscope, &head.hash);
                let parameters = self.read_path(&version).await?;
                let stored = store::decode(&version, &parameters)?;
                if stored.hash != head.hash {
                    return Err(bad(format!(
                        "it names version {} but the shards hold {}",
                        head.hash, stored.hash
                    )));
                }
                (
                    stored.entries,
                    parameters.into_iter().map(|(n, _)| n).collect(),
                )
            }
        };
        let stored = Version {
            head: head_name,
            hash: head.hash.clone(),
            shards,
        };
        let mut ledger = store::ledger_from(&entries);
        ledger.config = head.config.clone();
        ledger.before = head.before.clone();
        Ok(Some((head, ledger, stored)))
    }

    /// Reads the ownership record of `at` (a stack's record of a sync profile).
    ///
    /// `stack_id` is the reader's stack (None: accept whoever's, for report-only
    /// readers that do not know it). Without a record in its place, the record of the
    /// same resource in the place before co-ownership is read as this resource's, and
    /// with `legacy`, the per-stack ledger of format 1; the next write moves either.
    pub async fn read_ledger(
        &self,
        at: &RecordAt<'_>,
        stack_id: Option<&str>,
        legacy: bool,
    ) -> Result<StoredLedger, SsmError> {
        let path = at.path();
        let claim = |owner: Option<Owner>, ledger: Ledger| match (owner, stack_id) {
            (Some(owner), Some(ours)) if owner.stack_id != ours => {
                (Found::OtherStack(owner.stack_id), Ledger::default())
            }
            _ => (Found::Own, ledger),
        };
        if let Some((head, ledger, stored)) = self.read_head(&path).await? {
            let (found, ledger) = claim(head.owner, ledger);
            return Ok(StoredLedger {
                ledger,
                found,
                path,
                stored: Some(stored),
                legacy: None,
            });
        }
        let earlier = store::record_path(at.ledger_base, at.key);
        if let Some((head, ledger, stored)) = self.read_head(&earlier).await? {
            let (found, ledger) = match claim(head.owner, ledger) {
                (Found::Own, ledger) => (Found::Legacy, ledger),
                other => other,
            };
            return Ok(StoredLedger {
                ledger,
                found,
                path,
                stored: None,
                legacy: Some(stored),
            });
        }
        if legacy && let Some((_, ledger, stored)) = self.read_head(at.ledger_base).await? {
            return Ok(StoredLedger {
                ledger,
                found: Found::Legacy,
                path,
                stored: None,
                legacy: Some(stored),
            });
        }
        Ok(StoredLedger {
            path,
            ..StoredLedger::default()
        })
    }

    /// The records the other stacks of a sync profile keep (every record under
    /// `OWNERS/REGION/PROFILE` but `own_stack`'s), each with the StackId it names.
    /// A record that cannot be read is an error: what it lists is unknown, so a run
    /// must not remove anything on its account.
    pub async fn read_co_owners(
        &self,
        owners: &str,
        key: &ProfileKey,
        own_stack: &str,
    ) -> Result<Vec<CoRecord>, SsmError> {
        let base = store::profile_owners_path(owners, key);
        let mut stacks: Vec<String> = self
            .read_tree(&base)
            .await?
            .into_iter()
            .filter_map(|name| {
                let rest = name.strip_prefix(&base)?.strip_prefix('/')?;
                let (stack, leaf) = rest.split_once('/')?;
                (leaf == "head" && stack != own_stack).then(|| stack.to_owned())
            })
            .collect();
        stacks.sort();
        stacks.dedup();
        let mut records = Vec::with_capacity(stacks.len());
        for stack in stacks {
            let path = format!("{base}/{stack}");
            // A head deleted since the listing: that stack released its record.
            let Some((head, ledger, stored)) = self.read_head(&path).await? else {
                continue;
            };
            records.push(CoRecord {
                stack,
                stack_id: head.owner.map(|o| o.stack_id),
                record: StoredLedger {
                    ledger,
                    found: Found::Own,
                    path,
                    stored: Some(stored),
                    legacy: None,
                },
            });
        }
        Ok(records)
    }

    /// The names of every parameter under `path`, at any depth.
    async fn read_tree(&self, path: &str) -> Result<Vec<String>, SsmError> {
        let found = self.parameters_under(path, true).await?;
        Ok(found.into_iter().map(|(name, _)| name).collect())
    }

    /// Writes `ledger` as the record of `owner`, replacing what `previous` read. A
    /// record that fits one parameter is that one parameter (one atomic write);
    /// a larger one is written as a new version's shards, then the head that names
    /// them. What it replaces goes afterwards (an old version's shards, a moved
    /// legacy ledger). An empty ledger deletes the record: owning nothing and having
    /// no record are the same. Returns the record as it is now stored.
    pub async fn write_ledger(
        &self,
        owner: &Owner,
        ledger: &Ledger,
        previous: &StoredLedger,
    ) -> Result<StoredLedger, SsmError> {
        let path = &previous.path;
        if ledger.entries.is_empty() {
            self.delete_ledger(previous).await?;
            return Ok(StoredLedger {
                path: path.clone(),
                ..StoredLedger::default()
            });
        }
        let entries = store::entries_of_ledger(ledger);
        let hash = store::hash(&entries);
        let head_name = format!("{path}/head");
        let same = previous.found == Found::Own
            && previous.stored.as_ref().is_some_and(|s| s.hash == hash)
            && (
                previous.ledger.config.as_ref(),
                previous.ledger.before.as_ref(),
            ) == (ledger.config.as_ref(), ledger.before.as_ref());
        if same {
            return Ok(StoredLedger {
                ledger: ledger.clone(),
                ..previous.clone()
            });
        }
        let mut head = Head {
            syncscope: HEAD_FORMAT,
            hash: hash.clone(),
            of: 0,
            owner: Some(owner.clone()),
            entries: Some(entries),
            config: ledger.config.clone(),
            before: ledger.before.clone(),
        };
        let inline = serde_json::to_string(&head).unwrap_or_default();
        let mut shards = Vec::new();
        let value = if inline.len() <= store::STANDARD_LIMIT {
            inline
        } else {
            let entries = head.entries.take().unwrap_or_default();
            let version = version_path(path, HEAD_FORMAT, &hash);
            let encoded = store::encode_packed(&entries);
            for shard in &encoded {
                let name = store::shard_name(&version, shard.index);
                self.put(&name, &shard.value, shard.advanced).await?;
                shards.push(name);
            }
            head.of = encoded.len();
            serde_json::to_string(&head).unwrap_or_default()
        };
        self.put(&head_name, &value, false).await?;
        // What the new head no longer names: the old version's shards (unless the
        // new version reuses them), and a legacy ledger now moved.
        let mut garbage: Vec<String> = previous
            .stored
            .iter()
            .flat_map(|s| s.shards.iter())
            .filter(|name| !shards.contains(name))
            .cloned()
            .collect();
        if let Some(legacy) = &previous.legacy {
            garbage.push(legacy.head.clone());
            garbage.extend(legacy.shards.iter().cloned());
        }
        if let Err(e) = self.delete_names(&garbage, path).await {
            tracing::warn!(error = %e, "could not delete what the new ledger version replaced");
        }
        Ok(StoredLedger {
            ledger: ledger.clone(),
            found: Found::Own,
            path: path.clone(),
            stored: Some(Version {
                head: head_name,
                hash,
                shards,
            }),
            legacy: None,
        })
    }

    /// Deletes the record `previous` read (and a legacy ledger attributed to it):
    /// the resource releases what it owned. Heads go first, so a failure part-way
    /// leaves unreferenced shards at worst. Returns whether anything was deleted.
    pub async fn delete_ledger(&self, previous: &StoredLedger) -> Result<bool, SsmError> {
        let stored: Vec<&Version> = previous.stored.iter().chain(&previous.legacy).collect();
        if stored.is_empty() {
            return Ok(false);
        }
        let heads: Vec<String> = stored.iter().map(|s| s.head.clone()).collect();
        self.delete_names(&heads, &previous.path).await?;
        let shards: Vec<String> = stored.iter().flat_map(|s| s.shards.clone()).collect();
        if let Err(e) = self.delete_names(&shards, &previous.path).await {
            tracing::warn!(error = %e, "could not delete the shards of a released ledger");
        }
        Ok(true)
    }

    /// Deletes parameters by name (missing ones are ignored by SSM).
    async fn delete_names(&self, names: &[String], what: &str) -> Result<(), SsmError> {
        for chunk in names.chunks(10) {
            self.client
                .delete_parameters()
                .set_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(api(format!("delete parameters under {what}")))?;
        }
        Ok(())
    }

    /// Writes one String parameter (overwriting).
    pub async fn put(&self, name: &str, value: &str, advanced: bool) -> Result<(), SsmError> {
        let tier = if advanced {
            ParameterTier::Advanced
        } else {
            ParameterTier::Standard
        };
        self.client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            .tier(tier)
            .overwrite(true)
            .send()
            .await
            .map_err(api(format!("write parameter {name}")))?;
        Ok(())
    }

    /// Writes a list as shards under `base`, the way `syncscope synth`'s template does
    /// (packed).
    pub async fn write_list(&self, base: &str, entries: &[store::Entry]) -> Result<(), SsmError> {
        self.write_shards(base, &store::encode_packed(entries))
            .await
    }

    /// Writes encoded shards under `base` (any format: tests write syncscope's
    /// earlier one with `store::encode`).
    pub async fn write_shards(&self, base: &str, shards: &[store::Shard]) -> Result<(), SsmError> {
        for shard in shards {
            self.put(
                &store::shard_name(base, shard.index),
                &shard.value,
                shard.advanced,
            )
            .await?;
        }
        Ok(())
    }

    /// Reads a SecureString (the Teams webhook), decrypted. Errors never hold the value.
    pub async fn read_secret(&self, name: &str) -> Result<String, SsmError> {
        self.read_one(name)
            .await?
            .ok_or_else(|| SsmError::SecretNotFound {
                name: name.to_owned(),
            })
    }
}
