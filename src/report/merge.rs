//! `merge`: one report from the shard reports of a partitioned run (`run --partition hash:K/N`).
//!
//! Shards must test the same suite (every case file and schema, byte for byte, the same harness,
//! filters and baseline) against the same target; together they must cover every shard exactly once.
//! Their profiles may differ (each shard may log in as its own users, so that parallel shards never
//! share an agent): the merged report records each shard's profile and its SHA-256. Cases come out
//! in case-id order, the order of an unsharded run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::json::{MergedPart, Report};
use super::judge::Judgement;
use crate::plan::Partition;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give two or more reports")]
    Empty,
    #[error("{} and {} are not shards of one run: {detail}; refusing to merge (shards must test the same suite against the same target; their profiles may differ)", a.display(), b.display())]
    DifferentInputs {
        a: PathBuf,
        b: PathBuf,
        detail: String,
    },
    #[error("case `{id}` is in both {} and {}", a.display(), b.display())]
    Duplicate { id: String, a: PathBuf, b: PathBuf },
    #[error("{}: {detail}", path.display())]
    Shards { path: PathBuf, detail: String },
    #[error("the shards do not cover the suite: {0}")]
    Coverage(String),
}

/// Merges shard reports, each with the path it was read from (for messages).
pub fn merge(parts: &[(PathBuf, Report)]) -> Result<Report, MergeError> {
    let Some((first_path, first)) = parts.first() else {
        return Err(MergeError::Empty);
    };
    for (path, r) in &parts[1..] {
        same_inputs(first_path, first, path, r)?;
    }

    // Shard coverage: all of hash:1/N..N/N, once each; or unpartitioned reports (with disjoint cases).
    let mut shards: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    let mut split: Option<Partition> = None;
    for (path, r) in parts {
        let Some(p) = &r.run.selection.partition else {
            continue;
        };
        let p: Partition = p.parse().map_err(|e| MergeError::Shards {
            path: path.clone(),
            detail: format!("bad partition: {e}"),
        })?;
        // Shard 1 of each report's split: equal when the reports are shards of one split.
        let first_of = |p: Partition| Partition { shard: 1, ..p }.to_string();
        let split = *split.get_or_insert(p);
        if first_of(split) != first_of(p) {
            return Err(MergeError::Shards {
                path: path.clone(),
                detail: format!("is shard {p} but another report is shard {split}"),
            });
        }
        if let Some(other) = shards.insert(p.shard, path) {
            return Err(MergeError::Shards {
                path: path.clone(),
                detail: format!("shard {p} is also {}", other.display()),
            });
        }
    }
    if let Some(split) = split {
        if shards.len() != parts.len() {
            return Err(MergeError::Coverage(
                "some reports are shards and others are not".into(),
            ));
        }
        let missing: Vec<String> = (1..=split.count)
            .filter(|k| !shards.contains_key(k))
            .map(|k| Partition { shard: k, ..split }.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(MergeError::Coverage(format!(
                "missing {}",
                missing.join(", ")
            )));
        }
    }

    let mut cases = Vec::new();
    let mut owner: BTreeMap<String, &PathBuf> = BTreeMap::new();
    for (path, r) in parts {
        for c in &r.cases {
            if let Some(a) = owner.insert(c.id.clone(), path) {
                return Err(MergeError::Duplicate {
                    id: c.id.clone(),
                    a: a.clone(),
                    b: path.clone(),
                });
            }
            cases.push(c.clone());
        }
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));

    // Counted again from the cases, as one run counts them (a shard's tally knows only its part).
    let mut judgement = Judgement::new(first.baseline.clone());
    cases.iter().for_each(|c| judgement.add(c));
    let complete = parts.iter().all(|(_, r)| r.summary.complete);
    let unreachable = parts
        .iter()
        .find_map(|(_, r)| r.summary.unreachable.clone());
    // An incomplete shard that could reach its target was interrupted.
    let summary = judgement.summary(
        None,
        !complete && unreachable.is_none(),
        unreachable,
        parts
            .iter()
            .map(|(_, r)| r.summary.finished_at.clone())
            .max()
            .unwrap_or_default(),
        parts
            .iter()
            .map(|(_, r)| r.summary.duration_ms)
            .max()
            .unwrap_or_default(),
    );

    let mut run = first.run.clone();
    let mut ids: Vec<&str> = parts.iter().map(|(_, r)| r.run.run_id.as_str()).collect();
    ids.sort_unstable();
    run.run_id = format!(
        "merged-{}",
        &crate::load::sha256_hex(ids.join("\n").as_bytes())[..12]
    );
    run.started_at = parts
        .iter()
        .map(|(_, r)| r.run.started_at.clone())
        .min()
        .unwrap_or_default();
    run.selection.partition = None;
    run.planned = parts.iter().map(|(_, r)| r.run.planned).sum();
    let mut merged_from: Vec<MergedPart> = parts
        .iter()
        .map(|(_, r)| {
            let (profile, profile_sha256) = profile_of(r);
            MergedPart {
                run_id: r.run.run_id.clone(),
                partition: r.run.selection.partition.clone(),
                cases: r.cases.len(),
                complete: r.summary.complete,
                profile,
                profile_sha256: Some(profile_sha256),
            }
        })
        .collect();
    merged_from
        .sort_by(|a, b| (a.partition.as_ref(), &a.run_id).cmp(&(b.partition.as_ref(), &b.run_id)));
    Ok(Report {
        format: first.format.clone(),
        run,
        baseline: first.baseline.clone(),
        merged_from,
        cases,
        summary,
    })
}

