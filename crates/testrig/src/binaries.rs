//! Finding built binaries for a test: an explicit `TESTRIG_BIN_<NAME>`
//! environment variable, else the cargo target directory the running test
//! executable lives in (`target/<profile>/deps/x` -> `target/<profile>/NAME`).
//! In the test of a binary's own crate, prefer `env!("CARGO_BIN_EXE_<name>")`.

use crate::{Error, Result};
use std::path::PathBuf;

/// Path of the built binary `name` (e.g. `"influxd"`).
pub fn find_binary(name: &str) -> Result<PathBuf> {
    let var = format!(
        "TESTRIG_BIN_{}",
        name.to_ascii_uppercase().replace('-', "_")
    );
    let mut searched = Vec::new();
    if let Some(p) = std::env::var_os(&var) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        searched.push(p);
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(3) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
            searched.push(candidate);
        }
    }
    Err(Error::BinaryNotFound {
        name: name.to_string(),
        searched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binary_names_the_build_command() {
        let e = find_binary("no-such-binary-xyz").unwrap_err();
        assert!(
            e.to_string().contains("cargo build -p no-such-binary-xyz"),
            "{e}"
        );
    }

    #[test]
    fn env_override_wins() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fake-tool");
        std::fs::write(&p, "").unwrap();
        // The variable name is unique to this test, so no other test races on it.
        std::env::set_var("TESTRIG_BIN_FAKE_TOOL", &p);
        assert_eq!(find_binary("fake-tool").unwrap(), p);
    }
}
