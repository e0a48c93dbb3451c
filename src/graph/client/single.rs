//! Single GETs: one request per page, sent again as long as the [`verdict`] says so, and the
//! pages of a collection followed through `@odata.nextLink`.
//!
//! [`verdict`]: crate::graph::verdict::verdict

use super::session::Session;
use crate::graph::body::{decode_json, read_limited};
use crate::graph::error::{chain, GraphError};
use crate::graph::odata::{decode, Page, Raw, Request, Shape};
use crate::graph::verdict::{retry_after, Attempt, Failure, Reply, Verdict};
use chrono::Utc;
use reqwest::header::{HeaderMap, ACCEPT};
use std::collections::HashSet;
use url::Url;

/// What one page's GET came to, short of an error.
enum Fetched {
    /// The decoded body, and its size in bytes as read.
    Found(serde_json::Value, usize),
    /// 404 for an entity.
    Absent,
    /// Graph refused the `$filter` the request carried.
    FilterRefused,
}

/// Fetches what `request` names: an entity (`None` when Graph answers 404, which for a
/// singleton connector means "not configured") or every item of a collection, following
/// `@odata.nextLink` to the end. A `$filter` Graph refuses is dropped for good: the session
/// remembers the path, and the source filters locally.
pub(super) async fn fetch(
    session: &Session,
    source: &str,
    request: &Request,
) -> Result<Raw, GraphError> {
    let mut filter = session.filter(request);
    loop {
        match fetch_with(session, source, request, filter).await? {
            Some(raw) => return Ok(raw),
            // Without a filter, nothing can refuse it: the loop goes round at most twice.
            None => {
                session.refuse_filter(request);
                filter = None;
            }
        }
    }
}

/// Fetches `request` with `filter`; `None` when Graph refused the filter.
async fn fetch_with(
    session: &Session,
    source: &str,
    request: &Request,
    filter: Option<&str>,
) -> Result<Option<Raw>, GraphError> {
    let path = request.path;
    let limit = session.retry.max_response_bytes;
    let mut url = session.url(path, request.select, filter)?;
    let mut attempt = Attempt {
        optional: request.shape == Shape::Entity,
        filtered: filter.is_some(),
        ..Attempt::default()
    };
    match request.shape {
        Shape::Entity => match get_json(session, source, path, url, limit, attempt).await? {
            Fetched::FilterRefused => Ok(None),
            Fetched::Absent => Ok(Some(Raw::Entity(None))),
            Fetched::Found(v, _) => Ok(Some(Raw::from_body(Shape::Entity, path, v)?)),
        },
        Shape::Collection => {
            let mut items = Vec::new();
            let mut seen = HashSet::from([url.clone()]);
            // The limit bounds the whole collection, every page together: pages each
            // under it must not add up to gigabytes.
            let mut read = 0usize;
            for _ in 0..session.retry.max_pages {
                let fetched = get_json(session, source, path, url, limit - read, attempt).await;
                let body = match fetched {
                    Ok(Fetched::Found(v, len)) => {
                        read += len;
                        v
                    }
                    Ok(Fetched::FilterRefused) => return Ok(None),
                    // A collection is never optional: the verdict on its 404 is a failure.
                    Ok(Fetched::Absent) => return Err(GraphError::not_found(path)),
                    Err(GraphError::TooLarge { .. }) if read > 0 => {
                        return Err(GraphError::collection_too_large(path, limit))
                    }
                    Err(err) => return Err(err),
                };
                let page: Page = decode(path, body)?;
                items.extend(page.value);
                // Only the first page carries the source's $filter.
                attempt.filtered = false;
                match page.next_link {
                    None => return Ok(Some(Raw::Collection(items))),
                    // Graph's nextLink is opaque: follow it as given, but never send the
                    // bearer token to another origin.
                    Some(link) => {
                        url = same_origin(session, path, &link)?;
                        // A link back to a page already read would page forever.
                        if !seen.insert(url.clone()) {
                            return Err(GraphError::NextLinkLoop {
                                path: path.to_string(),
                                link,
                            });
                        }
                    }
                }
            }
            Err(GraphError::TooManyPages {
                path: path.to_string(),
                max_pages: session.retry.max_pages,
            })
        }
    }
}

fn same_origin(session: &Session, path: &str, link: &str) -> Result<Url, GraphError> {
    let foreign = || GraphError::ForeignNextLink {
        path: path.to_string(),
        link: link.to_string(),
    };
    let url = Url::parse(link).map_err(|_| foreign())?;
    if url.origin() != session.root.origin() {
        return Err(foreign());
    }
    Ok(url)
}

/// GETs `url`, sending again as the verdict says, and reads at most `limit` bytes of its
/// answer. `attempt` says what the request carries; its count starts here.
async fn get_json(
    session: &Session,
    source: &str,
    path: &str,
    url: Url,
    limit: usize,
    mut attempt: Attempt,
) -> Result<Fetched, GraphError> {
    attempt.number = 0;
    attempt.refreshed = false;
    loop {
        attempt.number += 1;
        let token = session.token.token().await?;
        session.limiter.acquire(path).await;
        let permit = session.request_permit().await;
        let started = tokio::time::Instant::now();
        let sent = session
            .http
            .get(url.clone())
            .bearer_auth(&token)
            .header(ACCEPT, "application/json")
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(err) => {
                drop(permit);
                session.record(source, "error", started);
                let transient = err.is_timeout() || err.is_connect() || err.is_request();
                match session.verdict(Reply::Unanswered { transient }, attempt) {
                    Verdict::Retry { after, .. } => {
                        tracing::debug!(path, attempt = attempt.number, wait_seconds = after.as_secs_f64(), error = %chain(&err), "retrying Graph request");
                        tokio::time::sleep(after).await;
                        continue;
                    }
                    _ => {
                        return Err(GraphError::Transport {
                            path: path.to_string(),
                            message: chain(&err),
                        })
                    }
                }
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers(), Utc::now());
        let verdict = session.verdict(Reply::Status(status, retry_after), attempt);
        // A 404's body is not read: it says nothing the verdict needs.
        match verdict {
            Verdict::Absent => {
                session.record(source, status.as_str(), started);
                return Ok(Fetched::Absent);
            }
            Verdict::Fail(Failure::NotFound) => {
                session.record(source, status.as_str(), started);
                return Err(GraphError::not_found(path));
            }
            _ => {}
        }
        // Only a failure needs the headers: its error names Graph's request ids.
        let headers = match verdict {
            Verdict::Fail(_) => response.headers().clone(),
            _ => HeaderMap::new(),
        };
        let body = read_limited(response, path, limit).await;
        drop(permit);
        session.record(source, status.as_str(), started);
        let body = body?;
        match verdict {
            Verdict::Done => {
                let len = body.len();
                return decode_json(path, body).map(|v| Fetched::Found(v, len));
            }
            Verdict::DropFilter => return Ok(Fetched::FilterRefused),
            Verdict::RefreshToken => {
                attempt.refreshed = true;
                tracing::debug!(path, "Graph refused the token; getting a new one");
                session.token.invalidate(&token);
            }
            Verdict::Retry { after, tenant } => {
                session.retrying(path, attempt.number, status, after, tenant, false);
                // A Retry-After paused the tenant's limiter, which the next send passes.
                if !tenant {
                    tokio::time::sleep(after).await;
                }
            }
            Verdict::Absent | Verdict::Fail(_) => {
                return Err(GraphError::from_answer(
                    path,
                    status,
                    &headers,
                    &body,
                    retry_after,
                ))
            }
        }
    }
}
