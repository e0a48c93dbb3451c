// Recording rules. Naming follows level:metric:operation. Every rule keeps the exporter's
// labels (job, instance) and tenant_id, so dashboards can filter one exporter or one tenant
// cheaply, or show hundreds of tenants without touching the raw series. They select the
// exporter's series by the `intune_` prefix alone unless _config.selector narrows them: the
// job's name is whatever the user's Prometheus calls it.
local connectors = import 'generated/connectors.json';
local promql = import 'lib/promql.libsonnet';

{
  prometheusRules+:: {
    local c = $._config,
    local m(metric, extra=[]) = promql.select(metric, c.selector, extra),
    local by(extra) = std.join(', ', c.exporterLabels + extra),
    groups+: [
      {
        name: 'intune-exporter.rules',
        rules: [
          // Days until a connector instance (APNs certificate, VPP token, DEP token...)
          // expires. Negative once it has expired.
          {
            record: 'intune:connector_days_to_expiry',
            expr: '(%s - time()) / 86400' % m('intune_connector_expiry_timestamp_seconds'),
          },
          // Days since a connector instance last synced, sent a heartbeat or checked in.
          {
            record: 'intune:connector_days_since_last_sync',
            expr: '(time() - %s) / 86400' % m('intune_connector_last_sync_timestamp_seconds'),
          },
          // Share of the enabled prepaid units of an Intune-carrying SKU that are assigned.
          // Suspended and warning (grace period) units are left out: they are going away.
          // SKUs with no enabled unit are left out instead of dividing by zero.
          {
            record: 'intune:license_utilization:ratio',
            expr: |||
              %(consumed)s
                / ignoring (state)
              (%(enabled)s > 0)
            ||| % { consumed: m('intune_license_consumed_units'), enabled: m('intune_license_prepaid_units', ['state="enabled"']) },
          },
          // Enabled prepaid units still free to assign (negative when over-assigned).
          {
            record: 'intune:license_available_units',
            expr: |||
              %(enabled)s
                - ignoring (state)
              %(consumed)s
            ||| % { consumed: m('intune_license_consumed_units'), enabled: m('intune_license_prepaid_units', ['state="enabled"']) },
          },
          // The connector stateset per instance as one number: 3 unhealthy, 2 warning,
          // 1 healthy. Dashboards sort and colour by it; it is not an exported value.
          {
            record: 'intune:connector_health:severity',
            expr: |||
              max without (status) (
                  (%(unhealthy)s == 1) * 3
                or
                  (%(warning)s == 1) * 2
                or
                  (%(healthy)s == 1)
              )
            ||| % { [st]: m('intune_connector_health', ['status="%s"' % st]) for st in ['unhealthy', 'warning', 'healthy'] },
          },
          // The same per connector kind, as on the Tenant status page:
          // 3 unhealthy, 2 warning, 1 healthy, 0 not configured.
          {
            record: 'intune:connector_type_health:severity',
            expr: |||
              max without (status) (
                  (%(unhealthy)s == 1) * 3
                or
                  (%(warning)s == 1) * 2
                or
                  (%(healthy)s == 1)
                or
                  (%(not_configured)s == 1) * 0
              )
            ||| % { [st]: m('intune_connector_type_health', ['status="%s"' % st]) for st in ['unhealthy', 'warning', 'healthy', 'not_configured'] },
          },
          // The Tenant status page's order of connector kinds, as one number to sort by,
          // highest first: the status (severity * 100), then the exporter's order of kinds
          // (generated from its catalog: mixin/generated/connectors.json).
          {
            record: 'intune:connector_type_health:page_rank',
            expr: std.join('\n  or\n', [
              'intune:connector_type_health:severity{connector="%s"} * 100 + %d' % [k.connector, std.length(connectors) - i]
              for i in std.range(0, std.length(connectors) - 1)
              for k in [connectors[i]]
            ]) + '\n',
          },
          // Worst connector kind per tenant, on the same 0..3 scale. The fleet view sorts by it.
          {
            record: 'intune:tenant_connector_health:severity',
            expr: 'max by (%s) (intune:connector_type_health:severity)' % by(['tenant_id']),
          },
          // Number of connector kinds per tenant in each status.
          {
            record: 'intune:tenant_connectors:count',
            expr: 'count by (%s) (%s == 1)' % [by(['tenant_id', 'status']), m('intune_connector_type_health')],
          },
          // Soonest expiry per tenant, in days, across every connector that expires.
          {
            record: 'intune:tenant_connector_days_to_expiry:min',
            expr: 'min by (%s) (intune:connector_days_to_expiry)' % by(['tenant_id']),
          },
          // Soonest expiry per tenant and connector kind, in days.
          {
            record: 'intune:connector_type_days_to_expiry:min',
            expr: 'min by (%s) (intune:connector_days_to_expiry)' % by(['tenant_id', 'connector']),
          },
          // Oldest last sync per tenant and connector kind, in days.
          {
            record: 'intune:connector_type_days_since_last_sync:max',
            expr: 'max by (%s) (intune:connector_days_since_last_sync)' % by(['tenant_id', 'connector']),
          },
          // Highest licence utilisation per tenant, across its Intune-carrying SKUs.
          {
            record: 'intune:tenant_license_utilization:max_ratio',
            expr: 'max by (%s) (intune:license_utilization:ratio)' % by(['tenant_id']),
          },
          // How many tenants one unresolved Microsoft issue affects. Microsoft's issue ids
          // are global, so an incident seen by 40 customers is one series with value 40.
          // Customer-origin issues are each tenant's own and are not counted across tenants.
          {
            record: 'intune:service_issue_tenants:count',
            expr: |||
              count without (tenant_id) (
                max by (%s) (%s)
              )
            ||| % [by(['tenant_id', 'service_name', 'issue_id', 'classification', 'title']), m('intune_service_issue_info', ['origin!="customer"'])],
          },
        ],
      },
    ],
  },
}