fn same_inputs(a_path: &Path, a: &Report, b_path: &Path, b: &Report) -> Result<(), MergeError> {
    let differ = |detail: String| MergeError::DifferentInputs {
        a: a_path.to_path_buf(),
        b: b_path.to_path_buf(),
        detail,
    };
    if a.run.harness_version != b.run.harness_version {
        return Err(differ(format!(
            "harness {} against {}",
            a.run.harness_version, b.run.harness_version
        )));
    }
    let (fa, fb) = (suite_files(a), suite_files(b));
    for (path, sha) in &fa {
        match fb.get(path) {
            None => return Err(differ(format!("{path} is only in the first"))),
            Some(other) if other != sha => {
                return Err(differ(format!(
                    "{path} differs (sha256 {} against {})",
                    &sha[..sha.len().min(12)],
                    &other[..other.len().min(12)]
                )))
            }
            Some(_) => {}
        }
    }
    if let Some(path) = fb.keys().find(|p| !fa.contains_key(*p)) {
        return Err(differ(format!("{path} is only in the second")));
    }
    if a.run.selection.filters != b.run.selection.filters {
        return Err(differ(format!(
            "the case filters differ ({:?} against {:?})",
            a.run.selection.filters, b.run.selection.filters
        )));
    }
    let (ta, tb) = (&a.run.target, &b.run.target);
    // Each embedded run listens on its own port: for those, only the server version must agree.
    if ta.embedded != tb.embedded || (!ta.embedded && ta.url != tb.url) {
        return Err(differ(format!("targets {} against {}", ta.url, tb.url)));
    }
    if ta.server_version != tb.server_version {
        return Err(differ(format!(
            "server versions {:?} against {:?}",
            ta.server_version, tb.server_version
        )));
    }
    let base = |r: &Report| {
        r.baseline
            .as_ref()
            .map(|b| (b.sha256.clone(), b.entries.clone()))
    };
    if base(a) != base(b) {
        return Err(differ("the known-failures baselines differ".into()));
    }
    Ok(())
}

/// The files a shard's profile brought in (the profile itself, its CA bundle): shards may each have
/// their own, so they are not part of what must agree.
fn profile_files(r: &Report) -> Vec<&str> {
    ["file", "ca_file"]
        .iter()
        .filter_map(|k| r.run.profile.get(*k).and_then(|v| v.as_str()))
        .collect()
}

/// Every input but the profile's own files: the case files, schemas and variables the verdicts rest on.
pub(crate) fn suite_files(r: &Report) -> BTreeMap<String, String> {
    let own = profile_files(r);
    r.run
        .inputs
        .iter()
        .filter(|i| !own.contains(&i.path.as_str()))
        .map(|i| (i.path.clone(), i.sha256.to_string()))
        .collect()
}

/// A shard's profile as the merged report records it: its file (or name, for a profile from the
/// environment) and a SHA-256 of the file, or of the redacted profile when there is no file.
fn profile_of(r: &Report) -> (Option<String>, String) {
    let p = &r.run.profile;
    let file = p.get("file").and_then(|v| v.as_str());
    let digest = file
        .and_then(|f| r.run.inputs.iter().find(|i| i.path == f))
        .map(|i| i.sha256.to_string())
        .unwrap_or_else(|| crate::load::sha256_hex(p.to_string().as_bytes()));
    let shown = file.or_else(|| p.get("name").and_then(|v| v.as_str()));
    (shown.map(str::to_string), digest)
}
