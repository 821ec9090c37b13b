//! `gws-conform lint` and the loader's errors, through the real binary: every malformed case file
//! is reported as `file:line:col: field: message`, exit code 2, and nothing runs.

mod support;

use std::time::Duration;

use support::*;

const GOOD_STEP: &str = r#"
[[steps]]
name = "start"
[steps.request]
json = { operationName = "StartContactCenterSession", channels = ["voice"] }
[steps.expect]
status = 200
schema = "success"
body = { statusCode = 0 }
"#;

const HEADER: &str =
    "id = \"bad\"\ntitle = \"a broken case\"\nspec = \"S1\"\nprovenance = \"documented\"\n";

/// Lints a cases folder holding only `bad.toml` (and the real variables.toml).
fn lint_one(text: &str) -> Run {
    let dir = workspace_copy();
    let cases = dir.path().join("cases");
    for e in std::fs::read_dir(&cases).unwrap().flatten() {
        if e.file_name() != "variables.toml" && e.path().extension().is_some_and(|x| x == "toml") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    std::fs::write(cases.join("bad.toml"), text).unwrap();
    run(&["lint"], dir.path(), &[], Duration::from_secs(30))
}

fn first_error(r: &Run) -> String {
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r.stderr.lines().next().unwrap_or_default().to_string()
}

#[test]
fn the_repository_cases_lint_clean() {
    let r = run(&["lint"], &root(), &[], Duration::from_secs(30));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("ok: "), "{}", r.stdout);
}

#[test]
fn toml_syntax_error() {
    let r = lint_one(&format!("{HEADER}title2 = \"unterminated\n{GOOD_STEP}"));
    let e = first_error(&r);
    assert!(e.starts_with("error: cases/bad.toml:5:"), "{e}");
}

#[test]
fn unknown_key_with_did_you_mean() {
    let text = format!(
        "{HEADER}{}",
        GOOD_STEP.replace("schema = \"success\"", "mach = \"exact\"")
    );
    assert_eq!(
        first_error(&lint_one(&text)),
        "error: cases/bad.toml:12:1: steps[0].expect.mach: unknown key `mach`; did you mean `match`?"
    );
}

#[test]
fn missing_schema() {
    let text = format!("{HEADER}{}", GOOD_STEP.replace("\"success\"", "\"sucess\""));
    assert_eq!(
        first_error(&lint_one(&text)),
        "error: cases/bad.toml:12:1: steps[0].expect.schema: no schema `sucess` in schemas/; did you mean `success`?"
    );
}

/// A typo in `requires` would skip the case on every target: lint warns, with the capability it was
/// likely meant to be. A capability of the suite's own, far from any known one, gets no word.
#[test]
fn a_required_capability_within_a_typo_of_a_known_one() {
    let typo = lint_one(&format!(
        "{HEADER}requires = [\"user_resources\"]\n{GOOD_STEP}"
    ));
    assert_eq!(typo.code, 0, "{}{}", typo.stdout, typo.stderr);
    assert!(
        typo.stderr.contains(
            "warning: cases/bad.toml:5:13: requires[0]: capability `user_resources` is documented by no \
             profile and not declared by this one; did you mean `user_resource`? As written, the case is \
             skipped on every target whose profile does not declare `user_resources`"
        ),
        "{}",
        typo.stderr
    );
    for own in [
        "voicemail",
        "user_devices",
        "agent_ready",
        "multi_sip_place",
    ] {
        let r = lint_one(&format!("{HEADER}requires = [\"{own}\"]\n{GOOD_STEP}"));
        assert_eq!(r.code, 0, "{own}: {}{}", r.stdout, r.stderr);
        assert!(!r.stderr.contains("did you mean"), "{own}: {}", r.stderr);
    }
}

#[test]
fn undefined_variable() {
    let text = format!(
        "{HEADER}{}",
        GOOD_STEP.replace(
            "channels = [\"voice\"]",
            "channels = [\"voice\"], place = \"${plac}\""
        )
    );
    assert_eq!(
        first_error(&lint_one(&text)),
        "error: cases/bad.toml:9:77: steps[0].request.json.place: undefined variable `${plac}`; did you mean `${place}`?"
    );
}

#[test]
fn a_variable_value_cannot_hold_another_reference() {
    // It would be sent as written: values are not expanded again.
    let text = format!("{HEADER}\n[vars]\npw = \"${{env:GWS_PASSWORD}}\"\n{GOOD_STEP}");
    assert_eq!(
        first_error(&lint_one(&text)),
        "error: cases/bad.toml:7:1: vars.pw: a variable's value cannot hold `${...}`: values are not expanded; write the value itself (secrets go straight into requests as `${env:NAME}`)"
    );
}

