#!/usr/bin/env python3
"""Checks what a kustomization renders means what it should, beyond the schema.

  kubectl kustomize deploy/kubernetes | kustomize_check.py deploy/kubernetes

A schema check passes a StatefulSet with an empty selector and a ServiceMonitor that selects
nothing; Kubernetes refuses the first and Prometheus silently scrapes nothing with the second.
This script reads the rendered manifests (stdin) and the kustomization directory they came
from, and fails when:
  - a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet) has an empty selector, or one
    that does not match its own pod template's labels;
  - a StatefulSet's serviceName is not a headless Service of its namespace selecting its pods;
  - a Service (other than ExternalName) has an empty selector, or selects the pods of no
    workload in its namespace;
  - a ServiceMonitor selects no Service (labels and namespaceSelector), names a port none of
    the Services it selects has, or reaches the same pods through two Services (every pod
    would be scraped twice);
  - a pod template mounts a ConfigMap, or runs as a ServiceAccount, the build does not contain;
  - a resource lacks a label that the kustomization or one of its local bases sets with
    `labels` or `commonLabels` (a base's labels do not reach the resources an overlay adds);
  - a container image is not what the `images` entries of the kustomization and its local
    bases turn it into (same: a base's `images` do not reach an overlay's resources).
"""

import os
import sys

import yaml

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")


def kustomization_file(directory):
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    return None


def kustomizations(directory):
    """The kustomization in `directory` and those of its local bases, innermost first."""
    path = kustomization_file(directory)
    if path is None:
        return []
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    out = []
    for entry in (doc.get("resources") or []) + (doc.get("components") or []):
        if "://" in entry or entry.startswith("github.com/"):
            continue
        sub = os.path.normpath(os.path.join(directory, entry))
        if os.path.isdir(sub):
            out.extend(kustomizations(sub))
    out.append((directory, doc))
    return out


def required_labels(chain):
    labels = {}
    for _, doc in chain:
        labels.update(doc.get("commonLabels") or {})
        for entry in doc.get("labels") or []:
            labels.update(entry.get("pairs") or {})
    return labels


def split_image(ref):
    """(name, tag or digest suffix) of an image reference."""
    if "@" in ref:
        name, digest = ref.split("@", 1)
        return name, "@" + digest
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ":" + ref[colon + 1 :]
    return ref, ""


def apply_image_entry(ref, entry):
    name, suffix = split_image(ref)
    if name != entry["name"]:
        return ref
    name = entry.get("newName", name)
    if "digest" in entry:
        suffix = "@" + entry["digest"]
    elif "newTag" in entry:
        suffix = ":" + str(entry["newTag"])
    return name + suffix


def expected_images(chain):
    """The images the `images` entries produce, applied from the innermost kustomization out."""
    images = {}  # the image a manifest names -> what the kustomizations turn it into
    for _, doc in chain:
        entries = doc.get("images") or []
        images = {name: apply_all(ref, entries) for name, ref in images.items()}
        for entry in entries:
            images.setdefault(entry["name"], apply_image_entry(entry["name"], entry))
    return set(images.values())


def apply_all(ref, entries):
    for entry in entries:
        ref = apply_image_entry(ref, entry)
    return ref


def selector_matches(selector, labels):
    """Whether a LabelSelector (matchLabels, matchExpressions) selects `labels`."""
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_empty(selector):
    return not selector or not (selector.get("matchLabels") or selector.get("matchExpressions"))


def pod_spec(doc):
    return ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}


