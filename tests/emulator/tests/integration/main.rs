//! Integration tests of the emulator over real TCP, with requests signed by
//! `aws-sigv4` as the real client signs them (and, for Directory Service Data, sent
//! by the official SDK).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod binary;
mod ds_data;
mod faults;
mod helpers;
mod operations;
