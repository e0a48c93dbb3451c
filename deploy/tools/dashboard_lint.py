#!/usr/bin/env python3
"""Lint the Grafana dashboards against the conventions of this repository.

Each dashboard must: be classic JSON with a stable uid from EXPECTED_UIDS, schemaVersion 39,
a `datasource` variable of type datasource and a `tenant` query variable; every panel and
target must use the `${datasource}` variable rather than a fixed datasource; panel ids must be
unique; every non-row panel needs a title and at least one PromQL target.
Exit code 1 on any finding. Standard library only.

Usage: dashboard_lint.py [DASHBOARD.json ...]   (default: dashboards/*.json)
"""
import glob
import json
import os
import sys

EXPECTED_UIDS = {"intune-tenant-status", "intune-fleet", "intune-exporter"}
DS = {"type": "prometheus", "uid": "${datasource}"}


def lint(path):
    errs = []
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    if d.get("uid") not in EXPECTED_UIDS:
        errs.append(f"uid {d.get('uid')!r} is not one of {sorted(EXPECTED_UIDS)}")
    if d.get("schemaVersion") != 39:
        errs.append(f"schemaVersion {d.get('schemaVersion')} (want 39)")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    if variables.get("datasource", {}).get("type") != "datasource":
        errs.append("no `datasource` variable of type datasource")
    tenant = variables.get("tenant", {})
    if tenant.get("type") != "query" or tenant.get("datasource") != DS:
        errs.append("no `tenant` query variable on ${datasource}")
    ids = set()

    def walk(panels):
        for p in panels:
            yield p
            yield from walk(p.get("panels", []))

    for p in walk(d.get("panels", [])):
        where = f"panel {p.get('id')} {p.get('title')!r}"
        if p.get("id") in ids:
            errs.append(f"{where}: duplicate id")
        ids.add(p.get("id"))
        if p.get("type") == "row":
            continue
        if not p.get("title"):
            errs.append(f"{where}: no title")
        if p.get("datasource") != DS:
            errs.append(f"{where}: datasource is {p.get('datasource')}, want {DS}")
        targets = p.get("targets", [])
        if not targets:
            errs.append(f"{where}: no targets")
        for t in targets:
            if t.get("datasource") != DS:
                errs.append(f"{where} {t.get('refId')}: datasource is {t.get('datasource')}")
            if not t.get("expr", "").strip():
                errs.append(f"{where} {t.get('refId')}: empty expr")
    return d.get("uid"), errs


def main(argv):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    paths = argv[1:] or sorted(glob.glob(os.path.join(root, "dashboards", "*.json")))
    seen, failed = set(), False
    for path in paths:
        uid, errs = lint(path)
        if uid in seen:
            errs.append(f"uid {uid} used twice")
        seen.add(uid)
        for e in errs:
            print(f"{os.path.basename(path)}: {e}")
        failed |= bool(errs)
    if not argv[1:] and seen != EXPECTED_UIDS:
        print(f"dashboards missing: {sorted(EXPECTED_UIDS - seen)}")
        failed = True
    print(f"linted {len(paths)} dashboards: {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
