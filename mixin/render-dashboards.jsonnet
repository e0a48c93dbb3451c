// Renders the mixin's dashboards into dashboards/*.json (see render.jsonnet).
local mixin = (import 'mixin.libsonnet') { _config+:: std.extVar('config') };
{
  ['dashboards/' + name]: mixin.grafanaDashboards[name]
  for name in std.objectFields(mixin.grafanaDashboards)
}
