//! Stage 3, **execute**: the HTTP exchanges of one agent session.
//!
//! One [`reqwest::Client`] serves the whole run, so connections are reused; each case gets its own
//! [`AgentSession`] with its own cookies and CSRF token, as each agent desktop has its own.

pub mod cometd;
pub mod cookies;
pub mod csrf;
pub mod liveness;
pub mod preflight;
pub mod probe;
mod wire;

use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// The connection failed after it was made and before any answer came (closed, reset): said
    /// as a protocol error is, but it counts as no answer for the lost-target rule.
    #[error("{target}: {detail}")]
    Dropped { target: String, detail: String },
}

impl ExchangeError {
    /// The error's kind, as the exchange records it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ExchangeError::Connect { .. } => ErrorKind::Connect,
            ExchangeError::Timeout { .. } => ErrorKind::Timeout,
            ExchangeError::BodyTooLarge { .. } => ErrorKind::BodyTooLarge,
            ExchangeError::Protocol { .. } => ErrorKind::Protocol,
            ExchangeError::Dropped { .. } => ErrorKind::Dropped,
        }
    }

    /// Whether the target could not be reached at all (as opposed to answering badly).
    pub fn is_unreachable(&self) -> bool {
        self.kind().is_unreachable()
    }

    /// Whether the target gave no answer at all (the lost-target rule counts these): it could not be
    /// reached, dropped the connection before answering, or did not finish answering in time.
    pub fn got_no_answer(&self) -> bool {
        self.kind().got_no_answer()
    }
}

pub use crate::record::{ErrorKind, Exchange, RequestRecord, ResponseRecord};

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
    /// Whether the target still answers (the lost-target rule), shared by every session of the run.
    liveness: Arc<liveness::Liveness>,
    /// The profile's `notification_window_ms`, which scales the cases' notification windows.
    notification_window: Duration,
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
            liveness: Arc::default(),
            notification_window: profile.notification_window,
        })
    }

    /// The run's lost-target watch: the runner stops when it says the target is gone.
    pub fn liveness(&self) -> &liveness::Liveness {
        &self.liveness
    }

    /// The profile's `notification_window_ms` (the runner scales the cases' windows by it).
    pub fn notification_window(&self) -> Duration {
        self.notification_window
    }

    /// The per-request timeout (`timeout_ms`): it covers connecting, the answer and its whole body.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// This transport, sending CSRF tokens whatever the profile says: for a target the preflight
    /// saw issue them (`preflight::Found::send_csrf`).
    pub fn sending_csrf(mut self) -> Transport {
        self.csrf = true;
        self
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

/// One agent's session: credentials, and the cookies and CSRF token it shares with its CometD client.
pub struct AgentSession<'a> {
    transport: &'a Transport,
    agent: Option<&'a Agent>,
    cookies: SharedCookies,
    /// Learns the session's secrets (cookies, CSRF tokens) as they arrive; what the session records
    /// stays unmasked until the step becomes a record (`runner::record`).
    redactor: &'a Redactor,
}

/// A token as sent: the header, the value, and the session it was issued under.
type SentToken = Option<cookies::CsrfToken>;

impl<'a> AgentSession<'a> {
    pub fn new(transport: &'a Transport, agent: Option<&'a Agent>, redactor: &'a Redactor) -> Self {
        AgentSession {
            transport,
            agent,
            cookies: SharedCookies::default(),
            redactor,
        }
    }

    /// The credentials a CometD client of this session sends: Basic and the shared cookie store,
    /// which also holds the current session's CSRF token (kept only when the target wants one), so
    /// the client sends the token of the moment, not the one it started with.
    pub fn bayeux_auth(&self) -> cometd::BayeuxAuth {
        cometd::BayeuxAuth {
            basic: self
                .agent
                .map(|a| Secret::new(basic(&a.username, a.password.expose()))),
            cookies: self.cookies.clone(),
            csrf: None,
            redactor: Some(self.redactor.clone()),
        }
    }

    /// The session's cookie store (shared with its CometD client).
    pub fn cookies(&self) -> SharedCookies {
        self.cookies.clone()
    }

    /// Authenticates over REST before CometD starts, as the documented flow does [gws-notes §5.1]: an
    /// authenticated `GET /api/v2/me` yields the session cookie (and the CSRF token when the target
    /// wants one). Does nothing when the session already has cookies; returns the exchanges made.
    pub async fn open_session(&mut self) -> Vec<(Exchange, Option<ResponseRecord>)> {
        {
            let store = lock_cookies(&self.cookies);
            if !store.is_empty() && store.csrf().is_some() == self.transport.csrf {
                return Vec::new();
            }
        }
        // `receive` keeps the token the answer offers.
        let (mut ex, resp) = self
            .exchange(&csrf::fetch_request(AuthMode::Basic), None)
            .await;
        ex.by_harness = true;
        vec![(ex, resp)]
    }

