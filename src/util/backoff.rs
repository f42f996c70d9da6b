//! Exponential backoff with full jitter, for retrying deliveries.

use std::time::Duration;

use rand::Rng;

/// Delays that double from `initial` up to `max`, each drawn uniformly from
/// [delay/2, delay] so that many retrying senders do not move in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff { next: initial, max }
    }

    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        let lo = d / 2;
        lo + d.mul_f64(rand::rng().random_range(0.0..=0.5))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(400));
        let d: Vec<Duration> = (0..5).map(|_| b.next_delay()).collect();
        assert!(d[0] >= Duration::from_millis(50) && d[0] <= Duration::from_millis(100));
        assert!(d[1] >= Duration::from_millis(100) && d[1] <= Duration::from_millis(200));
        assert!(d.iter().all(|x| *x <= Duration::from_millis(400)));
    }
}
