//! The OData query features the simulator honours, as pure functions: `$select`, paging with
//! `$skiptoken` / `@odata.nextLink`, `Prefer: odata.maxpagesize`, and `@odata.context` URLs.
//!
//! `$filter` (beyond noting that one was given), `$orderby`, `$top`, `$expand` and every other
//! query option are ignored on purpose:
//! Graph does not support them on every Intune resource, so the exporter must filter and sort
//! client-side, and the simulator should not hide a client that forgets to.

use std::ops::Range;

use serde_json::{Map, Value};

/// The query options the simulator reads from one request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    /// `$select` (or `select`), split on commas; `None` when absent.
    pub(crate) select: Option<Vec<String>>,
    /// `$skiptoken`, still undecoded.
    pub(crate) skiptoken: Option<String>,
    /// Whether a `$filter` was given (it is not applied, but faults can depend on it).
    pub(crate) filter: bool,
}

impl Query {
    /// Reads the raw (percent-encoded) query string.
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        let mut query = Query::default();
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "$select" | "select" => {
                    query.select = Some(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|f| !f.is_empty())
                            .map(str::to_string)
                            .collect(),
                    )
                }
                "$skiptoken" => query.skiptoken = Some(value.into_owned()),
                "$filter" | "filter" => query.filter = true,
                _ => {}
            }
        }
        query
    }
}

/// Keeps only the selected top-level properties, plus `id` and OData annotations, like Graph.
/// Property names match without regard to case, as Graph's do.
pub(crate) fn select(object: &Map<String, Value>, fields: &[String]) -> Map<String, Value> {
    object
        .iter()
        .filter(|(key, _)| {
            key.as_str() == "id"
                || key.starts_with("@odata.")
                || fields.iter().any(|f| f.eq_ignore_ascii_case(key))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Where a page starts and how long pages are; opaque to clients, who only follow nextLinks.
/// The page size travels in the token because Graph keeps the first request's page size too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SkipToken {
    pub(crate) offset: usize,
    pub(crate) page_size: usize,
}

impl SkipToken {
    pub(crate) fn encode(self) -> String {
        format!("sim-{}-{}", self.offset, self.page_size)
    }

    /// `None` for a token this simulator did not write.
    pub(crate) fn decode(token: &str) -> Option<SkipToken> {
        let (offset, page_size) = token.strip_prefix("sim-")?.split_once('-')?;
        let page_size: usize = page_size.parse().ok()?;
        (page_size > 0).then_some(SkipToken {
            offset: offset.parse().ok()?,
            page_size,
        })
    }
}

/// The elements of one page and where the next page starts, if there is one.
pub(crate) fn page(len: usize, offset: usize, page_size: usize) -> (Range<usize>, Option<usize>) {
    let start = offset.min(len);
    let end = start.saturating_add(page_size).min(len);
    (start..end, (end < len).then_some(end))
}

/// `Prefer: odata.maxpagesize=N` (among other comma-separated preferences); `None` if absent or
/// not a positive number.
pub(crate) fn max_page_size(prefer: &str) -> Option<usize> {
    prefer.split(',').find_map(|pref| {
        let (name, value) = pref.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("odata.maxpagesize") {
            return None;
        }
        value.trim().parse().ok().filter(|n| *n > 0)
    })
}

/// The absolute nextLink: same path and query (so `$select` survives), new `$skiptoken`.
pub(crate) fn next_link(
    base_url: &str,
    raw_path: &str,
    raw_query: Option<&str>,
    token: SkipToken,
) -> String {
    let mut query: Vec<&str> = raw_query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            !pair.is_empty() && key != "$skiptoken" && !key.eq_ignore_ascii_case("%24skiptoken")
        })
        .collect();
    let skip = format!("$skiptoken={}", token.encode());
    query.push(&skip);
    format!("{base_url}{raw_path}?{}", query.join("&"))
}

