//! The in-memory state: sync profiles, each with its targets and filters, in
//! creation order. Pure data in, data out; the HTTP layer lives in `api`.

use crate::error::ApiError;
use crate::model::{FilterType, ProfileState};
use crate::seed::{Seed, SeedError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// A sync profile as `GET /_emulator/state` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileSnapshot {
    /// `SyncProfileName`.
    pub name: String,
    /// `SourceResourceArn`.
    pub source_arn: String,
    /// `SyncProfileState`.
    pub state: ProfileState,
    /// `CreateTime`, seconds since the epoch.
    pub create_time: f64,
    /// The targets, in creation order.
    pub targets: Vec<TargetSnapshot>,
    /// The filters, in creation order.
    pub filters: Vec<FilterSnapshot>,
}

/// A sync target as `GET /_emulator/state` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSnapshot {
    /// `SyncTargetName`.
    pub name: String,
    /// `TargetResourceArn`.
    pub target_arn: String,
    /// `CreateTime`, seconds since the epoch.
    pub create_time: f64,
}

/// A sync filter as `GET /_emulator/state` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterSnapshot {
    /// `SyncFilterId`.
    pub id: String,
    /// `GROUP` or `USER`.
    #[serde(rename = "type")]
    pub filter_type: FilterType,
    /// The `samaccountname`.
    pub name: String,
    /// The `associateddomain`.
    pub domain: String,
    /// `CreateTime`, seconds since the epoch.
    pub create_time: f64,
}

/// A stored profile.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub name: String,
    pub source_arn: String,
    pub state: ProfileState,
    pub create_time: f64,
    pub targets: Vec<Target>,
    pub filters: Vec<Filter>,
    /// Deleted filters with when, kept while a listing lag may still show them.
    pub gone: Vec<(Filter, f64)>,
    /// The type, domain and name (lower-cased) of every filter: a create's conflict
    /// check without a scan (10,000 creates into 10,000 filters stay linear).
    pub keys: HashSet<FilterKey>,
}

/// What makes two filters the same: type, domain and name, case-insensitively.
pub(crate) type FilterKey = (FilterType, String, String);

/// A stored target.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub name: String,
    pub target_arn: String,
    pub create_time: f64,
}

/// A stored filter; `seq` orders filters by creation and anchors pagination.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    pub seq: u64,
    pub id: String,
    pub filter_type: FilterType,
    pub domain: String,
    pub name: String,
    pub create_time: f64,
}

/// What a create asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewFilter {
    pub filter_type: FilterType,
    pub domain: String,
    pub name: String,
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub filters: Vec<Filter>,
    /// The `seq` to continue after, when more filters follow.
    pub continue_after: Option<u64>,
}

/// Every profile, in creation order.
#[derive(Debug)]
pub(crate) struct Store {
    profiles: Vec<Profile>,
    next_seq: u64,
    ids: fastrand::Rng,
    /// Every filter id ever handed out (an id is never reused).
    used_ids: HashSet<String>,
}

fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

impl Filter {
    fn matches(&self, new: &NewFilter) -> bool {
        self.filter_type == new.filter_type
            && same_name(&self.domain, &new.domain)
            && same_name(&self.name, &new.name)
    }

    fn key(&self) -> FilterKey {
        (
            self.filter_type,
            self.domain.to_lowercase(),
            self.name.to_lowercase(),
        )
    }
}

impl NewFilter {
    fn key(&self) -> FilterKey {
        (
            self.filter_type,
            self.domain.to_lowercase(),
            self.name.to_lowercase(),
        )
    }
}

