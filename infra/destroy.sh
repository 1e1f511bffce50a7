#!/usr/bin/env bash
# Deletes a config's stack after confirmation, and says first what the Delete does to
# the sync scope: CloudFormation's Delete runs the custom resource, which leaves the
# scope as it is when the deployed OnDelete is "retain" (the default) and removes the
# filters its ledger lists (the filters this stack manages) when it is "remove".
# Filters someone added in the console are never removed. The filters' SSM parameters
# go with the stack; the ledger is released by the Delete.
#
# usage: infra/destroy.sh --config FILE [--yes]
#   --config FILE   the config whose stack ({prefix}-{produkt}-{stage}) is deleted
#   --yes           delete without asking (CI); without it the script asks on the
#                   terminal, and refuses when there is none
# env:   as infra/deploy.sh (AWS_REGION, AWS_ENDPOINT_URL, AWS, SYNCSCOPE,
#        SYNCSCOPE_DEPLOY_POLL, SYNCSCOPE_DEPLOY_TIMEOUT)
# exit:  0 deleted or no such stack; 1 failed or not confirmed; 2 wrong usage.
set -euo pipefail

usage() { sed -n '9,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

config="" yes=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config="${2:-}"; shift 2 || usage ;;
    --yes) yes=true; shift ;;
    -h|--help) usage ;;
    *) echo "error: unknown argument $1" >&2; usage ;;
  esac
done
[[ -n "$config" ]] || { echo "error: --config is required" >&2; usage; }

# shellcheck source=infra/lib.sh
source infra/lib.sh

poll="${SYNCSCOPE_DEPLOY_POLL:-5}"
timeout="${SYNCSCOPE_DEPLOY_TIMEOUT:-3600}"

summary="$("${syncscope[@]}" synth --config "$config" --out build/destroy --json)" \
  || die 1 "cannot read $config"
stack="$(json_field "$summary" stack_name)"
status="$(stack_status "$stack")"
if [[ "$status" == NONE ]]; then
  echo "Nothing to destroy: there is no stack $stack."
  exit 0
fi
stack_id="$("${aws[@]}" cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].StackId' --output text)"

# What the deployed custom resource will do (the deployed template, not the file).
on_delete="$("${aws[@]}" cloudformation get-template --stack-name "$stack_id" \
  --query 'TemplateBody.Resources.SyncScope.Properties.OnDelete' --output text 2>/dev/null || true)"
[[ -z "$on_delete" || "$on_delete" == None ]] && on_delete="$(json_field "$summary" on_delete)"
echo "stack:    $stack ($status)"
case "$on_delete" in
  remove)
    echo "OnDelete: remove. The Delete runs the custom resource, which REMOVES from the sync scope"
    echo "          every filter its ledger lists (the filters this stack manages); users of a"
    echo "          removed group are disabled in IAM Identity Center after 28 days. Filters added"
    echo "          in the console stay. What the Delete would remove now (read-only):"
    "${syncscope[@]}" plan --config "$config" --teardown 2>&1 | sed 's/^/          /' \
      || echo "          (could not read the live scope; see the ledger in SSM under /syncscope/$stack/ledger)"
    ;;
  *)
    echo "OnDelete: $on_delete. The Delete runs the custom resource, which leaves the sync scope as"
    echo "          it is (the filters stay; the stack's functions, role, logs and filter"
    echo "          parameters go)." ;;
esac

if ! $yes; then
  if ! { exec 3</dev/tty; } 2>/dev/null; then
    die 1 "no terminal to confirm on: pass --yes to delete without asking"
  fi
  printf 'Delete stack %s? Type the stack name to confirm: ' "$stack" >/dev/tty
  answer=""
  read -r answer <&3 || true
  exec 3<&-
  [[ "$answer" == "$stack" ]] || die 1 "not deleted"
fi

token="syncscope-destroy-$(date -u +%s)"
"${aws[@]}" cloudformation delete-stack --stack-name "$stack_id" --client-request-token "$token"
echo "Deleting $stack ..."
wait_for_stack "$stack" "$stack_id" "$token" "DELETE_COMPLETE|NONE"
echo "Stack $stack deleted (OnDelete $on_delete)."
# The SecureString deploy.sh keeps a literal webhook URL in goes with the stack (after
# the Delete, whose card needed it).
webhook_parameter="$(json_field "$summary" webhook_parameter)"
if [[ -n "$webhook_parameter" ]] \
  && "${aws[@]}" ssm delete-parameter --name "$webhook_parameter" >/dev/null 2>&1; then
  echo "Deleted the SSM SecureString $webhook_parameter (the config's webhook URL)."
fi
