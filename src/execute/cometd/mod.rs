//! A small Bayeux 1.0 (CometD) client: handshake, subscribe, the `/meta/connect` loop driven by the
//! server's `advice` (interval, timeout, reconnect = retry | handshake | none), unsubscribe and
//! disconnect. Long-polling always works; WebSocket is used when the server offers it and the profile's
//! `transport` allows it.
//!
//! The client shares the agent's session with the REST calls: the same cookie store (so it sends
//! `JSESSIONID` and keeps the `BAYEUX_BROWSER` cookie CometD servers bind the client id to), the same
//! Basic credentials, and the CSRF token when the target wants one. No maintained Rust Bayeux crate
//! exists (see `shared/notes/toolchain.md`), hence this one, on reqwest and tokio-tungstenite.
//!
//! Every wait is bounded. A server that misbehaves yields a [`CometdError`] naming the endpoint, the
//! Bayeux channel and what went wrong; it never hangs the run or panics it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::load::Transport as TransportChoice;

mod advice;
mod auth;
mod http;
mod websocket;

pub use advice::{Advice, Reconnect};
pub use auth::BayeuxAuth;
use websocket::WsLink;

/// Consecutive failed `/meta/connect` exchanges after which the client gives up.
const MAX_CONNECT_FAILURES: u32 = 3;
/// Advice values above this are clamped, so that no advice can park the client for long.
const MAX_ADVICE: Duration = Duration::from_secs(300);
/// How much of an unexpected HTTP body an error quotes.
const PREVIEW_CHARS: usize = 160;

/// Why the CometD session failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CometdError {
    #[error("{target}: could not connect for {channel}: {detail}")]
    Connect {
        target: String,
        channel: String,
        detail: String,
    },
    #[error("{target}: no reply to {channel} within {} ms", timeout.as_millis())]
    Timeout {
        target: String,
        channel: String,
        timeout: Duration,
    },
    #[error("{target}: {channel} was answered with HTTP {status}: {preview:?}")]
    Http {
        target: String,
        channel: String,
        status: u16,
        preview: String,
    },
    #[error("{target}: {channel}: {detail}")]
    Protocol {
        target: String,
        channel: String,
        detail: String,
    },
    #[error("{target}: {channel} was refused: {error}")]
    Refused {
        target: String,
        channel: String,
        error: String,
    },
    #[error("{target}: the profile demands WebSocket, but {detail}")]
    NoWebsocket { target: String, detail: String },
    #[error("{target}: /meta/connect failed ({error}) with advice reconnect=none: the server ended the session")]
    ReconnectNone { target: String, error: String },
    #[error("{target}: the WebSocket closed while waiting for {channel}")]
    WebsocketClosed { target: String, channel: String },
    #[error("{target}: the client was already disconnected")]
    Closed { target: String },
    /// The client's background task ended without saying why (its event channel closed).
    #[error("{target}: the CometD client stopped")]
    Stopped { target: String },
}

impl CometdError {
    /// Whether the endpoint gave no answer, or one saying it is not there (404, 405, 501): when
    /// the session was being set up, a setup error rather than the server's failure.
    pub fn is_missing_or_silent(&self) -> bool {
        match self {
            CometdError::Connect { .. }
            | CometdError::Timeout { .. }
            | CometdError::WebsocketClosed { .. } => true,
            CometdError::Http { status, .. } => matches!(status, 404 | 405 | 501),
            _ => false,
        }
    }
}

/// Where and how to talk Bayeux.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The Bayeux endpoint, e.g. `http://host/api/v2/notifications`.
    pub endpoint: url::Url,
    pub transport: TransportChoice,
    /// Bound on every exchange but `/meta/connect` (which also gets the advised timeout).
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    /// How wss:// connections verify the server (see [`super::tls_config`]); `None` for an http
    /// endpoint.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// A data message the server delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub channel: String,
    /// The whole Bayeux message (`channel`, `data`, and whatever else the server put in).
    pub message: Value,
    /// When the client received it.
    pub at: Instant,
}

