//! The status page's HTML, rendered from the views alone.
//!
//! The markup is XHTML-compatible (every element closed, every attribute quoted, numeric
//! character references only), so a strict XML parser accepts it; no JavaScript and no external
//! asset, the CSS is inline. Every text and attribute that comes from Microsoft or from the
//! configuration goes through [`esc`]. Links are relative, so the pages work under any path
//! prefix a reverse proxy adds.

use super::view::{
    BeyondRow, ConnectorView, FleetView, SourceView, Status, StatusCounts, TenantLink,
    TenantSummary, TenantView, SIGN_IN_FAILED,
};
use crate::state::{PollError, SignIn};
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// How many connectors show before "Show all", as on Intune's page.
pub const TOP_CONNECTORS: usize = 5;

const CSS: &str = "\
:root{--fg:#1b1b1b;--muted:#5f6368;--line:#e1e4e8;--bg:#f6f7f9;--accent:#0f6cbd}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1f2a44;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header a{color:#fff;text-decoration:none}
header .brand{font-weight:600;font-size:16px}
header nav a{margin-right:16px;opacity:.85}
header nav a:hover{opacity:1;text-decoration:underline}
main{max-width:1280px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:22px;margin:4px 0 4px}
h2{font-size:17px;margin:0 0 10px}
h3{font-size:14px;margin:16px 0 8px}
.sub{color:var(--muted);margin:0 0 16px}
a{color:var(--accent)}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:16px 18px;margin:0 0 16px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:#3c4043;background:#fafbfc;white-space:nowrap}
td.num,th.num{text-align:right}
tbody tr:hover{background:#f8fafd}
.fleet{border:1px solid var(--line);border-radius:6px}
.pill{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;white-space:nowrap}
.unhealthy{background:#fde7e9;color:#a4262c}
.warning{background:#fff4ce;color:#7a4d00}
.unknown{background:#ececec;color:#3c4043}
.healthy{background:#dff6dd;color:#0b6a0b}
.not_configured{background:#f3f3f3;color:#6b6b6b}
.down{background:#fde7e9;color:#a4262c}
.up{background:#dff6dd;color:#0b6a0b}
.muted,.rel{color:var(--muted)}
.rel{font-size:12px}
time{white-space:nowrap}
.counts .pill{margin:0 4px 2px 0}
code{white-space:nowrap;font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f1f3f4;padding:1px 4px;border-radius:3px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}
dt{color:var(--muted)}dd{margin:0}
form{margin:0 0 14px;display:flex;gap:8px;align-items:center}
input[type=search]{width:360px;padding:6px 8px;border:1px solid #c4c7cc;border-radius:4px;font:inherit}
button{padding:6px 14px;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:4px;font:inherit;cursor:pointer}
details{margin-top:10px}
summary{cursor:pointer;color:var(--accent);font-weight:600;padding:4px 0}
.err{max-width:520px}
.err .code{font-weight:600;color:#a4262c}
.old .code{color:var(--muted)}
.grant{margin-top:4px}
.signin{border-color:#f1b7bb;background:#fff8f8}
.picker ul{columns:3 16em;margin:6px 0 0;padding-left:18px}
.label{display:inline-block;background:#eef3fb;color:#1f3b66;border-radius:3px;padding:0 6px;margin:0 4px 2px 0;font-size:12px}
";

/// Escapes text for an element's content or a quoted attribute value.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 refuses most control characters even as references: drop them.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A path segment, percent-encoded (tenant ids come from the config).
fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, super::view::PATH_SEGMENT).to_string()
}

/// Links the pages share: `base` leads back to `/` from the page's own path.
struct Nav<'a> {
    base: &'a str,
    telemetry_path: &'a str,
}

fn page(title: &str, nav: &Nav<'_>, body: &str) -> String {
    let metrics = nav.telemetry_path.trim_start_matches('/');
    format!(
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n\
         <meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <header><a class=\"brand\" href=\"{b}\">intune-exporter</a><nav>\
         <a href=\"{b}\">Tenants</a><a href=\"{b}{m}\">Metrics</a>\
         <a href=\"{b}api/v1/tenants\">API</a><a href=\"{b}-/healthy\">Health</a>\
         <a href=\"{b}-/ready\">Readiness</a></nav></header>\n<main>\n{body}</main>\n</body>\n</html>\n",
        title = esc(title),
        b = nav.base,
        m = esc(metrics),
    )
}

fn pill(status: Status) -> String {
    format!(
        "<span class=\"pill {}\">{}</span>",
        status.as_str(),
        status.label()
    )
}

/// An absolute time with its distance from `now`.
fn when(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(t) = t else {
        return "<span class=\"muted\">never</span>".to_string();
    };
    format!(
        "<time datetime=\"{}\">{}</time> <span class=\"rel\">{}</span>",
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        t.format("%Y-%m-%d %H:%M UTC"),
        relative(t, now)
    )
}

/// "in 5 days", "3 hours ago", "in 40 s": within the last minute is "just now", but a time
/// ahead (the next poll) counts its seconds, so it never reads as past.
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    let a = secs.unsigned_abs();
    let amount = if a < 60 && secs <= 0 {
        return "just now".to_string();
    } else if a < 60 {
        format!("{a} s")
    } else if a < 3600 {
        format!("{} min", a / 60)
    } else if a < 2 * 86_400 {
        let h = a / 3600;
        format!("{h} hour{}", if h == 1 { "" } else { "s" })
    } else {
        format!("{} days", a / 86_400)
    };
    if secs > 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// A Graph enum member in words: `planForChange` -> `Plan for change`.
pub fn words(member: &str) -> String {
    let mut out = String::with_capacity(member.len() + 4);
    for (i, c) in member.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_uppercase() {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn labels(t: &TenantSummary) -> String {
    let mut out = String::new();
    for (k, v) in &t.labels {
        let _ = write!(out, "<span class=\"label\">{}={}</span>", esc(k), esc(v));
    }
    out
}

/// One badge per status with its count of `what` ("connector kinds", "connectors").
fn counts(c: &StatusCounts, what: &str) -> String {
    let mut out = String::from("<span class=\"counts\">");
    for s in Status::ALL {
        let n = c.get(s);
        if n > 0 {
            let _ = write!(
                out,
                "<span class=\"pill {}\" title=\"{n} {what}: {}\">{n} {}</span>",
                s.as_str(),
                s.label().to_lowercase(),
                s.label().to_lowercase()
            );
        }
    }
    out.push_str("</span>");
    out
}

/// The fleet table's status cell: "Cannot sign in" before the connectors' worst status, which
/// then only tells what the last data said.
fn status_cell(t: &TenantSummary) -> String {
    if t.cannot_sign_in() {
        format!(
            "<span class=\"pill unhealthy\">Cannot sign in</span> {}",
            pill(t.worst_status)
        )
    } else {
        pill(t.worst_status)
    }
}

/// The fleet table: every tenant of `view` (already filtered by `query`), worst first.
pub fn fleet(view: &FleetView, total: usize, query: &str, telemetry_path: &str) -> String {
    let now = view.generated_at;
    let mut b = String::with_capacity(512 + view.tenants.len() * 900);
    let _ = write!(
        b,
        "<h1>Tenant status</h1>\n<p class=\"sub\">{total} tenant{} · health evaluated {} · worst first</p>\n\
         <form method=\"get\" action=\"./\"><label for=\"q\">Filter</label>\
         <input id=\"q\" name=\"q\" type=\"search\" value=\"{}\" placeholder=\"name, tenant id, label=value, status, source\"/>\
         <button type=\"submit\">Filter</button>{}</form>\n",
        if total == 1 { "" } else { "s" },
        when(Some(now), now),
        esc(query),
        if query.is_empty() {
            String::new()
        } else {
            format!(
                " <span class=\"muted\">{} of {total} match</span> <a href=\"./\">Clear</a>",
                view.tenants.len()
            )
        }
    );
    b.push_str(
        "<table id=\"fleet\" class=\"fleet\">\n<thead><tr><th>Tenant</th><th>Tenant ID</th><th>Labels</th>\
         <th>Worst status</th><th>Connector kinds per status</th><th class=\"num\">Sources down</th>\
         <th>Last successful poll</th></tr></thead>\n<tbody>\n",
    );
    for t in &view.tenants {
        let name = t.name.as_deref().unwrap_or(&t.tenant_id);
        let down = if t.sources_down.is_empty() {
            format!("<span class=\"muted\">0 of {}</span>", t.sources_total)
        } else {
            format!(
                "<span class=\"pill down\" title=\"{}\">{} of {}</span>",
                esc(&t.sources_down.join(", ")),
                t.sources_down.len(),
                t.sources_total
            )
        };
        let _ = writeln!(
            b,
            "<tr data-tenant-id=\"{id}\" data-status=\"{st}\"{signin}><td><a href=\"tenants/{link}\">{name}</a></td>\
             <td><code>{id}</code></td><td>{labels}</td><td>{pill}</td><td>{counts}</td>\
             <td class=\"num\">{down}</td><td>{last}</td></tr>",
            id = esc(&t.tenant_id),
            st = t.worst_status.as_str(),
            signin = if t.cannot_sign_in() {
                format!(" data-sign-in=\"{SIGN_IN_FAILED}\"")
            } else {
                String::new()
            },
            link = seg(&t.tenant_id),
            name = esc(name),
            labels = labels(t),
            pill = status_cell(t),
            counts = counts(&t.connectors, "connector kinds"),
            last = when(t.last_success, now),
        );
    }
    if view.tenants.is_empty() {
        b.push_str("<tr><td colspan=\"7\" class=\"muted\">No tenant matches.</td></tr>\n");
    }
    b.push_str("</tbody>\n</table>\n");
    page(
        "Tenant status · intune-exporter",
        &Nav {
            base: "",
            telemetry_path,
        },
        &b,
    )
}

fn connector_rows(b: &mut String, rows: &[ConnectorView], now: DateTime<Utc>) {
    b.push_str(
        "<thead><tr><th>Status</th><th>Connector</th><th>Name</th><th>Expiry</th>\
         <th>Last sync</th><th>Admin center</th></tr></thead>\n<tbody>\n",
    );
    for c in rows {
        let dash = "<span class=\"muted\">–</span>";
        let expiry = c
            .expiry
            .map_or_else(|| dash.to_string(), |t| when(Some(t), now));
        let sync = c
            .last_sync
            .map_or_else(|| dash.to_string(), |t| when(Some(t), now));
        let name = match (&c.display_name, &c.connector_id) {
            (Some(n), _) => esc(n),
            (None, Some(id)) => format!("<code>{}</code>", esc(id)),
            (None, None) => dash.to_string(),
        };
        let _ = writeln!(
            b,
            "<tr data-connector=\"{}\" data-status=\"{}\"><td>{}</td><td>{}</td><td>{name}</td>\
             <td>{expiry}</td><td>{sync}</td><td><a href=\"{}\">Open</a></td></tr>",
            c.connector,
            c.status.as_str(),
            pill(c.status),
            esc(c.kind_name),
            esc(&c.admin_center_url),
        );
    }
    b.push_str("</tbody>\n");
}

/// "Beyond the page": what the exporter reads that Intune's page does not show, worst first.
fn beyond(b: &mut String, rows: &[BeyondRow], now: DateTime<Utc>) {
    b.push_str("<section id=\"beyond\"><h2>Beyond the page</h2>\n");
    if rows.is_empty() {
        b.push_str(
            "<p class=\"muted\">Nothing read beyond Intune's page (commercial subscriptions \
             need the <code>subscriptions</code> source, off by default).</p>\n</section>\n",
        );
        return;
    }
    b.push_str(
        "<table id=\"beyond-table\"><thead><tr><th>Status</th><th>Kind</th><th>Name</th>\
         <th>Date</th><th>Detail</th></tr></thead>\n<tbody>\n",
    );
    for r in rows {
        let date = r.date.map_or_else(
            || "<span class=\"muted\">–</span>".to_string(),
            |t| when(Some(t), now),
        );
        let _ = writeln!(
            b,
            "<tr data-kind=\"{kind}\" data-status=\"{}\"><td>{}</td><td>{}</td><td>{}</td>\
             <td>{date}</td><td>{}</td></tr>",
            r.status.as_str(),
            pill(r.status),
            esc(&words(&r.kind.replace('_', " "))),
            esc(&r.name),
            esc(&r.detail),
            kind = r.kind,
        );
    }
    b.push_str("</tbody></table>\n</section>\n");
}

fn error_cell(e: &PollError, up: Option<bool>, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let old = up == Some(true);
    let _ = write!(out, "<div class=\"err{}\">", if old { " old" } else { "" });
    let mut head = Vec::new();
    if let Some(s) = e.http_status {
        head.push(format!("HTTP {s}"));
    }
    if let Some(c) = &e.code {
        head.push(esc(c));
    }
    if !head.is_empty() {
        let _ = write!(out, "<span class=\"code\">{}</span> ", head.join(" "));
    }
    if old {
        let _ = write!(out, "<span class=\"rel\">(before the last success)</span> ");
    }
    let _ = write!(out, "<div>{}</div>", esc(&e.message));
    let _ = write!(out, "<div class=\"rel\">at {}", when(Some(e.at), now));
    if let Some(id) = &e.request_id {
        let _ = write!(out, " · request-id <code>{}</code>", esc(id));
    }
    out.push_str("</div>");
    if let Some(p) = e.permission {
        let _ = write!(
            out,
            "<div class=\"grant\">Grant the application permission <code class=\"permission\">{}</code> \
             (with admin consent).</div>",
            esc(p)
        );
    }
    out.push_str("</div>");
    out
}

fn source_row(b: &mut String, s: &SourceView, now: DateTime<Utc>) {
    // A refused sign-in fails every source with the same error; the page shows it once, in
    // its own section, and each source only points there.
    let error = match &s.last_error {
        None => String::new(),
        Some(e) if e.sign_in => format!(
            "<div class=\"err{}\">Signing in failed: see <a href=\"#sign-in\">Sign-in</a>.</div>",
            if s.up == Some(true) { " old" } else { "" }
        ),
        Some(e) => error_cell(e, s.up, now),
    };
    let status = match s.up {
        None => "<span class=\"pill unknown\">Not polled yet</span>",
        Some(true) => "<span class=\"pill up\">Up</span>",
        Some(false) => "<span class=\"pill down\">Down</span>",
    };
    let duration = s
        .duration_seconds
        .map_or_else(String::new, |d| format!("{d:.2} s"));
    let _ = writeln!(
        b,
        "<tr data-source=\"{src}\"><td><code>{src}</code></td><td>{status}</td><td>{}</td>\
         <td class=\"num\">{duration}</td><td>{}</td><td>{error}</td></tr>",
        when(s.last_poll, now),
        when(s.next_poll, now),
        src = s.source,
    );
}

/// A tenant's page.
pub fn tenant(v: &TenantView, telemetry_path: &str) -> String {
    let now = v.generated_at;
    let t = &v.summary;
    let id = esc(&t.tenant_id);
    let name = t.name.as_deref().map_or_else(|| id.clone(), esc);
    let mut b = String::with_capacity(32 * 1024);
    let _ = write!(
        b,
        "<p class=\"sub\"><a href=\"../\">All tenants</a></p>\n\
         <h1>{name} {}</h1>\n<p class=\"sub\">Tenant ID <code>{id}</code> · health evaluated {} · \
         <a href=\"{}\">Tenant status in the Intune admin center</a> · \
         <a href=\"../api/v1/tenants/{}\">JSON</a></p>\n",
        status_cell(t),
        when(Some(now), now),
        esc(&v.admin_center_url),
        seg(&t.tenant_id),
    );
    picker(&mut b, &v.tenants, &t.tenant_id);
    if let Some(s) = &t.sign_in {
        sign_in(&mut b, s, now);
    }

    // 1. Tenant details and licences.
    let d = &v.details;
    let or_dash = |s: &Option<String>| {
        s.as_deref()
            .map_or_else(|| "<span class=\"muted\">–</span>".to_string(), esc)
    };
    let _ = write!(
        b,
        "<section id=\"details\"><h2>Tenant details</h2>\n<dl><dt>Name</dt><dd>{}</dd>\
         <dt>Tenant ID</dt><dd><code>{id}</code></dd><dt>Country</dt><dd>{}</dd>\
         <dt>MDM authority</dt><dd>{}</dd><dt>Intune subscription</dt><dd>{}</dd>\
         <dt>Labels</dt><dd>{}</dd></dl>\n<h3>User licences with Intune</h3>\n",
        or_dash(&d.name),
        or_dash(&d.country_code),
        or_dash(&d.mdm_authority),
        or_dash(&d.subscription_state),
        if t.labels.is_empty() {
            "<span class=\"muted\">none</span>".to_string()
        } else {
            labels(t)
        },
    );
    if v.licences.is_empty() {
        b.push_str("<p class=\"muted\">No licence data.</p>\n");
    } else {
        b.push_str(
            "<table id=\"licences\"><thead><tr><th>SKU</th><th class=\"num\">Assigned</th>\
             <th class=\"num\">Enabled</th><th class=\"num\">Suspended</th><th class=\"num\">Warning</th>\
             <th class=\"num\">Locked out</th></tr></thead>\n<tbody>\n",
        );
        for l in &v.licences {
            let _ = writeln!(
                b,
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&l.sku),
                l.consumed,
                l.enabled,
                l.suspended,
                l.warning,
                l.locked_out
            );
        }
        b.push_str("</tbody></table>\n");
    }
    b.push_str("</section>\n");

    // 2. Connector status: the top five, then the rest behind "Show all". The badges count
    // the table's rows, so each number can be checked against it.
    let mut rows = StatusCounts::default();
    for c in &v.connectors {
        rows.add(c.status);
    }
    let _ = write!(
        b,
        "<section id=\"connectors\"><h2>Connector status</h2>\n<p class=\"sub\">{}</p>\n\
         <table id=\"connectors-top\">\n",
        counts(&rows, "connectors")
    );
    let top = v.connectors.len().min(TOP_CONNECTORS);
    connector_rows(&mut b, &v.connectors[..top], now);
    b.push_str("</table>\n");
    if v.connectors.len() > top {
        let _ = write!(
            b,
            "<details id=\"connectors-all\"><summary>Show all {} connectors</summary>\n\
             <table id=\"connectors-rest\">\n",
            v.connectors.len()
        );
        connector_rows(&mut b, &v.connectors[top..], now);
        b.push_str("</table>\n</details>\n");
    }
    b.push_str("</section>\n");

    // 3. Service health: incidents and advisories.
    b.push_str("<section id=\"service-health\"><h2>Service health</h2>\n");
    if v.service_health.is_empty() {
        b.push_str("<p class=\"muted\">No service health data.</p>\n");
    } else {
        b.push_str("<table id=\"services\"><thead><tr><th>Service</th><th>Status</th></tr></thead>\n<tbody>\n");
        for s in &v.service_health {
            let class = if s.status == "service_operational" {
                "healthy"
            } else {
                "warning"
            };
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td><span class=\"pill {class}\">{}</span></td></tr>",
                esc(&s.service),
                esc(&s.status.replace('_', " "))
            );
        }
        b.push_str("</tbody></table>\n");
    }
    b.push_str("<h3>Active incidents and advisories</h3>\n");
    if v.issues.is_empty() {
        b.push_str("<p class=\"muted\">None.</p>\n");
    } else {
        b.push_str(
            "<table id=\"issues\"><thead><tr><th>ID</th><th>Title</th><th>Classification</th>\
             <th>Status</th><th>Feature</th><th>Started</th></tr></thead>\n<tbody>\n",
        );
        for i in &v.issues {
            let _ = writeln!(
                b,
                "<tr><td><code>{}</code></td><td class=\"title\">{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td></tr>",
                esc(&i.id),
                esc(&i.title),
                esc(&i.classification),
                esc(&i.status.replace('_', " ")),
                esc(i.feature.as_deref().unwrap_or("")),
                when(i.start, now)
            );
        }
        b.push_str("</tbody></table>\n");
    }
    b.push_str("</section>\n");

    // 4. Intune news: the latest Message center posts, newest first.
    b.push_str("<section id=\"news\"><h2>Intune news</h2>\n");
    if v.messages.is_empty() {
        b.push_str("<p class=\"muted\">No active Message center post.</p>\n");
    } else {
        b.push_str(
            "<table id=\"messages\"><thead><tr><th>Updated</th><th>ID</th><th>Title</th>\
             <th>Category</th><th>Severity</th><th>Action required by</th></tr></thead>\n<tbody>\n",
        );
        for m in &v.messages {
            let major = if m.major_change {
                " <span class=\"pill warning\">Major change</span>"
            } else {
                ""
            };
            let _ = writeln!(
                b,
                "<tr data-message-id=\"{id}\"><td>{}</td><td><code>{id}</code></td>\
                 <td class=\"title\">{}{major}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                when(m.last_modified, now),
                esc(&m.title),
                esc(&words(m.category.as_deref().unwrap_or(""))),
                esc(&words(m.severity.as_deref().unwrap_or(""))),
                m.action_required_by
                    .map_or_else(String::new, |t| when(Some(t), now)),
                id = esc(&m.id),
            );
        }
        b.push_str("</tbody></table>\n");
    }
    b.push_str("</section>\n");

    beyond(&mut b, &v.beyond, now);

    // The exporter's own view: how each source's polls went, and why one is down.
    let _ = write!(
        b,
        "<section id=\"sources\"><h2>Sources</h2>\n<p class=\"sub\">{} of {} down</p>\n\
         <table id=\"source-table\"><thead><tr><th>Source</th><th>Status</th><th>Last poll</th>\
         <th class=\"num\">Duration</th><th>Next poll</th><th>Last error</th></tr></thead>\n<tbody>\n",
        t.sources_down.len(),
        t.sources_total
    );
    for s in &v.sources {
        source_row(&mut b, s, now);
    }
    b.push_str("</tbody></table>\n</section>\n");

    page(
        &format!(
            "{} · Tenant status · intune-exporter",
            t.name.as_deref().unwrap_or(&t.tenant_id)
        ),
        &Nav {
            base: "../",
            telemetry_path,
        },
        &b,
    )
}

/// Every tenant by name, each a link to its page; the current one is not a link.
fn picker(b: &mut String, tenants: &[TenantLink], current: &str) {
    if tenants.len() < 2 {
        return;
    }
    let _ = write!(
        b,
        "<details id=\"tenant-picker\" class=\"picker\"><summary>Other tenants ({})</summary>\n<ul>\n",
        tenants.len() - 1
    );
    for t in tenants.iter().filter(|t| t.tenant_id != current) {
        let name = t.name.as_deref().unwrap_or(&t.tenant_id);
        let _ = writeln!(
            b,
            "<li><a href=\"{}\" title=\"{}\">{}</a></li>",
            seg(&t.tenant_id),
            esc(&t.tenant_id),
            esc(name)
        );
    }
    b.push_str("</ul>\n</details>\n");
}

/// The tenant's sign-in: its error once, for every source it failed.
fn sign_in(b: &mut String, s: &SignIn, now: DateTime<Utc>) {
    let Some(e) = &s.last_error else { return };
    let head = if s.up {
        "Last failed sign-in"
    } else {
        "Cannot sign in to this tenant"
    };
    let _ = writeln!(
        b,
        "<section id=\"sign-in\" class=\"{}\"><h2>{head}</h2>\n<p class=\"sub\">{}</p>\n{}</section>",
        if s.up { "" } else { "signin" },
        if s.up {
            format!("Signing in works again (last at {}).", when(Some(s.at), now))
        } else {
            "Every source of this tenant fails until signing in works: the AADSTS code says why \
             (a wrong or expired secret or certificate, or an app registration not consented in \
             this tenant)."
                .to_string()
        },
        error_cell(e, Some(s.up), now)
    );
}

/// The page for a tenant that does not exist.
pub fn not_found(tenant_id: &str, telemetry_path: &str) -> String {
    page(
        "Unknown tenant · intune-exporter",
        &Nav {
            base: "../",
            telemetry_path,
        },
        &format!(
            "<h1>Unknown tenant</h1>\n<p>No tenant <code>{}</code> is configured. \
             <a href=\"../\">All tenants</a></p>\n",
            esc(tenant_id)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn escapes_markup_and_drops_what_xml_refuses() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\"\u{1}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn relative_times_and_words() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let at = |secs: i64| now + chrono::TimeDelta::seconds(secs);
        assert_eq!(relative(at(-30), now), "just now");
        assert_eq!(relative(at(30), now), "in 30 s");
        assert_eq!(relative(at(0), now), "just now");
        assert_eq!(relative(at(-90), now), "1 min ago");
        assert_eq!(relative(at(3600), now), "in 1 hour");
        assert_eq!(relative(at(-30 * 3600), now), "30 hours ago");
        assert_eq!(relative(at(5 * 86_400 + 10), now), "in 5 days");
        assert_eq!(words("planForChange"), "Plan for change");
        assert_eq!(words("high"), "High");
    }
}
