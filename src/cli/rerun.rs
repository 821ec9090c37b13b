//! `run --failed-from report.json`: the cases a report says failed or warned, to run again.

use std::collections::BTreeSet;
use std::path::Path;

use gws_conform::record::Verdict;
use gws_conform::report::Report;

/// The ids of the report's failed and warned cases (a failure its baseline tolerated too: it still
/// fails). Every one must still be a case of the suite; none at all is said plainly.
pub fn failed_ids<'a>(
    path: &Path,
    suite_ids: impl Iterator<Item = &'a str>,
) -> Result<BTreeSet<String>, String> {
    let report = Report::read(path).map_err(|e| e.to_string())?;
    let ids: BTreeSet<String> = report
        .cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Warn))
        .map(|c| c.id.clone())
        .collect();
    let known: BTreeSet<&str> = suite_ids.collect();
    let gone: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|id| !known.contains(id))
        .collect();
    if !gone.is_empty() {
        return Err(format!(
            "{}: case(s) {} failed there but are not in this suite",
            path.display(),
            gone.join(", ")
        ));
    }
    Ok(ids)
}
