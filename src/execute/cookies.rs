//! What one agent session's client keeps between requests: its cookies, which of them names the
//! server's HTTP session, and the CSRF token bound to that session.
//!
//! The HTTP client is shared by the whole run so that connections are reused, so cookies cannot live
//! in it: each case keeps its own small store, as a real agent desktop keeps one per login. Requests
//! only ever go to the target's own origin, so domain matching is not needed; paths are honoured.
//!
//! **Which cookie is the session.** `JSESSIONID` (any case), the name GWS's servlet container gives
//! it. A target that has never set a `JSESSIONID` names its session some other way, so there a change
//! of any cookie counts as a change of session, except CometD's `BAYEUX_BROWSER`, which names the
//! browser, not the session. A change is a new value or the cookie's removal (expiry). Counting too
//! many changes costs one extra token fetch; counting too few sends a token the server has forgotten.

use crate::secret::{Redactor, Secret};

#[derive(Debug, Default, Clone)]
pub struct CookieStore {
    cookies: Vec<Cookie>,
    /// Counts session changes: a CSRF token is valid only under the session it was issued for.
    session: u64,
    /// Whether the target has ever set `JSESSIONID` (then only that cookie names the session).
    named_session: bool,
    csrf: Option<CsrfToken>,
}

/// A CSRF token and the session it was issued under.
#[derive(Debug, Clone)]
pub struct CsrfToken {
    /// The header to send it in (what `X-CSRF-HEADER` named).
    pub header: String,
    pub value: Secret,
    /// The [`CookieStore::session`] it belongs to.
    pub session: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Cookie {
    name: String,
    value: String,
    path: String,
}

impl CookieStore {
    /// Takes in one `Set-Cookie` header value. Returns the cookie's name when it changed the store;
    /// a change of the session cookie also starts a new [`CookieStore::session`].
    pub fn absorb(&mut self, set_cookie: &str) -> Option<String> {
        let mut parts = set_cookie.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let (name, value) = (
            name.trim().to_string(),
            value.trim().trim_matches('"').to_string(),
        );
        if name.is_empty() {
            return None;
        }
        let mut path = "/".to_string();
        let mut expired = false;
        for attr in parts {
            let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
            match k.trim().to_ascii_lowercase().as_str() {
                "path" if v.trim().starts_with('/') => path = v.trim().to_string(),
                "max-age" => expired |= v.trim().parse::<i64>().is_ok_and(|n| n <= 0),
                "expires" => expired |= v.contains("1970"),
                _ => {}
            }
        }
        let existing = self
            .cookies
            .iter()
            .position(|c| c.name == name && c.path == path);
        match (existing, expired) {
            (None, true) => return None,
            (Some(i), true) => {
                self.cookies.remove(i);
            }
            // Set again with the same value: no change (and its place in the store is kept).
            (Some(i), false) if self.cookies[i].value == value => return None,
            (Some(i), false) => self.cookies[i].value = value,
            (None, false) => self.cookies.push(Cookie {
                name: name.clone(),
                value,
                path,
            }),
        }
        if name.eq_ignore_ascii_case("JSESSIONID") {
            self.named_session = true;
            self.session += 1;
        } else if !self.named_session && !name.eq_ignore_ascii_case("BAYEUX_BROWSER") {
            self.session += 1;
        }
        Some(name)
    }

    /// The current session: it changes whenever the session cookie does (see the module's rule).
    pub fn session(&self) -> u64 {
        self.session
    }

    /// Forgets every cookie and the token: the server said this session is not authenticated. A
    /// change of session like any other, so a token fetched before can never be taken for current.
    pub fn clear(&mut self) {
        self.cookies.clear();
        self.csrf = None;
        self.session += 1;
    }

    /// Keeps `token` as the CSRF token of `session` when that session is still the current one (a
    /// newer token of the current session replaces an older one: some servers rotate it on every GET).
    /// Returns whether it was kept.
    pub fn keep_csrf(&mut self, header: &str, token: &str, session: u64) -> bool {
        if session != self.session {
            return false;
        }
        self.csrf = Some(CsrfToken {
            header: header.to_string(),
            value: Secret::new(token),
            session,
        });
        true
    }

