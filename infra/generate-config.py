#!/usr/bin/env python3
"""Writes a large, valid syncscope config for linting and benchmarks.

usage: generate-config.py GROUPS [OUT]   (OUT default: stdout)

The config uses every optional part of the template: user filters, a drift schedule,
an Identity Center region and identity store id, and a Secrets Manager webhook.
Names and descriptions are deterministic, so the output is the same on every run.
"""
import json
import sys


def main() -> None:
    if len(sys.argv) < 2 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    groups = int(sys.argv[1])
    users = max(1, groups // 20)
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
                    "Description": f"Team {i}: permission sets in the accounts the team owns (generated)",
                }
                for i in range(groups)
            ],
            "UserFilters": [
                {"Name": f"svc-aws-{i:05d}", "Description": f"Service account {i} (generated)"}
                for i in range(users)
            ],
        },
    }
    text = json.dumps(config, indent=2) + "\n"
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
