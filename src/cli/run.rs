//! `mlwatch run`: the agent.

use std::process::ExitCode;
use std::time::Duration;

use super::RunArgs;
use crate::agent::{self, RunOptions};
use crate::config;

pub fn run(args: RunArgs) -> ExitCode {
    let config = match config::load(&args.config.config) {
        Ok(c) => c,
        Err(d) => {
            eprintln!("{d}");
            eprintln!("mlwatch: configuration is invalid; not starting");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let result = runtime.block_on(agent::run(config, RunOptions { listen: args.listen, shard: args.shard, ..RunOptions::default() }, agent::signals::shutdown_requested()));
    // Blocking evaluations still running after the grace period are abandoned.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("mlwatch: {e:#}");
            ExitCode::from(2)
        }
    }
}
