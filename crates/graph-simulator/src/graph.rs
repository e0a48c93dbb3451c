//! Microsoft Graph, `GET /v1.0/...` and `GET /beta/...`: bearer-token check, scripted faults,
//! then the scenario's resource for the path, shaped like Graph (`@odata.context`, paging with an
//! absolute `@odata.nextLink`, `$select`, Graph's error body, `request-id` headers).
//!
//! JSON batching, `POST /v1.0/$batch` and `POST /beta/$batch`, in Microsoft's format: up to 20
//! `{"id", "method", "url"}` requests with URLs relative to the version root, answered as
//! `{"responses": [{"id", "status", "headers", "body"}]}`. Each item is answered exactly as the
//! single GET would be (the batch's bearer token, the item path's scripted faults, paging with
//! absolute nextLinks, 404s) and logged as a request of its own; the tenant's latency applies
//! once per batch. Faults scripted for `v1.0/$batch` or `beta/$batch` answer the batch itself.
//! Faults scripted for `{path}?$filter` apply only to requests of that path with a `$filter`
//! (a scripted 400 there reads like Graph's refusal of a filter clause).

use std::collections::HashSet;

use chrono::Utc;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, AUTHORIZATION, CONTENT_LENGTH};
use hyper::{Method, Request};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::odata::{self, Query, SkipToken};
use super::record::RecordedRequest;
use super::reply::{self, Handled, HttpResponse, GRAPH_JSON};
use super::scenario::{FaultOutcome, FILTERED_FAULT_SUFFIX, NEXT_LINK_SELF};
use super::state::{LiveResource, LiveTenant, SimState, TenantIx, TokenCheck};

/// Graph's limit of requests in one JSON batch.
const MAX_BATCH: usize = 20;
/// Largest batch body read; twenty GETs need a few KiB.
const MAX_BATCH_BODY: usize = 1 << 20;

/// Graph's error: HTTP status, `error.code` and `error.message`.
struct GraphError {
    status: u16,
    code: &'static str,
    message: String,
}

fn graph_error(status: u16, code: &'static str, message: impl Into<String>) -> GraphError {
    GraphError {
        status,
        code,
        message: message.into(),
    }
}

fn not_found(path: &str) -> GraphError {
    let segment = path.rsplit('/').next().unwrap_or(path);
    graph_error(
        404,
        "ResourceNotFound",
        format!("Resource not found for the segment '{segment}'."),
    )
}

/// `request-id` is ours; `client-request-id` echoes the client's, as Graph does.
struct Ids {
    request_id: String,
    client_request_id: String,
}

impl Ids {
    /// New ids for a request with these headers.
    fn new(state: &SimState, headers: &HeaderMap) -> Ids {
        let request_id = state.new_id();
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| request_id.clone(), str::to_string);
        Ids {
            request_id,
            client_request_id,
        }
    }
}

/// The tenant whose valid bearer token the request carries, or Graph's 401 (for no tenant).
fn authenticate(
    state: &SimState,
    headers: &HeaderMap,
    ids: &Ids,
) -> Result<TenantIx, Box<Handled>> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    match bearer.map(|t| state.check_token(t)) {
        Some(TokenCheck::Valid(ix)) => Ok(ix),
        other => {
            let message = match other {
                None => "Access token is empty.",
                Some(TokenCheck::Expired) => "Lifetime validation failed, the token is expired.",
                _ => "Invalid access token.",
            };
            let err = graph_error(401, "InvalidAuthenticationToken", message);
            Err(Box::new(Handled {
                tenant_id: None,
                response: error_response(state, ids, &err, None),
            }))
        }
    }
}

