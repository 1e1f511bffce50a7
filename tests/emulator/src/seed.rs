//! The seed document: the profiles, targets and filters the emulator starts with.
//!
//! ```json
//! {"profiles": [{
//!   "name": "SynchronizationToActiveDirectoryAwsSso",
//!   "source_arn": "arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890",
//!   "state": "ACTIVE",
//!   "targets": [{"name": "IdentityStoreForSSO",
//!                "target_arn": "arn:aws:identitystore::123456789012:identitystore/d-1234567890"}],
//!   "filters": [{"type": "GROUP", "name": "AWS-Admins", "domain": "corp.example.com"}]
//! }]}
//! ```
//!
//! `state` defaults to `ACTIVE`; `targets` and `filters` to empty. A filter may
//! carry its `id` (else one is generated) and every item its `create_time`
//! (seconds since the epoch, else "now"). The `profiles` of `GET /_emulator/state`
//! are a valid seed. Unknown fields are rejected, so typos do not pass silently.

use crate::model::{FilterType, ProfileState};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A seed document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// The sync profiles, in creation order.
    #[serde(default)]
    pub profiles: Vec<SeedProfile>,
    /// The directories Directory Service Data answers about (see
    /// [`crate::ds_data`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directories: Vec<crate::ds_data::SeedDirectory>,
}

/// A sync profile of a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProfile {
    /// `SyncProfileName`.
    pub name: String,
    /// `SourceResourceArn` (the directory).
    pub source_arn: String,
    /// `SyncProfileState`, `ACTIVE` unless given.
    #[serde(default)]
    pub state: ProfileState,
    /// `CreateTime` in seconds since the epoch; "now" unless given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<f64>,
    /// The profile's sync targets.
    #[serde(default)]
    pub targets: Vec<SeedTarget>,
    /// The profile's sync filters, in creation order.
    #[serde(default)]
    pub filters: Vec<SeedFilter>,
}

/// A sync target of a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTarget {
    /// `SyncTargetName`.
    pub name: String,
    /// `TargetResourceArn` (the identity store).
    pub target_arn: String,
    /// `CreateTime` in seconds since the epoch; "now" unless given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<f64>,
}

/// A sync filter of a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFilter {
    /// `SyncFilterId`; generated (`sf-<16 hex>`) unless given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `GROUP` or `USER`.
    #[serde(rename = "type")]
    pub filter_type: FilterType,
    /// The `samaccountname` of the group or user.
    pub name: String,
    /// The `associateddomain`.
    pub domain: String,
    /// `CreateTime` in seconds since the epoch; "now" unless given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<f64>,
}

/// A seed that cannot be read or used.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("failed to read seed file {path}")]
    Read {
        /// The seed file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The document is not a seed.
    #[error("failed to parse seed document")]
    Parse(#[source] serde_json::Error),
    /// The document is a seed but contradicts itself (duplicates, empty names).
    #[error("invalid seed: {0}")]
    Invalid(String),
}

impl Seed {
    /// Parses a seed document.
    pub fn from_json(text: &str) -> Result<Seed, SeedError> {
        serde_json::from_str(text).map_err(SeedError::Parse)
    }

    /// Reads and parses a seed file.
    pub fn from_file(path: &Path) -> Result<Seed, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.to_owned(),
            source,
        })?;
        Seed::from_json(&text)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses_with_defaults() {
        let seed = Seed::from_json(
            r#"{"profiles":[{"name":"SynchronizationToActiveDirectoryAwsSso",
                "source_arn":"arn:aws:ds:eu-central-1:123456789012:directory/d-1234567890",
                "targets":[{"name":"IdentityStoreForSSO","target_arn":"arn:aws:identitystore::123456789012:identitystore/d-1234567890"}],
                "filters":[{"type":"GROUP","name":"AWS-Admins","domain":"corp.example.com"}]}]}"#,
        )
        .unwrap();
        let profile = &seed.profiles[0];
        assert_eq!(profile.state, ProfileState::Active);
        assert_eq!(profile.targets[0].name, "IdentityStoreForSSO");
        assert_eq!(profile.filters[0].filter_type, FilterType::Group);
        assert_eq!(profile.filters[0].id, None);
    }

    #[test]
    fn a_misspelt_field_is_rejected() {
        let error = Seed::from_json(r#"{"profiles":[{"name":"p","source_arn":"a","filter":[]}]}"#)
            .unwrap_err();
        assert!(matches!(error, SeedError::Parse(_)));
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let error = Seed::from_file(Path::new("/nonexistent/seed.json")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "failed to read seed file /nonexistent/seed.json"
        );
    }
}
