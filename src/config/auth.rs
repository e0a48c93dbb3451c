//! How the exporter signs in: the `auth` mapping of a tenant, `defaults.auth` or a discovery,
//! validated into an [`Auth`] (client secret, certificate, workload identity or managed identity),
//! with its secret and certificate files read here. Owns that one concern; where the credential
//! is used is [`crate::graph::auth`].

use super::problems::{EnvLookup, Problems, SecretString};
use crate::files;
use crate::graph::certificate::{AssertionAlg, ClientCertificate, Part};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the exporter signs in to a tenant.
#[derive(Debug, Clone)]
pub enum Auth {
    /// An app registration with a client secret.
    ClientSecret {
        /// The application (client) id.
        client_id: String,
        /// The secret.
        secret: SecretString,
        /// The file it was read from (`client_secret_file`), read again when it changes.
        secret_file: Option<PathBuf>,
    },
    /// An app registration with a certificate: each token request carries a signed assertion.
    Certificate {
        /// The application (client) id.
        client_id: String,
        /// The certificate and its private key.
        certificate: Arc<ClientCertificate>,
        /// PS256 with `x5t#S256`, or RS256 with `x5t`.
        assertion: AssertionAlg,
    },
    /// Workload identity federation: a token file (Kubernetes service-account token) is the
    /// assertion, read again for every token request.
    WorkloadIdentity {
        /// The application (client) id, or the user-assigned managed identity's client id.
        client_id: String,
        /// The federated token file.
        token_file: PathBuf,
    },
    /// The managed identity of the Azure resource the exporter runs on.
    ManagedIdentity {
        /// A user-assigned identity's client id; `None` for the system-assigned identity.
        client_id: Option<String>,
    },
}

impl Auth {
    /// Whether `self` and `other` sign in the same way (same kind, client, secret, certificate
    /// or token file), so a reload can keep a tenant's poller and its cached token.
    pub fn same_credential(&self, other: &Auth) -> bool {
        match (self, other) {
            (
                Auth::ClientSecret {
                    client_id,
                    secret,
                    secret_file,
                },
                Auth::ClientSecret {
                    client_id: c2,
                    secret: s2,
                    secret_file: f2,
                },
            ) => {
                // A secret file is re-read by the credential itself when it changes.
                client_id == c2 && secret_file == f2 && (secret_file.is_some() || secret == s2)
            }
            (
                Auth::Certificate {
                    client_id,
                    certificate,
                    assertion,
                },
                Auth::Certificate {
                    client_id: c2,
                    certificate: cert2,
                    assertion: a2,
                },
            ) => {
                client_id == c2
                    && assertion == a2
                    && certificate.thumbprint_sha256() == cert2.thumbprint_sha256()
            }
            (
                Auth::WorkloadIdentity {
                    client_id,
                    token_file,
                },
                Auth::WorkloadIdentity {
                    client_id: c2,
                    token_file: f2,
                },
            ) => client_id == c2 && token_file == f2,
            (Auth::ManagedIdentity { client_id }, Auth::ManagedIdentity { client_id: c2 }) => {
                client_id == c2
            }
            _ => false,
        }
    }

    /// The credential kind, as the config calls it.
    pub fn kind(&self) -> &'static str {
        match self {
            Auth::ClientSecret { .. } => "client_secret",
            Auth::Certificate { .. } => "certificate",
            Auth::WorkloadIdentity { .. } => "workload_identity",
            Auth::ManagedIdentity { .. } => "managed_identity",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    expecting = "a mapping with client_id and one credential (client_secret_file, client_secret_env, certificate_file, pkcs12_file, workload_identity, managed_identity)"
)]
pub(crate) struct RawAuth {
    pub(super) client_id: Option<String>,
    pub(super) client_secret_file: Option<PathBuf>,
    pub(super) client_secret_env: Option<String>,
    pub(super) certificate_file: Option<PathBuf>,
    pub(super) private_key_file: Option<PathBuf>,
    pub(super) pkcs12_file: Option<PathBuf>,
    pub(super) pkcs12_password_file: Option<PathBuf>,
    pub(super) pkcs12_password_env: Option<String>,
    pub(super) assertion: Option<String>,
    pub(super) workload_identity: Option<RawWorkloadIdentity>,
    pub(super) managed_identity: Option<RawManagedIdentity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a mapping with the key token_file")]
pub(super) struct RawWorkloadIdentity {
    pub(super) token_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a mapping with the key client_id")]
pub(super) struct RawManagedIdentity {
    pub(super) client_id: Option<String>,
}

/// The keys that each choose a credential kind; exactly one is set per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SecretFile,
    SecretEnv,
    CertificateFile,
    Pkcs12File,
    WorkloadIdentity,
    ManagedIdentity,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::SecretFile,
        Kind::SecretEnv,
        Kind::CertificateFile,
        Kind::Pkcs12File,
        Kind::WorkloadIdentity,
        Kind::ManagedIdentity,
    ];

