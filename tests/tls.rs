//! HTTPS targets: a profile's `ca_file` makes the harness trust a private CA (a staging GWS, say),
//! and without it the same target is refused for its certificate, with the reason, never trusted.
//! The target is the reference server behind a TLS-terminating proxy on 127.0.0.1, with the
//! test-only certificates of `tests/fixtures/tls/`.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use support::*;

const PASSWORD: &str = "tls-test-password";
const LOGIN_CODE_PASSWORD: &str = "tls-test-login-code";
const LIMIT: Duration = Duration::from_secs(120);

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/tls").join(name)
}

/// The reference server (CSRF on, as the reference profile expects) behind a TLS proxy; both live as
/// long as the returned runtime.
fn https_reference() -> (tokio::runtime::Runtime, SocketAddr) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = runtime.block_on(async {
        let server = gws_reference::start(gws_reference::ServerConfig {
            csrf: true,
            ..gws_reference::ServerConfig::new(
                ([127, 0, 0, 1], 0).into(),
                gws_reference::Directory::builtin(PASSWORD, LOGIN_CODE_PASSWORD),
            )
        })
        .await
        .unwrap();
        let upstream = server.addr();
        std::mem::forget(server); // lives as long as the runtime

        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(fixture("server.pem"))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
        let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to forward.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                });
            }
        });
        addr
    });
    (runtime, addr)
}

/// The reference profile, with `ca_file` when given (an absolute path: a relative one would be
/// read from the profile's folder), and the CometD transport forced when given.
fn profile_with(
    dir: &std::path::Path,
    ca_file: Option<PathBuf>,
    transport: Option<&str>,
) -> String {
    let mut text = std::fs::read_to_string(root().join("profiles/reference.toml")).unwrap();
    if let Some(ca) = ca_file {
        text = format!("ca_file = {:?}\n{text}", ca.display().to_string());
    }
    if let Some(t) = transport {
        text = text.replace("transport = \"auto\"", &format!("transport = \"{t}\""));
        assert!(text.contains(&format!("transport = \"{t}\"")));
    }
    let p = dir.join("profile.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Every CometD note of a report, e.g. "CometD session at URL over websocket".
fn cometd_notes(report: &Value) -> Vec<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["steps"].as_array().cloned().unwrap_or_default())
        .flat_map(|s| s["notes"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(str::to_string))
        .filter(|n| n.starts_with("CometD session at "))
        .collect()
}

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GWS_PASSWORD", PASSWORD),
        ("GWS_AGENT_LOGIN_PASSWORD", LOGIN_CODE_PASSWORD),
    ]
}

/// One run of the binary against the https reference: the profile trusts `ca_file` when given and
/// uses `transport` when given; `selection` narrows the cases. Returns the run, its report (when one
/// was written) and the target URL.
fn run_https(
    ca_file: Option<PathBuf>,
    transport: Option<&str>,
    selection: &[&str],
) -> (Run, Option<Value>, String) {
    let (_rt, addr) = https_reference();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_with(dir.path(), ca_file, transport);
    let report = dir.path().join("report");
    let target = format!("https://127.0.0.1:{}", addr.port());
    let mut args = vec![
        "run",
        "--target",
        &target,
        "--profile",
        &profile,
        "--report-dir",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(selection);
    let r = run(&args, &root(), &env(), LIMIT);
    let json = std::fs::read(report.join("report.json"))
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap());
    (r, json, target)
}

