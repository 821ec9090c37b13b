//! Each conforming variant differs from the default server on the wire: every test asks the same
//! question of a default server and of one with the variant, and shows the answers differ as the
//! catalogue says.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use gws_reference::{start, Directory, Fault, RunningServer, ServerConfig, Variant};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PW: &str = "agent-secret";
const LC_PW: &str = "login-code-secret";
const CSRF: &str = "Missing or invalid Csrf token";

async fn server_with(variants: &[Variant], fault: Option<Fault>, csrf: bool) -> RunningServer {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let config = ServerConfig {
        fault,
        variants: variants.to_vec(),
        csrf,
        ..ServerConfig::new(addr, Directory::builtin(PW, LC_PW))
    };
    start(config).await.unwrap()
}

/// The default server and one with `variant`, CSRF as asked.
async fn pair(variant: Variant, csrf: bool) -> (RunningServer, RunningServer) {
    (
        server_with(&[], None, csrf).await,
        server_with(&[variant], None, csrf).await,
    )
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
    fn set_cookie(&self, name: &str) -> bool {
        self.headers
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with(&format!("{name}=")))
    }
}

/// One agent's browser: a cookie store, Basic credentials, and the CSRF token once fetched.
struct Agent {
    http: reqwest::Client,
    base: String,
    user: String,
    token: Option<String>,
}

