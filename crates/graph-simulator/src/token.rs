//! The Entra ID v2 token endpoint, `POST /{tenant}/oauth2/v2.0/token`, client-credentials grant
//! only. Errors use Entra's body (`error`, `error_description` with an `AADSTS` code, `error_codes`,
//! `timestamp`, `trace_id`, `correlation_id`). Secrets and tokens are never logged.

use std::collections::HashMap;

use chrono::Utc;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::{Method, Request};
use serde_json::json;

use super::reply::{self, Handled, HttpResponse, ENTRA_JSON};
use super::scenario::AppCertificate;
use super::scenario::{FaultOutcome, TOKEN_FAULT_PATH};
use super::state::{LiveTenant, SimState, TenantIx};

/// Token requests are a few hundred bytes; anything much larger is not one.
const MAX_BODY: usize = 64 * 1024;
/// The public-cloud Graph scope, accepted besides `{base_url}/.default` so that a client
/// configured for the real Graph root can be pointed at the simulator's authority alone.
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// An Entra error: HTTP status, OAuth `error`, AADSTS number and its text.
struct EntraError {
    status: u16,
    error: &'static str,
    code: u32,
    message: String,
}

fn entra(status: u16, error: &'static str, code: u32, message: impl Into<String>) -> EntraError {
    EntraError {
        status,
        error,
        code,
        message: message.into(),
    }
}

fn missing_parameter(name: &str) -> EntraError {
    entra(
        400,
        "invalid_request",
        900144,
        format!("The request body must contain the following parameter: '{name}'."),
    )
}

/// The only `client_assertion_type` Entra accepts.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew Entra tolerates on `nbf` and `exp`.
const SKEW_SECONDS: i64 = 300;

/// How the client proves who it is: a secret, or an assertion (a JWT signed with the app's
/// certificate, or a federated token from another identity provider).
enum ClientCredential {
    Secret(String),
    Assertion(String),
}

impl ClientCredential {
    fn from_form(form: &HashMap<String, String>) -> Result<ClientCredential, EntraError> {
        if let Some(assertion) = form.get("client_assertion") {
            let kind = form.get("client_assertion_type").map(String::as_str);
            if kind != Some(JWT_BEARER) {
                return Err(entra(
                    400,
                    "invalid_request",
                    50027,
                    format!("Invalid client_assertion_type; expected '{JWT_BEARER}'."),
                ));
            }
            return Ok(ClientCredential::Assertion(assertion.clone()));
        }
        match form.get("client_secret") {
            Some(secret) => Ok(ClientCredential::Secret(secret.clone())),
            None => Err(entra(
                401,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            )),
        }
    }

    fn verify(&self, state: &SimState, tenant: &LiveTenant) -> Result<(), EntraError> {
        let ix = state.tenant_by_id(&tenant.tenant_id);
        match self {
            ClientCredential::Secret(secret)
                if ix.is_some_and(|ix| state.accepts_secret(ix, secret)) =>
            {
                Ok(())
            }
            ClientCredential::Secret(_) => Err(entra(
                401,
                "invalid_client",
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                    tenant.client_id
                ),
            )),
            ClientCredential::Assertion(assertion) => {
                state.record_assertion(assertion);
                if tenant.federated_tokens.iter().any(|t| t.0 == *assertion) {
                    return Ok(());
                }
                match &tenant.certificate {
                    Some(cert) => verify_signed_assertion(state, tenant, cert, assertion),
                    None => Err(entra(
                        400,
                        "invalid_client",
                        70021,
                        "No matching federated identity record found for presented assertion.",
                    )),
                }
            }
        }
    }
}

