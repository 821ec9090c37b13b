//! Notification expectations end to end: case files with `[[steps.notifications]]` loaded, run against
//! the reference server (and against a target whose CometD is broken), and judged; plus the loader's
//! errors for bad notification tables, and the wall-time bound of the waits.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gws_conform::execute::Transport;
use gws_conform::load::{load_suite, Env, Sources};
use gws_conform::model::Provenance;
use gws_conform::plan::{self, Selection};
use gws_conform::record::{CaseResult, Verdict};
use gws_conform::report::RunInfo;
use gws_conform::runner;

const PW: &str = "pw-cometd-cases-test";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A folder with one case file and a profile for `target`.
fn workspace(case: &str, target: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    std::fs::write(dir.path().join("cases/case.toml"), case).unwrap();
    std::fs::write(
        dir.path().join("profile.toml"),
        format!(
            "target = \"{target}\"\ncsrf = true\ntimeout_ms = 2000\ncapabilities = [\"cometd\"]\n[agents.default]\nusername = \"agent5\"\npassword = \"${{env:PW}}\"\n"
        ),
    )
    .unwrap();
    dir
}

async fn run_case(dir: &Path, target: &str) -> CaseResult {
    let sources = Sources {
        cases_dir: dir.join("cases"),
        schemas_dir: repo().join("schemas"),
        profile: Some(dir.join("profile.toml")),
    };
    let suite = load_suite(&sources, &Env::empty().with("PW", PW)).unwrap();
    let transport = Transport::new(target, &suite.profile).unwrap();
    let plan = plan::plan(&suite.cases, &Selection::default(), &suite.profile);
    let info = RunInfo::unreported("test", target, false, &suite.profile, plan.cases.len(), 1);
    runner::run_collecting(&suite, &plan, &transport, 1, info)
        .await
        .0
        .pop()
        .expect("one case")
}

async fn reference(fault: Option<gws_reference::Fault>) -> gws_reference::RunningServer {
    let config = gws_reference::ServerConfig {
        csrf: true,
        fault,
        ..gws_reference::ServerConfig::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            gws_reference::Directory::builtin(PW, "lc"),
        )
    };
    gws_reference::start(config).await.unwrap()
}

const START: &str = r#"
[steps.request]
json = { operationName = "StartContactCenterSession", channels = ["voice"] }
[steps.expect]
status = "2xx"
"#;

const END: &str = r#"
[[steps]]
name = "cleanup"
always = true
[steps.request]
json = { operationName = "EndContactCenterSession" }
"#;

fn twice_case(absence_ms: u64) -> String {
    format!(
        r#"id = "twice"
title = "t"
spec = "S1"
provenance = "documented"
requires = ["cometd"]

[[steps]]
name = "first"
{START}
[[steps.notifications]]
channel = "/v2/me/devices"
within_ms = 3000
schema = "device-state-change"
sequence = [
  {{ data = {{ devices = [ {{ userState = {{ state = "LoggedIn" }} }} ] }} }},
  {{ data = {{ devices = [ {{ userState = {{ state = "NotReady" }} }} ] }} }},
]

[[steps]]
name = "second"
{START}
[[steps.notifications]]
channel = "/v2/me/devices"
within_ms = {absence_ms}
absent = true
{END}"#
    )
}

/// The measurement of issue 4: positive waits end when met, so a case spends about its absence window
/// and no more, however long its positive windows are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_waits_no_longer_than_its_absence_window() {
    let server = reference(None).await;
    let dir = workspace(&twice_case(800), &server.url());
    let started = Instant::now();
    let r = run_case(dir.path(), &server.url()).await;
    let wall = started.elapsed();
    assert_eq!(r.verdict, Verdict::Pass, "{:#?}", r.reason);
    let first = &r.steps[0];
    assert!(
        first.duration_ms < 1500,
        "the positive 3000 ms window ended when met: {} ms",
        first.duration_ms
    );
    assert!(first.notifications.len() >= 2);
    let second = &r.steps[1];
    assert!(second.duration_ms >= 800, "the absence waited its window");
    assert!(
        second.duration_ms < 800 + 400,
        "and not much more: {} ms",
        second.duration_ms
    );
    assert!(
        wall < Duration::from_millis(800 + 1000),
        "the whole case: {wall:?} for an 800 ms absence window"
    );
    let c = second
        .checks
        .iter()
        .find(|c| c.name == "notification:/v2/me/devices")
        .unwrap();
    assert!(c.passed && c.actual.starts_with("none in 800 ms"), "{c:?}");
    server.shutdown().await;
}

