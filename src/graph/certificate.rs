//! Certificate credentials: an app registration's certificate and private key, loaded from PEM or
//! PKCS#12, and the signed JWT client assertion Entra ID accepts in place of a client secret
//! (Entra docs, `identity-platform/certificate-credentials.md`).
//!
//! Signing goes through rustls' aws-lc-rs provider, which the exporter already links for TLS: no
//! OpenSSL, no second RSA implementation (the pure-Rust `rsa` crate still carries the Marvin
//! timing advisory, RUSTSEC-2023-0071, for private-key operations). PKCS#12 files are decoded by
//! the pure-Rust `p12-keystore` crate and certificates by `x509-parser`.

use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::SigningKey;
use rustls::{SignatureAlgorithm, SignatureScheme};
use std::fmt;
use std::sync::Arc;

/// How the assertion is signed and which thumbprint names the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssertionAlg {
    /// RSASSA-PSS with SHA-256 and the SHA-256 thumbprint `x5t#S256`: what Entra documents today.
    #[default]
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and the SHA-1 thumbprint `x5t`: the older documented form.
    Rs256,
}

impl AssertionAlg {
    /// Config names.
    pub const ALL: [(AssertionAlg, &'static str); 2] = [
        (AssertionAlg::Ps256, "ps256"),
        (AssertionAlg::Rs256, "rs256"),
    ];

    fn scheme(self) -> SignatureScheme {
        match self {
            AssertionAlg::Ps256 => SignatureScheme::RSA_PSS_SHA256,
            AssertionAlg::Rs256 => SignatureScheme::RSA_PKCS1_SHA256,
        }
    }
}

impl std::str::FromStr for AssertionAlg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AssertionAlg::ALL
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(a, _)| *a)
            .ok_or_else(|| format!("unknown assertion {s:?}, expected ps256 or rs256"))
    }
}

/// Which part of a certificate credential is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The certificate (or the file or archive as a whole).
    Certificate,
    /// The private key.
    Key,
}

/// Why a certificate and key cannot be used. The message reads after the file name:
/// "app.pem holds no PEM certificate".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CertificateError {
    /// What to fix.
    pub part: Part,
    /// What is wrong.
    pub message: String,
}

fn cert_err(message: impl Into<String>) -> CertificateError {
    CertificateError {
        part: Part::Certificate,
        message: message.into(),
    }
}

fn key_err(message: impl Into<String>) -> CertificateError {
    CertificateError {
        part: Part::Key,
        message: message.into(),
    }
}