/// Checks a certificate assertion as Entra does: header (alg and thumbprint of a registered
/// certificate), signature, then the claims.
fn verify_signed_assertion(
    state: &SimState,
    tenant: &LiveTenant,
    cert: &AppCertificate,
    assertion: &str,
) -> Result<(), EntraError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let invalid =
        |code: u32, message: &str| entra(401, "invalid_client", code, message.to_string());
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err(invalid(
            50027,
            "Invalid JWT token. The token is not in JWS compact format.",
        ));
    };
    let json = |part: &str| -> Option<serde_json::Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    let (Some(header_json), Some(claims_json), Ok(signature)) = (
        json(header),
        json(claims),
        URL_SAFE_NO_PAD.decode(signature),
    ) else {
        return Err(invalid(
            50027,
            "Invalid JWT token. The token could not be decoded.",
        ));
    };
    let (algorithm, thumbprint, expected): (
        &dyn aws_lc_rs::signature::VerificationAlgorithm,
        _,
        _,
    ) = match header_json["alg"].as_str() {
        Some("PS256") => (
            &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA256,
            header_json["x5t#S256"].as_str(),
            &cert.x5t_s256,
        ),
        Some("RS256") => (
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            header_json["x5t"].as_str(),
            &cert.x5t,
        ),
        _ => return Err(invalid(
            5002738,
            "The signing algorithm of the client assertion is not supported; use PS256 or RS256.",
        )),
    };
    if thumbprint != Some(expected.as_str()) {
        return Err(invalid(
            700027,
            "The certificate with identifier used to sign the client assertion is not registered on application.",
        ));
    }
    let signed = format!("{header}.{claims}");
    aws_lc_rs::signature::UnparsedPublicKey::new(algorithm, &cert.public_key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| invalid(700027, "Client assertion failed signature validation."))?;
    let audience = format!("{}/{}/oauth2/v2.0/token", state.base_url, tenant.tenant_id);
    // The token URL may name the tenant by a domain; the audience is then that URL.
    let audiences = std::iter::once(tenant.tenant_id.as_str())
        .chain(tenant.domains.iter().map(String::as_str))
        .map(|name| format!("{}/{name}/oauth2/v2.0/token", state.base_url));
    let aud = claims_json["aud"].as_str().unwrap_or_default();
    if !audiences.into_iter().any(|a| a.eq_ignore_ascii_case(aud)) {
        return Err(invalid(
            700212,
            &format!("No matching federated identity record found for presented assertion audience '{}'; expected '{audience}'.", claims_json["aud"]),
        ));
    }
    for claim in ["iss", "sub"] {
        if !claims_json[claim]
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case(&tenant.client_id))
        {
            return Err(invalid(
                700021,
                &format!("Client assertion application identifier doesn't match 'client_id' parameter (claim '{claim}')."),
            ));
        }
    }
    let now = Utc::now().timestamp();
    let (Some(nbf), Some(exp)) = (claims_json["nbf"].as_i64(), claims_json["exp"].as_i64()) else {
        return Err(invalid(700024, "Client assertion is missing nbf or exp."));
    };
    if nbf > now + SKEW_SECONDS || exp + SKEW_SECONDS < now || exp - nbf > 3600 {
        return Err(invalid(
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    Ok(())
}

/// Serves one token request for the tenant named in the URL (its GUID or one of its domains).
pub(crate) async fn handle(
    state: &SimState,
    tenant_segment: &str,
    request: Request<Incoming>,
) -> Handled {
    let Some(ix) = state.tenant_by_id(tenant_segment) else {
        let err = entra(
            400,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant_segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        );
        return Handled {
            tenant_id: None,
            response: error_response(state, &err, None),
        };
    };
    let tenant = &state.tenants[ix];
    let response = match answer(state, ix, request).await {
        Ok(response) => response,
        Err((err, retry_after)) => error_response(state, &err, retry_after.as_deref()),
    };
    Handled {
        tenant_id: Some(tenant.tenant_id.clone()),
        response,
    }
}

type Failure = (EntraError, Option<String>);

async fn answer(
    state: &SimState,
    ix: TenantIx,
    request: Request<Incoming>,
) -> Result<HttpResponse, Failure> {
    let plain = |e: EntraError| (e, None);
    if request.method() != Method::POST {
        return Err(plain(entra(
            400,
            "invalid_request",
            900561,
            "The endpoint only accepts POST requests.",
        )));
    }
    let malformed = match state.apply_fault(ix, TOKEN_FAULT_PATH).await {
        FaultOutcome::Status {
            status,
            retry_after,
        } => return Err((scripted(status), retry_after)),
        FaultOutcome::Malformed => true,
        FaultOutcome::Redirect { status, location } => {
            let mut response = reply::json(status, ENTRA_JSON, Vec::new());
            reply::set_header(&mut response, "location", &location);
            return Ok(response);
        }
        FaultOutcome::Echo { status } => {
            // A proxy that answers with what it was sent: the secret or assertion included.
            let body = Limited::new(request.into_body(), MAX_BODY)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            return Ok(reply::json(status, reply::TEXT, body));
        }
        FaultOutcome::Body { status, text } => return Ok(reply::json(status, ENTRA_JSON, text)),
        FaultOutcome::Oversized(size) => {
            return Ok(reply::json(200, ENTRA_JSON, reply::padded_json(size)))
        }
        FaultOutcome::GzipBomb(size) => {
            let mut response = reply::json(200, ENTRA_JSON, reply::gzip_bomb(size));
            reply::set_header(&mut response, "content-encoding", "gzip");
            return Ok(response);
        }
        _ => false,
    };

    let form_encoded = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        // Entra reads no body it cannot decode, so the first required parameter is "missing".
        return Err(plain(missing_parameter("grant_type")));
    }
    let body = Limited::new(request.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|_| {
            plain(entra(
                400,
                "invalid_request",
                90014,
                "The request body could not be read.",
            ))
        })?
        .to_bytes();
    let mut form = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        form.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }

    let tenant = &state.tenants[ix];
    check_request(state, tenant, &form).map_err(plain)?;

    let expires_in = tenant.token_lifetime.as_secs().saturating_sub(1);
    let token = state
        .issue_token(ix, std::time::Duration::from_secs(expires_in))
        .ok_or_else(|| plain(scripted(500)))?;
    let body = json!({
        "token_type": "Bearer",
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": token,
    })
    .to_string();
    let body = if malformed {
        reply::truncate(body.as_bytes())
    } else {
        body.into_bytes()
    };
    let mut response = reply::json(200, ENTRA_JSON, body);
    reply::set_header(&mut response, "cache-control", "no-store, no-cache");
    reply::set_header(&mut response, "x-ms-request-id", &state.new_id());
    Ok(response)
}

