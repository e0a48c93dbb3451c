//! Why the simulator could not start. A leaf: every other module may use it.

use std::net::SocketAddr;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    /// Generating the throw-away CA or server certificate failed.
    #[error("cannot generate the simulator's certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the generated certificate or the protocol versions.
    #[error("cannot build the simulator's TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// The listen address is taken, not local, or not permitted.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}
