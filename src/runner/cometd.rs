//! A case's CometD session as the runner drives it: started by the first step that listens, fed to
//! each step's watch, drained between steps, closed when the case ends.

use std::time::Instant;

use tokio::sync::mpsc;

use crate::check::notifications::Watch;
use crate::execute::cometd::{ClientEvent, CometdClient, CometdError};
use crate::execute::{AgentSession, Transport};
use crate::record::NotificationRecord;

/// A case's CometD session, started by its first step with notification expectations and kept for
/// the rest of the case (subscriptions accumulate), then disconnected.
pub(super) struct CaseCometd {
    client: Option<CometdClient>,
    events: Option<mpsc::UnboundedReceiver<ClientEvent>>,
    pub endpoint: String,
    /// Why the session is unusable, once it is (typed: put in words, and masked, where it becomes
    /// a check).
    pub failure: Option<CometdError>,
    /// Whether `failure` has been reported as a `cometd` check yet.
    failure_reported: bool,
    /// Whether the session failed while it was being set up (handshake, subscription): a setup
    /// error, not a failure of what the case checks.
    pub failed_at_start: bool,
    notes: Vec<String>,
}

impl CaseCometd {
    /// Starts the session, subscribed to `channels` (see [`CometdClient::start_subscribed`]).
    pub(super) async fn start(
        transport: &Transport,
        session: &AgentSession<'_>,
        channels: &[String],
    ) -> CaseCometd {
        let cfg = transport.cometd_config();
        let endpoint = cfg.endpoint.to_string();
        let mut c = CaseCometd {
            client: None,
            events: None,
            endpoint,
            failure: None,
            failure_reported: false,
            failed_at_start: false,
            notes: Vec::new(),
        };
        let started = CometdClient::start_subscribed(
            transport.http_client(),
            cfg,
            session.bayeux_auth(),
            channels,
        )
        .await;
        match started {
            Ok((client, events)) => {
                c.notes.push(format!(
                    "CometD session at {} over {}",
                    c.endpoint,
                    client.connection_type()
                ));
                c.client = Some(client);
                c.events = Some(events);
            }
            Err(e) => {
                c.failure = Some(e);
                c.failed_at_start = true;
            }
        }
        c
    }

    pub(super) async fn subscribe(&mut self, channels: &[String]) {
        if let (Some(client), None) = (&self.client, &self.failure) {
            if let Err(e) = client.subscribe(channels).await {
                self.failure = Some(e);
                self.failed_at_start = true;
            }
        }
    }

    fn handle(&mut self, event: ClientEvent) -> Option<crate::execute::cometd::Delivery> {
        match event {
            ClientEvent::Message(d) => return Some(d),
            ClientEvent::Note(n) => self.notes.push(n),
            ClientEvent::Failed(e) => {
                if self.failure.is_none() {
                    self.failure = Some(e);
                }
            }
        }
        None
    }

    /// Records, without waiting, whatever arrived outside any window: before this step's request
    /// (left over from an earlier step), or during a step that expects no notification. `request` is
    /// when this step's request went out (or will: now).
    pub(super) fn drain(
        &mut self,
        records: &mut Vec<NotificationRecord>,
        notes: &mut Vec<String>,
        request: Instant,
    ) {
        while let Some(event) = self.events.as_mut().and_then(|rx| rx.try_recv().ok()) {
            if let Some(d) = self.handle(event) {
                let at_ms = if d.at >= request {
                    d.at.duration_since(request).as_millis() as i64
                } else {
                    -(request.duration_since(d.at).as_millis() as i64)
                };
                let when = if d.at >= request {
                    format!("{at_ms} ms after this step's request, which expects none")
                } else {
                    format!("{} ms before this step's request", -at_ms)
                };
                notes.push(format!(
                    "message on {} outside any notification window ({when})",
                    d.channel
                ));
                records.push(NotificationRecord {
                    channel: d.channel,
                    at_ms,
                    message: d.message,
                    matched: Vec::new(),
                });
            }
        }
        notes.append(&mut self.notes);
    }

    /// Feeds the watch until every expectation is settled, or the session fails. Never waits past
    /// the longest window still open.
    pub(super) async fn listen(&mut self, watch: &mut Watch<'_>) {
        while self.failure.is_none() {
            let Some(deadline) = watch.deadline(Instant::now()) else {
                break;
            };
            let Some(rx) = self.events.as_mut() else {
                break;
            };
            match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
                Ok(Some(event)) => {
                    if let Some(d) = self.handle(event) {
                        watch.offer(&d.channel, d.message, d.at);
                    }
                }
                Ok(None) => {
                    self.failure = Some(CometdError::Stopped {
                        target: self.endpoint.clone(),
                    });
                }
                Err(_) => break,
            }
        }
        // Whatever is already queued was received in time or not: its timestamp decides.
        while let Some(event) = self.events.as_mut().and_then(|rx| rx.try_recv().ok()) {
            if let Some(d) = self.handle(event) {
                watch.offer(&d.channel, d.message, d.at);
            }
        }
    }

    pub(super) fn take_new_failure(&mut self) -> Option<CometdError> {
        if self.failure_reported {
            return None;
        }
        let f = self.failure.clone()?;
        self.failure_reported = true;
        Some(f)
    }

    pub(super) fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// Says goodbye to the server (bounded by the profile's timeout); failures here change no verdict.
    pub(super) async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.disconnect().await;
        }
    }
}