/// One Graph request. `path` is percent-decoded, without the leading slash (`v1.0/...`).
pub(crate) async fn handle(state: &SimState, request: Request<Incoming>, path: &str) -> Handled {
    let ids = Ids::new(state, request.headers());
    let tenant_ix = match authenticate(state, request.headers(), &ids) {
        Ok(ix) => ix,
        Err(refused) => return *refused,
    };
    let tenant = &state.tenants[tenant_ix];
    state.pause(tenant.latency).await;
    let target = Target {
        path,
        raw_path: request.uri().path(),
        raw_query: request.uri().query(),
        preferred_page_size: request
            .headers()
            .get("prefer")
            .and_then(|v| v.to_str().ok())
            .and_then(odata::max_page_size),
    };
    Handled {
        tenant_id: Some(tenant.tenant_id.clone()),
        response: answer(state, tenant_ix, &ids, request.method(), &target).await,
    }
}

/// The answer to one authenticated request, alone or in a batch: scripted faults, then the
/// resource.
async fn answer(
    state: &SimState,
    tenant_ix: TenantIx,
    ids: &Ids,
    method: &Method,
    target: &Target<'_>,
) -> HttpResponse {
    let path = target.path;
    if method != Method::GET {
        let err = graph_error(
            405,
            "Request_BadRequest",
            format!("The HTTP method '{method}' is not allowed: the simulated Graph is read-only."),
        );
        return error_response(state, ids, &err, None);
    }

    // A `{path}?$filter` script answers only filtered requests, before the path's own script.
    let mut outcome = FaultOutcome::Normal;
    if Query::parse(target.raw_query).filter {
        let key = format!("{path}{FILTERED_FAULT_SUFFIX}");
        outcome = state.apply_fault(tenant_ix, &key).await;
        if let FaultOutcome::Status {
            status: 400,
            retry_after,
        } = &outcome
        {
            let err = graph_error(
                400,
                "BadRequest",
                "Invalid filter clause: the property cannot be used in a $filter on this resource.",
            );
            return error_response(state, ids, &err, retry_after.as_deref());
        }
    }
    if matches!(outcome, FaultOutcome::Normal) {
        outcome = state.apply_fault(tenant_ix, path).await;
    }
    let (malformed, next_link, headers) = match outcome {
        FaultOutcome::Status {
            status,
            retry_after,
        } => {
            let err = scripted(status, path);
            return error_response(state, ids, &err, retry_after.as_deref());
        }
        FaultOutcome::Normal => (false, None, Vec::new()),
        FaultOutcome::Malformed => (true, None, Vec::new()),
        FaultOutcome::NextLink(link) => (false, Some(link), Vec::new()),
        FaultOutcome::Headers(headers) => (false, None, headers),
        hostile => return hostile_response(hostile, ids),
    };

    match body(state, &state.tenants[tenant_ix], target) {
        Ok(mut body) => {
            if let (Some(link), Value::Object(page)) = (next_link, &mut body) {
                let link = if link == NEXT_LINK_SELF {
                    let query = target
                        .raw_query
                        .map(|q| format!("?{q}"))
                        .unwrap_or_default();
                    format!("{}{}{query}", state.base_url, target.raw_path)
                } else {
                    link
                };
                page.insert("@odata.nextLink".into(), link.into());
            }
            let bytes = body.to_string().into_bytes();
            let bytes = if malformed {
                reply::truncate(&bytes)
            } else {
                bytes
            };
            let mut response = reply::json(200, GRAPH_JSON, bytes);
            set_ids(&mut response, ids);
            for (name, value) in &headers {
                reply::set_named_header(&mut response, name, value);
            }
            response
        }
        Err(err) => error_response(state, ids, &err, None),
    }
}

/// The answer of a scripted hostile fault that replaces the resource: a redirect, a body
/// given verbatim, an oversized body, a gzip bomb, or an echo (a GET has no body to echo).
fn hostile_response(fault: FaultOutcome, ids: &Ids) -> HttpResponse {
    let mut response = match fault {
        FaultOutcome::Redirect { status, location } => {
            let mut response = reply::json(status, GRAPH_JSON, Vec::new());
            reply::set_header(&mut response, "location", &location);
            response
        }
        FaultOutcome::Body { status, text } => reply::json(status, GRAPH_JSON, text),
        FaultOutcome::Oversized(size) => reply::json(200, GRAPH_JSON, reply::padded_json(size)),
        FaultOutcome::GzipBomb(size) => {
            let mut response = reply::json(200, GRAPH_JSON, reply::gzip_bomb(size));
            reply::set_header(&mut response, "content-encoding", "gzip");
            response
        }
        FaultOutcome::Echo { status } => reply::json(status, reply::TEXT, Vec::new()),
        // The caller serves the others itself.
        _ => reply::json(500, GRAPH_JSON, Vec::new()),
    };
    set_ids(&mut response, ids);
    response
}

