//! Blocking work (reading a source, the statistics) under a deadline. Work
//! past its deadline cannot be stopped (a read on a hung mount sits in the
//! kernel), so it is left to finish while the caller goes on, and no other
//! work starts until it has: stuck threads never pile up.

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::util::clock::Clock;

/// Runs one piece of blocking work at a time, each with a deadline.
pub struct Bounded<T> {
    /// Work that overran, with when it started.
    overrun: Option<(JoinHandle<T>, DateTime<Utc>)>,
}

/// What became of a call to [`Bounded::run`].
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    /// The work panicked; the message says how.
    Panicked(String),
    /// The work started at `since` has not returned by its deadline (this
    /// call's, or an earlier one's: then this call started nothing).
    Overran { since: DateTime<Utc> },
    /// Shutdown was requested while waiting.
    Cancelled,
}

impl<T: Send + 'static> Default for Bounded<T> {
    fn default() -> Self {
        Bounded { overrun: None }
    }
}

impl<T: Send + 'static> Bounded<T> {
    /// Run `work` on a blocking thread and wait for it at most `timeout`,
    /// unless earlier work is still running past its deadline.
    pub async fn run(
        &mut self,
        clock: Clock,
        timeout: std::time::Duration,
        token: &CancellationToken,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Outcome<T> {
        if let Some((handle, since)) = &self.overrun {
            if !handle.is_finished() {
                return Outcome::Overran { since: *since };
            }
            // Its result is stale: this run starts afresh.
            self.overrun = None;
        }
        let started = clock.now();
        let deadline = started + chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::MAX);
        let mut handle = tokio::task::spawn_blocking(work);
        tokio::select! {
            r = &mut handle => match r {
                Ok(v) => Outcome::Done(v),
                Err(e) => Outcome::Panicked(e.to_string()),
            },
            _ = clock.sleep_until(deadline) => {
                self.overrun = Some((handle, started));
                Outcome::Overran { since: started }
            }
            _ = token.cancelled() => Outcome::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn stuck_work_overruns_and_blocks_the_next_until_it_returns() {
        let origin = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z").unwrap().to_utc();
        let clock = Clock::tokio_from(origin);
        let token = CancellationToken::new();
        let mut bounded = Bounded::default();
        assert!(matches!(bounded.run(clock, Duration::from_secs(60), &token, || 1).await, Outcome::Done(1)));

        // Work that blocks until the test lets it go, as a read on a hung mount.
        let (release, wait) = mpsc::channel::<()>();
        let run = tokio::spawn(async move {
            let first = bounded.run(clock, Duration::from_secs(60), &token, move || wait.recv().map(|_| 2).unwrap_or(0)).await;
            (bounded, token, first)
        });
        // A blocking task keeps paused time from advancing by itself.
        while !run.is_finished() {
            tokio::time::advance(Duration::from_secs(10)).await;
            tokio::task::yield_now().await;
        }
        let (mut bounded, token, first) = run.await.unwrap();
        let Outcome::Overran { since } = first else { panic!("expected an overrun, got {first:?}") };
        assert!(since >= origin && clock.now() >= since + chrono::Duration::seconds(60));

        // Still stuck: the next run starts nothing and reports the same start.
        let started_again = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = started_again.clone();
        let second = bounded.run(clock, Duration::from_secs(60), &token, move || {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            4
        }).await;
        assert!(matches!(second, Outcome::Overran { since: s } if s == since));
        assert!(!started_again.load(std::sync::atomic::Ordering::SeqCst));

        // Once it returns, work runs again.
        release.send(()).unwrap();
        while !bounded.overrun.as_ref().is_some_and(|(h, _)| h.is_finished()) {
            tokio::task::yield_now().await;
            std::thread::yield_now();
        }
        assert!(matches!(bounded.run(clock, Duration::from_secs(60), &token, || 3).await, Outcome::Done(3)));
    }

    #[tokio::test]
    async fn a_panic_is_reported_not_propagated() {
        let mut bounded = Bounded::<()>::default();
        let out = bounded.run(Clock::System, Duration::from_secs(3600), &CancellationToken::new(), || panic!("boom")).await;
        assert!(matches!(out, Outcome::Panicked(m) if m.contains("panicked")));
    }
}
