//! The spec's side of the page: a verdict per documented sample, the traceability matrix from every
//! spec element to its cases, and the parameter table's coverage.

use std::fmt::Write as _;
use std::io;

use super::{attr, el_badge};
use crate::report::coverage::traceability;
use crate::report::format::Sink;
use crate::report::index::Index;
use crate::report::markup::esc;

pub(super) fn sections(index: &Index, h: &mut Sink) -> io::Result<()> {
    // Samples and the traceability matrix.
    let trace = traceability(&index.cases);
    h.push_str("<section id=\"samples\"><h2>Verdict per documented sample</h2><table><thead><tr><th>Sample</th><th>What it shows</th><th>Verdict</th><th>Cases</th></tr></thead><tbody>\n");
    for t in trace.iter().filter(|t| t.kind == "sample") {
        let _ = writeln!(
            h,
            "<tr data-element=\"{}\" data-status=\"{}\"><td><b>{}</b></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            attr(&t.element),
            t.status.word(),
            esc(&t.element),
            esc(&t.what),
            el_badge(t.status),
            t.cases.len()
        );
        h.emit()?;
    }
    h.push_str("</tbody></table></section>\n");

    h.push_str("<section id=\"traceability\"><h2>Traceability matrix</h2>\
<p>Every spec element (each sample, each parameter-table row, each surrounding rule) with the cases that check it. \
Each case is marked with the basis of its expectation: \
<span class=\"prov documented\">D</span> documented (the published page says so), \
<span class=\"prov observed\">O</span> observed (seen on real GWS servers), \
<span class=\"prov inferred\">I</span> inferred (no source states it).</p>\
<table id=\"matrix\"><thead><tr><th>Spec element</th><th>Kind</th><th>Verdict</th><th>Cases and their verdicts</th></tr></thead><tbody>\n");
    for t in &trace {
        let _ = write!(
            h,
            "<tr data-element=\"{}\" data-status=\"{}\" class=\"el-{}\"><td><code>{}</code><br><span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>",
            attr(&t.element),
            t.status.word(),
            t.status.word(),
            esc(&t.element),
            esc(&t.what),
            t.kind,
            el_badge(t.status)
        );
        h.emit()?;
        if t.cases.is_empty() {
            h.push_str("<span class=\"muted\">no case covers this element</span>");
        }
        for c in &t.cases {
            let st = c.status;
            let p = c.provenance.as_str();
            let _ = write!(
                h,
                "<a class=\"chip {}\" data-case=\"{}\" href=\"#case-{}\" title=\"{}\">{} <span class=\"v\">{}</span><span class=\"prov {p}\" title=\"{p}\">{}</span></a>",
                st.word(),
                attr(&c.id),
                attr(&c.id),
                attr(&c.title),
                esc(&c.id),
                esc(st.label()),
                p[..1].to_ascii_uppercase()
            );
            h.emit()?;
        }
        h.push_str("</td></tr>\n");
        h.emit()?;
    }
    h.push_str("</tbody></table></section>\n");

    h.push_str("<section id=\"parameters\"><h2>Parameter coverage</h2>\
<p>Per row of the parameter table: the cases that send a good value (positive), a wrong value, and a value of the wrong JSON type, and how many of them are documented (the others are observed or inferred: a miss is a warning).</p>\
<table id=\"param-coverage\"><thead><tr><th>Parameter</th><th>Positive</th><th>Wrong value</th><th>Wrong type</th></tr></thead><tbody>\n");
    for t in trace.iter().filter(|t| t.kind == "parameter") {
        let k = t.kinds();
        let _ = writeln!(
            h,
            "<tr data-element=\"{}\"><td><code>{}</code></td><td data-kind=\"positive\">{}</td><td data-kind=\"wrong-value\">{}</td><td data-kind=\"wrong-type\">{}</td></tr>",
            attr(&t.element),
            esc(&t.element),
            esc(&k[0].describe()),
            esc(&k[1].describe()),
            esc(&k[2].describe())
        );
        h.emit()?;
    }
    h.push_str("</tbody></table></section>\n");
    Ok(())
}
