#!/usr/bin/env python3
"""Check that the PrometheusRule in a rendered manifest stream carries exactly the rule files.

Reads `kubectl kustomize deploy/kubernetes` output on stdin, finds the PrometheusRule, and
compares its spec.groups with the groups of the given rule files (parsed, so formatting does
not matter). With --write-rules FILE it also writes spec as a plain rule file, for
`promtool check rules`. Needs PyYAML (exit 3 when it is missing, so callers can skip).

Usage: kubectl kustomize deploy/kubernetes | prometheusrule_check.py [--write-rules FILE] RULE_FILE...
"""
import argparse
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    print("PyYAML is not installed", file=sys.stderr)
    sys.exit(3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-rules")
    ap.add_argument("rule_files", nargs="+")
    args = ap.parse_args()
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    rules = [d for d in docs if d.get("kind") == "PrometheusRule"]
    if len(rules) != 1:
        print(f"expected one PrometheusRule, found {len(rules)}", file=sys.stderr)
        return 1
    got = rules[0]["spec"]["groups"]
    want = []
    for path in args.rule_files:
        with open(path, encoding="utf-8") as f:
            want.extend(yaml.safe_load(f)["groups"])
    if args.write_rules:
        with open(args.write_rules, "w", encoding="utf-8") as f:
            yaml.safe_dump({"groups": got}, f, sort_keys=False)
    if got != want:
        print("the PrometheusRule's groups differ from " + ", ".join(args.rule_files), file=sys.stderr)
        return 1
    n = sum(len(g["rules"]) for g in got)
    print(f"PrometheusRule {rules[0]['metadata']['name']}: {len(got)} groups, {n} rules, identical to the rule files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
