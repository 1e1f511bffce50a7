#!/usr/bin/env bash
# Builds the Lambda's zip for provided.al2023 on arm64 with cargo-lambda (zig as the
# cross linker), prints its path and size, and fails if it is over 8 MB. Then it runs
# the zip's own bootstrap under qemu-aarch64 through the Lambda Runtime API against
# moto and the identity-sync emulator: a drift check must answer SUCCESS, and a Create
# whose ResponseURL is the local (loopback) sink must be refused, since the shipped
# build answers only CloudFormation's response hosts (SKIP_SMOKE=1 skips that).
#
# usage: infra/build.sh
# env:   CARGO_LAMBDA  cargo-lambda (default: .venv/bin/cargo-lambda, else on PATH;
#                      infra/setup-tools.sh installs it)
# out:   target/lambda/syncscope-lambda/bootstrap.zip
set -euo pipefail

MAX_BYTES=8388608

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -n "${CARGO_LAMBDA:-}" ]]; then cargo_lambda="$CARGO_LAMBDA"
elif [[ -x .venv/bin/cargo-lambda ]]; then cargo_lambda=.venv/bin/cargo-lambda
else cargo_lambda=cargo-lambda; fi
command -v "$cargo_lambda" >/dev/null 2>&1 \
  || { echo "error: cargo-lambda not found: run infra/setup-tools.sh --build (task setup:build)" >&2; exit 2; }
# cargo-lambda finds zig through ziglang's python-zig in the same venv.
export PATH="$root/.venv/bin:$PATH"

"$cargo_lambda" lambda build --release --arm64 --output-format zip -p syncscope --bin syncscope-lambda

zip=target/lambda/syncscope-lambda/bootstrap.zip
[[ -f "$zip" ]] || { echo "error: $zip was not produced" >&2; exit 1; }
bytes="$(wc -c <"$zip" | tr -d ' ')"
echo "$zip: $bytes bytes ($(( bytes * 100 / MAX_BYTES ))% of the 8 MB budget)"
if (( bytes > MAX_BYTES )); then
  echo "error: $zip is $bytes bytes, over the 8 MB ($MAX_BYTES bytes) budget" >&2
  exit 1
fi

if [[ "${SKIP_SMOKE:-}" == 1 ]]; then exit 0; fi
command -v qemu-aarch64 >/dev/null 2>&1 \
  || { echo "error: qemu-aarch64 not found: run infra/setup-tools.sh --build (task setup:build)" >&2; exit 2; }
unpacked=target/lambda/syncscope-lambda/arm64
rm -rf "$unpacked" && mkdir -p "$unpacked"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$unpacked"
chmod +x "$unpacked/bootstrap"
# The harness's debug build: the same artefacts as every other task.
cargo build --quiet -p syncscope-harness --bin syncscope-local
SYNCSCOPE_PYTHON="$root/.venv/bin/python" ./target/debug/syncscope-local --smoke \
  --lambda "$unpacked/bootstrap" --wrapper "qemu-aarch64 -L /usr/aarch64-linux-gnu"
