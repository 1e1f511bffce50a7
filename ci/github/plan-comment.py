#!/usr/bin/env python3
"""Posts the live `syncscope plan --format markdown` as one pull-request comment.

The workflow (ci/github/workflows/syncscope.yml) runs it on every push to a pull
request that touches the config. It runs the plan, writes the comment (a hidden marker,
then the plan; or, when the plan could not run at all, an error block with what it
printed on stderr), finds the comment that carries the marker among the pull request's
comments (every page) and updates it, or creates it the first time: one comment per
stack, whatever the number of pushes.

Python 3 standard library only, so it runs on any runner.

usage: plan-comment.py --config FILE [--syncscope BIN] [--repo OWNER/NAME] [--pr N]
                       [--api-url URL]
env:   GITHUB_TOKEN       the token (required; never printed: every message and every
                          body posted has it replaced by ***)
       GITHUB_REPOSITORY  the repository, when --repo is not given
       PR_NUMBER          the pull request, when --pr is not given (else the event's
                          pull_request.number from GITHUB_EVENT_PATH)
       GITHUB_API_URL     the REST API (default https://api.github.com); the script
                          follows pagination links only on this API's origin
       SYNCSCOPE          the syncscope binary, when --syncscope is not given
                          (default: syncscope on PATH)
       GITHUB_STEP_SUMMARY  when set, the comment is also appended to the job summary
exit:  the plan's exit code: 0 within the guards, 1 when the plan breaks a guard or
       could not run (the comment says which); 2 wrong usage; 3 the GitHub API failed
       (the message names the request and the status; the plan is printed all the same).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# GitHub refuses comment bodies over 65,536 characters; the plan caps itself at
# 65,000, which leaves room for the marker and the footer.
MAX_BODY = 65_536
EXIT_USAGE = 2
EXIT_API = 3
TIMEOUT_SECONDS = 30
RETRIES = 2
RETRY_STATUSES = {500, 502, 503, 504}
PLAN_HEADER = "### syncscope plan"


class ApiError(Exception):
    """A GitHub API request that failed; the message is already redacted."""


class Redactor:
    """Replaces the token (and nothing else) in any text that leaves the script."""

    def __init__(self, token):
        self.token = token

    def __call__(self, text):
        text = str(text)
        if self.token:
            text = text.replace(self.token, "***")
        return text


def marker_of(stack):
    """The hidden HTML comment that finds this stack's comment again."""
    safe = re.sub(r"[^A-Za-z0-9_.:/@+-]", "_", stack)
    return f"<!-- syncscope-plan:{safe} -->"