/// What the client reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    Message(Delivery),
    /// Something worth a line in the report (a re-handshake, a transport fallback).
    Note(String),
    /// The session is over; no message will follow.
    Failed(CometdError),
}

/// A running CometD session. Dropping it stops its background tasks without telling the server;
/// [`CometdClient::disconnect`] says goodbye first.
pub struct CometdClient {
    inner: Arc<Inner>,
    connect_loop: Option<JoinHandle<()>>,
}

struct Inner {
    http: reqwest::Client,
    cfg: ClientConfig,
    target: String,
    auth: BayeuxAuth,
    next_id: AtomicU64,
    state: Mutex<State>,
    ws: Mutex<Option<Arc<WsLink>>>,
    events: mpsc::UnboundedSender<ClientEvent>,
}

struct State {
    client_id: Option<String>,
    advice: Advice,
    subscriptions: BTreeSet<String>,
    /// Whether the server offered `websocket` in its last handshake reply.
    websocket_offered: bool,
    /// The `supportedConnectionTypes` of the last handshake reply.
    offered: Vec<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl CometdClient {
    /// Handshakes (over HTTP), picks the transport, sends the first `/meta/connect` and starts the
    /// connect loop. Messages and failures arrive on the returned receiver.
    pub async fn start(
        http: reqwest::Client,
        cfg: ClientConfig,
        auth: BayeuxAuth,
    ) -> Result<(CometdClient, mpsc::UnboundedReceiver<ClientEvent>), CometdError> {
        CometdClient::start_subscribed(http, cfg, auth, &[]).await
    }

    /// [`CometdClient::start`], subscribed to `channels` when it returns. The subscriptions go out
    /// beside the first `/meta/connect` rather than after its reply (as the CometD JavaScript client
    /// sends its first subscriptions right after the handshake): one round trip less per session,
    /// which is what a case pays on a distant target (benches/latency.sh).
    pub async fn start_subscribed(
        http: reqwest::Client,
        cfg: ClientConfig,
        auth: BayeuxAuth,
        channels: &[String],
    ) -> Result<(CometdClient, mpsc::UnboundedReceiver<ClientEvent>), CometdError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let target = cfg.endpoint.to_string();
        let inner = Arc::new(Inner {
            http,
            cfg,
            target,
            auth,
            next_id: AtomicU64::new(1),
            state: Mutex::new(State {
                client_id: None,
                advice: Advice::default(),
                subscriptions: BTreeSet::new(),
                websocket_offered: false,
                offered: Vec::new(),
            }),
            ws: Mutex::new(None),
            events: tx,
        });
        inner.handshake().await?;
        inner.choose_transport().await?;
        let fresh: Vec<String> = channels
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // The first connect asks for an immediate reply (advice timeout 0), as CometD clients do; the
        // subscriptions travel beside it. A refusal advising `reconnect: handshake` (a cluster node
        // that did not see the handshake answers so) is followed once, as the connect loop follows
        // it later (Bayeux §5.2; gws-notes.md §5.1 step 6): handshake again, connect and subscribe.
        let mut handshakes_left = 1;
        loop {
            let first_connect = async {
                inner
                    .exchange(
                        vec![inner.connect_message(Some(0))],
                        inner.cfg.request_timeout,
                    )
                    .await
                    .and_then(|r| inner.one_reply(r, "/meta/connect"))
            };
            let (reply, subscribed) =
                tokio::join!(first_connect, inner.subscription("/meta/subscribe", &fresh));
            let reply = reply?;
            inner.update_advice(reply.get("advice"));
            let refused = reply.get("successful") == Some(&Value::Bool(false));
            let advised = lock(&inner.state).advice.reconnect == Reconnect::Handshake;
            if refused && advised && handshakes_left > 0 {
                handshakes_left -= 1;
                inner.emit(ClientEvent::Note(format!(
                    "the first /meta/connect was refused ({}); advice reconnect=handshake: handshaking again",
                    error_text(&reply)
                )));
                inner.handshake().await?;
                continue;
            }
            inner.expect_success(vec![reply], "/meta/connect")?;
            subscribed?;
            break;
        }
        lock(&inner.state).subscriptions.extend(fresh);
        let connect_loop = tokio::spawn(connect_loop(inner.clone()));
        Ok((
            CometdClient {
                inner,
                connect_loop: Some(connect_loop),
            },
            rx,
        ))
    }