/// The batch request body Graph documents; `body`, `headers` and `dependsOn` of an item are
/// accepted (GETs need none) and ignored but for `Prefer`.
#[derive(Deserialize)]
struct BatchRequest {
    requests: Vec<BatchItem>,
}

#[derive(Deserialize)]
struct BatchItem {
    id: String,
    method: String,
    url: String,
    #[serde(default)]
    headers: Map<String, Value>,
}

/// `POST /{version}/$batch`.
pub(crate) async fn batch(state: &SimState, request: Request<Incoming>, version: &str) -> Handled {
    let ids = Ids::new(state, request.headers());
    let tenant_ix = match authenticate(state, request.headers(), &ids) {
        Ok(ix) => ix,
        Err(refused) => return *refused,
    };
    let tenant = &state.tenants[tenant_ix];
    let handled = |response| Handled {
        tenant_id: Some(tenant.tenant_id.clone()),
        response,
    };
    let bad = |message: String| {
        let err = graph_error(400, "BadRequest", message);
        handled(error_response(state, &ids, &err, None))
    };
    state.pause(tenant.latency).await;
    if request.method() != Method::POST {
        let err = graph_error(
            405,
            "Request_BadRequest",
            format!(
                "The HTTP method '{}' is not allowed on $batch; use POST.",
                request.method()
            ),
        );
        return handled(error_response(state, &ids, &err, None));
    }
    let batch_path = format!("{version}/$batch");
    let malformed = match state.apply_fault(tenant_ix, &batch_path).await {
        FaultOutcome::Normal | FaultOutcome::Headers(_) | FaultOutcome::NextLink(_) => false,
        FaultOutcome::Malformed => true,
        FaultOutcome::Status {
            status,
            retry_after,
        } => {
            let err = scripted(status, &batch_path);
            return handled(error_response(state, &ids, &err, retry_after.as_deref()));
        }
        hostile => return handled(hostile_response(hostile, &ids)),
    };
    let body = match Limited::new(request.into_body(), MAX_BATCH_BODY)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(e) => return bad(format!("Cannot read the batch request: {e}")),
    };
    let parsed: BatchRequest = match serde_json::from_slice(&body) {
        Ok(parsed) => parsed,
        Err(e) => return bad(format!("Invalid batch payload format: {e}")),
    };
    if parsed.requests.is_empty() || parsed.requests.len() > MAX_BATCH {
        return bad(format!(
            "A batch holds 1 to {MAX_BATCH} requests, not {}.",
            parsed.requests.len()
        ));
    }
    let mut seen = HashSet::new();
    if let Some(dup) = parsed.requests.iter().find(|r| !seen.insert(r.id.as_str())) {
        return bad(format!(
            "Batch request ids must be unique; '{}' is repeated.",
            dup.id
        ));
    }

    // Items of one batch are answered concurrently, as Graph does: one slow item does not
    // delay the others' processing, only the batch answer.
    let responses = futures::future::join_all(
        parsed
            .requests
            .iter()
            .map(|item| batch_item(state, tenant_ix, version, item)),
    )
    .await;
    let bytes = json!({ "responses": responses }).to_string().into_bytes();
    let bytes = if malformed {
        reply::truncate(&bytes)
    } else {
        bytes
    };
    let mut response = reply::json(200, GRAPH_JSON, bytes);
    set_ids(&mut response, &ids);
    handled(response)
}

