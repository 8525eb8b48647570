//! The background housekeeping pass: the TTL sweep and stream trimming, every
//! [`crate::EngineConfig::housekeeping_interval`] on a thread of its own, and at once
//! (to completion) whenever a test advances the manual clock.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use stator_protocol::DynamoError;

use crate::Engine;

impl Engine {
    /// One pass: a TTL sweep, then stream trimming.
    pub fn housekeeping(&self) -> Result<crate::ttl::SweepReport, DynamoError> {
        let _pass = self.ttl.pass.lock();
        // A failed TTL sweep must not stop stream trimming (nor the other way round).
        let report = self.sweep_ttl();
        let trimmed = self.streams().trim();
        let report = report?;
        trimmed?;
        Ok(report)
    }

    /// Advances the manual clock by `ms`, then runs housekeeping until every expired
    /// item is deleted and every stale stream record trimmed, so that a test sees the
    /// effect of the new time when this returns. `None` on the system clock.
    pub fn advance_clock(&self, ms: u64) -> Result<Option<u64>, DynamoError> {
        if !self.clock().is_manual() {
            return Ok(None);
        }
        let _pass = self.ttl.pass.lock();
        let Some(now) = self.clock().advance(ms) else { return Ok(None) };
        // Whole walks from the start of every table, each pass covering SCAN_BUDGET
        // items of each; bounded all the same.
        self.ttl.restart();
        for _ in 0..100_000 {
            if self.sweep_ttl()?.complete {
                break;
            }
        }
        self.streams().trim()?;
        Ok(Some(now))
    }
}

/// Starts the housekeeping thread. It holds only a weak reference and stops once
/// the engine is dropped.
pub fn start(engine: &Arc<Engine>) -> std::io::Result<()> {
    let weak: Weak<Engine> = Arc::downgrade(engine);
    let interval = engine.config().housekeeping_interval.max(Duration::from_millis(10));
    std::thread::Builder::new().name("housekeeping".into()).spawn(move || {
        let mut next = Instant::now() + interval;
        loop {
            // Sleep in short slices so that a dropped engine ends the thread soon.
            let now = Instant::now();
            if now < next {
                std::thread::sleep((next - now).min(Duration::from_millis(200)));
                if weak.strong_count() == 0 {
                    return;
                }
                continue;
            }
            next = Instant::now() + interval;
            let Some(engine) = weak.upgrade() else { return };
            if let Err(e) = engine.housekeeping() {
                tracing::error!(error = %e, "housekeeping pass failed");
            }
        }
    })?;
    Ok(())
}
