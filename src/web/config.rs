//! `--web.config.file`: the web configuration file of the Prometheus exporter toolkit (the file
//! node_exporter, Prometheus and Alertmanager read), parsed strictly and validated into
//! [`WebConfig`]. Keys the toolkit knows but this exporter cannot honour (TLS 1.0/1.1, CBC
//! cipher suites, P-521, unverified client certificates, `rate_limit`) are refused with a
//! message saying so, never silently ignored. Owns parsing and validation; building the TLS
//! server configuration is [`super::tls`], checking passwords [`super::auth`].

use super::auth::{check_hash, Password};
use crate::files;
use crate::yaml;
use hyper::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a web config was refused.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", file.display(), problems.join("; "))]
pub struct WebConfigError {
    /// The web config file.
    pub file: PathBuf,
    /// Every problem, each naming its key.
    pub problems: Vec<String>,
}

/// A validated web config.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// TLS, when `tls_server_config` is set.
    pub tls: Option<TlsSettings>,
    /// Offer HTTP/2 (over TLS, through ALPN).
    pub http2: bool,
    /// Headers added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Basic auth users and their bcrypt hashes; empty means no authentication.
    pub users: BTreeMap<String, Password>,
}

/// PEM text given in the file itself or in a file it names.
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    /// A file, resolved against the web config's folder.
    File(PathBuf),
    /// Inline PEM (`cert`, `key`, `client_ca`).
    Inline(String),
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pem::File(p) => write!(f, "File({})", p.display()),
            Pem::Inline(_) => f.write_str("Inline(***)"),
        }
    }
}

impl Pem {
    /// The PEM bytes.
    pub fn read(&self) -> Result<Vec<u8>, files::ReadError> {
        match self {
            Pem::File(p) => files::read(p, files::PEM_MAX_BYTES),
            Pem::Inline(s) => Ok(s.as_bytes().to_vec()),
        }
    }

    /// The file, if it is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Pem::File(p) => Some(p),
            Pem::Inline(_) => None,
        }
    }
}

/// The toolkit's `client_auth_type` values that rustls can enforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `NoClientCert`, the default.
    None,
    /// `VerifyClientCertIfGiven`: a certificate is optional, but verified when sent.
    VerifyIfGiven,
    /// `RequireAndVerifyClientCert`: mutual TLS.
    RequireAndVerify,
}

/// TLS protocol versions rustls implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

/// The validated `tls_server_config`.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// The server certificate chain.
    pub cert: Pem,
    /// Its private key.
    pub key: Pem,
    /// Client certificate policy.
    pub client_auth: ClientAuth,
    /// Trust roots for client certificates.
    pub client_ca: Option<Pem>,
    /// When not empty, a client certificate must carry one of these SANs.
    pub client_allowed_sans: Vec<String>,
    /// Lowest version accepted.
    pub min_version: TlsVersion,
    /// Highest version accepted.
    pub max_version: TlsVersion,
    /// TLS 1.2 cipher suites by their IANA names, in preference order; `None` for rustls'
    /// defaults.
    pub cipher_suites: Option<Vec<String>>,
    /// Choose the server's preferred suite rather than the client's.
    pub prefer_server_cipher_suites: bool,
    /// Key exchange groups in preference order, as rustls names them; `None` for defaults.
    pub curve_preferences: Option<Vec<&'static str>>,
}

