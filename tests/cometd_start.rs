//! `CometdClient::start_subscribed` sends its subscriptions beside the first `/meta/connect`, not after
//! its reply: one round trip less per CometD session on a distant target (benches/latency.sh).
//!
//! The fake server below holds the first `/meta/connect` until it has received the `/meta/subscribe`
//! (at most 2 s), and refuses it if the subscription never came: a client that waits for the connect's
//! reply before subscribing fails to start here.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use gws_conform::execute::cometd::{BayeuxAuth, ClientConfig, CometdClient};
use gws_conform::execute::SharedCookies;
use gws_conform::load::Transport;
use serde_json::{json, Value};
use tokio::sync::Notify;

#[derive(Default)]
struct Fake {
    subscribed: Mutex<Vec<String>>,
    arrived: Notify,
}

async fn handler(State(f): State<Arc<Fake>>, body: String) -> Response {
    let messages: Vec<Value> = serde_json::from_str(&body).unwrap();
    let mut out = Vec::new();
    for m in messages {
        let (id, channel) = (m["id"].clone(), m["channel"].as_str().unwrap_or_default());
        let reply = match channel {
            "/meta/handshake" => json!({"id": id, "channel": channel, "successful": true,
                "clientId": "c1", "supportedConnectionTypes": ["long-polling"]}),
            "/meta/subscribe" => {
                f.subscribed
                    .lock()
                    .unwrap()
                    .push(m["subscription"].as_str().unwrap_or_default().to_string());
                f.arrived.notify_waiters();
                json!({"id": id, "channel": channel, "successful": true, "subscription": m["subscription"]})
            }
            "/meta/connect" if m.pointer("/advice/timeout") == Some(&json!(0)) => {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
                loop {
                    let arrived = f.arrived.notified();
                    if !f.subscribed.lock().unwrap().is_empty() {
                        break;
                    }
                    if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                        break;
                    }
                }
                let ok = !f.subscribed.lock().unwrap().is_empty();
                json!({"id": id, "channel": channel, "successful": ok,
                    "error": if ok { "" } else { "400::no subscription came beside the first connect" }})
            }
            "/meta/connect" => {
                // The connect loop: held as a server holds a long poll (bounded).
                tokio::time::sleep(Duration::from_millis(200)).await;
                json!({"id": id, "channel": channel, "successful": true})
            }
            _ => json!({"id": id, "channel": channel, "successful": true}),
        };
        out.push(reply);
    }
    let mut r = (StatusCode::OK, Value::Array(out).to_string()).into_response();
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    r
}

async fn fake() -> (ClientConfig, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    let app = Router::new()
        .route("/cometd", axum::routing::post(handler))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let cfg = ClientConfig {
        endpoint: format!("http://{addr}/cometd").parse().unwrap(),
        transport: Transport::LongPolling,
        request_timeout: Duration::from_secs(5),
        max_body_bytes: 1 << 20,
        tls: None,
    };
    (cfg, fake)
}

fn auth() -> BayeuxAuth {
    BayeuxAuth {
        basic: None,
        cookies: SharedCookies::default(),
        csrf: None,
        redactor: None,
    }
}

#[tokio::test]
async fn subscriptions_travel_beside_the_first_connect() {
    let (cfg, fake) = fake().await;
    let channels = vec!["/v2/me/devices".to_string(), "/v2/me/channels".to_string()];
    let (client, _events) =
        CometdClient::start_subscribed(reqwest::Client::new(), cfg, auth(), &channels)
            .await
            .expect("the first connect is answered once the subscriptions have arrived");
    let mut subscribed = fake.subscribed.lock().unwrap().clone();
    subscribed.sort();
    assert_eq!(subscribed, ["/v2/me/channels", "/v2/me/devices"]);
    assert_eq!(
        client.subscriptions(),
        ["/v2/me/channels", "/v2/me/devices"]
    );
    // Already subscribed: nothing more is sent.
    client.subscribe(&channels).await.unwrap();
    assert_eq!(fake.subscribed.lock().unwrap().len(), 2);
}

/// The fake tells the two orders apart: a client that subscribes only after the first connect's
/// reply (as `start` then `subscribe` do) is refused.
#[tokio::test]
async fn the_fake_refuses_a_subscription_after_the_first_connect() {
    let (cfg, fake) = fake().await;
    let refused = CometdClient::start(reqwest::Client::new(), cfg, auth()).await;
    assert!(
        refused.is_err(),
        "the first connect came without a subscription"
    );
    assert!(fake.subscribed.lock().unwrap().is_empty());
}
