//! End-to-end tests: CloudFormation events through the real Lambda binary and the
//! Lambda Runtime API, against moto, the identity-sync emulator and local HTTP sinks.
//!
//! Run with `task test` (it builds the binaries and installs moto first).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod access;
mod ci;
mod cli;
mod contract;
mod deployment;
mod directory;
mod doctor;
mod hardening;
mod helpers;
mod impact;
mod lifecycle;
mod model;
mod model_stacks;
mod ownership;
mod parent_group;
mod parent_group_cli;
mod protocol;
mod reporting;
mod safety;
mod stacks;
mod trust;