    /// `websocket` or `long-polling`.
    pub fn connection_type(&self) -> &'static str {
        self.inner.connection_type()
    }

    /// The connection types the server offered in its handshake reply (`supportedConnectionTypes`).
    pub fn offered_connection_types(&self) -> Vec<String> {
        lock(&self.inner.state).offered.clone()
    }

    /// The server's latest advice.
    pub fn advice(&self) -> Advice {
        lock(&self.inner.state).advice
    }

    /// The endpoint, for messages.
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// Subscribes to the channels not subscribed yet; returns once the server confirmed every one, so
    /// that a message published after this returns reaches the client.
    pub async fn subscribe(&self, channels: &[String]) -> Result<(), CometdError> {
        let fresh: Vec<String> = {
            let s = lock(&self.inner.state);
            channels
                .iter()
                .filter(|c| !s.subscriptions.contains(*c))
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        self.inner.subscription("/meta/subscribe", &fresh).await?;
        lock(&self.inner.state).subscriptions.extend(fresh);
        Ok(())
    }

    /// Unsubscribes from the given channels (those subscribed).
    pub async fn unsubscribe(&self, channels: &[String]) -> Result<(), CometdError> {
        let known: Vec<String> = {
            let s = lock(&self.inner.state);
            channels
                .iter()
                .filter(|c| s.subscriptions.contains(*c))
                .cloned()
                .collect()
        };
        self.inner.subscription("/meta/unsubscribe", &known).await?;
        let mut s = lock(&self.inner.state);
        for c in &known {
            s.subscriptions.remove(c);
        }
        Ok(())
    }

    /// The channels currently subscribed.
    pub fn subscriptions(&self) -> Vec<String> {
        lock(&self.inner.state)
            .subscriptions
            .iter()
            .cloned()
            .collect()
    }

    /// Sends `/meta/disconnect` (bounded by the request timeout) and stops the background tasks.
    pub async fn disconnect(mut self) -> Result<(), CometdError> {
        if let Some(t) = self.connect_loop.take() {
            t.abort();
        }
        let Some(client_id) = lock(&self.inner.state).client_id.clone() else {
            return Err(CometdError::Closed {
                target: self.inner.target.clone(),
            });
        };
        let msg = json!({
            "id": self.inner.id(),
            "channel": "/meta/disconnect",
            "clientId": client_id,
        });
        let result = self
            .inner
            .exchange(vec![msg], self.inner.cfg.request_timeout)
            .await
            .and_then(|r| self.inner.expect_success(r, "/meta/disconnect"))
            .map(|_| ());
        lock(&self.inner.state).client_id = None;
        lock(&self.inner.ws).take();
        result
    }
}

impl Drop for CometdClient {
    fn drop(&mut self) {
        if let Some(t) = self.connect_loop.take() {
            t.abort();
        }
        lock(&self.inner.ws).take();
    }
}

