//! What a sync scope holds: the filters that exist, and the filters a config wants.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::names::FilterKind;
use crate::names::{
    Caseless, Description, DomainName, FilterName, Region, SyncProfileName, name_key,
};

/// A sync filter that exists in the scope now (as listed by the identity-sync API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentFilter {
    /// The filter's id, needed to delete it.
    pub id: String,
    /// Group or user.
    #[serde(rename = "type")]
    pub kind: FilterKind,
    /// The sAMAccountName, as the API reports it.
    pub name: String,
    /// The AD domain the filter belongs to.
    pub domain: String,
}

/// A filter of any source (listed, recorded, planned) seen by its identity: kind,
/// domain and name, compared case-insensitively as Active Directory compares them.
/// The one way a filter is matched: every map and set of filters is keyed by
/// [`Keyed::key`] or [`Keyed::key_ref`].
pub trait Keyed {
    /// Kind, domain and name, as written.
    fn parts(&self) -> (FilterKind, &str, &str);

    /// The identity, owned.
    fn key(&self) -> ScopeKey {
        let (kind, domain, name) = self.parts();
        ScopeKey::new(kind, domain, name)
    }

    /// The identity, borrowed (no string allocated).
    fn key_ref(&self) -> ScopeKeyRef<'_> {
        let (kind, domain, name) = self.parts();
        ScopeKey::borrowed(kind, domain, name)
    }
}

impl Keyed for CurrentFilter {
    fn parts(&self) -> (FilterKind, &str, &str) {
        (self.kind, &self.domain, &self.name)
    }
}

/// A snapshot of a sync scope: the JSON that `syncscope plan --current` reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Every filter in the scope.
    pub filters: Vec<CurrentFilter>,
}

/// The case-insensitive identity of a filter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ScopeKey {
    /// Group or user.
    pub kind: FilterKind,
    /// The domain, lowercased.
    pub domain: String,
    /// The name, trimmed and lowercased.
    pub name: String,
}

impl ScopeKey {
    /// Builds the key of a kind, domain and name.
    pub fn new(kind: FilterKind, domain: &str, name: &str) -> Self {
        Self {
            kind,
            domain: name_key(domain),
            name: name_key(name),
        }
    }

    /// The borrowed twin of a key: the same identity, compared and hashed as
    /// [`ScopeKey`] is, without a string allocated (for maps over a whole scope).
    pub fn borrowed<'a>(kind: FilterKind, domain: &'a str, name: &'a str) -> ScopeKeyRef<'a> {
        (kind, Caseless(domain), Caseless(name))
    }
}

/// A [`ScopeKey`] borrowed from its filter: kind, domain and name (see
/// [`ScopeKey::borrowed`]).
pub type ScopeKeyRef<'a> = (FilterKind, Caseless<'a>, Caseless<'a>);

/// One filter the config wants in the scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredFilter {
    /// Group or user.
    #[serde(rename = "type")]
    pub kind: FilterKind,
    /// The validated name.
    pub name: FilterName,
    /// What the group or user is for (shown in the docs).
    pub description: Description,
}

/// The filters a config wants, in one AD domain. Names are unique per kind (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Desired {
    /// The AD domain every desired filter belongs to.
    pub domain: DomainName,
    /// Groups first, then users, each in config order.
    pub filters: Vec<DesiredFilter>,
}

impl Desired {
    /// Group filters with no description, in a domain (tests, tools and samples).
    pub fn groups<'a>(
        domain: &str,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, String> {
        let filters = names
            .into_iter()
            .map(|name| {
                Ok(DesiredFilter {
                    kind: FilterKind::Group,
                    name: FilterName::parse(name, FilterKind::Group)?,
                    description: Description::default(),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            domain: DomainName::parse(domain)?,
            filters,
        })
    }

    /// The key of a desired filter.
    pub fn key(&self, filter: &DesiredFilter) -> ScopeKey {
        ScopeKey::new(filter.kind, self.domain.as_str(), filter.name.as_str())
    }
}

/// The filters one custom resource (one stack, one region, one sync profile) has put in
/// the scope or adopted (design: ownership).
///
/// Kept in SSM beside the filters: a create is recorded as pending before it is sent
/// and confirmed after, so a run that dies in between leaves its intent behind. In
/// `managed` mode only filters in the ledger are ever removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// The managed filters, sorted by key.
    pub entries: Vec<LedgerEntry>,
    /// The (short) hash of the filters of the last run that wrote the record (None:
    /// a record written before syncscope kept it, or by a Delete).
    pub config: Option<String>,
    /// The config the stack had before `config`: what a rollback returns to.
    pub before: Option<String>,
}

/// One managed filter (stored as a [`crate::store::Entry`] with its domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Group or user.
    pub kind: FilterKind,
    /// The name as last applied.
    pub name: String,
    /// The AD domain.
    pub domain: String,
    /// An intent, not yet a fact: the create was sent (or was about to be) and its
    /// result is unknown. A pending filter counts as owned if it exists; a run that
    /// lists the scope without it drops it.
    pub pending: bool,
    /// For a filter this stack created: the (short) hash of the filters the stack
    /// had deployed before the run that created it, as long as no later config was
    /// applied. A run that goes back to that config (CloudFormation's rollback)
    /// removes the filter as an undo, which the deletion guard does not count.
    pub added_from: Option<String>,
    /// The same for a filter this stack adopted (it existed before): a rollback to
    /// that config releases it instead of removing it, as it was before.
    pub adopted_from: Option<String>,
    /// Owned, but not listed by the stack's config: kept only so the filter does not
    /// outlive every stack (left to another stack that lists it, or a removal that
    /// did not happen). Other stacks do not count it as wanted.
    pub unlisted: bool,
}

