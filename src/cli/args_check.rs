//! Checks of `run`'s arguments that a newcomer trips over, made before anything loads, each with a
//! message that says what to type instead.

use std::path::{Path, PathBuf};

/// An `-o FILE` of the commands that write to standard output without it: `-o -` would otherwise
/// create a file named `-` (seen in a CI script), so it is refused with what to type instead.
pub fn output_file(s: &str) -> Result<PathBuf, String> {
    if s == "-" {
        return Err("`-` is not a file: leave out -o to write to standard output".into());
    }
    Ok(PathBuf::from(s))
}

/// A `--target` must be an http(s) URL with a host (see `load::profile::target_problem`, which a
/// profile's `target` gets too).
pub fn target(t: &str) -> Result<(), String> {
    match gws_conform::load::profile::target_problem(t) {
        None => Ok(()),
        Some(problem) => Err(format!("--target {problem}")),
    }
}

/// A `--report-dir` that already holds files would mix this run's reports with another's (a stale
/// `report.tap` beside a fresh `report.json`): refused unless `--force`.
pub fn report_dir(dir: &Path, force: bool) -> Result<(), String> {
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_some());
    if occupied && !force {
        return Err(format!(
            "--report-dir {} is not empty; choose another folder, or give --force to write the reports into it",
            dir.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dash_output_is_refused_and_a_file_taken() {
        assert!(output_file("-").unwrap_err().contains("standard output"));
        assert_eq!(output_file("out.md").unwrap(), PathBuf::from("out.md"));
    }

    #[test]
    fn a_target_without_a_scheme_gets_a_did_you_mean() {
        assert!(target("http://127.0.0.1:18555").is_ok());
        assert!(target("https://gws.example.com/").is_ok());
        for t in ["127.0.0.1:18555", "localhost:8080", "gws.example.com"] {
            let e = target(t).unwrap_err();
            assert!(e.contains(&format!("did you mean http://{t}?")), "{e}");
        }
        assert!(target("ftp://x").unwrap_err().contains("not `ftp`"));
    }

    #[test]
    fn a_report_dir_with_files_needs_force() {
        let d = tempfile::tempdir().unwrap();
        assert!(report_dir(&d.path().join("new"), false).is_ok());
        assert!(report_dir(d.path(), false).is_ok(), "empty");
        std::fs::write(d.path().join("report.json"), "{}").unwrap();
        assert!(report_dir(d.path(), false).unwrap_err().contains("--force"));
        assert!(report_dir(d.path(), true).is_ok());
    }
}
