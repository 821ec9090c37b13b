//! End-to-end tests of the reference server over real HTTP (reqwest with a cookie store).

use std::net::SocketAddr;
use std::time::Duration;

use gws_reference::{start, Directory, Fault, RunningServer, ServerConfig};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PW: &str = "agent-secret";
const LC_PW: &str = "login-code-secret";

async fn server_with(fault: Option<Fault>, csrf: bool, max_body_bytes: usize) -> RunningServer {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    start(ServerConfig {
        addr,
        directory: Directory::builtin(PW, LC_PW),
        fault,
        variants: Vec::new(),
        csrf,
        max_body_bytes,
    })
    .await
    .unwrap()
}

async fn server(fault: Option<Fault>) -> RunningServer {
    server_with(fault, false, 1 << 20).await
}

/// One agent's browser: a cookie store plus optional Basic credentials.
struct Agent {
    http: reqwest::Client,
    base: String,
    user: String,
    password: String,
    csrf_token: Option<String>,
}

struct Answer {
    status: StatusCode,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// Asserts an error: HTTP status, exactly {statusCode, statusMessage}, JSON content type.
    fn assert_error(&self, status: u16, code: i64) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.content_type, "application/json;charset=UTF-8");
        let body = self.json();
        let obj = body.as_object().unwrap();
        assert_eq!(obj.len(), 2, "error has extra keys: {body}");
        assert_eq!(body["statusCode"], code, "body: {body}");
        body["statusMessage"].as_str().unwrap().to_string()
    }

    fn assert_ok(&self) {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text);
        assert_eq!(self.json(), json!({"statusCode": 0}));
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Auth {
    Basic,
    Session,
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
            password: PW.to_string(),
            csrf_token: None,
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<String>, auth: Auth) -> Answer {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if auth == Auth::Basic {
            req = req.basic_auth(&self.user, Some(&self.password));
        }
        if let Some(token) = &self.csrf_token {
            req = req.header("X-CSRF-TOKEN", token);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        }
        let resp = req.send().await.unwrap();
        Answer {
            status: resp.status(),
            content_type: resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap(),
        }
    }

    async fn post(&self, body: Value) -> Answer {
        self.send(
            Method::POST,
            "/api/v2/me",
            Some(body.to_string()),
            Auth::Basic,
        )
        .await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, Auth::Basic).await
    }

    async fn start(&self, extra: Value) -> Answer {
        let mut body = json!({"operationName": "StartContactCenterSession", "channels": ["voice"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.post(body).await
    }

    async fn end(&self) -> Answer {
        self.post(json!({"operationName": "EndContactCenterSession"}))
            .await
    }

    async fn device_ids(&self) -> Vec<String> {
        let a = self.get("/api/v2/me/devices?fields=*").await;
        assert_eq!(a.status, StatusCode::OK);
        a.json()["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    }
}

async fn raw_request(server: &RunningServer, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------------------
// Auth and sessions

#[tokio::test]
async fn anonymous_wrong_password_and_unknown_user_get_403_20() {
    let s = server(None).await;
    let mut a = Agent::new(&s, "agent12");
    let anon = a.send(Method::GET, "/api/v2/me", None, Auth::Session).await;
    assert_eq!(anon.assert_error(403, 20), "Access denied");
    let anon_post = a
        .send(Method::POST, "/api/v2/me", Some("{}".into()), Auth::Session)
        .await;
    anon_post.assert_error(403, 20);
    a.password = "wrong".into();
    a.get("/api/v2/me").await.assert_error(403, 20);
    a.start(json!({})).await.assert_error(403, 20);
    let mut ghost = Agent::new(&s, "nobody");
    ghost.password = PW.into();
    ghost.get("/api/v2/me").await.assert_error(403, 20);
    // The version probe needs no auth.
    let v = a
        .send(
            Method::GET,
            "/api/v2/diagnostics/version",
            None,
            Auth::Session,
        )
        .await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.json()["statusCode"], 0);
    assert!(v.json()["version"].as_str().unwrap().starts_with("8.5."));
    s.shutdown().await;
}

#[tokio::test]
async fn basic_auth_sets_a_session_cookie_that_authenticates_alone() {
    let s = server(None).await;
    let a = Agent::new(&s, "agent12");
    let me = a.get("/api/v2/me").await;
    assert_eq!(me.status, StatusCode::OK);
    let cookie = me
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("JSESSIONID="), "{cookie}");
    assert!(
        cookie.contains("Path=/api") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let user = &me.json()["user"];
    assert_eq!(user["userName"], "agent12");
    assert_eq!(user["roles"], json!(["ROLE_AGENT"]));
    assert_eq!(user["enabled"], true);
    assert!(user["uri"]
        .as_str()
        .unwrap()
        .ends_with(user["path"].as_str().unwrap()));
    // The cookie alone now authenticates, and no new cookie is issued.
    let again = a.send(Method::GET, "/api/v2/me", None, Auth::Session).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.headers.get("set-cookie").is_none());
    // Start works on the session alone.
    let start = a
        .send(
            Method::POST,
            "/api/v2/me",
            Some(
                json!({"operationName": "StartContactCenterSession", "channels": ["voice"]})
                    .to_string(),
            ),
            Auth::Session,
        )
        .await;
    start.assert_ok();
    a.end().await.assert_ok();
    s.shutdown().await;
}

#[tokio::test]
async fn end_invalidates_the_session_and_basic_opens_a_new_one() {
    let s = server(None).await;
    let a = Agent::new(&s, "agent9");
    a.start(json!({})).await.assert_ok();
    assert_eq!(a.device_ids().await, vec!["7009"]);
    a.end().await.assert_ok();
    // The old cookie alone is dead.
    a.send(Method::GET, "/api/v2/me", None, Auth::Session)
        .await
        .assert_error(403, 20);
    // Basic with the dead cookie opens a new session.
    let again = a.get("/api/v2/me").await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.headers.get("set-cookie").is_some());
    // End without a session still answers 0.
    a.end().await.assert_ok();
    a.end().await.assert_ok();
    s.shutdown().await;
}

#[tokio::test]
async fn csrf_tokens_are_issued_on_get_and_required_on_post() {
    let s = server_with(None, true, 1 << 20).await;
    let mut a = Agent::new(&s, "agent12");
    // Anonymous first: auth before CSRF.
    a.send(Method::POST, "/api/v2/me", Some("{}".into()), Auth::Session)
        .await
        .assert_error(403, 20);
    // Basic POST with no session cannot carry a token.
    let refused = a.start(json!({})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.content_type.starts_with("text/plain"));
    assert_eq!(refused.text, "Missing or invalid Csrf token");
    assert!(refused.headers.get("set-cookie").is_none());
    // GET gives the token.
    let me = a.get("/api/v2/me").await;
    assert_eq!(me.headers["x-csrf-header"], "X-CSRF-TOKEN");
    let token = me.headers["x-csrf-token"].to_str().unwrap().to_string();
    // Same session, same token.
    let me2 = a.get("/api/v2/me/devices?fields=*").await;
    assert_eq!(me2.headers["x-csrf-token"].to_str().unwrap(), token);
    // Without the header: refused; wrong token: refused; right token: accepted.
    assert_eq!(a.start(json!({})).await.status, StatusCode::FORBIDDEN);
    a.csrf_token = Some("00000000-0000-0000-0000-000000000000".into());
    assert_eq!(
        a.start(json!({})).await.text,
        "Missing or invalid Csrf token"
    );
    a.csrf_token = Some(token.clone());
    a.start(json!({})).await.assert_ok();
    // PUT and DELETE also need it.
    a.csrf_token = None;
    let put = a
        .send(Method::PUT, "/api/v2/me", Some("{}".into()), Auth::Basic)
        .await;
    assert_eq!(put.text, "Missing or invalid Csrf token");
    // A token without the cookie is refused (fresh cookie store).
    let mut stranger = Agent::new(&s, "agent12");
    stranger.csrf_token = Some(token.clone());
    assert_eq!(stranger.end().await.status, StatusCode::FORBIDDEN);
    a.csrf_token = Some(token);
    a.end().await.assert_ok();
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------------------
// HTTP surface

#[tokio::test]
async fn methods_paths_bodies_and_content_types() {
    let s = server_with(None, false, 1024).await;
    let a = Agent::new(&s, "agent8");
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let r = a
            .send(method, "/api/v2/me", Some("{}".into()), Auth::Basic)
            .await;
        r.assert_error(405, 2);
        assert_eq!(r.headers["allow"], "GET, POST");
    }
    a.get("/api/v2/nothing/here").await.assert_error(404, 6);
    a.send(Method::GET, "/favicon.ico", None, Auth::Session)
        .await
        .assert_error(404, 6);
    // Trailing slash.
    let r = a
        .send(
            Method::POST,
            "/api/v2/me/",
            Some(json!({"operationName": "EndContactCenterSession"}).to_string()),
            Auth::Basic,
        )
        .await;
    r.assert_ok();
    // Malformed JSON, non-object, empty.
    for bad in ["{\"operationName\": ", "[1,2]", "", "\"x\""] {
        a.send(Method::POST, "/api/v2/me", Some(bad.into()), Auth::Basic)
            .await
            .assert_error(400, 2);
    }
    // Body limit, with and without Content-Length.
    let big = json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "pad": "x".repeat(2000)});
    a.post(big).await.assert_error(413, 2);
    let chunked = raw_request(
        &s,
        &format!(
            "POST /api/v2/me HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n7d0\r\n{}\r\n0\r\n\r\n",
            base64_basic("agent8", PW),
            "x".repeat(2000)
        ),
    )
    .await;
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    // Content-Type is not checked.
    let body = json!({"operationName": "EndContactCenterSession"}).to_string();
    let r = raw_request(
        &s,
        &format!(
            "POST /api/v2/me HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            base64_basic("agent8", PW),
            body.len()
        ),
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(
        r.to_ascii_lowercase()
            .contains("content-type: application/json;charset=utf-8"),
        "{r}"
    );
    s.shutdown().await;
}

fn base64_basic(user: &str, pw: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
}

#[tokio::test]
async fn devices_show_the_default_place_then_the_login_device() {
    let s = server(None).await;
    let a = Agent::new(&s, "agent7");
    let before = a.get("/api/v2/me/devices?fields=*").await.json();
    let d = &before["devices"][0];
    assert_eq!(d["id"], "7007");
    assert_eq!(d["phoneNumber"], "7007");
    assert_eq!(d["userState"]["state"], "LoggedOut");
    assert_eq!(d["userState"]["id"], "0F7F5003-EF26-4D13-A6Ef-D0C7EC819BEB");
    assert_eq!(d["dynamicPhoneNumber"], "");
    for key in [
        "deviceState",
        "e164Number",
        "telephonyNetwork",
        "doNotDisturb",
        "voiceEnvironmentUri",
        "capabilities",
    ] {
        assert!(d.get(key).is_some(), "{key}");
    }
    a.start(json!({"place": "SIP_5000", "loginCode": "8000", "queue": "9000", "workmode": "AutoIn", "dynamicPhoneNumber": "+15550100200"}))
        .await
        .assert_ok();
    let after = a.get("/api/v2/me/devices?fields=*").await.json();
    let d = &after["devices"][0];
    assert_eq!(d["id"], "5000");
    assert_eq!(d["userState"]["state"], "Ready");
    assert_eq!(d["dynamicPhoneNumber"], "+15550100200");
    let uris = a.get("/api/v2/me/devices").await.json();
    assert!(uris["uris"][0]
        .as_str()
        .unwrap()
        .ends_with("/api/v2/devices/5000"));
    a.end().await.assert_ok();
    assert_eq!(a.device_ids().await, vec!["7007"]);
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------------------
// Validation

#[tokio::test]
async fn validation_errors_in_order() {
    let s = server(None).await;
    let a = Agent::new(&s, "agent8");
    let m = a
        .post(json!({"channels": ["voice"]}))
        .await
        .assert_error(400, 1);
    assert_eq!(m, "Parameter 'operationName' is missing");
    a.post(json!({"operationName": "DoSomething", "channels": ["voice"]}))
        .await
        .assert_error(400, 2);
    // operationName is checked before channels.
    a.post(json!({})).await.assert_error(400, 1);
    let m = a
        .post(json!({"operationName": "StartContactCenterSession"}))
        .await
        .assert_error(400, 1);
    assert_eq!(m, "Parameter 'channels' is missing");
    for bad in [
        json!([]),
        json!("voice"),
        json!([1]),
        json!({"voice": true}),
        json!(["voice", null]),
    ] {
        let m = a
            .post(json!({"operationName": "StartContactCenterSession", "channels": bad}))
            .await
            .assert_error(400, 2);
        assert!(m.starts_with("Parameter 'channels' is invalid"), "{m}");
    }
    for bad in [
        json!("aManualIn"),
        json!("manualin"),
        json!(""),
        json!(1),
        json!("Manual In"),
    ] {
        let m = a
            .start(json!({"workmode": bad, "place": "agent1@pizza.com"}))
            .await
            .assert_error(400, 2);
        assert_eq!(
            m,
            "Parameter 'workmode' is invalid: \"The specified value is not within valid range\""
        );
    }
    // workmode is checked before place.
    a.start(json!({"workmode": "x", "place": "NO_SUCH_PLACE_4711"}))
        .await
        .assert_error(400, 2);
    let m = a
        .start(json!({"place": "NO_SUCH_PLACE_4711"}))
        .await
        .assert_error(404, 6);
    assert_eq!(m, "Place 'NO_SUCH_PLACE_4711' not found");
    let m = a
        .start(json!({"place": "PLACE_MULTI_ACD"}))
        .await
        .assert_error(400, 2);
    assert!(m.contains("devicePath"), "{m}");
    let m = a
        .start(json!({"place": "PLACE_MULTI_EXT"}))
        .await
        .assert_error(400, 2);
    assert!(m.contains("devicePath"), "{m}");
    a.start(json!({"place": "PLACE_MULTI_ACD", "devicePath": "/devices/ext-6201"}))
        .await
        .assert_error(400, 2);
    a.start(json!({"place": "PLACE_MULTI_ACD", "devicePath": "/devices/none"}))
        .await
        .assert_error(404, 6);
    let m = a
        .start(json!({"loginCode": "nope"}))
        .await
        .assert_error(400, 2);
    assert!(m.contains("loginCode"), "{m}");
    a.start(json!({"place": "agent1", "loginCode": "agent1"}))
        .await
        .assert_error(400, 2);
    a.start(json!({"place": "agent1", "loginCode": "agent1", "agentLoginPassword": "bad"}))
        .await
        .assert_error(400, 2);
    a.start(json!({"queue": "1234"})).await.assert_error(400, 2);
    for existing in ["5000", "+15550100999", "6101"] {
        let m = a
            .start(json!({"dynamicPhoneNumber": existing}))
            .await
            .assert_error(400, 18);
        assert!(m.contains("already exists"), "{m}");
    }
    a.start(json!({"place": 5})).await.assert_error(400, 2);
    // None of that logged the agent in.
    let d = a.get("/api/v2/me/devices?fields=*").await.json();
    assert_eq!(d["devices"][0]["userState"]["state"], "LoggedOut");

    // And the good variants pass.
    for good in [
        json!({"place": "PLACE_MULTI_ACD", "devicePath": "/devices/acd-6101"}),
        json!({"place": "PLACE_MULTI_EXT", "devicePath": "/devices/ext-6201"}),
        json!({"place": "PLACE_EXT_ACD"}),
        json!({"place": "agent1", "loginCode": "agent1", "agentLoginPassword": LC_PW}),
        json!({"place": "agent1@pizza.com", "workmode": "ManualIn"}),
        json!({"dynamicPhoneNumber": "+15550100200", "mobileSession": {"debug": true}}),
    ] {
        a.start(good.clone()).await.assert_ok();
        a.end().await.assert_ok();
    }
    s.shutdown().await;
}

#[tokio::test]
async fn a_device_in_another_agents_session_is_in_use() {
    let s = server(None).await;
    let a = Agent::new(&s, "agent2");
    let b = Agent::new(&s, "agent3");
    a.start(json!({"place": "SIP_5000"})).await.assert_ok();
    let m = b
        .start(json!({"place": "SIP_5000"}))
        .await
        .assert_error(409, 19);
    assert!(m.contains("in use"), "{m}");
    // The same agent again is fine (already logged in).
    a.start(json!({"place": "SIP_5000"})).await.assert_ok();
    a.end().await.assert_ok();
    b.start(json!({"place": "SIP_5000"})).await.assert_ok();
    b.end().await.assert_ok();
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------------------
// Channels

#[tokio::test]
async fn partial_success_and_all_channels_failing() {
    let s = server(None).await;
    let down = Agent::new(&s, "agent4");
    let r = down
        .post(json!({"channels": ["voice", "chat"], "operationName": "StartContactCenterSession"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!({
            "statusCode": 7,
            "failed": [{"statusCode": 4, "statusMessage": "Interaction server connection is not opened", "channel": "multimedia"}],
            "succeeded": [{"statusCode": 0, "channel": "voice"}]
        })
    );
    down.end().await.assert_ok();
    let m = down
        .start(json!({"channels": ["chat", "email"]}))
        .await
        .assert_error(500, 4);
    assert_eq!(m, "Interaction server connection is not opened");
    // Nothing was logged in by the failure.
    let d = down.get("/api/v2/me/devices?fields=*").await.json();
    assert_eq!(d["devices"][0]["userState"]["state"], "LoggedOut");

    let up = Agent::new(&s, "agent11");
    up.start(json!({"channels": ["voice", "chat", "email"]}))
        .await
        .assert_ok();
    let r = up.start(json!({"channels": ["voice", "fax"]})).await.json();
    assert_eq!(r["statusCode"], 7);
    assert_eq!(r["failed"][0]["channel"], "fax");
    assert_eq!(r["failed"][0]["statusCode"], 2);
    assert_eq!(
        r["succeeded"],
        json!([{"statusCode": 0, "channel": "voice"}])
    );
    up.start(json!({"channels": ["fax"]}))
        .await
        .assert_error(400, 2);
    up.end().await.assert_ok();
    s.shutdown().await;
}

#[tokio::test]
async fn notifications_for_login_already_logged_in_and_logout() {
    let s = server(None).await;
    let mut rx = s.notifications().subscribe("agent10");
    let a = Agent::new(&s, "agent10");
    a.start(json!({"channels": ["voice", "chat"], "workmode": "AutoIn"}))
        .await
        .assert_ok();
    let m1 = rx.try_recv().unwrap();
    assert_eq!(m1["channel"], "/v2/me/devices");
    assert_eq!(m1["data"]["messageType"], "DeviceStateChangeMessage");
    assert_eq!(
        m1["data"]["devices"][0]["userState"],
        json!({"state": "LoggedIn"})
    );
    let m2 = rx.try_recv().unwrap();
    assert_eq!(
        m2["data"]["devices"][0]["userState"]["id"],
        "9430250E-0A1B-421F-B372-F29E69366DED"
    );
    let m3 = rx.try_recv().unwrap();
    assert_eq!(m3["channel"], "/v2/me/channels");
    assert_eq!(m3["data"]["messageType"], "ChannelStateChangeMessageV2");
    assert_eq!(m3["data"]["channels"][0]["channel"], "chat");
    assert!(rx.try_recv().is_err());
    // Already logged in: 0 and no notification.
    a.start(json!({"channels": ["voice", "chat"]}))
        .await
        .assert_ok();
    assert!(rx.try_recv().is_err());
    // NotReady over the voice channel resource.
    a.send(
        Method::POST,
        "/api/v2/me/channels/voice",
        Some(json!({"operationName": "NotReady"}).to_string()),
        Auth::Basic,
    )
    .await
    .assert_ok();
    let m = rx.try_recv().unwrap();
    assert_eq!(m["data"]["devices"][0]["userState"]["state"], "NotReady");
    a.end().await.assert_ok();
    let m = rx.try_recv().unwrap();
    assert_eq!(m["data"]["devices"][0]["userState"]["state"], "LoggedOut");
    let m = rx.try_recv().unwrap();
    assert_eq!(m["data"]["channels"][0]["userState"]["state"], "LoggedOut");
    // A ManualIn login goes to NotReady.
    a.start(json!({"workmode": "ManualIn"})).await.assert_ok();
    let _logged_in = rx.try_recv().unwrap();
    let m = rx.try_recv().unwrap();
    assert_eq!(
        m["data"]["devices"][0]["userState"]["id"],
        "900D55CC-2BB0-431F-8BF9-D3525B383BE6"
    );
    a.end().await.assert_ok();
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------------------
// Concurrency and lifecycle

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_agents_in_parallel() {
    let s = server(None).await;
    let mut tasks = Vec::new();
    for n in 1..=16 {
        let a = Agent::new(&s, &format!("agent{n}"));
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                let r = a.start(json!({})).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                assert_eq!(a.device_ids().await, vec![format!("70{n:02}")]);
                a.end().await.assert_ok();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_agents_racing_for_one_device_one_wins() {
    let s = server(None).await;
    for _ in 0..10 {
        let a = Agent::new(&s, "agent5");
        let b = Agent::new(&s, "agent6");
        let (ra, rb) = tokio::join!(
            a.start(json!({"place": "agent1@pizza.com"})),
            b.start(json!({"place": "agent1@pizza.com"}))
        );
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409]);
        a.end().await.assert_ok();
        b.end().await.assert_ok();
    }
    s.shutdown().await;
}

#[tokio::test]
async fn shutdown_waits_and_frees_the_port() {
    let s = server(None).await;
    let addr = s.addr();
    assert!(s.url().starts_with("http://127.0.0.1:"));
    let a = Agent::new(&s, "agent1");
    a.get("/api/v2/me").await;
    tokio::time::timeout(Duration::from_secs(5), s.shutdown())
        .await
        .unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn directory_from_toml_drives_the_server() {
    let text = format!(
        r#"
version = "8.5.200.99-custom"
multimedia_channels = ["chat"]
queues = ["q1"]

[[agents]]
username = "zoe"
password = "{PW}"
default_place = "ZP"
login_code = "ZL"
multimedia_in_service = false

[[places]]
name = "ZP"
devices = [{{ id = "z-1", number = "4242", kind = "extension" }}]

[[login_codes]]
code = "ZL"
"#
    );
    let s = start(ServerConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        Directory::from_toml_str(&text).unwrap(),
    ))
    .await
    .unwrap();
    let a = Agent::new(&s, "zoe");
    assert_eq!(
        a.get("/api/v2/diagnostics/version").await.json()["version"],
        "8.5.200.99-custom"
    );
    let r = a
        .start(json!({"channels": ["voice", "chat"], "queue": "q1"}))
        .await
        .json();
    assert_eq!(r["statusCode"], 7);
    assert_eq!(a.device_ids().await, vec!["z-1"]);
    a.end().await.assert_ok();
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------------------
// Faults: each changes exactly the behaviour it names (spot-checked against neighbouring behaviour).

#[tokio::test]
async fn fault_status_code_as_string() {
    let s = server(Some(Fault::StatusCodeAsString)).await;
    let a = Agent::new(&s, "agent1");
    assert_eq!(a.start(json!({})).await.json(), json!({"statusCode": "0"}));
    // Errors and reads are unchanged.
    a.post(json!({"channels": ["voice"]}))
        .await
        .assert_error(400, 1);
    assert_eq!(a.get("/api/v2/me").await.json()["statusCode"], 0);
    s.shutdown().await;
}

#[tokio::test]
async fn fault_error_shapes() {
    let s = server(Some(Fault::ErrorExtraAttributes)).await;
    let a = Agent::new(&s, "agent1");
    let e = a.post(json!({"channels": ["voice"]})).await.json();
    assert_eq!(e["statusCode"], 1);
    assert!(e.get("details").is_some() && e.get("statusMessage").is_some());
    a.start(json!({})).await.assert_ok();
    s.shutdown().await;

    let s = server(Some(Fault::ErrorWithoutMessage)).await;
    let a = Agent::new(&s, "agent1");
    assert_eq!(
        a.post(json!({"channels": ["voice"]})).await.json(),
        json!({"statusCode": 1})
    );
    a.start(json!({})).await.assert_ok();
    s.shutdown().await;
}

#[tokio::test]
async fn fault_workmode_variants() {
    let s = server(Some(Fault::InvalidWorkmodeCode10)).await;
    let a = Agent::new(&s, "agent5");
    let m = a
        .start(json!({"workmode": "aManualIn"}))
        .await
        .assert_error(400, 10);
    assert_eq!(
        m,
        "Parameter 'workmode' is invalid: \"The specified value is not within valid range\""
    );
    a.start(json!({"channels": "voice"}))
        .await
        .assert_error(400, 2);
    s.shutdown().await;

    let s = server(Some(Fault::WorkmodeCaseInsensitive)).await;
    let a = Agent::new(&s, "agent5");
    a.start(json!({"workmode": "aManualIn"}))
        .await
        .assert_error(400, 2);
    a.start(json!({"workmode": "manualin"})).await.assert_ok();
    s.shutdown().await;

    let s = server(Some(Fault::InvalidWorkmodeMessageWrapped)).await;
    let a = Agent::new(&s, "agent5");
    let m = a
        .start(json!({"workmode": "aManualIn"}))
        .await
        .assert_error(400, 2);
    assert!(m.contains("within\nvalid range"), "{m}");
    s.shutdown().await;

    let s = server(Some(Fault::InvalidWorkmodeAccepted)).await;
    let a = Agent::new(&s, "agent5");
    a.start(json!({"workmode": "aManualIn"})).await.assert_ok();
    s.shutdown().await;
}

#[tokio::test]
async fn fault_partial_success_variants() {
    let request = json!({"channels": ["voice", "chat"]});
    let s = server(Some(Fault::PartialSuccessSwapped)).await;
    let a = Agent::new(&s, "agent4");
    let r = a.start(request.clone()).await.json();
    assert_eq!(r["statusCode"], 7);
    assert_eq!(r["failed"][0]["channel"], "voice");
    assert_eq!(r["succeeded"][0]["channel"], "multimedia");
    // A full success is untouched.
    Agent::new(&s, "agent11")
        .start(request.clone())
        .await
        .assert_ok();
    s.shutdown().await;

    let s = server(Some(Fault::PartialSuccessAsZero)).await;
    Agent::new(&s, "agent4")
        .start(request.clone())
        .await
        .assert_ok();
    s.shutdown().await;

    let s = server(Some(Fault::PartialSuccessWithoutArrays)).await;
    assert_eq!(
        Agent::new(&s, "agent4").start(request).await.json(),
        json!({"statusCode": 7})
    );
    s.shutdown().await;
}

#[tokio::test]
async fn fault_channel_and_operation_acceptance() {
    let s = server(Some(Fault::NonArrayChannelsAccepted)).await;
    let a = Agent::new(&s, "agent8");
    a.start(json!({"channels": "voice"})).await.assert_ok();
    a.start(json!({"channels": []})).await.assert_error(400, 2);
    a.post(json!({"operationName": "StartContactCenterSession"}))
        .await
        .assert_error(400, 1);
    s.shutdown().await;

    let s = server(Some(Fault::UnknownChannelAccepted)).await;
    let a = Agent::new(&s, "agent8");
    a.start(json!({"channels": ["fax"]})).await.assert_ok();
    s.shutdown().await;

    let s = server(Some(Fault::MissingOperationAccepted)).await;
    let a = Agent::new(&s, "agent8");
    a.post(json!({"channels": ["voice"]})).await.assert_ok();
    a.post(json!({"operationName": "Nope", "channels": ["voice"]}))
        .await
        .assert_error(400, 2);
    s.shutdown().await;
}

#[tokio::test]
async fn fault_place_and_device_resolution() {
    let s = server(Some(Fault::DevicePathIgnored)).await;
    let a = Agent::new(&s, "agent8");
    a.start(json!({"place": "PLACE_MULTI_ACD", "devicePath": "/devices/acd-6101"}))
        .await
        .assert_error(400, 2);
    a.start(json!({"place": "PLACE_EXT_ACD"})).await.assert_ok();
    s.shutdown().await;

    let s = server(Some(Fault::MultiAcdWithoutDevicePathAccepted)).await;
    let a = Agent::new(&s, "agent8");
    a.start(json!({"place": "PLACE_MULTI_EXT"}))
        .await
        .assert_error(400, 2);
    a.start(json!({"place": "PLACE_MULTI_ACD"}))
        .await
        .assert_ok();
    assert_eq!(a.device_ids().await, vec!["acd-6101"]);
    s.shutdown().await;

    let s = server(Some(Fault::UnknownPlaceAccepted)).await;
    let a = Agent::new(&s, "agent8");
    a.start(json!({"place": "NO_SUCH_PLACE_4711"}))
        .await
        .assert_ok();
    s.shutdown().await;
}

#[tokio::test]
async fn fault_auth_variants() {
    let s = server(Some(Fault::AccessDeniedWrongCode)).await;
    let a = Agent::new(&s, "agent12");
    a.send(Method::GET, "/api/v2/me", None, Auth::Session)
        .await
        .assert_error(403, 3);
    s.shutdown().await;

    let s = server(Some(Fault::AnonymousServed)).await;
    let mut a = Agent::new(&s, "agent12");
    let r = a.send(Method::GET, "/api/v2/me", None, Auth::Session).await;
    assert_eq!(r.json()["user"]["userName"], "agent1");
    a.password = "wrong".into();
    a.get("/api/v2/me").await.assert_error(403, 20);
    s.shutdown().await;

    let s = server(Some(Fault::WrongPasswordAccepted)).await;
    let mut a = Agent::new(&s, "agent12");
    a.password = "wrong".into();
    assert_eq!(a.get("/api/v2/me").await.status, StatusCode::OK);
    a.send(Method::GET, "/api/v2/me/devices", None, Auth::Basic)
        .await;
    let anon = Agent::new(&s, "agent12");
    anon.send(Method::GET, "/api/v2/me", None, Auth::Session)
        .await
        .assert_error(403, 20);
    s.shutdown().await;

    let s = server_with(Some(Fault::CsrfNotEnforced), true, 1 << 20).await;
    let a = Agent::new(&s, "agent12");
    assert!(a
        .get("/api/v2/me")
        .await
        .headers
        .get("x-csrf-token")
        .is_some());
    a.start(json!({})).await.assert_ok();
    s.shutdown().await;
}

#[tokio::test]
async fn fault_session_and_http_variants() {
    let s = server(Some(Fault::EndSessionKeepsSession)).await;
    let a = Agent::new(&s, "agent9");
    a.start(json!({})).await.assert_ok();
    a.end().await.assert_ok();
    let r = a.send(Method::GET, "/api/v2/me", None, Auth::Session).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(a.device_ids().await, vec!["7009"]);
    s.shutdown().await;

    let s = server(Some(Fault::AlreadyLoggedInError)).await;
    let a = Agent::new(&s, "agent9");
    a.start(json!({})).await.assert_ok();
    a.start(json!({})).await.assert_error(400, 2);
    a.end().await.assert_ok();
    s.shutdown().await;

    let s = server(Some(Fault::MalformedJson500)).await;
    let a = Agent::new(&s, "agent9");
    let r = a
        .send(Method::POST, "/api/v2/me", Some("{".into()), Auth::Basic)
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.content_type.starts_with("text/html"));
    a.send(Method::POST, "/api/v2/me", Some("[]".into()), Auth::Basic)
        .await
        .assert_error(400, 2);
    s.shutdown().await;

    let s = server(Some(Fault::WrongMethodAccepted)).await;
    let a = Agent::new(&s, "agent9");
    let body =
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"]}).to_string();
    a.send(Method::PUT, "/api/v2/me", Some(body), Auth::Basic)
        .await
        .assert_ok();
    a.send(Method::DELETE, "/api/v2/me", None, Auth::Basic)
        .await
        .assert_error(405, 2);
    s.shutdown().await;

    let s = server(Some(Fault::JsonAsTextPlain)).await;
    let a = Agent::new(&s, "agent9");
    let r = a.start(json!({})).await;
    assert_eq!(r.content_type, "text/plain;charset=UTF-8");
    assert_eq!(r.json(), json!({"statusCode": 0}));
    s.shutdown().await;
}

#[tokio::test]
async fn fault_login_code_and_dynamic_number() {
    let s = server(Some(Fault::LoginCodePasswordNotChecked)).await;
    let a = Agent::new(&s, "agent3");
    a.start(json!({"place": "agent1", "loginCode": "agent1", "agentLoginPassword": "bad"}))
        .await
        .assert_ok();
    a.end().await.assert_ok();
    a.start(json!({"loginCode": "nope"}))
        .await
        .assert_error(400, 2);
    s.shutdown().await;

    let s = server(Some(Fault::DynamicNumberCollisionAccepted)).await;
    let a = Agent::new(&s, "agent6");
    a.start(json!({"dynamicPhoneNumber": "5000"}))
        .await
        .assert_ok();
    s.shutdown().await;
}

/// Runs a fixed list of probes and returns what each answered (status, media type, body with the base URL
/// blanked out).
async fn probe_transcript(s: &RunningServer) -> Vec<String> {
    let base = s.url();
    let mut out = Vec::new();
    let mut record = |label: &str, a: Answer| {
        let media = a.content_type.split(';').next().unwrap_or("").to_string();
        out.push(format!(
            "{label}: {} {media} {}",
            a.status.as_u16(),
            a.text.replace(&base, "BASE")
        ));
    };
    let a = Agent::new(s, "agent13");
    record(
        "anon",
        a.send(Method::GET, "/api/v2/me", None, Auth::Session).await,
    );
    let mut wrong = Agent::new(s, "agent13");
    wrong.password = "wrong".into();
    record("wrong-pw", wrong.get("/api/v2/me").await);
    record("start", a.start(json!({})).await);
    record("start-again", a.start(json!({})).await);
    record("end", a.end().await);
    record(
        "cookie-after-end",
        a.send(Method::GET, "/api/v2/me", None, Auth::Session).await,
    );
    let probes = [
        json!({"channels": ["voice"]}),
        json!({"operationName": "Nope", "channels": ["voice"]}),
        json!({"operationName": "StartContactCenterSession"}),
        json!({"operationName": "StartContactCenterSession", "channels": []}),
        json!({"operationName": "StartContactCenterSession", "channels": "voice"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["fax"]}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "workmode": "aManualIn"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "workmode": "manualin"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "place": "NO_SUCH_PLACE_4711"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "place": "PLACE_MULTI_ACD"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "place": "PLACE_MULTI_ACD", "devicePath": "/devices/acd-6102"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "place": "agent1", "loginCode": "agent1", "agentLoginPassword": "bad"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "dynamicPhoneNumber": "5000"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "queue": "NO_SUCH_QUEUE_4711"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "loginCode": "NO_SUCH_LOGIN_4711"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "place": "SIP_5000", "devicePath": "/devices/ext-6201"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "place": 5000}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "place": "A".repeat(5000)}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "place": "PLACE_agent14", "devicePath": "/devices/7014"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "noSuchParameter": 1}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "workmode": "AuxWork"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"], "agentLoginPassword": "bad"}),
        json!({"operationName": "StartContactCenterSession", "channels": ["voice", "email"]}),
    ];
    for (i, p) in probes.into_iter().enumerate() {
        let b = Agent::new(s, "agent14");
        record(&format!("probe{i}"), b.post(p).await);
        record(&format!("probe{i}-end"), b.end().await);
    }
    let c = Agent::new(s, "agent4");
    record(
        "partial",
        c.start(json!({"channels": ["voice", "chat"]})).await,
    );
    record("partial-end", c.end().await);
    record(
        "all-failed",
        c.start(json!({"channels": ["chat", "email"]})).await,
    );
    let e = Agent::new(s, "agent15");
    record("ext-acd", e.start(json!({"place": "PLACE_EXT_ACD"})).await);
    record(
        "ext-acd-devices",
        e.get("/api/v2/me/devices?fields=*").await,
    );
    record("ext-acd-end", e.end().await);
    record(
        "voice-down",
        e.start(json!({"place": "PLACE_UNREGISTERED", "channels": ["voice", "chat"]}))
            .await,
    );
    record("voice-down-end", e.end().await);
    record(
        "dynamic",
        e.start(json!({"dynamicPhoneNumber": "+15550100200"})).await,
    );
    record(
        "dynamic-devices",
        e.get("/api/v2/me/devices?fields=*").await,
    );
    record("dynamic-end", e.end().await);
    record("restore", e.start(json!({"place": "PLACE_RESTORE"})).await);
    record("restore-end", e.end().await);
    record(
        "restore-devices",
        e.get("/api/v2/me/devices?fields=*").await,
    );
    record(
        "malformed",
        c.send(Method::POST, "/api/v2/me", Some("{".into()), Auth::Basic)
            .await,
    );
    let put =
        json!({"operationName": "StartContactCenterSession", "channels": ["voice"]}).to_string();
    record(
        "put",
        c.send(Method::PUT, "/api/v2/me", Some(put), Auth::Basic)
            .await,
    );
    record("put-end", c.end().await);
    out
}

fn baseline_labels(baseline: &[String], keep: impl Fn(&str) -> bool) -> Vec<&str> {
    baseline
        .iter()
        .filter(|line| keep(line))
        .map(|line| line.split(':').next().unwrap())
        .collect()
}

/// Each fault changes exactly the probes it names and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_changes_exactly_its_behaviour() {
    let s = server(None).await;
    let baseline = probe_transcript(&s).await;
    s.shutdown().await;
    // The no-fault server answers the probes identically every time.
    let s = server(None).await;
    assert_eq!(probe_transcript(&s).await, baseline);
    s.shutdown().await;
    for fault in Fault::ALL {
        let csrf = *fault == Fault::CsrfNotEnforced;
        let s = server_with(Some(*fault), csrf, 1 << 20).await;
        let transcript = probe_transcript(&s).await;
        s.shutdown().await;
        let differing: Vec<_> = baseline
            .iter()
            .zip(&transcript)
            .filter(|(a, b)| a != b)
            .map(|(_, b)| b.clone())
            .collect();
        let labels: Vec<&str> = differing
            .iter()
            .map(|d| d.split(':').next().unwrap())
            .collect();
        let expected: Vec<&str> = match fault {
            // Faults whose reach is a class of responses: computed from the baseline.
            Fault::StatusCodeAsString | Fault::SuccessWithMessage => {
                baseline_labels(&baseline, |line| {
                    line.ends_with(" 200 application/json {\"statusCode\":0}")
                })
            }
            Fault::ErrorExtraAttributes | Fault::ErrorWithoutMessage => {
                baseline_labels(&baseline, |line| {
                    line.contains("\"statusMessage\"") && !line.contains(" 200 ")
                })
            }
            Fault::AccessDeniedWrongCode => {
                baseline_labels(&baseline, |line| line.contains("{\"statusCode\":20,"))
            }
            Fault::JsonAsTextPlain => baseline_labels(&baseline, |_| true),
            // The CSRF-off baseline: with CSRF on but unenforced, nothing is refused.
            Fault::CsrfNotEnforced => vec![],
            Fault::InvalidWorkmodeAccepted
            | Fault::InvalidWorkmodeCode10
            | Fault::InvalidWorkmodeMessageWrapped => {
                vec!["probe6", "probe7", "probe20"]
            }
            Fault::SwitchWorkmodeAccepted => vec!["probe20"],
            Fault::PasswordWithoutLoginCodeApplied => vec!["probe21"],
            Fault::OnlyChatMultimedia => vec!["probe22", "all-failed"],
            // Its entries are named per requested channel, in a partial success too.
            Fault::AllFailedEveryChannel => vec!["probe5", "partial", "all-failed", "voice-down"],
            Fault::FirstDeviceLogin => vec!["ext-acd-devices"],
            Fault::DynamicNumberAsDevice => vec!["dynamic-devices"],
            Fault::VoiceFailureFailsAll => vec!["voice-down"],
            Fault::WorkmodeCaseInsensitive => vec!["probe7"],
            Fault::PartialSuccessAsZero
            | Fault::PartialSuccessWithoutArrays
            | Fault::PartialSuccessSwapped => {
                vec!["partial", "voice-down"]
            }
            Fault::MissingOperationAccepted => vec!["probe0"],
            Fault::UnknownOperationAccepted => vec!["probe1"],
            Fault::MissingChannelsAccepted => vec!["probe2"],
            Fault::EmptyChannelsAccepted => vec!["probe3"],
            Fault::NonArrayChannelsAccepted => vec!["probe4"],
            Fault::UnknownChannelAccepted => vec!["probe5"],
            // probe17's 5000-character place is unknown too.
            Fault::UnknownPlaceAccepted => vec!["probe8", "probe17"],
            Fault::MultiAcdWithoutDevicePathAccepted => vec!["probe9"],
            // probe15's foreign device ignored, SIP_5000's only device is used.
            Fault::DevicePathIgnored => vec!["probe10", "probe15"],
            Fault::LoginCodePasswordNotChecked => vec!["probe11"],
            Fault::DynamicNumberCollisionAccepted => vec!["probe12"],
            Fault::UnknownQueueAccepted => vec!["probe13"],
            Fault::UnknownLoginCodeAccepted => vec!["probe14"],
            Fault::ForeignDevicePathAccepted => vec!["probe15"],
            Fault::WrongTypeIgnored => vec!["probe16"],
            Fault::OverlongValue500 => vec!["probe17"],
            Fault::DevicePathSingleDeviceRefused => vec!["probe18"],
            Fault::UnknownParameterRefused => vec!["probe19"],
            Fault::AnonymousServed => vec!["anon", "cookie-after-end"],
            Fault::WrongPasswordAccepted => vec!["wrong-pw"],
            Fault::EndSessionKeepsSession => vec!["cookie-after-end"],
            Fault::DefaultAssignmentNotRestored => vec!["restore-devices"],
            Fault::AlreadyLoggedInError => vec!["start-again"],
            Fault::MalformedJson500 => vec!["malformed"],
            Fault::WrongMethodAccepted => vec!["put"],
            // Notification faults change only what CometD clients receive: tests/notifications.rs.
            Fault::NotificationNoneSent
            | Fault::NotificationWrongChannel
            | Fault::NotificationWhenAlreadyLoggedIn
            | Fault::NotificationWrongShape
            | Fault::NotificationDelayed => vec![],
        };
        assert_eq!(labels, expected, "fault {fault} changed: {differing:#?}");
        if !csrf && fault.area() != "notifications" {
            assert!(!labels.is_empty(), "fault {fault} changed nothing");
        }
    }
}
