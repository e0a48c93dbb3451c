#!/usr/bin/env python3
"""Check that the dashboards and rule files only use metrics the exporter exposes.

The exporter's metric catalog is given as a list file: one metric family name per line
(blank lines and lines starting with # are ignored). The checker extracts every metric name
used in

  * the PromQL of every dashboard panel and query variable (dashboards/*.json), and
  * the rule files (deploy/prometheus/*.yml): expressions and the templates in annotations,
    which look series up with `query`;

and compares. Names matched: intune_..., intune:... (recording rules), process_... and up.

  * intune:... names must be recorded by a `record:` rule in the rule files;
  * up is Prometheus' own;
  * every other name must be in the list. Sample names map to their family: a name ending in
    _bucket, _sum, _count, _total, _created or _info also matches the list entry without
    that suffix (OpenMetrics family names drop _total and _info; histograms expose _bucket).

Every intune_... family in the list must be used by a dashboard or a rule: a family nothing
shows is either dead in the exporter or missing from the bundle. Unused process_... families
(the client library's process collector) are reported as information only.
Exit code: 0 when every used name is known and every intune_... family is used, 1 otherwise,
2 on a usage error.

Usage: catalog_check.py METRICS_LIST [FILE ...]
       (default files: dashboards/*.json and deploy/prometheus/*.yml of this repository)
Standard library only.
"""
import glob
import json
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NAME = re.compile(r"(?<![A-Za-z0-9_:])(intune_[a-z0-9_]+|intune:[a-z0-9_:]+|process_[a-z0-9_]+|up)(?![A-Za-z0-9_:])")
RECORD = re.compile(r"^\s*-?\s*record:\s*['\"]?([A-Za-z0-9_:]+)", re.M)
SUFFIXES = ("_bucket", "_sum", "_count", "_total", "_created", "_info")


def strip_strings(expr):
    """Drop PromQL string literals (label values, label_replace arguments), keeping the
    quotes, so a label value that happens to look like a metric is not counted."""
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)


def dashboard_exprs(path):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from dashboard_queries import panels, variable_expr

    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    for var in dash.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            expr = variable_expr(var.get("query", ""))
            if expr:
                yield expr
    for p in panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            if "expr" in t:
                yield t["expr"]


def rule_file_text(path):
    """The rule file without YAML comments. Template lookups in annotations are written as
    printf "metric{...}" strings, so the whole text is scanned rather than only expr."""
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f if not l.lstrip().startswith("#")]
    return "".join(lines)


def used_names(paths):
    used, recorded = {}, set()
    for path in paths:
        if path.endswith(".json"):
            texts = [strip_strings(e) for e in dashboard_exprs(path)]
        else:
            text = rule_file_text(path)
            recorded.update(RECORD.findall(text))
            # Keep the contents of template strings (they hold PromQL) but not URLs.
            texts = [re.sub(r"https?://\S+", "", text)]
        for text in texts:
            for name in NAME.findall(text):
                used.setdefault(name, set()).add(os.path.relpath(path, ROOT))
    return used, recorded


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        catalog = {l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")}
    paths = argv[2:] or sorted(glob.glob(os.path.join(ROOT, "dashboards", "*.json"))) + sorted(
        glob.glob(os.path.join(ROOT, "deploy", "prometheus", "*.yml")))
    used, recorded = used_names(paths)
    missing, matched = [], set()
    for name in sorted(used):
        if name == "up":
            continue
        if name.startswith("intune:"):
            if name not in recorded:
                missing.append((name, "no recording rule records it"))
            continue
        candidates = [name] + [name[: -len(s)] for s in SUFFIXES if name.endswith(s)]
        hit = [c for c in candidates if c in catalog]
        if hit:
            matched.update(hit)
        else:
            missing.append((name, "not in " + argv[1]))
    print(f"checked {len(paths)} files: {len(used)} metric names used, {len(recorded)} recorded by rules, "
          f"{len(catalog)} families in the catalog")
    for name, why in missing:
        print(f"UNKNOWN {name}: {why} (used in {', '.join(sorted(used[name]))})")
    unshown = []
    for name in sorted(catalog - matched):
        if name.startswith("process_"):
            print(f"unused  {name}")
        else:
            unshown.append(name)
            print(f"UNUSED  {name}: used by no dashboard and no rule")
    return 1 if missing or unshown else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
