//! CSRF tokens across session changes, as real clients handle them: a new session cookie from any
//! answer (REST or CometD) makes the next unsafe request fetch a fresh token; a token rotated on every
//! GET is taken from each answer; a refusal of a token fetched under an earlier session is retried once
//! and noted; a refusal of the current session's token, or of a `csrf = false` request, never is.

mod sessions_support;

use std::path::Path;
use std::time::Duration;

use gws_conform::execute::cometd::CometdClient;
use gws_conform::execute::csrf::{REFETCH_NOTE, RETRY_NOTE, STALE_REFUSED_NOTE};
use gws_conform::execute::{AgentSession, Exchange, ResponseRecord, Transport};
use gws_conform::load::{Env, Profile};
use gws_conform::model::{AuthMode, Body, Request};
use gws_conform::secret::Redactor;
use serde_json::json;
use sessions_support::{Mode, Server, PW, USER};

type Sent = Vec<(Exchange, Option<ResponseRecord>)>;

/// The harness's side: a profile with CSRF on, its transport and the case's redactor.
fn client(server: &Server) -> (Transport, Profile, Redactor) {
    client_at(&server.url, true)
}

fn client_at(url: &str, csrf: bool) -> (Transport, Profile, Redactor) {
    let redactor = Redactor::new().scoped();
    let text = format!(
        "target = \"{url}\"\ncsrf = {csrf}\ntimeout_ms = 5000\n[agents.default]\nusername = \"{USER}\"\npassword = \"${{env:PW}}\"\n",
    );
    let env = Env::empty().with("PW", PW);
    let profile = Profile::parse(Path::new("profile.toml"), &text, &env, &redactor).unwrap();
    let transport = Transport::new(url, &profile).unwrap();
    (transport, profile, redactor)
}

fn post(operation: &str) -> Request {
    Request {
        method: "POST".into(),
        path: "/api/v2/me".into(),
        auth: AuthMode::Basic,
        headers: Vec::new(),
        body: Some(Body::Json(json!({ "operationName": operation }))),
        csrf: true,
        follow_redirects: false,
    }
}

fn get_me() -> Request {
    Request {
        method: "GET".into(),
        body: None,
        ..post("")
    }
}

/// Method and status of each exchange, in order.
fn trail(sent: &Sent) -> Vec<(String, u16)> {
    sent.iter()
        .map(|(e, r)| (e.request.method.clone(), r.as_ref().map_or(0, |r| r.status)))
        .collect()
}

fn notes(sent: &Sent) -> Vec<Option<&str>> {
    sent.iter().map(|(e, _)| e.note.as_deref()).collect()
}

fn steps(v: &[(&str, u16)]) -> Vec<(String, u16)> {
    v.iter().map(|(m, s)| (m.to_string(), *s)).collect()
}

/// The exchanges as a report holds them: masked where the step becomes a record.
fn recorded(sent: &Sent, redactor: &Redactor) -> Vec<Exchange> {
    sent.iter()
        .map(|(e, _)| gws_conform::runner::record::masked_exchange(e.clone(), redactor))
        .collect()
}

