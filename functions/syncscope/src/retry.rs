//! The retry policy of the calls syncscope makes itself (identity-sync, Teams,
//! CloudFormation's ResponseURL): exponential backoff with full jitter, a limit on
//! attempts, and a deadline that no wait or attempt may cross. The AWS SDK clients
//! (SSM, S3, the identity store, Directory Service Data, CloudFormation) keep the
//! SDK's standard retries, bounded by their operation timeouts (`app.rs`).
//!
//! A caller describes one attempt as a closure returning a [`Step`]; [`run`] makes
//! the attempts, waits between them and says why it stopped. What counts as
//! retryable, and for how long an attempt may take, stays with the caller.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How to retry one kind of call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Most attempts (the first included).
    pub max_attempts: u32,
    /// The first backoff cap; it doubles per retry.
    pub base: Duration,
    /// The largest backoff cap.
    pub max: Duration,
    /// Full jitter: each wait is a random time below its cap (else exactly the cap).
    pub jitter: bool,
    /// No attempt starts with less time than this left before the deadline.
    pub min_attempt_time: Duration,
}

/// What one attempt came to.
#[derive(Debug)]
pub enum Step<T, E> {
    /// Success: stop.
    Done(T),
    /// A failure that retrying cannot fix: stop.
    Fail(E),
    /// A failure worth another attempt.
    Retry {
        /// What went wrong.
        error: E,
        /// The server's own wait (`Retry-After`), used instead of the backoff when
        /// longer (and still bounded by the deadline).
        after: Option<Duration>,
        /// Retry whatever the attempt count (throttling asks to slow down, not to give
        /// up), until the deadline.
        unlimited: bool,
    },
}

impl<T, E> Step<T, E> {
    /// A retryable failure with no server wait, counted against the attempts.
    pub fn retry(error: E) -> Self {
        Self::Retry {
            error,
            after: None,
            unlimited: false,
        }
    }
}

/// Why [`run`] gave up.
#[derive(Debug, PartialEq, Eq)]
pub enum GaveUp<E> {
    /// An attempt failed for good.
    Failed {
        /// Its error.
        error: E,
        /// Attempts made.
        attempts: u32,
    },
    /// Every attempt allowed was made.
    Exhausted {
        /// The last error.
        last: E,
        /// Attempts made.
        attempts: u32,
    },
    /// No attempt (or no further attempt) could finish before the deadline.
    OutOfTime {
        /// The last error, if an attempt was made.
        last: Option<E>,
        /// Attempts made.
        attempts: u32,
    },
}

impl<E> GaveUp<E> {
    /// Attempts made.
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Failed { attempts, .. }
            | Self::Exhausted { attempts, .. }
            | Self::OutOfTime { attempts, .. } => *attempts,
        }
    }
}

impl Policy {
    /// The cap of the wait after attempt `attempt` (1 for the first): `base * 2^(attempt-1)`,
    /// at most `max`.
    pub fn cap(&self, attempt: u32) -> Duration {
        self.base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max)
    }

    /// The wait after attempt `attempt`, given a random draw in `[0, 1)`.
    pub fn wait(&self, attempt: u32, draw: f64, after: Option<Duration>) -> Duration {
        let cap = self.cap(attempt);
        let backoff = if self.jitter { cap.mul_f64(draw) } else { cap };
        after.map_or(backoff, |after| backoff.max(after))
    }

    /// Whether an attempt may start now: at least `min_attempt_time` left.
    fn fits(&self, deadline: Instant, wait: Duration) -> bool {
        Instant::now() + wait + self.min_attempt_time <= deadline
    }
}

