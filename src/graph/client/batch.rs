//! JSON batching: [`GraphClient::fetch_all`] carries many GETs of one tenant in
//! `POST {root}/v1.0/$batch` and `POST {root}/beta/$batch` round trips, with the semantics of one
//! [`GraphClient::fetch`] per request: each item's answer meets the same [`verdict`] as a single
//! GET's.
//!
//! Graph takes at most [`MAX_BATCH`] requests per batch, each with a URL relative to the
//! version root (`/deviceManagement?$select=...`), so v1.0 and beta requests travel apart. Every
//! answer item has its own status, headers and body, and is handled as the single GET would be:
//!
//! - 200: the body (singletons unwrapped); a collection page with `@odata.nextLink` goes on: the
//!   link, made relative, is an item of the *next* round. The pages of every paged collection of
//!   the tenant then share one round trip per page depth instead of one each. A link that leaves
//!   the Graph root (another origin, or a path outside `{root}/v1.0/` and `{root}/beta/`) fails
//!   that item and is never requested: batch items are relative, so the token stays with Graph.
//!   A link back to a page the item already read fails it too, as do more than `max_pages`.
//! - 404: "not configured" for an entity, an error for a collection.
//! - 429, 500, 502, 503, 504: retried in a later round, never before the item's own
//!   `Retry-After` (header names in a batch may be any case), which also pauses the tenant's
//!   limiter; without one, exponential backoff. At most `max_attempts` per page.
//! - 401: one new token for the whole round, then once more; a second 401 fails the item.
//! - 400 to a request with a `$filter` (a first page): the client forgets that filter for the
//!   path (sources filter locally) and retries at once without it.
//! - anything else: [`GraphError::Status`] with Graph's code and message, the item's request ids
//!   and, for a 3xx, where it pointed (never followed).
//!
//! The whole batch answer is read within `max_response_bytes`; one larger (an item above the
//! limit makes it so) fails the batch, and the single GETs then apply the limit to each item.
//! The pages of one collection together (their size as JSON) are bounded by the same limit.
//!
//! A batch that fails as a whole (no answer, a status other than 2xx, 401 or 429, a body that is
//! not a batch answer) falls back to single GETs ([`GraphClient::fetch`]) for its items, and so
//! does an item missing from an otherwise good answer or answered twice (neither copy is taken;
//! logged as a warning); an answer with an id that was not asked for is not this batch's and
//! fails the batch. Each failed batch logs one debug line.
//! A 401 or 429 for the whole batch is taken as that answer for each of its items. Each item
//! passes the tenant's limiter (Graph counts batch items against its limits); a batch holds one
//! permit of the process-wide request cap. Metrics count and time each item by its source; an
//! item's duration is the round trip that carried it.
//!
//! This module owns the batch wire format and the per-item state; what an item's answer calls
//! for is the [`verdict`]'s to say. It must not change how single requests behave, and never
//! sends anything outside the configured Graph root.
//!
//! [`GraphClient::fetch_all`]: super::GraphClient::fetch_all
//! [`GraphClient::fetch`]: super::GraphClient::fetch
//! [`verdict`]: crate::graph::verdict::verdict

