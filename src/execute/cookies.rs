//! A cookie store for one agent session.
//!
//! The HTTP client is shared by the whole run so that connections are reused, so cookies cannot live
//! in it: each case keeps its own small store, as a real agent desktop keeps one per login. Requests
//! only ever go to the target's own origin, so domain matching is not needed; paths are honoured.

#[derive(Debug, Default, Clone)]
pub struct CookieStore {
    cookies: Vec<Cookie>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Cookie {
    name: String,
    value: String,
    path: String,
}

impl CookieStore {
    /// Takes in one `Set-Cookie` header value. Returns the cookie's name when it changed the store.
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
        let before = self.cookies.clone();
        self.cookies.retain(|c| !(c.name == name && c.path == path));
        if !expired {
            self.cookies.push(Cookie {
                name: name.clone(),
                value,
                path,
            });
        }
        (before != self.cookies).then_some(name)
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
}
