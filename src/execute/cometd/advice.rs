//! The server's `advice` (Bayeux §5.2): how long to wait between `/meta/connect`s, how long the
//! server may hold one, and what to do after a failure. Clamped, so no advice parks the client.

use std::time::Duration;

use serde_json::Value;

use super::MAX_ADVICE;

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
