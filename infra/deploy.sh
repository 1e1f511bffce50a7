#!/usr/bin/env bash
# Deploys a config's stack with a CloudFormation change set: synthesises the template,
# uploads the function's zip (content-addressed: s3://BUCKET/syncscope/<sha256>.zip, so
# a code change updates the function and an unchanged zip is not uploaded again),
# passes the template inline or, over 51,200 bytes, through the artifact bucket,
# creates a change set (CREATE or UPDATE), shows it, asks, executes it, waits, and
# prints the stack's outputs. A change set without changes is "nothing to deploy"
# (exit 0). On failure it prints the stack events that failed.
#
# usage: infra/deploy.sh --config FILE --artifact-bucket BUCKET
#                        [--zip target/lambda/syncscope-lambda/bootstrap.zip]
#                        [--create-docs-bucket] [--yes] [--no-execute]
#   --config FILE          the config (the stack is {prefix}-{produkt}-{stage})
#   --artifact-bucket B    an existing bucket in the stack's region for the zip and
#                          large templates
#   --zip PATH             the function's zip (infra/build.sh makes it)
#   --create-docs-bucket   create the docs bucket (s3_DOKUBUCKET) in the stack
#   --yes                  execute without asking (CI); without it the script asks on
#                          the terminal, and refuses when there is none
#   --no-execute           create and show the change set, then stop (review it in the
#                          console or execute it later)
# env:   AWS_REGION / AWS_DEFAULT_REGION (else the CLI's configured region), the usual
#        AWS credentials; AWS_ENDPOINT_URL (local emulators, e.g. moto) is honoured by
#        the AWS CLI itself.
#        AWS        the aws CLI (default: .venv/bin/aws if present, else aws on PATH)
#        SYNCSCOPE  the syncscope binary (default: cargo run -q -p syncscope-cli --bin syncscope --)
#        SYNCSCOPE_DEPLOY_POLL     seconds between status polls (default 5)
#        SYNCSCOPE_DEPLOY_TIMEOUT  seconds to wait for the stack (default 3600)
# exit:  0 deployed, nothing to deploy, or change set left for review (--no-execute);
#        1 failed or not confirmed; 2 wrong usage or a missing tool.
set -euo pipefail

usage() { sed -n '10,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

config="" bucket="" zip="target/lambda/syncscope-lambda/bootstrap.zip"
docs_bucket=false yes=false execute=true
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config="${2:-}"; shift 2 || usage ;;
    --artifact-bucket) bucket="${2:-}"; shift 2 || usage ;;
    --zip) zip="${2:-}"; shift 2 || usage ;;
    --create-docs-bucket) docs_bucket=true; shift ;;
    --yes) yes=true; shift ;;
    --no-execute) execute=false; shift ;;
    -h|--help) usage ;;
    *) echo "error: unknown argument $1" >&2; usage ;;
  esac
done
[[ -n "$config" && -n "$bucket" ]] || { echo "error: --config and --artifact-bucket are required" >&2; usage; }

# shellcheck source=infra/lib.sh
source infra/lib.sh

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}
s3_domain() { if [[ "$region" == cn-* ]]; then echo amazonaws.com.cn; else echo amazonaws.com; fi; }

[[ -f "$zip" ]] || die 2 "$zip not found: build it first (infra/build.sh, or task build)"
poll="${SYNCSCOPE_DEPLOY_POLL:-5}"
timeout="${SYNCSCOPE_DEPLOY_TIMEOUT:-3600}"

# 1. The template.
out="build/deploy"
flags=()
$docs_bucket && flags=(--create-docs-bucket)
# A literal webhook URL in the config never goes into the template (which anyone who
# may describe the stack can read): synth names the stack's SecureString instead and
# writes the put-parameter input to a private temporary file, stored before executing.
webhook_input="$(mktemp)"
trap 'rm -f "$webhook_input"' EXIT
summary="$("${syncscope[@]}" synth --config "$config" --out "$out" --json --webhook-input "$webhook_input" "${flags[@]}")" \
  || die 1 "synth failed for $config"
