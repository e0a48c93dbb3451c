#!/bin/sh
# Checks that alertmanager.yml sends each kind of alert to the expected receiver.
# Usage: routes-test.sh [amtool]   (exits non-zero on the first mismatch)
set -eu
amtool=${1:-amtool}
config="$(dirname "$0")/alertmanager.yml"
fail=0

expect() {
  want=$1
  shift
  # amtool warns on stderr that --config.file overrides --alertmanager.url: that is intended.
  got=$("$amtool" config routes test --config.file="$config" "$@" 2>/dev/null || true)
  if [ "$got" = "$want" ]; then
    echo "ok   $want <- $*"
  else
    echo "FAIL want $want, got $got <- $*"
    fail=1
  fi
}

expect page   alertname=IntuneConnectorExpired severity=critical tenant_id=t1 connector=apns connector_id=c1
expect page   alertname=IntuneExporterDown severity=critical job=intune-exporter
expect ticket alertname=IntuneAppleVppTokenExpiring severity=warning tenant_id=t1 connector=vpp_token connector_id=v1
expect ticket alertname=IntuneExporterSourceFailing severity=warning tenant_id=t1 source=apns
expect ticket alertname=SomethingWithoutSeverity tenant_id=t1
# A shared incident and a shared certificate have their own routes (grouped across tenants).
expect ticket alertname=IntuneServiceIncidentActive severity=warning tenant_id=t1 issue_id=IT100
expect ticket alertname=IntuneServiceIncidentActive severity=warning tenant_id=t1 issue_id=IT100 origin=customer
expect page   alertname=IntuneMessageCenterActionRequired severity=critical message_id=MC100
expect ticket alertname=IntuneMessageCenterActionRequired severity=warning message_id=MC100
expect page   alertname=IntuneExporterCredentialExpiring severity=critical client_id=a thumbprint=T
expect ticket alertname=IntuneExporterCredentialExpiring severity=warning client_id=a thumbprint=T
exit $fail
