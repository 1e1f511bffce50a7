#!/usr/bin/env bash
# Copies the GitHub Actions workflow and its plan-and-comment script into a repository
# that holds a syncscope config, then prints the next steps.
#
# usage: ci/init.sh [DEST]     (DEST: the repository's root, default .)
# env:   FORCE=1  overwrite files that are already there (without it nothing is copied
#                 when one of them exists)
# exit:  0 copied; 1 a file is already there (and FORCE is not 1); 2 wrong usage.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-.}"
[[ $# -le 1 ]] || { sed -n '5,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ -d "$dest" ]] || { echo "error: $dest is not a directory" >&2; exit 2; }

# source in ci/github -> target in the repository
pairs=(
  "workflows/syncscope.yml:.github/workflows/syncscope.yml"
  "plan-comment.py:.github/syncscope/plan-comment.py"
)

if [[ "${FORCE:-}" != 1 ]]; then
  there=()
  for pair in "${pairs[@]}"; do
    [[ -e "$dest/${pair#*:}" ]] && there+=("$dest/${pair#*:}")
  done
  if [[ ${#there[@]} -gt 0 ]]; then
    printf 'error: already there, nothing copied (FORCE=1 overwrites): %s\n' "${there[@]}" >&2
    exit 1
  fi
fi

for pair in "${pairs[@]}"; do
  from="$src/github/${pair%%:*}" to="$dest/${pair#*:}"
  mkdir -p "$(dirname "$to")"
  cp "$from" "$to"
  echo "wrote $to"
done
chmod +x "$dest/.github/syncscope/plan-comment.py"

cat <<'NEXT'

Next steps:
  1. Deploy the read-only plan role the workflow assumes (set general.CiRepository and
     general.CiBranches in the config first):
       syncscope synth --config config/prod.json --plan-role
       aws cloudformation deploy --template-file build/cfn/<stack>-plan-role.template.json \
         --stack-name <stack>-plan-role --capabilities CAPABILITY_IAM
     Its stack output PlanRoleArn is AWS_PLAN_ROLE_ARN.
  2. Set the repository variables the workflow reads (Settings > Secrets and variables >
     Actions > Variables), and add required reviewers to the environment `syncscope`:
       SYNCSCOPE_CONFIG      e.g. config/prod.json
       SYNCSCOPE_REPOSITORY  owner/name of syncscope's source
       SYNCSCOPE_REF         the syncscope commit to build (full SHA)
       AWS_REGION            the stack's region
       AWS_PLAN_ROLE_ARN     the plan role (step 1)
       AWS_DEPLOY_ROLE_ARN   the role task deploy runs as (trusts repo:OWNER/NAME:environment:syncscope)
       ARTIFACT_BUCKET       the bucket task deploy uploads the function's zip to
NEXT
