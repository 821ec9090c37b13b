//! The CometD endpoint's transports [notes §5.1]: Bayeux batches over long-polling (POST) and over a
//! WebSocket (GET upgrade). The protocol itself is `crate::bayeux`.
//!
//! - Authentication is the REST API's (`crate::app`): HTTP Basic or a live `JSESSIONID`.
//! - The endpoint is exempt from the CSRF check (INF: whether CometD POSTs need the token is open, and
//!   a Genesys JS sample ran CometD without it [notes §4.3]); variant `cometd-csrf` checks it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::FromRequestParts;
use axum::http::header::{ALLOW, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use http_body_util::{BodyExt, Limited};
use serde_json::{json, Value};

use crate::app::{App, Principal, CSRF_MESSAGE};
use crate::bayeux::{Client, Sender, Via, BROWSER_COOKIE};
use crate::reply::Reply;
use crate::variant::Variant;
use crate::wire::{Media, Wire};

/// Where the endpoint lives; any path below it is the same endpoint (the CometD JavaScript client
/// appends `/handshake`, `/connect`, ... to the URL).
pub(crate) const PATH: &str = "/api/v2/notifications";

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().to_string())
}

/// Whether `path` is the endpoint or below it.
pub(crate) fn serves(path: &str) -> bool {
    path == PATH || path.strip_prefix(PATH).is_some_and(|r| r.starts_with('/'))
}

fn json_response(
    wire: &Wire,
    status: StatusCode,
    body: Value,
    set_browser: Option<&str>,
) -> Response {
    let mut r = Response::builder().status(status);
    if let Some(b) = set_browser {
        if let Ok(v) = HeaderValue::from_str(&format!("{BROWSER_COOKIE}={b}; Path=/api; HttpOnly"))
        {
            r = r.header(SET_COOKIE, v);
        }
    }
    wire.finish(r, Media::Json, wire.json(&body).into_bytes())
}

fn refusal(wire: &Wire, status: StatusCode, code: i64, message: impl Into<String>) -> Response {
    let body = json!({ "statusCode": code, "statusMessage": message.into() });
    json_response(wire, status, body, None)
}

/// Serves every request under [`PATH`].
pub(crate) async fn handle(app: Arc<App>, parts: Parts, body: Body) -> Response {
    let wire = app.wire(&parts.headers);
    // Variant cometd-cookie-auth: only the session cookie authenticates here.
    let cookie_only = app.varies(Variant::CometdCookieAuth);
    let principal = app
        .authenticate(&parts.headers)
        .filter(|p| !cookie_only || p.session.is_some());
    // Variant new-session-after-end: this endpoint sits behind the same session filter as the REST
    // API, so a Basic request without a live session opens one here too.
    let opened = match &principal {
        Some(p) if app.varies(Variant::NewSessionAfterEnd) && p.session.is_none() => {
            match app.session_for(p) {
                (Some(s), true) => Some(s),
                _ => None,
            }
        }
        _ => None,
    };
    let mut response = serve(&app, parts, body, wire, principal).await;
    if let Some(s) = opened {
        app.set_session_cookie(&mut response, &s);
    }
    response
}

async fn serve(
    app: &Arc<App>,
    mut parts: Parts,
    body: Body,
    wire: Wire,
    principal: Option<Principal>,
) -> Response {
    let browser = cookie(&parts.headers, BROWSER_COOKIE);
    if parts.method == Method::GET {
        let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &()).await;
        let Ok(upgrade) = upgrade.map_err(|_| ()).and_then(|u| {
            // Variant long-polling-only: this deployment has no WebSocket transport.
            (!app.varies(Variant::LongPollingOnly))
                .then_some(u)
                .ok_or(())
        }) else {
            let message = "CometD: POST Bayeux messages, or upgrade to a WebSocket";
            return refusal(&wire, StatusCode::BAD_REQUEST, 2, message);
        };
        // A WebSocket needs the agent's credentials, or the browser cookie of a live client.
        let username = principal.map(|p| p.username);
        let known_browser = browser
            .as_deref()
            .is_some_and(|b| app.bayeux.knows_browser(b));
        if username.is_none() && !known_browser {
            return refusal(&wire, StatusCode::FORBIDDEN, 20, "Access denied");
        }
        let app = app.clone();
        return upgrade
            .max_message_size(app.max_body_bytes)
            .on_upgrade(move |socket| websocket(app, socket, wire, username, browser));
    }
    if parts.method != Method::POST {
        let reply = app.wrong_method(parts.method.as_str(), "GET, POST");
        return wrong_method(&wire, reply);
    }
    if app.csrf
        && app.varies(Variant::CometdCsrf)
        && !app.csrf_ok(
            principal.as_ref().and_then(|p| p.session.as_ref()),
            &parts.headers,
        )
    {
        let r = Response::builder().status(StatusCode::FORBIDDEN);
        return wire.finish(r, Media::Text, CSRF_MESSAGE.as_bytes().to_vec());
    }
    let bytes = match Limited::new(body, app.max_body_bytes).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let message = format!(
                "Request body exceeds the limit of {} bytes",
                app.max_body_bytes
            );
            return refusal(&wire, StatusCode::PAYLOAD_TOO_LARGE, 2, message);
        }
    };
    let messages = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Array(a)) => a,
        Ok(v @ Value::Object(_)) => vec![v],
        _ => {
            let message = "CometD: the body must be a JSON array of Bayeux messages";
            return refusal(&wire, StatusCode::BAD_REQUEST, 2, message);
        }
    };
    let sender = Sender {
        username: principal.map(|p| p.username),
        browser,
        bound: None,
    };
    let mut p = app.bayeux.process(messages, &sender, Via::LongPolling);
    if let Some((client, reply, hold)) = p.connect.take() {
        app.bayeux.wait_for_messages(&client, hold).await;
        p.replies.extend(client.take_queue());
        p.replies.push(reply);
    }
    let replies = Value::Array(p.replies);
    json_response(&wire, StatusCode::OK, replies, p.set_browser.as_deref())
}

