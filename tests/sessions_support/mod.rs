//! A small GWS-like server for tests/sessions.rs: HTTP sessions named by `JSESSIONID`, a CSRF token
//! bound to each session, and a long-polling CometD endpoint whose connect can be held until the test
//! releases it. Modes make it misbehave the ways third-party servers do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::Notify;

pub const USER: &str = "agent1";
pub const PW: &str = "pw-sessions-test";
pub const REFUSAL: &str = "Missing or invalid Csrf token";
pub const ROTATING_HEADER: &str = "x-rotating-token";

impl Mode {
    fn token_header(self) -> &'static str {
        if self == Mode::RotateOnGet {
            ROTATING_HEADER
        } else {
            "x-csrf-token"
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Mode {
    /// One token per session, checked on every POST.
    #[default]
    Bound,
    /// Every GET issues a new token and invalidates the one before; the token travels in a header of
    /// the server's naming ([`ROTATING_HEADER`]), as `X-CSRF-HEADER` allows.
    RotateOnGet,
    /// Refuses every POST's token (a server that refuses a valid token).
    RefuseEveryToken,
    /// Refuses every POST, and each refusal starts a new session (Set-Cookie).
    RefuseWithNewSession,
}

/// A POST to /api/v2/me as the server saw it.
#[derive(Clone, Debug)]
pub struct Post {
    pub session: Option<String>,
    pub token: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct Sessions {
    live: HashMap<String, Option<String>>,
    ended: Vec<String>,
    opened: u64,
    /// Every cookie value and token ever issued: none may reach a record unredacted.
    issued: Vec<String>,
    posts: Vec<Post>,
    /// Whether the held connect has been taken.
    held_taken: bool,
    /// The token each CometD request carried.
    cometd_tokens: Vec<Option<String>>,
    /// The held connect, once released, starts a new session for the user even if the old one lives
    /// (as servers that renew the session id do).
    renew_on_release: bool,
    /// The next GET /api/v2/me is held until the test releases it.
    hold_get: bool,
}

pub struct Server {
    pub url: String,
    mode: Mode,
    state: Mutex<Sessions>,
    /// Fires when the connect to hold has arrived.
    pub arrived: Notify,
    /// Releases the held connect.
    pub release: Notify,
    /// Fires when the GET to hold has arrived.
    pub get_arrived: Notify,
    /// Releases the held GET.
    pub get_release: Notify,
}

impl Server {
    pub async fn start(mode: Mode) -> Arc<Server> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Arc::new(Server {
            url: format!("http://{}", listener.local_addr().unwrap()),
            mode,
            state: Mutex::default(),
            arrived: Notify::new(),
            release: Notify::new(),
            get_arrived: Notify::new(),
            get_release: Notify::new(),
        });
        let app = Router::new()
            .route("/api/v2/me", axum::routing::any(me))
            .route("/api/v2/notifications", axum::routing::post(notifications))
            .with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        server
    }

    pub fn posts(&self) -> Vec<Post> {
        self.state.lock().unwrap().posts.clone()
    }

    pub fn issued(&self) -> Vec<String> {
        self.state.lock().unwrap().issued.clone()
    }

    pub fn cometd_tokens(&self) -> Vec<Option<String>> {
        self.state.lock().unwrap().cometd_tokens.clone()
    }

    pub fn renew_on_release(&self) {
        self.state.lock().unwrap().renew_on_release = true;
    }

    pub fn hold_next_get(&self) {
        self.state.lock().unwrap().hold_get = true;
    }

    /// Ends every session behind the client's back, as a session timeout or a restart does.
    pub fn expire_all(&self) {
        let mut s = self.state.lock().unwrap();
        let ids: Vec<String> = s.live.drain().map(|(k, _)| k).collect();
        s.ended.extend(ids);
    }
}

impl Sessions {
    fn open(&mut self) -> String {
        self.opened += 1;
        let id = format!("sid{}x{:08x}", self.opened, rand_part(self.opened));
        self.live.insert(id.clone(), None);
        self.issued.push(id.clone());
        id
    }

    fn new_token(&mut self, session: &str) -> String {
        let token = format!(
            "tok{}x{:08x}",
            self.issued.len(),
            rand_part(self.opened + 97)
        );
        self.live.insert(session.to_string(), Some(token.clone()));
        self.issued.push(token.clone());
        token
    }

    /// The live session the request names, or a new one for a request with valid Basic credentials
    /// (with the cookie to set); `None` means access denied.
    fn resolve(&mut self, headers: &HeaderMap) -> Option<(String, Option<String>)> {
        if let Some(id) = cookie(headers).filter(|id| self.live.contains_key(id)) {
            return Some((id, None));
        }
        let basic = format!(
            "Basic {}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{USER}:{PW}")
            )
        );
        let authorized = headers
            .get("authorization")
            .is_some_and(|v| v.as_bytes() == basic.as_bytes());
        authorized.then(|| {
            let id = self.open();
            let set = format!("JSESSIONID={id}; Path=/; HttpOnly");
            (id, Some(set))
        })
    }
}

/// Distinct, non-guessable-looking digits, so that no value is a substring of another.
fn rand_part(n: u64) -> u32 {
    (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    let c = headers.get("cookie")?.to_str().ok()?;
    c.split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == "JSESSIONID")
        .map(|(_, v)| v.to_string())
}

