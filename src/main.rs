//! The `intune-exporter` binary: parse flags, set up logging, run until SIGTERM or Ctrl-C,
//! reload on SIGHUP or `POST /-/reload`, and map failures to exit codes (2 for configuration
//! and usage errors, 1 for the rest).

use clap::Parser;
use intune_exporter::app::App;
use intune_exporter::cli::{Cli, Command};
use intune_exporter::config::{self, Config};
use intune_exporter::fleet::shard::ShardError;
use intune_exporter::fleet::Shard;
use intune_exporter::reload::{self, ReloadHandle, ReloadMetrics, ReloadRequest};
use intune_exporter::web::{self, ListenAddress, ListenError, WebConfigFile};
use intune_exporter::{demo, logging};
use intune_graph_simulator::{Scenario, Simulator};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const EXIT_FAILURE: u8 = 1;
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_level, cli.log_format);
    // One TLS crypto provider for every client and server in the process.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

    if cli.config_check {
        return config_check(&cli);
    }
    let listen = match Listen::from_flags(&cli) {
        Ok(l) => l,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let web = match WebConfigFile::load(cli.web_config_file.as_deref()) {
        Ok(w) => Arc::new(w),
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            tracing::error!(error = %err, "cannot start the async runtime");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let code = runtime.block_on(async_main(cli, listen, web));
    // Dropping the runtime would wait for every blocking task; one that does not end (a file
    // system that hangs) must not keep a stopped exporter alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

/// Where to listen, checked before anything starts: a malformed address is a usage error.
enum Listen {
    /// `--web.listen-address`, each parsed.
    Addresses(Vec<ListenAddress>),
    /// `--web.systemd-socket`: taken from the environment before any thread starts.
    Systemd(Vec<std::net::TcpListener>),
}

impl Listen {
    fn from_flags(cli: &Cli) -> Result<Listen, ListenError> {
        if cli.systemd_socket {
            return web::listen::systemd_sockets().map(Listen::Systemd);
        }
        cli.listen_address
            .iter()
            .map(|a| ListenAddress::parse(a))
            .collect::<Result<_, _>>()
            .map(Listen::Addresses)
    }

    fn bind(self) -> Result<Vec<tokio::net::TcpListener>, ListenError> {
        match self {
            Listen::Systemd(sockets) => web::listen::adopt(sockets),
            Listen::Addresses(addresses) => addresses.iter().map(ListenAddress::bind).collect(),
        }
    }
}

fn config_check(cli: &Cli) -> ExitCode {
    let Some(path) = &cli.config_file else {
        eprintln!("--config.check needs --config.file");
        return ExitCode::from(EXIT_CONFIG);
    };
    let mut code = match Config::load(path) {
        Ok(c) => {
            println!("{}: valid ({} tenant(s))", path.display(), c.tenants.len());
            // The tenant files the patterns name now are checked too: a typo there would
            // otherwise only show up in the running exporter's log.
            for pattern in &c.tenant_files {
                let files = match config::expand_pattern(pattern) {
                    Ok(files) => files,
                    Err(err) => {
                        eprintln!("{}: {err}", pattern.display());
                        return ExitCode::from(EXIT_CONFIG);
                    }
                };
                for file in files {
                    match config::load_tenant_file(
                        &file,
                        c.defaults_auth.as_ref(),
                        &config::process_env,
                    ) {
                        Ok(tenants) => {
                            println!("{}: valid ({} tenant(s))", file.display(), tenants.len());
                        }
                        Err(err) => {
                            eprintln!("{err}");
                            return ExitCode::from(EXIT_CONFIG);
                        }
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(EXIT_CONFIG)
        }
    };
    if let Some(web_path) = &cli.web_config_file {
        match WebConfigFile::load(Some(web_path)) {
            Ok(_) => println!("{}: valid", web_path.display()),
            Err(err) => {
                eprintln!("{err}");
                code = ExitCode::from(EXIT_CONFIG);
            }
        }
    }
    code
}

async fn async_main(cli: Cli, listen: Listen, web: Arc<WebConfigFile>) -> ExitCode {
    let shutdown = CancellationToken::new();
    tokio::spawn(signal_shutdown(shutdown.clone()));
    // SIGHUP's default action ends the process; from here on it asks for a reload instead.
    let (reloads, requests) = reload::channel();
    watch_sighup(reloads.clone());
    let serving = Serving {
        listen,
        web,
        reloads,
        requests,
    };

    if let Some(Command::Simulate {
        scenario,
        listen,
        ca_out,
    }) = &cli.command
    {
        return simulate(scenario, *listen, ca_out.as_deref(), shutdown).await;
    }
    if cli.demo {
        return run_demo(&cli, serving, shutdown).await;
    }
    let Some(path) = &cli.config_file else {
        // A container with the Azure SDK's standard variables needs no config file.
        return match Config::from_azure_env(&config::process_env) {
            Some(Ok(config)) => {
                tracing::info!(
                    tenant_id = %config.tenants.first().map_or("", |t| t.tenant_id.as_str()),
                    "no --config.file: reading the tenant named by AZURE_TENANT_ID and AZURE_CLIENT_ID"
                );
                run(config, &cli, serving, shutdown).await
            }
            Some(Err(err)) => {
                eprintln!("{err}");
                ExitCode::from(EXIT_CONFIG)
            }
            None => {
                eprintln!("intune-exporter: {}", config::no_tenants_message());
                ExitCode::from(EXIT_CONFIG)
            }
        };
    };
    match Config::load(path) {
        Ok(config) => run(config, &cli, serving, shutdown).await,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

async fn run_demo(cli: &Cli, serving: Serving, shutdown: CancellationToken) -> ExitCode {
    let (scenario, certificate) = match demo::prepare() {
        Ok(prepared) => prepared,
        Err(err) => {
            tracing::error!(error = %err, "cannot prepare the demo");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let simulator = match Simulator::start(scenario.clone(), loopback).await {
        Ok(s) => s,
        Err(err) => {
            tracing::error!(error = %err, "cannot start the Graph simulator");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    tracing::info!(
        graph_url = %simulator.base_url(),
        "demo mode: reading the simulated tenant Contoso from the built-in Graph simulator"
    );
    let config = match demo::config(&simulator, &scenario, &certificate) {
        Ok(c) => c,
        Err(err) => {
            tracing::error!(error = %err, "the simulator's address is not a URL");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let code = run(config, cli, serving, shutdown).await;
    simulator.shutdown().await;
    code
}

async fn simulate(
    scenario: &Path,
    listen: SocketAddr,
    ca_out: Option<&Path>,
    shutdown: CancellationToken,
) -> ExitCode {
    let scenario = match Scenario::load(scenario) {
        Ok(s) => s,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let simulator = match Simulator::start(scenario, listen).await {
        Ok(s) => s,
        Err(err) => {
            tracing::error!(error = %err, "cannot start the Graph simulator");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    if let Some(path) = ca_out {
        if let Err(err) = std::fs::write(path, simulator.ca_pem()) {
            tracing::error!(error = %err, path = %path.display(), "cannot write the CA certificate");
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    tracing::info!(
        url = %simulator.base_url(),
        "serving simulated Microsoft Graph and login endpoints; use this URL as graph.graph_url and graph.authority_host"
    );
    shutdown.cancelled().await;
    simulator.shutdown().await;
    ExitCode::SUCCESS
}

/// This replica's shard, from the sharding flags.
fn shard(cli: &Cli) -> Result<Shard, ShardError> {
    let index = if cli.sharding_from_hostname {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .unwrap_or_default();
        Shard::ordinal_from_hostname(&host)?
    } else {
        cli.sharding_index
    };
    Shard::new(index, cli.sharding_count)
}

/// What the server needs besides the config: where to listen, the web config, and the reload
/// requests to answer.
struct Serving {
    listen: Listen,
    web: Arc<WebConfigFile>,
    reloads: ReloadHandle,
    requests: mpsc::Receiver<ReloadRequest>,
}

async fn run(config: Config, cli: &Cli, serving: Serving, shutdown: CancellationToken) -> ExitCode {
    let Serving {
        listen,
        web,
        reloads,
        mut requests,
    } = serving;
    let shard = match shard(cli) {
        Ok(s) => s,
        Err(err) => {
            eprintln!("intune-exporter: {err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let app = match App::build(&config, &cli.telemetry_path, shard) {
        Ok(a) => a,
        Err(err) => {
            tracing::error!(error = %err, "cannot start");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let metrics = match ReloadMetrics::register(&app.endpoints.registry) {
        Ok(m) => m,
        Err(err) => {
            tracing::error!(error = %err, "cannot register the reload metrics");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    if cli.enable_lifecycle {
        let _ = app.endpoints.lifecycle.set(reloads);
    }
    let listeners = match listen.bind() {
        Ok(l) => l,
        Err(err) => {
            tracing::error!(error = %err, "cannot listen");
            let code = if err.is_usage() {
                EXIT_CONFIG
            } else {
                EXIT_FAILURE
            };
            return ExitCode::from(code);
        }
    };
    for listener in &listeners {
        let address = listener
            .local_addr()
            .map_or_else(|_| "unknown".to_string(), |a| a.to_string());
        tracing::info!(
            address = %address,
            telemetry_path = %cli.telemetry_path,
            tls = web.tls(),
            tenants = config.tenants.len(),
            tenant_files = config.tenant_files.len(),
            discovery = config.discovery.is_some(),
            shard = %shard,
            version = env!("CARGO_PKG_VERSION"),
            "listening"
        );
    }
    let limits = web::Limits {
        max_connections: cli.max_connections as usize,
        ..web::Limits::default()
    };
    // Applies a reloaded config to the running pollers: tenants and sources that did not
    // change keep their state and schedule.
    let reloader = app.reloader();
    let running = app.run(listeners, Arc::clone(&web), limits, shutdown);
    tokio::pin!(running);
    let config_file = cli.config_file.clone();
    loop {
        tokio::select! {
            _ = &mut running => break,
            Some(request) = requests.recv() => {
                let outcome = reload_files(config_file.clone(), Arc::clone(&web)).await;
                metrics.record(outcome.is_ok());
                // The web config is already in force; the new tenants and sources go to the
                // supervisor.
                request.answer(outcome.map(|new_config| {
                    if let Some(config) = new_config {
                        reloader.send_replace(Arc::new(config));
                    }
                }));
            }
        }
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// A reload: re-reads and validates the config file (its secret and certificate files with
/// it) and the web config, and puts them in force only if both are valid, so that a refused
/// file leaves everything as it was. Gives the new config, when there is a config file.
async fn reload_files(
    config_file: Option<PathBuf>,
    web: Arc<WebConfigFile>,
) -> Result<Option<Config>, String> {
    let checked = tokio::task::spawn_blocking(move || {
        let config = config_file.as_deref().map(Config::load).transpose();
        let active = web.load_new();
        match (config, active) {
            (Ok(config), Ok(active)) => {
                if let Some(active) = active {
                    web.install(active);
                }
                Ok(config)
            }
            (config, active) => Err([
                config.err().map(|e| e.to_string()),
                active.err().map(|e| e.to_string()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()),
        }
    })
    .await
    .unwrap_or_else(|err| Err(vec![format!("the reload stopped abnormally: {err}")]));
    match checked {
        Ok(config) => {
            tracing::info!("configuration reloaded");
            Ok(config)
        }
        Err(problems) => {
            let problems = problems.join("\n");
            tracing::error!(problems = %problems, "reload refused; the previous configuration stays in force");
            Err(problems)
        }
    }
}

/// Turns each SIGHUP into a reload request.
fn watch_sighup(reloads: ReloadHandle) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::hangup()) {
            Ok(mut hup) => {
                tokio::spawn(async move {
                    while hup.recv().await.is_some() {
                        tracing::info!("SIGHUP received; reloading");
                        // The outcome is logged and counted where the reload runs.
                        let _ = reloads.reload().await;
                    }
                });
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot watch SIGHUP; reload with POST /-/reload")
            }
        }
    }
    #[cfg(not(unix))]
    drop(reloads);
}

async fn signal_shutdown(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received; shutting down"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("interrupt received; shutting down"),
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot watch SIGTERM; only Ctrl-C stops the exporter");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    shutdown.cancel();
}
