//! mlwatch: an ML reliability monitoring agent.
//!
//! # Layout
//! - [`sources`]: where samples come from. Table sources (`file`) yield polars
//!   DataFrames for a time window, one per tenant when asked, reading only the
//!   date partitions the window can touch; the `log` source follows serving
//!   logs and counts their lines into [`events`] buckets as it reads.
//! - [`events`]: events counted per SLI, series and time bucket (running
//!   totals, latency histograms), never kept raw.
//! - [`stats`]: pure statistics (PSI, KS, quantiles); no I/O.
//! - [`baseline`]: the healthy state checks compare against, per tenant:
//!   profile files, or baselines built from the source itself (`reference`,
//!   `learn`) and kept in the state.
//! - [`checks`]: what a rule computes over a window and a baseline, as labelled
//!   series of named values; every kind follows one contract
//!   (`checks::contract`) that declares its labels and values.
//! - [`labels`]: the one label-set type, from a check's series to a notification.
//! - [`rules`]: rule files (parse, validate), `when` conditions, annotation
//!   templates, schedules, known tenants, alert state, and the evaluation of
//!   one group (`rules::eval`, `rules::advance`), shared by the agent and
//!   [`backtest`], which replays them over past data in simulated time.
//! - [`alerting`]: Alertmanager-style routing, grouping, silences and
//!   inhibition; receivers (Slack, e-mail, webhook, Alertmanager, stdout);
//!   durable delivery from the outbox.
//! - [`metrics`]: every exported metric, defined once.
//! - [`state`]: the durable state (SQLite): alert states, check history.
//! - [`server`]: HTTP (`/metrics`, health, reload, the JSON API).
//! - [`config`]: `mlwatch.yaml`, loading and positioned diagnostics.
//! - [`agent`]: wires it all, reloads, and runs until shut down; [`cli`]: the commands.
//!
//! # One evaluation, from sample to notification
//! 1. A group's task wakes on its schedule (`agent::group_task`).
//! 2. Its source reads only the columns the group's rules need, keeps the rows
//!    in the window, and splits them by tenant (`sources`); known tenants
//!    without rows are kept, as "no data" (`rows = 0`). A log source instead
//!    reads the lines appended since the last evaluation into its buckets.
//! 3. Each rule's check runs on each tenant's rows against that tenant's
//!    baseline and yields series such as `psi{column="age", tenant="acme"} = 0.31`
//!    (`checks`). Time is an input: every step reads one injected clock
//!    (`util::clock`), so tests and backtests run on simulated time.
//! 4. The rule's `when` condition is evaluated per series (`rules::eval`).
//! 5. Every value is set on its gauge; series that went away are removed (`metrics`).
//! 6. The alert state machine advances pending → firing → resolved with `for`
//!    (`rules::alert`).
//! 7. Alert states and values (and a log source's offsets and changed
//!    buckets) are written to the state file in one transaction (`state`); then the alerts go to the dispatcher, which groups
//!    them by route and, when a group is due, writes what each integration is
//!    to be told to the outbox; delivery workers send it with retries
//!    (`alerting::dispatch`, `alerting::delivery`).

pub mod agent;
pub mod backtest;
pub mod alerting;
pub mod baseline;
pub mod checks;
pub mod cli;
pub mod config;
#[cfg(test)]
mod docs_reference;
pub mod events;
pub mod labels;
pub mod metrics;
pub mod rules;
pub mod ruletest;
pub mod server;
pub mod shard;
pub mod sources;
pub mod state;
pub mod stats;
pub mod util;
pub mod web;
