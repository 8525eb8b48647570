//! The server's notion of time: the system clock, or — for tests, only when the
//! server is started with `--clock manual` — a clock that stands still until a test
//! advances it. Everything time-driven in DynamoDB's semantics reads this clock: TTL
//! expiry, stream record times, stream trimming, shard rollover, shard-iterator
//! expiry, table creation times and stream labels.

use std::sync::atomic::{AtomicU64, Ordering};

/// Milliseconds since the Unix epoch from the system clock.
pub fn system_now_ms() -> u64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    d.as_millis() as u64
}

/// The engine's clock.
#[derive(Debug)]
pub struct Clock {
    /// `Some(now)` for a manual clock.
    manual: Option<AtomicU64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A manual clock standing at `start_ms` until advanced.
    pub fn manual(start_ms: u64) -> Clock {
        Clock { manual: Some(AtomicU64::new(start_ms)) }
    }

    /// Whether this is a manual clock.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// Now, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        match &self.manual {
            Some(t) => t.load(Ordering::Acquire),
            None => system_now_ms(),
        }
    }

    /// Now, in seconds since the Unix epoch with millisecond precision (DynamoDB's
    /// timestamp members).
    pub fn now_epoch(&self) -> f64 {
        self.now_ms() as f64 / 1000.0
    }

    /// Moves a manual clock forward by `ms` and returns the new time; `None` for the
    /// system clock, which cannot be moved. Time never goes backwards.
    pub fn advance(&self, ms: u64) -> Option<u64> {
        let t = self.manual.as_ref()?;
        let previous = t.fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| Some(now.saturating_add(ms)));
        Some(previous.unwrap_or_else(|now| now).saturating_add(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_stands_still_until_advanced() {
        let c = Clock::manual(1_000);
        assert!(c.is_manual());
        assert_eq!(c.now_ms(), 1_000);
        assert_eq!(c.advance(500), Some(1_500));
        assert_eq!(c.now_ms(), 1_500);
        assert_eq!(c.now_epoch(), 1.5);
        assert_eq!(c.advance(u64::MAX), Some(u64::MAX), "saturates, never wraps back");
        assert_eq!(c.now_ms(), u64::MAX);
    }

    #[test]
    fn system_clock_cannot_be_advanced() {
        let c = Clock::system();
        assert!(!c.is_manual());
        assert_eq!(c.advance(1), None);
        assert!(c.now_ms() > 1_700_000_000_000);
    }
}
