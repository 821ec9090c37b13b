//! Bayeux over a WebSocket: one writer and one reader task per link, replies matched to their
//! requests by message id, data messages delivered as events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{first_channel, ids_of, lock, preview, route, ClientEvent, CometdError, Inner};

/// An open WebSocket: the writer task's queue, the replies awaited by message id, and whether the
/// reader still runs.
pub(super) struct WsLink {
    out: mpsc::UnboundedSender<String>,
    pending: Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>,
    pub(super) alive: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for WsLink {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Inner {
    pub(super) async fn exchange_ws(
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
    pub(super) async fn open_websocket(self: &Inner) -> Result<WsLink, String> {
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
        .map_err(|e| crate::execute::error_chain(&e))?;
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
