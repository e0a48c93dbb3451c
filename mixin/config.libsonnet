// Everything a user of the mixin may want to change. Override it in your own jsonnet:
//
//   (import 'intune-exporter/mixin/mixin.libsonnet') + {
//     _config+:: { selector: 'job="intune-eu"', ladder+:: { expiryNoticeDays: 45 } },
//   }
//
// The files checked in under deploy/ and dashboards/ are rendered with these defaults
// (mixin/render.jsonnet); a test fails when they drift.
local adminCentres = import 'generated/admin-centres.json';
local connectors = import 'generated/connectors.json';

{
  _config+:: {
    // Narrows the exporter's series in every rule and alert (the monitoring-mixins
    // convention), for example to one of several Prometheus jobs: 'job="intune-eu"' or
    // 'job=~"intune-exporter|intune-eu"'. Empty by default: the `intune_` metric prefix is
    // this exporter's alone, so the rules work whatever the scrape job is called.
    selector: '',
    // The labels that tell one exporter (or one shard) from another. Rules keep them, alerts
    // about the exporter itself group by them, dashboards offer them as variables.
    exporterLabels: ['job', 'instance'],

    // The warning ladder: one set of boundaries for the Tenant status page, the colours of
    // every dashboard and the alerts (see docs/runbooks.md#the-warning-ladder).
    //   expiry: expired -> red / critical;  <= expiryWarningDays (the page's "warning") ->
    //           orange / critical;  <= expiryNoticeDays -> yellow / warning;  else green.
    //   last sync: > syncWarningDays (the page's "warning") -> orange / warning;
    //           >= syncUnhealthyDays (the page's "unhealthy") -> red / critical.
    // expiryWarningDays, syncWarningDays and syncUnhealthyDays must equal the exporter's
    // `health` config (health.expiry_warning, health.sync_warning, health.sync_unhealthy), so
    // the colours agree with intune_connector_health.
    ladder:: {
      expiryWarningDays: 7,
      expiryNoticeDays: 30,
      syncWarningDays: 1,
      syncUnhealthyDays: 3,
    },
    // How long IntuneExporterDown still knows a target that stopped answering as an exporter
    // (by the intune_exporter_build_info it last exported); after that, or for a target that
    // never answered, IntuneExporterAbsent fires once no exporter answers.
    exporterDownLookback: '1d',
    // Other alert thresholds.
    licenceUtilisationRatio: 0.95,
    // IntuneExporterAppCredentialExpiring: days before a secret or certificate of the
    // exporter's app registration ends (one lapsed secret stops every tenant at once).
    appCredentialDays: 14,
    // Commercial subscriptions (the `subscriptions` source): a trial ending within
    // trialEndingDays pages, any Enabled subscription's next lifecycle date within
    // subscriptionNoticeDays opens a ticket (Graph has no auto-renew flag, so the date alone
    // never pages). The status page uses the same numbers.
    trialEndingDays: 7,
    subscriptionNoticeDays: 30,
    dataStaleWarningSeconds: 3600,
    dataStaleCriticalSeconds: 86400,

    // Holds (`for:`) of the alerts.
    holds:: {
      default: '15m',
      syncWarning: '1h',
      licences: '1h',
      incident: '5m',
      exporterDown: '5m',
      sourceFailing: '30m',
      dataStale: '5m',
      throttled: '1h',
      reload: '5m',
      discovery: '30m',
    },

    // Where alerts link to. %s is the alert name in lower case.
    runbookURLPattern: 'https://github.com/intune-exporter/intune-exporter/blob/main/docs/runbooks.md#%s',
    // Grafana's base URL; alert dashboard_url annotations and dashboard links start with it.
    grafanaURL: 'https://grafana.example.com',

    // Dashboards.
    dashboardTags: ['intune-exporter'],
    dashboardUIDs: {
      tenantStatus: 'intune-tenant-status',
      fleet: 'intune-fleet',
      exporter: 'intune-exporter',
    },
    // The Intune admin centre per Microsoft cloud, as the exporter's `graph.cloud` names
    // them (generated from the exporter: generated/admin-centres.json). Links put the tenant in
    // the path (https://HOST/TENANT_ID/#view/...), so they open the customer's tenant rather
    // than the viewer's home tenant.
    adminCentreHosts: adminCentres.hosts,
    // The cloud the dashboards' `cloud` variable starts on.
    defaultCloud: 'public',
    // The admin centre blade of each connector kind's page, as the exporter's status page
    // links them (generated/connectors.json); kinds not listed open the Connectors and tokens
    // overview. Keys must be connector kinds of the exporter; rendering fails otherwise.
    connectorBlades: {
      [k.connector]: k.blade
      for k in connectors
      if k.blade != adminCentres.connectorOverviewBlade
    },
    connectorOverviewBlade: adminCentres.connectorOverviewBlade,
    tenantStatusBlade: adminCentres.tenantStatusBlade,
    // How many connector kinds the tenant page shows before "show all", as Intune does.
    connectorTopN: 5,
  },
}
