//! The watch and its judgement, on made-up messages and clocks.

use super::judge::check_names;
use super::*;
use crate::load::case_file::parse_expected;
use crate::load::SchemaSet;
use serde_json::json;
use std::path::Path;

const DEVICES: &str = "/v2/me/devices";

fn schemas() -> SchemaSet {
    SchemaSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")).unwrap()
}

fn body(v: Value) -> Expected {
    parse_expected(&v, false).unwrap()
}

fn exp(kind: NotificationKind) -> NotificationExpectation {
    NotificationExpectation {
        channel: DEVICES.into(),
        within: Duration::from_millis(1000),
        schema: None,
        kind,
        exclusive: false,
        provenance: None,
        settle: None,
    }
}

fn dsc(state: &str) -> Value {
    json!({"channel": DEVICES, "data": {"messageType": "DeviceStateChangeMessage",
        "devices": [{"id": "5001", "deviceState": "Active", "userState": {"state": state}}]}})
}

fn state_is(state: &str) -> Expected {
    body(json!({"data": {"devices": [{"userState": {"state": state}}]}}))
}

fn ms(t0: Instant, n: u64) -> Instant {
    t0 + Duration::from_millis(n)
}

fn judge(w: Watch) -> Outcome {
    w.finish(&schemas(), None)
}

#[test]
fn a_password_member_of_a_notification_is_masked_like_an_exchanges() {
    // Not a registered secret: the member's name alone says what it holds, as in a body.
    let e = [exp(NotificationKind::AtLeast {
        body: Some(state_is("Ready")),
        count: 1,
    })];
    let t0 = Instant::now();
    let mut w = Watch::new(&e, t0);
    let mut m = dsc("LoggedIn");
    m["data"]["password"] = json!("unregistered-pw");
    m["data"]["agentLoginPassword"] = json!("unregistered-lc");
    w.offer(DEVICES, m, ms(t0, 1));
    let o = judge(w);
    let shown = format!("{o:?}");
    assert!(!shown.contains("unregistered-"), "{shown}");
    assert_eq!(o.records[0].message["data"]["password"], "***");
}

#[test]
fn a_positive_wait_ends_when_met_and_passes() {
    let e = [exp(NotificationKind::AtLeast {
        body: Some(state_is("LoggedIn")),
        count: 1,
    })];
    let t0 = Instant::now();
    let mut w = Watch::new(&e, t0);
    assert_eq!(w.deadline(t0), Some(ms(t0, 1000)));
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 20));
    assert_eq!(w.deadline(ms(t0, 21)), None, "met: stop waiting at once");
    let o = judge(w);
    assert!(o.checks[0].passed, "{:?}", o.checks);
    assert_eq!(o.checks[0].actual, "matched after 20 ms");
    assert!(o.notes.is_empty());
    assert_eq!(o.records[0].matched, vec![0]);
}

/// With `settle`, a met expectation keeps the step listening until its channel has been quiet that
/// long (never past the window): what the request caused after the first match is heard here, not
/// blamed on the next step.
#[test]
fn a_settling_wait_ends_when_the_channel_goes_quiet() {
    let mut e = exp(NotificationKind::AtLeast {
        body: Some(state_is("LoggedIn")),
        count: 1,
    });
    e.settle = Some(Duration::from_millis(200));
    let e = [e];
    let t0 = Instant::now();
    let mut w = Watch::new(&e, t0);
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 20));
    assert_eq!(w.deadline(ms(t0, 21)), Some(ms(t0, 220)), "met: settle");
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 150));
    assert_eq!(
        w.deadline(ms(t0, 151)),
        Some(ms(t0, 350)),
        "a later message restarts it"
    );
    assert_eq!(w.deadline(ms(t0, 350)), None, "quiet for 200 ms: done");
    w.offer(DEVICES, dsc("NotReady"), ms(t0, 900));
    assert_eq!(
        w.deadline(ms(t0, 901)),
        Some(ms(t0, 1000)),
        "never past the window"
    );
    let o = judge(w);
    assert!(o.checks[0].passed, "{:?}", o.checks);
    assert_eq!(o.checks[0].actual, "matched after 20 ms");
}

