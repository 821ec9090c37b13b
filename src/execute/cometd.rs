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

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::SharedCookies;
use crate::load::Transport as TransportChoice;
use crate::secret::Secret;

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
}

/// What the server advises about reconnecting (Bayeux §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconnect {
    Retry,
    Handshake,
    None,
}

/// The server's current advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advice {
    pub reconnect: Reconnect,
    /// Wait this long before the next `/meta/connect`.
    pub interval: Duration,
    /// How long the server may hold a `/meta/connect`.
    pub timeout: Duration,
}

impl Default for Advice {
    fn default() -> Self {
        Advice {
            reconnect: Reconnect::Retry,
            interval: Duration::ZERO,
            timeout: Duration::from_secs(30),
        }
    }
}

impl Advice {
    /// Takes in the fields present in an `advice` object; absent or malformed fields keep their value.
    pub fn update(&mut self, advice: Option<&Value>) {
        let Some(a) = advice.and_then(Value::as_object) else {
            return;
        };
        match a.get("reconnect").and_then(Value::as_str) {
            Some("retry") => self.reconnect = Reconnect::Retry,
            Some("handshake") => self.reconnect = Reconnect::Handshake,
            Some("none") => self.reconnect = Reconnect::None,
            _ => {}
        }
        let ms = |k: &str| {
            a.get(k)
                .and_then(Value::as_u64)
                .map(|n| Duration::from_millis(n).min(MAX_ADVICE))
        };
        if let Some(i) = ms("interval") {
            self.interval = i;
        }
        if let Some(t) = ms("timeout") {
            self.timeout = t;
        }
    }
}

/// The agent's credentials as the CometD requests carry them.
#[derive(Clone)]
pub struct BayeuxAuth {
    /// `Authorization: Basic ...`, sent on every request as the Genesys .NET client does.
    pub basic: Option<Secret>,
    /// The agent session's cookie store, shared with the REST calls.
    pub cookies: SharedCookies,
    /// A CSRF header and token fixed for the client's life, sent on every POST. The token of the
    /// session's current cookie, when the store holds one, is sent instead: an agent session keeps
    /// its token there (see [`super::AgentSession::bayeux_auth`]), so it follows session changes.
    pub csrf: Option<(String, Secret)>,
}

impl BayeuxAuth {
    fn headers(&self, path: &str, post: bool) -> Vec<(String, String)> {
        let mut h = Vec::new();
        if let Some(b) = &self.basic {
            h.push(("Authorization".to_string(), b.expose().to_string()));
        }
        let store = lock(&self.cookies);
        if let Some(c) = store.header_for(path) {
            h.push(("Cookie".to_string(), c));
        }
        if post {
            let token = store
                .csrf()
                .map(|t| (t.header.clone(), t.value.clone()))
                .or_else(|| self.csrf.clone());
            if let Some((name, token)) = token {
                h.push((name, token.expose().to_string()));
            }
        }
        h
    }

