#!/usr/bin/env bash
# Measures a newcomer's first run and writes the "Build" section of
# docs/benchmarks.md (between its build markers; `task bench` keeps it):
#
#   on a fresh clone of HEAD, with an empty cargo home and no target/ (cold):
#   1. ./task local: until the lifecycle's first line, and until done
#   2. bash .ci/run (CI's entry point: ./task test): until done
#   3. ./task validate: its time, and whether cargo compiled anything (it must not)
#   4. target/ at its largest (sampled every 5 s), and the crates compiled
#   5. with --zip: ./task build (cargo-lambda, arm64, qemu smoke test): the zip's size
#
# usage: infra/measure-build.sh [--zip] [--keep]
#   --zip    also build the arm64 zip (about 10 more minutes; needs setup:build)
#   --keep   keep the scratch directory (printed) instead of deleting it
# Takes 30 to 50 minutes on 2 cores. Needs ../shared beside the repository (the
# tests read it), network access to the registries, and nothing else running.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
zip=0 keep=0
for arg in "$@"; do
  case "$arg" in
    --zip) zip=1 ;;
    --keep) keep=1 ;;
    *) echo "usage: infra/measure-build.sh [--zip] [--keep]" >&2; exit 2 ;;
  esac
done

scratch="$(mktemp -d /tmp/syncscope-build.XXXXXX)"
cleanup() {
  [[ -n "${sampler:-}" ]] && kill "$sampler" 2>/dev/null || true
  if (( keep )); then echo "measure-build: kept $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT
git clone -q --no-local "$root" "$scratch/main"
[[ -d "$root/../shared" ]] && cp -r "$root/../shared" "$scratch/shared"
cd "$scratch/main"
export CARGO_HOME="$scratch/cargo-home" CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never
mkdir -p "$CARGO_HOME"
# rustup's proxies stay where they are; only the registry cache starts empty.
export PATH="$HOME/.cargo/bin:$PATH"

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$1" "$2"; }
mmss() { python3 -c "import sys; s=int(float(sys.argv[1])); print(f'{s//60} min {s%60:02d} s')" "$1"; }

# target/ at its largest.
peak_file="$scratch/peak"
echo 0 >"$peak_file"
( while sleep 5; do
    size=$(du -sb target 2>/dev/null | cut -f1 || echo 0)
    (( size > $(cat "$peak_file") )) && echo "$size" >"$peak_file"
  done ) &
sampler=$!

echo "measure-build: ./task local (cold) in $scratch/main"
start=$(now); first=""
while IFS= read -r line; do
  printf '%s\n' "$line"
  if [[ -z "$first" && "$line" == "syncscope local lifecycle:"* ]]; then first=$(now); fi
done < <(./task local 2>&1)
end=$(now)
local_first=$(since "$start" "${first:-$end}")
local_done=$(since "$start" "$end")
crates=$(find target/debug/.fingerprint -mindepth 1 -maxdepth 1 -type d | wc -l)

echo "measure-build: bash .ci/run (./task test)"
start=$(now)
bash .ci/run >"$scratch/test.log" 2>&1 || { tail -50 "$scratch/test.log"; echo "measure-build: CI (task test) failed" >&2; exit 1; }
test_done=$(since "$start" "$(now)")

echo "measure-build: ./task validate (warm)"
start=$(now)
./task validate >/dev/null
validate=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(now)")
recompiled=$(cargo build --workspace --bins 2>&1 | grep -c '^ *Compiling' || true)
kill "$sampler" 2>/dev/null || true; sampler=""
peak=$(python3 -c "import sys; print(f'{int(sys.argv[1]) / 1e9:.2f} GB')" "$(cat "$peak_file")")

zip_row="not measured (run with --zip)"
zip_verdict=""
if (( zip )); then
  echo "measure-build: ./task build (arm64 zip, qemu smoke test)"
  start=$(now)
  ./task build
  bytes=$(wc -c <target/lambda/syncscope-lambda/bootstrap.zip)
  zip_row="$(python3 -c "import sys; print(f'{int(sys.argv[1]) / 1e6:.2f} MB')" "$bytes") (built in $(mmss "$(since "$start" "$(now)")"), smoke test passed)"
  zip_verdict=": $(python3 -c "import sys; print('met' if int(sys.argv[1]) <= 4.5e6 else 'MISSED')" "$bytes")"
fi

verdict() { python3 -c "import sys; print('met' if float(sys.argv[1]) <= float(sys.argv[2]) else 'MISSED')" "$1" "$2"; }
section="$scratch/section.md"
cat >"$section" <<EOF
<!-- build:begin (written by infra/measure-build.sh; task bench keeps it) -->
## Build: a newcomer's first run

Measured by \`infra/measure-build.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(rustc --version | cut -d' ' -f1-2): a fresh
clone of $(git rev-parse --short HEAD), an empty cargo home (crates downloaded too) and no \`target/\`.

| step | before (stop 11) | now | target |
| --- | ---: | ---: | --- |
| \`./task local\` until its first line | 12 min 38 s | $(mmss "$local_first") | <= 8 min: $(verdict "$local_first" 480) |
| \`./task local\` until done | | $(mmss "$local_done") | |
| then \`bash .ci/run\` (\`./task test\`, what CI runs) | 5 min 46 s | $(mmss "$test_done") | |
| then \`./task validate\` | compiled the AWS SDK again | ${validate} s, ${recompiled} crates compiled | < 10 s and nothing compiled: $( [[ "$recompiled" == 0 ]] && verdict "$validate" 10 || echo MISSED) |
| \`target/\` at its largest | 1.77 GB | $peak | |
| units compiled by \`./task local\` | | $crates | |
| arm64 zip (\`./task build\`) | 5.72 MB | $zip_row | <= 4.5 MB$zip_verdict |

Every development build shares one feature set through the \`workspace-hack\` crate
(cargo-hakari): \`cargo test\`, \`cargo run -p syncscope-cli\` and every task reuse the
artefacts of \`./task local\`. The Lambda's own graph (package \`syncscope\`, built alone
for the zip) has one HTTP/TLS stack and no ring (\`infra/check-deps.sh\`).
<!-- build:end -->
EOF
python3 - "$root/docs/benchmarks.md" "$section" <<'PY'
import re, sys
doc_path, section_path = sys.argv[1], sys.argv[2]
doc = open(doc_path).read()
section = open(section_path).read().rstrip("\n")
pattern = re.compile(r"<!-- build:begin.*?<!-- build:end -->", re.S)
doc = pattern.sub(lambda _: section, doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + section + "\n"
open(doc_path, "w").write(doc)
PY
echo "measure-build: wrote the Build section of docs/benchmarks.md"
cat "$section"
