//! Listening sockets: Prometheus-style listen addresses (`:10468` is every interface, IPv6 and
//! IPv4 on one dual-stack socket, falling back to IPv4 where the host has no IPv6;
//! `127.0.0.1:10468`; `[::1]:10468`; `localhost:10468`), and sockets handed over by systemd
//! socket activation (`LISTEN_FDS`). Owns binding; serving is [`super::server`].

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use tokio::net::TcpListener;

/// The kernel queue of connections not yet accepted, as Go's net package uses on Linux.
const BACKLOG: i32 = 1024;

/// Why a listener could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// The address is not of a form the exporter understands: a usage error.
    #[error("--web.listen-address {address:?}: {message}")]
    Address {
        /// As given.
        address: String,
        /// Why.
        message: String,
    },
    /// The address is fine, but binding it failed (in use, not permitted).
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// What was bound.
        address: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// `--web.systemd-socket` without usable sockets from systemd.
    #[error("--web.systemd-socket: {0}")]
    Systemd(String),
}

impl ListenError {
    /// Whether this is the operator's mistake in flags (exit code 2) rather than the host's.
    pub fn is_usage(&self) -> bool {
        !matches!(self, ListenError::Bind { .. })
    }
}

/// Where to listen, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddress {
    /// `:port`: every interface, IPv6 and IPv4.
    Any(u16),
    /// A host (name or address) and port.
    Host(String, u16),
}

impl ListenAddress {
    /// Parses `:port`, `host:port` or `[v6]:port`.
    pub fn parse(address: &str) -> Result<ListenAddress, ListenError> {
        let bad = |message: &str| ListenError::Address {
            address: address.to_string(),
            message: message.to_string(),
        };
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| bad("expected host:port or :port"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| bad("the port must be a number from 0 to 65535"))?;
        if host.is_empty() {
            return Ok(ListenAddress::Any(port));
        }
        let host = match host.strip_prefix('[') {
            Some(rest) => rest
                .strip_suffix(']')
                .ok_or_else(|| bad("an IPv6 address goes in brackets: [::1]:10468"))?,
            None if host.contains(':') => {
                return Err(bad("an IPv6 address goes in brackets: [::1]:10468"))
            }
            None => host,
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(bad("not a host name or address"));
        }
        Ok(ListenAddress::Host(host.to_string(), port))
    }

    /// Binds it.
    pub fn bind(&self) -> Result<TcpListener, ListenError> {
        match self {
            ListenAddress::Any(port) => bind_any(*port),
            ListenAddress::Host(host, port) => {
                let shown = format!("{host}:{port}");
                let addrs: Vec<SocketAddr> = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(|e| ListenError::Address {
                        address: shown.clone(),
                        message: format!("cannot resolve: {e}"),
                    })?
                    .collect();
                let mut last = None;
                for addr in addrs {
                    match bind_socket(addr, false) {
                        Ok(l) => return Ok(l),
                        Err(e) => last = Some(e),
                    }
                }
                Err(match last {
                    Some(source) => ListenError::Bind {
                        address: shown,
                        source,
                    },
                    None => ListenError::Address {
                        address: shown,
                        message: "resolves to no address".to_string(),
                    },
                })
            }
        }
    }
}

/// `:port`: one IPv6 socket that also takes IPv4 (IPV6_V6ONLY off), or IPv4 alone on a host
/// without IPv6.
fn bind_any(port: u16) -> Result<TcpListener, ListenError> {
    let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
    match bind_socket(v6, true) {
        Ok(l) => Ok(l),
        Err(e) if no_ipv6(&e) => {
            tracing::debug!(error = %e, "no IPv6 on this host; listening on IPv4 only");
            let v4 = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
            bind_socket(v4, false).map_err(|source| ListenError::Bind {
                address: v4.to_string(),
                source,
            })
        }
        Err(source) => Err(ListenError::Bind {
            address: format!(":{port}"),
            source,
        }),
    }
}

fn no_ipv6(e: &std::io::Error) -> bool {
    // EAFNOSUPPORT (IPv6 compiled out or disabled), EADDRNOTAVAIL (no IPv6 address at all).
    matches!(e.raw_os_error(), Some(97) | Some(99))
        || e.kind() == std::io::ErrorKind::AddrNotAvailable
}

fn bind_socket(addr: SocketAddr, dual_stack: bool) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if dual_stack {
        socket.set_only_v6(false)?;
    }
    // As Go and std do: a restarted exporter can bind while old connections sit in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// The TCP sockets systemd passed (`LISTEN_FDS`, `LISTEN_PID`). Call before starting threads:
/// it removes those variables from the environment, so that child processes do not see them.
pub fn systemd_sockets() -> Result<Vec<std::net::TcpListener>, ListenError> {
    let mut fds = listenfd::ListenFd::from_env();
    if fds.len() == 0 {
        return Err(ListenError::Systemd(
            "systemd passed no socket (LISTEN_FDS/LISTEN_PID unset or for another process); \
             start the exporter from a .socket unit"
                .to_string(),
        ));
    }
    let mut listeners = Vec::new();
    for index in 0..fds.len() {
        match fds.take_tcp_listener(index) {
            Ok(Some(l)) => listeners.push(l),
            Ok(None) => {}
            Err(e) => {
                return Err(ListenError::Systemd(format!(
                    "socket {index} is not a TCP listener: {e}"
                )))
            }
        }
    }
    Ok(listeners)
}

/// Turns std listeners (from systemd) into tokio ones; needs the runtime.
pub fn adopt(listeners: Vec<std::net::TcpListener>) -> Result<Vec<TcpListener>, ListenError> {
    listeners
        .into_iter()
        .map(|l| {
            let address = l
                .local_addr()
                .map_or_else(|_| "a systemd socket".to_string(), |a| a.to_string());
            l.set_nonblocking(true)
                .and_then(|()| TcpListener::from_std(l))
                .map_err(|source| ListenError::Bind { address, source })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_the_prometheus_way() {
        assert_eq!(
            ListenAddress::parse(":10468").unwrap(),
            ListenAddress::Any(10468)
        );
        assert_eq!(
            ListenAddress::parse("[::1]:0").unwrap(),
            ListenAddress::Host("::1".into(), 0)
        );
        assert_eq!(
            ListenAddress::parse("localhost:9").unwrap(),
            ListenAddress::Host("localhost".into(), 9)
        );
        for bad in ["10468", "::1:80", "host:http", ":99999", "[::1:80", "a b:1"] {
            let err = ListenAddress::parse(bad).unwrap_err();
            assert!(err.is_usage(), "{bad}: {err}");
        }
    }
}
