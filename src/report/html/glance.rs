//! What a reader needs first, after the counts: the preflight, what failed, what needs review,
//! samples not tested in full, and known failures that now pass.

use std::fmt::Write as _;
use std::io;

use super::case::prov;
use super::{attr, el_badge};
use crate::record::KnownStatus;
use crate::report::format::Sink;
use crate::report::index::Index;
use crate::report::markup::{esc, esc_code};
use crate::report::status::CaseStatus;

pub(super) fn sections(index: &Index, h: &mut Sink) -> io::Result<()> {
    let r = &index.head;
    let s = &r.summary;
    if let Some(p) = &r.run.preflight {
        preflight_html(h, p);
    }

    // Failures, then warnings, at a glance.
    case_list(
        h,
        index,
        CaseStatus::Fail,
        "<section id=\"failures\"><h2>What failed</h2><ul>",
    )?;
    case_list(
        h,
        index,
        CaseStatus::Warn,
        "<section id=\"warnings\"><h2>Needs review (warnings)</h2><p>An inferred expectation was not met: no source states it, so a conforming server may answer so. Each lists what was tried. They fail the run only under <code>--strict</code>.</p><ul>",
    )?;
    let untested: Vec<_> = s.untested_samples().collect();
    if !untested.is_empty() {
        h.push_str("<section id=\"untested\"><h2>Samples not tested in full</h2><ul>");
        for u in untested {
            let _ = write!(
                h,
                "<li><b>{}</b> {}: {}</li>",
                esc(&u.element),
                el_badge(u.status),
                esc_code(u.reason.as_deref().unwrap_or_default())
            );
        }
        h.push_str("</ul></section>\n");
    }
    let fixed: Vec<_> = s.known_with(KnownStatus::Fixed).collect();
    if !fixed.is_empty() {
        h.push_str("<section id=\"fixed\"><h2>Known failures that now pass</h2><p>Remove them from the baseline:</p><ul>");
        for k in fixed {
            let _ = write!(
                h,
                "<li><a href=\"#case-{}\"><code>{}</code></a>: {}</li>",
                attr(&k.case),
                esc(&k.case),
                esc(&k.reason)
            );
            h.emit()?;
        }
        h.push_str("</ul></section>\n");
    }
    Ok(())
}

/// The probes sent before any case: what each found, why nothing ran if so, and the hints.
fn preflight_html(h: &mut Sink, p: &crate::record::preflight::Preflight) {
    h.push_str("<section id=\"preflight\"><h2>Preflight</h2><ul>");
    for probe in &p.probes {
        let who = match &probe.user {
            Some(u) => format!(" as {u} (roles: {})", probe.roles.join(", ")),
            None => String::new(),
        };
        let error = probe
            .error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        let _ = write!(
            h,
            "<li><code>{}</code>{}: {}{}</li>",
            esc(&probe.request),
            esc(&who),
            esc(&probe.found),
            esc(&error)
        );
    }
    h.push_str("</ul>");
    if let Some(reason) = &p.reason {
        let _ = write!(h, "<p><b>No case was run:</b> {}</p>", esc(reason));
    }
    for hint in &p.hints {
        let _ = write!(h, "<p>Hint: {}</p>", esc(hint));
    }
    h.push_str("</section>\n");
}

/// A section listing the cases of one status with their first failure, linked to their details;
/// nothing when there is none.
fn case_list(h: &mut Sink, index: &Index, status: CaseStatus, opening: &str) -> io::Result<()> {
    let cases: Vec<_> = index.cases_with(status).collect();
    if cases.is_empty() {
        return Ok(());
    }
    h.push_str(opening);
    for c in &cases {
        let _ = write!(
            h,
            "<li><a href=\"#case-{}\"><code>{}</code></a> {} <span class=\"muted\">({})</span>: {}</li>",
            attr(&c.id),
            esc(&c.id),
            prov(c.provenance.as_str()),
            esc(&c.spec.join(", ")),
            esc(c.first_failure.as_deref().unwrap_or_default())
        );
        h.emit()?;
    }
    h.push_str("</ul></section>\n");
    Ok(())
}