impl TlsSettings {
    /// Every file this configuration reads, to notice when one changes.
    pub fn files(&self) -> Vec<&Path> {
        [Some(&self.cert), Some(&self.key), self.client_ca.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(Pem::file)
            .collect()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    expecting = "a mapping with the keys tls_server_config, http_server_config, basic_auth_users"
)]
struct RawWebConfig {
    tls_server_config: Option<RawTls>,
    http_server_config: Option<RawHttp>,
    basic_auth_users: Option<BTreeMap<String, String>>,
    rate_limit: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    expecting = "a mapping with the keys cert_file, key_file, client_auth_type, client_ca_file, ..."
)]
struct RawTls {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    client_allowed_sans: Option<Vec<String>>,
    min_version: Option<String>,
    max_version: Option<String>,
    cipher_suites: Option<Vec<String>>,
    prefer_server_cipher_suites: Option<bool>,
    curve_preferences: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a mapping with the keys http2, headers")]
struct RawHttp {
    http2: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
}

/// The headers `http_server_config.headers` may set, as the toolkit allows.
const ALLOWED_HEADERS: [&str; 5] = [
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "X-XSS-Protection",
    "Strict-Transport-Security",
];

/// Go's names of the TLS 1.2 suites rustls implements, and the IANA name rustls uses.
const CIPHER_SUITES: [(&str, &str); 8] = [
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
];

/// Go's curve names and rustls' key exchange groups.
const CURVES: [(&str, &str); 4] = [
    ("CurveP256", "secp256r1"),
    ("CurveP384", "secp384r1"),
    ("X25519", "X25519"),
    ("X25519MLKEM768", "X25519MLKEM768"),
];

impl WebConfig {
    /// Reads and validates a web config file. Relative paths in it are relative to its folder,
    /// as in the toolkit.
    pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
        let err = |problems| WebConfigError {
            file: path.to_path_buf(),
            problems,
        };
        let text = files::read_text(path, files::CONFIG_MAX_BYTES)
            .map_err(|e| err(vec![e.to_string()]))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base).map_err(err)
    }

    /// Validates web config text; `base` anchors relative paths.
    pub fn parse(text: &str, base: &Path) -> Result<WebConfig, Vec<String>> {
        let parsed = yaml::parse::<RawWebConfig>(text).map_err(|e| vec![e.to_string()])?;
        let mut problems: Vec<String> = parsed
            .unknown
            .iter()
            .map(|k| format!("{k}: unknown key"))
            .collect();
        let raw = parsed.value.unwrap_or_default();
        if raw.rate_limit.is_some() {
            problems.push(
                "rate_limit: not supported by intune-exporter (the connection cap, \
                 --web.max-connections, bounds the load instead)"
                    .to_string(),
            );
        }
        let tls = raw
            .tls_server_config
            .map(|t| tls_settings(t, base, &mut problems));
        let http = raw.http_server_config.unwrap_or_default();
        let mut headers = Vec::new();
        for (name, value) in http.headers.unwrap_or_default() {
            let key = format!("http_server_config.headers.{name}");
            let Some(allowed) = ALLOWED_HEADERS
                .iter()
                .find(|h| h.eq_ignore_ascii_case(&name))
            else {
                problems.push(format!(
                    "{key}: not a header the web config can set; expected one of {}",
                    ALLOWED_HEADERS.join(", ")
                ));
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let lower = value.to_ascii_lowercase();
            match *allowed {
                "X-Frame-Options" if lower != "deny" && lower != "sameorigin" => {
                    problems.push(format!("{key}: {value:?} is not deny or sameorigin"));
                    continue;
                }
                "X-Content-Type-Options" if lower != "nosniff" => {
                    problems.push(format!("{key}: {value:?} is not nosniff"));
                    continue;
                }
                _ => {}
            }
            match HeaderValue::from_str(&value) {
                Ok(v) => headers.push((HeaderName::from_static(lower_static(allowed)), v)),
                Err(_) => problems.push(format!("{key}: not a valid header value")),
            }
        }
        let mut users = BTreeMap::new();
        for (user, hash) in raw.basic_auth_users.unwrap_or_default() {
            if user.contains(':') {
                problems.push(format!(
                    "basic_auth_users.{user}: a user name cannot contain ':'"
                ));
            } else if let Err(e) = check_hash(&hash) {
                problems.push(format!("basic_auth_users.{user}: {e}"));
            } else {
                users.insert(user, Password(hash));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(WebConfig {
            tls: tls.flatten(),
            http2: http.http2.unwrap_or(true),
            headers,
            users,
        })
    }
}

fn lower_static(name: &'static str) -> &'static str {
    match name {
        "Content-Security-Policy" => "content-security-policy",
        "X-Frame-Options" => "x-frame-options",
        "X-Content-Type-Options" => "x-content-type-options",
        "X-XSS-Protection" => "x-xss-protection",
        _ => "strict-transport-security",
    }
}

fn tls_settings(t: RawTls, base: &Path, problems: &mut Vec<String>) -> Option<TlsSettings> {
    let key = |k: &str| format!("tls_server_config.{k}");
    let mut ok = true;
    let mut pem = |inline: Option<String>, file: Option<PathBuf>, name: &str, required: bool| match (
        inline, file,
    ) {
        (Some(_), Some(_)) => {
            problems.push(format!(
                "{}: set {name} or {name}_file, not both",
                key(name)
            ));
            ok = false;
            None
        }
        (Some(s), None) => Some(Pem::Inline(s)),
        (None, Some(f)) => Some(Pem::File(base.join(f))),
        (None, None) => {
            if required {
                problems.push(format!("{}: missing", key(&format!("{name}_file"))));
                ok = false;
            }
            None
        }
    };
    let cert = pem(t.cert, t.cert_file, "cert", true);
    let private_key = pem(t.key, t.key_file, "key", true);
    let client_ca = pem(t.client_ca, t.client_ca_file, "client_ca", false);
    let client_auth = match t.client_auth_type.as_deref().unwrap_or("NoClientCert") {
        "NoClientCert" => ClientAuth::None,
        "VerifyClientCertIfGiven" => ClientAuth::VerifyIfGiven,
        "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerify,
        v @ ("RequestClientCert" | "RequireAnyClientCert") => {
            problems.push(format!(
                "{}: {v} accepts client certificates without verifying them, which rustls \
                 does not offer; use VerifyClientCertIfGiven or RequireAndVerifyClientCert",
                key("client_auth_type")
            ));
            return None;
        }
        other => {
            problems.push(format!(
                "{}: {other:?} is not one of NoClientCert, VerifyClientCertIfGiven, \
                 RequireAndVerifyClientCert",
                key("client_auth_type")
            ));
            return None;
        }
    };
    // The toolkit's own consistency rules.
    match (client_auth, &client_ca) {
        (ClientAuth::None, Some(_)) => problems.push(format!(
            "{}: a client CA is set, but client_auth_type is NoClientCert",
            key("client_ca_file")
        )),
        (ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify, None) => problems.push(format!(
            "{}: client_auth_type verifies client certificates, so it needs client_ca_file",
            key("client_ca_file")
        )),
        _ => {}
    }
    let client_allowed_sans = t.client_allowed_sans.unwrap_or_default();
    if !client_allowed_sans.is_empty() && client_auth != ClientAuth::RequireAndVerify {
        problems.push(format!(
            "{}: needs client_auth_type RequireAndVerifyClientCert",
            key("client_allowed_sans")
        ));
    }
    let mut version = |k: &str, v: Option<String>, default: TlsVersion| match v.as_deref() {
        None => Some(default),
        Some("TLS12") => Some(TlsVersion::Tls12),
        Some("TLS13") => Some(TlsVersion::Tls13),
        Some(v @ ("TLS10" | "TLS11")) => {
            problems.push(format!(
                "{}: {v} is not implemented by rustls (TLS 1.2 and 1.3 only)",
                key(k)
            ));
            None
        }
        Some(v) => {
            problems.push(format!("{}: {v:?} is not one of TLS12, TLS13", key(k)));
            None
        }
    };
    let min_version = version("min_version", t.min_version, TlsVersion::Tls12);
    let max_version = version("max_version", t.max_version, TlsVersion::Tls13);
    if let (Some(min), Some(max)) = (min_version, max_version) {
        if min > max {
            problems.push(format!("{}: higher than max_version", key("min_version")));
        }
    }
    let cipher_suites = t.cipher_suites.map(|names| {
        names
            .iter()
            .filter_map(|n| match CIPHER_SUITES.iter().find(|(go, _)| go == n) {
                Some((_, iana)) => Some(iana.to_string()),
                None => {
                    problems.push(format!(
                        "{}: {n} is not a TLS 1.2 suite rustls implements (only ECDHE with \
                         AES-GCM or ChaCha20-Poly1305: {})",
                        key("cipher_suites"),
                        CIPHER_SUITES.map(|(go, _)| go).join(", ")
                    ));
                    None
                }
            })
            .collect()
    });
    let curve_preferences = t.curve_preferences.map(|names| {
        names
            .iter()
            .filter_map(|n| match CURVES.iter().find(|(go, _)| go == n) {
                Some((_, rustls)) => Some(*rustls),
                None => {
                    problems.push(format!(
                        "{}: {n} is not a curve rustls implements; expected one of {}",
                        key("curve_preferences"),
                        CURVES.map(|(go, _)| go).join(", ")
                    ));
                    None
                }
            })
            .collect()
    });
    if !ok {
        return None;
    }
    Some(TlsSettings {
        cert: cert?,
        key: private_key?,
        client_auth,
        client_ca,
        client_allowed_sans,
        min_version: min_version?,
        max_version: max_version?,
        cipher_suites,
        prefer_server_cipher_suites: t.prefer_server_cipher_suites.unwrap_or(true),
        curve_preferences,
    })
}
