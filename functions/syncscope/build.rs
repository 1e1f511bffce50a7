//! Links the Lambda binary as a fixed-address executable on Linux with glibc.
//!
//! A position-independent executable (rustc's default) makes the dynamic loader patch
//! every pointer in the binary's read-only data before `main`: about 35,000 relative
//! relocations here, on some 120 pages it must copy and write. That was half of the gap
//! between syncscope's start-up and a hello-world `lambda_runtime` function
//! (docs/benchmarks.md, "Start-up"). A fixed-address executable has those pointers
//! resolved at link time. Packed relocations (`-z pack-relative-relocs`) would keep
//! address randomisation but need glibc 2.36; provided.al2023 has 2.34.
//!
//! What is given up is the randomised load address of the binary itself (the stack, heap
//! and shared libraries stay randomised), as in Go's default Lambda builds. The objects
//! stay position-independent, so only the final link changes and no crate rebuilds.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo::rustc-link-arg-bin=syncscope-lambda=-no-pie");
    }
}