    /// Takes in one answer's headers, for the REST calls and the CometD client alike: its cookies
    /// (only when it came from the target's own origin: the store has no domains), every cookie value
    /// and any CSRF token as secrets from the moment they arrive, and, when `keep_token`, the token as
    /// that of the session it belongs to: the one this answer set, or else `sent_under`, the one the
    /// request carried. Returns whether a token was kept.
    pub fn take_in(
        &mut self,
        headers: &[(String, String)],
        own_origin: bool,
        keep_token: bool,
        sent_under: Option<u64>,
        redactor: &Redactor,
    ) -> bool {
        let before = self.session;
        if own_origin {
            for (_, v) in headers.iter().filter(|(k, _)| k == "set-cookie") {
                self.absorb(v);
            }
        }
        for v in self.values() {
            redactor.add(v);
        }
        // A token is a secret whichever header carries it.
        let offered = super::csrf::offered(headers);
        for (k, v) in headers {
            if k.eq_ignore_ascii_case("x-csrf-token") {
                redactor.add(v);
            }
        }
        if let Some((_, token)) = &offered {
            redactor.add(token);
        }
        // The newest token of the current session wins: some servers rotate it on every GET.
        let issued_under = if self.session != before {
            Some(self.session)
        } else {
            sent_under
        };
        // (A foreign answer sets no cookie here and was sent none: it has no session at all.)
        match (keep_token, issued_under, offered) {
            (true, Some(under), Some((header, token))) => self.keep_csrf(&header, &token, under),
            _ => false,
        }
    }

    /// The CSRF token of the current session, if the client has one.
    pub fn csrf(&self) -> Option<&CsrfToken> {
        self.csrf.as_ref().filter(|t| t.session == self.session)
    }

    /// Whether the client holds a token that an earlier session issued.
    pub fn csrf_is_stale(&self) -> bool {
        self.csrf
            .as_ref()
            .is_some_and(|t| t.session != self.session)
    }

    /// Drops the token (the server ended its session); the cookies stay.
    pub fn forget_csrf(&mut self) {
        self.csrf = None;
    }

    /// The `Cookie` header for a request to `request_path`, if any cookie applies.
    pub fn header_for(&self, request_path: &str) -> Option<String> {
        let mut applicable: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| path_matches(&c.path, request_path))
            .collect();
        // Longer paths first, as RFC 6265 asks.
        applicable.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
        if applicable.is_empty() {
            return None;
        }
        Some(
            applicable
                .iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// Cookie values, so that they can be masked in what the session records.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.cookies.iter().map(|c| c.value.as_str())
    }
}

fn path_matches(cookie_path: &str, request_path: &str) -> bool {
    let request_path = request_path.split('?').next().unwrap_or("/");
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || request_path[cookie_path.len()..].starts_with('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_replaces_and_expires() {
        let mut s = CookieStore::default();
        assert_eq!(
            s.absorb("JSESSIONID=abc; Path=/api; HttpOnly"),
            Some("JSESSIONID".into())
        );
        assert_eq!(
            s.header_for("/api/v2/me").as_deref(),
            Some("JSESSIONID=abc")
        );
        assert_eq!(s.header_for("/apix"), None);
        assert_eq!(s.absorb("JSESSIONID=abc; Path=/api"), None);
        s.absorb("JSESSIONID=def; Path=/api");
        assert_eq!(
            s.header_for("/api/v2/me").as_deref(),
            Some("JSESSIONID=def")
        );
        s.absorb("JSESSIONID=; Path=/api; Max-Age=0");
        assert!(s.is_empty());
    }

    #[test]
    fn jsessionid_names_the_session_once_seen() {
        let mut s = CookieStore::default();
        // Before any JSESSIONID, another cookie may name the session.
        s.absorb("SESSION=a");
        assert_eq!(s.session(), 1);
        s.absorb("BAYEUX_BROWSER=b1");
        assert_eq!(
            s.session(),
            1,
            "CometD's browser cookie never names a session"
        );
        s.absorb("JSESSIONID=x");
        assert_eq!(s.session(), 2);
        s.absorb("SESSION=c");
        assert_eq!(
            s.session(),
            2,
            "once JSESSIONID is seen, only it names the session"
        );
        s.absorb("JSESSIONID=x");
        assert_eq!(s.session(), 2, "the same value again is no change");
        s.absorb("jsessionid=y; Path=/api");
        assert_eq!(s.session(), 3);
        s.absorb("JSESSIONID=; Max-Age=0");
        assert_eq!(s.session(), 4, "removal is a change");
    }

    #[test]
    fn a_token_belongs_to_the_session_it_was_issued_under() {
        let mut s = CookieStore::default();
        s.absorb("JSESSIONID=one");
        assert!(s.keep_csrf("X-CSRF-TOKEN", "t1", 1));
        assert_eq!(s.csrf().map(|t| t.value.expose()), Some("t1"));
        assert!(
            s.keep_csrf("X-CSRF-TOKEN", "t2", 1),
            "a newer token replaces it"
        );
        assert_eq!(s.csrf().map(|t| t.value.expose()), Some("t2"));
        s.absorb("JSESSIONID=two");
        assert!(s.csrf().is_none());
        assert!(s.csrf_is_stale());
        assert!(
            !s.keep_csrf("X-CSRF-TOKEN", "late", 1),
            "an older session's token is refused"
        );
        assert!(s.csrf_is_stale());
        s.clear();
        assert!(s.is_empty() && s.csrf().is_none() && !s.csrf_is_stale());
        assert_eq!(s.session(), 3);
    }
}
