//! Where things are: the workspace root, built binaries, the tool venv.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

/// A binary of the workspace, built next to the running executable.
///
/// `cargo build --workspace --bins` (which `task test` runs first) builds them.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build --workspace --bins --tests` first (task test does)",
        path.display()
    );
    path
}

/// The Python interpreter of the tool venv (`SYNCSCOPE_PYTHON`, else `.venv/bin/python`).
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("SYNCSCOPE_PYTHON") {
        return PathBuf::from(p);
    }
    workspace().join(".venv/bin/python")
}

/// A directory under `build/` (created).
pub fn build_dir(sub: &str) -> PathBuf {
    let dir = workspace().join("build").join(sub);
    let _ = std::fs::create_dir_all(&dir);
    dir
}
