#!/usr/bin/env bash
# Checks the dependency graph in about a second (task check runs it; the first run
# downloads the manifests of platform-specific crates the build never needs):
#
# 1. The Lambda's graph (package syncscope alone, for aarch64, normal edges: what the
#    shipped zip links) holds one HTTP and TLS stack: no second major version of
#    hyper, h2, http, http-body, rustls, hyper-rustls or tokio-rustls, and no ring.
#    The AWS SDK's default features bring the legacy stack (hyper 0.14, rustls 0.21
#    with ring) back; they are off in Cargo.toml.
# 2. The workspace's rust-version is at least every dependency's own rust-version
#    (clippy's incompatible_msrv lint checks our use of std against it, and the code's
#    let chains need 1.88).
#
# usage: infra/check-deps.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target=aarch64-unknown-linux-gnu
stack=(hyper h2 http http-body rustls hyper-rustls tokio-rustls)
status=0

graph="$(cargo tree --locked -q -p syncscope -e normal --target "$target" --prefix none --format '{p}')"
for name in "${stack[@]}"; do
  versions="$(grep -E "^$name v" <<<"$graph" | awk '{print $2}' | sort -u | cut -d. -f1-2 | sort -u)"
  if (( $(grep -c . <<<"$versions") > 1 )); then
    echo "check-deps: the Lambda links $name in versions $(tr '\n' ' ' <<<"$versions")(one HTTP/TLS stack expected); see: cargo tree -p syncscope -e normal --target $target -i $name" >&2
    status=1
  fi
done
if grep -qE '^ring v' <<<"$graph"; then
  echo "check-deps: the Lambda links ring (the legacy TLS stack); see: cargo tree -p syncscope -e normal --target $target -i ring" >&2
  status=1
fi

cargo metadata --locked --format-version 1 | python3 -c '
import json, sys
meta = json.load(sys.stdin)
def version(v):
    return tuple(int(x) for x in v.split("."))
members = set(meta["workspace_members"])
ours = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
if len(ours) != 1:
    sys.exit(f"check-deps: workspace members declare different rust-versions: {sorted(ours)}")
ours = ours.pop()
newer = sorted(
    (p["rust_version"], p["name"])
    for p in meta["packages"]
    if p.get("rust_version") and version(p["rust_version"]) > version(ours)
)
if newer:
    sys.exit(f"check-deps: rust-version {ours} is below what dependencies need: "
             + ", ".join(f"{n} {v}" for v, n in newer[-5:]))
' || status=1

if (( status == 0 )); then
  echo "check-deps: the Lambda links one HTTP/TLS stack and no ring; rust-version covers every dependency"
fi
exit "$status"
