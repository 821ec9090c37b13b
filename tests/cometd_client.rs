//! The harness's Bayeux client (src/execute/cometd.rs) against the reference server's endpoint, over both
//! transports, and against small misbehaving servers: every failure must come back as a typed error
//! naming the endpoint, within the bounds, never as a hang.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use gws_conform::execute::cometd::{
    BayeuxAuth, ClientConfig, ClientEvent, CometdClient, CometdError, Reconnect,
};
use gws_conform::execute::cookies::CookieStore;
use gws_conform::execute::SharedCookies;
use gws_conform::load::Transport;
use gws_conform::secret::Secret;
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedReceiver;

const PW: &str = "pw-cometd-client-test";

fn config(endpoint: &str, transport: Transport, timeout_ms: u64) -> ClientConfig {
    ClientConfig {
        endpoint: endpoint.parse().unwrap(),
        transport,
        request_timeout: Duration::from_millis(timeout_ms),
        max_body_bytes: 1 << 20,
        tls: None,
    }
}

fn basic(user: &str) -> Secret {
    use base64::Engine;
    Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{PW}"))
    ))
}

fn auth(user: Option<&str>) -> (BayeuxAuth, SharedCookies) {
    let cookies = SharedCookies::default();
    (
        BayeuxAuth {
            basic: user.map(basic),
            cookies: cookies.clone(),
            csrf: None,
            redactor: None,
        },
        cookies,
    )
}

/// The next data message, within `ms`.
async fn next_message(rx: &mut UnboundedReceiver<ClientEvent>, ms: u64) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ClientEvent::Message(d))) => return Some(d.message),
            Ok(Some(ClientEvent::Note(_))) => continue,
            Ok(Some(ClientEvent::Failed(e))) => panic!("client failed: {e}"),
            Ok(None) | Err(_) => return None,
        }
    }
}

async fn reference() -> gws_reference::RunningServer {
    let config = gws_reference::ServerConfig {
        csrf: true,
        ..gws_reference::ServerConfig::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            gws_reference::Directory::builtin(PW, "lc"),
        )
    };
    gws_reference::start(config).await.unwrap()
}

async fn against_reference(transport: Transport, expect: &str) {
    let server = reference().await;
    let endpoint = format!("{}/api/v2/notifications", server.url());
    let (auth, cookies) = auth(Some("agent3"));
    let (client, mut rx) = CometdClient::start(
        reqwest::Client::new(),
        config(&endpoint, transport, 2000),
        auth,
    )
    .await
    .unwrap();
    assert_eq!(client.connection_type(), expect);
    assert_eq!(client.advice().reconnect, Reconnect::Retry);
    client
        .subscribe(&["/v2/me/devices".into(), "/v2/me/channels".into()])
        .await
        .unwrap();
    if expect == "long-polling" {
        assert!(
            cookies
                .lock()
                .unwrap()
                .header_for("/api/v2/notifications")
                .is_some_and(|c| c.contains("BAYEUX_BROWSER=")),
            "the BAYEUX_BROWSER cookie lands in the session's store"
        );
    }
    // The server publishes on its bus: the client gets it.
    let bus = server.notifications();
    bus.publish(
        "agent3",
        json!({"channel": "/v2/me/devices", "data": {"n": 1}}),
    );
    bus.publish(
        "agent9",
        json!({"channel": "/v2/me/devices", "data": {"other": "agent"}}),
    );
    bus.publish(
        "agent3",
        json!({"channel": "/v2/me/calls", "data": {"not": "subscribed"}}),
    );
    bus.publish(
        "agent3",
        json!({"channel": "/v2/me/channels", "data": {"n": 2}}),
    );
    assert_eq!(next_message(&mut rx, 2000).await.unwrap()["data"]["n"], 1);
    assert_eq!(next_message(&mut rx, 2000).await.unwrap()["data"]["n"], 2);
    // After unsubscribing, only the channel still subscribed is delivered (in order, so the first
    // message would have come first).
    client
        .unsubscribe(&["/v2/me/devices".into()])
        .await
        .unwrap();
    assert_eq!(client.subscriptions(), vec!["/v2/me/channels".to_string()]);
    bus.publish(
        "agent3",
        json!({"channel": "/v2/me/devices", "data": {"n": 3}}),
    );
    bus.publish(
        "agent3",
        json!({"channel": "/v2/me/channels", "data": {"n": 4}}),
    );
    assert_eq!(next_message(&mut rx, 2000).await.unwrap()["data"]["n"], 4);
    let started = Instant::now();
    client.disconnect().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a held connect does not delay the goodbye"
    );
    let started = Instant::now();
    server.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "no long poll holds the shutdown"
    );
}

