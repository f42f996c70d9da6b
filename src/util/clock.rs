//! The one clock of the agent. Everything that needs the time (schedules,
//! windows, `for`, grouping, silences, delivery) asks a [`Clock`] instead of
//! the system, so tests run on tokio's paused time and nothing waits for real.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

/// Wall-clock time, real or simulated.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// The system's clock.
    System,
    /// `origin` plus the time tokio's clock has advanced since `base`: under
    /// `tokio::time::pause()` this moves only when the runtime is idle or a
    /// test advances it.
    Tokio { origin: DateTime<Utc>, base: tokio::time::Instant },
}

impl Clock {
    /// A clock that reads `origin` now and follows tokio's (pausable) clock.
    pub fn tokio_from(origin: DateTime<Utc>) -> Clock {
        Clock::Tokio { origin, base: tokio::time::Instant::now() }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Tokio { origin, base } => *origin + base.elapsed(),
        }
    }

    /// Now, to the millisecond: what the state file keeps, so a restored
    /// alert equals the one stored.
    pub fn now_ms(&self) -> DateTime<Utc> {
        self.now().trunc_subsecs(3)
    }

    /// Sleep until `at` by this clock (at once when it has passed).
    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        tokio::time::sleep(self.until(at)).await
    }

    /// How long from now until `at` (zero when it has passed).
    pub fn until(&self, at: DateTime<Utc>) -> Duration {
        (at - self.now()).to_std().unwrap_or_default()
    }
}
