//! The CometD (Bayeux 1.0) endpoint at `/api/v2/notifications` [notes §5.1], over long-polling and
//! WebSocket.
//!
//! - **Handshake** needs an authenticated request: HTTP Basic or a live `JSESSIONID`, exactly as the REST
//!   API. Without one the reply is `403::Handshake denied` with advice `reconnect: none` (INF: the
//!   notes leave the exact answer open; this is what a CometD security policy answers).
//! - After the handshake a client is known by its `clientId`, bound to the `BAYEUX_BROWSER` cookie set
//!   on the handshake reply (as CometD servers do) or to the WebSocket it handshook on. A request that
//!   names an unknown client, or a client of another browser, gets `402::Unknown client` with advice
//!   `reconnect: handshake`.
//! - The endpoint is exempt from the CSRF check (INF: whether CometD POSTs need the token is open, and
//!   a Genesys JS sample ran CometD without it [notes §4.3]).
//! - Each client forwards the messages the server publishes for its agent on the
//!   [`NotificationBus`] whose channel it subscribed to (exact names, `/v2/me/*` and `/**` wildcards).
//!   Messages published after the `/meta/subscribe` reply are never lost: the client listens to the
//!   bus from its handshake on.
//! - `/meta/connect` is held up to the advised timeout (30 s, or what the client asks, e.g. 0 for its
//!   first connect) and answered at once when messages are waiting. Shutting the server down answers
//!   every held connect and closes every WebSocket.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::FromRequestParts;
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use http_body_util::{BodyExt, Limited};
use serde_json::{json, Value};
use tokio::sync::{broadcast, watch, Notify};

use crate::notifications::NotificationBus;
use crate::server::{App, JSON_CONTENT_TYPE};

/// Where the endpoint lives; any path below it is the same endpoint (the CometD JavaScript client
/// appends `/handshake`, `/connect`, ... to the URL).
pub(crate) const PATH: &str = "/api/v2/notifications";
/// How long a `/meta/connect` is held when the client does not ask otherwise (CometD's default).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A client neither connected nor heard from for this long is forgotten.
const MAX_INTERVAL: Duration = Duration::from_secs(60);
const BROWSER_COOKIE: &str = "BAYEUX_BROWSER";

/// Every Bayeux client of one server.
pub(crate) struct Bayeux {
    bus: NotificationBus,
    clients: Mutex<HashMap<String, Arc<Client>>>,
    next: AtomicU64,
    closing: watch::Sender<bool>,
}

struct Client {
    id: String,
    username: String,
    browser: String,
    subscriptions: Mutex<BTreeSet<String>>,
    queue: Mutex<VecDeque<Value>>,
    wake: Notify,
    gone: watch::Sender<bool>,
    held: AtomicBool,
    last_seen: Mutex<Instant>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Client {
    fn subscribed(&self, channel: &str) -> bool {
        lock(&self.subscriptions)
            .iter()
            .any(|s| channel_matches(s, channel))
    }

    fn take_queue(&self) -> Vec<Value> {
        lock(&self.queue).drain(..).collect()
    }

    fn touch(&self) {
        *lock(&self.last_seen) = Instant::now();
    }
}

/// `/v2/me/*` matches one segment, `/**` any number.
fn channel_matches(pattern: &str, channel: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix("/**") {
        return channel.starts_with(&format!("{prefix}/"));
    }
    if let Some(prefix) = pattern.strip_suffix("/*") {
        return channel
            .strip_prefix(&format!("{prefix}/"))
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'));
    }
    pattern == channel
}

/// How a batch arrived.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    LongPolling,
    WebSocket,
}

/// Who sent a batch.
struct Sender<'a> {
    /// The authenticated agent (Basic or JSESSIONID), if any.
    username: Option<String>,
    /// The `BAYEUX_BROWSER` cookie, if any.
    browser: Option<String>,
    /// The client bound to the WebSocket the batch came on.
    bound: Option<&'a Arc<Client>>,
}

/// What processing a batch produced.
#[derive(Default)]
struct Processed {
    replies: Vec<Value>,
    /// A cookie to set (a new browser id on handshake).
    set_browser: Option<String>,
    /// A connect to answer once messages are waiting or the hold ends: the client, the reply, the hold.
    connect: Option<(Arc<Client>, Value, Duration)>,
    /// The client a WebSocket handshake created.
    handshook: Option<Arc<Client>>,
}

