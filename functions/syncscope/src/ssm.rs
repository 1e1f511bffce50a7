//! The SSM Parameter Store adapter: reads the desired filters and reads and writes the
//! ledger of managed filters, both in the sharded format of `syncscope_core::store`.
//!
//! The ledger lives under `LEDGER` as `LEDGER/head` (which version is current) and
//! `LEDGER/<hash16>/NNN` (the shards of each version). A new version's shards are
//! written before the head moves, so a crash mid-write never leaves a torn ledger.

use aws_sdk_ssm::error::SdkError;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use aws_smithy_types::error::display::DisplayErrorContext;
use serde::{Deserialize, Serialize};
use syncscope_core::scope::Ledger;
use syncscope_core::store::{self, StoreError, Stored};

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

fn api<E: std::error::Error + 'static, R: std::fmt::Debug>(
    what: impl Into<String>,
) -> impl FnOnce(SdkError<E, R>) -> SsmError {
    let what = what.into();
    move |e| SsmError::Api {
        what,
        message: DisplayErrorContext(&e).to_string(),
    }
}

/// The pointer to the current ledger version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Head {
    syncscope: u32,
    hash: String,
    of: usize,
}

/// A ledger read from SSM, with the version it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredLedger {
    /// The managed filters.
    pub ledger: Ledger,
    /// The hash of the version read (None: there was no ledger yet).
    pub hash: Option<String>,
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
    async fn read_path(&self, path: &str) -> Result<Vec<(String, String)>, SsmError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(path)
            .recursive(false)
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
    pub async fn read_list(&self, name: &str) -> Result<Stored, SsmError> {
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

    /// Reads the ledger under `base`; an absent ledger is an empty one (first run).
    pub async fn read_ledger(&self, base: &str) -> Result<StoredLedger, SsmError> {
        let head_name = format!("{base}/head");
        let Some(raw) = self.read_one(&head_name).await? else {
            return Ok(StoredLedger::default());
        };
        let head: Head = serde_json::from_str(&raw).map_err(|e| SsmError::BadHead {
            name: head_name.clone(),
            message: e.to_string(),
        })?;
        let version = format!("{base}/{}", store::short(&head.hash));
        let stored = store::decode(&version, &self.read_path(&version).await?)?;
        if stored.hash != head.hash {
            return Err(SsmError::BadHead {
                name: head_name,
                message: format!(
                    "it names version {} but the shards hold {}",
                    head.hash, stored.hash
                ),
            });
        }
        Ok(StoredLedger {
            ledger: store::ledger_from(&stored.entries),
            hash: Some(stored.hash),
        })
    }

    /// Writes `ledger` under `base` as a new version, moves the head to it, then
    /// deletes the previous version's shards. Does nothing if the ledger is unchanged.
    pub async fn write_ledger(
        &self,
        base: &str,
        ledger: &Ledger,
        previous: Option<&str>,
    ) -> Result<bool, SsmError> {
        let entries = store::entries_of_ledger(ledger);
        let hash = store::hash(&entries);
        if previous == Some(hash.as_str()) {
            return Ok(false);
        }
        let version = format!("{base}/{}", store::short(&hash));
        let shards = store::encode(&entries);
        for shard in &shards {
            self.put(
                &store::shard_name(&version, shard.index),
                &shard.value,
                shard.advanced,
            )
            .await?;
        }
        let head = serde_json::to_string(&Head {
            syncscope: store::FORMAT,
            hash: hash.clone(),
            of: shards.len(),
        })
        .unwrap_or_default();
        self.put(&format!("{base}/head"), &head, false).await?;
        if let Some(old) = previous.filter(|old| store::short(old) != store::short(&hash)) {
            let old_version = format!("{base}/{}", store::short(old));
            if let Err(e) = self.delete_path(&old_version).await {
                tracing::warn!(error = %e, "could not delete the previous ledger version");
            }
        }
        Ok(true)
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

    /// Writes a list as shards under `base` (the way the deployment does).
    pub async fn write_list(&self, base: &str, entries: &[store::Entry]) -> Result<(), SsmError> {
        for shard in store::encode(entries) {
            self.put(
                &store::shard_name(base, shard.index),
                &shard.value,
                shard.advanced,
            )
            .await?;
        }
        Ok(())
    }

    /// Deletes every parameter directly under `path`.
    pub async fn delete_path(&self, path: &str) -> Result<(), SsmError> {
        let names: Vec<String> = self
            .read_path(path)
            .await?
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        for chunk in names.chunks(10) {
            self.client
                .delete_parameters()
                .set_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(api(format!("delete parameters under {path}")))?;
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
