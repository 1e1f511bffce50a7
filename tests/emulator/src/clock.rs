//! The emulator's clock, injectable so tests can pin "now" (SigV4 date checks,
//! `CreateTime`).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock(Arc::new(SystemTime::now))
    }

    /// A clock that always answers `at`.
    pub fn fixed(at: SystemTime) -> Self {
        Clock(Arc::new(move || at))
    }

    /// A clock that asks `now` every time.
    pub fn new(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Clock(Arc::new(now))
    }

    /// The current time.
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }

    /// The current time as seconds since the epoch, to the millisecond (the
    /// `CreateTime` of the API).
    pub fn epoch_seconds(&self) -> f64 {
        let since = self
            .now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        since.as_millis() as f64 / 1000.0
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Clock").field(&self.now()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_answers_the_same_time_in_epoch_milliseconds() {
        let clock = Clock::fixed(UNIX_EPOCH + Duration::from_millis(1_763_800_000_123));
        assert_eq!(clock.epoch_seconds(), 1_763_800_000.123);
        assert_eq!(clock.now(), clock.now());
    }
}
