//! One run of the whole suite against an embedded reference server set up a given way: the engine of
//! `mutants` (one server per fault) and `variants` (one server per conforming variant).

use std::collections::BTreeMap;

use gws_conform::execute::Transport;
use gws_conform::load::{Suite, Transport as CometdTransport};
use gws_conform::plan::{self, Selection};
use gws_conform::record::Verdict;
use gws_conform::report::RunInfo;
use gws_conform::runner;
use gws_reference::{Fault, Variant};

use super::embedded::{self, Secrets};
use super::suite::load_or_report;
use super::InputArgs;

/// Each case's verdict and reason, by id.
pub struct Verdicts(pub BTreeMap<String, (Verdict, Option<String>)>);

impl Verdicts {
    /// The ids of the cases with this verdict, in id order.
    pub fn with(&self, verdict: Verdict) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(_, (v, _))| *v == verdict)
            .map(|(id, _)| id.as_str())
            .collect()
    }

    pub fn reason(&self, id: &str) -> Option<&str> {
        self.0.get(id).and_then(|(_, r)| r.as_deref())
    }
}

/// How the embedded server is set up, and how the harness talks CometD to it.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    pub fault: Option<Fault>,
    pub variants: Vec<Variant>,
    /// Overrides the profile's `transport` (a variant only a transport can show).
    pub cometd: Option<CometdTransport>,
    /// Overrides the profile's `notification_window_ms` (a slow lab's profile says so).
    pub notification_window: Option<std::time::Duration>,
}

/// The suite with the reference profile (or `--profile`), passwords filled from `secrets`.
pub fn load_suite(input: &InputArgs, secrets: &Secrets) -> Result<Suite, u8> {
    let sources = input.suite_sources(true);
    load_or_report(&sources, &secrets.env())
}

/// Servers run at once: `--jobs`, else the number of cores.
pub fn jobs(asked: Option<usize>) -> usize {
    asked
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1)
}

/// Starts a server as `setup` says, runs every case against it and stops it.
pub async fn run_against(
    suite: &Suite,
    secrets: &Secrets,
    setup: &Setup,
    run_id: &str,
) -> Result<Verdicts, String> {
    let server = embedded::start_embedded(secrets, setup.fault, &setup.variants)
        .await
        .map_err(|e| format!("cannot start the reference server: {e}"))?;
    let mut profile = suite.profile.clone();
    if let Some(t) = setup.cometd {
        profile.transport = t;
    }
    if let Some(w) = setup.notification_window {
        profile.notification_window = w;
    }
    // A deployment does not claim what it lacks: those cases skip (as `init` would write it).
    for v in &setup.variants {
        for lacked in v.lacks() {
            profile.capabilities.remove(*lacked);
        }
    }
    let transport = Transport::new(&server.url(), &profile)?;
    let plan = plan::plan(&suite.cases, &Selection::default(), &profile);
    let info = RunInfo::unreported(run_id, &server.url(), true, &profile, plan.cases.len(), 4);
    let (results, outcome) = runner::run_collecting(suite, &plan, &transport, 4, info).await;
    server.shutdown().await;
    if let Some(u) = outcome.unreachable {
        return Err(u);
    }
    Ok(Verdicts(
        results
            .into_iter()
            .map(|r| (r.id, (r.verdict, r.reason)))
            .collect(),
    ))
}
