// The fleet view for MSPs: every tenant of the selected exporters, worst first, with counts
// per status, what expires in the next 7 and 30 days across all tenants, the top offenders,
// Microsoft issues by how many tenants they affect and the partner's GDAP relationships.
// Tenants link to the tenant dashboard.
local g = import '../lib/dashboard.libsonnet';
local common = import '../lib/common.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local s = common.exporterSelector + ', tenant_id=~"$tenant"',
    local tenantName = '\n  * on (tenant_id) group_left (tenant_name) max by (tenant_id, tenant_name) (intune_tenant_info{%s})' % s,
    local tenantLink = {
      title: 'Open the tenant status dashboard',
      url: '/d/%s/%s?var-tenant=${__data.fields.tenant_id}&${job:queryparam}&${instance:queryparam}&${cloud:queryparam}&${datasource:queryparam}' % [c.dashboardUIDs.tenantStatus, c.dashboardUIDs.tenantStatus],
    },
    local expiringWithin(days) = 'count(max by (tenant_id, connector, connector_id) (intune:connector_days_to_expiry{%s}) > 0 <= %d) or vector(0)' % [s, days],

    'intune-fleet.json': g.dashboard(
      c.dashboardUIDs.fleet,
      'Intune fleet',
      'Every tenant read by the selected intune-exporters, worst first. Colours follow the warning ladder of docs/runbooks.md.',
      c.dashboardTags,
      common.variables(c, [g.queryVariable('tenant', 'Tenant', 'label_values(intune_tenant_info{job=~"$job", instance=~"$instance"}, tenant_id)', multi=true, includeAll=true)]),
      [
        g.row('Overview', [
          // Counted from the sign-in, which every polled tenant has: a tenant that cannot sign
          // in has no intune_tenant_info, and would not be counted at all.
          g.stat('Tenants', 'Tenants of the selected exporters: readable, and not readable because signing in to them fails (intune_exporter_sign_in_up; IntuneExporterSignInFailing).',
                 [
                   g.instant('count(max by (tenant_id) (intune_exporter_sign_in_up{%s}) == 1) or vector(0)' % s, 'A', 'readable'),
                   g.instant('count(max by (tenant_id) (intune_exporter_sign_in_up{%s}) == 0) or vector(0)' % s, 'B', 'not readable'),
                 ],
                 size=[4, 4], thresholds=[[null, 'blue']],
                 extra={ fieldConfig+: { overrides: [g.column('not readable', { thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 1 }] } })] } }),
          g.stat('Tenants with an unhealthy connector', 'Tenants whose worst connector kind is unhealthy.',
                 [g.instant('count(max by (tenant_id) (intune:tenant_connector_health:severity{%s}) == 3) or vector(0)' % s)], size=[4, 4], thresholds=[[null, 'green'], [1, 'red']]),
          g.stat('Tenants with a connector in warning', 'Tenants whose worst connector kind is in warning.',
                 [g.instant('count(max by (tenant_id) (intune:tenant_connector_health:severity{%s}) == 2) or vector(0)' % s)], size=[4, 4], thresholds=[[null, 'green'], [1, 'orange']]),
          g.stat('Expired', 'Connector certificates and tokens that have expired, across all tenants.',
                 [g.instant('count(max by (tenant_id, connector, connector_id) (intune:connector_days_to_expiry{%s}) <= 0) or vector(0)' % s)], size=[4, 4], thresholds=[[null, 'green'], [1, 'red']]),
          g.stat('Expiring in %d days' % c.ladder.expiryWarningDays, 'Certificates and tokens that expire within the Tenant status page\'s warning window, across all tenants.',
                 [g.instant(expiringWithin(c.ladder.expiryWarningDays))], size=[4, 4], thresholds=[[null, 'green'], [1, 'orange']]),
          g.stat('Expiring in %d days' % c.ladder.expiryNoticeDays, 'Certificates and tokens that expire within the notice window of the warning ladder, across all tenants.',
                 [g.instant(expiringWithin(c.ladder.expiryNoticeDays))], size=[4, 4], thresholds=[[null, 'green'], [1, 'yellow']]),
          g.stat('Connector kinds by status', 'Connector kinds in each status, summed over the tenants (intune:tenant_connectors:count).',
                 [g.instant('sum by (status) (max by (tenant_id, status) (intune:tenant_connectors:count{%s}))' % s, legend='{{status}}')],
                 size=[24, 3], thresholds=[[null, 'text']],
                 extra={ fieldConfig+: { overrides: [
                   g.column(st[0], { color: { mode: 'fixed', fixedColor: st[1] } })
                   for st in [['unhealthy', 'red'], ['warning', 'orange'], ['healthy', 'green'], ['not_configured', 'text']]
                 ] } }),
          g.table(
            'Tenants by worst connector status', 'One row per tenant, worst first. A tenant opens its tenant status dashboard.',
            [
              g.instant('max by (tenant_id, tenant_name) (intune_tenant_info{%s})' % s, 'A', table=true),
              g.instant('max by (tenant_id) (intune:tenant_connector_health:severity{%s})' % s, 'B', table=true),
              g.instant('max by (tenant_id) (intune:tenant_connectors:count{%s, status="unhealthy"})' % s, 'C', table=true),
              g.instant('max by (tenant_id) (intune:tenant_connectors:count{%s, status="warning"})' % s, 'D', table=true),
              g.instant('min by (tenant_id) (intune:tenant_connector_days_to_expiry:min{%s})' % s, 'E', table=true),
              g.instant('max by (tenant_id) (intune:tenant_license_utilization:max_ratio{%s})' % s, 'F', table=true),
              g.instant('count by (tenant_id) (max by (tenant_id, issue_id) (intune_service_issue_info{%s, classification="incident"}))' % s, 'G', table=true),
              g.instant('sum by (tenant_id) (1 - max by (tenant_id, source) (intune_exporter_source_up{%s}))' % s, 'H', table=true),
              g.instant('count by (tenant_id) (max by (tenant_id, subscription_id) (intune_subscription_status{%s, status=~"warning|suspended|locked_out"}) == 1)' % s, 'I', table=true),
            ],
            [['tenant_name', 'Tenant'], ['tenant_id', 'Tenant ID'], ['Value #B', 'Worst connector'], ['Value #C', 'Unhealthy kinds'], ['Value #D', 'Warning kinds'],
             ['Value #E', 'Soonest expiry'], ['Value #F', 'Licences used'], ['Value #G', 'Active incidents'], ['Value #H', 'Failing sources'],
             ['Value #I', 'Lapsed subscriptions']],
            [24, 12],
            [
              g.column('Tenant', { links: [tenantLink] }),
              g.column('Worst connector', { mappings: common.severityMap, 'custom.cellOptions': { type: 'color-background' } }),
              g.column('Soonest expiry', { unit: 'd', decimals: 0, thresholds: g.thresholds(common.expiryDays(c)), 'custom.cellOptions': { type: 'color-text' } }),
              g.column('Licences used', { unit: 'percentunit', thresholds: g.thresholds([[null, 'green'], [c.licenceUtilisationRatio, 'orange'], [1, 'red']]), 'custom.cellOptions': { type: 'color-text' } }),
              g.column('Lapsed subscriptions', { thresholds: g.thresholds([[null, 'green'], [1, 'red']]), 'custom.cellOptions': { type: 'color-text' } }),
            ],
            sort=['Value #B', true],
          ),
        ]),
        g.row('Expiries, offenders and incidents', [
          g.table(
            'Soonest expiries', 'The 25 certificates and tokens that expire first, across all tenants.',
            [g.instant('bottomk(25, min by (tenant_id, connector, connector_id) (intune:connector_days_to_expiry{%s}))' % s + tenantName, table=true)],
            [['tenant_name', 'Tenant'], ['connector', 'Connector'], ['connector_id', 'ID'], ['Value', 'Days to expiry'], ['tenant_id', 'Tenant ID']],
            [12, 10],
            [g.column('Tenant', { links: [tenantLink] }), g.column('Days to expiry', { unit: 'd', decimals: 0, thresholds: g.thresholds(common.expiryDays(c)), 'custom.cellOptions': { type: 'color-text' } })],
            sort=['Value', false],
          ),
          g.table(
            'Top offenders', 'The 10 tenants with the most connector kinds in warning or unhealthy.',
            [g.instant('topk(10, sum by (tenant_id) (max by (tenant_id, status) (intune:tenant_connectors:count{%s, status=~"warning|unhealthy"})))' % s + tenantName, table=true)],
            [['tenant_name', 'Tenant'], ['Value', 'Kinds needing attention'], ['tenant_id', 'Tenant ID']],
            [12, 10],
            [g.column('Tenant', { links: [tenantLink] }), g.column('Kinds needing attention', { thresholds: g.thresholds([[null, 'green'], [1, 'orange']]), 'custom.cellOptions': { type: 'color-text' } })],
            sort=['Value', true],
          ),
          g.table(
            'Microsoft issues by tenants affected', 'Unresolved incidents and advisories, one row per Microsoft issue, with how many of the selected tenants report it (intune:service_issue_tenants:count).',
            [g.instant('max by (issue_id, classification, service_name, title) (intune:service_issue_tenants:count{%s})' % common.exporterSelector, table=true)],
            [['issue_id', 'ID'], ['title', 'Title'], ['classification', 'Classification'], ['service_name', 'Service'], ['Value', 'Tenants']],
            [12, 8],
            sort=['Value', true],
          ),
          g.table(
            'Message center deadlines', 'Active Message center posts with an act-by date, one row per post, soonest first, with how many of the selected tenants have it (intune_message_center_action_required_timestamp_seconds). IntuneMessageCenterActionRequired alerts once per post.',
            [
              g.instant('min by (message_id) (intune_message_center_action_required_timestamp_seconds{%s}) * 1000' % s, 'A', table=true),
              g.instant('count by (message_id) (max by (tenant_id, message_id) (intune_message_center_action_required_timestamp_seconds{%s}))' % s, 'B', table=true),
              g.instant(|||
                max by (message_id, title, tags) (intune_message_center_message_info{%(s)s})
                  and on (message_id) max by (message_id) (intune_message_center_action_required_timestamp_seconds{%(s)s})
              ||| % { s: s }, 'C', table=true),
            ],
            [['Value #A', 'Act by'], ['title', 'Title'], ['tags', 'Tags'], ['Value #B', 'Tenants'], ['message_id', 'ID']],
            [12, 8],
            [g.column('Act by', { unit: 'dateTimeAsIso' })],
            sort=['Value #A', false],
          ),
          g.table(
            'Licence utilisation', 'The 25 SKUs with the highest share of enabled licences assigned.',
            [g.instant('topk(25, max by (tenant_id, sku) (intune:license_utilization:ratio{%s}))' % s + tenantName, table=true)],
            [['tenant_name', 'Tenant'], ['sku', 'SKU'], ['Value', 'Used'], ['tenant_id', 'Tenant ID']],
            [12, 8],
            [g.column('Tenant', { links: [tenantLink] }), g.column('Used', { unit: 'percentunit', thresholds: g.thresholds([[null, 'green'], [c.licenceUtilisationRatio, 'orange'], [1, 'red']]), 'custom.cellOptions': { type: 'color-text' } })],
            sort=['Value', true],
          ),
          // Listed from the partner tenant with GDAP discovery; empty without it.
          g.table(
            'GDAP relationships', "The partner's delegated admin relationships with the selected customers, soonest end first: at the end the partner's technicians lose the admin roles unless the relationship auto-extends (0: it does not). IntuneGdapRelationshipExpiring and IntuneGdapRelationshipEnded alert on them.",
            [
              g.instant('min by (tenant_id, relationship_id) (intune_gdap_relationship_end_timestamp_seconds{%s}) * 1000' % s, 'A', table=true),
              g.instant('(min by (tenant_id, relationship_id) (intune_gdap_relationship_end_timestamp_seconds{%s}) - time()) / 86400' % s, 'B', table=true),
              g.instant('max by (tenant_id, relationship_id) (intune_gdap_relationship_auto_extend_seconds{%s}) / 86400' % s, 'C', table=true),
              g.instant('max by (tenant_id, relationship_id, customer_name, display_name, status) (intune_gdap_relationship_info{%s})' % s, 'D', table=true),
            ],
            [['customer_name', 'Customer'], ['display_name', 'Relationship'], ['status', 'Status'], ['Value #B', 'Days left'], ['Value #C', 'Auto-extends by (days)'],
             ['Value #A', 'Ends'], ['tenant_id', 'Tenant ID'], ['relationship_id', 'ID']],
            [12, 8],
            [g.column('Days left', { unit: 'd', decimals: 0, thresholds: g.thresholds(common.expiryDays(c)), 'custom.cellOptions': { type: 'color-text' } }),
             g.column('Ends', { unit: 'dateTimeAsIso' })],
            sort=['Value #B', false],
          ),
        ]),
        g.row('Trends', [
          g.timeseries('Connector kinds by status', 'Connector kinds in each status over time, summed over the tenants.',
                       [g.range('sum by (status) (max by (tenant_id, status) (intune:tenant_connectors:count{%s}))' % s, legend='{{status}}')], 'none', [12, 8]),
          g.timeseries('Active Microsoft issues', 'Unresolved incidents and advisories over time (distinct issues).',
                       [g.range('count by (classification) (max by (issue_id, classification) (intune_service_issue_info{%s}))' % s, legend='{{classification}}')], 'none', [12, 8]),
        ]),
      ],
    ),
  },
}
