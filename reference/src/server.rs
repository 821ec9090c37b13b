//! The HTTP layer: routing, authentication, sessions, CSRF, body limits and response shaping.
//!
//! Processing order for a request: route outside `/api` or the version probe (no auth) -> authentication
//! (403/20) -> CSRF for POST, PUT, DELETE and PATCH (403 text/plain) -> session creation -> method check
//! (405) -> body (413, 400) -> operation.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{HeaderName, HeaderValue, ALLOW, CONTENT_LENGTH};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{json, Map, Value};

use crate::app::{App, CSRF_HEADER, CSRF_TOKEN, TOMCAT_500};
use crate::cometd;
use crate::fault::Fault;
use crate::reply::{Kind, Reply};
use crate::session::Session;
use crate::variant::Variant;
use crate::wire::{Media, Wire};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// Anything outside `/api/`: 404 without authentication.
    Outside,
    Version,
    Me,
    MeDevices,
    MeVoiceChannel,
    /// Anything else under `/api/`: 404 after authentication.
    UnknownApi,
}

impl Route {
    fn of(path: &str) -> Route {
        let trimmed = if path.len() > 1 {
            path.strip_suffix('/').unwrap_or(path)
        } else {
            path
        };
        match trimmed {
            "/api/v2/diagnostics/version" => Route::Version,
            "/api/v2/me" => Route::Me,
            "/api/v2/me/devices" => Route::MeDevices,
            "/api/v2/me/channels/voice" => Route::MeVoiceChannel,
            p if p == "/api" || p.starts_with("/api/") => Route::UnknownApi,
            _ => Route::Outside,
        }
    }
}

