//! The pure core of syncscope: data in, data out, no I/O and no async.
//!
//! # Layout
//! - [`access`]: the access map: what each principal grants (permission sets in
//!   accounts), what users lose and keep with a plan, and the hygiene findings.
//! - [`arn`]: Amazon Resource Names, taken apart in one place.
//! - [`card`]: Teams cards (Adaptive Card 1.4 in a Workflows envelope, or a legacy
//!   MessageCard) from an outcome, under a size budget.
//! - [`cfn`]: the custom resource protocol: physical ids, the 4 KB response.
//! - [`choice`]: enums with one spelling per value, and the choices the config, the
//!   properties and the card share (the card format, what deleting the stack does).
//! - [`config`]: the seed-compatible JSON configuration, parsed into validated types
//!   (the file and its root; the sections are read by the settings table).
//! - [`directory`]: the directory check's model: each name's status in Active
//!   Directory, and what `warn`, `require` and `off` make of it.
//! - [`docs`]: the documentation view model and its page, snippet and JSON renderings;
//!   [`docs::layout`]: where a run's documents go in the bucket.
//! - [`impact`]: who loses and who keeps AWS access with a plan, and the people guard.
//! - [`migration`]: moving a scope from individual filters to a parent group: what
//!   moves where, and which filters can retire.
//! - [`names`]: validated newtypes (filter kinds and names, display names, domains,
//!   bucket names, URLs, webhook hosts, ...).
//! - [`samples`] (tests and the `samples` feature): sample outcomes with hostile names,
//!   for unit tests and the browser checks' files.
//! - [`settings`]: every setting declared once (config key, property, type, default,
//!   doc line), giving the config sections and [`config::Config`], the properties, the
//!   synthesiser's mapping (with its [`settings::Context`]) and `config/schema.json`
//!   ([`settings::schema`]).
//! - [`scope`]: what a sync scope holds: filters that exist, desired filters, the
//!   ledger, and who else wants a filter.
//! - [`outcome`]: what a run did, rendered into docs, cards and the response.
//! - [`properties`]: the custom resource's properties (declared in [`settings`], their
//!   value types in [`values`]) and the deletion guard they carry.
//! - [`request`]: an invocation's payload read once into a typed event, and what a
//!   CloudFormation request asks for (reconcile, settings only, delete or not, which
//!   id each answer carries), decided before any I/O.
//! - [`rules`]: the decisions of one run: the guards' gate, whether it writes, its
//!   verdict, the scope after, and what it tells.
//! - [`plan_role`]: the read-only IAM role CI assumes (GitHub's OIDC) to run `plan` and
//!   `doctor`, as a second template.
//! - [`plan`]: desired x current x ledger -> a plan (create, remove, adopt, keep,
//!   unmanaged), the deletion guard, and the ledger after an apply.
//! - [`preview`]: a plan and its impact as text, pull-request markdown or JSON.
//! - [`store`]: the sharded format of filter lists and the ledger in SSM Parameter Store,
//!   and where a stack keeps its parameters ([`store::ParameterNames`]).
//! - [`synth`]: the CloudFormation template of a deployment, synthesised from a config.
//! - [`timestamp`]: when a run started (UTC, to the second), in each form it is written.
//! - [`suggest`]: "did you mean" for unknown keys and values.
//! - [`values`]: the types a setting can hold (read, written, described in the schema)
//!   and how one property is read.
//! - [`walker`]: the config walker: a JSON document read key by key, every problem
//!   collected at its path; the limit on filters.

// The settings table is sorted by a recursive macro, two steps an entry.
#![recursion_limit = "256"]

pub mod access;
pub mod arn;
pub mod card;
pub mod cfn;
pub mod choice;
pub mod config;
pub mod directory;
pub mod docs;
pub mod impact;
pub mod migration;
pub mod names;
pub mod outcome;
pub mod plan;
pub mod plan_role;
pub mod preview;
pub mod properties;
pub mod request;
pub mod rules;
#[cfg(any(test, feature = "samples"))]
pub mod samples;
pub mod scope;
pub mod settings;
pub mod store;
pub mod suggest;
pub mod synth;
pub mod timestamp;
pub mod values;
pub mod walker;
