//! The run's result as a signed in-toto attestation: a Statement v1 with the test-result v0.1
//! predicate, in a DSSE envelope signed with Ed25519 (`attestation.intoto.jsonl` beside the
//! reports). Its subjects are report.json and the suite, each by SHA-256; its predicate the result,
//! the case ids that passed, warned and failed, and the configuration (suite, profile by digest,
//! target URL and version). It is built only from a report whose result re-derives
//! ([`super::rederive`]), and checked against that re-derived result.

pub mod dsse;

use serde_json::{json, Value};

use super::headline::verdict_class;
use super::json::Report;
use crate::record::Verdict;

pub use dsse::{Envelope, PAYLOAD_TYPE};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://in-toto.io/attestation/test-result/v0.1";
/// The file `run --sign` and `attest` write, beside report.json.
pub const FILE_NAME: &str = "attestation.intoto.jsonl";
/// The subject naming the suite: its digest is that of the suite's manifest ([`suite_manifest`]).
pub const SUITE_SUBJECT: &str = "gws-conform-suite.sha256sum";

/// The suite's files (every input but the profile and its CA file) as `sha256sum` lists them,
/// sorted by path: what the suite subject's digest is the SHA-256 of. `sha256sum` over the
/// listed files reproduces it.
pub fn suite_manifest(report: &Report) -> String {
    let profile = profile_path(report);
    let ca = report.run.profile.get("ca_file").and_then(Value::as_str);
    let mut inputs: Vec<&crate::load::InputFile> = report
        .run
        .inputs
        .iter()
        .filter(|i| Some(i.path.as_str()) != profile.as_deref() && Some(i.path.as_str()) != ca)
        .collect();
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    inputs
        .iter()
        .map(|i| format!("{}  {}\n", i.sha256, i.path))
        .collect()
}

fn profile_path(report: &Report) -> Option<String> {
    report
        .run
        .profile
        .get("file")
        .and_then(Value::as_str)
        .map(|p| crate::load::display_path(std::path::Path::new(p)))
}

/// The target's URL as the attestation names it: no user, password or query (a profile may carry
/// credentials in it).
fn public_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

/// The in-toto statement of a report whose file bytes are `report_bytes`.
pub fn statement(report: &Report, report_bytes: &[u8]) -> Value {
    let ids = |v: Verdict| -> Vec<&str> {
        report
            .cases
            .iter()
            .filter(|c| c.verdict == v)
            .map(|c| c.id.as_str())
            .collect()
    };
    let result = match verdict_class(&report.summary) {
        "pass" => "PASSED",
        "warn" => "WARNED",
        _ => "FAILED",
    };
    let mut configuration = vec![json!({
        "name": SUITE_SUBJECT,
        "digest": {"sha256": crate::load::sha256_hex(suite_manifest(report).as_bytes())},
        "annotations": {"harnessVersion": report.run.harness_version, "runId": report.run.run_id},
    })];
    if let Some(p) = profile_path(report) {
        if let Some(i) = report.run.inputs.iter().find(|i| i.path == p) {
            configuration
                .push(json!({"name": format!("profile:{p}"), "digest": {"sha256": i.sha256}}));
        }
    }
    let mut target = json!({"name": "target", "uri": public_url(&report.run.target.url)});
    if let Some(v) = &report.run.target.server_version {
        target["annotations"] = json!({"serverVersion": v});
    }
    configuration.push(target);
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": "report.json", "digest": {"sha256": crate::load::sha256_hex(report_bytes)}},
            {"name": SUITE_SUBJECT, "digest": {"sha256": crate::load::sha256_hex(suite_manifest(report).as_bytes())}},
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "result": result,
            "configuration": configuration,
            "passedTests": ids(Verdict::Pass),
            "warnedTests": ids(Verdict::Warn),
            "failedTests": ids(Verdict::Fail),
        },
    })
}

