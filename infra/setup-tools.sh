#!/usr/bin/env bash
# Installs the deployment and lint tools into the project, idempotently and quietly:
#   .venv/          the AWS CLI (tests/tools/requirements-deploy.txt), and with --build
#                   cargo-lambda and zig (tests/tools/requirements-build.txt), plus
#                   Debian's qemu-user and libc6-arm64-cross (apt, sudo when not root)
#                   to run the arm64 build here
#   .tools/checkov/ checkov, pinned, in its own venv (its dependencies clash with moto's)
# A second run with nothing changed does nothing (a marker file per requirements file
# records what was installed).
#
# usage: infra/setup-tools.sh [--build]
# env:   PYTHON   the python to create the venvs with (default: python3)
set -euo pipefail

CHECKOV_VERSION=3.3.30

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
case "${1:-}" in
  --build) build=1 ;;
  "") build=0 ;;
  *) echo "usage: infra/setup-tools.sh [--build]" >&2; exit 2 ;;
esac
python="${PYTHON:-python3}"
pip_flags=(--quiet --disable-pip-version-check)

# install_requirements KIND: tests/tools/requirements-KIND.txt into the project's venv.
install_requirements() {
  local requirements="tests/tools/requirements-$1.txt" marker=".venv/.$1-requirements-installed"
  [[ -x .venv/bin/python ]] || "$python" -m venv .venv
  if [[ ! -f "$marker" ]] || ! cmp -s "$requirements" "$marker"; then
    echo "setup-tools: installing $(grep -cv '^#' "$requirements") $1 tools into .venv"
    .venv/bin/python -m pip install "${pip_flags[@]}" -r "$requirements"
    cp "$requirements" "$marker"
  fi
}

install_requirements deploy
if [[ "$build" == 1 ]]; then
  install_requirements build
  # task build runs the arm64 zip's own bootstrap under qemu-user (Debian's packages).
  if ! command -v qemu-aarch64 >/dev/null 2>&1 || [[ ! -d /usr/aarch64-linux-gnu/lib ]]; then
    echo "setup-tools: installing Debian's qemu-user and libc6-arm64-cross"
    sudo=""
    if [[ "$(id -u)" -ne 0 ]]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      qemu-user libc6-arm64-cross >/dev/null
  fi
fi

# checkov, in its own venv.
if [[ "$(.tools/checkov/bin/checkov --version 2>/dev/null || true)" != "$CHECKOV_VERSION" ]]; then
  echo "setup-tools: installing checkov $CHECKOV_VERSION into .tools/checkov"
  [[ -x .tools/checkov/bin/python ]] || "$python" -m venv .tools/checkov
  .tools/checkov/bin/python -m pip install "${pip_flags[@]}" "checkov==$CHECKOV_VERSION"
fi

built=""
[[ -x .venv/bin/cargo-lambda ]] && built=", $(.venv/bin/cargo-lambda lambda --version 2>/dev/null | cut -d' ' -f1,2)"
echo "setup-tools: $(.venv/bin/aws --version 2>&1 | cut -d' ' -f1)$built, checkov $(.tools/checkov/bin/checkov --version)"
