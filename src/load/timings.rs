//! `--timings report.json`: how long each case took in an earlier run, for the scheduler's expected
//! durations and for `--partition time:K/N`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Each case's duration in an earlier run, by case id. Cases that were skipped or not run there
/// are left out (their 0 ms says nothing), so the planner estimates them.
#[derive(Debug, Clone, Default)]
pub struct Timings(Arc<HashMap<String, u64>>);

#[derive(Debug, thiserror::Error)]
pub enum TimingsError {
    #[error("--timings {path}: cannot read it: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("--timings {path}: not a gws-conform report.json: {why}")]
    Shape { path: String, why: String },
}

impl Timings {
    pub fn read(path: &Path) -> Result<Timings, TimingsError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TimingsError::Read {
            path: shown.clone(),
            source,
        })?;
        Timings::parse(&text).map_err(|why| TimingsError::Shape { path: shown, why })
    }

    pub fn parse(text: &str) -> Result<Timings, String> {
        #[derive(serde::Deserialize)]
        struct Report {
            cases: Vec<Case>,
        }
        #[derive(serde::Deserialize)]
        struct Case {
            id: String,
            verdict: String,
            duration_ms: u64,
        }
        let report: Report = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let ran = report
            .cases
            .into_iter()
            .filter(|c| c.verdict != "skip" && c.verdict != "not-run")
            .map(|c| (c.id, c.duration_ms));
        Ok(Timings(Arc::new(ran.collect())))
    }

    /// The case's duration in the earlier run, when it ran there.
    pub fn get(&self, id: &str) -> Option<u64> {
        self.0.get(id).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cases_that_ran_give_a_duration() {
        let t = Timings::parse(
            r#"{"cases": [{"id": "a", "verdict": "pass", "duration_ms": 120},
                          {"id": "b", "verdict": "skip", "duration_ms": 0}], "other": 1}"#,
        )
        .unwrap();
        assert_eq!(t.get("a"), Some(120));
        assert_eq!(t.get("b"), None);
        assert!(Timings::parse("{}").unwrap_err().contains("cases"));
    }
}
