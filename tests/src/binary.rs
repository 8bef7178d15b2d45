//! Finding the `tally` binary: `$TALLY_BIN` if set, otherwise `cargo build -p tally-server --bin
//! tally` once per test process, in the same target directory and profile as the running test.
//!
//! `cargo test` only builds a package's binaries for that package's own integration tests, and
//! the binary lives in another package, so the tests cannot rely on it being there already.

use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The path of a `tally` binary that is up to date with the workspace sources.
///
/// Set `TALLY_BIN` to test a prebuilt binary instead. The first call builds; later calls in the
/// same process return the same answer (including the same error).
pub fn tally_bin() -> Result<PathBuf> {
    static BIN: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| locate_or_build().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

fn locate_or_build() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("TALLY_BIN") {
        let bin = PathBuf::from(bin);
        if !bin.is_file() {
            bail!(
                "TALLY_BIN={} is not a file; unset it to let the tests build the binary",
                bin.display()
            );
        }
        return Ok(bin);
    }
    // The test executable is <target>/<profile-dir>/deps/<name>-<hash>.
    let exe = std::env::current_exe().context("finding the test executable")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| {
            anyhow!(
                "test executable {} is not inside a cargo target dir",
                exe.display()
            )
        })?
        .to_path_buf();
    let target_dir = profile_dir
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent", profile_dir.display()))?;
    let profile_name = profile_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or_else(|| anyhow!("tests crate has no parent directory"))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace)
        .args(["build", "--quiet", "-p", "tally-server", "--bin", "tally"])
        .env("CARGO_TARGET_DIR", target_dir);
    // `cargo test` puts the test profile's output in `debug`, `--release` in `release`.
    match profile_name.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let out = cmd
        .output()
        .with_context(|| format!("running {cmd:?} to build the tally binary"))?;
    if !out.status.success() {
        bail!(
            "building the tally binary failed ({cmd:?}, {}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let bin = profile_dir.join(format!("tally{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        bail!(
            "cargo built the tally binary but {} does not exist",
            bin.display()
        );
    }
    Ok(bin)
}
