//! CSRF tokens as real clients handle them [gws-notes §4.3]: fetched with a GET, sent on every unsafe
//! request, fetched again when the session changes, and one retry when a refusal proves the token was
//! fetched under a session that has since been replaced.
//!
//! The session a token belongs to is kept by the cookie store (see [`super::cookies`]), which the REST
//! calls and the CometD client share: a new session cookie from either makes the token stale.

use crate::model::{AuthMode, Request};
use crate::record::ResponseRecord;

/// The body of a CSRF refusal, as plain text or as the `statusMessage` of a JSON error [gws-notes §3.3].
pub const REFUSAL: &str = "Missing or invalid Csrf token";

/// The header that carries the token when the server does not name one in `X-CSRF-HEADER`.
pub const DEFAULT_HEADER: &str = "X-CSRF-TOKEN";

/// On the refused exchange: why the harness did not take the refusal as the answer.
pub const STALE_REFUSED_NOTE: &str =
    "CSRF token was fetched under an earlier session (the session \
     cookie changed since); fetched a new one and retried once";

/// On the retried exchange.
pub const RETRY_NOTE: &str =
    "retry, once, of the refused request above, with a CSRF token fetched \
     under the current session";

/// On a token fetch caused by a change of session rather than by having no token yet.
pub const REFETCH_NOTE: &str =
    "the session cookie changed since the CSRF token was fetched: fetched a new one";

/// Whether a method needs the token [gws-notes §4.3; PATCH is state-changing too].
pub fn is_unsafe(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "DELETE" | "PATCH")
}

/// Whether an answer is the server's CSRF refusal: HTTP 403 whose body is the refusal text, alone or as
/// the `statusMessage` of a JSON body.
pub fn is_refusal(r: &ResponseRecord) -> bool {
    if r.status != 403 {
        return false;
    }
    let Some(text) = r.body_text.as_deref().map(str::trim) else {
        return false;
    };
    if text.eq_ignore_ascii_case(REFUSAL) {
        return true;
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            v.get("statusMessage")
                .and_then(|m| m.as_str())
                .map(|m| m.trim().eq_ignore_ascii_case(REFUSAL))
        })
        .unwrap_or(false)
}

/// The token an answer offers, with the header to send it back in: `headers[headers["X-CSRF-HEADER"]]`,
/// as clients read it [gws-notes §4.3, OBS G3]. `headers` are the answer's, unredacted.
pub fn offered(headers: &[(String, String)]) -> Option<(String, String)> {
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let header = find("x-csrf-header").unwrap_or_else(|| DEFAULT_HEADER.to_string());
    let token = find(&header)?;
    Some((header, token))
}

/// `GET /api/v2/me`: how real clients open a session and get its CSRF token (any GET returns
/// X-CSRF-HEADER and X-CSRF-TOKEN [gws-notes §4.3]).
pub fn fetch_request(auth: AuthMode) -> Request {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> ResponseRecord {
        ResponseRecord {
            status,
            headers: Vec::new(),
            content_type: None,
            body_text: Some(body.to_string()),
            body_bytes: body.len(),
        }
    }

    #[test]
    fn the_refusal_in_plain_text_or_json_and_nothing_else() {
        assert!(is_refusal(&answer(403, "Missing or invalid Csrf token")));
        assert!(is_refusal(&answer(403, "Missing or invalid Csrf token\n")));
        assert!(is_refusal(&answer(
            403,
            r#"{"statusCode":20,"statusMessage":"Missing or invalid Csrf token"}"#
        )));
        assert!(!is_refusal(&answer(400, "Missing or invalid Csrf token")));
        assert!(!is_refusal(&answer(
            403,
            r#"{"statusCode":20,"statusMessage":"Access denied"}"#
        )));
        assert!(!is_refusal(&answer(403, "Forbidden")));
    }

    #[test]
    fn the_token_is_read_from_the_header_the_server_names() {
        let h = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            offered(&h(&[("x-csrf-header", "X-XSRF"), ("x-xsrf", "t")])),
            Some(("X-XSRF".to_string(), "t".to_string()))
        );
        assert_eq!(
            offered(&h(&[("x-csrf-token", "t")])),
            Some((DEFAULT_HEADER.to_string(), "t".to_string()))
        );
        assert_eq!(offered(&h(&[("x-other", "t")])), None);
    }
}
