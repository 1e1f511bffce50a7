//! The small vocabulary of the API: operations, filter types, profile states.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An operation of the identity-sync API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Operation {
    /// `GET /v0/profiles/{p}/filters`
    ListSyncFilters,
    /// `POST /v0/profiles/{p}/filters`
    CreateSyncFilter,
    /// `DELETE /v0/profiles/{p}/filters/{id}`
    DeleteSyncFilter,
    /// `GET /v0/profiles/{p}`
    GetSyncProfile,
    /// `POST /v0/profiles`
    CreateSyncProfile,
    /// `GET /v0/profiles/{p}/targets/{t}`
    GetSyncTarget,
    /// `POST /v0/profiles/{p}/targets`
    CreateSyncTarget,
    /// `POST /v0/profiles/{p}/startSync`
    StartSync,
    /// `POST /v0/profiles/{p}/stopSync`
    StopSync,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 9] = [
        Operation::ListSyncFilters,
        Operation::CreateSyncFilter,
        Operation::DeleteSyncFilter,
        Operation::GetSyncProfile,
        Operation::CreateSyncProfile,
        Operation::GetSyncTarget,
        Operation::CreateSyncTarget,
        Operation::StartSync,
        Operation::StopSync,
    ];

    /// The operation's name, e.g. `ListSyncFilters`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::ListSyncFilters => "ListSyncFilters",
            Operation::CreateSyncFilter => "CreateSyncFilter",
            Operation::DeleteSyncFilter => "DeleteSyncFilter",
            Operation::GetSyncProfile => "GetSyncProfile",
            Operation::CreateSyncProfile => "CreateSyncProfile",
            Operation::GetSyncTarget => "GetSyncTarget",
            Operation::CreateSyncTarget => "CreateSyncTarget",
            Operation::StartSync => "StartSync",
            Operation::StopSync => "StopSync",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an operation of the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation {0:?}")]
pub struct UnknownOperation(pub String);

impl FromStr for Operation {
    type Err = UnknownOperation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operation::ALL
            .into_iter()
            .find(|op| op.as_str() == s)
            .ok_or_else(|| UnknownOperation(s.to_owned()))
    }
}

/// What a filter names: an AD group or an AD user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FilterType {
    /// `GROUP`
    #[serde(rename = "GROUP")]
    Group,
    /// `USER`
    #[serde(rename = "USER")]
    User,
}

impl FilterType {
    /// The wire name, `GROUP` or `USER`.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterType::Group => "GROUP",
            FilterType::User => "USER",
        }
    }

    /// Parses the exact wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "GROUP" => Some(FilterType::Group),
            "USER" => Some(FilterType::User),
            _ => None,
        }
    }
}

impl fmt::Display for FilterType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a sync profile is syncing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ProfileState {
    /// `ACTIVE`: syncing.
    #[serde(rename = "ACTIVE")]
    #[default]
    Active,
    /// `PAUSED`: stopped.
    #[serde(rename = "PAUSED")]
    Paused,
}

impl ProfileState {
    /// The wire name, `ACTIVE` or `PAUSED`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileState::Active => "ACTIVE",
            ProfileState::Paused => "PAUSED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(op.as_str().parse::<Operation>(), Ok(op));
            assert_eq!(
                serde_json::to_value(op).ok(),
                Some(serde_json::Value::from(op.as_str()))
            );
        }
        assert!("ListFilters".parse::<Operation>().is_err());
    }

    #[test]
    fn filter_types_are_parsed_exactly() {
        assert_eq!(FilterType::parse("GROUP"), Some(FilterType::Group));
        assert_eq!(FilterType::parse("USER"), Some(FilterType::User));
        assert_eq!(FilterType::parse("group"), None);
    }
}