def template_labels(doc):
    return (((doc.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}


def ident(doc):
    ns = doc["metadata"].get("namespace")
    return f"{doc['kind']} {ns + '/' if ns else ''}{doc['metadata']['name']}"


def check(docs, chain):
    problems = []
    ns = lambda d: d["metadata"].get("namespace") or ""  # noqa: E731
    workloads = [d for d in docs if d["kind"] in WORKLOADS]
    services = [d for d in docs if d["kind"] == "Service"]
    names = {(d["kind"], ns(d), d["metadata"]["name"]) for d in docs}

    for w in workloads:
        selector = w["spec"].get("selector") or {}
        if selector_empty(selector):
            problems.append(f"{ident(w)}: empty selector")
        elif not selector_matches(selector, template_labels(w)):
            problems.append(f"{ident(w)}: selector {selector} does not match its pod template labels {template_labels(w)}")
        spec = pod_spec(w)
        for volume in spec.get("volumes") or []:
            cm = volume.get("configMap")
            if cm and ("ConfigMap", ns(w), cm["name"]) not in names:
                problems.append(f"{ident(w)}: mounts ConfigMap {cm['name']}, which the build does not contain")
        account = spec.get("serviceAccountName")
        if account and ("ServiceAccount", ns(w), account) not in names:
            problems.append(f"{ident(w)}: runs as ServiceAccount {account}, which the build does not contain")
        if w["kind"] == "StatefulSet":
            governing = [s for s in services if ns(s) == ns(w) and s["metadata"]["name"] == w["spec"].get("serviceName")]
            if not governing:
                problems.append(f"{ident(w)}: serviceName {w['spec'].get('serviceName')!r} is no Service of its namespace")
            elif governing[0]["spec"].get("clusterIP") != "None":
                problems.append(f"{ident(w)}: its governing Service {governing[0]['metadata']['name']} is not headless")
            elif not selector_matches({"matchLabels": governing[0]["spec"].get("selector") or {}}, template_labels(w)) or not governing[0]["spec"].get("selector"):
                problems.append(f"{ident(w)}: its governing Service {governing[0]['metadata']['name']} does not select its pods")

    def pods_of(service):
        selector = service["spec"].get("selector") or {}
        if not selector:
            return []
        return [w for w in workloads if ns(w) == ns(service) and selector_matches({"matchLabels": selector}, template_labels(w))]

    for s in services:
        if s["spec"].get("type") == "ExternalName":
            continue
        if not s["spec"].get("selector"):
            problems.append(f"{ident(s)}: empty selector")
        elif not pods_of(s):
            problems.append(f"{ident(s)}: selector {s['spec']['selector']} selects the pods of no workload in its namespace")

    for m in (d for d in docs if d["kind"] == "ServiceMonitor"):
        spec = m.get("spec") or {}
        selector = spec.get("selector") or {}
        nsel = spec.get("namespaceSelector") or {}
        if nsel.get("any"):
            in_scope = lambda s: True  # noqa: E731
        elif nsel.get("matchNames"):
            in_scope = lambda s, names=set(nsel["matchNames"]): ns(s) in names  # noqa: E731
        else:
            in_scope = lambda s: ns(s) == ns(m)  # noqa: E731
        selected = [s for s in services if in_scope(s) and selector_matches(selector, s["metadata"].get("labels"))]
        if selector_empty(selector):
            problems.append(f"{ident(m)}: empty selector (selects every Service)")
        if not selected:
            problems.append(f"{ident(m)}: selects no Service (selector {selector}, namespaceSelector {nsel})")
            continue
        for endpoint in spec.get("endpoints") or []:
            port = endpoint.get("port")
            if port is None:
                continue
            with_port = [s for s in selected if any(p.get("name") == port for p in s["spec"].get("ports") or [])]
            if not with_port:
                problems.append(f"{ident(m)}: endpoint port {port!r} is a port of none of {[s['metadata']['name'] for s in selected]}")
            seen = {}
            for s in with_port:
                for w in pods_of(s):
                    key = ident(w)
                    if key in seen:
                        problems.append(f"{ident(m)}: port {port!r} reaches the pods of {key} through both Service {seen[key]} and {s['metadata']['name']}: each would be scraped twice")
                    seen[key] = s["metadata"]["name"]

    labels = required_labels(chain)
    for d in docs:
        have = d["metadata"].get("labels") or {}
        missing = {k: v for k, v in labels.items() if have.get(k) != v}
        if missing:
            problems.append(f"{ident(d)}: lacks the kustomization's labels {missing}")

    images = expected_images(chain)
    if images:
        for w in workloads:
            spec = pod_spec(w)
            for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
                if c.get("image") not in images:
                    problems.append(f"{ident(w)}: container {c.get('name')} runs image {c.get('image')!r}, not one the kustomization sets ({', '.join(sorted(images))})")
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    directory = sys.argv[1]
    chain = kustomizations(directory)
    if not chain:
        print(f"{directory}: no kustomization", file=sys.stderr)
        return 2
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    if not docs:
        print(f"{directory}: nothing rendered (did the kustomize build fail?)")
        return 1
    problems = check(docs, chain)
    for p in problems:
        print(f"{directory}: {p}")
    if problems:
        print(f"{directory}: {len(problems)} problem(s) in {len(docs)} resources")
        return 1
    kinds = sorted({d["kind"] for d in docs})
    print(f"{directory}: {len(docs)} resources ({', '.join(kinds)}): selectors, ports, labels and images agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