impl Bayeux {
    pub(crate) fn new(bus: NotificationBus) -> Bayeux {
        Bayeux {
            bus,
            clients: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            closing: watch::channel(false).0,
        }
    }

    /// Answers every held connect and closes every WebSocket; new connects are answered at once.
    pub(crate) fn close_all(&self) {
        let _ = self.closing.send(true);
        for c in lock(&self.clients).values() {
            c.wake.notify_waiters();
        }
    }

    fn closing(&self) -> bool {
        *self.closing.borrow()
    }

    fn advice(&self, timeout: Duration) -> Value {
        json!({ "reconnect": "retry", "interval": 0, "timeout": timeout.as_millis() as u64 })
    }

    fn fresh_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!(
            "{n:x}{}",
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..16)
                .unwrap_or("")
        )
    }

    fn sweep(&self) {
        lock(&self.clients).retain(|_, c| {
            let keep = c.held.load(Ordering::SeqCst) || lock(&c.last_seen).elapsed() < MAX_INTERVAL;
            if !keep {
                let _ = c.gone.send(true);
            }
            keep
        });
    }

    fn handshake(&self, id: Value, sender: &Sender, via: Via, p: &mut Processed) -> Value {
        let Some(username) = sender.username.clone() else {
            return json!({
                "id": id, "channel": "/meta/handshake", "successful": false,
                "error": "403::Handshake denied", "advice": { "reconnect": "none" },
            });
        };
        self.sweep();
        let client_id = self.fresh_id();
        let browser = sender.browser.clone().unwrap_or_else(|| self.fresh_id());
        let client = Arc::new(Client {
            id: client_id.clone(),
            username: username.clone(),
            browser: browser.clone(),
            subscriptions: Mutex::new(BTreeSet::new()),
            queue: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            gone: watch::channel(false).0,
            held: AtomicBool::new(false),
            last_seen: Mutex::new(Instant::now()),
        });
        // Listen to the agent's bus from now on, so nothing published after a subscribe is lost.
        spawn_forwarder(client.clone(), self.bus.subscribe(&username));
        lock(&self.clients).insert(client_id.clone(), client.clone());
        if sender.browser.is_none() && via == Via::LongPolling {
            p.set_browser = Some(browser);
        }
        if via == Via::WebSocket {
            p.handshook = Some(client);
        }
        json!({
            "id": id, "channel": "/meta/handshake", "successful": true, "version": "1.0",
            "clientId": client_id, "supportedConnectionTypes": ["websocket", "long-polling"],
            "advice": self.advice(CONNECT_TIMEOUT),
        })
    }

    /// The client a message names, if the sender may act for it.
    fn client_for(&self, m: &Value, sender: &Sender) -> Option<Arc<Client>> {
        let id = m.get("clientId")?.as_str()?;
        let client = lock(&self.clients).get(id).cloned()?;
        let same_socket = sender.bound.is_some_and(|b| Arc::ptr_eq(b, &client));
        let same_browser = sender.browser.as_deref() == Some(client.browser.as_str());
        let same_agent = sender.username.as_deref() == Some(client.username.as_str());
        (same_socket || same_browser || same_agent).then_some(client)
    }

    fn process(&self, messages: Vec<Value>, sender: &Sender, via: Via) -> Processed {
        let mut p = Processed::default();
        for m in messages {
            let id = m.get("id").cloned().unwrap_or(Value::Null);
            let channel = m
                .get("channel")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if channel == "/meta/handshake" {
                let reply = self.handshake(id, sender, via, &mut p);
                p.replies.push(reply);
                continue;
            }
            let unknown = || {
                json!({
                    "id": id, "channel": channel, "successful": false, "error": "402::Unknown client",
                    "advice": { "reconnect": "handshake", "interval": 0 },
                })
            };
            let client = match self.client_for(&m, sender) {
                Some(c) => c,
                None if channel.is_empty() => {
                    p.replies.push(json!({
                        "id": id, "successful": false, "error": "400::Message without channel",
                    }));
                    continue;
                }
                None => {
                    p.replies.push(unknown());
                    continue;
                }
            };
            client.touch();
            let ok = |extra: Value| {
                let mut r = json!({
                    "id": id, "channel": channel, "successful": true, "clientId": client.id,
                });
                if let (Some(r), Some(e)) = (r.as_object_mut(), extra.as_object()) {
                    r.extend(e.clone());
                }
                r
            };
            match channel.as_str() {
                "/meta/connect" => {
                    let hold = m
                        .pointer("/advice/timeout")
                        .and_then(Value::as_u64)
                        .map(|t| Duration::from_millis(t).min(CONNECT_TIMEOUT))
                        .unwrap_or(CONNECT_TIMEOUT);
                    let reply = ok(json!({ "advice": self.advice(CONNECT_TIMEOUT) }));
                    p.connect = Some((client, reply, hold));
                }
                "/meta/subscribe" | "/meta/unsubscribe" => {
                    let subs: Vec<String> = match m.get("subscription") {
                        Some(Value::String(s)) => vec![s.clone()],
                        Some(Value::Array(a)) => a
                            .iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect(),
                        _ => Vec::new(),
                    };
                    if subs.is_empty()
                        || subs
                            .iter()
                            .any(|s| !s.starts_with('/') || s.starts_with("/meta/"))
                    {
                        let mut r = ok(json!({ "subscription": m.get("subscription") }));
                        r["successful"] = json!(false);
                        r["error"] = json!("403::Invalid subscription");
                        p.replies.push(r);
                        continue;
                    }
                    let mut set = lock(&client.subscriptions);
                    for s in &subs {
                        if channel == "/meta/subscribe" {
                            set.insert(s.clone());
                        } else {
                            set.remove(s);
                        }
                    }
                    drop(set);
                    p.replies
                        .push(ok(json!({ "subscription": m.get("subscription") })));
                }
                "/meta/disconnect" => {
                    lock(&self.clients).remove(&client.id);
                    let _ = client.gone.send(true);
                    client.wake.notify_waiters();
                    p.replies.push(ok(json!({})));
                }
                c if c.starts_with("/meta/") => {
                    let mut r = ok(json!({}));
                    r["successful"] = json!(false);
                    r["error"] = json!("400::Unknown meta channel");
                    p.replies.push(r);
                }
                _ => {
                    // Clients only listen here: publishing is refused.
                    let mut r = ok(json!({}));
                    r["successful"] = json!(false);
                    r["error"] = json!("403::Publish denied");
                    p.replies.push(r);
                }
            }
        }
        p
    }
}

