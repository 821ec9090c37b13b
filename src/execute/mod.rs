//! Stage 3, **execute**: the HTTP exchanges of one agent session.
//!
//! One [`reqwest::Client`] serves the whole run, so connections are reused; each case gets its own
//! [`AgentSession`] with its own cookies and CSRF token, as each agent desktop has its own.

pub mod cometd;
pub mod cookies;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::load::{Agent, Profile};
use crate::model::{AuthMode, Body, Request};
use crate::secret::{Redactor, Secret};
use cookies::CookieStore;

/// One agent session's cookie store, shared by its REST calls and its CometD client.
pub type SharedCookies = Arc<Mutex<CookieStore>>;

/// Where GWS serves CometD, under the target's base URL [gws-notes §5.1].
pub const NOTIFICATIONS_PATH: &str = "/api/v2/notifications";

/// Why a request got no usable answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExchangeError {
    #[error("could not connect to {target}: {detail}")]
    Connect { target: String, detail: String },
    #[error("{target} gave no complete answer within {} ms", timeout.as_millis())]
    Timeout { target: String, timeout: Duration },
    #[error("{target} sent a body over the {limit}-byte cap")]
    BodyTooLarge { target: String, limit: usize },
    #[error("{target}: {detail}")]
    Protocol { target: String, detail: String },
}

impl ExchangeError {
    /// Whether the target could not be reached at all (as opposed to answering badly).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ExchangeError::Connect { .. })
    }
}

pub use crate::record::{Exchange, RequestRecord, ResponseRecord};

/// The run-wide HTTP settings and client.
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    base: url::Url,
    timeout: Duration,
    max_body_bytes: usize,
    csrf: bool,
    cometd: crate::load::Transport,
    /// For wss:// on an https target.
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// How the run verifies HTTPS servers, for the REST calls and for wss:// alike: the platform
/// verifier (the one reqwest uses by default) with `extra_roots` (the profile's `ca_file`) trusted
/// besides the system's, on the aws-lc-rs provider reqwest is built with.
pub fn tls_config(
    extra_roots: &[rustls::pki_types::CertificateDer<'static>],
) -> Result<std::sync::Arc<rustls::ClientConfig>, String> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
        extra_roots.iter().cloned(),
        provider.clone(),
    )
    .map_err(|e| format!("cannot set up certificate verification: {e}"))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        // Not a bypass: rustls calls the platform's verifier a custom one.
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(verifier))
        .with_no_client_auth();
    Ok(std::sync::Arc::new(config))
}

impl Transport {
    pub fn new(base: &str, profile: &Profile) -> Result<Transport, String> {
        let base =
            url::Url::parse(base).map_err(|e| format!("target `{base}` is not a URL: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(format!("target `{base}` must be an http or https URL"));
        }
        // One TLS configuration for the REST calls and for wss:// (CometD over WebSocket), so that
        // both accept exactly the same certificates.
        let tls = tls_config(&profile.ca_certificates)?;
        let client = reqwest::Client::builder()
            // Credentials never follow a redirect to another origin: no redirect is followed at all.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(profile.timeout)
            .connect_timeout(profile.timeout)
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .tls_backend_preconfigured((*tls).clone())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let tls = (base.scheme() == "https").then_some(tls);
        Ok(Transport {
            client,
            base,
            timeout: profile.timeout,
            max_body_bytes: profile.max_body_bytes,
            csrf: profile.csrf,
            cometd: profile.transport,
            tls,
        })
    }

    pub fn base(&self) -> &url::Url {
        &self.base
    }

    /// How to reach the target's CometD endpoint.
    pub fn cometd_config(&self) -> cometd::ClientConfig {
        cometd::ClientConfig {
            endpoint: self.url(NOTIFICATIONS_PATH),
            transport: self.cometd,
            request_timeout: self.timeout,
            max_body_bytes: self.max_body_bytes,
            tls: self.tls.clone(),
        }
    }

    /// The run's HTTP client (it keeps no cookies: each session has its own store).
    pub fn http_client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// An unauthenticated GET, for probes such as the server's version.
    pub async fn get_json(&self, path: &str) -> Option<serde_json::Value> {
        let url = self.url(path);
        let resp = self.client.get(url).send().await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.json().await.ok()
    }

    fn url(&self, path: &str) -> url::Url {
        // Paths are validated to start with `/` at load time, so joining stays on the target's origin.
        let mut u = self.base.clone();
        let base_path = self.base.path().trim_end_matches('/');
        let (p, q) = path
            .split_once('?')
            .map_or((path, None), |(p, q)| (p, Some(q)));
        u.set_path(&format!("{base_path}{p}"));
        u.set_query(q);
        u
    }
}

/// One agent's session: credentials, cookies and CSRF token.
pub struct AgentSession<'a> {
    transport: &'a Transport,
    agent: Option<&'a Agent>,
    cookies: SharedCookies,
    csrf_token: Option<(String, String)>,
    redactor: &'a Redactor,
}

