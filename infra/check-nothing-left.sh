#!/usr/bin/env bash
# After the local lifecycle (`syncscope-local`) has exited: every server it started, as
# listed in its servers.txt, must be gone. moto's wrapper exits when its parent does
# (within a second); the rest stop with the run. Fails naming what still answers.
# Usage: infra/check-nothing-left.sh [build/local/servers.txt]
set -euo pipefail
list="${1:-build/local/servers.txt}"
[[ -s "$list" ]] || { echo "check-nothing-left: $list is missing or empty" >&2; exit 1; }
count="$(grep -c . "$list")"
for _ in $(seq 1 50); do
  left=()
  while read -r url; do
    [[ -z "$url" ]] && continue
    hostport="${url#*://}"
    hostport="${hostport%%/*}"
    if (exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}") 2>/dev/null; then
      left+=("$hostport")
    fi
  done <"$list"
  if ((${#left[@]} == 0)); then
    echo "check-nothing-left: the $count servers of the local run are gone"
    exit 0
  fi
  sleep 0.2
done
echo "check-nothing-left: still answering 10 s after the local run: ${left[*]}" >&2
exit 1
