//! The floor under any reqwest-based harness on benches/compare.sh's corpus: the same N requests
//! (benches/gen_corpus.py's mix: agent i % 16 + 1, Sample 1 and Sample 5 in turns of 16), on the
//! same runtime as `gws-conform run` against a target (one thread) and the harness's own client
//! (`Transport::new` on the corpus's profile, so it is built exactly as a run builds it), `--jobs`
//! at a time. Each answer is checked as the corpus's Hurl files check it (the status class and
//! `$.statusCode`), nothing else: no case file is read, nothing is recorded, masked, judged or
//! reported.
//!
//!     cargo run --release --example reqwest_floor -- PROFILE N JOBS
//!
//! The target and the agents (roles r1..r16) come from the corpus's profile, its passwords from the
//! environment as for a run. Exits 1 when any answer is not the one the corpus expects (so a broken
//! floor is never timed as a fast one), 2 on bad arguments. Loopback only: a target whose host is
//! not 127.0.0.1 or localhost is refused.

use base64::Engine;
use futures_util::StreamExt;

use gws_conform::execute::Transport;
use gws_conform::load::{vars::Env, Profile};
use gws_conform::secret::Redactor;

const AGENTS: usize = 16;
const S1_BODY: &str = r#"{"operationName":"StartContactCenterSession","channels":["voice"]}"#;
const S5_BODY: &str = r#"{"operationName":"StartContactCenterSession","workmode":"aManualIn","channels":["voice"],"place":"agent1@pizza.com"}"#;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(path), Some(n), Some(jobs)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
        args.get(2).and_then(|j| j.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: reqwest_floor PROFILE N JOBS");
        return std::process::ExitCode::from(2);
    };
    let (client, target, auth) = match set_up(std::path::Path::new(path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let wrong = runtime.block_on(send_all(&client, &target, &auth, n, jobs.max(1)));
    if wrong > 0 {
        eprintln!("error: {wrong} of {n} answers were not the ones the corpus expects");
        return std::process::ExitCode::from(1);
    }
    std::process::ExitCode::SUCCESS
}

/// The run's client, the URL every request goes to, and each agent's Authorization header, from
/// the corpus's profile.
fn set_up(path: &std::path::Path) -> Result<(reqwest::Client, String, Vec<String>), String> {
    let profile = Profile::load(path, &Env::from_process(), &Redactor::new()).map_err(|d| {
        d.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let base = profile
        .target
        .clone()
        .ok_or("the profile names no target")?;
    let url = url::Url::parse(&base).map_err(|e| format!("target {base}: {e}"))?;
    if !matches!(url.host_str(), Some("127.0.0.1" | "localhost")) {
        return Err(format!(
            "target {base}: loopback only (127.0.0.1 or localhost)"
        ));
    }
    let client = Transport::new(&base, &profile)?.http_client();
    let auth = (1..=AGENTS)
        .map(|k| {
            let (_, a) = profile
                .agent(&format!("r{k}"))
                .ok_or_else(|| format!("no agent for role r{k}"))?;
            let pair = format!("{}:{}", a.username, a.password.expose());
            let token = base64::engine::general_purpose::STANDARD.encode(pair);
            Ok(format!("Basic {token}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok((
        client,
        format!("{}/api/v2/me", base.trim_end_matches('/')),
        auth,
    ))
}

/// Sends the N requests, `jobs` at a time; returns how many answers were unexpected.
async fn send_all(
    client: &reqwest::Client,
    target: &str,
    auth: &[String],
    n: usize,
    jobs: usize,
) -> usize {
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
