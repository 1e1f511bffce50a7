#!/usr/bin/env bash
# Builds the Lambda's zip for provided.al2023 on arm64 with cargo-lambda (zig as the
# cross linker), prints its path and size, and fails if it is over 8 MB.
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
