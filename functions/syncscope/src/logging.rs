//! Logging: JSON when Lambda asks for it (`AWS_LAMBDA_LOG_FORMAT=JSON`), compact text
//! otherwise; the level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` (a level name:
//! `error`, `warn`, `info`, `debug`, `trace`; default `info`). A level, not per-module
//! directives: the filter that parses those pulls a regex engine into the zip.

use tracing_subscriber::filter::LevelFilter;

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
            .init();
    } else {
        builder.compact().init();
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
}
