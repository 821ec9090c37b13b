//! Bayeux over HTTP long-polling: one POST per batch of messages, its replies read from the body.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::{first_channel, ids_of, preview, route, ClientEvent, CometdError, Inner};
use crate::execute::error_chain;

impl Inner {
    pub(super) async fn exchange_http(
        &self,
        msgs: Vec<Value>,
        wait: Duration,
    ) -> Result<Vec<Value>, CometdError> {
        let channel = first_channel(&msgs);
        let ids = ids_of(&msgs);
        if let Ok(me) = self.cfg.endpoint.join("me") {
            let fetched = self
                .auth
                .refresh_stale_csrf(&self.http, me, self.cfg.request_timeout)
                .await;
            if let Some(note) = fetched {
                self.emit(ClientEvent::Note(note));
            }
        }
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
                    detail: error_chain(&e),
                }
            } else {
                self.protocol(&channel, error_chain(&e))
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
}
