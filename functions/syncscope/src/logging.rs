//! Logging: JSON when Lambda asks for it (`AWS_LAMBDA_LOG_FORMAT=JSON`), compact text
//! otherwise; the level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` (a level name:
//! `error`, `warn`, `info`, `debug`, `trace`; default `info`). A level, not per-module
//! directives: the filter that parses those pulls a regex engine into the zip.
//!
//! Dependencies are capped at `debug` whatever the environment asks: at `trace` the
//! Lambda runtime logs each raw event, and a CloudFormation event carries the signed
//! ResponseURL. syncscope's own `trace` never logs an event, a URL or a header.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The crates whose own events are shown at the level asked for; every other target
/// stops at `debug`.
const OWN_TARGETS: [&str; 3] = ["syncscope", "syncscope_core", "syncscope_lambda"];

/// What is logged at `level`: syncscope's own events at that level, dependencies'
/// at most at `debug`.
fn filter(level: LevelFilter) -> Targets {
    OWN_TARGETS
        .iter()
        .fold(Targets::new(), |t, target| t.with_target(*target, level))
        .with_default(level.min(LevelFilter::DEBUG))
}

/// The level named by the environment (`info` when it names none).
fn level(var: impl Fn(&str) -> Option<String>) -> LevelFilter {
    var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|| var("RUST_LOG"))
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(LevelFilter::INFO)
}

/// Installs the global subscriber. Call once, at start-up.
pub fn init() {
    let level = level(|name| std::env::var(name).ok());
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time();
    if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .with(filter(level))
            .init();
    } else {
        builder.compact().finish().with(filter(level)).init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_comes_from_lambda_then_rust_log_and_defaults_to_info() {
        assert_eq!(
            level(crate::env_of(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")])),
            LevelFilter::DEBUG
        );
        assert_eq!(
            level(crate::env_of(&[("RUST_LOG", "warn")])),
            LevelFilter::WARN
        );
        assert_eq!(
            level(crate::env_of(&[("RUST_LOG", "syncscope=debug")])),
            LevelFilter::INFO
        );
        assert_eq!(level(crate::env_of(&[])), LevelFilter::INFO);
    }

    #[test]
    fn dependencies_stop_at_debug_while_syncscope_logs_at_trace() {
        let f = filter(LevelFilter::TRACE);
        assert!(f.would_enable("syncscope::handler", &tracing::Level::TRACE));
        assert!(f.would_enable("syncscope_core::plan", &tracing::Level::TRACE));
        assert!(!f.would_enable("lambda_runtime::layers", &tracing::Level::TRACE));
        assert!(f.would_enable("lambda_runtime::layers", &tracing::Level::DEBUG));
        assert!(!filter(LevelFilter::INFO).would_enable("hyper", &tracing::Level::DEBUG));
    }
}
