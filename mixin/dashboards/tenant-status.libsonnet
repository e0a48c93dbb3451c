// The Intune Tenant status page, one tenant at a time: tenant details, licences, connector
// status (the top five in the page's order, then all of them), service health and Intune
// news (the 10 latest posts, newest first).
local g = import '../lib/dashboard.libsonnet';
local common = import '../lib/common.libsonnet';
local connectors = import '../generated/connectors.json';

{
  grafanaDashboards+:: {
    local c = $._config,
    local s = common.exporterSelector + ', tenant_id="$tenant"',
    local kinds = [k.connector for k in connectors],
    assert std.length([k for k in std.objectFields(c.connectorBlades) if !std.member(kinds, k)]) == 0 :
           'connectorBlades names a connector kind the exporter does not have',

    // Adds a `portal` label: the connector kind's admin centre blade.
    local withPortal(expr) = std.foldl(
      function(e, k) 'label_replace(%s, "portal", "%s", "connector", "%s")' % [e, c.connectorBlades[k], k],
      std.objectFields(c.connectorBlades),
      'label_replace(%s, "portal", "%s", "connector", ".*")' % [expr, c.connectorOverviewBlade],
    ),
    local connectorColumns = [
      g.column('Connector', {
        mappings: g.valueMap([[k.connector, k.description, 'text'] for k in connectors]),
        links: [common.adminCentre('${__data.fields.portal}')],
        'custom.width': 360,
      }),
      g.column('Status', { mappings: common.severityMap, 'custom.cellOptions': { type: 'color-background' }, 'custom.width': 140 }),
      g.column('Days to expiry', { unit: 'd', decimals: 0, thresholds: g.thresholds(common.expiryDays(c)), 'custom.cellOptions': { type: 'color-text' } }),
      g.column('Last sync', { unit: 'dateTimeAsIso' }),
      g.column('Days since last sync', { unit: 'd', decimals: 1, thresholds: g.thresholds(common.syncDays(c)), 'custom.cellOptions': { type: 'color-text' } }),
      g.column('portal', { 'custom.hidden': true }),
      g.column('order', { 'custom.hidden': true }),
    ],
    local connectorRename = [
      ['connector', 'Connector'],
      ['Value #B', 'Status'],
      ['Value #C', 'Days to expiry'],
      ['Value #D', 'Last sync'],
      ['Value #E', 'Days since last sync'],
      ['portal', 'portal'],
      ['Value #A', 'order'],
    ],
    local connectorTargets(restrict) = [
      g.instant(withPortal('max by (connector) (intune:connector_type_health:page_rank{%s})' % s) + restrict, 'A', table=true),
      g.instant('max by (connector) (intune:connector_type_health:severity{%s})' % s + restrict, 'B', table=true),
      g.instant('min by (connector) (intune:connector_type_days_to_expiry:min{%s})' % s + restrict, 'C', table=true),
      g.instant('min by (connector) (intune_connector_last_sync_timestamp_seconds{%s}) * 1000' % s + restrict, 'D', table=true),
      g.instant('max by (connector) (intune:connector_type_days_since_last_sync:max{%s})' % s + restrict, 'E', table=true),
    ],
    local topN = '\n  and on (connector) topk(%d, max by (connector) (intune:connector_type_health:page_rank{%s}))' % [c.connectorTopN, s],

    local greenHealthy = ['service_operational', 'service_restored', 'false_positive', 'resolved', 'resolved_external', 'mitigated', 'mitigated_external', 'post_incident_review_published'],
    local redDown = ['service_degradation', 'service_interruption'],
    local statusIn(list) = 'max by (service_name, status) (intune_service_health_status{%s, status=~"%s"} == 1)' % [s, std.join('|', list)],

    'intune-tenant-status.json': g.dashboard(
      c.dashboardUIDs.tenantStatus,
      'Intune tenant status',
      "Intune's Tenant status page for one tenant, from intune-exporter. Colours follow the warning ladder of docs/runbooks.md.",
      c.dashboardTags,
      common.variables(c, [g.queryVariable('tenant', 'Tenant', 'label_values(intune_tenant_info{job=~"$job", instance=~"$instance"}, tenant_id)')]),
      [
        g.row('Tenant details', [
          g.table(
            'Tenant', "intune_tenant_info: the tenant's name, country and MDM authority. The name opens the tenant's own Tenant status page in the admin centre of the chosen cloud.",
            [g.instant('max by (tenant_id, tenant_name, country_code, mdm_authority) (intune_tenant_info{%s})' % s, table=true)],
            [['tenant_name', 'Name'], ['tenant_id', 'Tenant ID'], ['country_code', 'Country'], ['mdm_authority', 'MDM authority']],
            [10, 4],
            overrides=[g.column('Name', { links: [common.adminCentre(c.tenantStatusBlade)] })],
          ),
          g.stat(
            'Intune subscription', 'State of the Intune subscription (intune_tenant_subscription_state): green active, blue pending, orange warning (grace period), red disabled, deleted, blocked or locked out.',
            [g.instant(|||
              max by (state) (intune_tenant_subscription_state{%(s)s, state="active"} == 1)
              or max by (state) (intune_tenant_subscription_state{%(s)s, state="pending"} == 1) * 2
              or max by (state) (intune_tenant_subscription_state{%(s)s, state="warning"} == 1) * 3
              or max by (state) (intune_tenant_subscription_state{%(s)s, state!~"active|pending|warning"} == 1) * 4
            ||| % { s: s }, legend='{{state}}')],
            size=[4, 4], thresholds=[[null, 'green'], [2, 'blue'], [3, 'orange'], [4, 'red']], textMode='name',
          ),
          g.stat(
            'Licences used', 'Highest share of the enabled Intune licences assigned, across SKUs (intune:tenant_license_utilization:max_ratio). Orange above the IntuneLicensesNearlyExhausted threshold.',
            [g.instant('max(intune:tenant_license_utilization:max_ratio{%s})' % s)],
            unit='percentunit', size=[5, 4], thresholds=[[null, 'green'], [c.licenceUtilisationRatio, 'orange'], [1, 'red']],
          ),
          g.stat(
            'Apple terms to accept', 'ADE/DEP tokens that stopped syncing until new Apple Business Manager terms are accepted (intune_apple_enrollment_terms_pending).',
            [g.instant('count(intune_apple_enrollment_terms_pending{%s} == 1) or vector(0)' % s)],
            size=[5, 4], thresholds=[[null, 'green'], [1, 'orange']],
          ),
          g.table(
            'Licences', 'Intune-carrying SKUs: enabled prepaid units, assigned units, free units, utilisation and units in the grace period (warning state).',
            [
              g.instant('max by (sku) (intune_license_prepaid_units{%s, state="enabled"})' % s, 'A', table=true),
              g.instant('max by (sku) (intune_license_consumed_units{%s})' % s, 'B', table=true),
              g.instant('max by (sku) (intune:license_available_units{%s})' % s, 'C', table=true),
              g.instant('max by (sku) (intune:license_utilization:ratio{%s})' % s, 'D', table=true),
              g.instant('max by (sku) (intune_license_prepaid_units{%s, state="warning"})' % s, 'E', table=true),
            ],
            [['sku', 'SKU'], ['Value #A', 'Enabled'], ['Value #B', 'Assigned'], ['Value #C', 'Available'], ['Value #D', 'Used'], ['Value #E', 'In grace period']],
            [24, 6],
            overrides=[g.column('Used', { unit: 'percentunit', thresholds: g.thresholds([[null, 'green'], [c.licenceUtilisationRatio, 'orange'], [1, 'red']]), 'custom.cellOptions': { type: 'color-text' } })],
          ),
          g.table(
            'Commercial subscriptions', 'Subscriptions that carry Intune (the subscriptions source, off by default): status and days until the next lifecycle date, when it moves to its next state unless renewed. Orange within the renewal ticket window (or the trial page window for trials), red when lapsed (warning, suspended, locked out).',
            [
              g.instant('max by (subscription_id, sku, trial) (intune_subscription_info{%s})' % s, 'A', table=true),
              g.instant('max by (subscription_id, status) (intune_subscription_status{%s} == 1)' % s, 'B', table=true),
              g.instant('max by (subscription_id) ((intune_subscription_next_lifecycle_timestamp_seconds{%s} - time()) / 86400)' % s, 'C', table=true),
            ],
            [['sku', 'SKU'], ['subscription_id', 'Subscription ID'], ['trial', 'Trial'], ['status', 'Status'], ['Value #C', 'Days to next lifecycle date']],
            [24, 5],
            overrides=[
              g.column('Status', { mappings: g.valueMap([['enabled', 'enabled', 'green'], ['warning', 'warning', 'red'], ['suspended', 'suspended', 'red'], ['locked_out', 'locked out', 'red'], ['deleted', 'deleted', 'text']]), 'custom.cellOptions': { type: 'color-text' } }),
              g.column('Days to next lifecycle date', { decimals: 0, thresholds: g.thresholds([[null, 'orange'], [c.subscriptionNoticeDays, 'green']]), 'custom.cellOptions': { type: 'color-text' } }),
            ],
          ),
        ]),
        g.row('Connector status', [
          g.stat(
            'Connector kinds by status', 'How many connector kinds are unhealthy, warning, healthy or not configured (intune:tenant_connectors:count).',
            [g.instant('max by (status) (intune:tenant_connectors:count{%s})' % s, legend='{{status}}')],
            size=[24, 3],
            extra={ fieldConfig+: { overrides: [
              g.column(st[0], { color: { mode: 'fixed', fixedColor: st[1] } })
              for st in [['unhealthy', 'red'], ['warning', 'orange'], ['healthy', 'green'], ['not_configured', 'text']]
            ] } },
          ),
          g.table(
            'Connector status', 'The top %d connector kinds as the Tenant status page lists them: unhealthy, then warning, healthy, not configured. Expand "All connectors" below for every kind and instance. A connector opens its page in the admin centre of the chosen cloud.' % c.connectorTopN,
            connectorTargets(topN), connectorRename, [24, 7], connectorColumns, sort=['Value #A', true],
          ),
        ]),
        g.row('All connectors', [
          g.table(
            'All connector kinds', 'Every connector kind, not configured ones included, in the Tenant status page order (intune_connector_type_health). Days to expiry and last sync are those of the worst instance.',
            connectorTargets(''), connectorRename, [24, 12], connectorColumns, sort=['Value #A', true],
          ),
          g.table(
            'Connector instances', 'Every configured connector, certificate and token with its own health, the state Graph reports for it, and for certificate, NDES, AD and Exchange connectors the installed version and where it stands by Microsoft\'s support policy (intune_connector_info, intune:connector_health:severity).',
            [
              g.instant('max by (connector, connector_id, display_name, state, version, support) (intune_connector_info{%s})' % s, 'A', table=true),
              g.instant('max by (connector, connector_id) (intune:connector_health:severity{%s})' % s, 'B', table=true),
              g.instant('max by (connector, connector_id) (intune_connector_expiry_timestamp_seconds{%s}) * 1000' % s, 'C', table=true),
              g.instant('max by (connector, connector_id) (intune:connector_days_to_expiry{%s})' % s, 'D', table=true),
              g.instant('max by (connector, connector_id) (intune_connector_last_sync_timestamp_seconds{%s}) * 1000' % s, 'E', table=true),
            ],
            [['connector', 'Connector'], ['display_name', 'Name'], ['connector_id', 'ID'], ['state', 'Reported state'], ['version', 'Version'], ['support', 'Support'], ['Value #B', 'Status'], ['Value #C', 'Expires'], ['Value #D', 'Days to expiry'], ['Value #E', 'Last sync']],
            [16, 9],
            [
              g.column('Connector', { mappings: g.valueMap([[k.connector, k.description, 'text'] for k in connectors]) }),
              g.column('Support', { mappings: g.valueMap([['may_fail', 'May fail', 'red'], ['out_of_support', 'Out of support', 'orange'], ['supported', 'Supported', 'green']]), 'custom.cellOptions': { type: 'color-text' } }),
              g.column('Status', { mappings: common.severityMap, 'custom.cellOptions': { type: 'color-background' } }),
              g.column('Expires', { unit: 'dateTimeAsIso' }),
              g.column('Days to expiry', { unit: 'd', decimals: 0, thresholds: g.thresholds(common.expiryDays(c)), 'custom.cellOptions': { type: 'color-text' } }),
              g.column('Last sync', { unit: 'dateTimeAsIso' }),
            ],
            sort=['Value #B', true],
          ),
          g.table(
            "Microsoft's connector status", "Microsoft's own verdict (beta connectorStatus, intune_connector_reported_health), next to the exporter's, so a disagreement shows.",
            [g.instant('max by (connector_name, connector_id, status) (intune_connector_reported_health{%s} == 1)' % s, table=true)],
            [['connector_name', 'Connector'], ['connector_id', 'ID'], ['status', 'Status']],
            [8, 9],
            [g.column('Status', { mappings: g.valueMap([['unhealthy', 'Unhealthy', 'red'], ['warning', 'Warning', 'orange'], ['healthy', 'Healthy', 'green'], ['unknown', 'Unknown', 'text']]), 'custom.cellOptions': { type: 'color-background' } })],
          ),
        ], collapsed=true),
        g.row('Intune service health', [
          g.stat(
            'Intune service status', 'Microsoft 365 service health of the watched services (intune_service_health_status): green operational or restored, orange investigating or recovering, red degraded or interrupted, grey unknown.',
            [g.instant(std.join('\n  or ', [
              statusIn(greenHealthy),
              statusIn(redDown) + ' * 3',
              'max by (service_name, status) (intune_service_health_status{%s, status!~"%s"} == 1) * 2' % [s, std.join('|', greenHealthy + redDown + ['unknown'])],
              'max by (service_name, status) (intune_service_health_status{%s, status="unknown"} == 1) * 0' % s,
            ]) + '\n', legend='{{service_name}}: {{status}}')],
            size=[8, 4], thresholds=[[null, 'text'], [1, 'green'], [2, 'orange'], [3, 'red']], textMode='name',
          ),
          g.stat(
            'Active issues', 'Unresolved incidents and advisories of the watched services (intune_service_issues_active).',
            [g.instant('sum by (classification) (max by (service_name, classification) (intune_service_issues_active{%s}))' % s, legend='{{classification}}')],
            size=[8, 4], thresholds=[[null, 'green'], [1, 'orange']],
          ),
          g.stat(
            'Past 30 days', 'Incidents and advisories of the watched services resolved in the last 30 days (intune_service_issues_recently_resolved), what the page\'s "see past incidents and advisories" lists.',
            [g.instant('sum by (classification) (max by (service_name, classification) (intune_service_issues_recently_resolved{%s}))' % s, legend='{{classification}}')],
            size=[8, 4], thresholds=[[null, 'text']],
          ),
          g.table(
            'Active incidents and advisories', 'Unresolved service health issues (intune_service_issue_info), newest first; the ones resolved in the last 30 days are counted beside.',
            [
              g.instant('max by (issue_id, classification, origin, status, feature_group, feature, title, service_name) (intune_service_issue_info{%s})' % s, 'A', table=true),
              g.instant('max by (issue_id) (intune_service_issue_start_timestamp_seconds{%s}) * 1000' % s, 'B', table=true),
            ],
            [['issue_id', 'ID'], ['title', 'Title'], ['classification', 'Classification'], ['origin', 'Origin'], ['status', 'Status'], ['Value #B', 'Started'], ['service_name', 'Service'], ['feature_group', 'Feature group'], ['feature', 'Feature']],
            [24, 8],
            [
              g.column('Started', { unit: 'dateTimeAsIso' }),
              g.column('Classification', { mappings: g.valueMap([['incident', 'Incident', 'red'], ['advisory', 'Advisory', 'orange']]), 'custom.cellOptions': { type: 'color-text' } }),
              g.column('Origin', { mappings: g.valueMap([['microsoft', 'Microsoft', 'text'], ['third_party', 'Third party', 'text'], ['customer', 'Your organization', 'purple']]), 'custom.cellOptions': { type: 'color-text' } }),
            ],
            sort=['Value #B', true],
          ),
        ]),
        g.row('Intune news', [
          g.table(
            'Intune news', 'The 10 most recently updated active Message center posts, newest first, as the Tenant status page lists them (intune_message_center_message_info of the posts with ..._last_modified_timestamp_seconds). "Act by" is the action-required date, when Microsoft set one.',
            [
              g.instant(|||
                max by (message_id, title, category, severity, major_change) (intune_message_center_message_info{%(s)s})
                  and on (message_id) max by (message_id) (intune_message_center_message_last_modified_timestamp_seconds{%(s)s})
              ||| % { s: s }, 'A', table=true),
              g.instant('max by (message_id) (intune_message_center_message_last_modified_timestamp_seconds{%s}) * 1000' % s, 'B', table=true),
              g.instant(|||
                max by (message_id) (intune_message_center_action_required_timestamp_seconds{%(s)s}) * 1000
                  and on (message_id) max by (message_id) (intune_message_center_message_last_modified_timestamp_seconds{%(s)s})
              ||| % { s: s }, 'C', table=true),
            ],
            [['Value #B', 'Date'], ['title', 'Title'], ['category', 'Category'], ['severity', 'Severity'], ['Value #C', 'Act by'], ['message_id', 'ID'], ['major_change', 'Major change']],
            [18, 10],
            [
              g.column('Date', { unit: 'dateTimeAsIsoNoDateIfToday' }),
              g.column('Act by', { unit: 'dateTimeAsIso' }),
              g.column('Category', { mappings: g.valueMap([['prevent_or_fix_issue', 'Prevent or fix issue', 'text'], ['plan_for_change', 'Plan for change', 'text'], ['stay_informed', 'Stay informed', 'text']]) }),
              g.column('Severity', { mappings: g.valueMap([['critical', 'Critical', 'red'], ['high', 'High', 'orange'], ['normal', 'Normal', 'text']]), 'custom.cellOptions': { type: 'color-text' } }),
              g.column('Title', { 'custom.width': 520 }),
            ],
            sort=['Value #B', true],
          ),
          g.stat(
            'Active posts', 'Every active Message center post about a watched service, by category and severity (intune_message_center_messages_active).',
            [g.instant('sum by (category) (max by (category, severity) (intune_message_center_messages_active{%s}))' % s, legend='{{category}}')],
            size=[6, 10], thresholds=[[null, 'blue']],
          ),
          g.table(
            'Action required', 'Every active post with an act-by date (intune_message_center_action_required_timestamp_seconds), however old, soonest first: IntuneMessageCenterActionRequired tickets 30 days before and pages 7 days before.',
            [
              g.instant('max by (message_id) (intune_message_center_action_required_timestamp_seconds{%s}) * 1000' % s, 'A', table=true),
              g.instant(|||
                max by (message_id, title, tags) (intune_message_center_message_info{%(s)s})
                  and on (message_id) max by (message_id) (intune_message_center_action_required_timestamp_seconds{%(s)s})
              ||| % { s: s }, 'B', table=true),
            ],
            [['Value #A', 'Act by'], ['title', 'Title'], ['tags', 'Tags'], ['message_id', 'ID']],
            [24, 6],
            [g.column('Act by', { unit: 'dateTimeAsIso' }), g.column('Title', { 'custom.width': 520 })],
            sort=['Value #A', false],
          ),
        ]),
      ],
    ),
  },
}