#[test]
fn a_positive_wait_fails_when_nothing_matches_and_shows_the_closest() {
    let e = [exp(NotificationKind::AtLeast {
        body: Some(state_is("LoggedIn")),
        count: 1,
    })];
    let t0 = Instant::now();
    let mut w = Watch::new(&e, t0);
    w.offer(DEVICES, dsc("NotReady"), ms(t0, 5));
    // Too late: outside the window, it neither counts nor is compared.
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 1500));
    assert_eq!(w.deadline(ms(t0, 1000)), None);
    let o = judge(w);
    let c = &o.checks[0];
    assert!(!c.passed);
    assert!(
        c.actual.contains("none within 1000 ms (1 other message"),
        "{}",
        c.actual
    );
    assert_eq!(c.mismatches[0].path, "$.data.devices[0].userState.state");
    assert!(c.diff.is_some());
    assert_eq!(o.notes.len(), 2, "both unmatched messages are notes");
}

#[test]
fn counts_need_that_many() {
    let e = [exp(NotificationKind::AtLeast {
        body: None,
        count: 2,
    })];
    let t0 = Instant::now();
    let mut w = Watch::new(&e, t0);
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 5));
    assert!(w.deadline(ms(t0, 6)).is_some());
    let o = judge(w);
    assert!(!o.checks[0].passed);
    assert!(o.checks[0].actual.starts_with("1 of 2"));
}

#[test]
fn an_absence_waits_the_window_and_fails_on_a_match() {
    let e = [exp(NotificationKind::Absent { body: None })];
    let t0 = Instant::now();
    let w = Watch::new(&e, t0);
    assert_eq!(w.deadline(ms(t0, 999)), Some(ms(t0, 1000)));
    assert_eq!(w.deadline(ms(t0, 1000)), None);
    let o = judge(w);
    assert!(o.checks[0].passed);
    assert_eq!(
        o.checks[0].actual,
        "none in 1000 ms (no other message on the channel)"
    );

    let mut w = Watch::new(&e, t0);
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 40));
    assert_eq!(w.deadline(ms(t0, 41)), None, "violated: no need to wait on");
    let o = judge(w);
    assert!(!o.checks[0].passed);
    assert_eq!(o.checks[0].actual, "a matching message arrived after 40 ms");
    assert!(o.checks[0].mismatches[0].message.contains("LoggedIn"));
}

#[test]
fn an_absence_cannot_pass_on_a_dead_session() {
    let e = [exp(NotificationKind::Absent { body: None })];
    let t0 = Instant::now();
    let o = Watch::new(&e, t0).finish(&schemas(), Some("handshake refused"));
    assert!(!o.checks[0].passed);
    assert!(o.checks[0].actual.contains("handshake refused"));
}

#[test]
fn a_met_expectation_survives_a_later_session_failure() {
    let e = [exp(NotificationKind::AtLeast {
        body: None,
        count: 1,
    })];
    let t0 = Instant::now();
    let mut w = Watch::new(&e, t0);
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 1));
    let o = w.finish(&schemas(), Some("closed"));
    assert!(o.checks[0].passed);
}

#[test]
fn sequences_must_come_in_order() {
    let seq = NotificationKind::Sequence(vec![
        state_is("LoggedIn"),
        body(
            json!({"data": {"devices": [{"userState": {"state": {"$one_of": ["NotReady", "Ready"]}}}]}}),
        ),
    ]);
    let e = [exp(seq)];
    let t0 = Instant::now();
    let mut w = Watch::new(&e, t0);
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 1));
    w.offer(DEVICES, dsc("Ready"), ms(t0, 2));
    assert_eq!(w.deadline(ms(t0, 3)), None);
    assert!(judge(w).checks[0].passed);

    // Reversed order: the Ready before LoggedIn cannot count as the second element.
    let mut w = Watch::new(&e, t0);
    w.offer(DEVICES, dsc("Ready"), ms(t0, 1));
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 2));
    let o = judge(w);
    let c = &o.checks[0];
    assert!(!c.passed);
    assert!(c.actual.starts_with("1 of 2 in order"), "{}", c.actual);
    assert!(c.actual.contains("message 2 of the sequence never came"));
}