/// Where a signed statement disagrees with the report it claims to attest: each a sentence naming
/// the field. `report` must be one whose result re-derives (see [`super::rederive`]).
pub fn disagreements(statement: &Value, report: &Report, report_bytes: &[u8]) -> Vec<String> {
    let expected = self::statement(report, report_bytes);
    let mut out = Vec::new();
    for field in ["_type", "predicateType"] {
        if statement[field] != expected[field] {
            out.push(format!(
                "`{field}` is {}, not {}",
                statement[field], expected[field]
            ));
        }
    }
    // Subjects: each of ours must be there with the digest of the file now.
    for want in expected["subject"].as_array().into_iter().flatten() {
        let name = &want["name"];
        let got = statement["subject"]
            .as_array()
            .and_then(|s| s.iter().find(|s| &s["name"] == name));
        match got {
            None => out.push(format!("subject {name} is missing")),
            Some(s) if s["digest"]["sha256"] != want["digest"]["sha256"] => out.push(format!(
                "subject {name} has sha256 {}, but the file's is {}",
                s["digest"]["sha256"], want["digest"]["sha256"]
            )),
            Some(_) => {}
        }
    }
    let (got, want) = (&statement["predicate"], &expected["predicate"]);
    for field in [
        "result",
        "passedTests",
        "warnedTests",
        "failedTests",
        "configuration",
    ] {
        if got[field] != want[field] {
            out.push(format!(
                "predicate `{field}` is {}, but the report re-derives to {}",
                short(&got[field]),
                short(&want[field])
            ));
        }
    }
    out
}

fn short(v: &Value) -> String {
    let t = v.to_string();
    if t.chars().count() > 200 {
        format!("{}…", t.chars().take(197).collect::<String>())
    } else {
        t
    }
}

/// An attestation found beside a report, as the HTML shows it: who signed (key ids), what (the
/// subjects' digests), and whether its report.json subject is this file. Reading it checks no
/// signature: that needs the signer's public key (`verify --attestation FILE --key PUB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub file: String,
    pub key_ids: Vec<String>,
    pub result: String,
    pub subjects: Vec<(String, String)>,
    /// The report.json subject's digest is that of the report file read.
    pub report_matches: bool,
    /// The run the statement names (its suite configuration's `runId`), if it names one.
    pub run_id: Option<String>,
    /// Why the file could not be read as an attestation, if it could not.
    pub problem: Option<String>,
}

impl Seen {
    /// The attestation beside `report_json`, if there is one.
    pub fn beside(report_json: &std::path::Path) -> Option<Seen> {
        let path = report_json.parent()?.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).ok()?;
        let report_sha = std::fs::read(report_json)
            .map(|b| crate::load::sha256_hex(&b))
            .unwrap_or_default();
        let mut seen = Seen {
            file: FILE_NAME.to_string(),
            key_ids: Vec::new(),
            result: String::new(),
            subjects: Vec::new(),
            report_matches: false,
            run_id: None,
            problem: None,
        };
        let statement = Envelope::parse(&text).and_then(|e| {
            seen.key_ids = e.signatures.iter().map(|s| s.keyid.clone()).collect();
            dsse::decode_base64(&e.payload)
                .map_err(|err| dsse::DsseError::Envelope(err.to_string()))
        });
        match statement.map(|p| serde_json::from_slice::<Value>(&p)) {
            Ok(Ok(s)) => {
                seen.result = s["predicate"]["result"].as_str().unwrap_or("").to_string();
                seen.run_id = s["predicate"]["configuration"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find_map(|c| c["annotations"]["runId"].as_str())
                    .map(str::to_string);
                for sub in s["subject"].as_array().into_iter().flatten() {
                    let name = sub["name"].as_str().unwrap_or("").to_string();
                    let sha = sub["digest"]["sha256"].as_str().unwrap_or("").to_string();
                    if name == "report.json" {
                        seen.report_matches = sha == report_sha;
                    }
                    seen.subjects.push((name, sha));
                }
            }
            Ok(Err(e)) => seen.problem = Some(format!("the statement is not JSON: {e}")),
            Err(e) => seen.problem = Some(e.to_string()),
        }
        Some(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_url_carries_no_credentials() {
        assert_eq!(
            public_url("https://user:secret@gws.example:8443/base?token=x#f"),
            "https://gws.example:8443/base"
        );
        assert_eq!(public_url("not a url"), "not a url");
    }
}