async fn connect_loop(inner: Arc<Inner>) {
    let mut failures = 0u32;
    loop {
        let advice = lock(&inner.state).advice;
        if !advice.interval.is_zero() {
            tokio::time::sleep(advice.interval).await;
        }
        let wait = advice.timeout + inner.cfg.request_timeout;
        let outcome = inner
            .exchange(vec![inner.connect_message(None)], wait)
            .await;
        let reply = match outcome.and_then(|r| inner.one_reply(r, "/meta/connect")) {
            Ok(r) => r,
            Err(e) => {
                failures += 1;
                if failures >= MAX_CONNECT_FAILURES {
                    inner.emit(ClientEvent::Failed(e));
                    return;
                }
                inner.emit(ClientEvent::Note(format!("{e}; retrying")));
                // A short, growing pause so that a dead server is not hammered; bounded by the count.
                tokio::time::sleep(Duration::from_millis(100 * u64::from(failures))).await;
                continue;
            }
        };
        inner.update_advice(reply.get("advice"));
        if reply.get("successful") == Some(&Value::Bool(true)) {
            failures = 0;
            continue;
        }
        let error = error_text(&reply);
        let reconnect = lock(&inner.state).advice.reconnect;
        match reconnect {
            Reconnect::None => {
                inner.emit(ClientEvent::Failed(CometdError::ReconnectNone {
                    target: inner.target.clone(),
                    error,
                }));
                return;
            }
            Reconnect::Retry => {
                failures += 1;
                if failures >= MAX_CONNECT_FAILURES {
                    inner.emit(ClientEvent::Failed(CometdError::Refused {
                        target: inner.target.clone(),
                        channel: "/meta/connect".into(),
                        error,
                    }));
                    return;
                }
                inner.emit(ClientEvent::Note(format!(
                    "/meta/connect refused ({error}); advice reconnect=retry"
                )));
            }
            Reconnect::Handshake => {
                inner.emit(ClientEvent::Note(format!(
                    "/meta/connect refused ({error}); advice reconnect=handshake: handshaking again"
                )));
                if let Err(e) = inner.rehandshake().await {
                    inner.emit(ClientEvent::Failed(e));
                    return;
                }
                failures = 0;
            }
        }
    }
}

impl Inner {
    fn id(&self) -> String {
        self.next_id.fetch_add(1, Ordering::Relaxed).to_string()
    }

    fn emit(&self, e: ClientEvent) {
        let _ = self.events.send(e);
    }

    fn update_advice(&self, advice: Option<&Value>) {
        lock(&self.state).advice.update(advice);
    }

    fn ws_link(&self) -> Option<Arc<WsLink>> {
        lock(&self.ws).clone()
    }

