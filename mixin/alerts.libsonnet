// Alerting rules. severity: critical pages someone; warning opens a ticket. Expiry and sync
// alerts follow the warning ladder of config.libsonnet, so a dashboard cell and an alert
// never disagree about how urgent something is. Every alert has promtool tests in
// deploy/prometheus/tests/ and a runbook section in docs/runbooks.md.
local promql = import 'lib/promql.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,
    local l = c.ladder,
    local m(metric, extra=[]) = promql.select(metric, c.selector, extra),
    local day = 86400,
    // `up` carries only job and instance, so with no job in the selector a target is known to
    // be an exporter by the build info it exported within the last c.exporterDownLookback.
    local exporterDown = '%s == 0 and on (job, instance) last_over_time(%s[%s])' % [
      m('up'),
      m('intune_exporter_build_info'),
      c.exporterDownLookback,
    ],

    // Annotation snippets. Go templates look the tenant's and the token's names up in the
    // info series, so a page says "Contoso" rather than a GUID.
    local tenant = '{{ with printf "intune_tenant_info{tenant_id=%q}" $labels.tenant_id | query }}{{ . | first | label "tenant_name" }} ({{ $labels.tenant_id }}){{ else }}{{ $labels.tenant_id }}{{ end }}',
    local instanceName = '{{ with printf "intune_connector_info{tenant_id=%q,connector_id=%q}" $labels.tenant_id $labels.connector_id | query }}"{{ . | first | label "display_name" }}" {{ end }}({{ $labels.connector_id }})',
    local subscription = '{{ with printf "intune_subscription_info{tenant_id=%q,subscription_id=%q}" $labels.tenant_id $labels.subscription_id | query }}{{ . | first | label "sku" }}{{ end }}',
    local subscriptionKey = std.join(', ', c.exporterLabels + ['tenant_id', 'subscription_id']),
    local dashboardURL(uid, withTenant=true) =
      c.grafanaURL + '/d/' + uid + '/' + uid + (if withTenant then '?var-tenant={{ $labels.tenant_id }}' else ''),
    local tenantDashboard = dashboardURL(c.dashboardUIDs.tenantStatus),
    local exporterDashboard(withTenant=true) = dashboardURL(c.dashboardUIDs.exporter, withTenant),

    // Appended to a per-source alert: not for a tenant that cannot sign in, whose every
    // source fails with it (IntuneExporterSignInFailing says so once).
    local unlessSignInFails = '  unless on (%s) (%s == 0)\n' % [std.join(', ', c.exporterLabels + ['tenant_id']), m('intune_exporter_sign_in_up')],

    local alert(name, expr, hold, severity, summary, description, dashboard, labels={}) = {
      alert: name,
      expr: expr,
      'for': hold,
      labels: { severity: severity } + labels,
      annotations: {
        summary: summary,
        description: std.strReplace(description, '\n', ' '),
        runbook_url: c.runbookURLPattern % std.asciiLower(name),
        dashboard_url: dashboard,
      },
    },

    // An expiry alert on the connectors `matcher` selects: the two steps of the ladder, a
    // ticket at the notice and a page at the page's warning. `summary` takes the days.
    local expiring(name, matcher, summary, description) = [
      alert(
        name,
        |||
          (%s - time())
            < %d * 86400
            > 0
        ||| % [m('intune_connector_expiry_timestamp_seconds', [matcher]), step.days],
        c.holds.default,
        step.severity,
        summary(step.days),
        description,
        tenantDashboard,
      )
      for step in [
        { days: l.expiryNoticeDays, severity: 'warning' },
        { days: l.expiryWarningDays, severity: 'critical' },
      ]
    ],
    // The Apple tokens: an alert name and words of their own each. IntuneConnectorExpiring
    // covers every other kind with an expiry date.
    local appleTokens = [
      {
        name: 'IntuneApplePushCertificateExpiring',
        connector: 'apns',
        what: 'Apple MDM push certificate',
        consequence: 'If it expires, every Apple device must be enrolled again. Renew it with the same Apple ID.',
      },
      {
        name: 'IntuneAppleVppTokenExpiring',
        connector: 'vpp_token',
        what: 'Apple VPP (Apps and Books) token',
        consequence: 'If it expires, Apple apps and licences stop syncing to Intune.',
      },
      {
        name: 'IntuneAppleDepTokenExpiring',
        connector: 'dep_token',
        what: 'Apple automated device enrollment (DEP) token',
        consequence: 'If it expires, new Apple devices stop syncing from Apple Business Manager and cannot enrol.',
      },
    ],

    local staleSync(step) = alert(
      'IntuneConnectorSyncStale',
      |||
        time() - %s %s %d
          and %s > 0
      ||| % [m('intune_connector_last_sync_timestamp_seconds'), step.op, step.days * day, m('intune_connector_last_sync_timestamp_seconds')],
      step.hold,
      step.severity,
      'An Intune connector has not synced for %s.' % step.words,
      'The {{ $labels.connector }} connector ' + instanceName + ' of tenant ' + tenant + '\nlast synced {{ $value | humanizeDuration }} ago. The Tenant status page shows it as ' + step.page + '.',
      tenantDashboard,
    ),

    // The app registration's credentials the exporter may sign in with (see below).
    local appCredentialInUse = 'max by (job, client_id, key_id) (%s)' % m('intune_exporter_app_credential_info', ['in_use!="false"']),

    local credentialExpiring(step) = alert(
      'IntuneExporterCredentialExpiring',
      |||
        (max by (job, client_id, thumbprint) (%s) - time()) < %d * 86400
          and max by (job, client_id, thumbprint) (%s) > 0
      ||| % [m('intune_exporter_credential_expiry_timestamp_seconds'), step.days, m('intune_exporter_credential_expiry_timestamp_seconds')],
      c.holds.default,
      step.severity,
      'The Graph credential of intune-exporter expires in less than %d days.' % step.days,
      'The certificate {{ $labels.thumbprint }} of app {{ $labels.client_id }} (job {{ $labels.job }}) expires in\n{{ $value | humanizeDuration }} (negative: already expired). {{ with printf "count(count by (tenant_id) (intune_exporter_source_up{job=%q}))" $labels.job | query }}The job reads {{ . | first | value }} tenant(s); {{ end }}every one that signs in with it stops being read.',
      exporterDashboard(false),
    ),

    // GDAP: the relationship and customer names come from the relationship's info series,
    // since a customer the exporter does not read has no intune_tenant_info.
    local relationship = '{{ with printf "intune_gdap_relationship_info{tenant_id=%q,relationship_id=%q}" $labels.tenant_id $labels.relationship_id | query }}"{{ . | first | label "display_name" }}" {{ end }}({{ $labels.relationship_id }})',
    local customer = '{{ with printf "intune_gdap_relationship_info{tenant_id=%q}" $labels.tenant_id | query }}{{ . | first | label "customer_name" }} ({{ $labels.tenant_id }}){{ else }}{{ $labels.tenant_id }}{{ end }}',
    local gdapKeys = 'job, tenant_id, relationship_id',
    // The fleet dashboard's GDAP table: a customer the exporter does not read has no tenant
    // status page.
    local gdapDashboard = dashboardURL(c.dashboardUIDs.fleet),
    local gdapEnd = m('intune_gdap_relationship_end_timestamp_seconds'),
    // Termination is someone's decision, partner's or customer's, not a lapse.
    local unlessTerminated = '  unless on (%s) %s\n' % [gdapKeys, m('intune_gdap_relationship_info', ['status=~"terminated|terminating|termination_requested"'])],

    groups+: [
      {
        name: 'intune-connectors',
        rules: [
          // No `for`: the expiring alerts stop at the expiry moment, and a delay here would
          // leave a gap with no page just when it matters. The `> 0` guard ignores a missing
          // date reported as the epoch.
          alert(
            'IntuneConnectorExpired',
            |||
              time() - %s >= 0
                and %s > 0
            ||| % [m('intune_connector_expiry_timestamp_seconds'), m('intune_connector_expiry_timestamp_seconds')],
            '0m',
            'critical',
            'An Intune connector or Apple token has expired.',
            'The {{ $labels.connector }} connector ' + instanceName + ' of tenant ' + tenant + '\nexpired {{ $value | humanizeDuration }} ago. Intune stops using it until it is renewed.',
            tenantDashboard,
          ),
        ] + std.flattenArrays([
          expiring(
            t.name,
            'connector="%s"' % t.connector,
            function(days) 'The %s expires in less than %d days.' % [t.what, days],
            'The ' + t.what + ' ' + instanceName + ' of tenant ' + tenant + '\nexpires in {{ $value | humanizeDuration }}. ' + t.consequence,
          )
          for t in appleTokens
        ]) + expiring(
          // Every other kind with an expiry date (Android Enterprise enrollment tokens, iOS
          // in-house apps and their provisioning profiles, and any kind added later): the same
          // two steps under one name, so a kind added to the exporter is covered without an
          // edit here.
          'IntuneConnectorExpiring',
          'connector!~"%s"' % std.join('|', [t.connector for t in appleTokens]),
          function(days) 'An Intune connector, token or in-house app expires in less than %d days.' % days,
          'The {{ $labels.connector }} ' + instanceName + ' of tenant ' + tenant + '\nexpires in {{ $value | humanizeDuration }}. Intune stops using it when it lapses: renew it as the runbook says for its kind.',
        ) + [
          // The hour of `for` keeps a connector that syncs about once a day from opening
          // and closing tickets.
          staleSync({ op: '>', days: l.syncWarningDays, hold: c.holds.syncWarning, severity: 'warning', words: 'more than a day', page: 'warning' }),
          staleSync({ op: '>=', days: l.syncUnhealthyDays, hold: c.holds.default, severity: 'critical', words: '%d days or more' % l.syncUnhealthyDays, page: 'unhealthy' }),
        ] + [
          // The exporter judges a connector's installed version by Microsoft's support
          // policy and reports where it stands in the `support` label of the info series
          // (no series of its own). display_name and state are dropped so that renaming a
          // connector does not restart the alert.
          alert(
            'IntuneConnectorOutOfSupport',
            'max without (display_name, state) (%s) == 1\n' % m('intune_connector_info', ['support="%s"' % step.support]),
            c.holds.default,
            step.severity,
            step.summary,
            'The {{ $labels.connector }} connector ' + instanceName + ' of tenant ' + tenant + '\nruns version {{ $labels.version }}, ' + step.consequence,
            tenantDashboard,
          )
          for step in [
            {
              support: 'out_of_support',
              severity: 'warning',
              summary: 'An Intune connector runs a version that is out of support.',
              consequence: 'which Microsoft no longer supports. It still works for now; the Tenant status page shows it as warning. Update it.',
            },
            {
              support: 'may_fail',
              severity: 'critical',
              summary: 'An Intune connector runs a version that may stop working.',
              consequence: 'past the date after which Microsoft says it may stop working. The Tenant status page shows it as unhealthy. Update it now.',
            },
          ]
        ] + [
          // The connector label lets Alertmanager inhibit this together with the token's
          // other alerts.
          alert(
            'IntuneAppleEnrollmentTermsPending',
            '%s == 1\n' % m('intune_apple_enrollment_terms_pending'),
            c.holds.default,
            'warning',
            'New Apple Business Manager terms must be accepted.',
            'Apple refuses to sync the DEP token ' + instanceName + ' of tenant ' + tenant + '\nuntil an administrator accepts the new terms and conditions in Apple Business Manager.',
            tenantDashboard,
            { connector: 'dep_token' },
          ),
        ],
      },
      {
        name: 'intune-tenant',
        rules: [
          alert(
            'IntuneLicensesNearlyExhausted',
            'intune:license_utilization:ratio > %g\n' % c.licenceUtilisationRatio,
            c.holds.licences,
            'warning',
            'Almost all Intune licences of a SKU are assigned.',
            'Tenant ' + tenant + ' has assigned {{ $value | humanizePercentage }} of the enabled\n{{ $labels.sku }} licences. New users will not get Intune once they run out.',
            tenantDashboard,
          ),
          alert(
            'IntuneSubscriptionNotActive',
            '%s == 1\n' % m('intune_tenant_subscription_state', ['state=~"disabled|deleted|blocked|locked_out"']),
            c.holds.default,
            'critical',
            'The Intune subscription of a tenant is not active.',
            'The Intune subscription of tenant ' + tenant + ' is {{ $labels.state }}.\nDevices are no longer managed.',
            tenantDashboard,
          ),
          alert(
            'IntuneSubscriptionNotActive',
            '%s == 1\n' % m('intune_tenant_subscription_state', ['state="warning"']),
            c.holds.default,
            'warning',
            'The Intune subscription of a tenant is in its grace period.',
            'The Intune subscription of tenant ' + tenant + ' is in the warning state: it has lapsed\nand will be disabled at the end of the grace period.',
            tenantDashboard,
          ),
        ] + [
          // Commercial subscriptions that carry Intune. Warning, Suspended and LockedOut mean
          // users are losing (or have lost) Intune: page. A trial's next lifecycle date is its
          // end: page a week before. Any other date may be an automatic renewal, which Graph
          // cannot tell apart: a ticket a month before, so someone checks.
          alert(
            'IntuneCommercialSubscriptionLapsed',
            '%s == 1\n' % m('intune_subscription_status', ['status=~"warning|suspended|locked_out"']),
            c.holds.default,
            'critical',
            'A commercial subscription that carries Intune has lapsed.',
            'The ' + subscription + ' subscription {{ $labels.subscription_id }} of tenant ' + tenant + ' is {{ $labels.status }}.\nIts users lose Intune at the end of the grace period, if they have not already.',
            tenantDashboard,
          ),
          alert(
            'IntuneTrialSubscriptionEnding',
            |||
              (%s - time())
                < %d * 86400
                > 0
              and on (%s) (%s == 1)
              and on (%s) %s
            ||| % [
              m('intune_subscription_next_lifecycle_timestamp_seconds'),
              c.trialEndingDays,
              subscriptionKey,
              m('intune_subscription_status', ['status="enabled"']),
              subscriptionKey,
              m('intune_subscription_info', ['trial="true"']),
            ],
            c.holds.default,
            'critical',
            'A trial that carries Intune ends in less than %d days.' % c.trialEndingDays,
            'The ' + subscription + ' trial {{ $labels.subscription_id }} of tenant ' + tenant + '\nends in {{ $value | humanizeDuration }}. Unless a paid subscription replaces it, its users lose Intune.',
            tenantDashboard,
          ),
          alert(
            'IntuneCommercialSubscriptionRenewalDue',
            |||
              (%s - time())
                < %d * 86400
                > 0
              and on (%s) (%s == 1)
            ||| % [
              m('intune_subscription_next_lifecycle_timestamp_seconds'),
              c.subscriptionNoticeDays,
              subscriptionKey,
              m('intune_subscription_status', ['status="enabled"']),
            ],
            c.holds.default,
            'warning',
            'A commercial subscription that carries Intune reaches its renewal date in less than %d days.' % c.subscriptionNoticeDays,
            'The ' + subscription + ' subscription {{ $labels.subscription_id }} of tenant ' + tenant + '\nmoves to its next lifecycle state in {{ $value | humanizeDuration }} unless it is renewed. Graph does not say whether it renews by itself: check.',
            tenantDashboard,
          ),
        ] + [
          // One alert per tenant and issue. The issue_id label lets Alertmanager group one
          // Microsoft (or third-party) incident across every tenant into one notification (see
          // deploy/alertmanager/alertmanager.yml); the description counts the tenants. The
          // origin label keeps a customer-origin incident, the tenant's own, in a group of its
          // tenant.
          alert(
            'IntuneServiceIncidentActive',
            'max by (job, tenant_id, service_name, issue_id, origin) (%s)\n' % m('intune_service_issue_info', ['classification="incident"']),
            c.holds.incident,
            'warning',
            'Microsoft reports an active Intune incident.',
            'Microsoft incident {{ $labels.issue_id }} {{ with printf "intune_service_issue_info{issue_id=%q}" $labels.issue_id | query }}"{{ . | first | label "title" }}" {{ end }}affects {{ $labels.service_name }} in tenant\n' + tenant + '{{ if eq $labels.origin "customer" }}. Microsoft says the tenant\'s own configuration causes it: it is resolved there{{ else }}{{ with printf "count(count by (tenant_id) (intune_service_issue_info{issue_id=%q}))" $labels.issue_id | query }} and {{ . | first | value }} tenant(s) in all{{ end }}. Expect Intune problems until Microsoft resolves it{{ end }}.',
            tenantDashboard,
          ),
        ],
      },
      {
        // The partner's delegated admin access to its customers. The exporter keeps reading a
        // customer after its relationship ends (it signs in with app consent); the
        // technicians who act on the alerts lose their admin roles there.
        name: 'intune-gdap',
        rules: [
          // Only relationships that do not extend themselves (autoExtendDuration PT0S, or one
          // the exporter could not read): one that auto-extends renews at its end.
          alert(
            'IntuneGdapRelationshipExpiring',
            '(%s - time())\n  < %d * 86400\n  > 0\n  unless on (%s) %s > 0\n%s' % [gdapEnd, step.days, gdapKeys, m('intune_gdap_relationship_auto_extend_seconds'), unlessTerminated],
            c.holds.default,
            step.severity,
            'A GDAP relationship ends in less than %d days and does not auto-extend.' % step.days,
            'The GDAP relationship ' + relationship + ' with customer ' + customer + '\nends in {{ $value | humanizeDuration }} and does not extend itself. Then the partner\'s technicians lose the admin roles it grants in that tenant. Extend it, or set auto-extend (P180D) in Partner Center.',
            gdapDashboard,
          )
          for step in [
            { days: l.expiryNoticeDays, severity: 'warning' },
            { days: l.expiryWarningDays, severity: 'critical' },
          ]
        ] + [
          // Not while another relationship with the same customer is active: a relationship
          // replaced by a new one is history, not an outage. No `for`, as for an expired
          // connector: the critical Expiring alert stops at the same moment.
          alert(
            'IntuneGdapRelationshipEnded',
            'time() - %s >= 0\n  and %s > 0\n%s  unless on (job, tenant_id) (\n    %s > time()\n    and on (%s) %s\n  )\n' % [gdapEnd, gdapEnd, unlessTerminated, gdapEnd, gdapKeys, m('intune_gdap_relationship_info', ['status=~"active|expiring"'])],
            '0m',
            'critical',
            'A GDAP relationship has ended and the customer has no other active one.',
            'The GDAP relationship ' + relationship + ' with customer ' + customer + '\nended {{ $value | humanizeDuration }} ago and no other relationship with that customer is active: the partner\'s technicians have lost their admin roles there. Ask the customer to approve a new relationship.',
            gdapDashboard,
          ),
        ],
      },
      {
        name: 'intune-message-center',
        rules: [
          // One alert per post, not per tenant: a Message center post is the same post, with
          // the same act-by date, in every tenant, so the expression aggregates across tenants
          // (and shards of one job) and the alert keeps firing however the tenants' polls
          // interleave. Alertmanager groups by message_id across jobs too. Until the date
          // passes; the `> 0` also ignores a date reported as the epoch.
          alert(
            'IntuneMessageCenterActionRequired',
            |||
              min by (job, message_id) (%s) - time()
                < %d * 86400
                > 0
            ||| % [m('intune_message_center_action_required_timestamp_seconds'), step.days],
            c.holds.default,
            step.severity,
            'A Message center post asks for action within %d days.' % step.days,
            'Message center post {{ $labels.message_id }} {{ with printf "intune_message_center_message_info{message_id=%q}" $labels.message_id | query }}"{{ . | first | label "title" }}" {{ end }}asks administrators to act\nwithin {{ $value | humanizeDuration }}{{ with printf "count(count by (tenant_id) (intune_message_center_action_required_timestamp_seconds{message_id=%q}))" $labels.message_id | query }}, in {{ . | first | value }} tenant(s){{ end }}. Read it in the Microsoft 365 admin center\'s Message center.',
            dashboardURL(c.dashboardUIDs.fleet, false),
          )
          for step in [
            { days: l.expiryNoticeDays, severity: 'warning' },
            { days: l.expiryWarningDays, severity: 'critical' },
          ]
        ],
      },
      {
        name: 'intune-exporter',
        rules: [
          alert(
            'IntuneExporterDown',
            exporterDown + '\n',
            c.holds.exporterDown,
            'critical',
            'intune-exporter cannot be scraped.',
            'Prometheus has failed to scrape {{ $labels.instance }} for 5 minutes. No Intune alert can fire\nwhile it is down.',
            exporterDashboard(false),
          ),
          // Fires when Prometheus scrapes no exporter at all (deleted Deployment, broken
          // ServiceMonitor or relabelling, a target that never answered), which
          // IntuneExporterDown cannot catch; not while IntuneExporterDown already fires for
          // a target, so one outage pages once.
          alert(
            'IntuneExporterAbsent',
            'absent(%s) unless on () (%s)\n' % [m('intune_exporter_build_info'), exporterDown],
            c.holds.default,
            'critical',
            'intune-exporter has disappeared from Prometheus target discovery.',
            'Prometheus has scraped no intune-exporter%s for 15 minutes. No Intune alert can fire\nwithout it.' % (if c.selector == '' then '' else ' matching ' + c.selector),
            exporterDashboard(false),
          ),
          // One alert per tenant that cannot sign in, instead of one per source: a refused
          // sign-in fails all 22 of them with the same error. 30 minutes as for a source.
          alert(
            'IntuneExporterSignInFailing',
            '%s == 0\n' % m('intune_exporter_sign_in_up'),
            c.holds.sourceFailing,
            'warning',
            'intune-exporter cannot sign in to a tenant.',
            'Signing in to tenant ' + tenant + ' has failed for 30 minutes: none of its sources can be read,\nso none of its alerts can fire. The AADSTS code on the exporter\'s status page (/tenants/{{ $labels.tenant_id }}) and in its log says why.',
            exporterDashboard(),
          ),
          // 30 minutes is 6 polls at the default 5m interval, 2 at 15m: one Graph hiccup
          // does not open a ticket. A tenant that cannot sign in has its own alert above.
          alert(
            'IntuneExporterSourceFailing',
            '%s == 0\n%s' % [m('intune_exporter_source_up'), unlessSignInFails],
            c.holds.sourceFailing,
            'warning',
            'intune-exporter cannot read a Microsoft Graph source.',
            'Polling {{ $labels.source }} for tenant ' + tenant + ' has failed for 30 minutes.\nAlerts that depend on it cannot fire.',
            exporterDashboard(),
          ),
        ] + [
          // Also catches a stuck poller, which leaves source_up at 1.
          alert(
            'IntuneExporterDataStale',
            'time() - %s > %d\n%s' % [m('intune_exporter_source_last_success_timestamp_seconds'), step.seconds, unlessSignInFails],
            c.holds.dataStale,
            step.severity,
            'intune-exporter data is more than %s old.' % step.words,
            'The last successful poll of {{ $labels.source }} for tenant ' + tenant + ' was\n{{ $value | humanizeDuration }} ago' + step.tail,
            exporterDashboard(),
          )
          for step in [
            { seconds: c.dataStaleWarningSeconds, severity: 'warning', words: 'an hour', tail: '.' },
            { seconds: c.dataStaleCriticalSeconds, severity: 'critical', words: 'a day', tail: ': expiries and outages may go unseen.' },
          ]
        ] + [
          // Occasional 429s are normal and retried; only throttling that persists for an
          // hour and a half opens a ticket.
          alert(
            'IntuneExporterGraphThrottled',
            'sum by (job, instance, source) (increase(%s[30m])) > 0\n' % m('intune_exporter_graph_throttled_total'),
            c.holds.throttled,
            'warning',
            'Microsoft Graph keeps throttling intune-exporter.',
            'Graph has throttled {{ $labels.source }} requests of {{ $labels.instance }} in every half hour for more than\nan hour ({{ $value | humanize }} in the last 30 minutes).',
            exporterDashboard(false),
          ),
          // One alert per certificate, however many tenants sign in with it.
          credentialExpiring({ days: l.expiryNoticeDays, severity: 'warning' }),
          credentialExpiring({ days: l.expiryWarningDays, severity: 'critical' }),
        ] + [
          // The app registration's own credentials (with app_credentials configured), one
          // alert per secret or certificate, however many replicas read it. Ended ones stay on
          // the app until removed, so only those still to end count: once the one in use has
          // lapsed, IntuneExporterSignInFailing fires for every tenant. The credential the
          // exporter signs in with (in_use true, or unknown when Graph gave nothing to compare)
          // pages; another one, such as an old secret left after a rotation, opens a ticket.
          alert(
            'IntuneExporterAppCredentialExpiring',
            |||
              max by (job, client_id, key_id) (%s) - time()
                < %d * 86400
                > 0
              %s on (job, client_id, key_id) %s
            ||| % [m('intune_exporter_app_credential_end_timestamp_seconds'), c.appCredentialDays, step.op, appCredentialInUse],
            c.holds.default,
            step.severity,
            'A client secret or certificate of the intune-exporter app ends in less than %d days.' % c.appCredentialDays,
            'The {{ with printf "intune_exporter_app_credential_info{client_id=%q,key_id=%q}" $labels.client_id $labels.key_id | query }}{{ . | first | label "kind" }} "{{ . | first | label "display_name" }}" {{ end }}({{ $labels.key_id }}) of app {{ $labels.client_id }} (job {{ $labels.job }})\nends in {{ $value | humanizeDuration }}. ' + step.consequence + ' Add a new secret or certificate to the app, give it to the exporter, then remove the old one.',
            exporterDashboard(false),
          )
          for step in [
            { op: 'and', severity: 'critical', consequence: 'The exporter signs in with it: every tenant that uses the app stops being read then.' },
            { op: 'unless', severity: 'warning', consequence: 'The exporter does not sign in with it; whatever else does stops working then.' },
          ]
        ] + [
          alert(
            'IntuneExporterAppCredentialsUnreadable',
            '%s == 0\n' % m('intune_exporter_app_credentials_up'),
            c.holds.discovery,
            'warning',
            'intune-exporter cannot read its app registration.',
            'Reading the secrets and certificates of app {{ $labels.client_id }} in its home tenant has failed for 30 minutes\n({{ $labels.instance }}). Their end dates are not watched: grant Application.Read.All there, or remove app_credentials from the configuration.',
            exporterDashboard(false),
          ),
          // A failed reload keeps the previous configuration running: nothing breaks yet, but
          // the change someone made is not in effect.
          alert(
            'IntuneExporterConfigReloadFailed',
            '%s == 0\n' % m('intune_exporter_config_last_reload_successful'),
            c.holds.reload,
            'warning',
            'intune-exporter refused to reload its configuration.',
            'The last configuration reload of {{ $labels.instance }} failed; it keeps running the previous\nconfiguration{{ with printf "intune_exporter_config_last_reload_success_timestamp_seconds{instance=%q,job=%q}" $labels.instance $labels.job | query }}, loaded {{ . | first | value | humanizeTimestamp }}{{ end }}. Its log says which file and key are wrong.',
            exporterDashboard(false),
          ),
          alert(
            'IntuneExporterDiscoveryDown',
            '%s == 0\n' % m('intune_exporter_discovery_up'),
            c.holds.discovery,
            'warning',
            'intune-exporter cannot discover tenants.',
            'Tenant discovery {{ $labels.discovery }} of {{ $labels.instance }} has failed for 30 minutes. {{ if eq $labels.discovery "delegated_admin_relationships" }}The\nGDAP relationships listed earlier are still exported; new ones and changed end dates are not seen.{{ else }}Tenants\nfound earlier are still read; new ones are not picked up, removed ones not dropped.{{ end }}',
            exporterDashboard(false),
          ),
        ],
      },
    ],
  },
}