#[tokio::test]
async fn talks_long_polling_to_the_reference_server() {
    against_reference(Transport::LongPolling, "long-polling").await;
}

#[tokio::test]
async fn talks_websocket_to_the_reference_server() {
    against_reference(Transport::Websocket, "websocket").await;
}

#[tokio::test]
async fn auto_prefers_the_websocket_the_reference_offers() {
    against_reference(Transport::Auto, "websocket").await;
}

#[tokio::test]
async fn the_reference_refuses_a_handshake_without_credentials() {
    let server = reference().await;
    let endpoint = format!("{}/api/v2/notifications", server.url());
    let (auth, _) = auth(None);
    let err = CometdClient::start(
        reqwest::Client::new(),
        config(&endpoint, Transport::Auto, 2000),
        auth,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(
        err,
        CometdError::Refused {
            target: endpoint.clone(),
            channel: "/meta/handshake".into(),
            error: "403::Handshake denied".into()
        }
    );
    assert!(err.to_string().starts_with(&endpoint));
}

// ---------------------------------------------------------------------------------------------------
// Misbehaving servers.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Refuse,
    Http500,
    Garbage,
    Hang,
    NoClientId,
    LongPollingOnly,
    Rehandshake,
    /// The first `/meta/connect` of the first client id is refused, advising a new handshake.
    RehandshakeFirst,
    ReconnectNone,
    Interval,
    Cookie,
}

struct Fake {
    mode: Mode,
    handshakes: AtomicUsize,
    connects: Mutex<Vec<Instant>>,
    subscribes: Mutex<Vec<(String, String)>>,
    delivered: AtomicUsize,
}

async fn fake(mode: Mode) -> (String, Arc<Fake>) {
    let state = Arc::new(Fake {
        mode,
        handshakes: AtomicUsize::new(0),
        connects: Mutex::new(Vec::new()),
        subscribes: Mutex::new(Vec::new()),
        delivered: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/cometd", axum::routing::post(fake_handler))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/cometd"), state)
}

async fn fake_handler(State(f): State<Arc<Fake>>, headers: HeaderMap, body: String) -> Response {
    match f.mode {
        Mode::Http500 => return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        Mode::Garbage => return (StatusCode::OK, "<html>not bayeux</html>").into_response(),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return StatusCode::OK.into_response();
        }
        _ => {}
    }
    let messages: Vec<Value> = serde_json::from_str(&body).unwrap();
    let cookie_ok = headers
        .get("cookie")
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.contains("BAYEUX_BROWSER=b-42"));
    let mut out = Vec::new();
    let mut set_cookie = false;
    for m in messages {
        let id = m["id"].clone();
        let channel = m["channel"].as_str().unwrap_or_default().to_string();
        let client = m["clientId"].as_str().unwrap_or_default().to_string();
        let reply = match channel.as_str() {
            "/meta/handshake" => {
                let n = f.handshakes.fetch_add(1, Ordering::SeqCst) + 1;
                match f.mode {
                    Mode::Refuse => {
                        json!({"id": id, "channel": channel, "successful": false, "error": "403::nope"})
                    }
                    Mode::NoClientId => {
                        json!({"id": id, "channel": channel, "successful": true, "supportedConnectionTypes": ["long-polling"]})
                    }
                    _ => {
                        set_cookie = f.mode == Mode::Cookie;
                        let interval = if f.mode == Mode::Interval { 150 } else { 0 };
                        json!({"id": id, "channel": channel, "successful": true, "clientId": format!("c{n}"),
                            "supportedConnectionTypes": ["long-polling"], "advice": {"reconnect": "retry", "interval": interval, "timeout": 200}})
                    }
                }
            }
            _ if f.mode == Mode::Cookie && !cookie_ok => {
                json!({"id": id, "channel": channel, "successful": false, "error": "402::session_unknown", "advice": {"reconnect": "handshake"}})
            }
            "/meta/connect" => {
                let first = m.pointer("/advice/timeout") == Some(&json!(0));
                f.connects.lock().unwrap().push(Instant::now());
                let n = f.handshakes.load(Ordering::SeqCst);
                match f.mode {
                    Mode::RehandshakeFirst if first && n == 1 => {
                        json!({"id": id, "channel": channel, "successful": false, "error": "402::Unknown client", "advice": {"reconnect": "handshake", "interval": 0}})
                    }
                    Mode::Rehandshake if !first && n == 1 => {
                        json!({"id": id, "channel": channel, "successful": false, "error": "402::unknown_client", "advice": {"reconnect": "handshake", "interval": 0}})
                    }
                    Mode::ReconnectNone if !first => {
                        json!({"id": id, "channel": channel, "successful": false, "error": "403::go away", "advice": {"reconnect": "none"}})
                    }
                    _ => {
                        if !first {
                            tokio::time::sleep(Duration::from_millis(30)).await;
                        }
                        if f.mode == Mode::Cookie
                            && !f.subscribes.lock().unwrap().is_empty()
                            && f.delivered.fetch_add(1, Ordering::SeqCst) == 0
                        {
                            out.push(json!({"channel": "/x", "data": {"hello": "cookie"}}));
                        }
                        let interval = if f.mode == Mode::Interval { 150 } else { 0 };
                        json!({"id": id, "channel": channel, "successful": true, "advice": {"interval": interval}})
                    }
                }
            }
            "/meta/subscribe" => {
                f.subscribes.lock().unwrap().push((
                    client,
                    m["subscription"].as_str().unwrap_or_default().to_string(),
                ));
                json!({"id": id, "channel": channel, "successful": true, "subscription": m["subscription"]})
            }
            _ => json!({"id": id, "channel": channel, "successful": true}),
        };
        out.push(reply);
    }
    let mut r = (StatusCode::OK, Value::Array(out).to_string()).into_response();
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    if set_cookie {
        r.headers_mut()
            .insert("set-cookie", "BAYEUX_BROWSER=b-42; Path=/".parse().unwrap());
    }
    r
}