/// A 405 (or, with `wrong-method-400`, 400) from the REST layer's reply.
fn wrong_method(wire: &Wire, reply: Reply) -> Response {
    match reply {
        Reply::Json {
            status,
            body,
            allow,
            ..
        } => {
            let mut r = Response::builder().status(status);
            if let Some(allow) = allow {
                r = r.header(ALLOW, allow);
            }
            wire.finish(r, Media::Json, wire.json(&body).into_bytes())
        }
        Reply::Text {
            status,
            media,
            body,
        } => wire.finish(Response::builder().status(status), media, body.into_bytes()),
    }
}

async fn websocket(
    app: Arc<App>,
    mut socket: WebSocket,
    wire: Wire,
    username: Option<String>,
    browser: Option<String>,
) {
    let bayeux = &app.bayeux;
    let mut closing = bayeux.closing.subscribe();
    let mut bound: Option<Arc<Client>> = None;
    let mut pending: Option<(Value, tokio::time::Instant)> = None;
    loop {
        if bayeux.closing() {
            break;
        }
        // Deliver whatever waits for the bound client.
        if let Some(c) = &bound {
            let queued = c.take_queue();
            if !queued.is_empty() && send(&mut socket, &wire, queued).await.is_err() {
                break;
            }
        }
        let step = {
            let wake = async {
                match &bound {
                    Some(c) => c.wake.notified().await,
                    None => std::future::pending().await,
                }
            };
            let connect_due = async {
                match &pending {
                    Some((_, at)) => tokio::time::sleep_until(*at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = socket.recv() => WsStep::Frame(frame),
                _ = wake => WsStep::Wake,
                _ = connect_due => WsStep::ConnectDue,
                _ = closing.changed() => WsStep::Closing,
            }
        };
        match step {
            WsStep::Frame(frame) => {
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let messages = match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Array(a)) => a,
                    Ok(v @ Value::Object(_)) => vec![v],
                    _ => continue,
                };
                let sender = Sender {
                    username: username.clone(),
                    browser: browser.clone(),
                    bound: bound.as_ref(),
                };
                let mut p = bayeux.process(messages, &sender, Via::WebSocket);
                if let Some(c) = p.handshook.take() {
                    bound = Some(c);
                }
                if let Some((client, reply, hold)) = p.connect.take() {
                    if bound.is_none() {
                        bound = Some(client.clone());
                    }
                    client.touch();
                    // An earlier held connect is answered now; the new one waits its hold.
                    if let Some((r, _)) = pending.take() {
                        p.replies.push(r);
                    }
                    if hold.is_zero() {
                        p.replies.push(reply);
                    } else {
                        pending = Some((reply, tokio::time::Instant::now() + hold));
                    }
                }
                if !p.replies.is_empty() && send(&mut socket, &wire, p.replies).await.is_err() {
                    break;
                }
            }
            WsStep::Wake => {}
            WsStep::ConnectDue => {
                if let Some((r, _)) = pending.take() {
                    if let Some(c) = &bound {
                        c.touch();
                    }
                    if send(&mut socket, &wire, vec![r]).await.is_err() {
                        break;
                    }
                }
            }
            WsStep::Closing => break,
        }
    }
    if let Some((r, _)) = pending.take() {
        let _ = send(&mut socket, &wire, vec![r]).await;
    }
    let _ = socket.send(Message::Close(None)).await;
}

enum WsStep {
    Frame(Option<Result<Message, axum::Error>>),
    Wake,
    ConnectDue,
    Closing,
}

async fn send(
    socket: &mut WebSocket,
    wire: &Wire,
    messages: Vec<Value>,
) -> Result<(), axum::Error> {
    let text = wire.json(&Value::Array(messages));
    socket.send(Message::Text(text.into())).await
}
