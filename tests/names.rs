//! Unknown names, through the real binary: a spec element or a profile capability outside the known
//! set is a load error (`file:line:col: field: message`, with a did-you-mean, exit 2); a role no case
//! uses, or a case's role the profile leaves undefined, is a warning of `lint` and `list`.

mod support;

use std::path::Path;
use std::time::Duration;

use support::*;

const LIMIT: Duration = Duration::from_secs(60);

/// Replaces the line of `file` (under `dir`) that starts with `prefix` by `line`; returns its number.
fn replace_line(dir: &Path, file: &str, prefix: &str, line: &str) -> usize {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut at = 0;
    let out: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if at == 0 && l.starts_with(prefix) {
                at = i + 1;
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(at > 0, "{file} has no line starting with {prefix}");
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
    at
}

#[test]
fn an_unknown_spec_element_is_a_load_error() {
    let dir = workspace_copy();
    let line = replace_line(
        dir.path(),
        "cases/s1-basic-voice.toml",
        "spec = ",
        "spec = [\"S1\", \"S7\", \"param.workmod\"]",
    );
    for cmd in ["lint", "list"] {
        let r = run(&[cmd], dir.path(), &[], LIMIT);
        assert_eq!(r.code, 2, "{}", r.stderr);
        let want = format!("error: cases/s1-basic-voice.toml:{line}:15: spec[1]: unknown spec element `S7` (known: S1, S2, S3, S4, S5, S6, param.channels, param.place,");
        assert!(r.stderr.contains(&want), "{}", r.stderr);
        let want = format!("error: cases/s1-basic-voice.toml:{line}:21: spec[2]: unknown spec element `param.workmod`; did you mean `param.workmode`?");
        assert!(r.stderr.contains(&want), "{}", r.stderr);
    }
}

#[test]
fn an_unknown_capability_is_a_load_error_with_did_you_mean() {
    let dir = workspace_copy();
    let line = replace_line(
        dir.path(),
        "profiles/reference.toml",
        "  \"multi_acd_place\",",
        "  \"multi_acd_places\",",
    );
    let r = run(&["lint"], dir.path(), &[], LIMIT);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let want = format!("error: profiles/reference.toml:{line}:3: capabilities[0]: unknown capability `multi_acd_places`; did you mean `multi_acd_place`?");
    assert!(r.stderr.contains(&want), "{}", r.stderr);
    // Nothing runs.
    let r = run(&["run"], dir.path(), &[], LIMIT);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn an_unused_role_and_a_fallback_role_are_warnings() {
    let dir = workspace_copy();
    let profile = dir.path().join("profiles/reference.toml");
    let mut text = std::fs::read_to_string(&profile).unwrap();
    text.push_str(
        "\n[agents.sample_4]\nusername = \"agent4\"\npassword = \"${env:GWS_PASSWORD}\"\n",
    );
    let role_line = text.lines().count() - 2;
    std::fs::write(&profile, text).unwrap();
    let agent_line = replace_line(
        dir.path(),
        "cases/user-shape.toml",
        "agent = ",
        "agent = \"defualt\"",
    );
    for cmd in ["lint", "list"] {
        let r = run(&[cmd], dir.path(), &[], LIMIT);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let want = format!("warning: profiles/reference.toml:{role_line}:9: agents.sample_4: role `sample_4` is defined, but no case uses it");
        assert!(r.stderr.contains(&want), "{cmd}: {}", r.stderr);
        let want = format!("warning: cases/user-shape.toml:{agent_line}:1: agent: role `defualt` is not defined in profiles/reference.toml: this case falls back to `default`; did you mean `default`?");
        assert!(r.stderr.contains(&want), "{cmd}: {}", r.stderr);
    }
}

#[test]
fn the_shipped_suite_has_no_unknown_name_and_no_warning() {
    let r = run(&["lint"], &root(), &[], LIMIT);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
}