stack="$(json_field "$summary" stack_name)"
template="$(json_field "$summary" template)"
bytes="$(json_field "$summary" bytes)"
on_delete="$(json_field "$summary" on_delete)"
webhook_parameter="$(json_field "$summary" webhook_parameter)"
# Stores the config's literal webhook URL in the stack's SecureString (created or
# updated; the value goes through a file, never an argument, and is never printed).
store_webhook() {
  [[ -n "$webhook_parameter" ]] || return 0
  "${aws[@]}" ssm put-parameter --cli-input-json "file://$webhook_input" >/dev/null \
    || die 1 "cannot store the Teams webhook URL in the SSM SecureString $webhook_parameter"
  echo "webhook:  the config's literal URL is kept in the SSM SecureString $webhook_parameter (the template names only that)"
}

# 2. The code, content-addressed.
zip_sha="$(sha256 "$zip")"
code_key="syncscope/$zip_sha.zip"
if "${aws[@]}" s3api head-object --bucket "$bucket" --key "$code_key" >/dev/null 2>&1; then
  echo "code:     s3://$bucket/$code_key (already uploaded)"
else
  "${aws[@]}" s3api put-object --bucket "$bucket" --key "$code_key" --body "$zip" >/dev/null \
    || die 1 "cannot upload $zip to s3://$bucket/$code_key"
  echo "code:     s3://$bucket/$code_key (uploaded, $(wc -c <"$zip" | tr -d ' ') bytes)"
fi

# 3. The template: inline up to 51,200 bytes, else through the bucket.
template_args=(--template-body "file://$root/$template")
if (( bytes > 51200 )); then
  template_key="syncscope/templates/$stack-$(sha256 "$template").json"
  "${aws[@]}" s3api put-object --bucket "$bucket" --key "$template_key" --body "$template" \
    --content-type application/json >/dev/null \
    || die 1 "cannot upload the template to s3://$bucket/$template_key"
  template_args=(--template-url "https://$bucket.s3.$region.$(s3_domain)/$template_key")
  echo "template: $template ($bytes bytes, over 51,200: via s3://$bucket/$template_key)"
else
  echo "template: $template ($bytes bytes, inline)"
fi

# 4. The change set.
status="$(stack_status "$stack")"
case "$status" in
  NONE) type=CREATE ;;
  REVIEW_IN_PROGRESS)
    # A CREATE change set that was never executed (a cancelled or interrupted deploy):
    # the stack has no resources. Delete it (with its change sets) and start afresh.
    echo "stack:    $stack is REVIEW_IN_PROGRESS (a change set that was never executed, no resources): deleting it first"
    "${aws[@]}" cloudformation delete-stack --stack-name "$stack"
    waited=0
    while [[ "$(stack_status "$stack")" != NONE ]]; do
      (( waited < 600 )) || die 1 "stack $stack was not deleted within 600 s"
      sleep "$poll"; waited=$((waited + poll))
    done
    status=NONE type=CREATE ;;
  ROLLBACK_COMPLETE)
    die 1 "stack $stack is ROLLBACK_COMPLETE (its first create failed) and cannot be updated: delete it (infra/destroy.sh --config $config), then deploy again" ;;
  *_IN_PROGRESS)
    die 1 "stack $stack is $status: another operation is running; wait for it, then deploy again" ;;
  *_FAILED)
    die 1 "stack $stack is $status: fix it in the CloudFormation console (see its events) before deploying" ;;
  *) type=UPDATE ;;
esac
echo "stack:    $stack ($( [[ $status == NONE ]] && echo "new" || echo "$status"); $type change set; OnDelete $on_delete)"

# The time and this process: unique even when two deploys start in the same second
# (two tests' deploys in the same second, same name, were mixed up by moto).
change_set="syncscope-$(date -u +%Y%m%d-%H%M%S)-$$"
err="$(mktemp)"
trap 'rm -f "$err" "$err.id" "$webhook_input"' EXIT
if ! "${aws[@]}" cloudformation create-change-set --stack-name "$stack" \
    --change-set-name "$change_set" --change-set-type "$type" \
    "${template_args[@]}" --capabilities CAPABILITY_IAM \
    --parameters "ParameterKey=CodeBucket,ParameterValue=$bucket" "ParameterKey=CodeKey,ParameterValue=$code_key" \
    --description "syncscope deploy of $(basename "$config"), code $zip_sha" \
    --output text --query StackId >"$err.id" 2>"$err"; then
  if grep -q "No updates are to be performed\|didn't contain changes" "$err"; then
    echo "Nothing to deploy: stack $stack is up to date."
    exit 0
  fi
  cat "$err" >&2
  die 1 "cannot create a change set for $stack"
