//! Where a step's observation and its checks become a record: the one place a case's secrets are
//! masked in what a step saw (exchanges, notifications, notes) and in what its checks say about it.
//! Execution observes and checks judge what was really sent and received; only the record, which
//! reports and events are made of, is masked (see `crate::secret`).

use crate::record::{Check, Exchange, NotificationRecord, StepResult};
use crate::secret::Redactor;

/// `step` with every value `redactor` knows (and every secret member) masked: the exchanges, the
/// checks' texts, the notifications and the notes.
pub(crate) fn masked(mut step: StepResult, redactor: &Redactor) -> StepResult {
    step.exchanges = std::mem::take(&mut step.exchanges)
        .into_iter()
        .map(|e| masked_exchange(e, redactor))
        .collect();
    for c in &mut step.checks {
        mask_check(c, redactor);
    }
    for n in &mut step.notifications {
        mask_notification(n, redactor);
    }
    for n in &mut step.notes {
        // Notes quote what servers sent, perhaps clipped.
        *n = redactor.redact_shown(n);
    }
    step
}

/// One exchange as a record holds it: its secret headers whole, the secrets in its URL, bodies,
/// error and note.
pub fn masked_exchange(mut e: Exchange, redactor: &Redactor) -> Exchange {
    let r = &mut e.request;
    r.url = redactor.redact(&r.url);
    for (k, v) in &mut r.headers {
        *v = redactor.header_value(k, v);
    }
    if let Some(b) = &mut r.body {
        *b = masked_request_body(b, redactor);
    }
    if let Some(resp) = &mut e.response {
        for (k, v) in &mut resp.headers {
            *v = redactor.header_value(k, v);
        }
        if let Some(t) = &mut resp.body_text {
            *t = redactor.redact_body_text(t);
        }
    }
    if let Some(err) = &mut e.error {
        *err = redactor.redact(err);
    }
    if let Some(n) = &mut e.note {
        *n = redactor.redact_shown(n);
    }
    e
}

/// A request body as sent: a JSON body (serialized by the harness, so it reads back to the same
/// text) is masked as JSON, every string equal to a secret included, however short; any other
/// as a body received.
fn masked_request_body(body: &str, redactor: &Redactor) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut v) if serde_json::to_string(&v).is_ok_and(|t| t == body) => {
            redactor.redact_json(&mut v);
            serde_json::to_string(&v).unwrap_or_default()
        }
        _ => redactor.redact_body_text(body),
    }
}

/// A check's texts are the harness's sentences quoting outside data (and expected values whose
/// variables may hold a secret); its name says what the case checks and is left as it is.
fn mask_check(c: &mut Check, redactor: &Redactor) {
    c.expected = redactor.redact_shown(&c.expected);
    c.actual = redactor.redact_shown(&c.actual);
    for m in &mut c.mismatches {
        m.message = redactor.redact_shown(&m.message);
    }
    if let Some(d) = &mut c.diff {
        *d = redactor.redact_shown(d);
    }
}

fn mask_notification(n: &mut NotificationRecord, redactor: &Redactor) {
    redactor.redact_json(&mut n.message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Mismatch, RequestRecord, ResponseRecord};

    const SECRET: &str = "s3cret-value";

    fn exchange() -> Exchange {
        Exchange {
            request: RequestRecord {
                method: "POST".into(),
                url: format!("http://127.0.0.1/api/v2/me?t={SECRET}"),
                headers: vec![
                    ("Authorization".into(), "Basic Zm9vOmJhcg==".into()),
                    ("X-Echo".into(), SECRET.into()),
                ],
                body: Some(format!(r#"{{"note":"{SECRET}","operationName":"pw"}}"#)),
            },
            response: Some(ResponseRecord {
                status: 200,
                headers: vec![("Set-Cookie".into(), "JSESSIONID=abc".into())],
                content_type: Some("application/json".into()),
                body_text: Some(r#"{"password":"unregistered","echo":"s3cret-value"}"#.into()),
                body_bytes: 50,
            }),
            error: Some(format!("connection reset after {SECRET}")),
            error_kind: None,
            by_harness: false,
            duration_ms: 1,
            note: Some(format!("retried with token {SECRET}")),
        }
    }

    fn step() -> StepResult {
        let mut check = Check::new("body", false, format!("\"{SECRET}\""), SECRET);
        check.mismatches.push(Mismatch {
            path: "$.token".into(),
            message: format!("expected \"pw\", found \"{SECRET}\""),
        });
        check.diff = Some(format!("-  \"token\": \"pw\"\n+  \"token\": \"{SECRET}\""));
        let clipped = Check::new("notification", false, "x", "… s3cret-va…");
        StepResult {
            name: "step".into(),
            exchanges: vec![exchange()],
            checks: vec![check, clipped],
            ran: true,
            passed: false,
            duration_ms: 1,
            cometd_ms: None,
            wait_ms: None,
            attempts: None,
            hint: None,
            notifications: vec![NotificationRecord {
                channel: "/v2/me/devices".into(),
                at_ms: 1,
                message: serde_json::json!({"data": {"token": SECRET, "password": "pw-unknown-2"}}),
                matched: vec![],
            }],
            notes: vec![format!("unexpected message: {{\"token\":\"{SECRET}\"}}")],
        }
    }

    #[test]
    fn every_field_where_a_secret_can_appear_is_masked() {
        let redactor = Redactor::new();
        redactor.add(SECRET);
        redactor.add("pw");
        let raw = serde_json::to_string(&step()).unwrap();
        assert!(raw.contains(SECRET) && raw.contains("unregistered") && raw.contains(r#"\"pw\""#));
        let record = masked(step(), &redactor);
        let text = serde_json::to_string(&record).unwrap();
        for leak in [
            SECRET,
            "unregistered",
            "\\\"pw\\\"",
            "s3cret-va",
            "Zm9v",
            "abc",
            "pw-unknown-2",
        ] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        // What the project wrote stays.
        assert_eq!(record.checks[0].name, "body");
        assert_eq!(record.checks[0].mismatches[0].path, "$.token");
        assert_eq!(record.exchanges[0].request.method, "POST");
        assert_eq!(record.checks[1].actual, "… ***…");
    }
}
