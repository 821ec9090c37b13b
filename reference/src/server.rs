//! The HTTP layer: routing, authentication, sessions, CSRF, body limits and response shaping.
//!
//! Processing order for a request: route outside `/api` or the version probe (no auth) -> authentication
//! (403/20) -> CSRF for POST, PUT, DELETE and PATCH (403 text/plain) -> session creation -> method check
//! (405) -> body (413, 400) -> operation.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    HeaderName, HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, SET_COOKIE,
};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{json, Map, Value};

use crate::app::{
    App, CSRF_HEADER, CSRF_MESSAGE, CSRF_TOKEN, JSON_CONTENT_TYPE, TEXT_CONTENT_TYPE, TOMCAT_500,
};
use crate::cometd;
use crate::fault::Fault;
use crate::reply::{Kind, Reply};

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
    /// Turns a reply into a response, applying the response-shaping faults.
    fn render(&self, reply: Reply) -> Response {
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
                }
                let content_type = if self.has(Fault::JsonAsTextPlain) {
                    TEXT_CONTENT_TYPE
                } else {
                    JSON_CONTENT_TYPE
                };
                let mut builder = Response::builder()
                    .status(status)
                    .header(CONTENT_TYPE, content_type);
                if let Some(allow) = allow {
                    builder = builder.header(ALLOW, allow);
                }
                builder
                    .body(Body::from(body.to_string()))
                    .unwrap_or_else(|_| Response::new(Body::empty()))
            }
            Reply::Text {
                status,
                content_type,
                body,
            } => Response::builder()
                .status(status)
                .header(CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap_or_else(|_| Response::new(Body::empty())),
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
                content_type: "text/html;charset=utf-8",
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
            Some("EndContactCenterSession") => (self.cc.end(username), true),
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
            Route::Me => (
                Reply::method_not_allowed(method.as_str(), "GET, POST"),
                false,
            ),
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
            Route::MeDevices => (Reply::method_not_allowed(method.as_str(), "GET"), false),
            Route::MeVoiceChannel if *method == Method::POST => {
                match self.read_object(headers, body).await {
                    Ok(obj) => (self.voice_operation(username, &obj), false),
                    Err(reply) => (reply, false),
                }
            }
            Route::MeVoiceChannel => (Reply::method_not_allowed(method.as_str(), "POST"), false),
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

pub(crate) async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    if path == cometd::PATH
        || path
            .strip_prefix(cometd::PATH)
            .is_some_and(|rest| rest.starts_with('/'))
    {
        return cometd::handle(app, parts, body).await;
    }
    let method = parts.method;
    let headers = parts.headers;
    let route = Route::of(parts.uri.path());
    let query = parts.uri.query().unwrap_or("").to_string();

    match route {
        Route::Version if is_get(&method) => {
            let version = app.cc.directory().version.clone();
            return app.render(Reply::data(json!({ "statusCode": 0, "version": version })));
        }
        Route::Version => return app.render(Reply::method_not_allowed(method.as_str(), "GET")),
        Route::Outside => return app.render(not_found()),
        _ => {}
    }

    let Some(principal) = app.authenticate(&headers) else {
        return app.render(app.denied());
    };

    if app.csrf && is_state_changing(&method) && !app.has(Fault::CsrfNotEnforced) {
        let sent = headers.get(CSRF_TOKEN).and_then(|v| v.to_str().ok());
        let valid = matches!((&principal.session, sent), (Some(s), Some(t)) if s.csrf_token == t);
        if !valid {
            return app.render(Reply::Text {
                status: StatusCode::FORBIDDEN,
                content_type: TEXT_CONTENT_TYPE,
                body: CSRF_MESSAGE.to_string(),
            });
        }
    }

    let (session, new_session) = match principal.session {
        Some(s) => (Some(s), false),
        None if principal.may_create_session => {
            (Some(app.sessions.create(&principal.username)), true)
        }
        None => (None, false),
    };

    let (reply, invalidate) = app
        .dispatch(route, &method, &headers, body, &principal.username, &query)
        .await;
    let mut response = app.render(reply);

    let invalidated = invalidate && !app.has(Fault::EndSessionKeepsSession);
    if let Some(session) = &session {
        if invalidated {
            app.sessions.invalidate(&session.id);
        } else {
            if new_session {
                response.headers_mut().append(
                    SET_COOKIE,
                    header_value(&format!("JSESSIONID={}; Path=/api; HttpOnly", session.id)),
                );
            }
            if app.csrf && is_get(&method) {
                let h = response.headers_mut();
                h.insert(
                    HeaderName::from_static(CSRF_HEADER),
                    HeaderValue::from_static("X-CSRF-TOKEN"),
                );
                h.insert(
                    HeaderName::from_static(CSRF_TOKEN),
                    header_value(&session.csrf_token),
                );
            }
        }
    }
    response
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