#[test]
fn unset_environment_variable() {
    let text = format!(
        "{HEADER}{}",
        GOOD_STEP.replace(
            "channels = [\"voice\"]",
            "channels = [\"voice\"], agentLoginPassword = \"${env:GWS_TEST_UNSET_VAR}\""
        )
    );
    assert_eq!(
        first_error(&lint_one(&text)),
        "error: cases/bad.toml:9:77: steps[0].request.json.agentLoginPassword: environment variable `GWS_TEST_UNSET_VAR` is not set (referenced as `${env:GWS_TEST_UNSET_VAR}`)"
    );
}

#[test]
fn body_that_breaks_the_request_schema_must_say_so() {
    let text = format!(
        "{HEADER}{}",
        GOOD_STEP.replace("channels = [\"voice\"]", "channels = \"voice\"")
    );
    let e = first_error(&lint_one(&text));
    assert!(
        e.starts_with("error: cases/bad.toml:9:1: steps[0].request.json: the body breaks schemas/request.schema.json at `/channels`"),
        "{e}"
    );
    assert!(e.ends_with("set `deliberately_invalid = true`"), "{e}");
    // Marked as deliberate, the same body loads.
    let ok = text.replace(
        "[steps.request]\n",
        "[steps.request]\ndeliberately_invalid = true\n",
    );
    let r = lint_one(&ok);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn inferred_case_needs_a_rationale() {
    let text = HEADER.replace("documented", "inferred") + GOOD_STEP;
    assert_eq!(
        first_error(&lint_one(&text)),
        "error: cases/bad.toml:4:1: provenance: a case marked `inferred` needs a one-line `rationale`"
    );
}

#[test]
fn unknown_matcher_and_bad_status() {
    let text = format!(
        "{HEADER}{}",
        GOOD_STEP
            .replace(
                "body = { statusCode = 0 }",
                "body = { statusCode = { \"$nto\" = 0 } }"
            )
            .replace("status = 200", "status = \"2xy\"")
    );
    let r = lint_one(&text);
    assert_eq!(r.code, 2);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines[0], "error: cases/bad.toml:11:1: steps[0].expect.status: `2xy` is not a status class; write e.g. \"4xx\"");
    assert!(
        lines[1].starts_with("error: cases/bad.toml:13:25: steps[0].expect.body.statusCode.$nto: unknown matcher `$nto`; did you mean `$not`?"),
        "{}",
        lines[1]
    );
}