/// A certificate and its private key, ready to sign assertions. `Debug` shows the thumbprint
/// and expiry only.
#[derive(Clone)]
pub struct ClientCertificate {
    der: Vec<u8>,
    key: Arc<dyn SigningKey>,
    not_after: DateTime<Utc>,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t#S256", &self.thumbprint_sha256())
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// From PEM: the first `CERTIFICATE` block of `cert_pem` is the app's certificate, and
    /// `key_pem` holds its private key (PKCS#8 or PKCS#1). Both may be the same file.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, CertificateError> {
        let cert = rustls_pemfile::certs(&mut &cert_pem[..])
            .next()
            .ok_or_else(|| cert_err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)"))?
            .map_err(|e| cert_err(format!("is not PEM: {e}")))?;
        let key = rustls_pemfile::private_key(&mut &key_pem[..])
            .map_err(|e| key_err(format!("is not PEM: {e}")))?
            .ok_or_else(|| key_err("holds no PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)"))?;
        Self::from_parts(cert.to_vec(), key)
    }

    /// From a PKCS#12 (`.pfx`, `.p12`) archive: the private key and the certificate that goes
    /// with it.
    pub fn from_pkcs12(data: &[u8], password: &str) -> Result<Self, CertificateError> {
        let store = p12_keystore::KeyStore::from_pkcs12(
            data,
            password,
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        // The crate's messages name the failing step (MAC, decryption), never the password.
        .map_err(|e| cert_err(format!("is not a PKCS#12 archive this password opens: {e}")))?;
        let (_, chain) = store
            .private_key_chain()
            .ok_or_else(|| key_err("holds no private key"))?;
        let cert = chain
            .certs()
            .first()
            .ok_or_else(|| cert_err("holds a private key without its certificate"))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
        Self::from_parts(cert.as_der().to_vec(), key)
    }

    fn from_parts(der: Vec<u8>, key: PrivateKeyDer<'static>) -> Result<Self, CertificateError> {
        let (_, parsed) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| cert_err(format!("holds a certificate that does not parse: {e}")))?;
        let not_after = DateTime::from_timestamp(parsed.validity().not_after.timestamp(), 0)
            .ok_or_else(|| cert_err("holds a certificate with an impossible notAfter"))?;
        let spki = parsed.public_key().subject_public_key.data.to_vec();
        let key = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)
            .map_err(|e| key_err(format!("holds a private key that cannot sign: {e}")))?;
        if key.algorithm() != SignatureAlgorithm::RSA {
            return Err(key_err(
                "holds a non-RSA key; Entra ID accepts only RSA certificates for app credentials",
            ));
        }
        let cert = Self {
            der,
            key,
            not_after,
        };
        // A key that does not belong to the certificate fails every sign-in with an AADSTS
        // error that never says so; catch it at start.
        let message = b"intune-exporter key check";
        let signature = cert.sign(AssertionAlg::Ps256, message).map_err(key_err)?;
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA256,
            spki,
        )
        .verify(message, &signature)
        .map_err(|_| key_err("holds a private key that does not belong to the certificate"))?;
        Ok(cert)
    }

    /// The certificate's notAfter.
    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    /// The DER encoding of the certificate.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// `x5t#S256`: base64url SHA-256 of the DER certificate.
    pub fn thumbprint_sha256(&self) -> String {
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            &self.der,
        ))
    }

    /// `x5t`: base64url SHA-1 of the DER certificate (what the Entra portal shows, in hex).
    pub fn thumbprint_sha1(&self) -> String {
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            &self.der,
        ))
    }

    /// The SHA-1 thumbprint in upper-case hex, as the Entra portal and `certutil` show it.
    pub fn thumbprint_hex(&self) -> String {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &self.der)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    fn sign(&self, alg: AssertionAlg, message: &[u8]) -> Result<Vec<u8>, String> {
        let signer = self
            .key
            .choose_scheme(&[alg.scheme()])
            .ok_or("the private key cannot make this signature")?;
        signer
            .sign(message)
            .map_err(|e| format!("signing the client assertion failed: {e}"))
    }

    /// A client assertion JWT for `client_id` at the token endpoint `audience`, valid from `now`
    /// for five minutes (Entra asks for at most ten).
    pub fn assertion(
        &self,
        alg: AssertionAlg,
        client_id: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        let header = match alg {
            AssertionAlg::Ps256 => serde_json::json!({
                "alg": "PS256", "typ": "JWT", "x5t#S256": self.thumbprint_sha256(),
            }),
            AssertionAlg::Rs256 => serde_json::json!({
                "alg": "RS256", "typ": "JWT", "x5t": self.thumbprint_sha1(),
            }),
        };
        let iat = now.timestamp();
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": random_guid()?,
            "nbf": iat,
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME_SECONDS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.sign(alg, signing_input.as_bytes())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

/// Each assertion is used at once, for one token request.
const ASSERTION_LIFETIME_SECONDS: i64 = 300;

/// A random version-4 GUID, for `jti`.
fn random_guid() -> Result<String, String> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| "the system random generator failed")?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// Signs a fresh assertion for every token request: [`ClientAssertion`] for `azure_identity`'s
/// `ClientAssertionCredential`.
#[derive(Debug)]
pub struct CertificateAssertion {
    /// The certificate and key.
    pub certificate: Arc<ClientCertificate>,
    /// PS256 or RS256.
    pub alg: AssertionAlg,
    /// The application (client) id: `iss` and `sub`.
    pub client_id: String,
    /// The token endpoint: `aud`.
    pub audience: String,
}

