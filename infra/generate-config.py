#!/usr/bin/env python3
"""Writes a large, valid syncscope config for linting and benchmarks.

usage: generate-config.py GROUPS [OUT] [--description-chars N]
       generate-config.py --filters N [OUT] [--description-chars N]
  GROUPS                 group filters; user filters are added, one per 20 groups
  --filters N            N filters in all (groups and users, one user per 20 groups)
  --description-chars N  descriptions of N characters drawn from a small vocabulary,
                         as people write them (default: a short generated sentence)
  OUT                    the file to write (default: stdout)

The config uses every optional part of the template: user filters, a drift schedule,
an Identity Center region and identity store id, and a Secrets Manager webhook.
Names and descriptions are deterministic, so the output is the same on every run.
"""
import json
import random
import sys

WORDS = (
    "access account admin audit billing cloud cost data deploy dev finance infra "
    "network ops platform prod read security support team write"
).split()


def describe(rng: random.Random, chars: int, fallback: str) -> str:
    if chars <= 0:
        return fallback
    text = ""
    while len(text) < chars:
        text += rng.choice(WORDS) + " "
    text = text[:chars]
    return text[:-1] + "s" if text.endswith(" ") else text


def main() -> None:
    args = sys.argv[1:]
    chars = 0
    if "--description-chars" in args:
        at = args.index("--description-chars")
        if at + 1 >= len(args) or not args[at + 1].isdigit():
            sys.exit(__doc__)
        chars = int(args[at + 1])
        del args[at : at + 2]
    if args[:1] == ["--filters"]:
        if len(args) < 2 or not args[1].isdigit():
            sys.exit(__doc__)
        total = int(args[1])
        groups = total * 20 // 21
        while groups + max(1, groups // 20) < total:
            groups += 1
        users = total - groups
        args = args[2:]
    elif args and args[0].isdigit():
        groups = int(args[0])
        users = max(1, groups // 20)
        args = args[1:]
    else:
        sys.exit(__doc__)
    rng = random.Random(1)
    config = {
        "$schema": "../../config/schema.json",
        "general": {
            "produkt": "SSO-AD-GroupSync",
            "stage": f"LOAD{groups}",
            "prefix": "COMPANY",
            "s3_DOKUBUCKET": "company-sso-docs",
            "WebhookUrlTeams": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:company/sso/teams-webhook",
            "DocuWebsite": "https://wiki.example.com/aws/sso-groups",
            "Region": "eu-central-1",
            "DriftSchedule": "rate(6 hours)",
        },
        "SSO": {
            "ad_DomainName": "corp.example.com",
            "IdentityStoreId": "d-0123456789",
            "GroupFilters": [
                {
                    "Name": f"AWS-Team-{i:05d}-Access",
                    "Description": describe(
                        rng,
                        chars,
                        f"Team {i}: permission sets in the accounts the team owns (generated)",
                    ),
                }
                for i in range(groups)
            ],
            "UserFilters": [
                {
                    "Name": f"svc-aws-{i:05d}",
                    "Description": describe(rng, chars, f"Service account {i} (generated)"),
                }
                for i in range(users)
            ],
        },
    }
    text = json.dumps(config, indent=2) + "\n"
    if args:
        with open(args[0], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