impl Agent {
    fn new(server: &RunningServer, user: &str) -> Agent {
        Agent {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            base: server.url(),
            user: user.to_string(),
            token: None,
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>, basic: bool) -> Answer {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if basic {
            req = req.basic_auth(&self.user, Some(PW));
        }
        if let Some(t) = &self.token {
            req = req.header("X-CSRF-TOKEN", t);
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        Answer {
            status: resp.status(),
            headers: resp.headers().clone(),
            bytes: resp.bytes().await.unwrap().to_vec(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, true).await
    }

    /// A GET that keeps the CSRF token it answers.
    async fn fetch_token(&mut self) -> String {
        let a = self.get("/api/v2/me").await;
        let token = a.header("x-csrf-token").expect("a CSRF token");
        self.token = Some(token.clone());
        token
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body), true).await
    }

    async fn start(&self, extra: Value) -> Answer {
        let mut body = json!({"operationName": "StartContactCenterSession", "channels": ["voice"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.post("/api/v2/me", body).await
    }

    async fn end(&self) -> Answer {
        self.post(
            "/api/v2/me",
            json!({"operationName": "EndContactCenterSession"}),
        )
        .await
    }

    /// The userState.state of the agent's first device.
    async fn state(&self) -> String {
        let d = self.get("/api/v2/me/devices?fields=*").await.json();
        d["devices"][0]["userState"]["state"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A long-polling Bayeux batch.
    async fn bayeux(&self, messages: Value) -> Answer {
        self.send(Method::POST, "/api/v2/notifications", Some(messages), true)
            .await
    }

    async fn handshake(&self) -> Answer {
        self.bayeux(json!([{"channel": "/meta/handshake", "version": "1.0",
            "supportedConnectionTypes": ["websocket", "long-polling"]}]))
            .await
    }
}

/// The request's raw response head (lower-case header names) over a fresh TCP connection.
async fn raw_head(server: &RunningServer, request: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Up to the end of the head: a 101 keeps the connection open.
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    head.to_lowercase()
}

/// Messages published for `user` within `ms` milliseconds.
async fn heard(rx: &mut tokio::sync::broadcast::Receiver<Value>, ms: u64) -> Vec<Value> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(Ok(m)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        out.push(m);
    }
    out
}

fn dsc_states(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m["data"]["messageType"] == "DeviceStateChangeMessage")
        .map(|m| {
            m["data"]["devices"][0]["userState"]["state"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn pretty_reversed_json_in_rest_and_cometd() {
    let (d, v) = pair(Variant::PrettyReversedJson, false).await;
    // Whether `a` comes before `b` in the text.
    let before = |text: &str, a: &str, b: &str| text.find(a).unwrap() < text.find(b).unwrap();
    let (mut outer, mut inner) = (None, None);
    for (server, pretty) in [(&d, false), (&v, true)] {
        let a = Agent::new(server, "agent1");
        let me = a.get("/api/v2/me").await;
        let text = me.text();
        assert_eq!(text.contains("\n  "), pretty, "{text}");
        // The member order of the default server, then its reverse.
        let o = before(&text, "\"statusCode\"", "\"user\"");
        let i = before(&text, "\"userName\"", "\"uri\"");
        assert_eq!(*outer.get_or_insert(o), o != pretty, "{text}");
        assert_eq!(*inner.get_or_insert(i), i != pretty, "{text}");
        assert_eq!(me.json()["user"]["userName"], "agent1");
        let hs = a.handshake().await.text();
        assert_eq!(hs.contains("\n  "), pretty, "{hs}");
    }
}

#[tokio::test]
async fn chunked_bodies_have_no_content_length() {
    let (d, v) = pair(Variant::Chunked, false).await;
    let req = "GET /api/v2/diagnostics/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let plain = raw_head(&d, req).await;
    assert!(plain.contains("content-length:") && !plain.contains("transfer-encoding"));
    let chunked = raw_head(&v, req).await;
    assert!(chunked.contains("transfer-encoding: chunked"), "{chunked}");
    assert!(!chunked.contains("content-length:"), "{chunked}");
    // reqwest reads the chunks back into the same body.
    let version = Agent::new(&v, "agent1")
        .get("/api/v2/diagnostics/version")
        .await;
    assert_eq!(version.json()["statusCode"], 0);
}

#[tokio::test]
async fn gzip_only_when_accepted() {
    let (d, v) = pair(Variant::Gzip, false).await;
    let get = |server: &RunningServer, accept: Option<&str>| {
        // No transparent decompression (the workspace builds reqwest with gzip): the test reads
        // the encoding as sent.
        let client = reqwest::Client::builder().no_gzip().build().unwrap();
        let mut req = client.get(format!("{}/api/v2/me", server.url()));
        req = req.basic_auth("agent1", Some(PW));
        if let Some(a) = accept {
            req = req.header("Accept-Encoding", a);
        }
        req.send()
    };
    let plain = get(&d, Some("gzip")).await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let unasked = get(&v, None).await.unwrap();
    assert!(unasked.headers().get("content-encoding").is_none());
    let zipped = get(&v, Some("deflate, gzip")).await.unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    let bytes = zipped.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["user"]["userName"],
        "agent1"
    );
}

#[tokio::test]
async fn charset_spellings() {
    let d = server_with(&[], None, true).await;
    let c = server_with(&[Variant::Charset], None, true).await;
    let n = server_with(&[Variant::NoCharset], None, true).await;
    let expect = [
        (
            &d,
            "application/json;charset=UTF-8",
            "text/plain;charset=UTF-8",
        ),
        (
            &c,
            "application/json; charset=utf-8",
            "text/plain; charset=utf-8",
        ),
        (&n, "application/json", "text/plain"),
    ];
    for (server, json, text) in expect {
        let a = Agent::new(server, "agent1");
        assert_eq!(
            a.get("/api/v2/me").await.header("content-type").unwrap(),
            json
        );
        let refused = a.start(json!({})).await;
        assert_eq!(refused.text(), CSRF);
        assert_eq!(refused.header("content-type").unwrap(), text);
        let hs = a.handshake().await;
        assert_eq!(hs.header("content-type").unwrap(), json);
    }
}

#[tokio::test]
async fn extra_fields_everywhere_but_errors() {
    let (d, v) = pair(Variant::ExtraFields, false).await;
    for (server, extra) in [(&d, false), (&v, true)] {
        let mut rx = server.notifications().subscribe("agent1");
        let a = Agent::new(server, "agent1");
        let started = a.start(json!({})).await.json();
        assert_eq!(started["statusCode"], 0);
        assert_eq!(started.get("referenceId").is_some(), extra, "{started}");
        let user = a.get("/api/v2/me").await.json();
        assert_eq!(user["user"].get("emailAddress").is_some(), extra);
        let devices = a.get("/api/v2/me/devices?fields=*").await.json();
        assert_eq!(devices["devices"][0].get("extra").is_some(), extra);
        let dsc = &heard(&mut rx, 200).await[0];
        assert_eq!(dsc["data"].get("metrics").is_some(), extra, "{dsc}");
        let error = a
            .post(
                "/api/v2/me",
                json!({"operationName": "StartContactCenterSession"}),
            )
            .await
            .json();
        assert_eq!(
            error.as_object().unwrap().len(),
            2,
            "errors stay two keys: {error}"
        );
    }
}

#[tokio::test]
async fn unknown_channel_refused_as_a_whole() {
    let (d, v) = pair(Variant::UnknownChannelRefused, false).await;
    let a = Agent::new(&d, "agent1");
    let partial = a.start(json!({"channels": ["voice", "fax"]})).await;
    assert_eq!(partial.json()["statusCode"], 7);
    let a = Agent::new(&v, "agent1");
    let refused = a.start(json!({"channels": ["voice", "fax"]})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["statusCode"], 2);
    assert_eq!(a.state().await, "LoggedOut", "nothing was logged in");
    let only = a.start(json!({"channels": ["fax"]})).await;
    assert_eq!(
        (only.status.as_u16(), only.json()["statusCode"].clone()),
        (400, json!(2))
    );
}

#[tokio::test]
async fn unknown_channel_ignored() {
    let (d, v) = pair(Variant::UnknownChannelIgnored, false).await;
    let a = Agent::new(&d, "agent1");
    assert_eq!(a.start(json!({"channels": ["fax"]})).await.status, 400);
    let a = Agent::new(&v, "agent1");
    let only = a.start(json!({"channels": ["fax"]})).await;
    assert_eq!(
        (only.status, only.json()),
        (StatusCode::OK, json!({"statusCode": 0}))
    );
    assert_eq!(a.state().await, "LoggedOut");
    let both = a.start(json!({"channels": ["voice", "fax"]})).await;
    assert_eq!(both.json(), json!({"statusCode": 0}));
    assert_eq!(a.state().await, "NotReady");
}

#[tokio::test]
async fn empty_channels_noop() {
    let (d, v) = pair(Variant::EmptyChannelsNoop, false).await;
    assert_eq!(
        Agent::new(&d, "agent1")
            .start(json!({"channels": []}))
            .await
            .status,
        400
    );
    let a = Agent::new(&v, "agent1");
    let ok = a.start(json!({"channels": []})).await;
    assert_eq!(
        (ok.status, ok.json()),
        (StatusCode::OK, json!({"statusCode": 0}))
    );
    assert_eq!(a.state().await, "LoggedOut");
}

#[tokio::test]
async fn workmode_case_insensitive() {
    let (d, v) = pair(Variant::WorkmodeCaseInsensitive, false).await;
    let lower = json!({"workmode": "manualin"});
    assert_eq!(
        Agent::new(&d, "agent1").start(lower.clone()).await.status,
        400
    );
    let a = Agent::new(&v, "agent1");
    assert_eq!(a.start(lower).await.json(), json!({"statusCode": 0}));
    let b = Agent::new(&v, "agent2");
    assert_eq!(b.start(json!({"workmode": "aManualIn"})).await.status, 400);
}

#[tokio::test]
async fn failed_channel_named_as_requested() {
    let (d, v) = pair(Variant::FailedChannelRequestedName, false).await;
    for (server, name) in [(&d, "multimedia"), (&v, "chat")] {
        let a = Agent::new(server, "agent4");
        let partial = a.start(json!({"channels": ["voice", "chat"]})).await.json();
        assert_eq!(partial["statusCode"], 7);
        assert_eq!(partial["failed"][0]["channel"], name, "{partial}");
        assert_eq!(partial["succeeded"][0]["channel"], "voice");
    }
}

#[tokio::test]
async fn async_switch_password_and_dynamic_number() {
    let cases = [
        (
            Variant::AsyncSwitchPassword,
            json!({"place": "agent1", "loginCode": "agent1", "agentLoginPassword": "wrong"}),
            2,
        ),
        (
            Variant::AsyncDynamicNumber,
            json!({"dynamicPhoneNumber": "+15550100999"}),
            18,
        ),
        (
            Variant::AsyncPlaceRefusal,
            json!({"place": "PLACE_MULTI_EXT"}),
            2,
        ),
    ];
    for (variant, body, code) in cases {
        let (d, v) = pair(variant, false).await;
        let refused = Agent::new(&d, "agent3").start(body.clone()).await;
        assert_eq!(
            (
                refused.status.as_u16(),
                refused.json()["statusCode"].clone()
            ),
            (400, json!(code))
        );
        let mut rx = v.notifications().subscribe("agent3");
        let a = Agent::new(&v, "agent3");
        let accepted = a.start(body).await;
        assert_eq!(accepted.json(), json!({"statusCode": 0}), "{variant}");
        let messages = heard(&mut rx, 200).await;
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0]["data"]["messageType"], "ErrorMessage");
        assert_eq!(a.state().await, "LoggedOut", "no login happened");
    }
}

#[tokio::test]
async fn end_without_session_is_an_error() {
    let (d, v) = pair(Variant::EndWithoutSessionError, false).await;
    assert_eq!(
        Agent::new(&d, "agent1").end().await.json(),
        json!({"statusCode": 0})
    );
    let a = Agent::new(&v, "agent1");
    let refused = a.end().await;
    assert_eq!(
        (
            refused.status.as_u16(),
            refused.json()["statusCode"].clone()
        ),
        (400, json!(2))
    );
    assert_eq!(a.start(json!({})).await.json(), json!({"statusCode": 0}));
    assert_eq!(a.end().await.json(), json!({"statusCode": 0}));
}

#[tokio::test]
async fn access_denied_401() {
    let (d, v) = pair(Variant::AccessDenied401, false).await;
    for (server, status) in [(&d, 403), (&v, 401)] {
        let a = Agent::new(server, "agent1");
        let denied = a.send(Method::GET, "/api/v2/me", None, false).await;
        assert_eq!(denied.status.as_u16(), status);
        assert_eq!(
            denied.json(),
            json!({"statusCode": 20, "statusMessage": "Access denied"})
        );
    }
}

#[tokio::test]
async fn csrf_token_rotates_on_every_get() {
    let (d, v) = pair(Variant::CsrfRotateOnGet, true).await;
    let mut a = Agent::new(&d, "agent1");
    let first = a.fetch_token().await;
    assert_eq!(a.fetch_token().await, first);
    let mut a = Agent::new(&v, "agent1");
    let first = a.fetch_token().await;
    let second = a.fetch_token().await;
    assert_ne!(first, second);
    a.token = Some(first);
    assert_eq!(
        a.start(json!({})).await.text(),
        CSRF,
        "the old token stopped working"
    );
    a.token = Some(second);
    assert_eq!(a.start(json!({})).await.json(), json!({"statusCode": 0}));
}

#[tokio::test]
async fn new_session_after_end_on_rest_and_cometd() {
    let (d, v) = pair(Variant::NewSessionAfterEnd, true).await;
    for (server, issues) in [(&d, false), (&v, true)] {
        let mut a = Agent::new(server, "agent1");
        a.fetch_token().await;
        assert_eq!(a.start(json!({})).await.json(), json!({"statusCode": 0}));
        assert_eq!(a.end().await.json(), json!({"statusCode": 0}));
        // The first request after End, refused for its old token, still opens a session.
        let refused = a.start(json!({})).await;
        assert_eq!(
            (refused.status.as_u16(), refused.text()),
            (403, CSRF.to_string())
        );
        assert_eq!(refused.set_cookie("JSESSIONID"), issues);
        let b = Agent::new(server, "agent2");
        let hs = b.handshake().await;
        assert_eq!(hs.json()[0]["successful"], true);
        assert_eq!(hs.set_cookie("JSESSIONID"), issues, "CometD opens one too");
    }
}

#[tokio::test]
async fn cometd_posts_need_the_csrf_token() {
    let (d, v) = pair(Variant::CometdCsrf, true).await;
    assert_eq!(
        Agent::new(&d, "agent1").handshake().await.json()[0]["successful"],
        true
    );
    let mut a = Agent::new(&v, "agent1");
    let refused = a.handshake().await;
    assert_eq!(
        (refused.status.as_u16(), refused.text()),
        (403, CSRF.to_string())
    );
    a.fetch_token().await;
    assert_eq!(a.handshake().await.json()[0]["successful"], true);
}

#[tokio::test]
async fn notifications_arrive_well_before_the_answer() {
    let (d, v) = pair(Variant::NotifyBeforeResponse, false).await;
    for (server, lead) in [(&d, false), (&v, true)] {
        let mut rx = server.notifications().subscribe("agent1");
        let a = Agent::new(server, "agent1");
        let listen = tokio::spawn(async move {
            rx.recv().await.unwrap();
            Instant::now()
        });
        let sent = Instant::now();
        assert_eq!(a.start(json!({})).await.json(), json!({"statusCode": 0}));
        let answered = Instant::now();
        let published = listen.await.unwrap();
        assert!(published < answered);
        let gap = answered - published;
        assert_eq!(
            gap >= Duration::from_millis(200),
            lead,
            "{gap:?} after {:?}",
            published - sent
        );
    }
}

#[tokio::test]
async fn login_and_logout_notifications() {
    let expect: [(&[Variant], &[&str], &[&str]); 4] = [
        (&[], &["LoggedIn", "Ready"], &["LoggedOut"]),
        (
            &[Variant::OneLoginNotification],
            &["LoggedIn"],
            &["LoggedOut"],
        ),
        (
            &[Variant::LoginNotReady],
            &["LoggedIn", "NotReady"],
            &["LoggedOut"],
        ),
        (
            &[Variant::NoLogoutNotification],
            &["LoggedIn", "Ready"],
            &[],
        ),
    ];
    for (variants, login, logout) in expect {
        let server = server_with(variants, None, false).await;
        let mut rx = server.notifications().subscribe("agent1");
        let a = Agent::new(&server, "agent1");
        assert_eq!(
            a.start(json!({"workmode": "AutoIn"})).await.json()["statusCode"],
            0
        );
        assert_eq!(
            dsc_states(&heard(&mut rx, 200).await),
            login,
            "{variants:?}"
        );
        let state = if variants == [Variant::LoginNotReady] {
            "NotReady"
        } else {
            "Ready"
        };
        assert_eq!(a.state().await, state);
        assert_eq!(a.end().await.json()["statusCode"], 0);
        assert_eq!(
            dsc_states(&heard(&mut rx, 200).await),
            logout,
            "{variants:?}"
        );
    }
}

#[tokio::test]
async fn cometd_transports_offered() {
    let upgrade = |server: &RunningServer| {
        format!(
            "GET /api/v2/notifications HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {}\r\n\
             Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            server.addr(),
            "YWdlbnQxOmFnZW50LXNlY3JldA=="
        )
    };
    let expect: [(&[Variant], Value, &str); 3] = [
        (&[], json!(["websocket", "long-polling"]), "101"),
        (&[Variant::LongPollingOnly], json!(["long-polling"]), "400"),
        (&[Variant::WebsocketOnly], json!(["websocket"]), "101"),
    ];
    for (variants, types, status) in expect {
        let server = server_with(variants, None, false).await;
        let a = Agent::new(&server, "agent1");
        let hs = a.handshake().await.json();
        assert_eq!(hs[0]["supportedConnectionTypes"], types, "{variants:?}");
        let head = raw_head(&server, &upgrade(&server)).await;
        assert!(
            head.starts_with(&format!("http/1.1 {status}")),
            "{variants:?}: {head}"
        );
        let client = hs[0]["clientId"].clone();
        let sub = a
            .bayeux(json!([{"channel": "/meta/subscribe", "clientId": client, "subscription": "/v2/me/devices"}]))
            .await
            .json();
        let websocket_only = variants == [Variant::WebsocketOnly];
        assert_eq!(sub[0]["successful"], !websocket_only, "{sub}");
    }
}

#[tokio::test]
async fn wrong_method_400_and_no_agent_state() {
    let (d, v) = pair(Variant::WrongMethod400, false).await;
    for (server, status) in [(&d, 405), (&v, 400)] {
        let a = Agent::new(server, "agent1");
        let put = a
            .send(Method::PUT, "/api/v2/me", Some(json!({})), true)
            .await;
        assert_eq!(put.status.as_u16(), status);
        assert_eq!(put.json()["statusCode"], 2);
        assert_eq!(put.header("allow").is_some(), status == 405);
    }
    let (d, v) = pair(Variant::NoAgentState, false).await;
    for (server, status) in [(&d, 200), (&v, 404)] {
        let a = Agent::new(server, "agent1");
        a.start(json!({})).await;
        let ready = a
            .post(
                "/api/v2/me/channels/voice",
                json!({"operationName": "Ready"}),
            )
            .await;
        assert_eq!(ready.status.as_u16(), status);
    }
}

#[tokio::test]
async fn variants_combine_with_each_other_and_with_a_fault() {
    let v = server_with(
        &[Variant::Gzip, Variant::NoCharset],
        Some(Fault::JsonAsTextPlain),
        false,
    )
    .await;
    let resp = reqwest::Client::builder()
        .no_gzip()
        .build()
        .unwrap()
        .get(format!("{}/api/v2/me", v.url()))
        .basic_auth("agent1", Some(PW))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert_eq!(resp.headers()["content-type"], "text/plain");
}

#[tokio::test]
async fn all_failed_with_http_200() {
    let (d, v) = pair(Variant::AllFailed200, false).await;
    for (server, status) in [(&d, 500), (&v, 200)] {
        let a = Agent::new(server, "agent4");
        let failed = a.start(json!({"channels": ["chat"]})).await;
        assert_eq!(failed.status.as_u16(), status);
        assert_eq!(failed.json()["statusCode"], 4);
        assert_eq!(failed.json().as_object().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn all_failed_in_the_partial_success_layout() {
    let (d, v) = pair(Variant::AllFailedPartialLayout, false).await;
    let plain = Agent::new(&d, "agent4")
        .start(json!({"channels": ["chat"]}))
        .await;
    assert_eq!(
        plain.json().as_object().unwrap().len(),
        2,
        "{}",
        plain.text()
    );
    let a = Agent::new(&v, "agent4");
    let failed = a.start(json!({"channels": ["chat"]})).await;
    assert_eq!(failed.status.as_u16(), 500);
    let body = failed.json();
    assert_eq!(body["statusCode"], 4);
    assert_eq!(body["succeeded"], json!([]));
    assert_eq!(body["failed"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["failed"][0]["statusCode"], 4);
    assert_eq!(a.state().await, "LoggedOut");
}

#[tokio::test]
async fn cometd_needs_the_session_cookie() {
    let (d, v) = pair(Variant::CometdCookieAuth, false).await;
    assert_eq!(
        Agent::new(&d, "agent1").handshake().await.json()[0]["successful"],
        true
    );
    let a = Agent::new(&v, "agent1");
    let denied = a.handshake().await.json();
    assert_eq!(
        denied[0]["error"], "403::Handshake denied",
        "Basic alone: {denied}"
    );
    a.get("/api/v2/me").await;
    assert_eq!(
        a.handshake().await.json()[0]["successful"],
        true,
        "with the cookie"
    );
}

#[tokio::test]
async fn session_cookie_at_the_root() {
    let (d, v) = pair(Variant::CookiePathRoot, false).await;
    for (server, path) in [(&d, "Path=/api;"), (&v, "Path=/;")] {
        let a = Agent::new(server, "agent1");
        let cookie = a.get("/api/v2/me").await.header("set-cookie").unwrap();
        assert!(
            cookie.starts_with("JSESSIONID=") && cookie.contains(path),
            "{cookie}"
        );
        let again = a.send(Method::GET, "/api/v2/me", None, false).await;
        assert_eq!(again.status, StatusCode::OK, "the cookie alone still works");
    }
}

#[tokio::test]
async fn channel_state_messages_without_message_type() {
    let (d, v) = pair(Variant::ChannelStateUntyped, false).await;
    for (server, typed) in [(&d, true), (&v, false)] {
        let mut rx = server.notifications().subscribe("agent1");
        let a = Agent::new(server, "agent1");
        a.start(json!({"channels": ["voice", "chat"]})).await;
        let messages = heard(&mut rx, 200).await;
        let csc = messages
            .iter()
            .find(|m| m["channel"] == "/v2/me/channels")
            .expect("a channel state message");
        assert_eq!(csc["data"].get("messageType").is_some(), typed, "{csc}");
        assert_eq!(csc["data"]["channels"][0]["channel"], "chat");
        assert_eq!(
            dsc_states(&messages).len(),
            2,
            "device messages keep their type"
        );
    }
}

#[tokio::test]
async fn cometd_advice_interval_and_timeout() {
    let (d, v) = pair(Variant::CometdAdviceInterval, false).await;
    for (server, interval, timeout) in [(&d, 0, 30000), (&v, 1000, 10000)] {
        let a = Agent::new(server, "agent1");
        let hs = a.handshake().await.json();
        assert_eq!(hs[0]["advice"]["interval"], interval);
        assert_eq!(hs[0]["advice"]["timeout"], timeout);
    }
}

#[tokio::test]
async fn wrong_password_challenge_and_denied_post_200() {
    let wrong = |server: &RunningServer, method: Method| {
        reqwest::Client::new()
            .request(method, format!("{}/api/v2/me", server.url()))
            .basic_auth("agent1", Some("not-the-password"))
    };
    let (d, v) = pair(Variant::WrongPasswordChallenge, false).await;
    let denied = wrong(&d, Method::GET).send().await.unwrap();
    assert_eq!(denied.status(), 403);
    let challenged = wrong(&v, Method::GET).send().await.unwrap();
    assert_eq!(challenged.status(), 401);
    assert_eq!(challenged.text().await.unwrap(), "Bad credentials");
    // Requests without credentials keep the anonymous answer.
    let anon = Agent::new(&v, "agent1")
        .send(Method::GET, "/api/v2/me", None, false)
        .await;
    assert_eq!(
        (anon.status.as_u16(), anon.json()["statusCode"].clone()),
        (403, json!(20))
    );

    let (_, v) = pair(Variant::DeniedPost200, false).await;
    let a = Agent::new(&v, "agent1");
    let start = json!({"operationName": "StartContactCenterSession", "channels": ["voice"]});
    let post = a.send(Method::POST, "/api/v2/me", Some(start), false).await;
    assert_eq!(
        (post.status.as_u16(), post.json()),
        (
            200,
            json!({"statusCode": 20, "statusMessage": "Access denied"})
        )
    );
    let get = a.send(Method::GET, "/api/v2/me", None, false).await;
    assert_eq!(get.status, 403);
}

#[tokio::test]
async fn no_channel_state_on_start_and_slow_lab() {
    for (variant, channels) in [
        (Variant::NoChannelStateOnStart, true),
        (Variant::SlowLab, false),
    ] {
        let (d, v) = pair(variant, false).await;
        let count = |messages: &[Value]| {
            messages
                .iter()
                .filter(|m| !channels || m["channel"] == "/v2/me/channels")
                .count()
        };
        let mut rx = d.notifications().subscribe("agent21");
        let body = json!({"channels": ["voice", "chat"]});
        assert_eq!(
            Agent::new(&d, "agent21").start(body.clone()).await.status,
            200
        );
        assert!(
            count(&heard(&mut rx, 300).await) > 0,
            "{variant}: the default publishes"
        );
        let mut rx = v.notifications().subscribe("agent21");
        assert_eq!(Agent::new(&v, "agent21").start(body).await.status, 200);
        assert_eq!(count(&heard(&mut rx, 300).await), 0, "{variant}");
    }
    assert_eq!(
        Variant::SlowLab.notification_window(),
        Some(Duration::from_millis(10_000))
    );
}

#[tokio::test]
async fn late_restore() {
    let numbers = |a: Answer| -> Vec<String> {
        a.json()["user"]["devices"]
            .as_array()
            .map(|d| {
                d.iter()
                    .map(|d| d["phoneNumber"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (d, v) = pair(Variant::LateRestore, false).await;
    for (server, late) in [(&d, false), (&v, true)] {
        let a = Agent::new(server, "agent4");
        assert_eq!(a.start(json!({"place": "PLACE_RESTORE"})).await.status, 200);
        assert_eq!(a.end().await.json(), json!({"statusCode": 0}));
        let b = Agent::new(server, "agent4");
        assert_eq!(b.state().await, "LoggedOut", "the logout is at once");
        let seen = numbers(b.get("/api/v2/me?subresources=devices").await);
        let expected = if late { "6501" } else { "7004" };
        assert_eq!(seen, vec![expected.to_string()], "late: {late}");
    }
    tokio::time::sleep(Duration::from_millis(6100)).await;
    let b = Agent::new(&v, "agent4");
    let seen = numbers(b.get("/api/v2/me?subresources=devices").await);
    assert_eq!(seen, vec!["7004".to_string()], "restored 6 s after End");
}

#[tokio::test]
async fn slow_logout() {
    let (_, v) = pair(Variant::SlowLogout, false).await;
    let a = Agent::new(&v, "agent1");
    assert_eq!(a.start(json!({})).await.status, 200);
    assert_eq!(a.end().await.json(), json!({"statusCode": 0}));
    let b = Agent::new(&v, "agent1");
    assert_ne!(
        b.state().await,
        "LoggedOut",
        "the logout is still under way"
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(b.state().await, "LoggedOut");

    // The logout takes effect on its own time, not at the agent's next request: the device an
    // ended session held is free for another agent then, though its holder has not been back.
    let held = Agent::new(&v, "agent2");
    let place = json!({"place": "PLACE_EXT_ACD"});
    assert_eq!(held.start(place.clone()).await.status, 200);
    assert_eq!(held.end().await.json(), json!({"statusCode": 0}));
    let other = Agent::new(&v, "agent3");
    let soon = other.start(place.clone()).await;
    assert_eq!(soon.status, 409, "still held: {}", soon.text());
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let later = other.start(place).await;
    assert_eq!(later.status, 200, "{}", later.text());
}

#[test]
fn every_variant_of_the_catalogue_has_a_test_here() {
    let source = include_str!("variants.rs");
    for v in Variant::ALL {
        assert!(
            source.contains(&format!("Variant::{v:?},"))
                || source.contains(&format!("Variant::{v:?}]"))
                || source.contains(&format!("Variant::{v:?})")),
            "no test uses {v}"
        );
    }
}

#[tokio::test]
async fn null_refused() {
    let (d, v) = pair(Variant::NullRefused, false).await;
    let body = json!({"place": null});
    assert_eq!(
        Agent::new(&d, "agent1").start(body.clone()).await.status,
        200
    );
    let a = Agent::new(&v, "agent1");
    let refused = a.start(body).await;
    assert_eq!(
        (
            refused.status.as_u16(),
            refused.json()["statusCode"].clone()
        ),
        (400, json!(2))
    );
    assert_eq!(a.state().await, "LoggedOut");
    let workmode = a.start(json!({"workmode": null})).await;
    assert_eq!(workmode.status, 400);
}

#[tokio::test]
async fn async_unknown_value() {
    for body in [
        json!({"queue": "NO_SUCH_QUEUE"}),
        json!({"loginCode": "NO_SUCH_LOGIN"}),
    ] {
        let (d, v) = pair(Variant::AsyncUnknownValue, false).await;
        let refused = Agent::new(&d, "agent3").start(body.clone()).await;
        assert_eq!(
            (
                refused.status.as_u16(),
                refused.json()["statusCode"].clone()
            ),
            (400, json!(2))
        );
        let mut rx = v.notifications().subscribe("agent3");
        let a = Agent::new(&v, "agent3");
        let accepted = a.start(body).await;
        assert_eq!(accepted.json(), json!({"statusCode": 0}));
        let messages = heard(&mut rx, 200).await;
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0]["data"]["messageType"], "ErrorMessage");
        assert_eq!(a.state().await, "LoggedOut", "no login happened");
    }
}

#[tokio::test]
async fn duplicate_channel_refused() {
    let (d, v) = pair(Variant::DuplicateChannelRefused, false).await;
    let twice = json!({"channels": ["voice", "voice"]});
    assert_eq!(
        Agent::new(&d, "agent1").start(twice.clone()).await.json(),
        json!({"statusCode": 0})
    );
    let a = Agent::new(&v, "agent1");
    let refused = a.start(twice).await;
    assert_eq!(
        (
            refused.status.as_u16(),
            refused.json()["statusCode"].clone()
        ),
        (400, json!(2))
    );
    assert_eq!(a.state().await, "LoggedOut");
}