/// The same case catches a server that notifies although the agent was already logged in, and a server
/// that sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_fails_against_notification_faults() {
    use gws_reference::Fault;
    for (fault, step, check) in [
        (
            Fault::NotificationWhenAlreadyLoggedIn,
            1,
            "notification:/v2/me/devices",
        ),
        (
            Fault::NotificationNoneSent,
            0,
            "notification:/v2/me/devices",
        ),
        (
            Fault::NotificationWrongShape,
            0,
            "notification-schema:/v2/me/devices",
        ),
    ] {
        let server = reference(Some(fault)).await;
        let dir = workspace(&twice_case(300), &server.url());
        let r = run_case(dir.path(), &server.url()).await;
        assert_eq!(r.verdict, Verdict::Fail, "{fault}");
        let c = r.steps[step]
            .checks
            .iter()
            .find(|c| c.name == check)
            .unwrap();
        assert!(!c.passed, "{fault}: {c:?}");
        server.shutdown().await;
    }
}

/// A target whose REST API works but whose CometD endpoint answers 500: the case fails with a `cometd`
/// check naming the endpoint, and the absence, which a dead session cannot show, does not pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_cometd_endpoint_fails_and_no_absence_passes() {
    use axum::http::StatusCode;
    use axum::routing::{any, post};
    let app = axum::Router::new()
        .route(
            "/api/v2/me",
            any(|| async { ([("content-type", "application/json")], "{\"statusCode\":0}") }),
        )
        .route(
            "/api/v2/notifications",
            post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "down") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let case = format!(
        "id = \"x\"\ntitle = \"t\"\nspec = \"S1\"\nprovenance = \"documented\"\n[[steps]]\n{START}\n[[steps.notifications]]\nchannel = \"/v2/me/devices\"\nwithin_ms = 5000\nabsent = true\n"
    );
    let dir = workspace(&case, &url);
    let started = Instant::now();
    let r = run_case(dir.path(), &url).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a failed session does not wait out the window"
    );
    assert_eq!(r.verdict, Verdict::Fail);
    let checks = &r.steps[0].checks;
    let cometd = checks.iter().find(|c| c.name == "cometd").unwrap();
    assert!(!cometd.passed);
    assert!(
        cometd
            .actual
            .contains("/api/v2/notifications: /meta/handshake was answered with HTTP 500"),
        "{}",
        cometd.actual
    );
    let absent = checks
        .iter()
        .find(|c| c.name == "notification:/v2/me/devices")
        .unwrap();
    assert!(
        !absent.passed && absent.actual.starts_with("cannot tell"),
        "{absent:?}"
    );
    assert!(!format!("{r:?}").contains(PW), "no secret in the result");
}

