//! The `intune-exporter` binary: parse flags, check them and the files they name, set up
//! logging, run until SIGTERM or Ctrl-C, reload on SIGHUP or `POST /-/reload`.
//!
//! Every failure that ends the process is a [`Fatal`], reported once, in [`main`], with the
//! exit code of its class: 2 for configuration and usage errors, 1 for the rest.

use clap::Parser;
use intune_exporter::app::App;
use intune_exporter::cli::{Cli, Command};
use intune_exporter::config::{self, Config};
use intune_exporter::fleet::Shard;
use intune_exporter::reload::{self, ReloadHandle, ReloadMetrics, ReloadRequest};
use intune_exporter::web::{self, ListenAddress, ListenError, WebConfigFile};
use intune_exporter::{demo, logging};
use intune_graph_simulator::{Scenario, Simulator};
use std::fmt::Display;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match try_main(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(fatal) => fatal.report(),
    }
}

/// Everything an operator can get wrong (flags, the config, the web config, the scenario) is
/// checked before logging is set up, so that a mistake is one plain line on stderr; what
/// fails after that is logged.
fn try_main(cli: &Cli) -> Result<(), Fatal> {
    // One TLS crypto provider for every client and server in the process, the web config's
    // TLS settings (built while it is checked) included.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    if cli.config_check {
        return config_check(cli);
    }
    let listen = Listen::from_flags(cli).map_err(Fatal::usage)?;
    let web = WebConfigFile::load(cli.web_config_file.as_deref()).map_err(Fatal::config)?;
    let start = Start::from_flags(cli)?;

    logging::init(cli.log_level, cli.log_format);
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Fatal::failure("cannot start the async runtime", e))?;
    let result = runtime.block_on(async_main(cli, start, listen, Arc::new(web)));
    // Dropping the runtime would wait for every blocking task; one that does not end (a file
    // system that hangs) must not keep a stopped exporter alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

/// A failure that ends the process.
struct Fatal {
    /// Decides the exit code.
    class: Class,
    /// What failed: the log message once logging is set up.
    what: &'static str,
    /// Why, naming the flag or file at fault: the line printed before logging is set up, the
    /// `error` field after.
    error: String,
    /// The file concerned, when `error` does not name it.
    path: Option<PathBuf>,
}

/// The failure classes the README documents an exit code for.
#[derive(Clone, Copy)]
enum Class {
    /// Flags that cannot work together, or a malformed one.
    Usage,
    /// A configuration (file, web config, scenario, Azure variables) that does not validate.
    Config,
    /// Anything else: the host refused something, or a part could not start.
    Failure,
}

impl Class {
    fn exit_code(self) -> u8 {
        match self {
            Class::Usage | Class::Config => 2,
            Class::Failure => 1,
        }
    }
}

impl Fatal {
    fn new(class: Class, what: &'static str, error: impl Display) -> Fatal {
        Fatal {
            class,
            what,
            error: error.to_string(),
            path: None,
        }
    }

    fn usage(error: impl Display) -> Fatal {
        Fatal::new(Class::Usage, "invalid flags", error)
    }

    fn config(error: impl Display) -> Fatal {
        Fatal::new(Class::Config, "invalid configuration", error)
    }

    fn failure(what: &'static str, error: impl Display) -> Fatal {
        Fatal::new(Class::Failure, what, error)
    }

    fn at(self, path: &Path) -> Fatal {
        Fatal {
            path: Some(path.to_path_buf()),
            ..self
        }
    }

