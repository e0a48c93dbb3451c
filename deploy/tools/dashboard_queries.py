#!/usr/bin/env python3
"""Print every PromQL query of the Grafana dashboards as JSON, ready to run against Prometheus.

Grafana variables are replaced so that each query is plain PromQL:

  $tenant, ${tenant}, [[tenant]]     -> the tenant id given with --tenant
  $job, $instance                    -> --job and --instance (regexes; default .*)
  $cloud                             -> the admin centre host (only in links)
  $__rate_interval, $__interval, ... -> fixed durations (see SUBSTITUTIONS)
  $datasource                        -> only appears in datasource references, which are dropped

Template-variable queries are included too (kind "variable"): the PromQL inside
query_result(...) or the metric of label_values(metric, label).

Each entry: dashboard uid, panel id and title, refId, kind ("panel" or "variable"),
instant (true for instant queries), and expr. Exit code 1 if a query still contains an
unknown variable after substitution, so an end-to-end test cannot silently skip one.

With --as-rules the queries are printed as a Prometheus rule file instead (one recording rule
per query; JSON is YAML), so `promtool check rules` can check that every query parses.

Usage: dashboard_queries.py --tenant TENANT_ID [--as-rules] [DASHBOARD.json ...]
       (default: every dashboards/*.json next to deploy/)
Standard library only.
"""
import argparse
import glob
import json
import os
import re
import sys

# Fixed values for Grafana's global variables. 5m is at least 4 scrapes at the default
# 15s-1m scrape intervals, which is what $__rate_interval guarantees in Grafana.
SUBSTITUTIONS = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__interval_ms": "60000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}

VAR = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]|\$(\w+)")


def substitute(expr, values):
    unknown = []

    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in values:
            return values[name]
        unknown.append(name)
        return m.group(0)

    return VAR.sub(repl, expr), unknown


def panels(items):
    for p in items:
        yield p
        # Collapsed rows keep their panels inside the row.
        yield from panels(p.get("panels", []))


def variable_expr(query):
    if isinstance(query, dict):
        query = query.get("query", "")
    query = query.strip()
    m = re.fullmatch(r"query_result\((.*)\)", query, re.S)
    if m:
        return m.group(1)
    m = re.fullmatch(r"label_values\((.*?)(?:,\s*\w+)?\)", query, re.S)
    if m:
        return m.group(1)
    return None


def queries(path, values):
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    uid = dash.get("uid")
    for var in dash.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        expr = variable_expr(var.get("query", ""))
        if expr is None:
            continue
        yield {"dashboard": uid, "kind": "variable", "panel_id": None, "panel_title": "$" + var["name"],
               "ref_id": None, "instant": True, "expr": expr}
    for p in panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            if "expr" not in t or t.get("hide"):
                continue
            yield {"dashboard": uid, "kind": "panel", "panel_id": p.get("id"), "panel_title": p.get("title"),
                   "ref_id": t.get("refId"), "instant": bool(t.get("instant")) and not t.get("range"),
                   "expr": t["expr"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenant", required=True, help="tenant id to put in place of $tenant")
    ap.add_argument("--job", default=".*", help="regex to put in place of $job")
    ap.add_argument("--instance", default=".*", help="regex to put in place of $instance")
    ap.add_argument("--rate-interval", default=SUBSTITUTIONS["__rate_interval"])
    ap.add_argument("--as-rules", action="store_true", help="print a rule file for promtool check rules")
    ap.add_argument("dashboards", nargs="*")
    args = ap.parse_args()
    paths = args.dashboards or sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "dashboards", "*.json")))
    if not paths:
        sys.exit("no dashboards found")
    values = dict(SUBSTITUTIONS, tenant=args.tenant, job=args.job, instance=args.instance, __rate_interval=args.rate_interval)
    out, bad = [], []
    for path in paths:
        for q in queries(path, values):
            q["expr"], unknown = substitute(q["expr"], values)
            if unknown:
                bad.append(f"{path}: panel {q['panel_title']!r} {q['ref_id']}: unknown variable(s) {sorted(set(unknown))}")
            out.append(q)
    if args.as_rules:
        rules = [{"record": f"dashboard_query:{q['dashboard'].replace('-', '_')}:{i}", "expr": q["expr"]} for i, q in enumerate(out)]
        out = {"groups": [{"name": "dashboard-queries", "rules": rules}]}
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    for b in bad:
        print(b, file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