fn answer(status: u16, set_cookie: Option<String>, json: Option<Value>, text: &str) -> Response {
    let mut b = Response::builder().status(StatusCode::from_u16(status).unwrap());
    if let Some(c) = set_cookie {
        b = b.header("set-cookie", c);
    }
    match json {
        Some(v) => b
            .header("content-type", "application/json")
            .body(Body::from(v.to_string())),
        None => b
            .header("content-type", "text/plain")
            .body(Body::from(text.to_string())),
    }
    .unwrap()
}

fn denied() -> Response {
    answer(
        403,
        None,
        Some(json!({"statusCode": 20, "statusMessage": "Access denied"})),
        "",
    )
}

async fn me(
    State(srv): State<Arc<Server>>,
    method: Method,
    headers: HeaderMap,
    body: String,
) -> Response {
    let hold = method == Method::GET && std::mem::take(&mut srv.state.lock().unwrap().hold_get);
    if hold {
        srv.get_arrived.notify_one();
        srv.get_release.notified().await;
    }
    let mut s = srv.state.lock().unwrap();
    // The CSRF check comes before authentication, as in Spring Security: an anonymous POST gets a
    // session of its own, and the refusal.
    let resolved = s.resolve(&headers).or_else(|| {
        (method == Method::POST).then(|| {
            let id = s.open();
            let set = format!("JSESSIONID={id}; Path=/; HttpOnly");
            (id, Some(set))
        })
    });
    let Some((mut id, mut set)) = resolved else {
        return denied();
    };
    if method == Method::GET {
        let token = match s.live.get(&id).cloned().flatten() {
            Some(t) if srv.mode != Mode::RotateOnGet => t,
            _ => s.new_token(&id),
        };
        let mut r = answer(200, set, Some(json!({"statusCode": 0, "user": {}})), "");
        let h = r.headers_mut();
        let name = srv.mode.token_header();
        h.insert("x-csrf-header", name.to_ascii_uppercase().parse().unwrap());
        h.insert(name, token.parse().unwrap());
        if name != "x-csrf-token" {
            // An X-CSRF-TOKEN beside the named header is not the token, but a secret all the same.
            let other = format!("{token}-other");
            s.issued.push(other.clone());
            r.headers_mut()
                .insert("x-csrf-token", other.parse().unwrap());
        }
        return r;
    }
    let sent = headers
        .get(srv.mode.token_header())
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let valid = match srv.mode {
        Mode::Bound | Mode::RotateOnGet => {
            sent.is_some() && s.live.get(&id).cloned().flatten() == sent
        }
        Mode::RefuseEveryToken => false,
        Mode::RefuseWithNewSession => {
            s.live.remove(&id);
            s.ended.push(id);
            id = s.open();
            set = Some(format!("JSESSIONID={id}; Path=/; HttpOnly"));
            false
        }
    };
    let status = if valid { 200 } else { 403 };
    s.posts.push(Post {
        session: cookie(&headers),
        token: sent,
        status,
    });
    if !valid {
        return answer(403, set, None, REFUSAL);
    }
    let op: Value = serde_json::from_str(&body).unwrap_or_default();
    if op["operationName"] == "EndContactCenterSession" {
        s.live.remove(&id);
        s.ended.push(id);
    }
    answer(200, set, Some(json!({"statusCode": 0})), "")
}

/// Long-polling Bayeux, just enough for the harness's client. The first connect that waits (not the
/// client's first, which asks for an immediate reply) is held until the test releases it; it then
/// answers under whatever session is live by then, so a session ended meanwhile gets a new cookie.
async fn notifications(
    State(srv): State<Arc<Server>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    srv.state.lock().unwrap().cometd_tokens.push(token);
    let msgs: Vec<Value> = serde_json::from_str(&body).unwrap_or_default();
    let Some(m) = msgs.first().cloned() else {
        return answer(400, None, None, "no message");
    };
    let channel = m["channel"].as_str().unwrap_or_default().to_string();
    let immediate = m["advice"]["timeout"] == 0;
    if channel == "/meta/connect" && !immediate {
        let hold = {
            let mut s = srv.state.lock().unwrap();
            !std::mem::replace(&mut s.held_taken, true)
        };
        if !hold {
            // Later connects wait beyond any test.
            std::future::pending::<()>().await;
        }
        srv.arrived.notify_one();
        srv.release.notified().await;
    }
    let set = {
        let mut s = srv.state.lock().unwrap();
        let Some((_, mut set)) = s.resolve(&headers) else {
            return denied();
        };
        if channel == "/meta/connect" && !immediate && std::mem::take(&mut s.renew_on_release) {
            let id = s.open();
            s.new_token(&id);
            set = Some(format!("JSESSIONID={id}; Path=/; HttpOnly"));
        }
        set
    };
    let replies: Vec<Value> = msgs
        .iter()
        .map(|m| {
            let mut r = json!({
                "channel": m["channel"], "successful": true, "clientId": "client-1", "id": m["id"],
            });
            if m["channel"] == "/meta/handshake" {
                r["version"] = json!("1.0");
                r["supportedConnectionTypes"] = json!(["long-polling"]);
                r["advice"] = json!({"reconnect": "retry", "interval": 0, "timeout": 60000});
            }
            if m["channel"] == "/meta/subscribe" {
                r["subscription"] = m["subscription"].clone();
            }
            r
        })
        .collect();
    answer(200, set, Some(Value::Array(replies)), "")
}
