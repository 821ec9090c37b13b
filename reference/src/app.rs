//! The state shared by the REST layer (`crate::server`) and the CometD transports (`crate::cometd`):
//! the [`App`] itself, authentication (HTTP Basic or the `JSESSIONID` cookie) and the wire constants.
//! Both layers import this module; it imports neither.

use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;

use crate::bayeux::Bayeux;
use crate::contact_center::ContactCenter;
use crate::fault::Fault;
use crate::reply::Reply;
use crate::session::{Session, SessionStore};

pub(crate) const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";
pub(crate) const TEXT_CONTENT_TYPE: &str = "text/plain;charset=UTF-8";
pub(crate) const CSRF_MESSAGE: &str = "Missing or invalid Csrf token";
pub(crate) const CSRF_HEADER: &str = "x-csrf-header";
pub(crate) const CSRF_TOKEN: &str = "x-csrf-token";
pub(crate) const TOMCAT_500: &str = "<!doctype html><html lang=\"en\"><head><title>HTTP Status 500 \u{2013} Internal Server Error</title></head><body><h1>HTTP Status 500 \u{2013} Internal Server Error</h1><hr class=\"line\" /><p><b>Type</b> Exception Report</p><p><b>Message</b> Request processing failed</p><hr class=\"line\" /><h3>Apache Tomcat</h3></body></html>";

/// The state every request handler shares: the contact-center model, the CometD clients, the HTTP
/// sessions and the configuration.
pub(crate) struct App {
    pub(crate) cc: ContactCenter,
    /// The CometD endpoint's clients.
    pub(crate) bayeux: Bayeux,
    pub(crate) sessions: SessionStore,
    pub(crate) fault: Option<Fault>,
    pub(crate) csrf: bool,
    pub(crate) max_body_bytes: usize,
}

/// Who a request acts for.
pub(crate) struct Principal {
    pub(crate) username: String,
    /// The live session named by the request's cookie, if it belongs to `username`.
    pub(crate) session: Option<Session>,
    /// False for requests served without authentication (fault `anonymous-served`): no session is made.
    pub(crate) may_create_session: bool,
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "JSESSIONID")
        .map(|(_, value)| value.trim().trim_matches('"').to_string())
}

/// `Authorization: Basic ...` decoded into user and password; `Some(None)` for a Basic header that does
/// not decode; `None` when there is no Basic header.
fn basic_credentials(headers: &HeaderMap) -> Option<Option<(String, String)>> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
        });
    Some(decoded)
}

impl App {
    pub(crate) fn has(&self, fault: Fault) -> bool {
        self.fault == Some(fault)
    }

    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Option<Principal> {
        let cookie_session = session_cookie(headers).and_then(|id| self.sessions.get(&id));
        if let Some(credentials) = basic_credentials(headers) {
            let (user, password) = credentials?;
            let agent = self.cc.directory().agent(&user)?;
            if agent.password.0 != password && !self.has(Fault::WrongPasswordAccepted) {
                return None;
            }
            return Some(Principal {
                session: cookie_session.filter(|s| s.username == user),
                username: user,
                may_create_session: true,
            });
        }
        if let Some(session) = cookie_session {
            return Some(Principal {
                username: session.username.clone(),
                session: Some(session),
                may_create_session: true,
            });
        }
        if self.has(Fault::AnonymousServed) {
            let dir = self.cc.directory();
            let username = if dir.agent("agent1").is_some() {
                "agent1".to_string()
            } else {
                dir.agent_names()[0].to_string()
            };
            return Some(Principal {
                username,
                session: None,
                may_create_session: false,
            });
        }
        None
    }

    /// The agent a request authenticates as (Basic or a live `JSESSIONID`), for the CometD endpoint.
    pub(crate) fn authenticated_user(&self, headers: &HeaderMap) -> Option<String> {
        self.authenticate(headers).map(|p| p.username)
    }

    pub(crate) fn denied(&self) -> Reply {
        let status = if self.has(Fault::AccessDenied401) {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::FORBIDDEN
        };
        let code = if self.has(Fault::AccessDeniedWrongCode) {
            3
        } else {
            20
        };
        Reply::error(status, code, "Access denied")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookie_parsing_finds_jsessionid_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            COOKIE,
            HeaderValue::from_static("a=b; JSESSIONID=ABC ; c=d"),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("ABC"));
    }

    #[test]
    fn basic_credentials_decode() {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic YWdlbnQxOnB3OmV4dHJh"),
        );
        assert_eq!(
            basic_credentials(&h),
            Some(Some(("agent1".to_string(), "pw:extra".to_string())))
        );
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(basic_credentials(&h), Some(None));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_credentials(&h), None);
    }
}
