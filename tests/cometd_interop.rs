//! Interop with CometD peers we did not write (tests/interop/, installed by .ci/install.d/cometd.sh):
//!
//! - the harness's Bayeux client against CometD's own Node server (`cometd-nodejs-server`, long-polling,
//!   sessions bound to the `BAYEUX_BROWSER` cookie) and against Faye (WebSocket);
//! - the reference server's `/api/v2/notifications` against the official CometD JavaScript client
//!   (`cometd` + `cometd-nodejs-client`), over long-polling and WebSocket.
//!
//! The peers listen on 127.0.0.1 only. A missing peer FAILS these tests (it never skips them): install
//! them with `bash .ci/install.d/cometd.sh`. Every wait is bounded.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use gws_conform::execute::cometd::{
    BayeuxAuth, ClientConfig, ClientEvent, CometdClient, CometdError,
};
use gws_conform::execute::SharedCookies;
use gws_conform::load::Transport;
use gws_conform::secret::Secret;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc::UnboundedReceiver;

const PW: &str = "pw-interop";
const PEER_START: Duration = Duration::from_secs(15);

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// Fails, with the fix, when a peer is not installed.
fn require_peers() {
    let missing: Vec<&str> = [
        "cometd",
        "cometd-nodejs-client",
        "cometd-nodejs-server",
        "faye",
        "ws",
    ]
    .into_iter()
    .filter(|p| {
        !interop_dir()
            .join("node_modules")
            .join(p)
            .join("package.json")
            .exists()
    })
    .collect();
    assert!(
        missing.is_empty(),
        "CometD interop peers missing in tests/interop/node_modules: {missing:?}; install them with `bash .ci/install.d/cometd.sh`"
    );
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "`node` is not on PATH: the interop tests need Node.js (>= 18)"
    );
}

/// Starts a peer server script; returns it and the port it printed.
async fn start_peer(script: &str, env: &[(&str, &str)]) -> (Child, u16) {
    require_peers();
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .current_dir(interop_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("cannot start node");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let port = tokio::time::timeout(PEER_START, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(p) = line.strip_prefix("LISTENING ") {
                return p.trim().parse::<u16>().unwrap();
            }
        }
        panic!("{script} ended without listening")
    })
    .await
    .unwrap_or_else(|_| panic!("{script} did not listen within {PEER_START:?}"));
    (child, port)
}

fn basic(user: &str, pw: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    )
}

fn client_parts(
    endpoint: &str,
    transport: Transport,
    auth: &str,
) -> (ClientConfig, BayeuxAuth, SharedCookies) {
    let cookies = SharedCookies::default();
    (
        ClientConfig {
            endpoint: endpoint.parse().unwrap(),
            transport,
            request_timeout: Duration::from_secs(3),
            max_body_bytes: 1 << 20,
            tls: None,
        },
        BayeuxAuth {
            basic: Some(Secret::new(auth)),
            cookies: cookies.clone(),
            csrf: None,
            redactor: None,
        },
        cookies,
    )
}

async fn next_message(rx: &mut UnboundedReceiver<ClientEvent>) -> Value {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match rx.recv().await {
                Some(ClientEvent::Message(d)) => return d.message,
                Some(ClientEvent::Note(_)) => continue,
                Some(ClientEvent::Failed(e)) => panic!("the client failed: {e}"),
                None => panic!("the client stopped"),
            }
        }
    })
    .await
    .expect("no message within 5 s")
}

