//! The record of a case that did not run (skipped, or never started): its header and a verdict,
//! no steps. A leaf of the runner, shared by the case runner and the live event stream.

use crate::model::CaseHeader;
use crate::record::{CaseResult, Verdict};

/// A result with the case's header and no steps yet.
pub(super) fn blank_result(header: &CaseHeader, verdict: Verdict) -> CaseResult {
    CaseResult {
        id: header.id.to_string(),
        title: header.title.to_string(),
        spec: header.spec.to_vec(),
        source: header.source().map(str::to_string),
        provenance: header.provenance,
        rationale: header.rationale().map(str::to_string),
        tags: header.tags.to_vec(),
        group: None,
        file: crate::load::display_path(&header.file.path()),
        sha256: header.sha256.hex(),
        verdict,
        reason: None,
        steps: Vec::new(),
        duration_ms: 0,
        agent: None,
        waits_for: Vec::new(),
    }
}