def stack_of(syncscope, config, env):
    """The config's stack name (from `syncscope validate --json`), else the config path."""
    try:
        out = subprocess.run(
            [syncscope, "validate", "--config", config, "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        name = json.loads(out.stdout).get("summary", {}).get("stack_name")
        if name:
            return name
    except (OSError, ValueError, AttributeError):
        pass
    return config


def run_plan(syncscope, config, env):
    """(exit code, stdout, stderr) of the live markdown plan."""
    try:
        out = subprocess.run(
            [syncscope, "plan", "--config", config, "--format", "markdown"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except OSError as e:
        return 1, "", f"cannot run {syncscope}: {e}"
    return out.returncode, out.stdout, out.stderr


def fence_for(text):
    """A backtick fence longer than any run of backticks in `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def comment_body(marker, config, code, stdout, stderr, footer):
    """The comment: the marker, then the plan or the error block, then the footer."""
    planned = stdout.lstrip().startswith(PLAN_HEADER)
    if planned:
        main = stdout.rstrip()
    else:
        detail = (stderr.strip() or stdout.strip() or "(nothing printed)")[-8000:]
        fence = fence_for(detail)
        main = (
            "### syncscope plan could not run\n\n"
            f"`syncscope plan --config {config}` exited with {code} before it could plan "
            "(credentials, the plan role, or the config). What it printed:\n\n"
            f"{fence}text\n{detail}\n{fence}"
        )
    body = f"{marker}\n{main}\n\n{footer}\n"
    if len(body) > MAX_BODY:
        cut = "\n\n… (cut: the comment would exceed GitHub's 65,536 characters)\n"
        keep = MAX_BODY - len(marker) - len(footer) - len(cut) - 8
        body = f"{marker}\n{main[:keep]}{cut}\n{footer}\n"
    return body, planned


class GitHub:
    """The few REST calls the script needs, on one API origin, with the token."""

    def __init__(self, api_url, token, redact):
        self.api_url = api_url.rstrip("/")
        self.origin = urllib.parse.urlsplit(self.api_url)[:2]
        self.token = token
        self.redact = redact

    def request(self, method, url, payload=None):
        """(status, headers, parsed JSON) of one request; raises ApiError."""
        parts = urllib.parse.urlsplit(url)
        if parts[:2] != self.origin:
            # The token goes to the configured API only, never to a host a response names.
            raise ApiError(
                f"{method} refused: {parts.scheme}://{parts.netloc} is not the API at "
                f"{self.api_url} (a pagination link may only stay on it)"
            )
        where = parts.path
        data = None if payload is None else json.dumps(payload).encode()
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "syncscope-plan-comment",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(RETRIES + 1):
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:
                    text = resp.read().decode("utf-8", "replace")
                    return resp.status, resp.headers, json.loads(text) if text else None
            except urllib.error.HTTPError as e:
                status = e.code
                text = e.read().decode("utf-8", "replace")
                e.close()
                if status in RETRY_STATUSES and attempt < RETRIES:
                    time.sleep(1 + attempt)
                    continue
                raise ApiError(
                    f"{method} {where} answered {status}: {self.redact(api_message(text))}"
                ) from None
            except (urllib.error.URLError, OSError, ValueError) as e:
                if attempt < RETRIES:
                    time.sleep(1 + attempt)
                    continue
                reason = getattr(e, "reason", e)
                raise ApiError(
                    f"{method} {where} failed: {self.redact(reason)} "
                    f"(is {self.api_url} reachable?)"
                ) from None
        raise ApiError(f"{method} {where} failed")  # not reached

    def comments(self, repo, pr):
        """Every issue comment of the pull request, following `Link: rel="next"`."""
        url = f"{self.api_url}/repos/{repo}/issues/{pr}/comments?per_page=100"
        pages = 0
        while url:
            pages += 1
            if pages > 1000:
                raise ApiError("more than 1000 pages of comments: stopped")
            _, headers, page = self.request("GET", url)
            if not isinstance(page, list):
                raise ApiError(f"GET {urllib.parse.urlsplit(url).path} did not answer a list")
            yield from page
            url = next_link(headers.get("Link", ""))

    def create(self, repo, pr, body):
        """Creates the comment; returns it as GitHub answered it."""
        _, _, made = self.request(
            "POST", f"{self.api_url}/repos/{repo}/issues/{pr}/comments", {"body": body}
        )
        return made if isinstance(made, dict) else None

    def update(self, repo, comment_id, body):
        """Replaces the body of comment `comment_id`."""
        self.request(
            "PATCH", f"{self.api_url}/repos/{repo}/issues/comments/{comment_id}", {"body": body}
        )


def next_link(link):
    """The URL of `rel="next"` in a Link header, or None."""
    for part in link.split(","):
        m = re.match(r'\s*<([^>]*)>\s*;(.*)', part)
        if m and re.search(r'rel="?next"?', m.group(2)):
            return m.group(1)
    return None


def api_message(text):
    """GitHub's `message` (and its errors) from an error body, else the body, short."""
    try:
        doc = json.loads(text)
        message = doc.get("message", "")
        errors = doc.get("errors")
        if errors:
            message += f" ({json.dumps(errors)[:300]})"
        if message:
            return message[:500]
    except (ValueError, AttributeError):
        pass
    return text.strip()[:500] or "(no body)"


def event_pr():
    """The pull request number of the workflow's event, if any."""
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("pull_request", {}).get("number")
    except (OSError, ValueError, AttributeError):
        return None


def main(argv, redact):
    parser = argparse.ArgumentParser(description="Post the live syncscope plan as one PR comment.")
    parser.add_argument("--config", required=True, help="the syncscope config file")
    parser.add_argument("--syncscope", default=os.environ.get("SYNCSCOPE", "syncscope"))
    parser.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"))
    parser.add_argument("--pr", default=os.environ.get("PR_NUMBER") or event_pr())
    parser.add_argument(
        "--api-url", default=os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    )
    args = parser.parse_args(argv)
    missing = [
        name
        for name, value in [
            ("GITHUB_TOKEN", redact.token),
            ("--repo or GITHUB_REPOSITORY", args.repo),
            ("--pr or PR_NUMBER", args.pr),
        ]
        if not value
    ]
    if missing:
        print(f"error: missing {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if not str(args.pr).isdigit():
        print(f"error: the pull request number is not a number: {args.pr}", file=sys.stderr)
        return EXIT_USAGE

    # syncscope needs AWS credentials, never the GitHub token.
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_TOKEN"}
    stack = stack_of(args.syncscope, args.config, env)
    code, stdout, stderr = run_plan(args.syncscope, args.config, env)
    # The plan's own messages (what it read, warnings) go to the log, redacted.
    if stderr:
        sys.stderr.write(redact(stderr))
    sha = os.environ.get("PR_HEAD_SHA") or os.environ.get("GITHUB_SHA", "")
    footer = (
        f"<sub>`syncscope plan --config {args.config}`"
        + (f" at {sha[:12]}" if sha else "")
        + ", live and read-only; this comment is updated on every push.</sub>"
    )
    body, planned = comment_body(marker_of(stack), args.config, code, stdout, stderr, footer)
    body = redact(body)
    sys.stdout.write(body)
    sys.stdout.flush()
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as f:
                f.write(body + "\n")
        except OSError as e:
            print(f"warning: cannot write the job summary: {redact(e)}", file=sys.stderr)

    github = GitHub(args.api_url, redact.token, redact)
    marker = marker_of(stack)
    try:
        found = next(
            (
                c
                for c in github.comments(args.repo, args.pr)
                if isinstance(c, dict) and str(c.get("body", "")).startswith(marker)
            ),
            None,
        )
        if found is None:
            made = github.create(args.repo, args.pr, body) or {}
            print(f"created comment {made.get('id')} on #{args.pr}", file=sys.stderr)
        else:
            github.update(args.repo, found["id"], body)
            print(f"updated comment {found['id']} on #{args.pr}", file=sys.stderr)
    except ApiError as e:
        print(f"error: GitHub API: {e}; the plan comment was not posted", file=sys.stderr)
        return EXIT_API

    if planned and code == 0:
        print("the plan is within the guards", file=sys.stderr)
    elif planned:
        print(f"error: the plan breaks a guard (syncscope plan exited {code})", file=sys.stderr)
    else:
        print(f"error: syncscope plan could not run (exit {code})", file=sys.stderr)
    return code if code != 0 or planned else 1


if __name__ == "__main__":
    redactor = Redactor(os.environ.get("GITHUB_TOKEN", ""))
    try:
        sys.exit(main(sys.argv[1:], redactor))
    except SystemExit:
        raise
    except BaseException as e:  # never a traceback: it could carry the token
        print(f"error: {type(e).__name__}: {redactor(e)}", file=sys.stderr)
        sys.exit(EXIT_API if isinstance(e, ApiError) else 1)