/// Answers one batch item as the single request would be answered, and logs it.
async fn batch_item(
    state: &SimState,
    tenant_ix: TenantIx,
    version: &str,
    item: &BatchItem,
) -> Value {
    let at = Utc::now();
    let mut headers = HeaderMap::new();
    for (name, value) in &item.headers {
        if let (Ok(name), Some(Ok(value))) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            value.as_str().map(hyper::header::HeaderValue::from_str),
        ) {
            headers.insert(name, value);
        }
    }
    let ids = Ids::new(state, &headers);
    let (raw_path, raw_query) = match item.url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (item.url.as_str(), None),
    };
    let raw_path = format!("/{version}/{}", raw_path.trim_start_matches('/'));
    let path = percent_encoding::percent_decode_str(&raw_path)
        .decode_utf8_lossy()
        .trim_matches('/')
        .to_string();
    let response = if item.url.contains("://") {
        let err = graph_error(
            400,
            "BadRequest",
            "Batch request URLs are relative to the version root.",
        );
        error_response(state, &ids, &err, None)
    } else {
        let method = Method::from_bytes(item.method.as_bytes()).unwrap_or(Method::GET);
        let target = Target {
            path: &path,
            raw_path: &raw_path,
            raw_query,
            preferred_page_size: headers
                .get("prefer")
                .and_then(|v| v.to_str().ok())
                .and_then(odata::max_page_size),
        };
        answer(state, tenant_ix, &ids, &method, &target).await
    };
    let status = response.status().as_u16();
    state.record(RecordedRequest {
        at,
        tenant_id: Some(state.tenants[tenant_ix].tenant_id.clone()),
        method: item.method.clone(),
        path: format!("/{path}"),
        query: raw_query.map(str::to_string),
        status,
        in_batch: true,
    });
    let mut out_headers = Map::new();
    for (name, value) in response.headers() {
        if name == CONTENT_LENGTH {
            continue;
        }
        if let Ok(value) = value.to_str() {
            out_headers.insert(name.as_str().to_string(), value.into());
        }
    }
    // The body of a whole in-memory response: collecting it cannot fail.
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    // Graph embeds JSON bodies as JSON; a broken one (a `malformed` fault) travels as a string,
    // which is no more what the client expects than the broken body of a single request.
    let body = serde_json::from_slice::<Value>(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    json!({"id": item.id, "status": status, "headers": out_headers, "body": body})
}

/// What the request asked for, beyond the tenant.
struct Target<'a> {
    path: &'a str,
    raw_path: &'a str,
    raw_query: Option<&'a str>,
    preferred_page_size: Option<usize>,
}

/// What a path resolves to.
enum Found<'a> {
    Collection(&'a [Map<String, Value>]),
    /// An entity and the name it has in `@odata.context`, with whether that needs `/$entity`.
    Entity(&'a Map<String, Value>, &'a str, bool),
}

fn lookup<'a>(tenant: &'a LiveTenant, path: &'a str, resource: &'a str) -> Option<Found<'a>> {
    match tenant.resources.get(path) {
        Some(LiveResource::Missing) => None,
        Some(LiveResource::Collection(items)) => Some(Found::Collection(items)),
        Some(LiveResource::Entity(object)) => {
            Some(Found::Entity(object, resource, resource.contains('/')))
        }
        // `organization/{id}` and the like: one element of a simulated collection.
        None => {
            let (parent, id) = path.rsplit_once('/')?;
            let (parent_resource, _) = resource.rsplit_once('/')?;
            let Some(LiveResource::Collection(items)) = tenant.resources.get(parent) else {
                return None;
            };
            items
                .iter()
                .find(|o| {
                    o.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|i| i.eq_ignore_ascii_case(id))
                })
                .map(|o| Found::Entity(o, parent_resource, true))
        }
    }
}