    fn absorb<'h>(&self, set_cookies: impl Iterator<Item = &'h [u8]>) {
        let mut store = lock(&self.cookies);
        for v in set_cookies {
            store.absorb(&String::from_utf8_lossy(v));
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

struct WsLink {
    out: mpsc::UnboundedSender<String>,
    pending: Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>,
    alive: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for WsLink {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
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
        // The first connect asks for an immediate reply (advice timeout 0), as CometD clients do.
        let first_connect = async {
            inner
                .exchange(
                    vec![inner.connect_message(Some(0))],
                    inner.cfg.request_timeout,
                )
                .await
                .and_then(|r| inner.expect_success(r, "/meta/connect"))
        };
        let (reply, subscribed) =
            tokio::join!(first_connect, inner.subscription("/meta/subscribe", &fresh));
        let reply = reply?;
        inner.update_advice(reply.get("advice"));
        subscribed?;
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

    async fn exchange_http(
        &self,
        msgs: Vec<Value>,
        wait: Duration,
    ) -> Result<Vec<Value>, CometdError> {
        let channel = first_channel(&msgs);
        let ids = ids_of(&msgs);
        let mut req = self
            .http
            .post(self.cfg.endpoint.clone())
            .timeout(wait)
            .header("Content-Type", "application/json;charset=UTF-8")
            .header("Accept", "application/json");
        for (k, v) in self.auth.headers(self.cfg.endpoint.path(), true) {
            req = req.header(k, v);
        }
        let body = serde_json::to_vec(&msgs).unwrap_or_default();
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                CometdError::Timeout {
                    target: self.target.clone(),
                    channel: channel.clone(),
                    timeout: wait,
                }
            } else if e.is_connect() {
                CometdError::Connect {
                    target: self.target.clone(),
                    channel: channel.clone(),
                    detail: super::error_chain(&e),
                }
            } else {
                self.protocol(&channel, super::error_chain(&e))
            }
        };
        let mut resp = req.body(body).send().await.map_err(classify)?;
        self.auth.absorb(
            resp.headers()
                .get_all(reqwest::header::SET_COOKIE)
                .iter()
                .map(|v| v.as_bytes()),
        );
        let status = resp.status().as_u16();
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            if bytes.len() + chunk.len() > self.cfg.max_body_bytes {
                return Err(self.protocol(
                    &channel,
                    format!(
                        "the answer is over the {}-byte cap",
                        self.cfg.max_body_bytes
                    ),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&bytes);
        if !(200..300).contains(&status) {
            return Err(CometdError::Http {
                target: self.target.clone(),
                channel,
                status,
                preview: preview(&text),
            });
        }
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            self.protocol(
                &channel,
                format!("the answer is not JSON ({e}): {:?}", preview(&text)),
            )
        })?;
        let messages = match value {
            Value::Array(a) => a,
            Value::Object(_) => vec![value],
            other => {
                return Err(self.protocol(
                    &channel,
                    format!(
                        "the answer is not a Bayeux message array: {}",
                        preview(&other.to_string())
                    ),
                ))
            }
        };
        let mut replies: HashMap<String, Value> = HashMap::new();
        for m in messages {
            if let Some(id) = route(m, &self.events) {
                replies.insert(id.0, id.1);
            }
        }
        ids.iter()
            .map(|id| {
                replies.remove(id).ok_or_else(|| {
                    self.protocol(
                        &channel,
                        format!("the answer holds no reply to message id {id}"),
                    )
                })
            })
            .collect()
    }

    async fn exchange_ws(
        &self,
        link: &WsLink,
        msgs: Vec<Value>,
        wait: Duration,
    ) -> Result<Vec<Value>, CometdError> {
        let channel = first_channel(&msgs);
        let ids = ids_of(&msgs);
        let closed = || CometdError::WebsocketClosed {
            target: self.target.clone(),
            channel: channel.clone(),
        };
        let mut waits = Vec::new();
        {
            let mut pending = lock(&link.pending);
            for id in &ids {
                let (tx, rx) = oneshot::channel();
                pending.insert(id.clone(), tx);
                waits.push(rx);
            }
        }
        if !link.alive.load(Ordering::SeqCst) {
            return Err(closed());
        }
        let text = Value::Array(msgs).to_string();
        link.out.send(text).map_err(|_| closed())?;
        let deadline = tokio::time::Instant::now() + wait;
        let mut replies = Vec::new();
        for rx in waits {
            match tokio::time::timeout_at(deadline, rx).await {
                Ok(Ok(v)) => replies.push(v),
                Ok(Err(_)) => return Err(closed()),
                Err(_) => {
                    let mut pending = lock(&link.pending);
                    for id in &ids {
                        pending.remove(id);
                    }
                    return Err(CometdError::Timeout {
                        target: self.target.clone(),
                        channel,
                        timeout: wait,
                    });
                }
            }
        }
        Ok(replies)
    }

    /// Opens the WebSocket with the session's credentials and cookies; the error is a short reason.
    async fn open_websocket(self: &Inner) -> Result<WsLink, String> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
        use tokio_tungstenite::tungstenite::Message;

        let mut url = self.cfg.endpoint.clone();
        let connector = match (url.scheme(), &self.cfg.tls) {
            ("http", _) => {
                url.set_scheme("ws").map_err(|_| "bad URL".to_string())?;
                None
            }
            ("https", Some(tls)) => {
                url.set_scheme("wss").map_err(|_| "bad URL".to_string())?;
                Some(tokio_tungstenite::Connector::Rustls(tls.clone()))
            }
            ("https", None) => return Err("no TLS settings for a wss:// connection".to_string()),
            (other, _) => return Err(format!("no WebSocket for a `{other}` endpoint")),
        };
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| e.to_string())?;
        for (k, v) in self.auth.headers(self.cfg.endpoint.path(), false) {
            let (Ok(name), Ok(value)) = (
                reqwest::header::HeaderName::from_bytes(k.as_bytes()),
                reqwest::header::HeaderValue::from_str(&v),
            ) else {
                continue;
            };
            request.headers_mut().insert(name, value);
        }
        let config = WebSocketConfig::default()
            .max_message_size(Some(self.cfg.max_body_bytes))
            .max_frame_size(Some(self.cfg.max_body_bytes));
        let (stream, response) = tokio::time::timeout(
            self.cfg.request_timeout,
            tokio_tungstenite::connect_async_tls_with_config(
                request,
                Some(config),
                true,
                connector,
            ),
        )
        .await
        .map_err(|_| {
            format!(
                "no upgrade within {} ms",
                self.cfg.request_timeout.as_millis()
            )
        })?
        .map_err(|e| super::error_chain(&e))?;
        self.auth.absorb(
            response
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.as_bytes()),
        );
        let (mut sink, mut source) = stream.split();
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
        let pending: Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>> = Arc::default();
        let alive = Arc::new(AtomicBool::new(true));

        let writer_alive = alive.clone();
        let writer = tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
            writer_alive.store(false, Ordering::SeqCst);
            let _ = sink.close().await;
        });

        let (reader_pending, reader_alive, events, target) = (
            pending.clone(),
            alive.clone(),
            self.events.clone(),
            self.target.clone(),
        );
        let reader = tokio::spawn(async move {
            while let Some(frame) = source.next().await {
                let text = match frame {
                    Ok(Message::Text(t)) => t.as_str().to_string(),
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => continue,
                };
                let messages = match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Array(a)) => a,
                    Ok(v @ Value::Object(_)) => vec![v],
                    _ => {
                        let _ = events.send(ClientEvent::Note(format!(
                            "{target}: ignored a WebSocket frame that is not Bayeux JSON: {:?}",
                            preview(&text)
                        )));
                        continue;
                    }
                };
                for m in messages {
                    if let Some((id, reply)) = route(m, &events) {
                        if let Some(tx) = lock(&reader_pending).remove(&id) {
                            let _ = tx.send(reply);
                        }
                    }
                }
            }
            reader_alive.store(false, Ordering::SeqCst);
            // Dropping the senders wakes every waiter with "closed".
            lock(&reader_pending).clear();
        });

        Ok(WsLink {
            out: out_tx,
            pending,
            alive,
            tasks: vec![writer, reader],
        })
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
