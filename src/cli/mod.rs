//! The command line: `mlwatch run | check | test | eval | backtest | report | baseline | drift | silence`.
//!
//! Exit codes: 0 success; 1 a check failed (`check` found problems); 2 usage or
//! configuration errors.

mod backtest;
mod baseline;
mod check;
mod data;
mod drift;
mod eval;
mod logging;
mod report;
mod run;
mod silence;
mod test;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::baseline::Binning;
use crate::checks::DriftMethod;

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
    /// Validate the config, its rule files, templates and baselines; report
    /// every error, and warn about rules that will likely disappoint.
    Check(CheckArgs),
    /// Evaluate the rules once, now or at a time, against the real sources:
    /// every value, the condition and the alert state it would lead to.
    /// Sends nothing and changes no state.
    Eval(EvalArgs),
    /// Replay the rules over past data in simulated time: the alerts and
    /// notifications they would have produced. Sends nothing.
    Backtest(BacktestArgs),
    /// The pictures of a period (distributions, values over time, firing
    /// periods) in one self-contained HTML file, from the agent's history or
    /// a backtest.
    Report(ReportArgs),
    /// Baseline profiles.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Compare two datasets (or a profile and a dataset) column by column.
    Drift(DriftArgs),
    /// Silences of a running agent.
    #[command(subcommand)]
    Silence(SilenceCommand),
    /// Run rule unit tests (promtool-style files: input data, expected alerts
    /// and values) in simulated time. Exits 1 when a test fails.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Check these instead of --config: configs, or rule unit-test files.
    pub files: Vec<PathBuf>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Only this group.
    #[arg(long)]
    pub group: Option<String>,
    /// Only this rule.
    #[arg(long)]
    pub rule: Option<String>,
    /// Only this tenant's series.
    #[arg(long)]
    pub tenant: Option<String>,
    /// When: RFC 3339 time or UTC date; default now.
    #[arg(long)]
    pub at: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Start of the period: RFC 3339 time or UTC date; default a day before --to.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the period; default now.
    #[arg(long)]
    pub to: Option<String>,
    /// Only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only these rules (repeatable).
    #[arg(long)]
    pub rule: Vec<String>,
    /// Replay the period first (as `mlwatch backtest`) and report the replay,
    /// not the agent's history: review a rule change before it ships.
    #[arg(long)]
    pub backtest: bool,
    /// Where to write it.
    #[arg(long, default_value = "report.html")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Html,
    Json,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rule unit-test files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Run only the tests whose name matches this regular expression.
    #[arg(long)]
    pub run: Option<String>,
}

