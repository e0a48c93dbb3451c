// Renders the mixin's rules into the files checked in for people who do not use jsonnet:
//
//   jsonnet -J mixin -S -m . --ext-code config='{}' mixin/render.jsonnet
//   jsonnet -J mixin -m . --ext-code config='{}' mixin/render-dashboards.jsonnet
//
// deploy/tools/render-mixin.sh runs both; tests/bundle.rs fails when a checked-in file
// differs. Pass another config with --ext-code config='{ selector: ... }' to render a
// variant (the tests do, and check it with promtool).
local yaml = import 'lib/yaml.libsonnet';
local mixin = (import 'mixin.libsonnet') { _config+:: std.extVar('config') };
local generated(what) = '# GENERATED from mixin/%s by deploy/tools/render-mixin.sh. Do not edit:\n# change the mixin and render again.\n' % what;

{
  'deploy/prometheus/recording-rules.yml': generated('rules.libsonnet') + yaml.manifest(mixin.prometheusRules),
  'deploy/prometheus/alerts.yml': generated('alerts.libsonnet') + yaml.manifest(mixin.prometheusAlerts),
  'deploy/kubernetes/prometheusrule.yaml':
    generated('rules.libsonnet and alerts.libsonnet')
    + "# Add the label your Prometheus' ruleSelector expects (kube-prometheus-stack:\n# release: <helm release name>) in an overlay.\n"
    + yaml.manifest({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'intune-exporter' },
      spec: { groups: mixin.prometheusRules.groups + mixin.prometheusAlerts.groups },
    }),
}
