//! Reading `/metrics` and picking series out of an exposition.

use std::time::Duration;

use super::exporter::Exporter;

/// The body of `GET url`, which must answer.
pub async fn get_text(url: &str) -> String {
    reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: body: {e}"))
}

/// Scrapes until `done` holds for the exposition (at most `within`), and returns that exposition;
/// fails with `what` and the exporter's log otherwise.
pub async fn scrape_until(
    exporter: &Exporter,
    within: Duration,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    let deadline = std::time::Instant::now() + within;
    loop {
        let text = exporter.scrape().await;
        if done(&text) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}:\n{}",
            exporter.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `metric{labels} value` lines of one family, as (labels, value).
pub fn series(text: &str, family: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter_map(|l| l.strip_prefix(family))
        .filter_map(|rest| {
            let rest = rest.strip_prefix('{')?;
            let (labels, value) = rest.rsplit_once("} ")?;
            Some((labels.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The value of label `name` in a series' labels (`a="1",b="2"`).
pub fn label<'a>(labels: &'a str, name: &str) -> Option<&'a str> {
    let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
    let end = labels[start..].find('"')? + start;
    Some(&labels[start..end])
}

/// The current `status` of every `intune_connector_health` series of the given connector kinds
/// in an exposition, in the order they appear.
pub fn current_health(exposition: &str, connectors: &[&str]) -> Vec<String> {
    exposition
        .lines()
        .filter(|l| l.starts_with("intune_connector_health{") && l.ends_with("} 1"))
        .filter(|l| {
            connectors
                .iter()
                .any(|c| l.contains(&format!("connector=\"{c}\"")))
        })
        .filter_map(|l| l.split("status=\"").nth(1)?.split('"').next())
        .map(str::to_string)
        .collect()
}