use super::session::Session;
use super::single;
use crate::graph::body::{read_limited, replace_lone_surrogates};
use crate::graph::error::{chain, GraphError};
use crate::graph::odata::{decode, Page, Raw, Request, Shape};
use crate::graph::verdict::{retry_after, Attempt, Failure, Reply, Verdict};
use chrono::Utc;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Most requests in one batch (Graph's limit).
pub const MAX_BATCH: usize = 20;

/// The API versions that have a `$batch` endpoint, as the first path segment.
const VERSIONS: [&str; 2] = ["v1.0", "beta"];

/// One request on its way through the rounds.
struct Item {
    source: &'static str,
    request: &'static Request,
    /// The version root the current URL is relative to.
    version: &'static str,
    /// The current page's URL relative to the version root: `/deviceManagement?%24select=...`.
    url: String,
    /// Whether `url` carries the request's `$filter` (only the first page's URL does).
    filtered: bool,
    /// Sends of the current page so far.
    attempt: u32,
    /// Whether a 401 already got a new token for the current page.
    refreshed: bool,
    /// Not to be sent before then (a `Retry-After` or a backoff).
    not_before: Option<Instant>,
    /// Pages read, their size as JSON (bounded by `max_response_bytes` together), and their
    /// items.
    pages: usize,
    bytes: usize,
    /// The URLs of the pages requested so far (version and relative URL): a nextLink back to
    /// one of them would page forever.
    seen: HashSet<(&'static str, String)>,
    collected: Vec<Value>,
    state: State,
}

enum State {
    Pending,
    /// To be fetched with single GETs.
    Single,
    Done(Result<Raw, GraphError>),
}

impl Item {
    fn new(session: &Session, source: &'static str, request: &'static Request) -> Item {
        let filter = session.filter(request);
        let mut item = Item {
            source,
            request,
            version: VERSIONS[0],
            url: String::new(),
            filtered: filter.is_some(),
            attempt: 0,
            refreshed: false,
            not_before: None,
            pages: 0,
            bytes: 0,
            seen: HashSet::new(),
            collected: Vec::new(),
            state: State::Pending,
        };
        match first_url(session, request, filter) {
            Some((version, url)) => {
                item.seen.insert((version, url.clone()));
                item.version = version;
                item.url = url;
            }
            // A path outside the batchable versions (none of the sources has one) goes alone.
            None => item.state = State::Single,
        }
        item
    }

    fn path(&self) -> &'static str {
        self.request.path
    }

    fn pending(&self) -> bool {
        matches!(self.state, State::Pending)
    }

    fn finish(&mut self, result: Result<Raw, GraphError>) {
        self.state = State::Done(result);
    }

    /// Starts the current page over: a new URL, fresh attempts.
    fn restart(&mut self, version: &'static str, url: String) {
        self.seen.insert((version, url.clone()));
        self.version = version;
        self.url = url;
        self.attempt = 0;
        self.refreshed = false;
        self.not_before = None;
    }
}

fn first_url(
    session: &Session,
    request: &Request,
    filter: Option<&str>,
) -> Option<(&'static str, String)> {
    let url = session.url(request.path, request.select, filter).ok()?;
    relative(&session.root, &url)
}

/// `url` relative to its version root under `root`, with its version; `None` when it is not
/// under `{root}v1.0/` or `{root}beta/` (another origin included).
fn relative(root: &Url, url: &Url) -> Option<(&'static str, String)> {
    if url.origin() != root.origin() {
        return None;
    }
    let rest = url.path().strip_prefix(root.path())?;
    let (version, tail) = rest.split_once('/')?;
    let version = VERSIONS.into_iter().find(|v| *v == version)?;
    let mut out = format!("/{tail}");
    if let Some(query) = url.query() {
        out.push('?');
        out.push_str(query);
    }
    Some((version, out))
}

/// What one batch item answered.
#[derive(Debug, Clone)]
struct ItemAnswer {
    status: StatusCode,
    /// The item's own headers (request ids, a redirect's `Location`), names lower-cased.
    headers: HeaderMap,
    retry_after: Option<Duration>,
    body: Value,
}

/// What became of one batch POST.
enum Outcome {
    /// A batch answer: each item's, by id (items missing from it are absent).
    Answered(HashMap<String, ItemAnswer>),
    /// A 401 or 429 for the batch itself: the answer of each of its items.
    Whole(ItemAnswer),
    /// Not a batch answer; the items go singly.
    Failed(String),
    /// No connection to Graph. Single requests would meet the same host, each with its own
    /// retries (22 of them took a whole `poll.timeout` when Graph was down at start), so every
    /// item fails at once instead.
    Unreachable(String),
}

/// Fetches every request, each as [`single::fetch`] would; the results are in the order of
/// `requests`.
pub(super) async fn fetch_all(
    session: &Session,
    requests: &[(&'static str, &'static Request)],
) -> Vec<Result<Raw, GraphError>> {
    let mut items: Vec<Item> = requests
        .iter()
        .map(|&(source, request)| Item::new(session, source, request))
        .collect();
    loop {
        singles(session, &mut items).await;
        let now = Instant::now();
        let ready: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].pending() && items[i].not_before.is_none_or(|t| t <= now))
            .collect();
        if ready.is_empty() {
            let next = items
                .iter()
                .filter(|i| i.pending())
                .filter_map(|i| i.not_before)
                .min();
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => break,
            }
            continue;
        }
        round(session, &mut items, &ready).await;
    }
    items
        .into_iter()
        .map(|item| match item.state {
            State::Done(result) => result,
            // The loop ends only when nothing is pending or single.
            State::Pending | State::Single => Err(GraphError::Transport {
                path: item.request.path.to_string(),
                message: "the batch ended without an answer".to_string(),
            }),
        })
        .collect()
}