    /// The current session's token, a secret from here on: the CometD client may have fetched it
    /// (after a session change), and no REST answer of this session has carried it.
    fn current_token(&self) -> SentToken {
        let token = lock_cookies(&self.cookies).csrf().cloned();
        if let Some(t) = &token {
            self.redactor.add(t.value.expose());
        }
        token
    }

    /// Sends one step's request, fetching a CSRF token first when the target wants one and the current
    /// session has none. Returns every exchange made (token fetches, a refused attempt, redirect hops,
    /// then the request itself); the last one is the step's.
    pub async fn send(&mut self, request: &Request) -> Vec<(Exchange, Option<ResponseRecord>)> {
        let mut out = Vec::new();
        // A `csrf = false` step never carries the token, so it is never retried either.
        let carries_token = self.transport.csrf && request.csrf && csrf::is_unsafe(&request.method);
        let sends_credentials = matches!(request.auth, AuthMode::Basic | AuthMode::Session);
        if carries_token && sends_credentials && self.current_token().is_none() {
            out.push(self.fetch_token(request.auth).await);
        }
        let token = if carries_token {
            self.current_token()
        } else {
            None
        };
        let (mut ex, mut resp) = self.send_following(request, token.clone(), &mut out).await;
        if sends_credentials && self.refused_as_stale(token.as_ref(), resp.as_ref()) {
            // The first attempt stays in the record: the report shows the refusal and the retry.
            ex.note = Some(csrf::STALE_REFUSED_NOTE.to_string());
            out.push((ex, resp));
            out.push(self.fetch_token(request.auth).await);
            let token = self.current_token();
            (ex, resp) = self.send_following(request, token, &mut out).await;
            ex.note = Some(csrf::RETRY_NOTE.to_string());
        }
        if let Some(r) = &resp {
            let mut store = lock_cookies(&self.cookies);
            match session_end(request, r) {
                // The token lives with the session, which the server has just ended. The cookie is
                // kept: whether the server really forgot it is for a case to check.
                Some(SessionEnd::Ended) => store.forget_csrf(),
                // The server says this session is not authenticated: start afresh, as clients do.
                Some(SessionEnd::Denied) => store.clear(),
                None => {}
            }
        }
        out.push((ex, resp));
        out
    }

    /// Whether `resp` is a CSRF refusal of a token issued under a session that is no longer the
    /// current one. Only such a refusal says nothing about the server: a refusal of the current
    /// session's token is the server's answer, and is never retried.
    fn refused_as_stale(
        &self,
        token: Option<&cookies::CsrfToken>,
        resp: Option<&ResponseRecord>,
    ) -> bool {
        match (token, resp) {
            (Some(t), Some(r)) => {
                csrf::is_refusal(r) && t.session != lock_cookies(&self.cookies).session()
            }
            _ => false,
        }
    }

    /// The way real clients get a token: any GET returns X-CSRF-HEADER and X-CSRF-TOKEN, and
    /// `receive` keeps it.
    async fn fetch_token(&mut self, auth: AuthMode) -> (Exchange, Option<ResponseRecord>) {
        let stale = lock_cookies(&self.cookies).csrf_is_stale();
        let (mut ex, resp) = self.exchange(&csrf::fetch_request(auth), None).await;
        ex.by_harness = true;
        if stale {
            ex.note = Some(csrf::REFETCH_NOTE.to_string());
        }
        (ex, resp)
    }

    /// The request and, when it asks, the redirects it leads to: every answer but the last goes to
    /// `out`, the last is returned.
    async fn send_following(
        &mut self,
        request: &Request,
        token: SentToken,
        out: &mut Vec<(Exchange, Option<ResponseRecord>)>,
    ) -> (Exchange, Option<ResponseRecord>) {
        let token = token.map(|t| (t.header, t.value.expose().to_string()));
        let (mut ex, mut resp) = self.exchange(request, token.clone()).await;
        if !request.follow_redirects {
            return (ex, resp);
        }
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
        (ex, resp)
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

/// A response's headers as (name, value) text pairs, as records keep them (values that are not
/// UTF-8 are read lossily).
pub(crate) fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (k.as_str().to_string(), v)
        })
        .collect()
}