#[test]
fn a_broken_schema_fails_loudly() {
    let dir = workspace_copy();
    std::fs::write(
        dir.path().join("schemas/success.schema.json"),
        r#"{"type": "objekt"}"#,
    )
    .unwrap();
    let r = run(&["lint"], dir.path(), &[], Duration::from_secs(30));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with(
            "error: schemas/success.schema.json: not a valid JSON Schema 2020-12 document"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn a_bad_case_stops_the_run_before_any_request() {
    let dir = workspace_copy();
    std::fs::write(dir.path().join("cases/zz-bad.toml"), "id = 1\n").unwrap();
    let r = run(&["run"], dir.path(), &[], Duration::from_secs(30));
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("cases/zz-bad.toml:1:6: id: "),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("nothing was run"));
    assert!(!r.stdout.contains("running"), "{}", r.stdout);
}

/// A property added to the request schema gets its wrong-type cases from `param-wrong-type.toml`
/// (`wrong_types_of = "request"`), with no new case file.
#[test]
fn a_new_request_property_gets_its_wrong_type_cases() {
    let dir = workspace_copy();
    let path = dir.path().join("schemas/request.schema.json");
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let before = run(
        &["list", "--wide", "param-wrong-type"],
        dir.path(),
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(before.code, 0, "{}", before.stderr);
    assert!(!before.stdout.contains("skillLevel"), "{}", before.stdout);
    schema["properties"]["skillLevel"] = serde_json::json!({ "type": "string" });
    std::fs::write(&path, serde_json::to_string_pretty(&schema).unwrap()).unwrap();
    let after = run(
        &["list", "--wide", "param-wrong-type"],
        dir.path(),
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(after.code, 0, "{}", after.stderr);
    for t in ["number", "boolean", "null", "array", "object"] {
        assert!(
            after
                .stdout
                .contains(&format!("param-wrong-type[skillLevel.{t}]")),
            "{t}: {}",
            after.stdout
        );
    }
    assert!(
        !after.stdout.contains("skillLevel.string"),
        "{}",
        after.stdout
    );
    let count = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with("param-wrong-type["))
            .count()
    };
    assert_eq!(count(&after.stdout), count(&before.stdout) + 5);
}

#[test]
fn a_matrix_row_error_names_the_file_line_and_row() {
    let text = format!(
        "{HEADER}rationale = \"r\"\n\n[[matrix]]\nrow = \"a\"\njsn = {{ queue = \"q\" }}\n{GOOD_STEP}"
    );
    let r = lint_one(&text.replace("documented", "inferred"));
    assert_eq!(
        first_error(&r),
        "error: cases/bad.toml:9:1: matrix[0].jsn: unknown key `jsn`; did you mean `json`?"
    );
    let text = format!(
        "{HEADER}\n[[matrix]]\nrow = \"good\"\n\n[[matrix]]\nrow = \"bad\"\njson = {{ queue = \"${{no_such_variable}}\" }}\n{GOOD_STEP}"
    );
    let r = lint_one(&text);
    let e = first_error(&r);
    assert!(e.starts_with("error: cases/bad.toml:"), "{e}");
    assert!(e.contains("row `bad` (matrix[1])"), "{e}");
    assert!(e.contains("no_such_variable"), "{e}");
}

#[test]
fn a_matrix_entry_may_name_its_rows_role() {
    // param-wrong-type's entries and param-unusual-string's `empty` entry name their own roles (so the
    // rows run as several users, in parallel); the other rows keep the template's `agent`.
    let r = run(
        &["list", "--wide", "param-wrong-type", "param-unusual-string"],
        &root(),
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let role = |id: &str| -> String {
        r.stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w.first() == Some(&id))
            .map(|w| w[2].to_string())
            .unwrap_or_else(|| panic!("{id} not listed: {}", r.stdout))
    };
    assert_eq!(role("param-wrong-type[place.number]"), "params5");
    assert_eq!(role("param-wrong-type[place.array]"), "params6");
    assert_eq!(role("param-wrong-type[place.null]"), "params4");
    assert_eq!(role("param-unusual-string[place.empty]"), "params4");
    assert_eq!(role("param-unusual-string[place.overlong]"), "params3");
}

/// A `[steps.retry]` table after a GET step (line numbers: the header has 4 lines, the step starts
/// on line 6).
fn retry_case(method: &str, retry: &str, extra: &str) -> String {
    format!(
        "{HEADER}\n[[steps]]\nname = \"poll\"\n[steps.request]\nmethod = \"{method}\"\npath = \"/api/v2/me?subresources=devices\"\n[steps.retry]\n{retry}\n[steps.expect]\nstatus = 200\n{extra}"
    )
}

#[test]
fn a_retry_polls_a_get_for_a_bounded_time_and_never_listens() {
    let ok = lint_one(&retry_case("GET", "within_ms = 15000\nevery_ms = 250", ""));
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);

    let e = first_error(&lint_one(&retry_case("GET", "within_ms = 0", "")));
    assert!(
        e.contains("bad.toml:12:1: steps[0].retry.within_ms: 0 is outside 1..=60000 ms"),
        "{e}"
    );
    let e = first_error(&lint_one(&retry_case(
        "GET",
        "within_ms = 1000\nevery_ms = 5",
        "",
    )));
    assert!(
        e.contains("steps[0].retry.every_ms: 5 is outside 50..=1000 ms"),
        "{e}"
    );
    let e = first_error(&lint_one(&retry_case(
        "GET",
        "within_ms = 100\nevery_ms = 500",
        "",
    )));
    assert!(e.contains("steps[0].retry.every_ms: 500 is outside"), "{e}");
    let e = first_error(&lint_one(&retry_case("POST", "within_ms = 1000", "")));
    assert!(
        e.contains("steps[0].retry: a retried step is sent again while its checks fail: only a GET or HEAD, which changes nothing, may be retried, not a POST"),
        "{e}"
    );
    let listening =
        "[[steps.notifications]]\nchannel = \"/v2/me/devices\"\nwithin_ms = 100\nabsent = true\n";
    let e = first_error(&lint_one(&retry_case("GET", "within_ms = 1000", listening)));
    assert!(
        e.contains("steps[0].retry: a retried step cannot listen for notifications"),
        "{e}"
    );
    let e = first_error(&lint_one(&retry_case(
        "GET",
        "within_ms = 1000\nuntil = 3",
        "",
    )));
    assert!(
        e.contains("steps[0].retry.until: unknown key `until`"),
        "{e}"
    );
    let ok = lint_one(&retry_case(
        "GET",
        "within_ms = 1000\nwhile_status = [\"2xx\", 409]",
        "",
    ));
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    let e = first_error(&lint_one(&retry_case(
        "GET",
        "within_ms = 1000\nwhile_status = \"2oo\"",
        "",
    )));
    assert!(
        e.contains("bad.toml:13:1: steps[0].retry.while_status: `2oo` is not a status class"),
        "{e}"
    );
}