/// Fetches the items marked single with plain GETs, all at once.
async fn singles(session: &Session, items: &mut [Item]) {
    let singles: Vec<usize> = (0..items.len())
        .filter(|&i| matches!(items[i].state, State::Single))
        .collect();
    let results = futures::future::join_all(
        singles
            .iter()
            .map(|&i| single::fetch(session, items[i].source, items[i].request)),
    )
    .await;
    for (i, result) in singles.into_iter().zip(results) {
        items[i].finish(result);
    }
}

/// One round: every ready item, in batches per version, sent at once.
async fn round(session: &Session, items: &mut [Item], ready: &[usize]) {
    let token = match session.token.token().await {
        Ok(token) => token,
        Err(err) => {
            // One refused sign-in answers every item: asking again per item would only repeat
            // the same refusal to the authority.
            for &i in ready {
                items[i].finish(Err(err.clone()));
            }
            return;
        }
    };
    let mut batches: Vec<(&'static str, Vec<usize>)> = Vec::new();
    for version in VERSIONS {
        let of_version: Vec<usize> = ready
            .iter()
            .copied()
            .filter(|&i| items[i].version == version)
            .collect();
        for chunk in of_version.chunks(MAX_BATCH) {
            batches.push((version, chunk.to_vec()));
        }
    }
    let sent: &[Item] = items;
    let outcomes = futures::future::join_all(
        batches
            .iter()
            .map(|(version, ix)| send(session, version, sent, ix, &token)),
    )
    .await;
    let mut refresh = false;
    for ((version, ix), outcome) in batches.into_iter().zip(outcomes) {
        for &i in &ix {
            items[i].attempt += 1;
        }
        match outcome {
            Outcome::Answered(mut answers) => {
                let missing = ix
                    .iter()
                    .filter(|i| !answers.contains_key(&i.to_string()))
                    .count();
                if missing > 0 {
                    tracing::debug!(
                        version,
                        missing,
                        "the JSON batch answer lacks items; sending them one by one"
                    );
                }
                for i in ix {
                    match answers.remove(&i.to_string()) {
                        Some(answer) => refresh |= settle(session, &mut items[i], answer),
                        None => items[i].state = State::Single,
                    }
                }
            }
            Outcome::Whole(answer) => {
                for i in ix {
                    refresh |= settle(session, &mut items[i], answer.clone());
                }
            }
            Outcome::Failed(reason) => {
                tracing::debug!(
                    version,
                    items = ix.len(),
                    reason,
                    "the JSON batch failed; sending its requests one by one"
                );
                for i in ix {
                    items[i].state = State::Single;
                }
            }
            Outcome::Unreachable(message) => {
                for i in ix {
                    let path = items[i].path().to_string();
                    items[i].finish(Err(GraphError::Transport {
                        path,
                        message: message.clone(),
                    }));
                }
            }
        }
    }
    if refresh {
        // The cached token was still within its lifetime but Graph refused it: one new token
        // for the next round, shared by every item that met the 401.
        tracing::debug!("Graph refused the token in a batch; getting a new one");
        session.token.invalidate(&token);
    }
}

/// Sends one batch of `ix` and reads its answer; counts and times every item.
async fn send(
    session: &Session,
    version: &str,
    items: &[Item],
    ix: &[usize],
    token: &str,
) -> Outcome {
    let requests: Vec<Value> = ix
        .iter()
        .map(|&i| json!({"id": i.to_string(), "method": "GET", "url": items[i].url}))
        .collect();
    let url = match session.root.join(&format!("{version}/$batch")) {
        Ok(url) => url,
        Err(e) => return Outcome::Failed(format!("cannot build the batch URL: {e}")),
    };
    for &i in ix {
        session.limiter.acquire(items[i].path()).await;
    }
    let permit = session.request_permit().await;
    let started = Instant::now();
    let sent = session
        .http
        .post(url)
        .bearer_auth(token)
        .header(ACCEPT, "application/json")
        .json(&json!({ "requests": requests }))
        .send()
        .await;
    let count_all = |code: &str| {
        for &i in ix {
            session.record(items[i].source, code, started);
        }
    };
    let response = match sent {
        Ok(response) => response,
        Err(err) => {
            drop(permit);
            count_all("error");
            // A refused or failed connection would meet every single request too. A timeout
            // may be one slow item holding up the batch: those items go singly.
            if err.is_connect() {
                return Outcome::Unreachable(chain(&err));
            }
            return Outcome::Failed(chain(&err));
        }
    };
    let status = response.status();
    let headers = response.headers().clone();
    let retry_after = retry_after(&headers, Utc::now());
    // Bounded like every other answer: a batch carries up to 20 bodies, but one limit for the
    // whole answer keeps memory bounded all the same; an oversized batch falls back to single
    // GETs, each bounded on its own.
    let body = read_limited(
        response,
        &format!("{version}/$batch"),
        session.retry.max_response_bytes,
    )
    .await;
    drop(permit);
    let mut body = match body {
        Ok(body) => body,
        Err(err) => {
            count_all("error");
            return Outcome::Failed(err.to_string());
        }
    };
    replace_lone_surrogates(&mut body);
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS {
        count_all(status.as_str());
        return Outcome::Whole(ItemAnswer {
            status,
            headers,
            retry_after,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
    }
    if !status.is_success() {
        count_all(status.as_str());
        return Outcome::Failed(format!("HTTP {status}"));
    }
    match parse(&body) {
        Ok(Parsed {
            mut answers,
            repeated,
        }) => {
            // An id answered twice cannot say which copy is the item's: neither is taken, and
            // the item goes singly like one missing from the answer.
            if !repeated.is_empty() {
                tracing::warn!(
                    version,
                    items = repeated.len(),
                    "the JSON batch answer repeats item ids; sending those requests one by one"
                );
                for id in &repeated {
                    answers.remove(id);
                }
            }
            // An id that was not asked for means the answer is not this batch's: none of it is
            // taken.
            let asked: HashSet<String> = ix.iter().map(|i| i.to_string()).collect();
            if let Some(unknown) = answers.keys().find(|id| !asked.contains(*id)) {
                count_all(status.as_str());
                return Outcome::Failed(format!(
                    "the answer has an item id that was not asked for: {:?}",
                    unknown.chars().take(40).collect::<String>()
                ));
            }
            for &i in ix {
                let code = answers
                    .get(&i.to_string())
                    .map_or("error", |a| a.status.as_str());
                session.record(items[i].source, code, started);
            }
            Outcome::Answered(answers)
        }
        Err(reason) => {
            count_all(status.as_str());
            Outcome::Failed(reason)
        }
    }
}

/// A batch answer by item id.
struct Parsed {
    /// The answer of each id that came once.
    answers: HashMap<String, ItemAnswer>,
    /// The ids that came more than once (not in `answers`).
    repeated: HashSet<String>,
}

/// Reads a batch answer: `{"responses": [{"id", "status", "headers", "body"}]}`.
fn parse(body: &[u8]) -> Result<Parsed, String> {
    #[derive(Deserialize)]
    struct Answer {
        responses: Vec<RawItem>,
    }
    #[derive(Deserialize)]
    struct RawItem {
        id: String,
        status: u16,
        #[serde(default)]
        headers: Map<String, Value>,
        #[serde(default)]
        body: Value,
    }
    let answer: Answer =
        serde_json::from_slice(body).map_err(|e| format!("not a batch answer: {e}"))?;
    let now = Utc::now();
    let mut out = HashMap::with_capacity(answer.responses.len());
    let mut repeated = HashSet::new();
    for item in answer.responses {
        if repeated.contains(&item.id) {
            continue;
        }
        let status = StatusCode::from_u16(item.status)
            .map_err(|_| format!("item {} has status {}", item.id, item.status))?;
        // Graph writes `Retry-After`, `retry-after` or any other case; HeaderName lowers it.
        let mut headers = HeaderMap::new();
        for (name, value) in &item.headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                headers.insert(name, value);
            }
        }
        let id = item.id;
        let answer = ItemAnswer {
            status,
            retry_after: retry_after(&headers, now),
            headers,
            body: item.body,
        };
        if out.insert(id.clone(), answer).is_some() {
            out.remove(&id);
            repeated.insert(id);
        }
    }
    Ok(Parsed {
        answers: out,
        repeated,
    })
}

/// Applies one item's answer as the verdict says. Returns whether the item met a 401 that calls
/// for a new token.
fn settle(session: &Session, item: &mut Item, answer: ItemAnswer) -> bool {
    let path = item.path();
    let status = answer.status;
    let attempt = Attempt {
        number: item.attempt,
        optional: item.request.shape == Shape::Entity,
        filtered: item.filtered,
        refreshed: item.refreshed,
    };
    match session.verdict(Reply::Status(status, answer.retry_after), attempt) {
        Verdict::Done => page(session, item, answer.body),
        Verdict::Absent => item.finish(Ok(Raw::Entity(None))),
        Verdict::Fail(Failure::NotFound) => item.finish(Err(GraphError::not_found(path))),
        Verdict::DropFilter => {
            session.refuse_filter(item.request);
            match first_url(session, item.request, None) {
                Some((version, url)) => {
                    item.filtered = false;
                    item.restart(version, url);
                }
                None => item.state = State::Single,
            }
        }
        Verdict::RefreshToken => {
            item.refreshed = true;
            return true;
        }
        Verdict::Retry { after, tenant } => {
            session.retrying(path, item.attempt, status, after, tenant, true);
            item.not_before = Some(Instant::now() + after);
        }
        Verdict::Fail(Failure::Status | Failure::Transport) => {
            let body = serde_json::to_vec(&answer.body).unwrap_or_default();
            item.finish(Err(GraphError::from_answer(
                path,
                status,
                &answer.headers,
                &body,
                answer.retry_after,
            )));
        }
    }
    false
}

/// A 2xx body: the entity, or one more page of a collection.
fn page(session: &Session, item: &mut Item, body: Value) {
    let path = item.path();
    if item.request.shape == Shape::Entity {
        item.finish(Raw::from_body(Shape::Entity, path, body));
        return;
    }
    // The batch answer carrying each page was bounded; the pages together are too, as for
    // single requests.
    let limit = session.retry.max_response_bytes;
    item.bytes = item.bytes.saturating_add(json_len(&body));
    if item.bytes > limit {
        item.collected = Vec::new();
        return item.finish(Err(GraphError::collection_too_large(path, limit)));
    }
    let page: Page = match decode(path, body) {
        Ok(page) => page,
        Err(err) => return item.finish(Err(err)),
    };
    item.collected.extend(page.value);
    item.pages += 1;
    let Some(link) = page.next_link else {
        let items = std::mem::take(&mut item.collected);
        return item.finish(Ok(Raw::Collection(items)));
    };
    let max_pages = session.retry.max_pages;
    if item.pages >= max_pages {
        return item.finish(Err(GraphError::TooManyPages {
            path: path.to_string(),
            max_pages,
        }));
    }
    // Graph's nextLink is opaque: follow it as given, relative to its version root, so it can
    // travel in the next batch; never anywhere outside the Graph root.
    let next = Url::parse(&link)
        .ok()
        .and_then(|url| relative(&session.root, &url));
    match next {
        // A link back to a page already read would page forever, as for single requests.
        Some((version, url)) if !item.seen.insert((version, url.clone())) => {
            item.finish(Err(GraphError::NextLinkLoop {
                path: path.to_string(),
                link,
            }))
        }
        Some((version, url)) => {
            item.filtered = false;
            item.restart(version, url);
        }
        None => item.finish(Err(GraphError::ForeignNextLink {
            path: path.to_string(),
            link,
        })),
    }
}

/// The size of `value` written as compact JSON, counted without writing it anywhere.
fn json_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a Value to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn links_are_made_relative_to_their_version_root_under_the_graph_root() {
        let root = url("https://graph.microsoft.com/");
        assert_eq!(
            relative(
                &root,
                &url("https://graph.microsoft.com/v1.0/subscribedSkus?$select=skuId&$skiptoken=X%274453%27")
            ),
            Some((
                "v1.0",
                "/subscribedSkus?$select=skuId&$skiptoken=X%274453%27".to_string()
            ))
        );
        assert_eq!(
            relative(
                &root,
                &url("https://graph.microsoft.com/beta/deviceManagement")
            ),
            Some(("beta", "/deviceManagement".to_string()))
        );
        for foreign in [
            "https://attacker.example/v1.0/subscribedSkus",
            "http://graph.microsoft.com/v1.0/subscribedSkus",
            "https://graph.microsoft.com:8443/v1.0/subscribedSkus",
            "https://graph.microsoft.com/v2.0/subscribedSkus",
            "https://graph.microsoft.com/subscribedSkus",
        ] {
            assert_eq!(relative(&root, &url(foreign)), None, "{foreign}");
        }
        // A root with a path: links must stay under it.
        let proxied = url("https://proxy.example/graph/");
        assert_eq!(
            relative(
                &proxied,
                &url("https://proxy.example/graph/v1.0/organization")
            ),
            Some(("v1.0", "/organization".to_string()))
        );
        assert_eq!(
            relative(&proxied, &url("https://proxy.example/v1.0/organization")),
            None
        );
    }

    #[test]
    fn batch_answers_are_read_per_item_with_headers_in_any_case() {
        let body = br#"{"responses":[
            {"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"id":"a"}},
            {"id":"0","status":429,"headers":{"RETRY-AFTER":"2.5"},"body":{"error":{"code":"TooManyRequests","message":"Please retry again later."}}},
            {"id":"2","status":503,"headers":{"retry-after":"7"}},
            {"id":"3","status":204}
        ]}"#;
        let Parsed { answers, repeated } = parse(body).unwrap();
        assert!(repeated.is_empty());
        assert_eq!(answers.len(), 4);
        assert_eq!(answers["1"].status, StatusCode::OK);
        assert_eq!(answers["1"].body, json!({"id": "a"}));
        assert_eq!(answers["1"].retry_after, None);
        assert_eq!(answers["0"].status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(answers["0"].retry_after, Some(Duration::from_millis(2500)));
        assert_eq!(answers["2"].retry_after, Some(Duration::from_secs(7)));
        assert_eq!(answers["3"].body, Value::Null);
    }

    #[test]
    fn an_id_answered_twice_is_taken_from_neither_copy() {
        let body = br#"{"responses":[
            {"id":"1","status":200,"body":{"value":[1]}},
            {"id":"0","status":200,"body":{}},
            {"id":"1","status":200,"body":{"value":[]}},
            {"id":"1","status":500}
        ]}"#;
        let Parsed { answers, repeated } = parse(body).unwrap();
        assert_eq!(answers.keys().collect::<Vec<_>>(), ["0"]);
        assert_eq!(repeated, HashSet::from(["1".to_string()]));
    }

    #[test]
    fn what_is_not_a_batch_answer_is_refused() {
        for body in [
            &b"<html>bad gateway</html>"[..],
            br#"{"value":[]}"#,
            br#"{"responses":[{"status":200}]}"#,
            br#"{"responses":[{"id":"1","status":42}]}"#,
            br#"{"responses":[{"id":1,"status":200}]}"#,
        ] {
            assert!(parse(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }
}