#[test]
fn a_target_with_a_private_ca_passes_the_whole_suite_when_the_profile_trusts_the_ca() {
    let ca = fixture("ca.pem");
    let (r, json, _) = run_https(Some(ca.clone()), None, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let json = json.expect("a report");
    assert_eq!(json["summary"]["tally"]["failed"], 0);
    assert_eq!(json["summary"]["tally"]["skipped"], 0);
    assert_eq!(
        json["run"]["target"]["server_version"],
        "8.5.200.50-reference"
    );
    // The CA is an input of the verdicts, hashed like the cases.
    let ca_shown = ca.display().to_string().replace('\\', "/");
    assert!(
        json["run"]["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["path"] == ca_shown.as_str()),
        "{}",
        json["run"]["inputs"]
    );
    assert_eq!(json["run"]["profile"]["ca_file"], ca_shown.as_str());
}

#[test]
fn without_the_ca_the_target_is_refused_for_its_certificate() {
    let (r, json, _) = run_https(None, None, &["s1-basic-voice"]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("error: the target could not be tested")
            && r.stdout.to_lowercase().contains("certificate"),
        "{}",
        r.stdout
    );
    assert_eq!(json.expect("a report")["summary"]["complete"], false);
}

/// Notifications over wss:// trust what the REST calls trust: with the profile's CA, every
/// notification case passes over WebSocket on the https target (without it, the target is refused
/// before any notification, as the test above shows).
#[test]
fn notifications_travel_over_wss_with_the_same_trust_as_the_rest_calls() {
    let (r, json, target) = run_https(
        Some(fixture("ca.pem")),
        Some("websocket"),
        &["--tag", "cometd"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let json = json.expect("a report");
    assert!(
        json["summary"]["tally"]["passed"].as_u64().unwrap() >= 7,
        "{}",
        json["summary"]
    );
    let notes = cometd_notes(&json);
    assert!(!notes.is_empty());
    for n in &notes {
        assert!(
            n.starts_with(&format!(
                "CometD session at {target}/api/v2/notifications over websocket"
            )),
            "{n}"
        );
    }
}

/// The WebSocket's own trust, apart from the REST calls': the same https endpoint (the handshake
/// over HTTP trusts the CA) is refused over wss:// by TLS settings without the CA, and accepted by
/// settings with it.
#[test]
fn the_websocket_trusts_exactly_what_its_tls_settings_trust() {
    use gws_conform::execute::cometd::{BayeuxAuth, ClientConfig, CometdClient, CometdError};
    use gws_conform::execute::{tls_config, SharedCookies};
    use gws_conform::secret::Secret;

    let (rt, addr) = https_reference();
    let endpoint = format!("https://127.0.0.1:{}/api/v2/notifications", addr.port());
    let ca_pem = std::fs::read(fixture("ca.pem")).unwrap();
    let ca: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&ca_pem)
        .collect::<Result<_, _>>()
        .unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).unwrap())
        .build()
        .unwrap();
    let start = |tls| {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("agent1:{PASSWORD}"));
        let cfg = ClientConfig {
            endpoint: endpoint.parse().unwrap(),
            transport: gws_conform::load::Transport::Websocket,
            request_timeout: Duration::from_secs(5),
            max_body_bytes: 1 << 20,
            tls: Some(tls),
        };
        let auth = BayeuxAuth {
            basic: Some(Secret::new(format!("Basic {basic}"))),
            cookies: SharedCookies::default(),
            csrf: None,
            redactor: None,
        };
        CometdClient::start(http.clone(), cfg, auth)
    };
    rt.block_on(async {
        let refused = start(tls_config(&[]).unwrap())
            .await
            .err()
            .expect("refused");
        assert!(
            matches!(&refused, CometdError::NoWebsocket { detail, .. }
                if detail.to_lowercase().contains("certificate")),
            "{refused}"
        );
        let (client, _events) = start(tls_config(&ca).unwrap()).await.unwrap();
        assert_eq!(client.connection_type(), "websocket");
        let _ = client.disconnect().await;
    });
}

/// `init --ca-file` probes an https target with a private CA (wss:// included) and writes the CA into
/// the profile, which then runs; without it, init names the certificate problem and exits 2.
#[test]
fn init_trusts_a_private_ca_with_ca_file_and_writes_it_to_the_profile() {
    let (_rt, addr) = https_reference();
    let dir = tempfile::tempdir().unwrap();
    let target = format!("https://127.0.0.1:{}", addr.port());
    let r = run(&["init", "--target", &target], dir.path(), &env(), LIMIT);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.to_lowercase().contains("certificate"),
        "{}",
        r.stderr
    );
    let ca = fixture("ca.pem");
    let p = dir.path().join("p.toml");
    let args = [
        "init",
        "--target",
        &target,
        "--ca-file",
        ca.to_str().unwrap(),
        "-o",
        p.to_str().unwrap(),
    ];
    let r = run(&args, dir.path(), &env(), LIMIT);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("WebSocket: the WebSocket upgrade worked"),
        "{}",
        r.stdout
    );
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains("ca_file = "), "{text}");
    let run_args = [
        "run",
        "s1-basic-voice",
        "--target",
        &target,
        "--profile",
        p.to_str().unwrap(),
        "--report-dir",
        "r",
    ];
    let r = run(&run_args, dir.path(), &env(), LIMIT);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