/// Moves the agent's messages into the client's queue while it is subscribed to their channel.
fn spawn_forwarder(client: Arc<Client>, mut rx: broadcast::Receiver<Value>) {
    let mut gone = client.gone.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                m = rx.recv() => match m {
                    Ok(m) => {
                        let channel = m.get("channel").and_then(Value::as_str).unwrap_or_default();
                        if client.subscribed(channel) {
                            lock(&client.queue).push_back(m);
                            client.wake.notify_one();
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = gone.changed() => break,
            }
        }
    });
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().to_string())
}

fn json_response(status: StatusCode, body: Value, set_browser: Option<&str>) -> Response {
    let mut r = Response::builder()
        .status(status)
        .header(CONTENT_TYPE, JSON_CONTENT_TYPE);
    if let Some(b) = set_browser {
        if let Ok(v) = HeaderValue::from_str(&format!("{BROWSER_COOKIE}={b}; Path=/api; HttpOnly"))
        {
            r = r.header(SET_COOKIE, v);
        }
    }
    r.body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Serves every request under [`PATH`].
pub(crate) async fn handle(app: Arc<App>, mut parts: Parts, body: Body) -> Response {
    let username = app.authenticated_user(&parts.headers);
    let browser = cookie(&parts.headers, BROWSER_COOKIE);
    if parts.method == Method::GET {
        let Ok(upgrade) = WebSocketUpgrade::from_request_parts(&mut parts, &()).await else {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({ "statusCode": 2, "statusMessage": "CometD: POST Bayeux messages, or upgrade to a WebSocket" }),
                None,
            );
        };
        // A WebSocket needs the agent's credentials, or the browser cookie of a live client.
        let known_browser = browser
            .as_deref()
            .is_some_and(|b| lock(&app.bayeux.clients).values().any(|c| c.browser == b));
        if username.is_none() && !known_browser {
            return json_response(
                StatusCode::FORBIDDEN,
                json!({ "statusCode": 20, "statusMessage": "Access denied" }),
                None,
            );
        }
        return upgrade
            .max_message_size(app.max_body_bytes)
            .on_upgrade(move |socket| websocket(app, socket, username, browser));
    }
    if parts.method != Method::POST {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "statusCode": 2, "statusMessage": format!("Request method '{}' not supported", parts.method) }),
            None,
        );
    }
    let bytes = match Limited::new(body, app.max_body_bytes).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "statusCode": 2, "statusMessage": format!("Request body exceeds the limit of {} bytes", app.max_body_bytes) }),
                None,
            )
        }
    };
    let messages = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Array(a)) => a,
        Ok(v @ Value::Object(_)) => vec![v],
        _ => {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({ "statusCode": 2, "statusMessage": "CometD: the body must be a JSON array of Bayeux messages" }),
                None,
            )
        }
    };
    let sender = Sender {
        username,
        browser,
        bound: None,
    };
    let mut p = app.bayeux.process(messages, &sender, Via::LongPolling);
    if let Some((client, reply, hold)) = p.connect.take() {
        wait_for_messages(&app.bayeux, &client, hold).await;
        p.replies.extend(client.take_queue());
        p.replies.push(reply);
    }
    json_response(
        StatusCode::OK,
        Value::Array(p.replies),
        p.set_browser.as_deref(),
    )
}