async fn start_err(mode: Mode, transport: Transport) -> (CometdError, String) {
    let (endpoint, _) = fake(mode).await;
    let (auth, _) = auth(Some("agent1"));
    let started = Instant::now();
    let err = CometdClient::start(
        reqwest::Client::new(),
        config(&endpoint, transport, 400),
        auth,
    )
    .await
    .err()
    .expect("the start must fail");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "bounded: {:?}",
        started.elapsed()
    );
    assert!(err.to_string().starts_with(&endpoint), "{err}");
    (err, endpoint)
}

#[tokio::test]
async fn a_refused_handshake_is_a_typed_error() {
    let (err, _) = start_err(Mode::Refuse, Transport::Auto).await;
    assert!(
        matches!(&err, CometdError::Refused { channel, error, .. } if channel == "/meta/handshake" && error == "403::nope"),
        "{err}"
    );
}

#[tokio::test]
async fn an_http_error_is_reported_with_its_status_and_body() {
    let (err, _) = start_err(Mode::Http500, Transport::Auto).await;
    assert!(
        matches!(&err, CometdError::Http { status: 500, preview, .. } if preview == "boom"),
        "{err}"
    );
}

#[tokio::test]
async fn a_non_bayeux_answer_is_a_protocol_error() {
    let (err, _) = start_err(Mode::Garbage, Transport::Auto).await;
    assert!(err.to_string().contains("the answer is not JSON"), "{err}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let (err, _) = start_err(Mode::Hang, Transport::Auto).await;
    assert!(
        matches!(&err, CometdError::Timeout { channel, .. } if channel == "/meta/handshake"),
        "{err}"
    );
}

#[tokio::test]
async fn a_handshake_without_client_id_is_a_protocol_error() {
    let (err, _) = start_err(Mode::NoClientId, Transport::Auto).await;
    assert!(err.to_string().contains("carries no clientId"), "{err}");
}

#[tokio::test]
async fn websocket_demanded_but_not_offered_is_an_error() {
    let (err, _) = start_err(Mode::LongPollingOnly, Transport::Websocket).await;
    assert!(matches!(err, CometdError::NoWebsocket { .. }), "{err}");
    // With `auto` the same server is fine over long-polling.
    let (endpoint, _) = fake(Mode::LongPollingOnly).await;
    let (auth, _) = auth(Some("agent1"));
    let (c, _rx) = CometdClient::start(
        reqwest::Client::new(),
        config(&endpoint, Transport::Auto, 400),
        auth,
    )
    .await
    .unwrap();
    assert_eq!(c.connection_type(), "long-polling");
}

#[tokio::test]
async fn reconnect_handshake_handshakes_and_subscribes_again() {
    let (endpoint, f) = fake(Mode::Rehandshake).await;
    let (auth, _) = auth(Some("agent1"));
    let (c, mut rx) = CometdClient::start(
        reqwest::Client::new(),
        config(&endpoint, Transport::Auto, 1000),
        auth,
    )
    .await
    .unwrap();
    c.subscribe(&["/x".into()]).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut noted = false;
    while !noted {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ClientEvent::Note(n))) => noted = n.contains("reconnect=handshake"),
            Ok(Some(ClientEvent::Failed(e))) => panic!("{e}"),
            Ok(_) => {}
            Err(_) => panic!("no re-handshake within 3 s"),
        }
    }
    // The subscription is renewed right after the second handshake.
    while f.subscribes.lock().unwrap().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no re-subscription within 3 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(noted, "the re-handshake is noted");
    assert_eq!(f.handshakes.load(Ordering::SeqCst), 2);
    let subs = f.subscribes.lock().unwrap().clone();
    assert_eq!(
        subs,
        vec![("c1".into(), "/x".into()), ("c2".into(), "/x".into())]
    );
}