impl Keyed for LedgerEntry {
    fn parts(&self) -> (FilterKind, &str, &str) {
        (self.kind, &self.domain, &self.name)
    }
}

impl Ledger {
    /// Builds a ledger, sorted by key and without duplicates (a confirmed entry wins
    /// over a pending one for the same filter).
    pub fn new(mut entries: Vec<LedgerEntry>) -> Self {
        // Each key is built once (two lower-cased strings), not once per comparison.
        let mut keyed: Vec<(ScopeKey, LedgerEntry)> =
            entries.drain(..).map(|e| (e.key(), e)).collect();
        keyed.sort_by(|(a, x), (b, y)| (a, x.pending).cmp(&(b, y.pending)));
        keyed.dedup_by(|(a, _), (b, _)| a == b);
        entries.extend(keyed.into_iter().map(|(_, e)| e));
        Self {
            entries,
            config: None,
            before: None,
        }
    }

    /// The entries still pending (intent recorded, outcome unknown).
    pub fn pending(&self) -> impl Iterator<Item = &LedgerEntry> {
        self.entries.iter().filter(|e| e.pending)
    }

    /// Whether the ledger holds this filter.
    pub fn contains(&self, key: &ScopeKey) -> bool {
        self.get(key).is_some()
    }

    /// The entry of this filter, if the ledger holds it.
    pub fn get(&self, key: &ScopeKey) -> Option<&LedgerEntry> {
        self.entries
            .binary_search_by(|e| e.key().cmp(key))
            .ok()
            .map(|i| &self.entries[i])
    }
}

/// The resource a ledger belongs to: one stack (by its StackId, which is new for every
/// stack even when a name is reused) managing one sync profile in one region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Owner {
    /// The CloudFormation StackId (an ARN ending in a UUID).
    pub stack_id: String,
    /// The region of the sync profile.
    pub region: Region,
    /// The sync profile.
    pub profile: SyncProfileName,
}

/// The names other live stacks of the same sync profile list (their ownership
/// records): a run never removes one of them, and reports who still wants it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoOwners {
    by_key: std::collections::HashMap<ScopeKey, Vec<String>>,
}

impl CoOwners {
    /// Adds the entries of one other stack's record.
    pub fn add(&mut self, stack: &str, ledger: &Ledger) {
        for entry in ledger.entries.iter().filter(|e| !e.unlisted) {
            let stacks = self.by_key.entry(entry.key()).or_default();
            if !stacks.iter().any(|s| s == stack) {
                stacks.push(stack.to_owned());
                stacks.sort();
            }
        }
    }

    /// The other stacks that list a filter (empty: none).
    pub fn of(&self, key: &ScopeKey) -> &[String] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }

    /// Whether no other stack lists anything.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// Where a resource's filters live: a sync profile in a region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProfileKey {
    /// The region of IAM Identity Center.
    pub region: Region,
    /// The sync profile.
    pub profile: SyncProfileName,
}

impl ProfileKey {
    /// The key of a region and profile.
    pub fn new(region: Region, profile: SyncProfileName) -> Self {
        Self { region, profile }
    }

    /// The key of a region and profile given as text; the error names the rule the
    /// one that is not valid breaks.
    pub fn parse(region: &str, profile: &str) -> Result<Self, String> {
        Ok(Self::new(
            Region::parse(region)?,
            SyncProfileName::parse(profile)?,
        ))
    }
}

impl fmt::Display for ProfileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.profile, self.region)
    }
}
