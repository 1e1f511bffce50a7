//! Test-only fault injection (the `test-hooks` feature, never in the shipped zip):
//! `SYNCSCOPE_TEST_FAULT=panic` makes the work panic before it does anything, and
//! `panic-after-create` right after the first create was applied, to prove a panic
//! still answers CloudFormation, with the id its rollback needs; `hang` makes the
//! work wait forever, to prove the deadline guard answers (every call the work makes
//! has its own deadline, so no local server can make the work outlive the guard), and
//! `hang-after-create` waits forever once the creates are applied (before the ledger
//! records them), to prove the rollback Delete still finds them. `no-access-map`
//! leaves the docs' access map unread: the benchmark's side-by-side run without it.
//! No local server can produce a panic either.

/// The environment variable naming the fault.
pub const TEST_FAULT_ENV: &str = "SYNCSCOPE_TEST_FAULT";

/// Whether the tests asked for `fault` (always false without the `test-hooks` feature).
pub fn injected(fault: &str) -> bool {
    cfg!(feature = "test-hooks") && std::env::var(TEST_FAULT_ENV).as_deref() == Ok(fault)
}
