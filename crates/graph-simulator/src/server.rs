//! The accept loop: TLS handshakes, HTTP/1.1 and HTTP/2 connections, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::router;
use super::state::SimState;
use super::stats::Peer;

/// A client that opens TCP and never finishes the handshake must not hold a task forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for in-flight requests (delays end at once on shutdown anyway).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves until `state.cancel` fires, then drains and closes every connection.
pub(crate) async fn serve(listener: TcpListener, acceptor: TlsAcceptor, state: Arc<SimState>) {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = state.cancel.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Usually out of file descriptors: back off instead of spinning.
                        tracing::warn!(%error, "simulator accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                let state = state.clone();
                connections.spawn(async move {
                    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(error)) => {
                            tracing::debug!(%error, %peer, "simulator TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    let service = service_fn(move |mut request: hyper::Request<_>| {
                        request.extensions_mut().insert(Peer(peer));
                        router::handle(state.clone(), request)
                    });
                    let connection = builder.serve_connection(TokioIo::new(tls), service).into_owned();
                    if let Err(error) = watcher.watch(connection).await {
                        tracing::debug!(%error, %peer, "simulator connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
    connections.shutdown().await;
}