fn load_error(notification: &str) -> String {
    let case = format!(
        "id = \"x\"\ntitle = \"t\"\nspec = \"S1\"\nprovenance = \"documented\"\n[[steps]]\n{START}\n[[steps.notifications]]\n{notification}"
    );
    let dir = workspace(&case, "http://127.0.0.1:9");
    let sources = Sources {
        cases_dir: dir.path().join("cases"),
        schemas_dir: repo().join("schemas"),
        profile: Some(dir.path().join("profile.toml")),
    };
    let err = load_suite(&sources, &Env::empty().with("PW", PW))
        .err()
        .unwrap();
    err.0
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn bad_notification_tables_are_load_errors_with_line_and_field() {
    // The [[steps.notifications]] table starts on line 13 of the generated file.
    let e = load_error("channel = \"/v2/me/devices\"\nwithin_ms = 100\nabsent = true\ncount = 2\n");
    assert!(e.ends_with("case.toml:16:1: steps[0].notifications[0].count: `count` cannot be combined with `absent`: an absence counts nothing"), "{e}");
    let e = load_error("channel = \"/v2/me/devices\"\n");
    assert!(
        e.contains("steps[0].notifications[0]: `within_ms` is required"),
        "{e}"
    );
    let e = load_error("channel = \"/v2/me/devices\"\nwithin_ms = 0\n");
    assert!(
        e.contains(":14:1: steps[0].notifications[0].within_ms: 0 is outside 1..=60000 ms"),
        "{e}"
    );
    let e = load_error("chanel = \"/v2/me/devices\"\nwithin_ms = 10\n");
    assert!(
        e.contains("unknown key `chanel`; did you mean `channel`?"),
        "{e}"
    );
    let e = load_error("channel = \"/v2/me/*\"\nwithin_ms = 10\n");
    assert!(e.contains("wildcard channels are not supported"), "{e}");
    let e = load_error("channel = \"/meta/connect\"\nwithin_ms = 10\n");
    assert!(
        e.contains("`/meta/` channels carry the protocol itself"),
        "{e}"
    );
    let e = load_error(
        "channel = \"/v2/me/devices\"\nwithin_ms = 10\nschema = \"device-state-chang\"\n",
    );
    assert!(
        e.contains(
            "no schema `device-state-chang` in schemas/; did you mean `device-state-change`?"
        ),
        "{e}"
    );
    let e = load_error(
        "channel = \"/v2/me/devices\"\nwithin_ms = 10\nbody = { data = { \"$nope\" = 1 } }\n",
    );
    assert!(
        e.contains("steps[0].notifications[0].body.data.$nope: unknown matcher `$nope`"),
        "{e}"
    );
    let e = load_error("channel = \"/v2/me/devices\"\nwithin_ms = 10\nsequence = []\n");
    assert!(e.contains("an empty sequence expects nothing"), "{e}");
    let e = load_error(
        "channel = \"/v2/me/devices\"\nwithin_ms = 10\nsequence = [{ a = 1 }]\nbody = { a = 1 }\n",
    );
    assert!(
        e.contains("`sequence` cannot be combined with `body`"),
        "{e}"
    );
    let e = load_error(
        "channel = \"/v2/me/devices\"\nwithin_ms = 10\nabsent = true\nexclusive = true\n",
    );
    assert!(
        e.contains("`exclusive` cannot be combined with `absent`"),
        "{e}"
    );
    let e = load_error("channel = \"/v2/me/devices\"\nwithin_ms = 10\ncount = 0\n");
    assert!(e.contains("0 is not a count"), "{e}");
    let e =
        load_error("channel = \"/v2/me/devices\"\nwithin_ms = 10\nabsent = true\nsettle_ms = 5\n");
    assert!(
        e.contains("`settle_ms` cannot be combined with `absent`"),
        "{e}"
    );
    let e = load_error("channel = \"/v2/me/devices\"\nwithin_ms = 10\nsettle_ms = 11\n");
    assert!(
        e.contains("settle_ms: 11 is outside 1..=within_ms (10 ms)"),
        "{e}"
    );
    let e =
        load_error("channel = \"/v2/me/devices\"\nwithin_ms = 10\nbody = { data = \"${nope}\" }\n");
    assert!(e.contains("undefined variable `${nope}`"), "{e}");
}

/// Cases a notification case may share its agent with: on a conforming server none of them logs the
/// agent in ("What no source allows is statusCode 0 AND a login", cases/param-unknown-value.toml), so no
/// state change of theirs can land in its window. `s6-dynamic-phone-number-existing` expects no login
/// at all, and a role whose other cases log in would put their late messages in that window.
///
/// `s6-dynamic-number-events-on-default-dn` shares its user with `s6-dynamic-phone-number`: both log
/// in with `${dynamic_phone_number}`, which a server rightly refuses while another session holds it
/// (409 "already in use"), so on different users running at once they failed each other. One user
/// runs them one after the other; the events case's premise step (no device logged in) comes first.
fn quiet_neighbour(case: &str, other: &str) -> bool {
    // The workmode rows of param-unknown-value listen in their {0}-then-no-login alternative; the
    // other rows are the same kind of neighbour.
    ((case == "s6-dynamic-phone-number-existing" || case.starts_with("param-unknown-value["))
        && other.starts_with("param-unknown-value["))
        || (case == "s6-dynamic-number-events-on-default-dn" && other == "s6-dynamic-phone-number")
}

/// Every case file in cases/ that expects notifications requires the `cometd` capability, and none
/// shares its agent role with a case that does not (so no other case's state change lands in a
/// window), but for the quiet neighbours above.
#[test]
fn notification_cases_require_cometd_and_keep_to_their_agents() {
    let sources = Sources {
        cases_dir: repo().join("cases"),
        schemas_dir: repo().join("schemas"),
        profile: Some(repo().join("profiles/reference.toml")),
    };
    let suite = load_suite(
        &sources,
        &Env::empty()
            .with("GWS_PASSWORD", "x")
            .with("GWS_AGENT_LOGIN_PASSWORD", "y"),
    )
    .unwrap();
    let cases: Vec<_> = suite.cases.iter().map(|o| suite.case(o).unwrap()).collect();
    // A case that listens only in an alternative answer (an absence after {0}) is one too, when a
    // miss there would fail it: a late message of a neighbour in its window fails it just the same.
    // An inferred one (channels-empty, channels-voice-and-unknown, login-code-password-*) can only
    // warn, and keeps the role its request needs.
    let (notify, other): (Vec<_>, Vec<_>) = cases.iter().partition(|c| {
        c.steps.iter().any(|s| {
            !s.notifications.is_empty()
                || (c.provenance != Provenance::Inferred
                    && s.expect
                        .alternatives
                        .iter()
                        .any(|a| !a.notifications.is_empty()))
        })
    });
    assert!(notify.len() >= 6);
    let sharing: Vec<String> = notify
        .iter()
        .filter_map(|c| {
            let with: Vec<&str> = other
                .iter()
                .filter(|o| o.group == c.group)
                .filter(|o| !quiet_neighbour(&c.id, &o.id))
                .map(|o| &*o.id)
                .collect();
            (!with.is_empty())
                .then(|| format!("{} (role {}) with {}", c.id, c.agent_role, with.join(", ")))
        })
        .collect();
    assert!(
        sharing.is_empty(),
        "notification cases share their agent with other cases:\n{}",
        sharing.join("\n")
    );
    // Those that listen on every answer need CometD; one that listens only after a {0} may run
    // without it (its other answers are shown without CometD).
    let always_listening = notify
        .iter()
        .filter(|c| c.steps.iter().any(|s| !s.notifications.is_empty()));
    for c in always_listening {
        assert!(
            c.requires.contains(&"cometd".to_string()),
            "{} must require cometd",
            c.id
        );
        let last = c.steps.last().unwrap();
        assert!(
            last.always,
            "{} must end its session in an always step",
            c.id
        );
    }
}

/// Listeners hear each step as it finishes, live, before the case's result: what a progress display
/// or `--message-format json` shows while a case runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_hear_each_step_before_the_case_finishes() {
    use gws_conform::report::{Event, Listener};

    #[derive(Default)]
    struct Count {
        order: Vec<&'static str>,
        steps: usize,
    }
    impl Listener for Count {
        fn on_event(&mut self, event: &Event) {
            let kind = match event {
                Event::CaseStarted { .. } => "started",
                Event::StepFinished { .. } => {
                    self.steps += 1;
                    "step"
                }
                Event::CaseFinished { .. } => "finished",
                _ => return,
            };
            if self.order.last() != Some(&kind) {
                self.order.push(kind);
            }
        }
    }

    let server = reference(None).await;
    let target = format!("http://{}", server.addr());
    let dir = workspace(
        &std::fs::read_to_string(repo().join("cases/notify-s1-login-dsc.toml")).unwrap(),
        &target,
    );
    let sources = Sources {
        cases_dir: dir.path().join("cases"),
        schemas_dir: repo().join("schemas"),
        profile: Some(dir.path().join("profile.toml")),
    };
    let suite = load_suite(&sources, &Env::empty().with("PW", PW)).unwrap();
    let transport = Transport::new(&target, &suite.profile).unwrap();
    let plan = plan::plan(&suite.cases, &Selection::default(), &suite.profile);
    let info = RunInfo::unreported("test", &target, false, &suite.profile, 1, 1);
    let mut count = Count::default();
    let mut collect: Vec<CaseResult> = Vec::new();
    struct Keep<'a>(&'a mut Vec<CaseResult>);
    impl Listener for Keep<'_> {
        fn on_event(&mut self, event: &Event) {
            if let Event::CaseFinished { result, .. } = event {
                self.0.push((*result).clone());
            }
        }
    }
    {
        let mut listeners: Vec<Box<dyn Listener + '_>> =
            vec![Box::new(&mut count), Box::new(Keep(&mut collect))];
        runner::run(
            &suite,
            &plan,
            &transport,
            1,
            info,
            &mut listeners,
            std::future::pending(),
        )
        .await;
    }
    let result = collect.pop().expect("one case");
    assert_eq!(result.verdict, Verdict::Pass, "{:?}", result.reason);
    let ran = result.steps.iter().filter(|s| s.ran).count();
    assert!(ran >= 2, "{:?}", result.steps);
    assert_eq!(count.steps, ran);
    assert_eq!(
        count.order,
        ["started", "step", "finished"],
        "{:?}",
        count.order
    );
    server.shutdown().await;
}
