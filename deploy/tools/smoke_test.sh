#!/usr/bin/env bash
# End-to-end smoke test of the bundle against a real Prometheus and Alertmanager, on loopback
# ports chosen at random (nothing is left running afterwards):
#
#   1. serve a target: the exporter given by INTUNE_EXPORTER_URL (for example the real binary
#      in --demo mode, http://127.0.0.1:10468), or else fake_exposition.py;
#   2. run Prometheus with the bundled rules scraping it every 5s, and Alertmanager with the
#      bundled config;
#   3. query_check.py: every dashboard query returns data for TENANT, the expected alerts are
#      active, and their descriptions render tenant and token names;
#   4. inhibition_check.py: the inhibition rules behave as documented.
#
# Environment: INTUNE_EXPORTER_URL, TENANT (default: tenant 1 of fake_exposition.py),
#              PROMETHEUS, ALERTMANAGER (binaries; Debian: prometheus, prometheus-alertmanager)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
PROMETHEUS=${PROMETHEUS:-prometheus}
ALERTMANAGER=${ALERTMANAGER:-$(command -v prometheus-alertmanager || command -v alertmanager || echo alertmanager)}
TENANT=${TENANT:-11111111-1111-1111-1111-111111111111}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {
  for _ in $(seq 1 60); do
    if python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "not ready: $1" >&2
  return 1
}

if [ -n "${INTUNE_EXPORTER_URL:-}" ]; then
  target=${INTUNE_EXPORTER_URL#http://}
  target=${target%%/*}
  expect=()
else
  python3 "$here/fake_exposition.py" --listen 127.0.0.1:0 >"$tmp/fake.out" &
  pids+=($!)
  for _ in $(seq 1 50); do grep -q listening "$tmp/fake.out" 2>/dev/null && break; sleep 0.1; done
  target=$(sed -n 's/^listening on //p' "$tmp/fake.out")
  # What fake_exposition.py is built to trigger for tenant 1.
  expect=(--expect-alert IntuneApplePushCertificateExpiring --expect-alert IntuneConnectorSyncStale
          --expect-alert IntuneAppleEnrollmentTermsPending --expect-alert IntuneLicensesNearlyExhausted
          --expect-alert IntuneServiceIncidentActive --expect-alert IntuneExporterSourceFailing
          --expect-alert IntuneExporterDataStale --expect-alert IntuneCommercialSubscriptionLapsed
          --expect-text 'of tenant Contoso (11111111-1111-1111-1111-111111111111)'
          --expect-text '"Contoso ADE" (dep-1)')
fi
echo "target: $target"

am_port=$(free_port)
prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<YAML
global: {scrape_interval: 5s, evaluation_interval: 5s}
rule_files: ['$repo/deploy/prometheus/recording-rules.yml', '$repo/deploy/prometheus/alerts.yml']
alerting:
  alertmanagers: [{static_configs: [{targets: ['127.0.0.1:$am_port']}]}]
scrape_configs:
  - job_name: intune-exporter
    static_configs: [{targets: ['$target']}]
YAML

"$ALERTMANAGER" --config.file="$repo/deploy/alertmanager/alertmanager.yml" --storage.path="$tmp/am" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$tmp/am.log" 2>&1 &
pids+=($!)
"$PROMETHEUS" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prom" \
  --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prom.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$prom_port/-/ready"
wait_ready "http://127.0.0.1:$am_port/-/ready"

# Four scrapes and rule evaluations, so rate() has two samples and recorded series exist.
sleep 22
status=0
python3 "$here/query_check.py" --prometheus "http://127.0.0.1:$prom_port" --tenant "$TENANT" "${expect[@]}" || status=1
python3 "$here/inhibition_check.py" "http://127.0.0.1:$am_port" || status=1
if [ $status != 0 ]; then
  echo "--- prometheus log"; tail -n 20 "$tmp/prom.log"
  echo "--- alertmanager log"; tail -n 20 "$tmp/am.log"
fi
exit $status