impl<'a> AgentSession<'a> {
    pub fn new(transport: &'a Transport, agent: Option<&'a Agent>, redactor: &'a Redactor) -> Self {
        AgentSession {
            transport,
            agent,
            cookies: SharedCookies::default(),
            csrf_token: None,
            redactor,
        }
    }

    /// The credentials a CometD client of this session sends: Basic, the shared cookie store, and the
    /// CSRF token when the target wants one and the session has it.
    pub fn bayeux_auth(&self) -> cometd::BayeuxAuth {
        cometd::BayeuxAuth {
            basic: self
                .agent
                .map(|a| Secret::new(basic(&a.username, a.password.expose()))),
            cookies: self.cookies.clone(),
            csrf: self
                .csrf_token
                .as_ref()
                .filter(|_| self.transport.csrf)
                .map(|(name, token)| (name.clone(), Secret::new(token.clone()))),
        }
    }

    /// Authenticates over REST before CometD starts, as the documented flow does [gws-notes §5.1]: an
    /// authenticated `GET /api/v2/me` yields the session cookie (and the CSRF token when the target
    /// wants one). Does nothing when the session already has cookies; returns the exchanges made.
    pub async fn open_session(&mut self) -> Vec<(Exchange, Option<ResponseRecord>)> {
        if !lock_cookies(&self.cookies).is_empty()
            && self.csrf_token.is_some() == self.transport.csrf
        {
            return Vec::new();
        }
        let (ex, resp) = self.exchange(&read_me(AuthMode::Basic), None).await;
        if let Some(r) = &resp {
            self.take_csrf_token(r);
        }
        vec![(ex, resp)]
    }

    fn take_csrf_token(&mut self, r: &ResponseRecord) {
        let header_name = header(r, "x-csrf-header").unwrap_or_else(|| "X-CSRF-TOKEN".to_string());
        // `receive` has already made the token a secret.
        if let Some(token) = header(r, &header_name) {
            self.csrf_token = Some((header_name, token));
        }
    }

