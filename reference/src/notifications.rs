//! The per-agent notification bus.
//!
//! Every state change the server makes for an agent (voice login and logout, Ready/NotReady, multimedia
//! channel state) is published here as a complete Bayeux message (`{"channel": "/v2/me/devices", "data":
//! {...}}`), in the order a real GWS 8.5.2 node emits them. The bus is a set of `tokio::sync::broadcast`
//! channels, one per agent user name, created on first use.
//!
//! The CometD (Bayeux) endpoint at `/api/v2/notifications` ([`crate::bayeux`]) plugs in here: for each
//! client that handshakes it calls [`NotificationBus::subscribe`] with the agent's user name and forwards
//! every received message whose `channel` matches the client's subscriptions. [`NotificationBus::publish`]
//! is the single place messages leave the server's core, so the faults of the `notifications` area (in
//! [`crate::Fault`]) are applied there, except `notification-when-already-logged-in`, which needs the
//! login logic and lives in `contact_center`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::fault::Fault;
use crate::variant::{Behaviour, Variant};

use serde_json::{json, Value};
use tokio::sync::broadcast;

/// Bayeux channel of device (voice) state messages.
pub const DEVICES_CHANNEL: &str = "/v2/me/devices";
/// Bayeux channel of multimedia channel state messages.
pub const CHANNELS_CHANNEL: &str = "/v2/me/channels";

/// System user state ids [DOC D10, D14; OBS].
pub const READY_ID: &str = "9430250E-0A1B-421F-B372-F29E69366DED";
pub const NOT_READY_ID: &str = "900D55CC-2BB0-431F-8BF9-D3525B383BE6";
/// Offline / LoggedOut, with the mixed-case `Ef` exactly as observed.
pub const LOGGED_OUT_ID: &str = "0F7F5003-EF26-4D13-A6Ef-D0C7EC819BEB";

const CAPACITY: usize = 256;

/// How late fault `notification-delayed` publishes: past the longest window the cases use (3 s).
pub const DELAY: Duration = Duration::from_secs(5);
/// How late variant `slow-lab` delivers: past the default window, within the 10 s its profile sets.
pub const SLOW_LAB_DELAY: Duration = Duration::from_secs(6);
/// Where fault `notification-wrong-channel` publishes device messages.
pub const WRONG_DEVICES_CHANNEL: &str = "/v2/me/calls";

/// Per-agent broadcast of Bayeux messages. Cheap to clone; clones share the channels.
#[derive(Clone, Default)]
pub struct NotificationBus {
    senders: Arc<Mutex<HashMap<String, broadcast::Sender<Value>>>>,
    behaviour: Behaviour,
    /// Messages published so far (variant `notify-before-response` waits after a request that
    /// published any).
    published: Arc<AtomicU64>,
}

impl NotificationBus {
    pub fn new() -> NotificationBus {
        NotificationBus::default()
    }

    /// A bus that applies the `notifications`-area fault, if `fault` is one.
    pub fn with_fault(fault: Option<Fault>) -> NotificationBus {
        NotificationBus::with_behaviour(Behaviour::new(fault, &[]))
    }

    pub(crate) fn with_behaviour(behaviour: Behaviour) -> NotificationBus {
        NotificationBus {
            behaviour,
            ..NotificationBus::default()
        }
    }

    /// How many messages have been published (delayed ones count when scheduled).
    pub(crate) fn published(&self) -> u64 {
        self.published.load(Ordering::SeqCst)
    }

    fn sender(&self, username: &str) -> broadcast::Sender<Value> {
        let mut map = self.senders.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(username.to_string())
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .clone()
    }

    /// Receives every message published for `username` from now on.
    pub fn subscribe(&self, username: &str) -> broadcast::Receiver<Value> {
        self.sender(username).subscribe()
    }

    /// Publishes one Bayeux message for `username`. Messages nobody listens to are dropped.
    pub fn publish(&self, username: &str, mut message: Value) {
        let is_device = message["channel"] == DEVICES_CHANNEL;
        if let Some(data) = message["data"].as_object_mut() {
            if self.behaviour.varies(Variant::ExtraFields) {
                data.insert("metrics".into(), metrics());
            }
            if self.behaviour.varies(Variant::ChannelStateUntyped)
                && data.get("messageType") == Some(&json!("ChannelStateChangeMessageV2"))
            {
                data.remove("messageType");
            }
        }
        match self.behaviour.fault {
            Some(Fault::NotificationNoneSent) => return,
            Some(Fault::NotificationWrongChannel) if is_device => {
                message["channel"] = json!(WRONG_DEVICES_CHANNEL);
            }
            Some(Fault::NotificationWrongShape) if is_device => {
                if let Some(devices) = message["data"]["devices"].as_array_mut() {
                    for d in devices {
                        if let Some(s) = d["deviceState"].as_str() {
                            d["deviceState"] = json!(s.to_lowercase());
                        }
                    }
                }
            }
            Some(Fault::NotificationDelayed) => {
                self.publish_late(username, message, DELAY);
                return;
            }
            _ if self.behaviour.varies(Variant::SlowLab) => {
                self.publish_late(username, message, SLOW_LAB_DELAY);
                return;
            }
            _ => {}
        }
        self.published.fetch_add(1, Ordering::SeqCst);
        let _ = self.sender(username).send(message);
    }