#[test]
fn schemas_apply_to_every_matched_message() {
    let mut e = exp(NotificationKind::AtLeast {
        body: Some(body(
            json!({"data": {"messageType": "DeviceStateChangeMessage"}}),
        )),
        count: 2,
    });
    e.schema = Some("device-state-change".into());
    let e = [e];
    let t0 = Instant::now();
    let mut w = Watch::new(&e, t0);
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 1));
    let mut bad = dsc("NotReady");
    bad["data"]["devices"][0]["deviceState"] = json!("active");
    w.offer(DEVICES, bad, ms(t0, 2));
    let o = judge(w);
    assert!(o.checks[0].passed, "both match the body");
    let s = &o.checks[1];
    assert_eq!(s.name, "notification-schema:/v2/me/devices");
    assert!(!s.passed);
    assert_eq!(s.actual, "1 of 2 break it");
    assert_eq!(s.mismatches[0].path, "$.data.devices[0].deviceState");
    assert!(s.mismatches[0]
        .message
        .starts_with("message 2 (after 2 ms)"));
}

#[test]
fn schema_passes_when_every_matched_message_conforms() {
    let mut e = exp(NotificationKind::AtLeast {
        body: None,
        count: 1,
    });
    e.schema = Some("device-state-change".into());
    let e = [e];
    let t0 = Instant::now();
    let mut w = Watch::new(&e, t0);
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 1));
    let o = judge(w);
    assert!(o.checks[1].passed, "{:?}", o.checks[1]);
}

#[test]
fn foreign_messages_are_notes_unless_exclusive() {
    let mut e = exp(NotificationKind::AtLeast {
        body: Some(state_is("NotReady")),
        count: 1,
    });
    let t0 = Instant::now();
    let mut foreign = dsc("LoggedIn");
    foreign["data"]["token"] = json!("s3cret");
    let run = |e: &[NotificationExpectation]| {
        let mut w = Watch::new(e, t0);
        w.offer(DEVICES, foreign.clone(), ms(t0, 1));
        w.offer(
            "/v2/me/calls",
            json!({"channel": "/v2/me/calls", "data": {}}),
            ms(t0, 2),
        );
        w.offer(DEVICES, dsc("NotReady"), ms(t0, 3));
        judge(w)
    };
    let o = run(std::slice::from_ref(&e));
    assert!(o.checks.iter().all(|c| c.passed));
    assert_eq!(o.notes.len(), 2);
    assert!(o.notes[0].starts_with("unexpected message on /v2/me/devices after 1 ms"));
    // Judging is pure: the secret values are masked where the step becomes a record
    // (`runner::record`, tested there).
    assert!(o.notes[0].contains("s3cret"));
    assert_eq!(o.records[0].message["data"]["token"], "s3cret");

    e.exclusive = true;
    let o = run(std::slice::from_ref(&e));
    let x = &o.checks[1];
    assert_eq!(x.name, "notification-exclusive:/v2/me/devices");
    assert!(!x.passed);
    assert!(x
        .actual
        .starts_with("1 other message(s), the first after 1 ms"));
}

#[test]
fn the_longest_unmet_window_bounds_the_wait() {
    let mut absent = exp(NotificationKind::Absent { body: None });
    absent.channel = "/v2/me/calls".into();
    absent.within = Duration::from_millis(300);
    let positive = exp(NotificationKind::AtLeast {
        body: None,
        count: 1,
    });
    let e = [positive, absent];
    let t0 = Instant::now();
    let mut w = Watch::new(&e, t0);
    assert_eq!(w.deadline(t0), Some(ms(t0, 1000)));
    w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 10));
    assert_eq!(w.deadline(ms(t0, 11)), Some(ms(t0, 300)));
    assert_eq!(
        w.channels(),
        vec!["/v2/me/calls".to_string(), DEVICES.to_string()]
    );
    assert_eq!(
        check_names(&e),
        vec![DEVICES.to_string(), "/v2/me/calls".to_string()]
    );
}

#[test]
fn second_expectations_on_a_channel_get_numbered_names() {
    let e = [
        exp(NotificationKind::Absent { body: None }),
        exp(NotificationKind::Absent { body: None }),
    ];
    assert_eq!(check_names(&e)[1], "/v2/me/devices#2");
}
