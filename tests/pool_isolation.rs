//! Proof of isolation for pool scheduling: the suite runs with a `[pool]` against the reference
//! server behind a recorder that notes, for every request, when it came and went and whose it was
//! (the Basic user, or the user of the `JSESSIONID` session it carries). From the server's side
//! alone it then checks that no user had two sessions active at once (no user ran two cases at
//! once), and that no other session of a user was active while one of its sessions listened on
//! CometD (no notification case shared its windows with another case of its user). That a user's
//! notification cases come before its other cases is the dispatcher's rule, checked by the
//! simulation in `src/plan/pool.rs` (the server cannot tell a notification case's own REST session
//! from another case's).
//!
//! What counts as one case's activity, so that the judgement is exact and not at the mercy of timing:
//! - A case keeps one cookie store, so the sessions it goes through are one chain: a request that
//!   sends session `S` and is given `T` (the server rotated it, e.g. a login after a logout) links `T`
//!   to `S`. A new case starts with no cookie, so a chain never spans two cases. (Counted apart, the
//!   old session would look active while a long-poll sent with it before the rotation is pending.)
//! - A case ends when the answer to its last-started request comes. Its requests are sequential but
//!   for its CometD long-poll, which the client aborts before it sends `/meta/disconnect`; the server
//!   answers that abandoned poll as it disconnects, and the recorder may note that answer after the
//!   user's next case began. Two cases handed one user at once still overlap: the second's first
//!   request starts before the first's last one is answered.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use base64::Engine;
use support::{root, run};

const PASSWORD: &str = "isolation-test-pw";
const LOGIN_CODE_PASSWORD: &str = "switch-pw";

/// One request as the recorder saw it.
#[derive(Debug, Clone)]
struct Seen {
    user: Option<String>,
    /// The chain of sessions it belongs to, named by the chain's first session.
    session: String,
    path: String,
    start: Instant,
    end: Instant,
}

#[derive(Default)]
struct Recorder {
    seen: Vec<Seen>,
    /// JSESSIONID -> the user whose Basic request it was issued to.
    sessions: BTreeMap<String, String>,
    /// JSESSIONID -> the first session of its chain (see the module's notes).
    chain: BTreeMap<String, String>,
    next: usize,
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix("JSESSIONID=").map(str::to_string))
}

fn basic_user(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(raw).ok()?;
    Some(text.split(':').next()?.to_string())
}