/// A refusal of the very first `/meta/connect` that advises a new handshake (a cluster node that did
/// not see the handshake) is followed, not taken as a broken session: the client handshakes again and
/// subscribes with its new client id.
#[tokio::test]
async fn a_first_connect_refused_with_reconnect_handshake_handshakes_again() {
    let (endpoint, f) = fake(Mode::RehandshakeFirst).await;
    let (auth, _) = auth(Some("agent1"));
    let (c, mut rx) = CometdClient::start_subscribed(
        reqwest::Client::new(),
        config(&endpoint, Transport::Auto, 1000),
        auth,
        &["/x".into()],
    )
    .await
    .unwrap_or_else(|e| panic!("the client gave up: {e}"));
    assert_eq!(f.handshakes.load(Ordering::SeqCst), 2);
    let subs = f.subscribes.lock().unwrap().clone();
    assert_eq!(subs.last(), Some(&("c2".to_string(), "/x".to_string())));
    let mut noted = false;
    while let Ok(e) = rx.try_recv() {
        noted |=
            matches!(&e, ClientEvent::Note(n) if n.contains("first /meta/connect was refused"));
    }
    assert!(noted, "the re-handshake is noted");
    assert_eq!(c.subscriptions(), ["/x"]);
}

#[tokio::test]
async fn reconnect_none_ends_the_session_with_an_error() {
    let (endpoint, _) = fake(Mode::ReconnectNone).await;
    let (auth, _) = auth(Some("agent1"));
    let (_c, mut rx) = CometdClient::start(
        reqwest::Client::new(),
        config(&endpoint, Transport::Auto, 1000),
        auth,
    )
    .await
    .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match rx.recv().await {
                Some(ClientEvent::Failed(e)) => return e,
                Some(_) => continue,
                None => panic!("closed without a failure"),
            }
        }
    })
    .await
    .expect("the failure is reported within 3 s");
    assert!(
        matches!(&event, CometdError::ReconnectNone { error, .. } if error == "403::go away"),
        "{event}"
    );
}

#[tokio::test]
async fn the_advised_interval_spaces_the_connects() {
    let (endpoint, f) = fake(Mode::Interval).await;
    let (auth, _) = auth(Some("agent1"));
    let (c, _rx) = CometdClient::start(
        reqwest::Client::new(),
        config(&endpoint, Transport::Auto, 1000),
        auth,
    )
    .await
    .unwrap();
    assert_eq!(c.advice().interval, Duration::from_millis(150));
    let deadline = Instant::now() + Duration::from_secs(3);
    while f.connects.lock().unwrap().len() < 4 {
        assert!(Instant::now() < deadline, "too few connects");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let times = f.connects.lock().unwrap().clone();
    for w in times.windows(2).skip(1) {
        assert!(
            w[1] - w[0] >= Duration::from_millis(150),
            "connects {:?} apart",
            w[1] - w[0]
        );
    }
}

#[tokio::test]
async fn the_bayeux_browser_cookie_is_kept_in_the_session_store() {
    let (endpoint, _) = fake(Mode::Cookie).await;
    let (auth, cookies) = auth(Some("agent1"));
    let (c, mut rx) = CometdClient::start(
        reqwest::Client::new(),
        config(&endpoint, Transport::Auto, 1000),
        auth,
    )
    .await
    .expect("every message after the handshake needs the cookie");
    c.subscribe(&["/x".into()]).await.unwrap();
    assert_eq!(
        next_message(&mut rx, 2000).await.unwrap()["data"]["hello"],
        "cookie"
    );
    let store: CookieStore = cookies.lock().unwrap().clone();
    assert_eq!(
        store.header_for("/cometd").as_deref(),
        Some("BAYEUX_BROWSER=b-42")
    );
    c.disconnect().await.unwrap();
}