/// `@odata.context` as Graph writes it: `{base}/v1.0/$metadata#{resource}`, with `(a,b)` after
/// the resource when `$select` was given, and `/$entity` when `entity` is set (a single entity of
/// a set or a nested one; top-level singletons such as `deviceManagement` have none).
pub(crate) fn context(
    base_url: &str,
    version: &str,
    resource: &str,
    select: Option<&[String]>,
    entity: bool,
) -> String {
    let mut out = format!("{base_url}/{version}/$metadata#{resource}");
    if let Some(fields) = select {
        out.push('(');
        out.push_str(&fields.join(","));
        out.push(')');
    }
    if entity {
        out.push_str("/$entity");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paging_math() {
        assert_eq!(page(7, 0, 3), (0..3, Some(3)));
        assert_eq!(page(7, 3, 3), (3..6, Some(6)));
        assert_eq!(page(7, 6, 3), (6..7, None));
        assert_eq!(page(6, 3, 3), (3..6, None));
        assert_eq!(page(0, 0, 100), (0..0, None));
        assert_eq!(page(5, 9, 3), (5..5, None));
        assert_eq!(page(5, 0, usize::MAX), (0..5, None));
    }

    #[test]
    fn skiptoken_round_trips_and_refuses_foreign_tokens() {
        let t = SkipToken {
            offset: 6,
            page_size: 3,
        };
        assert_eq!(t.encode(), "sim-6-3");
        assert_eq!(SkipToken::decode("sim-6-3"), Some(t));
        for bad in [
            "",
            "6-3",
            "sim-6",
            "sim-x-3",
            "sim-6-0",
            "X'4453707402000100'",
        ] {
            assert_eq!(SkipToken::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn select_keeps_id_and_annotations() {
        let obj = json!({"id": "1", "@odata.type": "#microsoft.graph.vppToken", "state": "valid", "token": "secret", "appleId": "a@b"});
        let Value::Object(map) = obj else {
            unreachable!()
        };
        let fields = vec!["State".to_string(), "appleId".to_string()];
        assert_eq!(
            Value::Object(select(&map, &fields)),
            json!({"id": "1", "@odata.type": "#microsoft.graph.vppToken", "state": "valid", "appleId": "a@b"})
        );
    }

    #[test]
    fn parses_query_options() {
        let q = Query::parse(Some(
            "%24select=id,%20displayName&$filter=x%20eq%201&$skiptoken=sim-3-3",
        ));
        assert_eq!(
            q,
            Query {
                select: Some(vec!["id".into(), "displayName".into()]),
                skiptoken: Some("sim-3-3".into()),
                filter: true,
            }
        );
        assert_eq!(Query::parse(None), Query::default());
    }

    #[test]
    fn prefer_header() {
        assert_eq!(max_page_size("odata.maxpagesize=5"), Some(5));
        assert_eq!(
            max_page_size("return=minimal, odata.maxpagesize = 20"),
            Some(20)
        );
        assert_eq!(max_page_size("odata.maxpagesize=0"), None);
        assert_eq!(max_page_size("return=minimal"), None);
    }

    #[test]
    fn next_link_keeps_select_and_replaces_the_token() {
        let t = SkipToken {
            offset: 4,
            page_size: 2,
        };
        assert_eq!(
            next_link(
                "https://127.0.0.1:1",
                "/v1.0/subscribedSkus",
                Some("$select=skuId&$skiptoken=sim-2-2"),
                t
            ),
            "https://127.0.0.1:1/v1.0/subscribedSkus?$select=skuId&$skiptoken=sim-4-2"
        );
        assert_eq!(
            next_link("https://h", "/beta/x", None, t),
            "https://h/beta/x?$skiptoken=sim-4-2"
        );
    }

    #[test]
    fn context_urls() {
        let sel = vec!["skuId".to_string(), "consumedUnits".to_string()];
        assert_eq!(
            context("https://h", "v1.0", "subscribedSkus", Some(&sel), false),
            "https://h/v1.0/$metadata#subscribedSkus(skuId,consumedUnits)"
        );
        assert_eq!(
            context("https://h", "beta", "deviceManagement", None, false),
            "https://h/beta/$metadata#deviceManagement"
        );
        assert_eq!(
            context(
                "https://h",
                "v1.0",
                "deviceManagement/applePushNotificationCertificate",
                None,
                true
            ),
            "https://h/v1.0/$metadata#deviceManagement/applePushNotificationCertificate/$entity"
        );
    }
}