fn body(state: &SimState, tenant: &LiveTenant, target: &Target<'_>) -> Result<Value, GraphError> {
    let (version, resource) = target.path.split_once('/').unwrap_or((target.path, ""));
    let query = Query::parse(target.raw_query);
    let select = query.select.as_deref();
    let project = |o: &Map<String, Value>| match select {
        Some(fields) => Value::Object(odata::select(o, fields)),
        None => Value::Object(o.clone()),
    };
    match lookup(tenant, target.path, resource).ok_or_else(|| not_found(target.path))? {
        Found::Entity(object, name, entity) => {
            let mut out = Map::new();
            out.insert(
                "@odata.context".into(),
                odata::context(&state.base_url, version, name, select, entity).into(),
            );
            if let Value::Object(fields) = project(object) {
                out.extend(fields);
            }
            Ok(Value::Object(out))
        }
        Found::Collection(items) => {
            let token = match &query.skiptoken {
                None => None,
                Some(raw) => Some(SkipToken::decode(raw).ok_or_else(|| {
                    graph_error(
                        400,
                        "BadRequest",
                        format!("Invalid $skiptoken value '{raw}'."),
                    )
                })?),
            };
            let mut page_size = token.map_or(tenant.page_size, |t| t.page_size);
            if let Some(preferred) = target.preferred_page_size {
                page_size = page_size.min(preferred);
            }
            let (range, next) = odata::page(items.len(), token.map_or(0, |t| t.offset), page_size);
            let mut out = Map::new();
            out.insert(
                "@odata.context".into(),
                odata::context(&state.base_url, version, resource, select, false).into(),
            );
            if let Some(offset) = next {
                let link = odata::next_link(
                    &state.base_url,
                    target.raw_path,
                    target.raw_query,
                    SkipToken { offset, page_size },
                );
                out.insert("@odata.nextLink".into(), link.into());
            }
            out.insert("value".into(), items[range].iter().map(project).collect());
            Ok(Value::Object(out))
        }
    }
}

/// The error a scripted status produces: Graph's code for it.
fn scripted(status: u16, path: &str) -> GraphError {
    match status {
        400 => graph_error(400, "BadRequest", "Invalid request."),
        401 => graph_error(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        ),
        403 => {
            // Directory resources answer with Entra's code, Intune and service health with Graph's.
            let directory = ["organization", "subscribedSkus"]
                .iter()
                .any(|r| path.split('/').nth(1) == Some(r));
            let code = if directory {
                "Authorization_RequestDenied"
            } else {
                "Forbidden"
            };
            graph_error(
                403,
                code,
                "Insufficient privileges to complete the operation.",
            )
        }
        404 => not_found(path),
        429 => graph_error(429, "TooManyRequests", "Please retry again later."),
        500 => graph_error(
            500,
            "generalException",
            "General exception while processing.",
        ),
        503 => graph_error(503, "serviceNotAvailable", "Service unavailable."),
        504 => graph_error(504, "gatewayTimeout", "Gateway timeout."),
        _ => graph_error(status, "UnknownError", "An error occurred."),
    }
}

fn error_response(
    state: &SimState,
    ids: &Ids,
    err: &GraphError,
    retry_after: Option<&str>,
) -> HttpResponse {
    let mut inner = json!({
        "date": Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
        "request-id": ids.request_id,
        "client-request-id": ids.client_request_id,
    });
    if err.status == 429 {
        // The throttling sample repeats the status inside innerError.
        if let Value::Object(inner) = &mut inner {
            inner.insert("code".into(), "429".into());
            inner.insert("message".into(), "Please retry after".into());
            inner.insert("status".into(), "429".into());
        }
    }
    let body = json!({"error": {"code": err.code, "message": err.message, "innerError": inner}});
    let mut response = reply::json(err.status, GRAPH_JSON, body.to_string());
    set_ids(&mut response, ids);
    if let Some(retry_after) = retry_after {
        reply::set_header(&mut response, "retry-after", retry_after);
    }
    if err.status == 401 {
        let challenge = format!(
            "Bearer realm=\"\", authorization_uri=\"{}/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            state.base_url
        );
        reply::set_header(&mut response, "www-authenticate", &challenge);
    }
    response
}

fn set_ids(response: &mut HttpResponse, ids: &Ids) {
    reply::set_header(response, "request-id", &ids.request_id);
    reply::set_header(response, "client-request-id", &ids.client_request_id);
}