    /// Publishes `message` after `delay` (counted as published now).
    fn publish_late(&self, username: &str, message: Value, delay: Duration) {
        self.published.fetch_add(1, Ordering::SeqCst);
        let sender = self.sender(username);
        // Outside a runtime (unit tests of the model) the message is simply lost.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = sender.send(message);
            });
        }
    }
}

/// The `metrics` member real GWS 8.5.2 adds to notification data [notes §5.3, OBS G2].
fn metrics() -> Value {
    json!({ "eventProcessing": {
        "nodeProcessingTimeNanos": 240015,
        "serverGenerationTimestamp": 1769554666968u64,
        "serverProcessingTimeTotalMs": 2,
    }})
}

/// `userState` objects.
pub(crate) fn user_state_logged_in() -> Value {
    json!({ "state": "LoggedIn" })
}

pub(crate) fn user_state_ready() -> Value {
    json!({ "id": READY_ID, "displayName": "Ready", "state": "Ready" })
}

pub(crate) fn user_state_not_ready() -> Value {
    json!({ "id": NOT_READY_ID, "displayName": "Not Ready", "state": "NotReady" })
}

pub(crate) fn user_state_logged_out() -> Value {
    json!({ "id": LOGGED_OUT_ID, "displayName": "Offline", "state": "LoggedOut" })
}

/// A DeviceStateChangeMessage on `/v2/me/devices`.
pub(crate) fn device_state_change(devices: Vec<Value>) -> Value {
    json!({
        "channel": DEVICES_CHANNEL,
        "data": { "messageType": "DeviceStateChangeMessage", "devices": devices }
    })
}

/// An ErrorMessage on `/v2/me/devices`: a backend refused what an accepted request asked for
/// [notes §5.3, OBS G2; `errorMessage` as the Genesys iOS sample reads it, OBS G3].
pub(crate) fn error_message(device_path: &str, device_uri: &str, message: &str) -> Value {
    json!({
        "channel": DEVICES_CHANNEL,
        "data": {
            "messageType": "ErrorMessage",
            "devicePath": device_path,
            "deviceUri": device_uri,
            "errorMessage": message,
        }
    })
}

/// A ChannelStateChangeMessageV2 on `/v2/me/channels`.
pub(crate) fn channel_state_change(channels: &[String], user_state: Value) -> Value {
    let channels: Vec<Value> = channels
        .iter()
        .map(|c| json!({ "channel": c, "userState": user_state.clone() }))
        .collect();
    json!({
        "channel": CHANNELS_CHANNEL,
        "data": { "messageType": "ChannelStateChangeMessageV2", "channels": channels }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_reach_only_their_agent() {
        let bus = NotificationBus::new();
        let mut a = bus.subscribe("a");
        let mut b = bus.subscribe("b");
        bus.publish("a", json!({"channel": "/v2/me/devices"}));
        assert_eq!(a.recv().await.unwrap()["channel"], "/v2/me/devices");
        assert!(b.try_recv().is_err());
    }

    fn dsc() -> Value {
        device_state_change(vec![
            json!({"id": "5001", "deviceState": "Active", "userState": user_state_logged_in()}),
        ])
    }

    #[tokio::test]
    async fn faults_change_what_is_published() {
        let bus = NotificationBus::with_fault(Some(Fault::NotificationNoneSent));
        let mut rx = bus.subscribe("a");
        bus.publish("a", dsc());
        assert!(rx.try_recv().is_err());

        let bus = NotificationBus::with_fault(Some(Fault::NotificationWrongChannel));
        let mut rx = bus.subscribe("a");
        bus.publish("a", dsc());
        bus.publish(
            "a",
            channel_state_change(&["chat".into()], user_state_not_ready()),
        );
        assert_eq!(rx.try_recv().unwrap()["channel"], WRONG_DEVICES_CHANNEL);
        assert_eq!(rx.try_recv().unwrap()["channel"], CHANNELS_CHANNEL);

        let bus = NotificationBus::with_fault(Some(Fault::NotificationWrongShape));
        let mut rx = bus.subscribe("a");
        bus.publish("a", dsc());
        assert_eq!(
            rx.try_recv().unwrap()["data"]["devices"][0]["deviceState"],
            "active"
        );

        let bus = NotificationBus::with_fault(None);
        let mut rx = bus.subscribe("a");
        bus.publish("a", dsc());
        assert_eq!(rx.try_recv().unwrap(), dsc());
    }

    #[tokio::test(start_paused = true)]
    async fn the_delayed_fault_publishes_after_the_delay() {
        let bus = NotificationBus::with_fault(Some(Fault::NotificationDelayed));
        let mut rx = bus.subscribe("a");
        bus.publish("a", dsc());
        tokio::time::sleep(DELAY - Duration::from_millis(1)).await;
        assert!(rx.try_recv().is_err());
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert_eq!(rx.recv().await.unwrap(), dsc());
    }
}