/// No cookie or token the server issued appears in any record, and the redactor knows each.
fn assert_secret(sent: &[Sent], server: &Server, redactor: &Redactor) {
    let records = serde_json::to_string(
        &sent
            .iter()
            .flat_map(|s| recorded(s, redactor))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let issued = server.issued();
    assert!(
        issued.len() >= 4,
        "the test issued too little to prove anything: {issued:?}"
    );
    for value in issued {
        assert!(!records.contains(&value), "{value} reached a record");
        assert_eq!(
            redactor.redact(&value),
            "***",
            "{value} is not a secret of the case"
        );
    }
}

/// The sequence: a CometD long-poll sent before EndContactCenterSession comes back after it
/// with a new JSESSIONID, after the harness had fetched a token for the session that followed End.
/// Before the fix, the next POST carried the new cookie with the earlier token and was refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_session_cookie_from_a_cometd_long_poll_gets_a_fresh_token_before_the_next_post() {
    let server = Server::start(Mode::Bound).await;
    let (transport, profile, redactor) = client(&server);
    let agent = profile.agent("default").map(|(_, a)| a);
    let mut session = AgentSession::new(&transport, agent, &redactor);
    let mut all = vec![session.open_session().await];
    let (cometd, _events) = CometdClient::start(
        transport.http_client(),
        transport.cometd_config(),
        session.bayeux_auth(),
    )
    .await
    .unwrap();
    // The long-poll is at the server, carrying the first session's cookie.
    tokio::time::timeout(Duration::from_secs(10), server.arrived.notified())
        .await
        .expect("the held connect arrived");
    all.push(session.send(&post("StartContactCenterSession")).await);
    all.push(session.send(&post("EndContactCenterSession")).await);
    // The first request after End: a token fetched under the session the server opens for it.
    let after_end = session.send(&post("StartContactCenterSession")).await;
    assert_eq!(trail(&after_end), steps(&[("GET", 200), ("POST", 200)]));
    all.push(after_end);
    // Now the long-poll returns, ending in yet another session; the CometD client stores its cookie.
    let cookies = session.cookies();
    let before = cookies.lock().unwrap().session();
    server.release.notify_one();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while cookies.lock().unwrap().session() == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the long-poll never came back"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let next = session.send(&post("EndContactCenterSession")).await;
    // The new session's token is fetched before the POST: by this REST step, or already by the
    // CometD client, whose next /meta/connect (a POST too) needed it first.
    if trail(&next).len() == 2 {
        assert_eq!(trail(&next), steps(&[("GET", 200), ("POST", 200)]));
        assert_eq!(notes(&next), vec![Some(REFETCH_NOTE), None]);
    } else {
        assert_eq!(
            trail(&next),
            steps(&[("POST", 200)]),
            "the CometD client fetched the token"
        );
    }
    let posts = server.posts();
    assert!(posts.iter().all(|p| p.status == 200), "{posts:?}");
    assert_eq!(posts.len(), 4);
    assert_eq!(
        server.cometd_tokens().first(),
        Some(&posts[0].token),
        "the CometD client sends the session's token too"
    );
    all.push(next);
    assert_secret(&all, &server, &redactor);
    drop(cometd);
}

/// A server that issues a new token on every GET and forgets the one before: each POST carries the
/// newest token it was given, in the header the server named, and each token is a secret of the case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rotated_on_every_get_is_taken_from_each_answer() {
    let server = Server::start(Mode::RotateOnGet).await;
    let (transport, profile, redactor) = client(&server);
    let agent = profile.agent("default").map(|(_, a)| a);
    let mut session = AgentSession::new(&transport, agent, &redactor);
    let mut all = vec![session.open_session().await];
    for _ in 0..3 {
        all.push(session.send(&get_me()).await);
        let sent = session.send(&post("StartContactCenterSession")).await;
        assert_eq!(
            trail(&sent),
            steps(&[("POST", 200)]),
            "no refusal, no fetch"
        );
        all.push(sent);
    }
    let posts = server.posts();
    assert_eq!(posts.len(), 3);
    let tokens: Vec<_> = posts.iter().map(|p| p.token.clone().unwrap()).collect();
    assert!(
        tokens[0] != tokens[1] && tokens[1] != tokens[2],
        "{tokens:?}"
    );
    assert_secret(&all, &server, &redactor);
}

/// A session the server ended behind the client's back: the POST carries the old session's cookie and
/// token, and the refusal sets a new session cookie. The token was fetched under another session: the
/// harness fetches a new one and retries once, and both attempts stay in the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_of_a_token_from_an_earlier_session_is_retried_once_and_noted() {
    let server = Server::start(Mode::Bound).await;
    let (transport, profile, redactor) = client(&server);
    let agent = profile.agent("default").map(|(_, a)| a);
    let mut session = AgentSession::new(&transport, agent, &redactor);
    let first = session.send(&post("StartContactCenterSession")).await;
    assert_eq!(trail(&first), steps(&[("GET", 200), ("POST", 200)]));
    server.expire_all();
    let sent = session.send(&post("StartContactCenterSession")).await;
    assert_eq!(
        trail(&sent),
        steps(&[("POST", 403), ("GET", 200), ("POST", 200)])
    );
    assert_eq!(
        notes(&sent),
        vec![
            Some(STALE_REFUSED_NOTE),
            Some(REFETCH_NOTE),
            Some(RETRY_NOTE)
        ]
    );
    let posts = server.posts();
    assert_eq!(posts.len(), 3);
    assert_ne!(
        posts[1].session, posts[2].session,
        "the retry runs in the new session"
    );
    assert_ne!(
        posts[1].token, posts[2].token,
        "with the new session's token"
    );
    assert_exchanges_match_the_report_schema(&recorded(&sent, &redactor));
    assert_secret(&[first, sent], &server, &redactor);
}

