//! Log set-up: logfmt or JSON lines on stderr at the chosen level.

use crate::cli::{LogFormat, LogLevel};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Installs the global subscriber. Dependencies log at `warn` and above unless `RUST_LOG`
/// says otherwise, so `--log.level=debug` shows the exporter's own detail, not every TLS record.
pub fn init(level: LogLevel, format: LogFormat) {
    let level = match level {
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Error => LevelFilter::ERROR,
    };
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::WARN.into())
        .from_env_lossy()
        .add_directive(
            format!("intune_exporter={level}")
                .parse()
                .unwrap_or_else(|_| LevelFilter::INFO.into()),
        );
    let layer = match format {
        LogFormat::Logfmt => tracing_logfmt::builder()
            .layer()
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    // A second init (in tests) keeps the first subscriber; that is fine.
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}
