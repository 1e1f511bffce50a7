#!/usr/bin/env bash
# Synthesises the CloudFormation template of each config and lints it with cfn-lint
# (no errors, no warnings) and checkov (no failed check; every skip is justified in
# the template's resource Metadata). Each config is synthesised twice: as given, and
# with --create-docs-bucket, so the optional docs bucket is linted too. A config that
# names general.CiRepository is also synthesised with --plan-role, and its read-only
# plan role template is linted the same way.
#
# usage: infra/lint.sh CONFIG...        (default: config/example.json, a generated
#                                        config of 10,000 filters with 200-character
#                                        descriptions, the most a config may hold, and
#                                        the example with a CI repository, for the
#                                        plan role, and the example under the
#                                        parent-group engine, with its plan role)
# env:   SYNCSCOPE   the syncscope binary (default: cargo run -q --bin syncscope --)
#        CFN_LINT    cfn-lint (default: .venv/bin/cfn-lint)
#        CHECKOV     checkov  (default: .tools/checkov/bin/checkov)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="build/lint"
cfn_lint="${CFN_LINT:-.venv/bin/cfn-lint}"
checkov="${CHECKOV:-.tools/checkov/bin/checkov}"
if [[ -n "${SYNCSCOPE:-}" ]]; then
  read -r -a syncscope <<<"$SYNCSCOPE"
else
  syncscope=(cargo run -q -p syncscope-cli --bin syncscope --)
fi
for tool in "$cfn_lint" "$checkov"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool not found: run \`task setup\`" >&2
    exit 2
  fi
done

rm -rf "$out"
mkdir -p "$out"
configs=("$@")
if [[ ${#configs[@]} -eq 0 ]]; then
  .venv/bin/python infra/generate-config.py --filters 10000 "$out/filters-10000.json" --description-chars 200
  .venv/bin/python - config/example.json "$out/plan-role.json" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["general"]["CiRepository"] = "acme/sso-config"
config["general"]["CiBranches"] = ["main", "release/2025"]
json.dump(config, open(sys.argv[2], "w"), indent=2)
PY
  # The parent-group engine's stack and plan role (its own IAM statements).
  .venv/bin/python - config/example.json "$out/parent-group.json" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["general"]["CiRepository"] = "acme/sso-config"
config["SSO"].update({"Engine": "parent-group", "ParentGroup": "IAMIdentityCenterAllUsersAndGroups", "DirectoryId": "d-1234567890"})
json.dump(config, open(sys.argv[2], "w"), indent=2)
PY
  configs=(config/example.json "$out/filters-10000.json" "$out/plan-role.json" "$out/parent-group.json")
fi

# Whether a config names a repository for the plan role.
has_ci_repository() {
  .venv/bin/python -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1])).get("general", {}).get("CiRepository") else 1)' "$1"
}

templates=()
plan_roles=0
for config in "${configs[@]}"; do
  name="$(basename "$config" .json)"
  for variant in plain docs-bucket; do
    flags=()
    [[ $variant == docs-bucket ]] && flags=(--create-docs-bucket)
    if [[ $variant == plain ]] && has_ci_repository "$config"; then
      flags=(--plan-role)
      plan_roles=$((plan_roles + 1))
    fi
    dir="$out/$name/$variant"
    "${syncscope[@]}" synth --config "$config" --out "$dir" "${flags[@]}"
    templates+=("$dir"/*.template.json)
  done
done

echo "cfn-lint: ${#templates[@]} templates"
"$cfn_lint" --format parseable -- "${templates[@]}"

echo "checkov: ${#templates[@]} templates"
# --skip-download: no calls to the vendor's platform (this runs offline).
"$checkov" --quiet --compact --skip-download --framework cloudformation \
  --output cli --directory "$out"

echo "lint: ${#templates[@]} templates ($plan_roles plan role) passed cfn-lint and checkov"
