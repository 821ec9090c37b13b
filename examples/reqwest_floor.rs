//! The floor under any reqwest-based harness on benches/compare.sh's corpus: the same N requests
//! (benches/gen_corpus.py's mix: agent i % 16 + 1, Sample 1 and Sample 5 in turns of 16), on the
//! same runtime as `gws-conform run` against a target (one thread), with the client built as the
//! harness builds its own (`Transport::new`: no redirect followed, 5 s timeouts, the same pool,
//! TCP_NODELAY, proxies from the environment), `--jobs` at a time. Each answer is checked as the
//! corpus's Hurl files check it (the status class and `$.statusCode`), nothing else: no case file is
//! read, nothing is recorded, masked, judged or reported.
//!
//!     cargo run --release --example reqwest_floor -- BASE_URL N JOBS
//!
//! The password comes from GWS_PASSWORD, as for the corpus. Exits 1 when any answer is not the one
//! the corpus expects (so a broken floor is never timed as a fast one). Loopback only: the base URL
//! is refused unless its host is 127.0.0.1 or localhost.

use base64::Engine;
use futures_util::StreamExt;

const AGENTS: usize = 16;
const S1_BODY: &str = r#"{"operationName":"StartContactCenterSession","channels":["voice"]}"#;
const S5_BODY: &str = r#"{"operationName":"StartContactCenterSession","workmode":"aManualIn","channels":["voice"],"place":"agent1@pizza.com"}"#;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(base), Some(n), Some(jobs)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
        args.get(2).and_then(|j| j.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: reqwest_floor BASE_URL N JOBS");
        return std::process::ExitCode::from(2);
    };
    let Ok(url) = url::Url::parse(base) else {
        eprintln!("error: {base} is not a URL");
        return std::process::ExitCode::from(2);
    };
    if !matches!(url.host_str(), Some("127.0.0.1" | "localhost")) {
        eprintln!("error: {base}: loopback only (127.0.0.1 or localhost)");
        return std::process::ExitCode::from(2);
    }
    let password = std::env::var("GWS_PASSWORD").unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let wrong = runtime.block_on(send_all(
        base.trim_end_matches('/'),
        n,
        jobs.max(1),
        &password,
    ));
    if wrong > 0 {
        eprintln!("error: {wrong} of {n} answers were not the ones the corpus expects");
        return std::process::ExitCode::from(1);
    }
    std::process::ExitCode::SUCCESS
}

/// Sends the N requests, `jobs` at a time; returns how many answers were unexpected.
async fn send_all(base: &str, n: usize, jobs: usize, password: &str) -> usize {
    let timeout = std::time::Duration::from_secs(5);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .build()
        .expect("a reqwest client");
    let target = format!("{base}/api/v2/me");
    let auth: Vec<String> = (1..=AGENTS)
        .map(|a| {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("agent{a}:{password}"));
            format!("Basic {token}")
        })
        .collect();
    let (client, target, auth) = (&client, &target, &auth);
    futures_util::stream::iter(0..n)
        .map(|i| async move {
            let s1 = (i / AGENTS).is_multiple_of(2);
            let answer = client
                .post(target)
                .header("authorization", &auth[i % AGENTS])
                .header("accept", "application/json")
                .header("content-type", "application/json")
                .body(if s1 { S1_BODY } else { S5_BODY })
                .send()
                .await;
            let Ok(answer) = answer else { return 1 };
            let status = answer.status().as_u16();
            let Ok(body) = answer.bytes().await else {
                return 1;
            };
            let (statuses, code) = if s1 { (200..300, 0) } else { (400..500, 2) };
            let said = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("statusCode").and_then(serde_json::Value::as_i64));
            usize::from(!statuses.contains(&status) || said != Some(code))
        })
        .buffer_unordered(jobs)
        .fold(0, |wrong, w| async move { wrong + w })
        .await
}