fn is_get(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

fn is_state_changing(method: &Method) -> bool {
    [Method::POST, Method::PUT, Method::DELETE, Method::PATCH].contains(method)
}

impl App {
    /// Turns a reply into a response, applying the response-shaping faults and variants.
    fn render(&self, reply: Reply, wire: &Wire) -> Response {
        match reply {
            Reply::Json {
                status,
                mut body,
                kind,
                allow,
            } => {
                if let Some(obj) = body.as_object_mut() {
                    match kind {
                        Kind::Error if self.has(Fault::ErrorWithoutMessage) => {
                            obj.remove("statusMessage");
                        }
                        Kind::Error if self.has(Fault::ErrorExtraAttributes) => {
                            obj.insert(
                                "details".into(),
                                json!("com.genesyslab.cloud.v2.api.exception.ApiException"),
                            );
                        }
                        Kind::OpSuccess if self.has(Fault::StatusCodeAsString) => {
                            obj.insert("statusCode".into(), json!("0"));
                        }
                        Kind::OpSuccess if self.has(Fault::SuccessWithMessage) => {
                            obj.insert("statusMessage".into(), json!("OK"));
                        }
                        _ => {}
                    }
                    if kind == Kind::OpSuccess && self.varies(Variant::ExtraFields) {
                        obj.insert("referenceId".into(), json!(self.next_reference()));
                        obj.insert(
                            "extra".into(),
                            json!({ "note": "a member no source names" }),
                        );
                    }
                }
                let media = if self.has(Fault::JsonAsTextPlain) {
                    Media::Text
                } else {
                    Media::Json
                };
                let mut builder = Response::builder().status(status);
                if let Some(allow) = allow {
                    builder = builder.header(ALLOW, allow);
                }
                wire.finish(builder, media, wire.json(&body).into_bytes())
            }
            Reply::Text {
                status,
                media,
                body,
            } => wire.finish(Response::builder().status(status), media, body.into_bytes()),
        }
    }

    /// Reads a bounded JSON-object body. The Content-Type is not checked.
    async fn read_object(
        &self,
        headers: &HeaderMap,
        body: Body,
    ) -> Result<Map<String, Value>, Reply> {
        let too_large = || {
            Reply::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                2,
                format!(
                    "Request body exceeds the limit of {} bytes",
                    self.max_body_bytes
                ),
            )
        };
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body_bytes as u64) {
            return Err(too_large());
        }
        let bytes = match Limited::new(body, self.max_body_bytes).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<LengthLimitError>() => return Err(too_large()),
            Err(_) => return Err(Reply::bad(2, "Request body could not be read")),
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(Reply::bad(2, "Request body must be a JSON object")),
            Err(_) if self.has(Fault::MalformedJson500) => Err(Reply::Text {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                media: Media::Html,
                body: TOMCAT_500.to_string(),
            }),
            Err(e) => Err(Reply::bad(
                2,
                format!("Request body is not valid JSON: {e}"),
            )),
        }
    }

    /// `POST /api/v2/me`. The bool asks the caller to invalidate the HTTP session.
    fn me_operation(&self, username: &str, body: &Map<String, Value>) -> (Reply, bool) {
        let op = match body.get("operationName") {
            None | Some(Value::Null) if self.has(Fault::MissingOperationAccepted) => {
                return (Reply::op_ok(), false)
            }
            None | Some(Value::Null) => {
                return (Reply::bad(1, "Parameter 'operationName' is missing"), false)
            }
            Some(v) => v,
        };
        match op.as_str() {
            Some("StartContactCenterSession") => (self.cc.start(username, body), false),
            Some("EndContactCenterSession") => {
                // A refused End (variant `end-without-session-error`) changes nothing.
                let reply = self.cc.end(username);
                let ended = reply.is_success();
                (reply, ended)
            }
            _ if self.has(Fault::UnknownOperationAccepted) => (Reply::op_ok(), false),
            Some(other) => (
                Reply::bad(2, format!("Operation '{other}' is not supported")),
                false,
            ),
            None => (
                Reply::bad(
                    2,
                    "Parameter 'operationName' is invalid: \"Expected a string value\"",
                ),
                false,
            ),
        }
    }

    fn voice_operation(&self, username: &str, body: &Map<String, Value>) -> Reply {
        match body.get("operationName") {
            None | Some(Value::Null) => Reply::bad(1, "Parameter 'operationName' is missing"),
            Some(v) => match v.as_str() {
                Some("Ready") => self.cc.set_voice_ready(username, true),
                Some("NotReady") => self.cc.set_voice_ready(username, false),
                Some(other) => Reply::bad(2, format!("Operation '{other}' is not supported")),
                None => Reply::bad(
                    2,
                    "Parameter 'operationName' is invalid: \"Expected a string value\"",
                ),
            },
        }
    }

    async fn dispatch(
        &self,
        route: Route,
        method: &Method,
        headers: &HeaderMap,
        body: Body,
        username: &str,
        query: &str,
    ) -> (Reply, bool) {
        match route {
            Route::Me if is_get(method) => {
                let mut user = self.cc.user_json(username);
                let wants_devices = query
                    .split('&')
                    .filter_map(|kv| kv.strip_prefix("subresources="))
                    .flat_map(|v| v.split(','))
                    .any(|s| s == "*" || s == "devices");
                if wants_devices {
                    user["devices"] = Value::Array(self.cc.devices_json(username));
                }
                if self.varies(Variant::ExtraFields) {
                    user["emailAddress"] = json!(format!("{username}@example.com"));
                    user["contactCenterId"] = json!("00000000-0000-0000-0000-000000000001");
                    user["extra"] = json!({ "note": "a member no source names" });
                }
                (Reply::data(json!({ "statusCode": 0, "user": user })), false)
            }
            Route::Me
                if *method == Method::POST
                    || (*method == Method::PUT && self.has(Fault::WrongMethodAccepted)) =>
            {
                match self.read_object(headers, body).await {
                    Ok(obj) => self.me_operation(username, &obj),
                    Err(reply) => (reply, false),
                }
            }
            Route::Me => (self.wrong_method(method.as_str(), "GET, POST"), false),
            Route::MeDevices if is_get(method) => {
                let devices = self.cc.devices_json(username);
                let full = query.split('&').any(|kv| kv.starts_with("fields="));
                let body = if full {
                    json!({ "statusCode": 0, "devices": devices })
                } else {
                    let base = self.base_url();
                    let uris: Vec<String> = devices
                        .iter()
                        .map(|d| {
                            format!(
                                "{base}/api/v2/devices/{}",
                                d["id"].as_str().unwrap_or_default()
                            )
                        })
                        .collect();
                    json!({ "statusCode": 0, "uris": uris })
                };
                (Reply::data(body), false)
            }
            Route::MeDevices => (self.wrong_method(method.as_str(), "GET"), false),
            // Ready/NotReady are other operations [notes §2]; a server may lack them.
            Route::MeVoiceChannel if self.varies(Variant::NoAgentState) => (not_found(), false),
            Route::MeVoiceChannel if *method == Method::POST => {
                match self.read_object(headers, body).await {
                    Ok(obj) => (self.voice_operation(username, &obj), false),
                    Err(reply) => (reply, false),
                }
            }
            Route::MeVoiceChannel => (self.wrong_method(method.as_str(), "POST"), false),
            Route::UnknownApi | Route::Outside | Route::Version => (not_found(), false),
        }
    }

    fn base_url(&self) -> String {
        self.cc.base_url().to_string()
    }
}