/// Exchanges with notes are what report.json may hold.
fn assert_exchanges_match_the_report_schema(sent: &[Exchange]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("schemas/report.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let exchange = json!({ "$defs": schema["$defs"], "$ref": "#/$defs/exchange" });
    let validator = jsonschema::draft202012::new(&exchange).unwrap();
    for e in sent {
        let value = serde_json::to_value(e).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{value}: {errors:?}");
    }
}

/// A server that refuses every POST and starts a new session with each refusal: the first refusal is
/// of an earlier session's token and is retried; the retry's refusal is the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_is_made_once_however_often_the_session_changes() {
    let server = Server::start(Mode::RefuseWithNewSession).await;
    let (transport, profile, redactor) = client(&server);
    let agent = profile.agent("default").map(|(_, a)| a);
    let mut session = AgentSession::new(&transport, agent, &redactor);
    let sent = session.send(&post("StartContactCenterSession")).await;
    assert_eq!(
        trail(&sent),
        steps(&[("GET", 200), ("POST", 403), ("GET", 200), ("POST", 403)])
    );
    assert_eq!(
        notes(&sent),
        vec![
            None,
            Some(STALE_REFUSED_NOTE),
            Some(REFETCH_NOTE),
            Some(RETRY_NOTE)
        ]
    );
    assert_eq!(server.posts().len(), 2);
}

/// A server that refuses a token of the current session gives its answer: never retried, so a server
/// that refuses valid tokens still fails its cases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_of_the_current_sessions_token_is_never_retried() {
    let server = Server::start(Mode::RefuseEveryToken).await;
    let (transport, profile, redactor) = client(&server);
    let agent = profile.agent("default").map(|(_, a)| a);
    let mut session = AgentSession::new(&transport, agent, &redactor);
    let sent = session.send(&post("StartContactCenterSession")).await;
    assert_eq!(trail(&sent), steps(&[("GET", 200), ("POST", 403)]));
    assert_eq!(notes(&sent), vec![None, None]);
    let again = session.send(&post("StartContactCenterSession")).await;
    assert_eq!(trail(&again), steps(&[("POST", 403)]), "the token is kept");
    let posts = server.posts();
    assert_eq!(posts.len(), 2);
    assert!(posts.iter().all(|p| p.token.is_some()), "{posts:?}");
}

/// A `csrf = false` step carries no token, so its refusal is the answer it asked for, even when the
/// refusal starts a new session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_without_the_token_is_never_retried() {
    let server = Server::start(Mode::Bound).await;
    let (transport, profile, redactor) = client(&server);
    let agent = profile.agent("default").map(|(_, a)| a);
    let mut session = AgentSession::new(&transport, agent, &redactor);
    let first = session.send(&post("StartContactCenterSession")).await;
    assert_eq!(trail(&first), steps(&[("GET", 200), ("POST", 200)]));
    server.expire_all();
    let without = Request {
        csrf: false,
        ..post("StartContactCenterSession")
    };
    let sent = session.send(&without).await;
    assert_eq!(trail(&sent), steps(&[("POST", 403)]));
    assert_eq!(notes(&sent), vec![None]);
    let posts = server.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[1].token, None);
}

/// A request without credentials has no session to refresh: its refusal is the answer, even when it
/// carried a token and the refusal started a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_credentials_is_never_retried() {
    let server = Server::start(Mode::Bound).await;
    let (transport, profile, redactor) = client(&server);
    let agent = profile.agent("default").map(|(_, a)| a);
    let mut session = AgentSession::new(&transport, agent, &redactor);
    session.open_session().await;
    let anonymous = Request {
        auth: AuthMode::None,
        ..post("StartContactCenterSession")
    };
    let sent = session.send(&anonymous).await;
    assert_eq!(trail(&sent), steps(&[("POST", 403)]));
    let posts = server.posts();
    assert_eq!(posts.len(), 1);
    assert!(
        posts[0].token.is_some() && posts[0].session.is_none(),
        "{posts:?}"
    );
}