    fn key(self) -> &'static str {
        match self {
            Kind::SecretFile => "client_secret_file",
            Kind::SecretEnv => "client_secret_env",
            Kind::CertificateFile => "certificate_file",
            Kind::Pkcs12File => "pkcs12_file",
            Kind::WorkloadIdentity => "workload_identity",
            Kind::ManagedIdentity => "managed_identity",
        }
    }

    fn is_set(self, a: &RawAuth) -> bool {
        match self {
            Kind::SecretFile => a.client_secret_file.is_some(),
            Kind::SecretEnv => a.client_secret_env.is_some(),
            Kind::CertificateFile => a.certificate_file.is_some(),
            Kind::Pkcs12File => a.pkcs12_file.is_some(),
            Kind::WorkloadIdentity => a.workload_identity.is_some(),
            Kind::ManagedIdentity => a.managed_identity.is_some(),
        }
    }
}

/// The credential at `key` (`...auth`): its own when given, else `defaults.auth`; a problem
/// when there is neither.
pub(super) fn own_or_defaults(
    raw: Option<RawAuth>,
    key: &str,
    defaults: Option<&Arc<Auth>>,
    base: &Path,
    env: EnvLookup<'_>,
    p: &mut Problems<'_>,
) -> Option<Arc<Auth>> {
    match (raw, defaults) {
        (Some(a), _) => validate_auth(a, key, base, env, p).map(Arc::new),
        (None, Some(d)) => Some(Arc::clone(d)),
        (None, None) => {
            p.add(
                key,
                "no credential: set auth here or defaults.auth".to_string(),
            );
            None
        }
    }
}

