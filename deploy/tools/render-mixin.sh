#!/bin/sh
# Renders the monitoring mixin (mixin/) into the files checked in for people who do not use
# jsonnet: deploy/prometheus/recording-rules.yml, deploy/prometheus/alerts.yml,
# deploy/kubernetes/prometheusrule.yaml and dashboards/*.json.
#
#   render-mixin.sh           rewrite those files
#   render-mixin.sh --check   exit 1 if any of them differs from what would be written
#
# Needs jsonnet (Debian: jsonnet). deploy/check.sh runs --check.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/dashboards" "$tmp/deploy/prometheus" "$tmp/deploy/kubernetes"
files="$(jsonnet -J "$root/mixin" --ext-code config='{}' -S -m "$tmp" "$root/mixin/render.jsonnet")
$(jsonnet -J "$root/mixin" --ext-code config='{}' -m "$tmp" "$root/mixin/render-dashboards.jsonnet")"
case "${1:-}" in
  --check)
    status=0
    for f in $files; do
      rel=${f#"$tmp"/}
      if ! diff -u "$root/$rel" "$f" >&2; then
        echo "$rel is out of date: run deploy/tools/render-mixin.sh" >&2
        status=1
      fi
    done
    [ $status = 0 ] && echo "the rendered mixin equals the checked-in files"
    exit $status
    ;;
  "")
    for f in $files; do
      rel=${f#"$tmp"/}
      cp "$f" "$root/$rel"
      echo "wrote $rel"
    done
    ;;
  *)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
