//! The CometD endpoint's transports [notes §5.1]: Bayeux batches over long-polling (POST) and over a
//! WebSocket (GET upgrade). The protocol itself is `crate::bayeux`.
//!
//! - Authentication is the REST API's (`crate::app`): HTTP Basic or a live `JSESSIONID`.
//! - The endpoint is exempt from the CSRF check (INF: whether CometD POSTs need the token is open, and
//!   a Genesys JS sample ran CometD without it [notes §4.3]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::FromRequestParts;
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use http_body_util::{BodyExt, Limited};
use serde_json::{json, Value};

use crate::app::{App, JSON_CONTENT_TYPE};
use crate::bayeux::{Client, Sender, Via, BROWSER_COOKIE};

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

fn json_response(status: StatusCode, body: Value, set_browser: Option<&str>) -> Response {
    let mut r = Response::builder()
        .status(status)
        .header(CONTENT_TYPE, JSON_CONTENT_TYPE);
    if let Some(b) = set_browser {
        if let Ok(v) = HeaderValue::from_str(&format!("{BROWSER_COOKIE}={b}; Path=/api; HttpOnly"))
        {
            r = r.header(SET_COOKIE, v);
        }
    }
    r.body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Serves every request under [`PATH`].
pub(crate) async fn handle(app: Arc<App>, mut parts: Parts, body: Body) -> Response {
    let username = app.authenticated_user(&parts.headers);
    let browser = cookie(&parts.headers, BROWSER_COOKIE);
    if parts.method == Method::GET {
        let Ok(upgrade) = WebSocketUpgrade::from_request_parts(&mut parts, &()).await else {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({ "statusCode": 2, "statusMessage": "CometD: POST Bayeux messages, or upgrade to a WebSocket" }),
                None,
            );
        };
        // A WebSocket needs the agent's credentials, or the browser cookie of a live client.
        let known_browser = browser
            .as_deref()
            .is_some_and(|b| app.bayeux.knows_browser(b));
        if username.is_none() && !known_browser {
            return json_response(
                StatusCode::FORBIDDEN,
                json!({ "statusCode": 20, "statusMessage": "Access denied" }),
                None,
            );
        }
        return upgrade
            .max_message_size(app.max_body_bytes)
            .on_upgrade(move |socket| websocket(app, socket, username, browser));
    }
    if parts.method != Method::POST {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "statusCode": 2, "statusMessage": format!("Request method '{}' not supported", parts.method) }),
            None,
        );
    }
    let bytes = match Limited::new(body, app.max_body_bytes).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "statusCode": 2, "statusMessage": format!("Request body exceeds the limit of {} bytes", app.max_body_bytes) }),
                None,
            )
        }
    };
    let messages = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Array(a)) => a,
        Ok(v @ Value::Object(_)) => vec![v],
        _ => {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({ "statusCode": 2, "statusMessage": "CometD: the body must be a JSON array of Bayeux messages" }),
                None,
            )
        }
    };
    let sender = Sender {
        username,
        browser,
        bound: None,
    };
    let mut p = app.bayeux.process(messages, &sender, Via::LongPolling);
    if let Some((client, reply, hold)) = p.connect.take() {
        app.bayeux.wait_for_messages(&client, hold).await;
        p.replies.extend(client.take_queue());
        p.replies.push(reply);
    }
    json_response(
        StatusCode::OK,
        Value::Array(p.replies),
        p.set_browser.as_deref(),
    )
}

async fn websocket(
    app: Arc<App>,
    mut socket: WebSocket,
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
            if !queued.is_empty() && send(&mut socket, queued).await.is_err() {
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
                if !p.replies.is_empty() && send(&mut socket, p.replies).await.is_err() {
                    break;
                }
            }
            WsStep::Wake => {}
            WsStep::ConnectDue => {
                if let Some((r, _)) = pending.take() {
                    if let Some(c) = &bound {
                        c.touch();
                    }
                    if send(&mut socket, vec![r]).await.is_err() {
                        break;
                    }
                }
            }
            WsStep::Closing => break,
        }
    }
    if let Some((r, _)) = pending.take() {
        let _ = send(&mut socket, vec![r]).await;
    }
    let _ = socket.send(Message::Close(None)).await;
}

enum WsStep {
    Frame(Option<Result<Message, axum::Error>>),
    Wake,
    ConnectDue,
    Closing,
}

async fn send(socket: &mut WebSocket, messages: Vec<Value>) -> Result<(), axum::Error> {
    socket
        .send(Message::Text(Value::Array(messages).to_string().into()))
        .await
}
