//! The `intune-exporter` binary: parse flags, set up logging, run until SIGTERM or Ctrl-C, and
//! map failures to exit codes (2 for configuration and usage errors, 1 for the rest).

use clap::Parser;
use intune_exporter::app::App;
use intune_exporter::cli::{Cli, Command};
use intune_exporter::config::{self, Config};
use intune_exporter::fleet::shard::ShardError;
use intune_exporter::fleet::Shard;
use intune_exporter::simulator::{Scenario, Simulator};
use intune_exporter::{app, demo, logging};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
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
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            tracing::error!(error = %err, "cannot start the async runtime");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    runtime.block_on(async_main(cli))
}

fn config_check(cli: &Cli) -> ExitCode {
    let Some(path) = &cli.config_file else {
        eprintln!("--config.check needs --config.file");
        return ExitCode::from(EXIT_CONFIG);
    };
    match Config::load(path) {
        Ok(c) => {
            println!("{}: valid ({} tenant(s))", path.display(), c.tenants.len());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

async fn async_main(cli: Cli) -> ExitCode {
    let shutdown = CancellationToken::new();
    tokio::spawn(signal_shutdown(shutdown.clone()));

    if let Some(Command::Simulate {
        scenario,
        listen,
        ca_out,
    }) = &cli.command
    {
        return simulate(scenario, *listen, ca_out.as_deref(), shutdown).await;
    }
    if cli.demo {
        return run_demo(&cli, shutdown).await;
    }
    let Some(path) = &cli.config_file else {
        // A container with the Azure SDK's standard variables needs no config file.
        return match Config::from_azure_env(&config::process_env) {
            Some(Ok(config)) => {
                tracing::info!(
                    tenant_id = %config.tenants.first().map_or("", |t| t.tenant_id.as_str()),
                    "no --config.file: reading the tenant named by AZURE_TENANT_ID and AZURE_CLIENT_ID"
                );
                run(config, &cli, shutdown).await
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
        Ok(config) => run(config, &cli, shutdown).await,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

async fn run_demo(cli: &Cli, shutdown: CancellationToken) -> ExitCode {
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
    let code = run(config, cli, shutdown).await;
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

async fn run(config: Config, cli: &Cli, shutdown: CancellationToken) -> ExitCode {
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
    let listener = match app::bind(&cli.listen_address).await {
        Ok(l) => l,
        Err(err) => {
            tracing::error!(error = %err, "cannot listen");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let address = listener
        .local_addr()
        .map_or_else(|_| cli.listen_address.clone(), |a| a.to_string());
    tracing::info!(
        address = %address,
        telemetry_path = %cli.telemetry_path,
        tenants = config.tenants.len(),
        tenant_files = config.tenant_files.len(),
        discovery = config.discovery.is_some(),
        shard = %shard,
        version = env!("CARGO_PKG_VERSION"),
        "listening"
    );
    app.run(listener, shutdown).await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
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
