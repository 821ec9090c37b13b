//! Every case file as its own test, run against the reference server: `cargo test`, `cargo test --
//! S4` and `cargo test -- --list` behave as Rust developers expect. Trials are named
//! `<spec elements>/<case id>`, so a filter can name a sample (`S4`) or a case (`s4-partial`).
//!
//! libtest-mimic runs trials on several threads; cases of one serial group (one agent) share server
//! state, so each trial holds its group's lock while it runs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use gws_conform::execute::Transport;
use gws_conform::load::{self, Env, Sources};
use gws_conform::plan::{self, Selection};
use gws_conform::record::describe::describe_failure;
use gws_conform::record::Verdict;
use gws_conform::report::RunInfo;
use gws_conform::runner;
use gws_reference::{Directory, ServerConfig};
use libtest_mimic::{Arguments, Completion, Failed, Trial};

const AGENT_PASSWORD: &str = "cargo-test-agent-password";
const LOGIN_CODE_PASSWORD: &str = "cargo-test-login-code-password";

fn main() {
    let args = Arguments::from_args();
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let env = Env::from_process()
        .with("GWS_PASSWORD", AGENT_PASSWORD)
        .with("GWS_AGENT_LOGIN_PASSWORD", LOGIN_CODE_PASSWORD);
    let sources = Sources {
        profile: Some("profiles/reference.toml".into()),
        ..Sources::default()
    };
    let suite = match load::load_suite(&sources, &env) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            // A broken case file is a failure of the whole suite, shown as one failing test.
            let message = e.to_string();
            let trial = Trial::test("load/cases", move || Err(Failed::from(message)));
            libtest_mimic::run(&args, vec![trial]).exit();
        }
    };

    let server = runtime
        .block_on(gws_reference::start(ServerConfig {
            csrf: suite.profile.csrf,
            ..ServerConfig::new(
                ([127, 0, 0, 1], 0).into(),
                Directory::builtin(AGENT_PASSWORD, LOGIN_CODE_PASSWORD),
            )
        }))
        .expect("start the reference server on 127.0.0.1");
    let url = server.url();
    let transport = Arc::new(Transport::new(&url, &suite.profile).expect("transport"));
    let info = Arc::new(RunInfo::unreported(
        "cargo-test",
        &url,
        true,
        &suite.profile,
        1,
        1,
    ));

    let mut locks: BTreeMap<String, Arc<Mutex<()>>> = BTreeMap::new();
    let trials: Vec<Trial> = (0..suite.cases.len())
        .map(|i| {
            let case = &suite.cases[i];
            let name = format!("{}/{}", case.spec.join("+"), case.id);
            let lock = locks.entry(case.group.to_string()).or_default().clone();
            let (suite, transport, info, runtime) = (
                suite.clone(),
                transport.clone(),
                info.clone(),
                runtime.clone(),
            );
            Trial::ignorable_test(name, move || {
                let _group = lock.lock().unwrap_or_else(|p| p.into_inner());
                let case = &suite.cases[i];
                let plan = plan::plan(
                    std::slice::from_ref(case),
                    &Selection::default(),
                    &suite.profile,
                );
                let (results, _) = runtime.block_on(runner::run_collecting(
                    &suite,
                    &plan,
                    &transport,
                    1,
                    (*info).clone(),
                ));
                let result = results
                    .into_iter()
                    .next()
                    .ok_or_else(|| Failed::from("the case produced no result"))?;
                match result.verdict {
                    Verdict::Pass => Ok(Completion::Completed),
                    Verdict::Skip => {
                        Ok(Completion::ignored_with(result.reason.unwrap_or_default()))
                    }
                    // Our own server makes one of the choices each inferred case accepts: a
                    // warning here is a disagreement between the two, so it fails the test.
                    // Against the reference server every setup step can be done.
                    Verdict::Fail | Verdict::Warn | Verdict::Error => {
                        Err(Failed::from(describe_failure(&result)))
                    }
                    Verdict::NotRun => Err(Failed::from("the case was not run")),
                }
            })
            .with_kind(case.provenance.as_str())
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    runtime.block_on(server.shutdown());
    conclusion.exit();
}
