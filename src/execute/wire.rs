//! One request on the wire: its headers (Basic, cookies, CSRF token), its record as sent and
//! received (secrets are masked where the step becomes a record, `runner::record`), and what its
//! answer leaves in the session's store (cookies, a newer CSRF token).

use std::time::Instant;

use super::{
    basic, error_chain, header_pairs, lock_cookies, AgentSession, Exchange, ExchangeError,
    RequestRecord, ResponseRecord,
};
use crate::model::{AuthMode, Body, Request};

impl AgentSession<'_> {
    pub(super) async fn exchange(
        &mut self,
        request: &Request,
        csrf: Option<(String, String)>,
    ) -> (Exchange, Option<ResponseRecord>) {
        let url = self.transport.url(&request.path);
        self.exchange_at(url, request, csrf, true).await
    }

    /// One request to `url`; `credentials` false leaves out Basic, cookies and the CSRF token.
    pub(super) async fn exchange_at(
        &mut self,
        url: url::Url,
        request: &Request,
        csrf: Option<(String, String)>,
        credentials: bool,
    ) -> (Exchange, Option<ResponseRecord>) {
        let started = Instant::now();
        let method =
            reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let (headers, sent_under) = self.request_headers(&url, request, csrf, credentials);
        let body_bytes: Option<Vec<u8>> = match &request.body {
            Some(Body::Json(v)) => Some(serde_json::to_vec(v).unwrap_or_default()),
            Some(Body::Raw { text, .. }) => Some(text.clone().into_bytes()),
            None => None,
        };

        let mut builder = self.transport.client.request(method, url.clone());
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if let Some(b) = &body_bytes {
            builder = builder.body(b.clone());
        }
        // As sent: secrets are masked where the step becomes a record (runner::record).
        let record = RequestRecord {
            method: request.method.clone(),
            url: url.to_string(),
            headers: headers.clone(),
            body: request.body.as_ref().map(sent_body),
        };

        let target = format!("{} {}", request.method, url);
        let result = self
            .receive(builder, &target, credentials, sent_under)
            .await;
        let duration_ms = started.elapsed().as_millis() as u64;
        // Only a complete answer (or one the harness refused to read whole) shows the target alive.
        match &result {
            Err(e) if e.got_no_answer() => self
                .transport
                .liveness
                .unanswered(&self.redactor.redact(&e.to_string())),
            _ => self.transport.liveness.answered(),
        }
        match result {
            Ok(resp) => (
                Exchange {
                    request: record,
                    response: Some(resp.clone()),
                    error: None,
                    error_kind: None,
                    by_harness: false,
                    duration_ms,
                    note: None,
                },
                Some(resp),
            ),
            Err(e) => (
                Exchange {
                    request: record,
                    response: None,
                    error: Some(e.to_string()),
                    error_kind: Some(e.kind()),
                    by_harness: false,
                    duration_ms,
                    note: None,
                },
                None,
            ),
        }
    }

    /// The headers of one request, and the session whose cookie they carry (if they carry the
    /// session's credentials): a token in the answer belongs to that session.
    fn request_headers(
        &self,
        url: &url::Url,
        request: &Request,
        csrf: Option<(String, String)>,
        credentials: bool,
    ) -> (Vec<(String, String)>, Option<u64>) {
        let mut headers: Vec<(String, String)> = Vec::new();
        headers.push(("Accept".into(), "application/json".into()));
        let auth = if credentials {
            request.auth
        } else {
            AuthMode::None
        };
        match (auth, self.agent) {
            (AuthMode::Basic, Some(a)) => headers.push((
                "Authorization".into(),
                basic(&a.username, a.password.expose()),
            )),
            (AuthMode::WrongPassword, Some(a)) => {
                let wrong = format!("{}-certainly-wrong", a.password.expose());
                headers.push(("Authorization".into(), basic(&a.username, &wrong)))
            }
            _ => {}
        }
        let mut sent_under = None;
        if matches!(auth, AuthMode::Basic | AuthMode::Session) {
            let store = lock_cookies(&self.cookies);
            sent_under = Some(store.session());
            if let Some(c) = store.header_for(url.path()) {
                headers.push(("Cookie".into(), c));
            }
        }
        if let Some((name, token)) = csrf {
            headers.push((name, token));
        }
        match &request.body {
            Some(Body::Json(_)) => {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Some(Body::Raw {
                content_type: Some(ct),
                ..
            }) => headers.push(("Content-Type".into(), ct.clone())),
            _ => {}
        }
        for (k, v) in &request.headers {
            headers.push((k.clone(), v.clone()));
        }
        (headers, sent_under)
    }

    /// Reads one answer. Only answers from the target's own origin (`own_origin`) feed the cookie
    /// store: the store has no domains, so a foreign cookie would be sent to the target. `sent_under`
    /// is the session whose cookie the request carried, if it carried the session's credentials.
    async fn receive(
        &mut self,
        builder: reqwest::RequestBuilder,
        target: &str,
        own_origin: bool,
        sent_under: Option<u64>,
    ) -> Result<ResponseRecord, ExchangeError> {
        let mut resp = builder
            .send()
            .await
            .map_err(|e| self.classify(e, target, true))?;
        let status = resp.status().as_u16();
        let headers = header_pairs(resp.headers());
        // Before this very answer is recorded: its cookies and token are secrets already.
        lock_cookies(&self.cookies).take_in(
            &headers,
            own_origin,
            self.transport.csrf,
            sent_under,
            self.redactor,
        );
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let limit = self.transport.max_body_bytes;
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        return Err(ExchangeError::BodyTooLarge {
                            target: target.to_string(),
                            limit,
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(self.classify(e, target, false)),
            }
        }
        let body_bytes = body.len();
        Ok(ResponseRecord {
            status,
            headers,
            content_type,
            body_text: String::from_utf8(body).ok(),
            body_bytes,
        })
    }

    /// What went wrong, by kind. `before_answer`: the error came before the answer's head, so a
    /// failure that is neither a timeout nor a connect error means the connection was dropped.
    fn classify(&self, e: reqwest::Error, target: &str, before_answer: bool) -> ExchangeError {
        let detail = error_chain(&e);
        if e.is_timeout() {
            ExchangeError::Timeout {
                target: target.to_string(),
                timeout: self.transport.timeout,
            }
        } else if e.is_connect() {
            ExchangeError::Connect {
                target: self.transport.base.to_string(),
                detail,
            }
        } else if before_answer && !e.is_builder() {
            ExchangeError::Dropped {
                target: target.to_string(),
                detail,
            }
        } else {
            ExchangeError::Protocol {
                target: target.to_string(),
                detail,
            }
        }
    }
}

/// A request body as sent, as text.
fn sent_body(body: &Body) -> String {
    match body {
        Body::Json(v) => serde_json::to_string(v).unwrap_or_default(),
        Body::Raw { text, .. } => text.clone(),
    }
}