    /// The one place a failure is shown: on stderr before logging is set up, as one error
    /// log line after (never both). Gives the exit code of its class.
    fn report(self) -> ExitCode {
        if tracing::dispatcher::has_been_set() {
            let path = self.path.as_deref().map(|p| p.display().to_string());
            tracing::error!(error = %self.error, path, "{}", self.what);
        } else if let Some(path) = &self.path {
            eprintln!("{}: {}", path.display(), self.error);
        } else {
            eprintln!("{}", self.error);
        }
        ExitCode::from(self.class.exit_code())
    }
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

/// `--config.check`: lists the valid files on stdout; every problem of every file (config,
/// its tenant files, web config) is the one failure.
fn config_check(cli: &Cli) -> Result<(), Fatal> {
    let Some(path) = &cli.config_file else {
        return Err(Fatal::usage("--config.check needs --config.file"));
    };
    let mut problems = Vec::new();
    match Config::load(path) {
        Ok(c) => {
            println!("{}: valid ({} tenant(s))", path.display(), c.tenants.len());
            // The tenant files the patterns name now are checked too: a typo there would
            // otherwise only show up in the running exporter's log.
            for pattern in &c.tenant_files {
                let files = match config::expand_pattern(pattern) {
                    Ok(files) => files,
                    Err(err) => {
                        problems.push(format!("{}: {err}", pattern.display()));
                        continue;
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
                        Err(err) => problems.push(err.to_string()),
                    }
                }
            }
        }
        Err(err) => problems.push(err.to_string()),
    }
    if let Some(web_path) = &cli.web_config_file {
        match WebConfigFile::load(Some(web_path)) {
            Ok(_) => println!("{}: valid", web_path.display()),
            Err(err) => problems.push(err.to_string()),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Fatal::config(problems.join("\n")))
    }
}

/// What the process runs, with the files it needs read and validated.
enum Start {
    /// `simulate`: the Graph simulator alone.
    Simulate {
        scenario: Scenario,
        listen: SocketAddr,
        ca_out: Option<PathBuf>,
    },
    /// `--demo`: the exporter against the built-in simulator.
    Demo { shard: Shard },
    /// The exporter, configured by `--config.file` or by the Azure SDK's variables.
    Export {
        /// Boxed: a config is large beside the other variants.
        config: Box<Config>,
        shard: Shard,
        from_azure_env: bool,
    },
}

impl Start {
    fn from_flags(cli: &Cli) -> Result<Start, Fatal> {
        if let Some(Command::Simulate {
            scenario,
            listen,
            ca_out,
        }) = &cli.command
        {
            return Ok(Start::Simulate {
                scenario: Scenario::load(scenario).map_err(Fatal::config)?,
                listen: *listen,
                ca_out: ca_out.clone(),
            });
        }
        if cli.demo {
            return Ok(Start::Demo { shard: shard(cli)? });
        }
        let (config, from_azure_env) = match &cli.config_file {
            Some(path) => (Config::load(path).map_err(Fatal::config)?, false),
            // A container with the Azure SDK's standard variables needs no config file.
            None => match Config::from_azure_env(&config::process_env) {
                Some(config) => (config.map_err(Fatal::config)?, true),
                None => {
                    return Err(Fatal::config(format!(
                        "intune-exporter: {}",
                        config::no_tenants_message()
                    )))
                }
            },
        };
        Ok(Start::Export {
            config: Box::new(config),
            shard: shard(cli)?,
            from_azure_env,
        })
    }
}

/// This replica's shard, from the sharding flags.
fn shard(cli: &Cli) -> Result<Shard, Fatal> {
    let index = if cli.sharding_from_hostname {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .unwrap_or_default();
        Shard::ordinal_from_hostname(&host)
    } else {
        Ok(cli.sharding_index)
    };
    index
        .and_then(|index| Shard::new(index, cli.sharding_count))
        .map_err(|err| Fatal::usage(format!("intune-exporter: {err}")))
}

async fn async_main(
    cli: &Cli,
    start: Start,
    listen: Listen,
    web: Arc<WebConfigFile>,
) -> Result<(), Fatal> {
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
    match start {
        Start::Simulate {
            scenario,
            listen,
            ca_out,
        } => simulate(scenario, listen, ca_out.as_deref(), shutdown).await,
        Start::Demo { shard } => run_demo(cli, shard, serving, shutdown).await,
        Start::Export {
            config,
            shard,
            from_azure_env,
        } => {
            if from_azure_env {
                tracing::info!(
                    tenant_id = %config.tenants.first().map_or("", |t| t.tenant_id.as_str()),
                    "no --config.file: reading the tenant named by AZURE_TENANT_ID and AZURE_CLIENT_ID"
                );
            }
            run(*config, cli, shard, serving, shutdown).await
        }
    }
}

async fn run_demo(
    cli: &Cli,
    shard: Shard,
    serving: Serving,
    shutdown: CancellationToken,
) -> Result<(), Fatal> {
    let (scenario, certificate) =
        demo::prepare().map_err(|e| Fatal::failure("cannot prepare the demo", e))?;
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let simulator = Simulator::start(scenario.clone(), loopback)
        .await
        .map_err(|e| Fatal::failure("cannot start the Graph simulator", e))?;
    tracing::info!(
        graph_url = %simulator.base_url(),
        "demo mode: reading the simulated tenant Contoso from the built-in Graph simulator"
    );
    let result = match demo::config(&simulator, &scenario, &certificate) {
        Ok(config) => run(config, cli, shard, serving, shutdown).await,
        Err(err) => Err(Fatal::failure("the simulator's address is not a URL", err)),
    };
    simulator.shutdown().await;
    result
}

async fn simulate(
    scenario: Scenario,
    listen: SocketAddr,
    ca_out: Option<&Path>,
    shutdown: CancellationToken,
) -> Result<(), Fatal> {
    let simulator = Simulator::start(scenario, listen)
        .await
        .map_err(|e| Fatal::failure("cannot start the Graph simulator", e))?;
    if let Some(path) = ca_out {
        std::fs::write(path, simulator.ca_pem())
            .map_err(|e| Fatal::failure("cannot write the CA certificate", e).at(path))?;
    }
    tracing::info!(
        url = %simulator.base_url(),
        "serving simulated Microsoft Graph and login endpoints; use this URL as graph.graph_url and graph.authority_host"
    );
    shutdown.cancelled().await;
    simulator.shutdown().await;
    Ok(())
}

/// What the server needs besides the config: where to listen, the web config, and the reload
/// requests to answer.
struct Serving {
    listen: Listen,
    web: Arc<WebConfigFile>,
    reloads: ReloadHandle,
    requests: mpsc::Receiver<ReloadRequest>,
}

async fn run(
    config: Config,
    cli: &Cli,
    shard: Shard,
    serving: Serving,
    shutdown: CancellationToken,
) -> Result<(), Fatal> {
    let Serving {
        listen,
        web,
        reloads,
        mut requests,
    } = serving;
    let app = App::build(&config, &cli.telemetry_path, shard)
        .map_err(|e| Fatal::new(Class::Config, "cannot start", e))?;
    let metrics = ReloadMetrics::register(&app.endpoints.registry)
        .map_err(|e| Fatal::failure("cannot register the reload metrics", e))?;
    if cli.enable_lifecycle {
        let _ = app.endpoints.lifecycle.set(reloads);
    }
    let listeners = listen.bind().map_err(|e| {
        let class = if e.is_usage() {
            Class::Usage
        } else {
            Class::Failure
        };
        Fatal::new(class, "cannot listen", e)
    })?;
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
    Ok(())
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