fi

# From here on the stack is addressed by its id (a name can also match deleted stacks).
stack_id="$(tr -d '[:space:]' <"$err.id")"
[[ -n "$stack_id" && "$stack_id" != None ]] || stack_id="$stack"

# 5. Wait for it.
while :; do
  read -r cs_status cs_reason < <("${aws[@]}" cloudformation describe-change-set \
    --stack-name "$stack_id" --change-set-name "$change_set" \
    --query '[Status, StatusReason]' --output text)
  case "$cs_status" in
    CREATE_COMPLETE) break ;;
    FAILED)
      "${aws[@]}" cloudformation delete-change-set --stack-name "$stack_id" --change-set-name "$change_set" >/dev/null 2>&1 || true
      if [[ "$cs_reason" == *"didn't contain changes"* || "$cs_reason" == *"No updates are to be performed"* ]]; then
        echo "Nothing to deploy: stack $stack is up to date (the empty change set was deleted)."
        exit 0
      fi
      die 1 "change set failed: $cs_reason" ;;
    *) sleep "$poll" ;;
  esac
done

# 6. Show it.
echo
echo "Change set $change_set:"
printf '  %-8s %-30s %-30s %s\n' ACTION "LOGICAL ID" TYPE REPLACEMENT
"${aws[@]}" cloudformation describe-change-set --stack-name "$stack_id" --change-set-name "$change_set" \
  --query 'Changes[].ResourceChange.[Action, LogicalResourceId, ResourceType, Replacement]' --output text \
  | while IFS=$'\t' read -r action id rtype replacement; do
      [[ -z "$replacement" || "$replacement" == None ]] && replacement="-"
      printf '  %-8s %-30s %-30s %s\n' "$action" "$id" "$rtype" "$replacement"
    done
echo

if ! $execute; then
  store_webhook
  echo "Not executed (--no-execute). Review it in the CloudFormation console, then run:"
  echo "  aws cloudformation execute-change-set --stack-name $stack --change-set-name $change_set"
  exit 0
fi

# 7. Confirm.
discard() {
  "${aws[@]}" cloudformation delete-change-set --stack-name "$stack_id" --change-set-name "$change_set" >/dev/null 2>&1 || true
}
if ! $yes; then
  if ! { exec 3</dev/tty; } 2>/dev/null; then
    discard
    die 1 "no terminal to confirm on: pass --yes to deploy without asking (the change set was deleted)"
  fi
  printf 'Execute change set %s on %s? [y/N] ' "$change_set" "$stack" >/dev/tty
  answer=""
  read -r answer <&3 || true
  exec 3<&-
  if [[ ! "$answer" =~ ^[Yy]([Ee][Ss])?$ ]]; then
    discard
    die 1 "not deployed (the change set was deleted)"
  fi
fi

# 8. Execute and wait.
store_webhook
token="syncscope-$zip_sha"
token="${token:0:60}-$(date -u +%s)"
"${aws[@]}" cloudformation execute-change-set --stack-name "$stack_id" --change-set-name "$change_set" \
  --client-request-token "$token" >/dev/null
echo "Executing $change_set ..."
wait_for_stack "$stack" "$stack_id" "$token" "CREATE_COMPLETE|UPDATE_COMPLETE"

# 9. Outputs.
echo
echo "Stack $stack: $status. Outputs:"
outputs="$("${aws[@]}" cloudformation describe-stacks --stack-name "$stack_id" \
  --query 'Stacks[0].Outputs[].[OutputKey, OutputValue]' --output text)"
if [[ -z "$outputs" || "$outputs" == None ]]; then
  echo "  (none reported)"
else
  while IFS=$'\t' read -r key value; do
    printf '  %-20s %s\n' "$key" "$value"
  done <<<"$outputs"
fi