async fn publish(port: u16, channel: &str, data: Value) {
    let r = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/publish"))
        .body(json!({"channel": channel, "data": data}).to_string())
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

async fn stats(port: u16) -> Value {
    reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/stats"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_client_talks_to_cometd_nodejs_server() {
    let auth = basic("agent1", PW);
    let (_peer, port) = start_peer("cometd-server.mjs", &[("EXPECT_AUTH", &auth)]).await;
    let endpoint = format!("http://127.0.0.1:{port}/cometd");

    // Wrong credentials: the server's security policy refuses the handshake, so Basic is really sent.
    let (cfg, bad, _) = client_parts(&endpoint, Transport::Auto, &basic("agent1", "nope"));
    let err = CometdClient::start(reqwest::Client::new(), cfg, bad)
        .await
        .err()
        .expect("a refused handshake");
    assert!(
        matches!(&err, CometdError::Refused { channel, .. } if channel == "/meta/handshake"),
        "{err}"
    );

    let (cfg, good, cookies) = client_parts(&endpoint, Transport::Auto, &auth);
    let (client, mut rx) = CometdClient::start(reqwest::Client::new(), cfg, good)
        .await
        .unwrap();
    assert_eq!(
        client.connection_type(),
        "long-polling",
        "this server offers long-polling only"
    );
    // Without the BAYEUX_BROWSER cookie every message after the handshake would be 402::session_unknown.
    client
        .subscribe(&["/v2/me/devices".into(), "/v2/me/calls".into()])
        .await
        .unwrap();
    let cookie = cookies
        .lock()
        .unwrap()
        .header_for("/cometd")
        .unwrap_or_default();
    assert!(cookie.contains("BAYEUX_BROWSER="), "{cookie}");

    let dsc = json!({"messageType": "DeviceStateChangeMessage", "devices": [{"id": "5001", "deviceState": "Active", "userState": {"state": "LoggedIn"}}]});
    publish(port, "/v2/me/devices", dsc.clone()).await;
    let m = next_message(&mut rx).await;
    assert_eq!(m["channel"], "/v2/me/devices");
    assert_eq!(m["data"], dsc);

    client
        .unsubscribe(&["/v2/me/devices".into()])
        .await
        .unwrap();
    publish(port, "/v2/me/devices", json!({"n": 1})).await;
    publish(port, "/v2/me/calls", json!({"n": 2})).await;
    let m = next_message(&mut rx).await;
    assert_eq!(
        m["channel"], "/v2/me/calls",
        "the unsubscribed channel's message is not delivered"
    );
    let s = stats(port).await;
    assert_eq!(s["handshakes"], 1, "{s}");
    assert_eq!(s["deniedHandshakes"], 1, "{s}");
    assert_eq!(s["subscribes"], 2, "{s}");
    assert_eq!(s["unsubscribes"], 1, "{s}");
    client.disconnect().await.unwrap();
    // The server removes the session (and with it the remaining subscription) on /meta/disconnect.
    let s = stats(port).await;
    assert_eq!(s["disconnects"], 1, "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_client_talks_websocket_to_faye() {
    let (_peer, port) = start_peer("faye-server.mjs", &[]).await;
    let endpoint = format!("http://127.0.0.1:{port}/faye");
    let (cfg, auth, _) = client_parts(&endpoint, Transport::Websocket, &basic("agent1", PW));
    let (client, mut rx) = CometdClient::start(reqwest::Client::new(), cfg, auth)
        .await
        .unwrap();
    assert_eq!(client.connection_type(), "websocket");
    client.subscribe(&["/v2/me/channels".into()]).await.unwrap();
    let data = json!({"messageType": "ChannelStateChangeMessageV2", "channels": [{"channel": "chat", "userState": {"state": "NotReady"}}]});
    publish(port, "/v2/me/channels", data.clone()).await;
    let m = next_message(&mut rx).await;
    assert_eq!(m["channel"], "/v2/me/channels");
    assert_eq!(m["data"], data);
    client.disconnect().await.unwrap();
    let s = stats(port).await;
    let types = s["connectionTypes"].as_array().unwrap();
    assert!(
        types.iter().any(|t| t == "websocket"),
        "/meta/connect went over the WebSocket: {s}"
    );
}

async fn reference_against_cometd_js(transport: &str) {
    require_peers();
    let config = gws_reference::ServerConfig {
        csrf: true,
        ..gws_reference::ServerConfig::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            gws_reference::Directory::builtin(PW, "lc"),
        )
    };
    let server = gws_reference::start(config).await.unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new("node")
            .arg("cometd-client.mjs")
            .arg(server.url())
            .arg("agent7")
            .arg(PW)
            .arg(transport)
            .current_dir(interop_dir())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the CometD JS client did not finish within 30 s")
    .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "CometD JS client over {transport} failed:\n{stdout}\n{stderr}"
    );
    let messages: Vec<Value> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("MESSAGE "))
        .map(|m| serde_json::from_str(m).unwrap())
        .collect();
    let states: Vec<&str> = messages
        .iter()
        .map(|m| {
            assert_eq!(m["channel"], "/v2/me/devices");
            assert_eq!(m["data"]["messageType"], "DeviceStateChangeMessage");
            m["data"]["devices"][0]["userState"]["state"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(states, ["LoggedIn", "NotReady", "LoggedOut"], "{stdout}");
    assert!(
        stdout.lines().any(|l| l == format!("DONE {transport}")),
        "{stdout}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cometd_js_client_gets_the_reference_notifications_over_long_polling() {
    reference_against_cometd_js("long-polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cometd_js_client_gets_the_reference_notifications_over_websocket() {
    reference_against_cometd_js("websocket").await;
}