/// Holds a long-polling connect until messages wait, the hold ends, the client goes or the server
/// shuts down.
async fn wait_for_messages(bayeux: &Bayeux, client: &Arc<Client>, hold: Duration) {
    let mut closing = bayeux.closing.subscribe();
    let mut gone = client.gone.subscribe();
    client.held.store(true, Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + hold;
    loop {
        if !lock(&client.queue).is_empty() || bayeux.closing() || *gone.borrow() {
            break;
        }
        tokio::select! {
            _ = client.wake.notified() => {}
            _ = tokio::time::sleep_until(deadline) => break,
            _ = closing.changed() => break,
            _ = gone.changed() => break,
        }
    }
    client.held.store(false, Ordering::SeqCst);
    client.touch();
}

async fn websocket(
    app: Arc<App>,
    mut socket: WebSocket,
    username: Option<String>,
    browser: Option<String>,
) {
    let bayeux = &app.bayeux;
    let mut closing = bayeux.closing.subscribe();
    let mut bound: Option<Arc<Client>> = None;
    let mut pending: Option<(Value, tokio::time::Instant)> = None;
    loop {
        if bayeux.closing() {
            break;
        }
        // Deliver whatever waits for the bound client.
        if let Some(c) = &bound {
            let queued = c.take_queue();
            if !queued.is_empty() && send(&mut socket, queued).await.is_err() {
                break;
            }
        }
        let step = {
            let wake = async {
                match &bound {
                    Some(c) => c.wake.notified().await,
                    None => std::future::pending().await,
                }
            };
            let connect_due = async {
                match &pending {
                    Some((_, at)) => tokio::time::sleep_until(*at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = socket.recv() => WsStep::Frame(frame),
                _ = wake => WsStep::Wake,
                _ = connect_due => WsStep::ConnectDue,
                _ = closing.changed() => WsStep::Closing,
            }
        };
        match step {
            WsStep::Frame(frame) => {
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let messages = match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Array(a)) => a,
                    Ok(v @ Value::Object(_)) => vec![v],
                    _ => continue,
                };
                let sender = Sender {
                    username: username.clone(),
                    browser: browser.clone(),
                    bound: bound.as_ref(),
                };
                let mut p = bayeux.process(messages, &sender, Via::WebSocket);
                if let Some(c) = p.handshook.take() {
                    bound = Some(c);
                }
                if let Some((client, reply, hold)) = p.connect.take() {
                    if bound.is_none() {
                        bound = Some(client.clone());
                    }
                    client.touch();
                    // An earlier held connect is answered now; the new one waits its hold.
                    if let Some((r, _)) = pending.take() {
                        p.replies.push(r);
                    }
                    if hold.is_zero() {
                        p.replies.push(reply);
                    } else {
                        pending = Some((reply, tokio::time::Instant::now() + hold));
                    }
                }
                if !p.replies.is_empty() && send(&mut socket, p.replies).await.is_err() {
                    break;
                }
            }
            WsStep::Wake => {}
            WsStep::ConnectDue => {
                if let Some((r, _)) = pending.take() {
                    if let Some(c) = &bound {
                        c.touch();
                    }
                    if send(&mut socket, vec![r]).await.is_err() {
                        break;
                    }
                }
            }
            WsStep::Closing => break,
        }
    }
    if let Some((r, _)) = pending.take() {
        let _ = send(&mut socket, vec![r]).await;
    }
    let _ = socket.send(Message::Close(None)).await;
}

enum WsStep {
    Frame(Option<Result<Message, axum::Error>>),
    Wake,
    ConnectDue,
    Closing,
}

async fn send(socket: &mut WebSocket, messages: Vec<Value>) -> Result<(), axum::Error> {
    socket
        .send(Message::Text(Value::Array(messages).to_string().into()))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_cometd() {
        assert!(channel_matches("/v2/me/devices", "/v2/me/devices"));
        assert!(!channel_matches("/v2/me/devices", "/v2/me/devices/x"));
        assert!(channel_matches("/v2/me/*", "/v2/me/devices"));
        assert!(!channel_matches("/v2/me/*", "/v2/me/devices/x"));
        assert!(!channel_matches("/v2/me/*", "/v2/you/devices"));
        assert!(channel_matches("/**", "/v2/me/devices"));
        assert!(channel_matches("/v2/**", "/v2/me/devices"));
    }

    #[tokio::test]
    async fn handshake_needs_an_agent_and_unknown_clients_must_handshake_again() {
        let b = Bayeux::new(NotificationBus::new());
        let anon = Sender {
            username: None,
            browser: None,
            bound: None,
        };
        let p = b.process(
            vec![json!({"id": "1", "channel": "/meta/handshake"})],
            &anon,
            Via::LongPolling,
        );
        assert_eq!(p.replies[0]["successful"], false);
        assert_eq!(p.replies[0]["error"], "403::Handshake denied");
        assert_eq!(p.replies[0]["advice"]["reconnect"], "none");

        let agent = Sender {
            username: Some("agent1".into()),
            browser: None,
            bound: None,
        };
        let p = b.process(
            vec![json!({"id": "2", "channel": "/meta/handshake"})],
            &agent,
            Via::LongPolling,
        );
        assert_eq!(p.replies[0]["successful"], true);
        let id = p.replies[0]["clientId"].as_str().unwrap().to_string();
        let browser = p.set_browser.clone().unwrap();

        // Another browser without credentials cannot use that client id.
        let stranger = Sender {
            username: None,
            browser: Some("other".into()),
            bound: None,
        };
        let p = b.process(vec![json!({"id": "3", "channel": "/meta/subscribe", "clientId": id, "subscription": "/v2/me/devices"})], &stranger, Via::LongPolling);
        assert_eq!(p.replies[0]["error"], "402::Unknown client");
        assert_eq!(p.replies[0]["advice"]["reconnect"], "handshake");

        let same = Sender {
            username: None,
            browser: Some(browser),
            bound: None,
        };
        let p = b.process(vec![json!({"id": "4", "channel": "/meta/subscribe", "clientId": id, "subscription": "/v2/me/devices"})], &same, Via::LongPolling);
        assert_eq!(p.replies[0]["successful"], true);
        let p = b.process(vec![json!({"id": "5", "channel": "/meta/subscribe", "clientId": id, "subscription": "/meta/connect"})], &same, Via::LongPolling);
        assert_eq!(p.replies[0]["error"], "403::Invalid subscription");
        let p = b.process(
            vec![json!({"id": "6", "channel": "/v2/me/devices", "clientId": id, "data": {}})],
            &same,
            Via::LongPolling,
        );
        assert_eq!(p.replies[0]["error"], "403::Publish denied");
        let p = b.process(
            vec![json!({"id": "7", "channel": "/meta/disconnect", "clientId": id})],
            &same,
            Via::LongPolling,
        );
        assert_eq!(p.replies[0]["successful"], true);
        let p = b.process(
            vec![json!({"id": "8", "channel": "/meta/connect", "clientId": id})],
            &same,
            Via::LongPolling,
        );
        assert_eq!(p.replies[0]["error"], "402::Unknown client");
    }
}
