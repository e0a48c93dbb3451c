#!/usr/bin/env python3
"""Check the inhibition rules of deploy/alertmanager/alertmanager.yml on a running Alertmanager.

Posts a set of alerts to the Alertmanager API (v2) and asserts which ones end up inhibited:
a critical about a connector instance silences warnings about the same instance only, a
critical about an exporter source silences warnings about the same source only, and a
two-level alert's critical silences its own warning for the same tenant (and the same GDAP
relationship) only.

Usage: inhibition_check.py http://127.0.0.1:9093
Standard library only.
"""
import json
import sys
import time
import urllib.request

T1, T2 = "t1", "t2"
ALERTS = [
    # (labels, expected to be inhibited)
    ({"alertname": "IntuneConnectorSyncStale", "severity": "critical", "tenant_id": T1, "connector": "dep_token", "connector_id": "dep-1"}, False),
    ({"alertname": "IntuneConnectorSyncStale", "severity": "warning", "tenant_id": T1, "connector": "dep_token", "connector_id": "dep-1"}, True),
    ({"alertname": "IntuneAppleEnrollmentTermsPending", "severity": "warning", "tenant_id": T1, "connector": "dep_token", "connector_id": "dep-1"}, True),
    ({"alertname": "IntuneAppleDepTokenExpiring", "severity": "warning", "tenant_id": T1, "connector": "dep_token", "connector_id": "dep-2"}, False),
    ({"alertname": "IntuneConnectorSyncStale", "severity": "warning", "tenant_id": T2, "connector": "dep_token", "connector_id": "dep-1"}, False),
    ({"alertname": "IntuneLicensesNearlyExhausted", "severity": "warning", "tenant_id": T1, "sku": "EMS"}, False),
    ({"alertname": "IntuneExporterDataStale", "severity": "critical", "tenant_id": T1, "source": "apns"}, False),
    ({"alertname": "IntuneExporterSourceFailing", "severity": "warning", "tenant_id": T1, "source": "apns"}, True),
    ({"alertname": "IntuneExporterSourceFailing", "severity": "warning", "tenant_id": T1, "source": "vpp_tokens"}, False),
    ({"alertname": "IntuneExporterCredentialExpiring", "severity": "critical", "client_id": "app-2", "thumbprint": "B2"}, False),
    ({"alertname": "IntuneExporterCredentialExpiring", "severity": "warning", "client_id": "app-2", "thumbprint": "B2"}, True),
    ({"alertname": "IntuneExporterCredentialExpiring", "severity": "warning", "client_id": "app-1", "thumbprint": "A1"}, False),
    # Two GDAP relationships with one customer: paging about one leaves the other's ticket.
    ({"alertname": "IntuneGdapRelationshipExpiring", "severity": "critical", "tenant_id": T1, "relationship_id": "r-1"}, False),
    ({"alertname": "IntuneGdapRelationshipExpiring", "severity": "warning", "tenant_id": T1, "relationship_id": "r-1"}, True),
    ({"alertname": "IntuneGdapRelationshipExpiring", "severity": "warning", "tenant_id": T1, "relationship_id": "r-2"}, False),
]


def main(base):
    base = base.rstrip("/")
    body = json.dumps([{"labels": l, "annotations": {"summary": "test"}} for l, _ in ALERTS]).encode()
    req = urllib.request.Request(f"{base}/api/v2/alerts", data=body, headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    failed = passed = 0
    # Inhibition is computed when alerts are listed; give the dispatcher a moment.
    deadline = time.time() + 15
    while True:
        with urllib.request.urlopen(f"{base}/api/v2/alerts", timeout=10) as r:
            got = {json.dumps(a["labels"], sort_keys=True): bool(a["status"]["inhibitedBy"]) for a in json.load(r)}
        if len(got) >= len(ALERTS) or time.time() > deadline:
            break
        time.sleep(1)
    for labels, want in ALERTS:
        key = json.dumps(labels, sort_keys=True)
        desc = ",".join(f"{k}={v}" for k, v in labels.items())
        if key not in got:
            print(f"FAIL  {desc}: not listed")
            failed += 1
        elif got[key] != want:
            print(f"FAIL  {desc}: inhibited={got[key]}, want {want}")
            failed += 1
        else:
            print(f"ok    {desc}: inhibited={want}")
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
