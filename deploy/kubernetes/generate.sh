#!/bin/sh
# prometheusrule.yaml is rendered from the monitoring mixin (mixin/) together with the rule
# files and dashboards; this script is kept for habit and runs that renderer.
#
#   generate.sh           rewrite every rendered file
#   generate.sh --check   exit 1 if any rendered file is out of date
exec "$(dirname "$0")/../tools/render-mixin.sh" "$@"
