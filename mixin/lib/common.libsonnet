// What the three dashboards share: variables, selectors and the warning ladder's colours.
local g = import 'dashboard.libsonnet';
local promql = import 'promql.libsonnet';

{
  // Every query selects the exporter through these variables.
  exporterSelector:: 'job=~"$job", instance=~"$instance"',

  variables(c, tenant)::
    [
      g.datasourceVariable,
      // Every job that runs the exporter, whatever it is called (narrowed by _config.selector).
      g.queryVariable('job', 'Job', 'label_values(%s, job)' % promql.select('intune_exporter_build_info', c.selector), multi=true, includeAll=true),
      g.queryVariable('instance', 'Instance', 'label_values(intune_exporter_build_info{job=~"$job"}, instance)', multi=true, includeAll=true),
    ] + tenant + [
      g.customVariable('cloud', 'Admin centre', [[k, c.adminCentreHosts[k]] for k in std.objectFields(c.adminCentreHosts)], [c.defaultCloud, c.adminCentreHosts[c.defaultCloud]]),
    ],

  // The ladder of config.libsonnet as Grafana thresholds.
  expiryDays(c):: [[null, 'red'], [0, 'orange'], [c.ladder.expiryWarningDays, 'yellow'], [c.ladder.expiryNoticeDays, 'green']],
  syncDays(c):: [[null, 'green'], [c.ladder.syncWarningDays, 'orange'], [c.ladder.syncUnhealthyDays, 'red']],
  // intune:*:severity values: the page's words and colours.
  severityMap:: g.valueMap([['3', 'Unhealthy', 'red'], ['2', 'Warning', 'orange'], ['1', 'Healthy', 'green'], ['0', 'Not configured', 'text']]),

  // A link into the customer's own tenant in the admin centre of the chosen cloud.
  adminCentre(blade, title='Open in the Intune admin centre', tenant='${tenant}')::
    { title: title, url: 'https://${cloud}/%s/#view/%s' % [tenant, blade], targetBlank: true },
}
