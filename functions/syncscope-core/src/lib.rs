//! The pure core of syncscope: data in, data out, no I/O and no async.
//!
//! # Layout
//! - [`cfn`]: the custom resource protocol: properties, physical ids, the 4 KB response.
//! - [`config`]: the seed-compatible JSON configuration, parsed into validated types.
//! - [`names`]: validated newtypes (filter names, domains, bucket names, URLs, ...).
//! - [`scope`]: what a sync scope holds: filter kinds, filters that exist, desired filters.
//! - [`outcome`]: what a run did, rendered into docs, cards and the response.
//! - [`plan`]: desired x current x ledger -> a plan (create, remove, adopt, keep,
//!   unmanaged), the deletion guard, and the ledger after an apply.
//! - [`store`]: the sharded format of filter lists and the ledger in SSM Parameter Store.
//! - [`suggest`]: "did you mean" for unknown keys and values.

pub mod cfn;
pub mod config;
pub mod names;
pub mod outcome;
pub mod plan;
pub mod scope;
pub mod store;
pub mod suggest;
