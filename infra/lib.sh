# Shared by deploy.sh and destroy.sh (sourced, after `cd` to the repository root):
# die, the tools (aws CLI, python, syncscope), the region, and stack helpers.
# shellcheck shell=bash

die() { local code="$1"; shift; echo "error: $*" >&2; exit "$code"; }

# Tools: the aws CLI, python (to read synth's JSON summary), syncscope.
if [[ -n "${AWS:-}" ]]; then aws_bin="$AWS"
elif [[ -x .venv/bin/aws ]]; then aws_bin=.venv/bin/aws
else aws_bin=aws; fi
command -v "$aws_bin" >/dev/null 2>&1 || die 2 "the aws CLI was not found: run infra/setup-tools.sh (or task setup:deploy)"
if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
if [[ -n "${SYNCSCOPE:-}" ]]; then
  read -r -a syncscope <<<"$SYNCSCOPE"
else
  syncscope=(cargo run -q -p syncscope-cli --bin syncscope --)
fi
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-$("$aws_bin" configure get region 2>/dev/null || true)}}"
[[ -n "$region" ]] || die 2 "no region: set AWS_REGION (or configure one for the aws CLI)"
aws=("$aws_bin" --region "$region")

json_field() { "$python" -c 'import json, sys; v = json.loads(sys.argv[1])[sys.argv[2]]; print("" if v is None else v)' "$1" "$2"; }
# The stack's status, or NONE when there is no such stack.
stack_status() {
  local out
  if out="$("${aws[@]}" cloudformation describe-stacks --stack-name "$1"       --query 'Stacks[0].StackStatus' --output text 2>&1)"; then
    echo "$out"
  elif [[ "$out" == *"does not exist"* ]]; then
    echo NONE
  else
    echo "$out" >&2
    die 1 "cannot read the status of stack $1"
  fi
}
# The failed events of the operation started with client request token $2 (else the
# latest failed events).
failed_events() {
  local query='[Timestamp, LogicalResourceId, ResourceType, ResourceStatus, ResourceStatusReason]'
  local events
  events="$("${aws[@]}" cloudformation describe-stack-events --stack-name "$1"     --query "StackEvents[?ClientRequestToken=='$2' && ends_with(ResourceStatus, 'FAILED')].$query"     --output text 2>/dev/null || true)"
  if [[ -z "$events" ]]; then
    events="$("${aws[@]}" cloudformation describe-stack-events --stack-name "$1"       --query "StackEvents[?ends_with(ResourceStatus, 'FAILED')] | [:20].$query" --output text 2>/dev/null || true)"
  fi
  if [[ -z "$events" ]]; then
    echo "  (no failed events reported; see the stack's events in the console)"
  else
    while IFS=$'\t' read -r ts id rtype rstatus reason; do
      printf '  %s %-28s %-26s %-22s %s\n' "$ts" "$id" "$rtype" "$rstatus" "$reason"
    done <<<"$events"
  fi
}

# Waits until stack $2 (called $1 in messages) reaches one of the statuses in $4 (a
# list separated by |), printing each new status. A status that is neither that nor
# *_IN_PROGRESS ends the script with the failed events of the operation started with
# client request token $3; so does waiting longer than $timeout s. Sets $status.
# By id, a deleted stack still answers (DELETE_COMPLETE); by name it is gone (NONE).
wait_for_stack() {
  local name="$1" id="$2" token="$3" done="$4" last="" started
  started="$(date +%s)"
  while :; do
    status="$(stack_status "$id")"
    if [[ "$status" != "$last" ]]; then
      echo "  $(date -u +%H:%M:%S) $status"
      last="$status"
    fi
    [[ "|$done|" == *"|$status|"* ]] && return 0
    case "$status" in
      *_IN_PROGRESS)
        if (( $(date +%s) - started > timeout )); then
          die 1 "stack $name is still $status after $timeout s; follow it in the CloudFormation console"
        fi
        sleep "$poll" ;;
      *)
        echo "error: stack $name ended $status; the events that failed:" >&2
        failed_events "$id" "$token" >&2
        exit 1 ;;
    esac
  done
}