pub(crate) fn validate_auth(
    a: RawAuth,
    key: &str,
    base: &Path,
    env: EnvLookup<'_>,
    p: &mut Problems<'_>,
) -> Option<Auth> {
    let sub = |k: &str| format!("{key}.{k}");
    let chosen: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.is_set(&a)).collect();
    let names = |kinds: &[Kind]| kinds.iter().map(|k| k.key()).collect::<Vec<_>>();
    let kind = match chosen.as_slice() {
        [] => {
            p.add(
                key,
                format!("no credential: set one of {}", names(&Kind::ALL).join(", ")),
            );
            return None;
        }
        [one] => *one,
        many => {
            p.add(
                key,
                format!(
                    "set exactly one credential, not {}",
                    names(many).join(" and ")
                ),
            );
            return None;
        }
    };
    // Keys that only mean something next to one credential kind.
    for (k, present, belongs) in [
        (
            "private_key_file",
            a.private_key_file.is_some(),
            Kind::CertificateFile,
        ),
        (
            "pkcs12_password_file",
            a.pkcs12_password_file.is_some(),
            Kind::Pkcs12File,
        ),
        (
            "pkcs12_password_env",
            a.pkcs12_password_env.is_some(),
            Kind::Pkcs12File,
        ),
    ] {
        if present && kind != belongs {
            p.add(
                &sub(k),
                format!("only applies together with {}", belongs.key()),
            );
        }
    }
    if a.assertion.is_some() && !matches!(kind, Kind::CertificateFile | Kind::Pkcs12File) {
        p.add(
            &sub("assertion"),
            "only applies to a certificate (certificate_file or pkcs12_file)".to_string(),
        );
    }

    let client_id = match (&a.client_id, kind) {
        (Some(_), Kind::ManagedIdentity) => {
            p.add(
                &sub("client_id"),
                "does not apply to managed_identity; a user-assigned identity's client id goes under managed_identity.client_id".to_string(),
            );
            None
        }
        (None, Kind::ManagedIdentity) => None,
        (None, _) => {
            p.add(
                &sub("client_id"),
                "missing: the application (client) id of the app registration".to_string(),
            );
            None
        }
        (Some(id), _) => p.guid(&sub("client_id"), id, "an application (client) id"),
    };

    match kind {
        Kind::SecretFile => {
            let file = base.join(a.client_secret_file.as_deref()?);
            let secret = read_secret(&file)
                .map_err(|e| p.add(&sub("client_secret_file"), e))
                .ok()?;
            Some(Auth::ClientSecret {
                client_id: client_id?,
                secret,
                secret_file: Some(file),
            })
        }
        Kind::SecretEnv => {
            let name = a.client_secret_env?;
            let secret = p.env_secret(&sub("client_secret_env"), &name, env)?;
            Some(Auth::ClientSecret {
                client_id: client_id?,
                secret,
                secret_file: None,
            })
        }
        Kind::CertificateFile | Kind::Pkcs12File => {
            let assertion = match a.assertion.as_deref().map(str::parse::<AssertionAlg>) {
                None => AssertionAlg::default(),
                Some(Ok(alg)) => alg,
                Some(Err(e)) => {
                    p.add(&sub("assertion"), e);
                    AssertionAlg::default()
                }
            };
            let certificate = if kind == Kind::CertificateFile {
                let cert_file = base.join(a.certificate_file.as_deref()?);
                let key_file = a.private_key_file.as_deref().map(|f| base.join(f));
                load_pem_certificate(&cert_file, key_file.as_deref())
                    .map_err(|(k, message)| p.add(&sub(k), message))
                    .ok()?
            } else {
                let file = base.join(a.pkcs12_file.as_deref()?);
                let password = match (&a.pkcs12_password_file, &a.pkcs12_password_env) {
                    (Some(_), Some(_)) => {
                        p.add(
                            key,
                            "set pkcs12_password_file or pkcs12_password_env, not both".to_string(),
                        );
                        return None;
                    }
                    (Some(f), None) => read_secret(&base.join(f))
                        .map_err(|e| p.add(&sub("pkcs12_password_file"), e))
                        .ok()?,
                    (None, Some(name)) => p.env_secret(&sub("pkcs12_password_env"), name, env)?,
                    (None, None) => SecretString::new(String::new()),
                };
                let data = files::read(&file, files::PEM_MAX_BYTES)
                    .map_err(|e| p.add(&sub("pkcs12_file"), e.to_string()))
                    .ok()?;
                ClientCertificate::from_pkcs12(&data, password.expose())
                    .map_err(|e| p.add(&sub("pkcs12_file"), format!("{} {e}", file.display())))
                    .ok()?
            };
            Some(Auth::Certificate {
                client_id: client_id?,
                certificate: Arc::new(certificate),
                assertion,
            })
        }
        Kind::WorkloadIdentity => {
            let configured = a.workload_identity.and_then(|w| w.token_file);
            let token_file = match configured {
                Some(f) => base.join(f),
                None => match env("AZURE_FEDERATED_TOKEN_FILE").filter(|v| !v.is_empty()) {
                    Some(f) => PathBuf::from(f),
                    None => {
                        p.add(
                            &sub("workload_identity.token_file"),
                            "missing, and AZURE_FEDERATED_TOKEN_FILE is not set (the workload identity webhook sets it on labelled pods)".to_string(),
                        );
                        return None;
                    }
                },
            };
            // The file is read for every token request; at start it must at least be readable.
            if let Err(e) = files::read(&token_file, files::SECRET_MAX_BYTES) {
                p.add(&sub("workload_identity.token_file"), e.to_string());
                return None;
            }
            Some(Auth::WorkloadIdentity {
                client_id: client_id?,
                token_file,
            })
        }
        Kind::ManagedIdentity => {
            let client_id = match a.managed_identity.and_then(|m| m.client_id) {
                None => None,
                Some(id) => Some(p.guid(
                    &sub("managed_identity.client_id"),
                    &id,
                    "a user-assigned managed identity's client id",
                )?),
            };
            Some(Auth::ManagedIdentity { client_id })
        }
    }
}

/// Loads a PEM certificate and its key, as (the key that is at fault, what is wrong).
fn load_pem_certificate(
    cert_file: &Path,
    key_file: Option<&Path>,
) -> Result<ClientCertificate, (&'static str, String)> {
    let cert_pem = files::read(cert_file, files::PEM_MAX_BYTES)
        .map_err(|e| ("certificate_file", e.to_string()))?;
    let key_pem = match key_file {
        None => cert_pem.clone(),
        Some(f) => {
            files::read(f, files::PEM_MAX_BYTES).map_err(|e| ("private_key_file", e.to_string()))?
        }
    };
    ClientCertificate::from_pem(&cert_pem, &key_pem).map_err(|e| match (e.part, key_file) {
        (Part::Key, Some(f)) => ("private_key_file", format!("{} {e}", f.display())),
        _ => ("certificate_file", format!("{} {e}", cert_file.display())),
    })
}

/// Reads a client secret file as the config does: bounded, without the line ending editors and
/// `echo` add, and refused when empty.
pub fn read_secret(path: &Path) -> Result<SecretString, String> {
    let text = files::read_text(path, files::SECRET_MAX_BYTES).map_err(|e| e.to_string())?;
    // Files written by editors and `echo` end with a newline that is not part of the secret.
    let secret = text.trim_end_matches(['\r', '\n']).to_string();
    if secret.trim().is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(SecretString::new(secret))
}