    fn connection_type(&self) -> &'static str {
        if self.ws_link().is_some() {
            "websocket"
        } else {
            "long-polling"
        }
    }

    fn connect_message(&self, timeout: Option<u64>) -> Value {
        let client_id = lock(&self.state).client_id.clone();
        let mut m = json!({
            "id": self.id(),
            "channel": "/meta/connect",
            "clientId": client_id,
            "connectionType": self.connection_type(),
        });
        if let Some(t) = timeout {
            m["advice"] = json!({ "timeout": t });
        }
        m
    }

    fn protocol(&self, channel: &str, detail: impl Into<String>) -> CometdError {
        CometdError::Protocol {
            target: self.target.clone(),
            channel: channel.to_string(),
            detail: detail.into(),
        }
    }

    /// The single reply of a one-message exchange.
    fn one_reply(&self, replies: Vec<Value>, channel: &str) -> Result<Value, CometdError> {
        replies
            .into_iter()
            .next()
            .ok_or_else(|| self.protocol(channel, "the answer holds no reply"))
    }

    fn expect_success(&self, replies: Vec<Value>, channel: &str) -> Result<Value, CometdError> {
        let reply = self.one_reply(replies, channel)?;
        match reply.get("successful") {
            Some(Value::Bool(true)) => Ok(reply),
            Some(Value::Bool(false)) => Err(CometdError::Refused {
                target: self.target.clone(),
                channel: channel.to_string(),
                error: error_text(&reply),
            }),
            _ => Err(self.protocol(
                channel,
                format!(
                    "the reply has no boolean `successful`: {}",
                    preview(&reply.to_string())
                ),
            )),
        }
    }

    async fn handshake(&self) -> Result<(), CometdError> {
        const CH: &str = "/meta/handshake";
        let types: &[&str] = if self.cfg.transport == TransportChoice::LongPolling {
            &["long-polling"]
        } else {
            &["websocket", "long-polling"]
        };
        let msg = json!({
            "id": self.id(),
            "channel": CH,
            "version": "1.0",
            "minimumVersion": "1.0",
            "supportedConnectionTypes": types,
            "advice": { "timeout": 60000, "interval": 0 },
        });
        // The handshake always travels over HTTP: long-polling is the transport every server has.
        let replies = self
            .exchange_http(vec![msg], self.cfg.request_timeout)
            .await?;
        let reply = self.expect_success(replies, CH)?;
        let client_id = reply
            .get("clientId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.protocol(CH, "the successful reply carries no clientId"))?
            .to_string();
        let offered: Vec<&str> = reply
            .get("supportedConnectionTypes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if offered.is_empty() {
            return Err(self.protocol(CH, "the successful reply lists no supportedConnectionTypes"));
        }
        let websocket_offered = offered.contains(&"websocket");
        if !websocket_offered && !offered.contains(&"long-polling") {
            return Err(self.protocol(
                CH,
                format!("the server offers neither websocket nor long-polling: {offered:?}"),
            ));
        }
        let mut s = lock(&self.state);
        s.advice.update(reply.get("advice"));
        s.client_id = Some(client_id);
        s.websocket_offered = websocket_offered;
        s.offered = offered.iter().map(|t| t.to_string()).collect();
        Ok(())
    }

    async fn choose_transport(&self) -> Result<(), CometdError> {
        let offered = lock(&self.state).websocket_offered;
        match (self.cfg.transport, offered) {
            (TransportChoice::LongPolling, _) => Ok(()),
            (TransportChoice::Websocket, false) => Err(CometdError::NoWebsocket {
                target: self.target.clone(),
                detail: "its handshake reply does not offer websocket".into(),
            }),
            (TransportChoice::Auto, false) => Ok(()),
            (choice, true) => match self.open_websocket().await {
                Ok(link) => {
                    *lock(&self.ws) = Some(Arc::new(link));
                    Ok(())
                }
                Err(detail) if choice == TransportChoice::Auto => {
                    self.emit(ClientEvent::Note(format!(
                        "{}: websocket offered but not usable ({detail}); using long-polling",
                        self.target
                    )));
                    Ok(())
                }
                Err(detail) => Err(CometdError::NoWebsocket {
                    target: self.target.clone(),
                    detail: format!("the WebSocket could not be opened: {detail}"),
                }),
            },
        }
    }

    /// Handshakes again after `reconnect=handshake`, reopens a dead WebSocket, and subscribes again.
    async fn rehandshake(&self) -> Result<(), CometdError> {
        self.handshake().await?;
        let dead = self
            .ws_link()
            .is_some_and(|l| !l.alive.load(Ordering::SeqCst));
        if dead {
            lock(&self.ws).take();
            self.choose_transport().await?;
        }
        let subs: Vec<String> = lock(&self.state).subscriptions.iter().cloned().collect();
        self.subscription("/meta/subscribe", &subs).await
    }

    async fn subscription(&self, channel: &str, subs: &[String]) -> Result<(), CometdError> {
        if subs.is_empty() {
            return Ok(());
        }
        let client_id = lock(&self.state)
            .client_id
            .clone()
            .ok_or_else(|| CometdError::Closed {
                target: self.target.clone(),
            })?;
        let msgs: Vec<Value> = subs
            .iter()
            .map(|s| {
                json!({ "id": self.id(), "channel": channel, "clientId": client_id, "subscription": s })
            })
            .collect();
        let replies = self.exchange(msgs, self.cfg.request_timeout).await?;
        for (sub, reply) in subs.iter().zip(replies) {
            if reply.get("successful") != Some(&Value::Bool(true)) {
                return Err(CometdError::Refused {
                    target: self.target.clone(),
                    channel: channel.to_string(),
                    error: format!("{sub}: {}", error_text(&reply)),
                });
            }
        }
        Ok(())
    }

    /// Sends messages and returns their replies, in the order sent. Data messages that come along are
    /// delivered as events.
    async fn exchange(&self, msgs: Vec<Value>, wait: Duration) -> Result<Vec<Value>, CometdError> {
        match self.ws_link() {
            Some(link) => self.exchange_ws(&link, msgs, wait).await,
            None => self.exchange_http(msgs, wait).await,
        }
    }
}

