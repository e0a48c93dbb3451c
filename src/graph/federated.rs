//! Workload identity federation: a token from another identity provider (on Kubernetes, the
//! projected service-account token at `AZURE_FEDERATED_TOKEN_FILE`) is the client assertion.
//!
//! `azure_identity`'s `WorkloadIdentityCredential` keeps the file's content for ten minutes; the
//! kubelet may rotate the token at any time, and a stale one fails sign-in with AADSTS700024, so
//! this reads the file again for every token request. Token requests are rare (once an hour per
//! tenant), so the read costs nothing.

use azure_core::error::ErrorKind;
use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use std::path::PathBuf;

/// A [`ClientAssertion`] read from a file on every call.
#[derive(Debug)]
pub struct FederatedTokenFile {
    /// The token file.
    pub path: PathBuf,
}

#[async_trait::async_trait]
impl ClientAssertion for FederatedTokenFile {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let path = self.path.clone();
        let read = tokio::task::spawn_blocking(move || std::fs::read_to_string(&path)).await;
        let text = match read {
            Ok(Ok(text)) => text,
            Ok(Err(e)) => {
                return Err(azure_core::Error::with_message(
                    ErrorKind::Credential,
                    format!(
                        "cannot read the federated token file {}: {e}",
                        self.path.display()
                    ),
                ))
            }
            Err(e) => {
                return Err(azure_core::Error::with_message(
                    ErrorKind::Credential,
                    format!("reading the federated token file stopped: {e}"),
                ))
            }
        };
        let token = text.trim();
        if token.is_empty() {
            return Err(azure_core::Error::with_message(
                ErrorKind::Credential,
                format!("the federated token file {} is empty", self.path.display()),
            ));
        }
        Ok(token.to_string())
    }
}