/// Makes attempts until one succeeds or fails for good, the attempts run out, or the
/// deadline leaves no time for another. `attempt` gets the attempt number (1, 2, …);
/// `on_retry` hears of each retry (attempt number, wait, error) before the wait.
pub async fn run<T, E, F, Fut>(
    policy: &Policy,
    deadline: Instant,
    mut attempt: F,
    mut on_retry: impl FnMut(u32, Duration, &E),
) -> Result<T, GaveUp<E>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Step<T, E>>,
{
    let mut number = 0;
    let mut last = None;
    loop {
        if !policy.fits(deadline, Duration::ZERO) {
            return Err(GaveUp::OutOfTime {
                last,
                attempts: number,
            });
        }
        number += 1;
        match attempt(number).await {
            Step::Done(value) => return Ok(value),
            Step::Fail(error) => {
                return Err(GaveUp::Failed {
                    error,
                    attempts: number,
                });
            }
            Step::Retry {
                error,
                after,
                unlimited,
            } => {
                if !unlimited && number >= policy.max_attempts {
                    return Err(GaveUp::Exhausted {
                        last: error,
                        attempts: number,
                    });
                }
                let wait = policy.wait(number, fastrand::f64(), after);
                if !policy.fits(deadline, wait) {
                    return Err(GaveUp::OutOfTime {
                        last: Some(error),
                        attempts: number,
                    });
                }
                on_retry(number, wait, &error);
                last = Some(error);
                tokio::time::sleep(wait).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        max_attempts: 4,
        base: Duration::from_millis(10),
        max: Duration::from_millis(40),
        jitter: true,
        min_attempt_time: Duration::from_millis(5),
    };

    #[test]
    fn caps_double_up_to_the_maximum_and_jitter_stays_below_them() {
        let caps: Vec<u64> = (1..=5).map(|a| POLICY.cap(a).as_millis() as u64).collect();
        assert_eq!(caps, [10, 20, 40, 40, 40]);
        assert_eq!(POLICY.wait(2, 0.5, None), Duration::from_millis(10));
        assert!(POLICY.wait(3, 0.999, None) < Duration::from_millis(40));
        let exact = Policy {
            jitter: false,
            ..POLICY
        };
        assert_eq!(exact.wait(2, 0.1, None), Duration::from_millis(20));
        // A server's longer wait wins over the backoff.
        assert_eq!(
            POLICY.wait(1, 0.5, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
    }

    /// Where retrying an attempt that always comes to `step` ends, with `seconds` left.
    async fn always(step: fn() -> Step<(), &'static str>, seconds: u64) -> GaveUp<&'static str> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        run(&POLICY, deadline, |_| async move { step() }, |_, _, _| {})
            .await
            .unwrap_err()
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_run_out_and_unlimited_retries_stop_at_the_deadline() {
        let exhausted = always(|| Step::retry("503"), 10).await;
        assert_eq!(
            exhausted,
            GaveUp::Exhausted {
                last: "503",
                attempts: 4
            }
        );
        let deadline = Instant::now() + Duration::from_secs(1);
        let throttled = || Step::Retry {
            error: "throttled",
            after: None,
            unlimited: true,
        };
        let gave_up = always(throttled, 1).await;
        assert!(matches!(
            gave_up,
            GaveUp::OutOfTime {
                last: Some("throttled"),
                ..
            }
        ));
        assert!(gave_up.attempts() > 4, "{gave_up:?}");
        assert!(Instant::now() <= deadline, "no wait crosses the deadline");
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_wait_past_the_deadline_ends_the_retries_at_once() {
        let start = Instant::now();
        let patient = || Step::Retry {
            error: "429",
            after: Some(Duration::from_secs(30)),
            unlimited: false,
        };
        assert_eq!(
            always(patient, 3).await,
            GaveUp::OutOfTime {
                last: Some("429"),
                attempts: 1
            }
        );
        assert_eq!(Instant::now(), start, "it did not sleep");
    }

    #[tokio::test(start_paused = true)]
    async fn success_and_permanent_failures_stop_at_once() {
        let deadline = Instant::now() + Duration::from_secs(3);
        let done = run(
            &POLICY,
            deadline,
            |n| async move {
                if n < 3 {
                    Step::retry("again")
                } else {
                    Step::Done(n)
                }
            },
            |_, _, _| {},
        )
        .await;
        assert_eq!(done, Ok(3));
        assert_eq!(
            always(|| Step::Fail("403"), 3).await,
            GaveUp::Failed {
                error: "403",
                attempts: 1
            }
        );
        assert_eq!(
            always(|| Step::Done(()), 0).await,
            GaveUp::OutOfTime {
                last: None,
                attempts: 0
            }
        );
    }
}