/// How to reach a running agent.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The agent's base URL.
    #[arg(long, env = "MLWATCH_URL", default_value = "http://127.0.0.1:9464")]
    pub url: String,
    /// File holding the bearer token (`server.bearer_token_file` of the agent).
    #[arg(long, env = "MLWATCH_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SilenceCommand {
    /// Silence alerts matching every matcher, e.g. `tenant=acme 'alertname=~".*Drift"'`.
    Add {
        #[command(flatten)]
        agent: AgentArgs,
        /// Matchers: `name=value`, `name!=value`, `name=~regex`, `name!~regex`.
        #[arg(required = true)]
        matchers: Vec<String>,
        /// How long from now (humantime: 2h, 30m, 1d).
        #[arg(long, default_value = "1h")]
        duration: String,
        /// Who silences (default: $USER).
        #[arg(long, env = "USER", default_value = "mlwatch")]
        author: String,
        /// Why.
        #[arg(long)]
        comment: String,
    },
    /// List silences (active, pending, and recently expired).
    List {
        #[command(flatten)]
        agent: AgentArgs,
    },
    /// Expire silences now.
    Expire {
        #[command(flatten)]
        agent: AgentArgs,
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct ConfigArg {
    /// The agent's configuration file.
    #[arg(long, short, default_value = "mlwatch.yaml")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Start of the replay: RFC 3339 time or UTC date (2026-11-01).
    #[arg(long)]
    pub from: String,
    /// End of the replay (inclusive).
    #[arg(long)]
    pub to: String,
    /// Evaluate every group at this step (humantime, e.g. 15m) instead of on its schedule.
    #[arg(long)]
    pub step: Option<String>,
    /// Replay without the silences kept in the agent's state file.
    #[arg(long)]
    pub ignore_silences: bool,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Listen address, overriding `server.listen` (port 0 picks a free port).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// This agent's shard as index/count (`2/4`: the third of four), overriding
    /// `sharding:`: it evaluates and exports only the tenants it owns.
    #[arg(long, env = "MLWATCH_SHARD", value_name = "I/N")]
    pub shard: Option<crate::shard::Shard>,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Build a profile from reference data (Parquet, CSV or JSON lines).
    Build(BaselineBuildArgs),
    /// Print a readable summary of a profile file, or of a baseline the agent keeps.
    Show(BaselineShowArgs),
    /// List the baselines the agent built, learned or had pinned (`reference`, `learn`).
    List(ConfigArg),
    /// Declare a period healthy: profile it as the baseline of a rule (and tenant).
    Pin(BaselinePinArgs),
    /// Forget a stored baseline; a `learn` baseline starts learning again.
    Forget(StoredBaselineArg),
}

#[derive(Debug, Args)]
pub struct BaselineShowArgs {
    /// A profile file (JSON).
    #[arg(required_unless_present = "rule")]
    pub profile: Option<PathBuf>,
    /// Instead: the stored baseline of this rule.
    #[arg(long, conflicts_with = "profile")]
    pub rule: Option<String>,
    /// The tenant, for a per-tenant rule.
    #[arg(long, requires = "rule")]
    pub tenant: Option<String>,
    #[command(flatten)]
    pub config: ConfigArg,
}

/// Which stored baseline: a rule with a `reference` or `learn` baseline, and a tenant.
#[derive(Debug, Args)]
pub struct StoredBaselineArg {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The rule (it must have a `reference` or `learn` baseline).
    #[arg(long)]
    pub rule: String,
    /// The tenant, for a per-tenant rule.
    #[arg(long)]
    pub tenant: Option<String>,
}

#[derive(Debug, Args)]
pub struct BaselinePinArgs {
    #[command(flatten)]
    pub which: StoredBaselineArg,
    /// Start of the healthy period: RFC 3339 time or UTC date.
    #[arg(long)]
    pub from: String,
    /// End of the healthy period.
    #[arg(long)]
    pub to: String,
}



/// How a profile is built from data.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Columns, comma-separated; default every numeric, string and boolean column.
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// PSI bins for numeric columns.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(2..=1000))]
    pub bins: u16,
    /// How numeric bins are fitted: baseline quantiles or equal width.
    #[arg(long, value_enum, default_value_t = Binning::Quantile)]
    pub binning: Binning,
}

#[derive(Debug, Args)]
pub struct BaselineBuildArgs {
    /// Reference data: files or globs (quote globs so the shell leaves them alone).
    #[arg(long, required = true, num_args = 1..)]
    pub source: Vec<String>,
    /// Where to write the profile (JSON).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Most raw values kept per numeric column for KS and Wasserstein.
    #[arg(long, default_value_t = 100_000)]
    pub sample: usize,
    /// Seed of that sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Baseline: a data file (Parquet, CSV, JSON lines) or a profile built by `baseline build`.
    pub baseline: PathBuf,
    /// Current data file.
    pub current: PathBuf,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Methods (repeatable): auto, psi, ks, chi2, js, wasserstein.
    #[arg(long, value_enum, default_values_t = [DriftMethod::Auto])]
    pub method: Vec<DriftMethod>,
    /// Drift when a p-value is below it (ks, chi2) or a statistic above it
    /// (psi, js, wasserstein). Default per method: 0.05, 0.05, 0.2, 0.1, 0.1.
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Adjust p-values across columns.
    #[arg(long, value_enum, default_value_t = CorrectionArg::None)]
    pub correction: CorrectionArg,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CorrectionArg {
    None,
    Bonferroni,
    #[value(name = "bh", alias = "benjamini-hochberg")]
    BenjaminiHochberg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

/// Parse arguments and run the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format, &cli.log_level);
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::check(&args),
        Command::Eval(args) => eval::eval(args),
        Command::Backtest(args) => backtest::backtest(args),
        Command::Report(args) => report::report(args),
        Command::Baseline(BaselineCommand::Build(args)) => baseline::build(args),
        Command::Baseline(BaselineCommand::Show(args)) => baseline::show(&args),
        Command::Baseline(BaselineCommand::List(args)) => baseline::list(&args),
        Command::Baseline(BaselineCommand::Pin(args)) => baseline::pin(&args),
        Command::Baseline(BaselineCommand::Forget(args)) => baseline::forget(&args),
        Command::Drift(args) => drift::drift(args),
        Command::Silence(cmd) => silence::silence(cmd),
        Command::Test(args) => test::test(args),
    }
}
