// The exporter itself: targets, tenants and how they were found, configuration reloads,
// sources, Microsoft Graph traffic, credentials and the process.
local g = import '../lib/dashboard.libsonnet';
local common = import '../lib/common.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local e = common.exporterSelector,
    local s = e + ', tenant_id=~"$tenant"',

    'intune-exporter.json': g.dashboard(
      c.dashboardUIDs.exporter,
      'intune-exporter',
      'Health of intune-exporter: scrapes, tenants, discovery, reloads, Graph sources and traffic, credentials and the process.',
      c.dashboardTags,
      common.variables(c, [g.queryVariable('tenant', 'Tenant', 'label_values(intune_exporter_source_up{job=~"$job", instance=~"$instance"}, tenant_id)', multi=true, includeAll=true)]),
      [
        g.row('Exporter', [
          g.stat('Exporters up', 'Targets of the selected jobs that Prometheus scrapes successfully (up).',
                 [g.instant('sum(up{%s})' % e)], size=[4, 4], thresholds=[[null, 'red'], [1, 'green']]),
          g.stat('Failing sources', 'Graph sources of the selected tenants whose last poll failed (intune_exporter_source_up == 0).',
                 [g.instant('count(intune_exporter_source_up{%s} == 0) or vector(0)' % s)], size=[4, 4], thresholds=[[null, 'green'], [1, 'orange']]),
          g.stat('Oldest data', 'Age of the oldest successful poll among the selected tenants and sources.',
                 [g.instant('time() - min(intune_exporter_source_last_success_timestamp_seconds{%s})' % s)], unit='s', size=[4, 4],
                 thresholds=[[null, 'green'], [c.dataStaleWarningSeconds, 'orange'], [c.dataStaleCriticalSeconds, 'red']]),
          g.table('Build', 'Version of every selected exporter (intune_exporter_build_info).',
                  [g.instant('max by (instance, version, revision, rustc_version) (intune_exporter_build_info{%s})' % e, table=true)],
                  [['instance', 'Instance'], ['version', 'Version'], ['revision', 'Revision'], ['rustc_version', 'rustc']], [12, 4]),
          g.stat('Tenants by origin', 'Tenants each exporter reads, by where it learnt of them: config, tenant files or discovery (intune_exporter_tenants).',
                 [g.instant('sum by (origin) (intune_exporter_tenants{%s})' % e, legend='{{origin}}')], size=[6, 4], thresholds=[[null, 'blue']]),
          g.stat('Tenant discovery', 'Whether the last run of each tenant discovery succeeded (intune_exporter_discovery_up).',
                 [g.instant('min by (discovery) (intune_exporter_discovery_up{%s})' % e, legend='{{discovery}}')], size=[6, 4],
                 thresholds=[[null, 'red'], [1, 'green']], mappings=g.valueMap([['0', 'Failing', 'red'], ['1', 'Up', 'green']])),
          g.stat('Last tenant discovery', 'Time since each tenant discovery last succeeded (intune_exporter_discovery_last_success_timestamp_seconds); tenant files are checked every 5 s, GDAP every discovery interval.',
                 [g.instant('time() - max by (discovery) (intune_exporter_discovery_last_success_timestamp_seconds{%s})' % e, legend='{{discovery}}')], unit='s', size=[6, 4],
                 thresholds=[[null, 'green'], [7200, 'orange'], [86400, 'red']]),
          g.stat('Last configuration reload', 'Whether the last configuration reload succeeded (intune_exporter_config_last_reload_successful), per instance.',
                 [g.instant('min by (instance) (intune_exporter_config_last_reload_successful{%s})' % e, legend='{{instance}}')], size=[6, 4],
                 thresholds=[[null, 'red'], [1, 'green']], mappings=g.valueMap([['0', 'Failed', 'red'], ['1', 'Succeeded', 'green']])),
        ]),
        g.row('Sources', [
          g.table('Sources', 'Every Graph source per tenant: its last poll, and when it last succeeded.',
                  [
                    g.instant('max by (tenant_id, source) (intune_exporter_source_up{%s})' % s, 'A', table=true),
                    g.instant('max by (tenant_id, source) (intune_exporter_source_last_success_timestamp_seconds{%s}) * 1000' % s, 'B', table=true),
                  ],
                  [['tenant_id', 'Tenant'], ['source', 'Source'], ['Value #A', 'Last poll'], ['Value #B', 'Last success']],
                  [12, 10],
                  [g.column('Last poll', { mappings: g.valueMap([['0', 'Failed', 'red'], ['1', 'Succeeded', 'green']]), 'custom.cellOptions': { type: 'color-text' } }),
                   g.column('Last success', { unit: 'dateTimeAsIso' })],
                  sort=['Value #A', false]),
          g.timeseries('Data age by source', 'Age of the oldest successful poll of each source, over the selected tenants.',
                       [g.range('time() - min by (source) (intune_exporter_source_last_success_timestamp_seconds{%s})' % s, legend='{{source}}')], 's', [12, 10]),
        ]),
        g.row('Microsoft Graph', [
          g.timeseries('Graph requests by status code', 'Requests sent to Microsoft Graph per second, by HTTP status ("error" when no answer came).',
                       [g.range('sum by (code) (rate(intune_exporter_graph_requests_total{%s}[$__rate_interval]))' % e, legend='{{code}}')], 'reqps', [8, 8]),
          g.timeseries('Graph throttling', 'Answers 429 Too Many Requests per second, by source.',
                       [g.range('sum by (source) (rate(intune_exporter_graph_throttled_total{%s}[$__rate_interval]))' % e, legend='{{source}}')], 'reqps', [8, 8]),
          g.timeseries('Graph request latency', '95th and 50th percentile of Graph request duration.',
                       [
                         g.range('histogram_quantile(0.95, sum by (le) (rate(intune_exporter_graph_request_duration_seconds_bucket{%s}[$__rate_interval])))' % e, 'A', 'p95'),
                         g.range('histogram_quantile(0.5, sum by (le) (rate(intune_exporter_graph_request_duration_seconds_bucket{%s}[$__rate_interval])))' % e, 'B', 'p50'),
                       ], 's', [8, 8]),
          g.timeseries('Waiting for the client-side limiter', 'Share of time Graph requests spend waiting for the rate limiter or a Retry-After.',
                       [g.range('sum by (instance) (rate(intune_exporter_graph_limiter_wait_seconds_total{%s}[$__rate_interval]))' % e, legend='{{instance}}')], 'percentunit', [8, 8]),
        ]),
        g.row('Credentials and process', [
          g.table('Credential expiry', 'Certificates the exporter signs in with: one row per certificate, however many tenants use it. Colours follow the warning ladder.',
                  [
                    g.instant('max by (client_id, thumbprint) (intune_exporter_credential_expiry_timestamp_seconds{%s}) * 1000' % e, 'A', table=true),
                    g.instant('(max by (client_id, thumbprint) (intune_exporter_credential_expiry_timestamp_seconds{%s}) - time()) / 86400' % e, 'B', table=true),
                  ],
                  [['client_id', 'App (client) ID'], ['thumbprint', 'Thumbprint'], ['Value #A', 'Expires'], ['Value #B', 'Days left']],
                  [8, 8],
                  [g.column('Expires', { unit: 'dateTimeAsIso' }),
                   g.column('Days left', { unit: 'd', decimals: 0, thresholds: g.thresholds(common.expiryDays(c)), 'custom.cellOptions': { type: 'color-text' } })]),
          g.timeseries('Memory', 'Resident memory of each exporter.',
                       [g.range('process_resident_memory_bytes{%s}' % e, legend='{{instance}}')], 'bytes', [8, 8]),
          g.timeseries('CPU', 'CPU time used per second by each exporter.',
                       [g.range('rate(process_cpu_seconds_total{%s}[$__rate_interval])' % e, legend='{{instance}}')], 'percentunit', [8, 8]),
        ]),
      ],
    ),
  },
}