/// The reference server (CSRF on) behind the recorder; both live as long as the runtime.
fn recorded_reference(rt: &tokio::runtime::Runtime, rec: Arc<Mutex<Recorder>>) -> String {
    rt.block_on(async move {
        let server = gws_reference::start(gws_reference::ServerConfig {
            csrf: true,
            ..gws_reference::ServerConfig::new(
                ([127, 0, 0, 1], 0).into(),
                gws_reference::Directory::builtin(PASSWORD, LOGIN_CODE_PASSWORD),
            )
        })
        .await
        .unwrap();
        let upstream = server.url();
        std::mem::forget(server); // lives as long as the runtime
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_gzip()
            .build()
            .unwrap();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (client, upstream, rec) = (client.clone(), upstream.clone(), rec.clone());
                async move { forward(&client, &upstream, &rec, method, uri, headers, body).await }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    })
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    rec: &Mutex<Recorder>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, Bytes) {
    let start = Instant::now();
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let mut req = client.request(method.clone(), format!("{upstream}{path}"));
    for (k, v) in &headers {
        if !matches!(
            k.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            req = req.header(k, v);
        }
    }
    let Ok(resp) = req.body(body).send().await else {
        return (StatusCode::BAD_GATEWAY, HeaderMap::new(), Bytes::new());
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
    let mut out = HeaderMap::new();
    for (k, v) in resp.headers() {
        if !matches!(
            k.as_str(),
            "content-length" | "connection" | "transfer-encoding"
        ) {
            out.append(k, v.clone());
        }
    }
    let bytes = resp.bytes().await.unwrap_or_default();
    let end = Instant::now();
    let mut r = rec.lock().unwrap();
    let basic = basic_user(&headers);
    let sent = cookie(&headers, "cookie");
    let set = cookie(&out, "set-cookie");
    if let (Some(s), Some(u)) = (&set, &basic) {
        r.sessions.insert(s.clone(), u.clone());
    }
    let user = basic.or_else(|| sent.as_ref().and_then(|s| r.sessions.get(s).cloned()));
    r.next += 1;
    // A request is noted when answered, after the request that set its cookie was: its chain is known.
    let root = |s: &String| r.chain.get(s).cloned().unwrap_or_else(|| s.clone());
    let session = sent
        .as_ref()
        .or(set.as_ref())
        .map(root)
        .unwrap_or_else(|| format!("request {}", r.next));
    if let Some(t) = set.filter(|t| !r.chain.contains_key(t)) {
        r.chain.insert(t, session.clone());
    }
    r.seen.push(Seen {
        user,
        session,
        path,
        start,
        end,
    });
    (status, out, bytes)
}

/// A session as the server saw it: its user, when it was active, and what it did.
#[derive(Debug)]
struct Span {
    user: String,
    session: String,
    start: Instant,
    end: Instant,
    cometd: bool,
}

fn spans(seen: &[Seen]) -> Vec<Span> {
    let mut by: BTreeMap<&str, Vec<&Seen>> = BTreeMap::new();
    for s in seen {
        by.entry(&s.session).or_default().push(s);
    }
    by.into_iter()
        .filter_map(|(session, reqs)| {
            let user = reqs.iter().find_map(|r| r.user.clone())?;
            Some(Span {
                user,
                session: session.to_string(),
                start: reqs.iter().map(|r| r.start).min()?,
                // The answer to its last-started request (see the module's notes).
                end: reqs.iter().max_by_key(|r| r.start)?.end,
                cometd: reqs
                    .iter()
                    .any(|r| r.path.starts_with("/api/v2/notifications")),
            })
        })
        .collect()
}

#[test]
fn a_pool_run_never_gives_a_user_two_cases_nor_a_notification_case_company() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rec = Arc::new(Mutex::new(Recorder::default()));
    let url = recorded_reference(&rt, rec.clone());
    // 5 pool users for the suite; the roles whose lab user matters stay on their reference users.
    // CometD over long-polling, so that every message passes the recorder as a request.
    let text = std::fs::read_to_string(root().join("profiles/reference.toml")).unwrap();
    let (head, agents) = text.split_once("[agents.default]").unwrap();
    let mut profile = head.replace("transport = \"auto\"", "transport = \"long-polling\"");
    profile
        .push_str("[pool]\nusers = [\"agent1\", \"agent2\", \"agent3\", \"agent5\", \"agent6\"]\n");
    profile.push_str("password = \"${env:GWS_PASSWORD}\"\n\n");
    for block in format!("\n[agents.default]{agents}")
        .split("\n[agents.")
        .skip(1)
    {
        let role = block.split(']').next().unwrap();
        if [
            "sample4",
            "params",
            "multimedia",
            "auth",
            "notify4",
            "notify",
            "sample6",
        ]
        .contains(&role)
        {
            profile.push_str(&format!("[agents.{}\n", block.trim_end()));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pool.toml");
    std::fs::write(&path, profile).unwrap();
    let out = dir.path().join("r");
    let r = run(
        &[
            "run",
            "-q",
            "--target",
            &url,
            "--profile",
            path.to_str().unwrap(),
            "--report-dir",
            out.to_str().unwrap(),
        ],
        &root(),
        &[
            ("GWS_PASSWORD", PASSWORD),
            ("GWS_AGENT_LOGIN_PASSWORD", LOGIN_CODE_PASSWORD),
        ],
        Duration::from_secs(180),
    );
    // Isolation first: cases sharing a user fail as a consequence, and the overlap is the cause.
    let seen = rec.lock().unwrap().seen.clone();
    let spans = spans(&seen);
    let users: std::collections::BTreeSet<&str> = spans.iter().map(|s| s.user.as_str()).collect();
    assert!(
        users.len() >= 5,
        "the recorder saw the pool's users: {users:?}"
    );
    assert!(
        spans.iter().any(|s| s.cometd),
        "the recorder saw CometD sessions"
    );
    for user in users {
        let mut mine: Vec<&Span> = spans.iter().filter(|s| s.user == user).collect();
        mine.sort_by_key(|s| s.start);
        for pair in mine.windows(2) {
            assert!(
                pair[0].end <= pair[1].start,
                "{user}: two cases (session chains {} and {}) were active at once",
                pair[0].session,
                pair[1].session
            );
        }
        // A CometD session's whole span (its windows inside it) had its user to itself. (Implied
        // by the check above; said on its own because it is the notification rule.)
        for c in mine.iter().filter(|s| s.cometd) {
            let company = mine
                .iter()
                .filter(|o| o.session != c.session)
                .find(|o| o.start < c.end && c.start < o.end);
            assert!(
                company.is_none(),
                "{user}: {company:?} during CometD session {c:?}"
            );
        }
    }
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}
