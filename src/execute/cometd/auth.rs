//! The agent's credentials as every CometD request carries them: Basic, the session's cookies
//! (shared with the REST calls) and the CSRF token on POSTs.

use std::time::Duration;

use super::lock;
use crate::execute::{header_pairs, SharedCookies};
use crate::secret::{Redactor, Secret};

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
    /// The case's redactor: what the client fetches itself (a CSRF token after a session change,
    /// the cookies that came with it) is a secret of the case from the moment it arrives.
    pub redactor: Option<Redactor>,
}

impl BayeuxAuth {
    pub(super) fn headers(&self, path: &str, post: bool) -> Vec<(String, String)> {
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

    pub(super) fn absorb<'h>(&self, set_cookies: impl Iterator<Item = &'h [u8]>) {
        let mut store = lock(&self.cookies);
        for v in set_cookies {
            store.absorb(&String::from_utf8_lossy(v));
        }
    }

    /// When the session changed since its CSRF token was issued (a new session cookie, as a server
    /// that rotates the session id at login sends), fetches the new session's token the way the
    /// REST calls do: `GET /api/v2/me` (`me`) with the session's credentials and cookies. Without
    /// it every CometD POST would go out without a token and be refused for the client's lapse.
    /// Returns a note when it fetched one; a failed fetch is left for the POST to show.
    pub(super) async fn refresh_stale_csrf(
        &self,
        http: &reqwest::Client,
        me: url::Url,
        timeout: Duration,
    ) -> Option<String> {
        if !lock(&self.cookies).csrf_is_stale() {
            return None;
        }
        let path = me.path().to_string();
        let mut req = http
            .get(me)
            .timeout(timeout)
            .header("Accept", "application/json");
        for (k, v) in self.headers(&path, false) {
            req = req.header(k, v);
        }
        let sent_under = lock(&self.cookies).session();
        let resp = req.send().await.ok()?;
        let headers = header_pairs(resp.headers());
        let quiet = Redactor::new();
        let kept = lock(&self.cookies).take_in(
            &headers,
            true,
            true,
            Some(sent_under),
            self.redactor.as_ref().unwrap_or(&quiet),
        );
        kept.then(|| format!("the session changed: fetched its CSRF token with GET {path} for the CometD requests"))
    }
}