fn not_found() -> Reply {
    Reply::error(StatusCode::NOT_FOUND, 6, "Resource not found")
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// How long variant `notify-before-response` holds an answer after its request published.
const NOTIFY_LEAD: Duration = Duration::from_millis(250);

pub(crate) async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if cometd::serves(parts.uri.path()) {
        return cometd::handle(app, parts, body).await;
    }
    let wire = app.wire(&parts.headers);
    let method = parts.method;
    let headers = parts.headers;
    let route = Route::of(parts.uri.path());
    let query = parts.uri.query().unwrap_or("").to_string();

    match route {
        Route::Version if is_get(&method) => {
            let version = app.cc.directory().version.clone();
            let reply = Reply::data(json!({ "statusCode": 0, "version": version }));
            return app.render(reply, &wire);
        }
        Route::Version => return app.render(app.wrong_method(method.as_str(), "GET"), &wire),
        Route::Outside => return app.render(not_found(), &wire),
        _ => {}
    }

    let Some(principal) = app.authenticate(&headers) else {
        return app.render(app.denied(method == Method::POST, &headers), &wire);
    };

    // With new-session-after-end the session exists before the CSRF filter runs, so that even a
    // refused request carries the new cookie.
    let early = app.varies(Variant::NewSessionAfterEnd);
    let mut session = if early {
        app.session_for(&principal)
    } else {
        (principal.session.clone(), false)
    };
    if app.csrf
        && is_state_changing(&method)
        && !app.has(Fault::CsrfNotEnforced)
        && !app.csrf_ok(session.0.as_ref(), &headers)
    {
        let mut response = app.render(app.csrf_refusal(), &wire);
        if let (Some(s), true) = &session {
            app.set_session_cookie(&mut response, s);
        }
        return response;
    }
    if !early {
        session = app.session_for(&principal);
    }

    let published = app.cc.bus().published();
    let (reply, invalidate) = app
        .dispatch(route, &method, &headers, body, &principal.username, &query)
        .await;
    if app.varies(Variant::NotifyBeforeResponse) && app.cc.bus().published() != published {
        tokio::time::sleep(NOTIFY_LEAD).await;
    }
    let mut response = app.render(reply, &wire);
    let (session, new_session) = session;
    if let Some(session) = session {
        app.finish_session(&mut response, session, new_session, invalidate, &method);
    }
    response
}

impl App {
    /// Invalidates the session after End; otherwise announces a new one (`Set-Cookie`) and, on GET
    /// with CSRF on, its token.
    fn finish_session(
        &self,
        response: &mut Response,
        session: Session,
        new: bool,
        invalidate: bool,
        method: &Method,
    ) {
        if invalidate && !self.has(Fault::EndSessionKeepsSession) {
            self.sessions.invalidate(&session.id);
            return;
        }
        if new {
            self.set_session_cookie(response, &session);
        }
        if self.csrf && is_get(method) {
            let token = if self.varies(Variant::CsrfRotateOnGet) {
                self.sessions
                    .rotate_csrf(&session.id)
                    .unwrap_or(session.csrf_token)
            } else {
                session.csrf_token
            };
            let h = response.headers_mut();
            h.insert(
                HeaderName::from_static(CSRF_HEADER),
                HeaderValue::from_static("X-CSRF-TOKEN"),
            );
            h.insert(HeaderName::from_static(CSRF_TOKEN), header_value(&token));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_accept_the_trailing_slash() {
        assert_eq!(Route::of("/api/v2/me"), Route::Me);
        assert_eq!(Route::of("/api/v2/me/"), Route::Me);
        assert_eq!(Route::of("/api/v2/me/devices"), Route::MeDevices);
        assert_eq!(Route::of("/api/v2/nothing"), Route::UnknownApi);
        assert_eq!(Route::of("/"), Route::Outside);
        assert_eq!(Route::of("/apix"), Route::Outside);
    }
}
