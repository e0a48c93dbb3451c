//! The TLS side of `tls_server_config`: a rustls server configuration built from the validated
//! settings (certificate chain and key, client certificate verification, versions, suites,
//! groups), and the `client_allowed_sans` check after a handshake. Owns building and
//! checking; reading the web config is [`super::config`].

use super::config::{ClientAuth, Pem, TlsSettings, TlsVersion};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::sync::Arc;

/// Builds the server configuration; every error names the key at fault.
pub fn server_config(s: &TlsSettings, http2: bool) -> Result<ServerConfig, String> {
    let certs = certificates(&s.cert, "cert_file")?;
    let key = private_key(&s.key)?;
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if let Some(names) = &s.cipher_suites {
        // Go's list covers TLS 1.2 only; TLS 1.3 suites stay as they are.
        provider.cipher_suites.retain(|suite| match suite {
            rustls::SupportedCipherSuite::Tls13(_) => true,
            rustls::SupportedCipherSuite::Tls12(_) => {
                names.contains(&format!("{:?}", suite.suite()))
            }
        });
        // In the order the operator listed them.
        provider.cipher_suites.sort_by_key(|suite| {
            names
                .iter()
                .position(|n| *n == format!("{:?}", suite.suite()))
                .unwrap_or(0)
        });
    }
    if let Some(names) = &s.curve_preferences {
        let all = rustls::crypto::aws_lc_rs::ALL_KX_GROUPS;
        provider.kx_groups = names
            .iter()
            .filter_map(|n| {
                all.iter()
                    .find(|g| format!("{:?}", g.name()) == *n)
                    .copied()
            })
            .collect();
    }
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
        (TlsVersion::Tls12, &rustls::version::TLS12),
        (TlsVersion::Tls13, &rustls::version::TLS13),
    ]
    .into_iter()
    .filter(|(v, _)| *v >= s.min_version && *v <= s.max_version)
    .map(|(_, p)| p)
    .collect();
    let provider = Arc::new(provider);
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions)
        .map_err(|e| format!("tls_server_config: {e}"))?;
    let builder = match (s.client_auth, &s.client_ca) {
        (ClientAuth::None, _) | (_, None) => builder.with_no_client_auth(),
        (auth, Some(ca)) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(ca, "client_ca_file")? {
                roots
                    .add(cert)
                    .map_err(|e| format!("tls_server_config.client_ca_file: {e}"))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if auth == ClientAuth::VerifyIfGiven {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier
                .build()
                .map_err(|e| format!("tls_server_config.client_ca_file: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("tls_server_config: the certificate and key do not fit: {e}"))?;
    config.ignore_client_order = s.prefer_server_cipher_suites;
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(config)
}

fn certificates(pem: &Pem, key: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let key = format!("tls_server_config.{key}");
    let data = pem.read().map_err(|e| format!("{key}: {e}"))?;
    let certs = rustls_pemfile::certs(&mut data.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{key}: not PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "{key}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(certs)
}

fn private_key(pem: &Pem) -> Result<PrivateKeyDer<'static>, String> {
    let key = "tls_server_config.key_file";
    let data = pem.read().map_err(|e| format!("{key}: {e}"))?;
    rustls_pemfile::private_key(&mut data.as_slice())
        .map_err(|e| format!("{key}: not PEM: {e}"))?
        .ok_or_else(|| format!("{key}: holds no PEM private key"))
}

/// Whether the client certificate of a finished handshake carries one of `allowed` as a
/// subject alternative name (DNS, IP, e-mail or URI), as the toolkit's `client_allowed_sans`
/// requires. `allowed` empty means any verified certificate.
pub fn client_san_allowed(peer: Option<&[CertificateDer<'_>]>, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let Some(leaf) = peer.and_then(|c| c.first()) else {
        return false;
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(leaf.as_ref()) else {
        return false;
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return false;
    };
    san.value.general_names.iter().any(|name| {
        use x509_parser::extensions::GeneralName;
        let text = match name {
            GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
                s.to_string()
            }
            GeneralName::IPAddress(b) => match b.len() {
                4 => <[u8; 4]>::try_from(*b)
                    .map(|a| std::net::IpAddr::from(a).to_string())
                    .unwrap_or_default(),
                16 => <[u8; 16]>::try_from(*b)
                    .map(|a| std::net::IpAddr::from(a).to_string())
                    .unwrap_or_default(),
                _ => return false,
            },
            _ => return false,
        };
        allowed.contains(&text)
    })
}