#[async_trait::async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.certificate
            .assertion(self.alg, &self.client_id, &self.audience, Utc::now())
            .map_err(|m| {
                azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, m)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated() -> (String, String) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["intune-exporter".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        let raw = URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&raw).unwrap()
    }

    #[test]
    fn assertions_carry_entras_claims_and_verify_with_the_certificate() {
        let (cert_pem, key_pem) = generated();
        let cert = ClientCertificate::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let aud = "https://login.microsoftonline.com/t/oauth2/v2.0/token";
        for (alg, name, x5t, verify) in [
            (
                AssertionAlg::Ps256,
                "PS256",
                "x5t#S256",
                &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA256,
            ),
            (
                AssertionAlg::Rs256,
                "RS256",
                "x5t",
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            ),
        ] {
            let jwt = cert.assertion(alg, "client", aud, now).unwrap();
            let header = part(&jwt, 0);
            assert_eq!(header["alg"], name);
            let thumb = if alg == AssertionAlg::Ps256 {
                cert.thumbprint_sha256()
            } else {
                cert.thumbprint_sha1()
            };
            assert_eq!(header[x5t], thumb.as_str());
            let claims = part(&jwt, 1);
            assert_eq!(claims["aud"], aud);
            assert_eq!(
                (&claims["iss"], &claims["sub"]),
                (&"client".into(), &"client".into())
            );
            assert_eq!(claims["nbf"], 1_800_000_000);
            assert_eq!(claims["exp"], 1_800_000_300);
            assert_eq!(claims["jti"].as_str().unwrap().len(), 36);
            let (input, sig) = jwt.rsplit_once('.').unwrap();
            let (_, parsed) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
            aws_lc_rs::signature::UnparsedPublicKey::new(
                verify,
                parsed.public_key().subject_public_key.data.to_vec(),
            )
            .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
            .unwrap();
        }
    }

    #[test]
    fn refuses_a_key_of_another_certificate_and_non_rsa_keys() {
        let (cert_pem, _) = generated();
        let (_, other_key) = generated();
        assert_eq!(
            ClientCertificate::from_pem(cert_pem.as_bytes(), other_key.as_bytes())
                .unwrap_err()
                .to_string(),
            "holds a private key that does not belong to the certificate"
        );
        let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let ec_cert = rcgen::CertificateParams::new(vec!["x".into()])
            .unwrap()
            .self_signed(&ec)
            .unwrap();
        assert_eq!(
            ClientCertificate::from_pem(ec_cert.pem().as_bytes(), ec.serialize_pem().as_bytes())
                .unwrap_err()
                .to_string(),
            "holds a non-RSA key; Entra ID accepts only RSA certificates for app credentials"
        );
    }

    #[test]
    fn reads_pkcs12_archives() {
        let (cert_pem, key_pem) = generated();
        let pem = ClientCertificate::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
        let key_der = rustls_pemfile::private_key(&mut key_pem.as_bytes())
            .unwrap()
            .unwrap();
        let chain = p12_keystore::PrivateKeyChain::new(
            vec![1u8; 20],
            p12_keystore::PrivateKey::from_der(key_der.secret_der()).unwrap(),
            [p12_keystore::Certificate::from_der(pem.der()).unwrap()],
        );
        let mut store = p12_keystore::KeyStore::new();
        store.add_entry("app", p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
        let pfx = store.writer("pfx-pass").write().unwrap();
        let from_pfx = ClientCertificate::from_pkcs12(&pfx, "pfx-pass").unwrap();
        assert_eq!(from_pfx.der(), pem.der());
        assert_eq!(from_pfx.not_after(), pem.not_after());
        let err = ClientCertificate::from_pkcs12(&pfx, "wrong")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("is not a PKCS#12 archive this password opens"),
            "{err}"
        );
        assert!(!err.contains("wrong"), "{err}");
    }
}
