//! The state shared by the REST layer (`crate::server`) and the CometD transports (`crate::cometd`):
//! the [`App`] itself, authentication (HTTP Basic or the `JSESSIONID` cookie) and the wire constants.
//! Both layers import this module; it imports neither.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;

use crate::bayeux::Bayeux;
use crate::contact_center::ContactCenter;
use crate::fault::Fault;
use crate::reply::Reply;
use crate::session::{Session, SessionStore};
use crate::variant::{Behaviour, Variant};
use crate::wire::{Media, Wire};

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
    pub(crate) behaviour: Behaviour,
    pub(crate) csrf: bool,
    pub(crate) max_body_bytes: usize,
    /// The last `referenceId` handed out (variant `extra-fields`).
    pub(crate) references: AtomicU64,
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
        self.behaviour.has(fault)
    }

    pub(crate) fn varies(&self, v: Variant) -> bool {
        self.behaviour.varies(v)
    }

    /// How the answer to a request with these headers goes on the wire.
    pub(crate) fn wire(&self, request: &HeaderMap) -> Wire {
        Wire::new(self.behaviour.variants, request)
    }

    pub(crate) fn next_reference(&self) -> u64 {
        self.references.fetch_add(1, Ordering::Relaxed) + 1
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

    /// The answer to a request that failed authentication: `{20, "Access denied"}` (403, or as the
    /// variants say), or with `wrong-password-challenge` a plain 401 when Basic credentials were wrong.
    pub(crate) fn denied(&self, post: bool, headers: &HeaderMap) -> Reply {
        if self.varies(Variant::WrongPasswordChallenge) && basic_credentials(headers).is_some() {
            return Reply::Text {
                status: StatusCode::UNAUTHORIZED,
                media: Media::Text,
                body: "Bad credentials".to_string(),
            };
        }
        let status = if post && self.varies(Variant::DeniedPost200) {
            StatusCode::OK
        } else if self.varies(Variant::AccessDenied401) {
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

    /// The session a request acts in: its live one, else a new one when it may have one (the bool
    /// says it is new and needs a `Set-Cookie`).
    pub(crate) fn session_for(&self, principal: &Principal) -> (Option<Session>, bool) {
        match &principal.session {
            Some(s) => (Some(s.clone()), false),
            None if principal.may_create_session => {
                (Some(self.sessions.create(&principal.username)), true)
            }
            None => (None, false),
        }
    }

    /// Whether the request carries the CSRF token of `session` [notes §4.3].
    pub(crate) fn csrf_ok(&self, session: Option<&Session>, headers: &HeaderMap) -> bool {
        let sent = headers.get(CSRF_TOKEN).and_then(|v| v.to_str().ok());
        matches!((session, sent), (Some(s), Some(t)) if s.csrf_token == t)
    }

    /// HTTP 403 `Missing or invalid Csrf token`, as plain text [notes §4.3, DOC D6].
    pub(crate) fn csrf_refusal(&self) -> Reply {
        Reply::Text {
            status: StatusCode::FORBIDDEN,
            media: Media::Text,
            body: CSRF_MESSAGE.to_string(),
        }
    }

    /// A method the route does not serve: 405 with `Allow`, or 400 with variant `wrong-method-400`.
    pub(crate) fn wrong_method(&self, method: &str, allow: &'static str) -> Reply {
        if self.varies(Variant::WrongMethod400) {
            Reply::bad(2, format!("Request method '{method}' not supported"))
        } else {
            Reply::method_not_allowed(method, allow)
        }
    }
}

impl App {
    /// Adds `Set-Cookie: JSESSIONID=...` for a session the request opened.
    pub(crate) fn set_session_cookie(&self, response: &mut Response, session: &Session) {
        let cookie = if self.varies(Variant::CookiePathRoot) {
            format!("JSESSIONID={}; Path=/; HttpOnly; SameSite=Lax", session.id)
        } else {
            format!("JSESSIONID={}; Path=/api; HttpOnly", session.id)
        };
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, v);
        }
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