/// The case `csrf-missing-token`, run by the runner against the reference server: it passes on a
/// server that enforces CSRF and fails on one that does not (the allowances above do not blunt it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_missing_token_still_catches_a_server_that_does_not_enforce_csrf() {
    use gws_conform::record::Verdict;
    for (fault, expected) in [
        (None, Verdict::Pass),
        (Some(gws_reference::Fault::CsrfNotEnforced), Verdict::Fail),
    ] {
        let config = gws_reference::ServerConfig {
            csrf: true,
            fault,
            ..gws_reference::ServerConfig::new(
                ([127, 0, 0, 1], 0).into(),
                gws_reference::Directory::builtin(PW, "lc"),
            )
        };
        let reference = gws_reference::start(config).await.unwrap();
        let verdict = run_case(&reference.url(), "csrf-missing-token.toml").await;
        assert_eq!(verdict, expected, "fault {fault:?}");
    }
}

async fn run_case(target: &str, file: &str) -> gws_conform::record::Verdict {
    use gws_conform::load::{load_suite, Sources};
    use gws_conform::plan::{self, Selection};
    use gws_conform::report::RunInfo;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    std::fs::copy(
        root.join("cases").join(file),
        dir.path().join("cases").join(file),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("profile.toml"),
        format!(
            "target = \"{target}\"\ncsrf = true\ntimeout_ms = 5000\ncapabilities = [\"csrf\"]\n[agents.default]\nusername = \"agent1\"\npassword = \"${{env:PW}}\"\n"
        ),
    )
    .unwrap();
    let sources = Sources {
        cases_dir: dir.path().join("cases"),
        schemas_dir: root.join("schemas"),
        profile: Some(dir.path().join("profile.toml")),
    };
    let suite = load_suite(&sources, &Env::empty().with("PW", PW)).unwrap();
    let transport = Transport::new(target, &suite.profile).unwrap();
    let plan = plan::plan(&suite.cases, &Selection::default(), &suite.profile);
    let info = RunInfo::unreported("test", target, false, &suite.profile, plan.cases.len(), 1);
    let (mut results, ..) =
        gws_conform::runner::run_collecting(&suite, &plan, &transport, 1, info).await;
    let result = results.pop().expect("one case");
    result.verdict
}

/// The race behind the issue, the other way round: a GET is in flight under the first session when a
/// CometD answer renews the session id. The GET's token belongs to the session its cookie named, not
/// to the new one, so the next POST fetches a token of the new session instead of sending it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_crossed_a_session_change_is_not_taken_for_the_new_session() {
    let server = Server::start(Mode::Bound).await;
    let (transport, profile, redactor) = client(&server);
    let agent = profile.agent("default").map(|(_, a)| a);
    let mut session = AgentSession::new(&transport, agent, &redactor);
    session.open_session().await;
    let (cometd, _events) = CometdClient::start(
        transport.http_client(),
        transport.cometd_config(),
        session.bayeux_auth(),
    )
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(10), server.arrived.notified())
        .await
        .expect("the held connect arrived");
    server.renew_on_release();
    server.hold_next_get();
    let cookies = session.cookies();
    let before = cookies.lock().unwrap().session();
    let meanwhile = async {
        tokio::time::timeout(Duration::from_secs(10), server.get_arrived.notified())
            .await
            .expect("the held GET arrived");
        server.release.notify_one();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while cookies.lock().unwrap().session() == before {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the long-poll never came back"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.get_release.notify_one();
    };
    let read = get_me();
    let (got, ()) = tokio::join!(session.send(&read), meanwhile);
    assert_eq!(trail(&got), steps(&[("GET", 200)]));
    let sent = session.send(&post("StartContactCenterSession")).await;
    // A token of the new session, fetched by this step or by the CometD client before it; either
    // way the POST is accepted.
    let t = trail(&sent);
    assert!(
        t == steps(&[("GET", 200), ("POST", 200)]) || t == steps(&[("POST", 200)]),
        "{t:?}"
    );
    drop(cometd);
}

