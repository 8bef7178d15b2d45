//! The data directory check made before anything else touches it, so a newcomer who points
//! `--data-dir` at the wrong place hears so in plain words.

use anyhow::{anyhow, Result};
use std::path::Path;

/// Creates `dir` if needed and proves it writable by creating and removing a probe file.
pub(crate) fn ensure_writable(dir: &Path) -> Result<()> {
    let shown = dir.display();
    if dir.exists() && !dir.is_dir() {
        return Err(anyhow!(
            "the data directory {shown} is a file, not a directory; remove it or choose another \
             with --data-dir DIR (or TALLY_DATA_DIR)"
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        anyhow!(
            "cannot create the data directory {shown} ({e}); create it yourself, fix the \
             permissions of its parent, or choose another with --data-dir DIR (or TALLY_DATA_DIR)"
        )
    })?;
    let probe = dir.join(".tally-write-check");
    std::fs::write(&probe, b"ok").map_err(|e| {
        anyhow!(
            "the data directory {shown} is not writable ({e}); fix its permissions (it must be \
             writable by the user running tally) or choose another with --data-dir DIR"
        )
    })?;
    // A leftover probe is harmless; failing to remove it is not worth refusing to start.
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_missing_dirs_and_refuses_files() {
        let tmp = tempfile::tempdir().unwrap();
        let nested = tmp.path().join("a/b/data");
        ensure_writable(&nested).unwrap();
        assert!(nested.is_dir());
        assert_eq!(
            std::fs::read_dir(&nested).unwrap().count(),
            0,
            "the probe is removed"
        );
        let file = tmp.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let msg = ensure_writable(&file).unwrap_err().to_string();
        assert!(
            msg.contains("is a file") && msg.contains("--data-dir"),
            "{msg}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn read_only_dir_is_explained() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let ro = tmp.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let probe_ok = std::fs::write(ro.join("x"), b"").is_ok();
        let result = ensure_writable(&ro);
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
        if probe_ok {
            // Running as root: permissions do not apply, nothing to check.
            return;
        }
        let msg = result.unwrap_err().to_string();
        assert!(
            msg.contains("not writable") && msg.contains("--data-dir"),
            "{msg}"
        );
    }
}
