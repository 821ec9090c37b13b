//! The Bayeux 1.0 protocol of the CometD endpoint at `/api/v2/notifications` [notes §5.1]: clients,
//! subscriptions and message queues. `crate::cometd` carries it over long-polling and WebSocket.
//!
//! - **Handshake** needs an authenticated request: HTTP Basic or a live `JSESSIONID`, exactly as the REST
//!   API. Without one the reply is `403::Handshake denied` with advice `reconnect: none` (INF: the
//!   notes leave the exact answer open; this is what a CometD security policy answers).
//! - After the handshake a client is known by its `clientId`, bound to the `BAYEUX_BROWSER` cookie set
//!   on the handshake reply (as CometD servers do) or to the WebSocket it handshook on. A request that
//!   names an unknown client, or a client of another browser, gets `402::Unknown client` with advice
//!   `reconnect: handshake`.
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

use serde_json::{json, Value};
use tokio::sync::{broadcast, watch, Notify};

use crate::notifications::NotificationBus;
use crate::variant::{Variant, Variants};

/// How long a `/meta/connect` is held when the client does not ask otherwise (CometD's default).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// What variant `cometd-advice-interval` advises instead of 0 and [`CONNECT_TIMEOUT`].
const ADVISED_INTERVAL: Duration = Duration::from_secs(1);
const ADVISED_TIMEOUT: Duration = Duration::from_secs(10);
/// A client neither connected nor heard from for this long is forgotten.
const MAX_INTERVAL: Duration = Duration::from_secs(60);
pub(crate) const BROWSER_COOKIE: &str = "BAYEUX_BROWSER";

/// Every Bayeux client of one server.
pub(crate) struct Bayeux {
    bus: NotificationBus,
    variants: Variants,
    clients: Mutex<HashMap<String, Arc<Client>>>,
    next: AtomicU64,
    pub(crate) closing: watch::Sender<bool>,
}

pub(crate) struct Client {
    id: String,
    username: String,
    browser: String,
    subscriptions: Mutex<BTreeSet<String>>,
    queue: Mutex<VecDeque<Value>>,
    pub(crate) wake: Notify,
    gone: watch::Sender<bool>,
    held: AtomicBool,
    last_seen: Mutex<Instant>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Client {
    fn subscribed(&self, channel: &str) -> bool {
        lock(&self.subscriptions)
            .iter()
            .any(|s| channel_matches(s, channel))
    }

    pub(crate) fn take_queue(&self) -> Vec<Value> {
        lock(&self.queue).drain(..).collect()
    }

    pub(crate) fn touch(&self) {
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
pub(crate) enum Via {
    LongPolling,
    WebSocket,
}

/// Who sent a batch.
pub(crate) struct Sender<'a> {
    /// The authenticated agent (Basic or JSESSIONID), if any.
    pub(crate) username: Option<String>,
    /// The `BAYEUX_BROWSER` cookie, if any.
    pub(crate) browser: Option<String>,
    /// The client bound to the WebSocket the batch came on.
    pub(crate) bound: Option<&'a Arc<Client>>,
}

/// What processing a batch produced.
#[derive(Default)]
pub(crate) struct Processed {
    pub(crate) replies: Vec<Value>,
    /// A cookie to set (a new browser id on handshake).
    pub(crate) set_browser: Option<String>,
    /// A connect to answer once messages are waiting or the hold ends: the client, the reply, the hold.
    pub(crate) connect: Option<(Arc<Client>, Value, Duration)>,
    /// The client a WebSocket handshake created.
    pub(crate) handshook: Option<Arc<Client>>,
}

impl Bayeux {
    pub(crate) fn new(bus: NotificationBus, variants: Variants) -> Bayeux {
        Bayeux {
            bus,
            variants,
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

    pub(crate) fn closing(&self) -> bool {
        *self.closing.borrow()
    }

    fn advice(&self) -> Value {
        let (interval, timeout) = self.timing();
        json!({ "reconnect": "retry", "interval": interval.as_millis() as u64, "timeout": timeout.as_millis() as u64 })
    }

    /// The advised pause between connects and the longest hold (variant `cometd-advice-interval`).
    fn timing(&self) -> (Duration, Duration) {
        if self.variants.has(Variant::CometdAdviceInterval) {
            (ADVISED_INTERVAL, ADVISED_TIMEOUT)
        } else {
            (Duration::ZERO, CONNECT_TIMEOUT)
        }
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
            "clientId": client_id, "supportedConnectionTypes": self.connection_types(),
            "advice": self.advice(),
        })
    }

    /// The transports this deployment has (variants `long-polling-only`, `websocket-only`).
    fn connection_types(&self) -> Vec<&'static str> {
        if self.variants.has(Variant::LongPollingOnly) {
            vec!["long-polling"]
        } else if self.variants.has(Variant::WebsocketOnly) {
            vec!["websocket"]
        } else {
            vec!["websocket", "long-polling"]
        }
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

    pub(crate) fn process(&self, messages: Vec<Value>, sender: &Sender, via: Via) -> Processed {
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
            if via == Via::LongPolling && self.variants.has(Variant::WebsocketOnly) {
                // Only the handshake may travel over HTTP here; it offered websocket alone.
                p.replies.push(json!({
                    "id": id, "channel": channel, "successful": false,
                    "error": "400::Unsupported connection type", "advice": { "reconnect": "none" },
                }));
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
                    let longest = self.timing().1;
                    let hold = m
                        .pointer("/advice/timeout")
                        .and_then(Value::as_u64)
                        .map(|t| Duration::from_millis(t).min(longest))
                        .unwrap_or(longest);
                    let reply = ok(json!({ "advice": self.advice() }));
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

    /// Whether a live client was handshaken from this browser (a WebSocket may then upgrade with the
    /// cookie alone).
    pub(crate) fn knows_browser(&self, browser: &str) -> bool {
        lock(&self.clients).values().any(|c| c.browser == browser)
    }

    /// Holds a long-polling connect until messages wait, the hold ends, the client goes or the server
    /// shuts down.
    pub(crate) async fn wait_for_messages(&self, client: &Arc<Client>, hold: Duration) {
        let mut closing = self.closing.subscribe();
        let mut gone = client.gone.subscribe();
        client.held.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + hold;
        loop {
            if !lock(&client.queue).is_empty() || self.closing() || *gone.borrow() {
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
        let b = Bayeux::new(NotificationBus::new(), Variants::default());
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

    #[tokio::test]
    async fn the_advice_variant_holds_connects_for_less() {
        for (variants, hold) in [
            (Variants::default(), CONNECT_TIMEOUT),
            (
                [Variant::CometdAdviceInterval].iter().collect(),
                ADVISED_TIMEOUT,
            ),
        ] {
            let b = Bayeux::new(NotificationBus::new(), variants);
            let agent = Sender {
                username: Some("agent1".into()),
                browser: None,
                bound: None,
            };
            let hs = b.process(
                vec![json!({"channel": "/meta/handshake"})],
                &agent,
                Via::LongPolling,
            );
            let id = hs.replies[0]["clientId"].clone();
            let p = b.process(
                vec![json!({"channel": "/meta/connect", "clientId": id})],
                &agent,
                Via::LongPolling,
            );
            assert_eq!(p.connect.expect("a held connect").2, hold);
        }
    }
}
