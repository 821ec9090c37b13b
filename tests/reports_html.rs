//! The HTML report in a real browser: Debian's headless chromium, driven by npm playwright-core
//! (tests/browser/, installed by .ci/install.d/reports.sh). Missing chromium or node modules fail the
//! test; they are never a reason to skip it. Screenshots go to target/report-html/.

#[path = "reports_support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::*;

#[test]
fn the_html_report_reads_right_in_headless_chromium() {
    let browser_dir = Path::new(ROOT).join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "tests/browser/node_modules is missing: run .ci/install.d/reports.sh (npm ci in tests/browser)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: run .ci/install.d/reports.sh (apt-get install chromium)"
    );

    let suite = temp_suite(true);
    let dir = suite.path();
    let r = run_in(
        dir,
        &["run", "-q", "--report-dir", "out"],
        &[],
        Duration::from_secs(120),
    );
    assert_eq!(r.code, Some(1), "{}", r.describe());
    validate_report(&dir.join("out/report.json"));

    let shots = Path::new(ROOT).join("target/report-html");
    std::fs::create_dir_all(&shots).unwrap();
    for f in ["report-html.png", "report-html-failure.png"] {
        let _ = std::fs::remove_file(shots.join(f));
    }
    let child = Command::new("node")
        .arg(browser_dir.join("html-report.mjs"))
        .arg(dir.join("out/report.html"))
        .arg(dir.join("out/report.json"))
        .arg("zz-deliberately-failing")
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node must be installed");
    let out = wait_bounded(child, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("html report: all checks passed"),
        "the browser checks failed:\n{stdout}\n{stderr}"
    );
    for f in ["report-html.png", "report-html-failure.png"] {
        let png = std::fs::read(shots.join(f)).unwrap_or_default();
        assert!(
            png.len() > 10_000 && png.starts_with(b"\x89PNG"),
            "{f} is a real screenshot"
        );
    }
}