    /// Sends one step's request, fetching a CSRF token first when the target wants one. Returns every
    /// exchange made (the token fetch, then the request itself); the last one is the step's.
    pub async fn send(&mut self, request: &Request) -> Vec<(Exchange, Option<ResponseRecord>)> {
        let mut out = Vec::new();
        let unsafe_method = matches!(request.method.as_str(), "POST" | "PUT" | "DELETE" | "PATCH");
        let sends_credentials = matches!(request.auth, AuthMode::Basic | AuthMode::Session);
        if self.transport.csrf
            && request.csrf
            && unsafe_method
            && sends_credentials
            && self.csrf_token.is_none()
        {
            // The way real clients get it: any GET returns X-CSRF-HEADER and X-CSRF-TOKEN.
            let (ex, resp) = self.exchange(&read_me(request.auth), None).await;
            if let Some(r) = &resp {
                self.take_csrf_token(r);
            }
            out.push((ex, resp));
        }
        let token = if self.transport.csrf && request.csrf && unsafe_method {
            self.csrf_token.clone()
        } else {
            None
        };
        let (mut ex, mut resp) = self.exchange(request, token.clone()).await;
        if request.follow_redirects {
            let mut url = self.transport.url(&request.path);
            let mut hop_request = request.clone();
            for _ in 0..MAX_REDIRECTS {
                let Some(next) = resp.as_ref().and_then(|r| redirect_target(&url, r)) else {
                    break;
                };
                let status = resp.as_ref().map_or(0, |r| r.status);
                if status == 303 || (matches!(status, 301 | 302) && hop_request.method == "POST") {
                    hop_request.method = "GET".to_string();
                    hop_request.body = None;
                }
                // Credentials (Basic, cookies, CSRF token) never go to another origin.
                let same_origin = next.origin() == self.transport.base.origin();
                out.push((ex, resp));
                let hop_token = if same_origin { token.clone() } else { None };
                (ex, resp) = self
                    .exchange_at(next.clone(), &hop_request, hop_token, same_origin)
                    .await;
                url = next;
            }
        }
        if let Some(r) = &resp {
            match session_end(request, r) {
                // The token lives with the session, which the server has just ended. The cookie is
                // kept: whether the server really forgot it is for a case to check.
                Some(SessionEnd::Ended) => self.csrf_token = None,
                // The server says this session is not authenticated: start afresh, as clients do.
                Some(SessionEnd::Denied) => {
                    *lock_cookies(&self.cookies) = CookieStore::default();
                    self.csrf_token = None;
                }
                None => {}
            }
        }
        out.push((ex, resp));
        out
    }

    async fn exchange(
        &mut self,
        request: &Request,
        csrf: Option<(String, String)>,
    ) -> (Exchange, Option<ResponseRecord>) {
        let url = self.transport.url(&request.path);
        self.exchange_at(url, request, csrf, true).await
    }

    /// One request to `url`; `credentials` false leaves out Basic, cookies and the CSRF token.
    async fn exchange_at(
        &mut self,
        url: url::Url,
        request: &Request,
        csrf: Option<(String, String)>,
        credentials: bool,
    ) -> (Exchange, Option<ResponseRecord>) {
        let started = Instant::now();
        let method =
            reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::POST);
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
        if matches!(auth, AuthMode::Basic | AuthMode::Session) {
            let cookie = lock_cookies(&self.cookies).header_for(url.path());
            if let Some(c) = cookie {
                headers.push(("Cookie".into(), c));
            }
        }
        if let Some((name, token)) = csrf {
            headers.push((name, token));
        }
        let body_bytes: Option<Vec<u8>> = match &request.body {
            Some(Body::Json(v)) => {
                headers.push(("Content-Type".into(), "application/json".into()));
                Some(serde_json::to_vec(v).unwrap_or_default())
            }
            Some(Body::Raw { text, content_type }) => {
                if let Some(ct) = content_type {
                    headers.push(("Content-Type".into(), ct.clone()));
                }
                Some(text.clone().into_bytes())
            }
            None => None,
        };
        for (k, v) in &request.headers {
            headers.push((k.clone(), v.clone()));
        }

        let mut builder = self.transport.client.request(method, url.clone());
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if let Some(b) = &body_bytes {
            builder = builder.body(b.clone());
        }
        let record = RequestRecord {
            method: request.method.clone(),
            url: self.redactor.redact(url.as_str()),
            headers: headers
                .iter()
                .map(|(k, v)| (k.clone(), self.redactor.header_value(k, v)))
                .collect(),
            body: request.body.as_ref().map(|b| self.redacted_body(b)),
        };

