//! The web server around the HTTP handlers, run like a Prometheus component: listen addresses
//! and systemd sockets ([`listen`]), `--web.config.file` in the exporter toolkit's format
//! ([`config`]) with TLS ([`tls`]) and basic auth ([`auth`]), re-read when its files change
//! ([`watch`]), and the accept loop with its timeouts and connection cap ([`server`]).
//! Nothing here knows what a request is answered with: that is [`crate::http`].

pub mod auth;
pub mod config;
pub mod listen;
pub mod server;
pub mod tls;
pub mod watch;

pub use config::{WebConfig, WebConfigError};
pub use listen::{ListenAddress, ListenError};
pub use server::{serve, Limits};
pub use watch::WebConfigFile;