impl Store {
    /// An empty store; `id_seed` makes generated filter ids deterministic.
    pub fn new(id_seed: Option<u64>) -> Self {
        Store {
            profiles: Vec::new(),
            next_seq: 1,
            ids: id_seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed),
            used_ids: HashSet::new(),
        }
    }

    /// A store holding `seed`; items without a time get `now`.
    pub fn from_seed(seed: &Seed, now: f64, id_seed: Option<u64>) -> Result<Self, SeedError> {
        let mut store = Store::new(id_seed);
        let mut ids = HashSet::new();
        for profile in &seed.profiles {
            if profile.name.is_empty() {
                return Err(SeedError::Invalid("a profile has an empty name".to_owned()));
            }
            if store.find_profile(&profile.name).is_some() {
                return Err(SeedError::Invalid(format!(
                    "profile {} appears twice",
                    profile.name
                )));
            }
            let mut stored = Profile {
                name: profile.name.clone(),
                source_arn: profile.source_arn.clone(),
                state: profile.state,
                create_time: profile.create_time.unwrap_or(now),
                targets: Vec::new(),
                filters: Vec::new(),
                gone: Vec::new(),
                keys: HashSet::new(),
            };
            for target in &profile.targets {
                if target.name.is_empty() {
                    return Err(SeedError::Invalid(format!(
                        "a target of profile {} has an empty name",
                        profile.name
                    )));
                }
                if stored.targets.iter().any(|t| t.name == target.name) {
                    return Err(SeedError::Invalid(format!(
                        "target {} appears twice in profile {}",
                        target.name, profile.name
                    )));
                }
                stored.targets.push(Target {
                    name: target.name.clone(),
                    target_arn: target.target_arn.clone(),
                    create_time: target.create_time.unwrap_or(now),
                });
            }
            for filter in &profile.filters {
                let new = NewFilter {
                    filter_type: filter.filter_type,
                    domain: filter.domain.clone(),
                    name: filter.name.clone(),
                };
                if new.name.trim().is_empty() || new.domain.trim().is_empty() {
                    return Err(SeedError::Invalid(format!(
                        "a filter of profile {} has an empty name or domain",
                        profile.name
                    )));
                }
                if !stored.keys.insert(new.key()) {
                    return Err(SeedError::Invalid(format!(
                        "filter {} {}\\{} appears twice in profile {}",
                        new.filter_type, new.domain, new.name, profile.name
                    )));
                }
                let id = match &filter.id {
                    Some(id) if id.is_empty() => {
                        return Err(SeedError::Invalid(format!(
                            "filter {} of profile {} has an empty id",
                            new.name, profile.name
                        )));
                    }
                    Some(id) => id.clone(),
                    None => store.fresh_id(&ids),
                };
                if !ids.insert(id.clone()) {
                    return Err(SeedError::Invalid(format!("filter id {id} appears twice")));
                }
                store.used_ids.insert(id.clone());
                let seq = store.take_seq();
                stored.filters.push(Filter {
                    seq,
                    id,
                    filter_type: new.filter_type,
                    domain: new.domain,
                    name: new.name,
                    create_time: filter.create_time.unwrap_or(now),
                });
            }
            store.profiles.push(stored);
        }
        Ok(store)
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    fn fresh_id(&mut self, taken: &HashSet<String>) -> String {
        loop {
            let id = format!("sf-{:016x}", self.ids.u64(..));
            if !taken.contains(&id) && !self.used_ids.contains(&id) {
                self.used_ids.insert(id.clone());
                return id;
            }
        }
    }

    fn find_profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The profile `name`, or `404`.
    pub fn profile(&self, name: &str) -> Result<&Profile, ApiError> {
        self.find_profile(name)
            .ok_or_else(|| ApiError::not_found(format!("sync profile {name} does not exist")))
    }

    fn profile_mut(&mut self, name: &str) -> Result<&mut Profile, ApiError> {
        self.profiles
            .iter_mut()
            .find(|p| p.name == name)
            .ok_or_else(|| ApiError::not_found(format!("sync profile {name} does not exist")))
    }

    /// Up to `limit` filters of `filter_type` created after `after` (a `seq`), as the
    /// scope was at `as_of` (seconds since the epoch; `None`: now). A lagging view
    /// leaves out filters created since and shows filters deleted since.
    pub fn list_filters(
        &self,
        profile: &str,
        filter_type: FilterType,
        after: u64,
        limit: usize,
        as_of: Option<f64>,
    ) -> Result<Page, ApiError> {
        let stored = self.profile(profile)?;
        let mut visible: Vec<&Filter> = match as_of {
            None => stored.filters.iter().collect(),
            Some(at) => {
                let mut then: Vec<&Filter> = stored
                    .filters
                    .iter()
                    .chain(stored.gone.iter().filter(|(_, d)| *d > at).map(|(f, _)| f))
                    .filter(|f| f.create_time <= at)
                    .collect();
                then.sort_by_key(|f| f.seq);
                then
            }
        };
        visible.retain(|f| f.filter_type == filter_type && f.seq > after);
        let filters: Vec<Filter> = visible.iter().take(limit).map(|f| (*f).clone()).collect();
        let continue_after = match filters.last() {
            Some(last) if visible.len() > limit => Some(last.seq),
            _ => None,
        };
        Ok(Page {
            filters,
            continue_after,
        })
    }

    /// `409` if a filter of the same type, domain and name (case-insensitive) as
    /// `new` exists (what a create checks, and all a dry run does).
    pub fn check_new_filter(&self, profile: &str, new: &NewFilter) -> Result<(), ApiError> {
        let stored = self.profile(profile)?;
        if !stored.keys.contains(&new.key()) {
            return Ok(());
        }
        let existing = stored.filters.iter().find(|f| f.matches(new));
        match existing {
            Some(existing) => Err(ApiError::conflict(format!(
                "a {} filter for {}\\{} already exists in sync profile {profile} ({})",
                existing.filter_type, existing.domain, existing.name, existing.id
            ))),
            None => Ok(()),
        }
    }

    /// Adds a filter, or `409` if one of the same type, domain and name
    /// (case-insensitive) exists.
    pub fn create_filter(
        &mut self,
        profile: &str,
        new: NewFilter,
        now: f64,
    ) -> Result<Filter, ApiError> {
        self.check_new_filter(profile, &new)?;
        let id = self.fresh_id(&HashSet::new());
        let seq = self.take_seq();
        let filter = Filter {
            seq,
            id,
            filter_type: new.filter_type,
            domain: new.domain,
            name: new.name,
            create_time: now,
        };
        let stored = self.profile_mut(profile)?;
        stored.keys.insert(filter.key());
        stored.filters.push(filter.clone());
        Ok(filter)
    }

    /// The filter `id` of `profile`, or `404`.
    pub fn filter(&self, profile: &str, id: &str) -> Result<&Filter, ApiError> {
        self.profile(profile)?
            .filters
            .iter()
            .find(|f| f.id == id)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "sync filter {id} does not exist in sync profile {profile}"
                ))
            })
    }

    /// Removes the filter `id` of `profile`, or `404`. With `keep_since` (now, when a
    /// listing lag is on) the filter stays visible to lagging listings; tombstones
    /// older than `forget_before` are dropped.
    pub fn delete_filter(
        &mut self,
        profile: &str,
        id: &str,
        keep_since: Option<(f64, f64)>,
    ) -> Result<Filter, ApiError> {
        let stored = self.profile_mut(profile)?;
        match stored.filters.iter().position(|f| f.id == id) {
            Some(index) => {
                let filter = stored.filters.remove(index);
                stored.keys.remove(&filter.key());
                if let Some((now, forget_before)) = keep_since {
                    stored.gone.retain(|(_, deleted)| *deleted >= forget_before);
                    stored.gone.push((filter.clone(), now));
                }
                Ok(filter)
            }
            None => Err(ApiError::not_found(format!(
                "sync filter {id} does not exist in sync profile {profile}"
            ))),
        }
    }

    /// Adds a `PAUSED` profile, or `409` if the name is taken.
    pub fn create_profile(
        &mut self,
        name: &str,
        source_arn: &str,
        now: f64,
    ) -> Result<&Profile, ApiError> {
        if self.find_profile(name).is_some() {
            return Err(ApiError::conflict(format!(
                "sync profile {name} already exists"
            )));
        }
        self.profiles.push(Profile {
            name: name.to_owned(),
            source_arn: source_arn.to_owned(),
            state: ProfileState::Paused,
            create_time: now,
            targets: Vec::new(),
            filters: Vec::new(),
            gone: Vec::new(),
            keys: HashSet::new(),
        });
        self.profile(name)
    }

    /// The target `target` of `profile`, or `404`.
    pub fn target(&self, profile: &str, target: &str) -> Result<&Target, ApiError> {
        self.profile(profile)?
            .targets
            .iter()
            .find(|t| t.name == target)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "sync target {target} does not exist in sync profile {profile}"
                ))
            })
    }

    /// Adds a target, or `404` (profile) / `409` (target name taken).
    pub fn create_target(
        &mut self,
        profile: &str,
        name: &str,
        target_arn: &str,
        now: f64,
    ) -> Result<&Target, ApiError> {
        let stored = self.profile_mut(profile)?;
        if stored.targets.iter().any(|t| t.name == name) {
            return Err(ApiError::conflict(format!(
                "sync target {name} already exists in sync profile {profile}"
            )));
        }
        stored.targets.push(Target {
            name: name.to_owned(),
            target_arn: target_arn.to_owned(),
            create_time: now,
        });
        self.target(profile, name)
    }

    /// Sets the state of `profile` (idempotent), or `404`.
    pub fn set_state(&mut self, profile: &str, state: ProfileState) -> Result<(), ApiError> {
        self.profile_mut(profile)?.state = state;
        Ok(())
    }

    /// Every profile, as the admin API shows them.
    pub fn snapshot(&self) -> Vec<ProfileSnapshot> {
        self.profiles
            .iter()
            .map(|p| ProfileSnapshot {
                name: p.name.clone(),
                source_arn: p.source_arn.clone(),
                state: p.state,
                create_time: p.create_time,
                targets: p
                    .targets
                    .iter()
                    .map(|t| TargetSnapshot {
                        name: t.name.clone(),
                        target_arn: t.target_arn.clone(),
                        create_time: t.create_time,
                    })
                    .collect(),
                filters: p
                    .filters
                    .iter()
                    .map(|f| FilterSnapshot {
                        id: f.id.clone(),
                        filter_type: f.filter_type,
                        name: f.name.clone(),
                        domain: f.domain.clone(),
                        create_time: f.create_time,
                    })
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::seed::{SeedFilter, SeedProfile};

    fn group(name: &str) -> NewFilter {
        NewFilter {
            filter_type: FilterType::Group,
            domain: "corp.example.com".to_owned(),
            name: name.to_owned(),
        }
    }

    fn store_with_profile() -> Store {
        let mut store = Store::new(Some(7));
        store.create_profile("p", "arn:src", 1.0).unwrap();
        store
    }

    #[test]
    fn creating_the_same_filter_in_another_case_conflicts() {
        let mut store = store_with_profile();
        store.create_filter("p", group("AWS-Admins"), 1.0).unwrap();
        let mut other_case = group("aws-admins");
        other_case.domain = "CORP.example.com".to_owned();
        let error = store.create_filter("p", other_case, 2.0).unwrap_err();
        assert_eq!(error.code, ErrorCode::ConflictException);
        let user = NewFilter {
            filter_type: FilterType::User,
            ..group("AWS-Admins")
        };
        assert!(store.create_filter("p", user, 3.0).is_ok());
    }

    #[test]
    fn generated_ids_have_the_documented_shape() {
        let mut store = store_with_profile();
        let filter = store.create_filter("p", group("a"), 1.0).unwrap();
        assert!(filter.id.starts_with("sf-"));
        assert_eq!(filter.id.len(), 19);
        assert!(filter.id[3..].chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn listing_pages_in_creation_order_and_survives_deletes() {
        let mut store = store_with_profile();
        let ids: Vec<String> = (0..5)
            .map(|i| {
                store
                    .create_filter("p", group(&format!("g{i}")), 1.0)
                    .unwrap()
                    .id
            })
            .collect();
        let first = store
            .list_filters("p", FilterType::Group, 0, 2, None)
            .unwrap();
        assert_eq!(first.filters.len(), 2);
        let after = first.continue_after.unwrap();
        store.delete_filter("p", &ids[1], None).unwrap();
        let second = store
            .list_filters("p", FilterType::Group, after, 2, None)
            .unwrap();
        let names: Vec<&str> = second.filters.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["g2", "g3"]);
        let third = store
            .list_filters(
                "p",
                FilterType::Group,
                second.continue_after.unwrap(),
                2,
                None,
            )
            .unwrap();
        assert_eq!(third.filters.len(), 1);
        assert_eq!(third.continue_after, None);
    }

    #[test]
    fn deleting_an_unknown_filter_is_not_found() {
        let mut store = store_with_profile();
        let error = store
            .delete_filter("p", "sf-0000000000000000", None)
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::ResourceNotFoundException);
        let error = store
            .delete_filter("nope", "sf-0000000000000000", None)
            .unwrap_err();
        assert!(error.message.contains("sync profile nope"));
    }

    #[test]
    fn a_seed_with_duplicate_filters_is_rejected() {
        let filter = SeedFilter {
            id: None,
            filter_type: FilterType::Group,
            name: "A".to_owned(),
            domain: "d".to_owned(),
            create_time: None,
        };
        let seed = Seed {
            profiles: vec![SeedProfile {
                name: "p".to_owned(),
                source_arn: "arn".to_owned(),
                state: ProfileState::Active,
                create_time: None,
                targets: Vec::new(),
                filters: vec![
                    filter.clone(),
                    SeedFilter {
                        name: "a".to_owned(),
                        ..filter
                    },
                ],
            }],
            ..Seed::default()
        };
        let error = Store::from_seed(&seed, 1.0, None).unwrap_err();
        assert!(error.to_string().contains("appears twice"), "{error}");
    }

    #[test]
    fn a_snapshot_shows_seeded_ids_and_times() {
        let seed = Seed::from_json(
            r#"{"profiles":[{"name":"p","source_arn":"arn","state":"PAUSED","create_time":5.5,
               "filters":[{"id":"sf-fixed","type":"USER","name":"u","domain":"d"}]}]}"#,
        )
        .unwrap();
        let store = Store::from_seed(&seed, 9.0, None).unwrap();
        let snapshot = store.snapshot();
        assert_eq!(snapshot[0].state, ProfileState::Paused);
        assert_eq!(snapshot[0].create_time, 5.5);
        assert_eq!(snapshot[0].filters[0].id, "sf-fixed");
        assert_eq!(snapshot[0].filters[0].create_time, 9.0);
    }
}