        let target = format!("{} {}", request.method, url);
        let result = self.receive(builder, &target).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(resp) => {
                let redacted = ResponseRecord {
                    status: resp.status,
                    headers: resp
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), self.redactor.header_value(k, v)))
                        .collect(),
                    content_type: resp.content_type.clone(),
                    body_text: resp
                        .body_text
                        .as_deref()
                        .map(|t| self.redactor.redact_body_text(t)),
                    body_bytes: resp.body_bytes,
                };
                (
                    Exchange {
                        request: record,
                        response: Some(redacted),
                        error: None,
                        duration_ms,
                    },
                    Some(resp),
                )
            }
            Err(e) => (
                Exchange {
                    request: record,
                    response: None,
                    error: Some(self.redactor.redact(&e.to_string())),
                    duration_ms,
                },
                None,
            ),
        }
    }

    fn redacted_body(&self, body: &Body) -> String {
        match body {
            Body::Json(v) => {
                let mut v = v.clone();
                self.redactor.redact_json(&mut v);
                serde_json::to_string(&v).unwrap_or_default()
            }
            Body::Raw { text, .. } => self.redactor.redact_body_text(text),
        }
    }

    async fn receive(
        &mut self,
        builder: reqwest::RequestBuilder,
        target: &str,
    ) -> Result<ResponseRecord, ExchangeError> {
        let mut resp = builder.send().await.map_err(|e| self.classify(e, target))?;
        let status = resp.status().as_u16();
        let mut headers = Vec::new();
        let mut session_changed = false;
        for (k, v) in resp.headers() {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            if k == reqwest::header::SET_COOKIE {
                if let Some(name) = lock_cookies(&self.cookies).absorb(&v) {
                    session_changed |= name.eq_ignore_ascii_case("JSESSIONID");
                }
            }
            headers.push((k.as_str().to_string(), v));
        }
        for v in lock_cookies(&self.cookies).values() {
            self.redactor.add(v);
        }
        // A CSRF token is a secret from the moment it arrives, before this very answer is recorded.
        let token_header = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-csrf-header"))
            .map_or_else(|| "x-csrf-token".to_string(), |(_, v)| v.clone());
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case(&token_header) || k.eq_ignore_ascii_case("x-csrf-token") {
                self.redactor.add(v);
            }
        }
        if session_changed {
            // The CSRF token lives with the HTTP session; a new session needs a new token.
            self.csrf_token = None;
        }
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
                Err(e) => return Err(self.classify(e, target)),
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

    fn classify(&self, e: reqwest::Error, target: &str) -> ExchangeError {
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
        } else {
            ExchangeError::Protocol {
                target: target.to_string(),
                detail,
            }
        }
    }
}

enum SessionEnd {
    /// A successful EndContactCenterSession, which invalidates the HTTP session [gws-notes §2].
    Ended,
    /// `statusCode` 20: the request was not authenticated [gws-notes §3.1].
    Denied,
}

fn session_end(request: &Request, response: &ResponseRecord) -> Option<SessionEnd> {
    let body: Option<serde_json::Value> = response
        .body_text
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok());
    if body
        .as_ref()
        .and_then(|b| b.get("statusCode"))
        .and_then(|c| c.as_i64())
        == Some(20)
    {
        return Some(SessionEnd::Denied);
    }
    let is_end = matches!(&request.body, Some(Body::Json(v))
        if v.get("operationName").and_then(|o| o.as_str()) == Some("EndContactCenterSession"));
    (is_end && (200..300).contains(&response.status)).then_some(SessionEnd::Ended)
}

fn lock_cookies(c: &SharedCookies) -> std::sync::MutexGuard<'_, CookieStore> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

/// `GET /api/v2/me`: how real clients open a session and get its CSRF token (any GET returns
/// X-CSRF-HEADER and X-CSRF-TOKEN [gws-notes §4.3]).
fn read_me(auth: AuthMode) -> Request {
    Request {
        method: "GET".to_string(),
        path: "/api/v2/me".to_string(),
        auth,
        headers: Vec::new(),
        body: None,
        csrf: false,
        follow_redirects: false,
    }
}

/// Redirects followed at most, when a step asks for them.
const MAX_REDIRECTS: usize = 5;

/// Where a 3xx answer points, resolved against the URL that was asked.
fn redirect_target(from: &url::Url, r: &ResponseRecord) -> Option<url::Url> {
    if !matches!(r.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    from.join(&header(r, "location")?).ok()
}

fn header(r: &ResponseRecord, name: &str) -> Option<String> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// The error and its causes on one line: reqwest's top-level message alone ("error sending request")
/// does not say what went wrong.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
