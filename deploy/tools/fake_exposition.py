#!/usr/bin/env python3
"""Serve a synthetic intune-exporter /metrics page, for testing the bundle without the exporter.

Every family of the metric API appears with plausible values for two tenants; timestamps are
computed from the current time on each scrape, so the expiry and staleness rules behave as
they would against a real exporter. Tenant 1 has an APNs certificate expiring in 20 days, a
stale DEP token with Apple terms pending, a lapsed (Warning) commercial subscription and an
active incident; tenant 2 is healthy. Both have an auto-extending GDAP relationship, and the
app registration's credentials are far from their end.
This is test data, not the exporter: the exporter's own --demo mode is the reference.

Usage: fake_exposition.py [--listen 127.0.0.1:0]   (prints "listening on HOST:PORT")
Standard library only.
"""
import argparse
import http.server
import sys
import time

T1, T2 = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
DAY = 86400


def stateset(lines, name, labels, states, current):
    for s in states:
        lines.append(f'{name}{{{labels},status="{s}"}} {1 if s == current else 0}')


def page(now):
    L = []
    add = L.append
    add('# TYPE intune_tenant_info gauge')
    add(f'intune_tenant_info{{tenant_id="{T1}",tenant_name="Contoso",country_code="NL",mdm_authority="intune"}} 1')
    add(f'intune_tenant_info{{tenant_id="{T2}",tenant_name="Fabrikam",country_code="US",mdm_authority="intune"}} 1')
    add('# TYPE intune_tenant_subscription_state gauge')
    for t in (T1, T2):
        for s in ("pending", "active", "warning", "disabled", "deleted", "blocked", "locked_out"):
            add(f'intune_tenant_subscription_state{{tenant_id="{t}",state="{s}"}} {1 if s == "active" else 0}')
    add('# TYPE intune_license_prepaid_units gauge')
    add('# TYPE intune_license_consumed_units gauge')
    for t, en, used in ((T1, 100, 97), (T2, 500, 120)):
        for s, v in (("enabled", en), ("suspended", 0), ("warning", 5), ("locked_out", 0)):
            add(f'intune_license_prepaid_units{{tenant_id="{t}",sku="EMSPREMIUM",state="{s}"}} {v}')
        add(f'intune_license_consumed_units{{tenant_id="{t}",sku="EMSPREMIUM"}} {used}')
    subs = [  # tenant, subscription id, sku, trial, status, next lifecycle offset (days)
        (T1, "sub-1", "EMSPREMIUM", "false", "enabled", 200),
        (T1, "sub-2", "SPE_E5", "false", "warning", 20),
        (T2, "sub-3", "EMSPREMIUM", "false", "enabled", 100),
    ]
    add('# TYPE intune_subscription_info gauge')
    for t, i, sku, trial, _, _ in subs:
        add(f'intune_subscription_info{{tenant_id="{t}",subscription_id="{i}",sku="{sku}",trial="{trial}"}} 1')
    add('# TYPE intune_subscription_status gauge')
    for t, i, _, _, status, _ in subs:
        stateset(L, "intune_subscription_status", f'tenant_id="{t}",subscription_id="{i}"',
                 ("enabled", "warning", "suspended", "locked_out", "deleted"), status)
    add('# TYPE intune_subscription_next_lifecycle_timestamp_seconds gauge')
    for t, i, _, _, _, days in subs:
        add(f'intune_subscription_next_lifecycle_timestamp_seconds{{tenant_id="{t}",subscription_id="{i}"}} {int(now + days * DAY)}')
    conns = [  # tenant, connector, id, name, expiry offset (days) or None, last sync offset (days) or None, health
        (T1, "apns", "apns-1", "it@contoso.example", 20, None, "healthy"),
        (T1, "vpp_token", "vpp-1", "Contoso VPP", 200, 0.1, "healthy"),
        (T1, "dep_token", "dep-1", "Contoso ADE", 150, 4, "unhealthy"),
        (T1, "certificate_connector", "cc-1", "PKI-01", None, 1.5, "warning"),
        (T2, "apns", "apns-2", "it@fabrikam.example", 300, None, "healthy"),
        (T2, "windows_autopilot", "ap-2", "Windows Autopilot", None, 0.2, "healthy"),
    ]
    add('# TYPE intune_connector_info gauge')
    for t, c, i, n, _, _, _ in conns:
        add(f'intune_connector_info{{tenant_id="{t}",connector="{c}",connector_id="{i}",display_name="{n}"}} 1')
    add('# TYPE intune_connector_health gauge')
    for t, c, i, _, _, _, h in conns:
        stateset(L, "intune_connector_health", f'tenant_id="{t}",connector="{c}",connector_id="{i}"', ("healthy", "warning", "unhealthy"), h)
    add('# TYPE intune_connector_type_health gauge')
    kinds = ("apns", "vpp_token", "dep_token", "windows_autopilot", "certificate_connector", "chromebook")
    for t in (T1, T2):
        for k in kinds:
            hs = [h for (tt, c, _, _, _, _, h) in conns if tt == t and c == k]
            worst = max(hs, key=["healthy", "warning", "unhealthy"].index) if hs else "not_configured"
            stateset(L, "intune_connector_type_health", f'tenant_id="{t}",connector="{k}"', ("healthy", "warning", "unhealthy", "not_configured"), worst)
    add('# TYPE intune_connector_expiry_timestamp_seconds gauge')
    for t, c, i, _, e, _, _ in conns:
        if e is not None:
            add(f'intune_connector_expiry_timestamp_seconds{{tenant_id="{t}",connector="{c}",connector_id="{i}"}} {int(now + e * DAY)}')
    add('# TYPE intune_connector_last_sync_timestamp_seconds gauge')
    for t, c, i, _, _, s, _ in conns:
        if s is not None:
            add(f'intune_connector_last_sync_timestamp_seconds{{tenant_id="{t}",connector="{c}",connector_id="{i}"}} {int(now - s * DAY)}')
    add('# TYPE intune_apple_enrollment_terms_pending gauge')
    add(f'intune_apple_enrollment_terms_pending{{tenant_id="{T1}",connector_id="dep-1"}} 1')
    add('# TYPE intune_connector_reported_health gauge')
    stateset(L, "intune_connector_reported_health", f'tenant_id="{T1}",connector_name="appleDepLastSyncDateTime",connector_id="dep-1"',
             ("healthy", "warning", "unhealthy", "unknown"), "unhealthy")
    add('# TYPE intune_service_health_status gauge')
    statuses = ("service_operational", "investigating", "restoring_service", "verifying_service", "service_restored",
                "post_incident_review_published", "service_degradation", "service_interruption", "extended_recovery",
                "false_positive", "investigation_suspended", "resolved", "mitigated_external", "mitigated",
                "resolved_external", "confirmed", "reported", "unknown")
    for t, cur in ((T1, "service_degradation"), (T2, "service_operational")):
        stateset(L, "intune_service_health_status", f'tenant_id="{t}",service_name="Microsoft Intune"', statuses, cur)
    add('# TYPE intune_service_issues_active gauge')
    for t, inc, adv in ((T1, 1, 1), (T2, 0, 1)):
        add(f'intune_service_issues_active{{tenant_id="{t}",service_name="Microsoft Intune",classification="incident"}} {inc}')
        add(f'intune_service_issues_active{{tenant_id="{t}",service_name="Microsoft Intune",classification="advisory"}} {adv}')
    add('# TYPE intune_service_issues_recently_resolved gauge')
    for t, inc, adv in ((T1, 2, 0), (T2, 0, 1)):
        add(f'intune_service_issues_recently_resolved{{tenant_id="{t}",service_name="Microsoft Intune",classification="incident"}} {inc}')
        add(f'intune_service_issues_recently_resolved{{tenant_id="{t}",service_name="Microsoft Intune",classification="advisory"}} {adv}')
    add('# TYPE intune_service_issue_info gauge')
    add(f'intune_service_issue_info{{tenant_id="{T1}",service_name="Microsoft Intune",issue_id="IT100001",classification="incident",origin="microsoft",status="service_degradation",feature_group="Device enrollment",feature="Apple enrollment",title="Some users cannot enrol iOS devices"}} 1')
    add(f'intune_service_issue_info{{tenant_id="{T1}",service_name="Microsoft Intune",issue_id="IT100002",classification="advisory",origin="microsoft",status="investigating",feature_group="Reporting",feature="Reports",title="Reports may be delayed"}} 1')
    add(f'intune_service_issue_info{{tenant_id="{T2}",service_name="Microsoft Intune",issue_id="IT100002",classification="advisory",origin="microsoft",status="investigating",feature_group="Reporting",feature="Reports",title="Reports may be delayed"}} 1')
    add('# TYPE intune_service_issue_start_timestamp_seconds gauge')
    add(f'intune_service_issue_start_timestamp_seconds{{tenant_id="{T1}",issue_id="IT100001"}} {int(now - 3600)}')
    add(f'intune_service_issue_start_timestamp_seconds{{tenant_id="{T1}",issue_id="IT100002"}} {int(now - 2 * DAY)}')
    add(f'intune_service_issue_start_timestamp_seconds{{tenant_id="{T2}",issue_id="IT100002"}} {int(now - 2 * DAY)}')
    add('# TYPE intune_message_center_messages_active gauge')
    add('# TYPE intune_message_center_message_info gauge')
    add('# TYPE intune_message_center_action_required_timestamp_seconds gauge')
    add('# TYPE intune_message_center_message_last_modified_timestamp_seconds gauge')
    for t in (T1, T2):
        add(f'intune_message_center_message_last_modified_timestamp_seconds{{tenant_id="{t}",message_id="MC100001"}} {int(now - 2 * DAY)}')
        add(f'intune_message_center_message_last_modified_timestamp_seconds{{tenant_id="{t}",message_id="MC100002"}} {int(now - DAY)}')
        add(f'intune_message_center_messages_active{{tenant_id="{t}",category="plan_for_change",severity="normal"}} 3')
        add(f'intune_message_center_messages_active{{tenant_id="{t}",category="stay_informed",severity="normal"}} 7')
        add(f'intune_message_center_message_info{{tenant_id="{t}",message_id="MC100001",title="Plan for change: new Apple terms",category="plan_for_change",severity="normal",major_change="true",tags="admin_impact"}} 1')
        add(f'intune_message_center_message_info{{tenant_id="{t}",message_id="MC100002",title="Weekly what is new in Intune",category="stay_informed",severity="normal",major_change="false",tags="new_feature"}} 1')
        add(f'intune_message_center_action_required_timestamp_seconds{{tenant_id="{t}",message_id="MC100001"}} {int(now + 30 * DAY)}')
    add('# TYPE intune_exporter_build_info gauge')
    add('intune_exporter_build_info{version="0.0.0-fake",revision="fake",rustc_version="0.0.0"} 1')
    sources = ("organization", "device_management", "apns", "vpp_tokens", "dep_onboarding_settings", "service_issues", "messages")
    add('# TYPE intune_exporter_source_up gauge')
    add('# TYPE intune_exporter_source_last_success_timestamp_seconds gauge')
    for t in (T1, T2):
        for s in sources:
            failing = t == T1 and s == "dep_onboarding_settings"
            add(f'intune_exporter_source_up{{tenant_id="{t}",source="{s}"}} {0 if failing else 1}')
            add(f'intune_exporter_source_last_success_timestamp_seconds{{tenant_id="{t}",source="{s}"}} {int(now - (7200 if failing else 120))}')
    n = int(now) // 10
    add('# TYPE intune_exporter_graph_requests_total counter')
    add('# TYPE intune_exporter_graph_throttled_total counter')
    add('# TYPE intune_exporter_graph_request_duration_seconds histogram')
    add('# TYPE intune_exporter_credential_expiry_timestamp_seconds gauge')
    add('# TYPE intune_exporter_graph_limiter_wait_seconds_total counter')
    add(f'intune_exporter_graph_limiter_wait_seconds_total {(n // 3) % 100000}')
    add(f'intune_exporter_graph_requests_total{{source="apns",code="200"}} {n % 100000}')
    add(f'intune_exporter_graph_requests_total{{source="apns",code="429"}} {(n // 7) % 100000}')
    add(f'intune_exporter_graph_throttled_total{{source="apns"}} {(n // 7) % 100000}')
    for le, frac in (("0.1", 0.5), ("0.5", 0.9), ("1", 0.99), ("+Inf", 1)):
        add(f'intune_exporter_graph_request_duration_seconds_bucket{{source="apns",le="{le}"}} {int(n * frac) % 100000}')
    add(f'intune_exporter_graph_request_duration_seconds_sum{{source="apns"}} {n * 0.2 % 100000}')
    add(f'intune_exporter_graph_request_duration_seconds_count{{source="apns"}} {n % 100000}')
    # One certificate for every tenant (a shared app registration).
    add(f'intune_exporter_credential_expiry_timestamp_seconds{{client_id="00000000-0000-0000-0000-0000000000aa",thumbprint="A1B2C3"}} {int(now + 90 * DAY)}')
    # The app registration (app_credentials): a secret and the certificate, both far off.
    app = 'client_id="00000000-0000-0000-0000-0000000000aa"'
    add('# TYPE intune_exporter_app_credentials_up gauge')
    add(f'intune_exporter_app_credentials_up{{{app}}} 1')
    add('# TYPE intune_exporter_app_credential_info gauge')
    add(f'intune_exporter_app_credential_info{{{app},key_id="k-secret",kind="password",display_name="exporter",hint="Ab~",thumbprint="",in_use="true"}} 1')
    add(f'intune_exporter_app_credential_info{{{app},key_id="k-cert",kind="certificate",display_name="CN=exporter",hint="",thumbprint="A1B2C3",in_use="false"}} 1')
    add('# TYPE intune_exporter_app_credential_end_timestamp_seconds gauge')
    add(f'intune_exporter_app_credential_end_timestamp_seconds{{{app},key_id="k-secret"}} {int(now + 200 * DAY)}')
    add(f'intune_exporter_app_credential_end_timestamp_seconds{{{app},key_id="k-cert"}} {int(now + 90 * DAY)}')
    # The partner's GDAP relationships with both tenants, auto-extending.
    add('# TYPE intune_gdap_relationship_info gauge')
    add('# TYPE intune_gdap_relationship_end_timestamp_seconds gauge')
    add('# TYPE intune_gdap_relationship_auto_extend_seconds gauge')
    for t, name in ((T1, "Contoso"), (T2, "Fabrikam")):
        rel = f'tenant_id="{t}",relationship_id="r-{t[:8]}"'
        add(f'intune_gdap_relationship_info{{{rel},display_name="{name} admins",customer_name="{name}",status="active"}} 1')
        add(f'intune_gdap_relationship_end_timestamp_seconds{{{rel}}} {int(now + 400 * DAY)}')
        add(f'intune_gdap_relationship_auto_extend_seconds{{{rel}}} {180 * DAY}')
    add('# TYPE intune_exporter_tenants gauge')
    add('intune_exporter_tenants{origin="config"} 2')
    add('intune_exporter_tenants{origin="file"} 0')
    add('intune_exporter_tenants{origin="discovery"} 0')
    add('# TYPE intune_exporter_discovery_up gauge')
    add('intune_exporter_discovery_up{discovery="tenant_files"} 1')
    add('# TYPE intune_exporter_discovery_last_success_timestamp_seconds gauge')
    add(f'intune_exporter_discovery_last_success_timestamp_seconds{{discovery="tenant_files"}} {int(now - 5)}')
    add('# TYPE intune_exporter_config_last_reload_successful gauge')
    add('intune_exporter_config_last_reload_successful 1')
    add('# TYPE intune_exporter_config_last_reload_success_timestamp_seconds gauge')
    add(f'intune_exporter_config_last_reload_success_timestamp_seconds {int(now - 60)}')
    add('# TYPE process_cpu_seconds_total counter')
    add(f'process_cpu_seconds_total {time.process_time():.3f}')
    add('# TYPE process_resident_memory_bytes gauge')
    add('process_resident_memory_bytes 12345678')
    return "\n".join(L) + "\n"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404)
            return
        body = page(time.time()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--print", action="store_true", help="print one page and exit")
    a = ap.parse_args()
    if a.print:
        sys.stdout.write(page(time.time()))
        return
    host, port = a.listen.rsplit(":", 1)
    srv = http.server.HTTPServer((host, int(port)), Handler)
    print(f"listening on {srv.server_address[0]}:{srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
