//! Command-line flags in the Prometheus exporter convention (`--web.listen-address`, ...),
//! each with an `INTUNE_EXPORTER_*` environment mirror.

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Prometheus exporter for the Microsoft Intune Tenant status page.
#[derive(Debug, Parser)]
#[command(name = "intune-exporter", version, about, long_about = None)]
pub struct Cli {
    /// Address to listen on for metrics and health endpoints; repeat it for several (":10468"
    /// is every interface, IPv6 and IPv4).
    #[arg(
        long = "web.listen-address",
        env = "INTUNE_EXPORTER_WEB_LISTEN_ADDRESS",
        default_value = ":10468",
        value_name = "ADDRESS",
        value_delimiter = ','
    )]
    pub listen_address: Vec<String>,

    /// Use the sockets systemd passes (socket activation) instead of --web.listen-address.
    #[arg(
        long = "web.systemd-socket",
        env = "INTUNE_EXPORTER_WEB_SYSTEMD_SOCKET"
    )]
    pub systemd_socket: bool,

    /// Web configuration file (exporter toolkit format) for TLS, basic auth and headers.
    #[arg(
        long = "web.config.file",
        env = "INTUNE_EXPORTER_WEB_CONFIG_FILE",
        value_name = "FILE"
    )]
    pub web_config_file: Option<PathBuf>,

    /// Enable POST /-/reload (SIGHUP reloads either way).
    #[arg(
        long = "web.enable-lifecycle",
        env = "INTUNE_EXPORTER_WEB_ENABLE_LIFECYCLE"
    )]
    pub enable_lifecycle: bool,

    /// Most connections open at once; further ones take the place of idle ones or wait.
    #[arg(
        long = "web.max-connections",
        env = "INTUNE_EXPORTER_WEB_MAX_CONNECTIONS",
        default_value_t = 512,
        value_parser = clap::value_parser!(u32).range(1..),
        value_name = "N"
    )]
    pub max_connections: u32,

    /// Path under which to expose metrics.
    #[arg(
        long = "web.telemetry-path",
        env = "INTUNE_EXPORTER_WEB_TELEMETRY_PATH",
        default_value = "/metrics",
        value_name = "PATH"
    )]
    pub telemetry_path: String,

    /// Configuration file (YAML).
    #[arg(
        long = "config.file",
        env = "INTUNE_EXPORTER_CONFIG_FILE",
        value_name = "FILE"
    )]
    pub config_file: Option<PathBuf>,

    /// Validate the configuration file, print every problem, and exit (0 valid, 2 invalid).
    #[arg(long = "config.check", env = "INTUNE_EXPORTER_CONFIG_CHECK")]
    pub config_check: bool,

    /// Only log messages with this severity or above.
    #[arg(
        long = "log.level",
        env = "INTUNE_EXPORTER_LOG_LEVEL",
        value_enum,
        default_value_t = LogLevel::Info
    )]
    pub log_level: LogLevel,

    /// Log line format.
    #[arg(
        long = "log.format",
        env = "INTUNE_EXPORTER_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Logfmt
    )]
    pub log_format: LogFormat,

    /// Run against a built-in simulated tenant ("Contoso"); needs no configuration.
    #[arg(
        long = "demo",
        env = "INTUNE_EXPORTER_DEMO",
        conflicts_with = "config_file"
    )]
    pub demo: bool,

    /// Replicas that share the fleet: each polls the tenants whose
    /// fnv1a32(lowercase tenant_id) mod count is its index.
    #[arg(
        long = "sharding.count",
        env = "INTUNE_EXPORTER_SHARDING_COUNT",
        default_value_t = 1,
        value_name = "N"
    )]
    pub sharding_count: u32,

    /// This replica's shard, from 0 to --sharding.count - 1.
    #[arg(
        long = "sharding.index",
        env = "INTUNE_EXPORTER_SHARDING_INDEX",
        default_value_t = 0,
        value_name = "I",
        conflicts_with = "sharding_from_hostname"
    )]
    pub sharding_index: u32,

    /// Take the shard index from the host name's trailing -<ordinal> (a StatefulSet pod).
    #[arg(
        long = "sharding.from-hostname",
        env = "INTUNE_EXPORTER_SHARDING_FROM_HOSTNAME"
    )]
    pub sharding_from_hostname: bool,

    /// A subcommand instead of running the exporter.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a simulated Microsoft Graph and login endpoint over HTTPS from a scenario file.
    ///
    /// The scenario format (tenants, credentials, Graph resources, scripted faults, generated
    /// fleets) is documented in docs/simulator-scenario.md; deploy/demo/scenario.yaml is a
    /// complete example.
    Simulate {
        /// Scenario file (YAML), e.g. deploy/demo/scenario.yaml; format: docs/simulator-scenario.md.
        #[arg(long, value_name = "FILE")]
        scenario: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:10469", value_name = "ADDRESS")]
        listen: SocketAddr,
        /// Write the simulator's CA certificate (PEM) here, for `graph.ca_file`.
        #[arg(long = "ca-out", value_name = "FILE")]
        ca_out: Option<PathBuf>,
    },
}

/// Log severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    /// Everything, including each Graph retry.
    Debug,
    /// Start-up, shutdown, and each failed poll.
    Info,
    /// Failures only.
    Warn,
    /// Errors only.
    Error,
}

/// Log line formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `key=value` pairs, as Prometheus and its exporters log.
    Logfmt,
    /// One JSON object per line.
    Json,
}