/// Delivers a data message as an event, or hands back a reply with its id (both transports).
fn route(m: Value, events: &mpsc::UnboundedSender<ClientEvent>) -> Option<(String, Value)> {
    let channel = m.get("channel").and_then(Value::as_str).unwrap_or_default();
    let is_reply = channel.starts_with("/meta/") || m.get("successful").is_some();
    if is_reply {
        let id = match m.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return None,
        };
        return Some((id, m));
    }
    if m.get("data").is_some() && !channel.is_empty() {
        let _ = events.send(ClientEvent::Message(Delivery {
            channel: channel.to_string(),
            message: m,
            at: Instant::now(),
        }));
    }
    None
}

fn first_channel(msgs: &[Value]) -> String {
    msgs.first()
        .and_then(|m| m.get("channel"))
        .and_then(Value::as_str)
        .unwrap_or("(no channel)")
        .to_string()
}

fn ids_of(msgs: &[Value]) -> Vec<String> {
    msgs.iter()
        .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// `error` of an unsuccessful reply, or a description of its absence.
fn error_text(reply: &Value) -> String {
    match reply.get("error").and_then(Value::as_str) {
        Some(e) => e.to_string(),
        None => "no `error` given".to_string(),
    }
}

fn preview(text: &str) -> String {
    let mut p: String = text.chars().take(PREVIEW_CHARS).collect();
    if text.chars().count() > PREVIEW_CHARS {
        p.push('…');
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_updates_only_what_is_given_and_is_clamped() {
        let mut a = Advice::default();
        a.update(Some(&json!({"reconnect": "handshake", "interval": 250})));
        assert_eq!(a.reconnect, Reconnect::Handshake);
        assert_eq!(a.interval, Duration::from_millis(250));
        assert_eq!(a.timeout, Duration::from_secs(30));
        a.update(Some(&json!({"reconnect": "none", "timeout": 99_999_999})));
        assert_eq!(a.reconnect, Reconnect::None);
        assert_eq!(a.timeout, MAX_ADVICE);
        a.update(Some(&json!({"reconnect": "sideways", "interval": "soon"})));
        assert_eq!(a.reconnect, Reconnect::None);
        assert_eq!(a.interval, Duration::from_millis(250));
        a.update(None);
        assert_eq!(a.reconnect, Reconnect::None);
    }

    #[test]
    fn errors_name_the_target_and_the_channel() {
        let e = CometdError::Timeout {
            target: "http://127.0.0.1:1/api/v2/notifications".into(),
            channel: "/meta/subscribe".into(),
            timeout: Duration::from_millis(1500),
        };
        assert_eq!(
            e.to_string(),
            "http://127.0.0.1:1/api/v2/notifications: no reply to /meta/subscribe within 1500 ms"
        );
        assert_eq!(
            error_text(&json!({"error": "402::unknown"})),
            "402::unknown"
        );
        assert_eq!(error_text(&json!({})), "no `error` given");
        assert_eq!(preview(&"x".repeat(200)).chars().count(), PREVIEW_CHARS + 1);
    }
}