/// A profile without CSRF sends no token, not even one the server offers, from REST or CometD.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_without_csrf_gets_no_token_not_even_over_cometd() {
    let server = Server::start(Mode::Bound).await;
    let (transport, profile, redactor) = client_at(&server.url, false);
    let agent = profile.agent("default").map(|(_, a)| a);
    let mut session = AgentSession::new(&transport, agent, &redactor);
    let opened = session.open_session().await;
    assert_eq!(trail(&opened), steps(&[("GET", 200)]));
    assert!(
        session.open_session().await.is_empty(),
        "the session is open"
    );
    let (cometd, _events) = CometdClient::start(
        transport.http_client(),
        transport.cometd_config(),
        session.bayeux_auth(),
    )
    .await
    .unwrap();
    session.send(&post("StartContactCenterSession")).await;
    let tokens = server.cometd_tokens();
    assert!(
        !tokens.is_empty() && tokens.iter().all(Option::is_none),
        "{tokens:?}"
    );
    assert_eq!(server.posts()[0].token, None);
    drop(cometd);
}

/// A redirect to another origin: what it answers (a cookie, a token) never enters the session, as
/// the store has no domains and would send a foreign cookie to the target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_never_feeds_the_session() {
    use axum::response::IntoResponse;
    let foreign = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let foreign_url = format!("http://{}/elsewhere", foreign.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/elsewhere",
        axum::routing::get(|| async {
            (
                [
                    ("set-cookie", "JSESSIONID=foreign-session"),
                    ("x-csrf-token", "foreign-token"),
                ],
                "{}",
            )
                .into_response()
        }),
    );
    tokio::spawn(async move { axum::serve(foreign, app).await });
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target_url = format!("http://{}", target.local_addr().unwrap());
    let to = foreign_url.clone();
    let app = axum::Router::new().route(
        "/api/v2/me",
        axum::routing::get(move || {
            let to = to.clone();
            async move { (axum::http::StatusCode::FOUND, [("location", to)]).into_response() }
        }),
    );
    tokio::spawn(async move { axum::serve(target, app).await });
    let (transport, profile, redactor) = client_at(&target_url, true);
    let agent = profile.agent("default").map(|(_, a)| a);
    let mut session = AgentSession::new(&transport, agent, &redactor);
    let follow = Request {
        follow_redirects: true,
        ..get_me()
    };
    let sent = session.send(&follow).await;
    assert_eq!(trail(&sent), steps(&[("GET", 302), ("GET", 200)]));
    let cookies = session.cookies();
    let store = cookies.lock().unwrap();
    assert_eq!(store.header_for("/api/v2/me"), None);
    assert!(store.csrf().is_none() && !store.csrf_is_stale());
}

/// A CometD client given a fixed token (no agent session behind it) sends that one; a store holding
/// the current session's token wins over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cometd_client_sends_its_fixed_token_unless_the_session_has_one() {
    use gws_conform::execute::cometd::BayeuxAuth;
    use gws_conform::execute::SharedCookies;
    use gws_conform::secret::Secret;
    let server = Server::start(Mode::Bound).await;
    let (transport, _, _) = client(&server);
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{USER}:{PW}"),
    );
    let auth = |cookies: SharedCookies| BayeuxAuth {
        basic: Some(Secret::new(format!("Basic {basic}"))),
        cookies,
        csrf: Some(("X-CSRF-TOKEN".into(), Secret::new("fixed-token"))),
        redactor: None,
    };
    let start = |a| CometdClient::start(transport.http_client(), transport.cometd_config(), a);
    let (first, _e1) = start(auth(SharedCookies::default())).await.unwrap();
    let store = SharedCookies::default();
    {
        let mut s = store.lock().unwrap();
        s.absorb("JSESSIONID=from-the-session");
        let session = s.session();
        s.keep_csrf("X-CSRF-TOKEN", "session-token", session);
    }
    let (second, _e2) = start(auth(store)).await.unwrap();
    let tokens = server.cometd_tokens();
    assert_eq!(tokens[0].as_deref(), Some("fixed-token"), "{tokens:?}");
    assert!(
        tokens.contains(&Some("session-token".to_string())),
        "{tokens:?}"
    );
    drop((first, second));
}
