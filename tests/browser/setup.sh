#!/usr/bin/env bash
# Installs what the browser checks need, only what is missing (idempotent):
# Debian's Chromium (/usr/bin/chromium), its colour emoji font (the plan comment's
# screenshot shows ✅ ➖ ➕) and the pinned npm tools in tests/browser.
# CI runs it as root; elsewhere it uses sudo when it has to install Chromium.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Debian's chromium"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if [ ! -d /usr/share/fonts/truetype/noto ] || ! ls /usr/share/fonts/truetype/noto/NotoColorEmoji* >/dev/null 2>&1; then
  echo "setup: installing Debian's fonts-noto-color-emoji"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends fonts-noto-color-emoji >/dev/null
fi
if ! command -v java >/dev/null 2>&1; then
  echo "setup: java is missing (the Nu HTML Checker needs Java 11+); install default-jre-headless" >&2
  exit 1
fi

cd "$here"
stamp="node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "setup: installing the npm tools"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
fi
echo "setup: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), npm tools ready"
