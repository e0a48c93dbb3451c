#!/usr/bin/env python3
"""Run every dashboard query against a Prometheus and assert that each returns data.

Uses dashboard_queries.py for the substituted PromQL, evaluates each as an instant query at
the current time through the HTTP API, and fails on an error or an empty result. With
--expect-alert NAME (repeatable) it also asserts that each named alert is pending or firing,
and with --expect-text TEXT that some active alert's description contains TEXT (a check that
the annotation templates, including their `query` lookups, render).

Usage: query_check.py --prometheus http://127.0.0.1:9090 --tenant TENANT_ID
                      [--expect-alert NAME ...] [--expect-text TEXT ...] [DASHBOARD.json ...]
Standard library only.
"""
import argparse
import glob
import json
import os
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboard_queries import SUBSTITUTIONS, queries, substitute  # noqa: E402


def api(base, path, **params):
    url = f"{base.rstrip('/')}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{path}: {body}")
    return body["data"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--job", default=".*", help="regex for $job")
    ap.add_argument("--instance", default=".*", help="regex for $instance")
    ap.add_argument("--expect-alert", action="append", default=[])
    ap.add_argument("--expect-text", action="append", default=[])
    ap.add_argument("dashboards", nargs="*")
    a = ap.parse_args()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    paths = a.dashboards or sorted(glob.glob(os.path.join(root, "dashboards", "*.json")))
    values = dict(SUBSTITUTIONS, tenant=a.tenant, job=a.job, instance=a.instance)
    failed = passed = 0
    for path in paths:
        for q in queries(path, values):
            expr, unknown = substitute(q["expr"], values)
            where = f"{q['dashboard']} / {q['panel_title']} {q['ref_id'] or ''}".rstrip()
            try:
                if unknown:
                    raise RuntimeError(f"unknown variables {unknown}")
                data = api(a.prometheus, "query", query=expr)
                if not data["result"] and data["resultType"] in ("vector", "matrix"):
                    raise RuntimeError("no data")
                print(f"ok    {where}: {len(data['result']) if isinstance(data['result'], list) else 1} series")
                passed += 1
            except Exception as e:  # report every query, then fail
                print(f"FAIL  {where}: {e}\n      {expr}")
                failed += 1
    if a.expect_alert or a.expect_text:
        alerts = api(a.prometheus, "alerts")["alerts"]
        names = {x["labels"]["alertname"] for x in alerts}
        for n in a.expect_alert:
            if n in names:
                print(f"ok    alert {n} is active")
                passed += 1
            else:
                print(f"FAIL  alert {n} is not active (active: {sorted(names)})")
                failed += 1
        descriptions = [x["annotations"].get("description", "") for x in alerts]
        for t in a.expect_text:
            if any(t in d for d in descriptions):
                print(f"ok    an alert description contains {t!r}")
                passed += 1
            else:
                print(f"FAIL  no alert description contains {t!r}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
