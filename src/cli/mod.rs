//! The command line: `mlwatch run | check | baseline build`.
//!
//! Exit codes: 0 success; 1 a check failed (`check` found problems); 2 usage or
//! configuration errors.

mod baseline;
mod check;
mod logging;
mod run;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "mlwatch", version, about = "ML reliability monitoring: drift, data and SLO checks exported to Prometheus, with alerting")]
pub struct Cli {
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (tracing's EnvFilter syntax); RUST_LOG also works.
    #[arg(long, global = true, env = "MLWATCH_LOG", default_value = "info")]
    pub log_level: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the agent: evaluate rules on their schedules, export /metrics, send alerts.
    Run(RunArgs),
    /// Validate the config, its rule files, templates and baselines; report every error.
    Check(ConfigArg),
    /// Baseline profiles.
    #[command(subcommand)]
    Baseline(BaselineCommand),
}

#[derive(Debug, Args)]
pub struct ConfigArg {
    /// The agent's configuration file.
    #[arg(long, short, default_value = "mlwatch.yaml")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Listen address, overriding `server.listen` (port 0 picks a free port).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Build a profile from reference data (Parquet, CSV or JSON lines).
    Build(BaselineBuildArgs),
}

#[derive(Debug, Args)]
pub struct BaselineBuildArgs {
    /// Reference data: files or globs (quote globs so the shell leaves them alone).
    #[arg(long, required = true, num_args = 1..)]
    pub source: Vec<String>,
    /// Where to write the profile (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Columns to profile, comma-separated; default every numeric column.
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Equal-frequency PSI bins.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(2..=1000))]
    pub bins: u16,
    /// Most raw values kept per column for KS.
    #[arg(long, default_value_t = 100_000)]
    pub sample: usize,
    /// Seed of that sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Parse arguments and run the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format, &cli.log_level);
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::check(&args.config),
        Command::Baseline(BaselineCommand::Build(args)) => baseline::build(args),
    }
}
