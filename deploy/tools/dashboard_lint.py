#!/usr/bin/env python3
"""Lint and layout check of the Grafana dashboards.

Each dashboard must: be classic JSON with a stable uid from EXPECTED_UIDS, schemaVersion 39,
a `datasource` variable of type datasource, `job`, `instance` and `tenant` query variables on
${datasource}, `job` and `instance` offering All and starting on it (the exporter's job may
have any name). Every panel and target uses the `${datasource}` variable; every query selects
`job=~"$job"` and `instance=~"$instance"` and names no job of its own; every non-row panel has a title, a description, a
unit (fieldConfig.defaults.unit) and at least one PromQL target; panel ids are unique.

Layout (Grafana moves overlapping panels on load, so a row may not hold what it should):
every gridPos fits the 24-column grid, no two panels overlap, and every panel lies below its
row and above the next row (a collapsed row's panels, kept inside the row, below it).

Exit code 1 on any finding. Standard library only.

Usage: dashboard_lint.py [--any-uid] [DASHBOARD.json ...]   (default: dashboards/*.json)
"""
import glob
import json
import os
import re
import sys

EXPECTED_UIDS = {"intune-tenant-status", "intune-fleet", "intune-exporter"}
DS = {"type": "prometheus", "uid": "${datasource}"}
SELECTORS = ('job=~"$job"', 'instance=~"$instance"')
# A job matcher whose value is not the $job variable.
FIXED_JOB = re.compile(r'\bjob\s*(=|!=|=~|!~)\s*"(?!\$job")')


def overlaps(a, b):
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def layout(panels):
    """Findings about the grid: bounds, overlaps, panels outside their row."""
    errs = []
    placed = []  # (name, gridPos) of everything Grafana shows at load time
    rows = [p for p in panels if p.get("type") == "row"]
    for p in panels:
        g = p.get("gridPos") or {}
        name = f"panel {p.get('id')} {p.get('title')!r}"
        if not all(isinstance(g.get(k), int) for k in "xywh"):
            errs.append(f"{name}: gridPos {g} lacks x, y, w or h")
            continue
        if g["x"] < 0 or g["w"] < 1 or g["x"] + g["w"] > 24 or g["y"] < 0 or g["h"] < 1:
            errs.append(f"{name}: gridPos {g} is outside the 24-column grid")
        placed.append((name, g))
    for i, (na, a) in enumerate(placed):
        for nb, b in placed[i + 1:]:
            if overlaps(a, b):
                errs.append(f"{na} {a} overlaps {nb} {b}")
    # Each top-level panel belongs to the last row above it and must end before the next.
    ordered = sorted(rows, key=lambda r: r["gridPos"]["y"])
    for p in panels:
        if p.get("type") == "row" or "gridPos" not in p:
            continue
        g = p["gridPos"]
        above = [r for r in ordered if r["gridPos"]["y"] < g["y"]]
        below = [r for r in ordered if r["gridPos"]["y"] >= g["y"]]
        if rows and not above:
            errs.append(f"panel {p.get('id')} {p.get('title')!r} at y={g['y']} is above the first row")
        if below and g["y"] + g["h"] > below[0]["gridPos"]["y"]:
            errs.append(f"panel {p.get('id')} {p.get('title')!r} {g} reaches into row {below[0].get('title')!r} at y={below[0]['gridPos']['y']}")
        if above and above[-1].get("collapsed"):
            errs.append(f"panel {p.get('id')} {p.get('title')!r} sits under the collapsed row {above[-1].get('title')!r} instead of inside it")
    for r in rows:
        kids = r.get("panels", [])
        if kids and not r.get("collapsed"):
            errs.append(f"row {r.get('title')!r} is open but keeps panels inside it")
        inner = []
        for k in kids:
            g = k.get("gridPos", {})
            if g.get("y", -1) <= r["gridPos"]["y"]:
                errs.append(f"panel {k.get('id')} {k.get('title')!r} of collapsed row {r.get('title')!r} is not below it")
            inner.append((f"panel {k.get('id')} {k.get('title')!r}", g))
        for i, (na, a) in enumerate(inner):
            for nb, b in inner[i + 1:]:
                if overlaps(a, b):
                    errs.append(f"{na} {a} overlaps {nb} {b} inside row {r.get('title')!r}")
    return errs


def lint(path, any_uid=False):
    errs = []
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    if not any_uid and d.get("uid") not in EXPECTED_UIDS:
        errs.append(f"uid {d.get('uid')!r} is not one of {sorted(EXPECTED_UIDS)}")
    if d.get("schemaVersion") != 39:
        errs.append(f"schemaVersion {d.get('schemaVersion')} (want 39)")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    if variables.get("datasource", {}).get("type") != "datasource":
        errs.append("no `datasource` variable of type datasource")
    for name in ("job", "instance", "tenant"):
        v = variables.get(name, {})
        if v.get("type") != "query" or v.get("datasource") != DS:
            errs.append(f"no `{name}` query variable on ${{datasource}}")
    for name in ("job", "instance"):
        v = variables.get(name, {})
        current = v.get("current", {}).get("value")
        if not v.get("includeAll") or v.get("allValue") != ".*" or current not in ("$__all", ["$__all"]):
            errs.append(f"`{name}` variable does not offer All (.*) and start on it")
    for v in variables.values():
        query = v.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        if FIXED_JOB.search(query):
            errs.append(f"`{v.get('name')}` variable names a job: {query}")
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
        if not p.get("description"):
            errs.append(f"{where}: no description")
        if not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            errs.append(f"{where}: no unit in fieldConfig.defaults")
        if p.get("datasource") != DS:
            errs.append(f"{where}: datasource is {p.get('datasource')}, want {DS}")
        targets = p.get("targets", [])
        if not targets:
            errs.append(f"{where}: no targets")
        for t in targets:
            expr = t.get("expr", "")
            if t.get("datasource") != DS:
                errs.append(f"{where} {t.get('refId')}: datasource is {t.get('datasource')}")
            if not expr.strip():
                errs.append(f"{where} {t.get('refId')}: empty expr")
            for sel in SELECTORS:
                if sel not in expr:
                    errs.append(f"{where} {t.get('refId')}: query does not select {sel}")
            if FIXED_JOB.search(expr):
                errs.append(f"{where} {t.get('refId')}: query names a job instead of $job")
    errs.extend(layout(d.get("panels", [])))
    return d.get("uid"), errs


def main(argv):
    any_uid = "--any-uid" in argv
    args = [a for a in argv[1:] if a != "--any-uid"]
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    paths = args or sorted(glob.glob(os.path.join(root, "dashboards", "*.json")))
    seen, failed = set(), False
    for path in paths:
        uid, errs = lint(path, any_uid)
        if uid in seen:
            errs.append(f"uid {uid} used twice")
        seen.add(uid)
        for e in errs:
            print(f"{os.path.basename(path)}: {e}")
        failed |= bool(errs)
    if not args and seen != EXPECTED_UIDS:
        print(f"dashboards missing: {sorted(EXPECTED_UIDS - seen)}")
        failed = True
    print(f"linted {len(paths)} dashboards: {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