/// The checks Entra makes on a client-credentials request, in its order: grant, client, scope,
/// then the credential itself.
fn check_request(
    state: &SimState,
    tenant: &LiveTenant,
    form: &HashMap<String, String>,
) -> Result<(), EntraError> {
    let grant_type = form
        .get("grant_type")
        .ok_or_else(|| missing_parameter("grant_type"))?;
    if grant_type != "client_credentials" {
        return Err(entra(
            400,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ));
    }
    let client_id = form
        .get("client_id")
        .ok_or_else(|| missing_parameter("client_id"))?;
    // An app never consented in a tenant has no service principal there: Entra answers as for
    // an unknown app.
    if !tenant.consented || !client_id.eq_ignore_ascii_case(&tenant.client_id) {
        return Err(entra(
            400,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                tenant.tenant_id
            ),
        ));
    }
    let scope = form
        .get("scope")
        .ok_or_else(|| missing_parameter("scope"))?;
    let own_scope = format!("{}/.default", state.base_url);
    if *scope != own_scope && scope != GRAPH_SCOPE {
        return Err(entra(
            400,
            "invalid_scope",
            70011,
            format!("The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."),
        ));
    }
    ClientCredential::from_form(form)?.verify(state, tenant)
}

/// The error a scripted status produces: the closest real Entra answer for it.
fn scripted(status: u16) -> EntraError {
    match status {
        400 => entra(
            400,
            "invalid_client",
            7000222,
            "The provided client secret keys for app are expired. Visit the Azure portal to create new keys for your app.",
        ),
        401 => entra(401, "invalid_client", 7000215, "Invalid client secret provided."),
        _ => entra(
            status,
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
        ),
    }
}

fn error_response(state: &SimState, err: &EntraError, retry_after: Option<&str>) -> HttpResponse {
    let trace_id = state.new_id();
    let correlation_id = state.new_id();
    let timestamp = Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    let body = json!({
        "error": err.error,
        "error_description": format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            err.code, err.message
        ),
        "error_codes": [err.code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
    });
    let mut response = reply::json(err.status, ENTRA_JSON, body.to_string());
    reply::set_header(&mut response, "cache-control", "no-store, no-cache");
    reply::set_header(&mut response, "x-ms-request-id", &trace_id);
    if let Some(retry_after) = retry_after {
        reply::set_header(&mut response, "retry-after", retry_after);
    }
    response
}

/// `GET /msi/token?api-version=2019-08-01&resource=...[&client_id=...]` with `X-IDENTITY-HEADER`:
/// the App Service / Container Apps managed identity endpoint that `IDENTITY_ENDPOINT` names.
/// The answer's `expires_on` is a string of Unix seconds, as that endpoint sends it.
pub(crate) fn managed_identity(state: &SimState, request: &Request<Incoming>) -> Handled {
    let fail = |status: u16, message: &str| Handled {
        tenant_id: None,
        response: reply::json(
            status,
            ENTRA_JSON,
            json!({"error": "invalid_request", "error_description": message}).to_string(),
        ),
    };
    if request.method() != Method::GET {
        return fail(405, "Only GET is supported.");
    }
    let header = request
        .headers()
        .get("x-identity-header")
        .and_then(|v| v.to_str().ok());
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let client_id = query.get("client_id").map(String::as_str);
    let found = state.tenants.iter().position(|t| {
        t.managed_identity.as_ref().is_some_and(|m| {
            Some(m.identity_header.0.as_str()) == header
                && match (&m.client_id, client_id) {
                    (None, None) => true,
                    (Some(own), Some(asked)) => own.eq_ignore_ascii_case(asked),
                    _ => false,
                }
        })
    });
    let Some(ix) = found else {
        return fail(400, "Unable to load the proper Managed Identity.");
    };
    let resource = query
        .get("resource")
        .map(String::as_str)
        .unwrap_or_default();
    let own = state.base_url.as_str();
    if resource != own && resource != GRAPH_SCOPE.trim_end_matches("/.default") {
        return fail(400, &format!("Unsupported resource '{resource}'."));
    }
    let tenant = &state.tenants[ix];
    let lifetime = tenant.token_lifetime;
    let Some(token) = state.issue_token(ix, lifetime) else {
        return fail(500, "The random generator failed.");
    };
    let expires_on = Utc::now().timestamp() + lifetime.as_secs() as i64;
    let body = json!({
        "access_token": token,
        "expires_on": expires_on.to_string(),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": tenant.managed_identity.as_ref().and_then(|m| m.client_id.clone()).unwrap_or_else(|| tenant.client_id.clone()),
    });
    Handled {
        tenant_id: Some(tenant.tenant_id.clone()),
        response: reply::json(200, ENTRA_JSON, body.to_string()),
    }
}
