//! One self-contained HTML file for auditors: no network fetch (a Content-Security-Policy forbids
//! any), the verdict first, then a verdict per documented sample, the traceability matrix from every
//! spec element to the cases covering it, and every case with its checks, diffs and exchanges
//! (`<details>`, expandable without script).
//!
//! Stable hooks for tests and tooling: `#verdict[data-verdict]`, `#counts [data-count]`,
//! `#samples tr[data-element]`, `#matrix tr[data-element]`, `details.case[data-status]`, `pre.diff`.

use std::fmt::Write as _;
use std::io::{self, Read, Seek, Write};

use super::coverage::{traceability, ElementStatus};
use super::format::{Sink, Spool, Writer};
use super::headline::{headline, verdict_class};
use super::index::Index;
use super::markup::esc;
use super::status::CaseStatus;
use crate::execute::Exchange;
use crate::record::{CaseResult, KnownOutcome, KnownStatus, Level, StepResult};

const STYLE: &str = r#"
:root{--pass:#1a7f37;--fail:#cf222e;--known:#9a6700;--warn:#bf8700;--skip:#6e7781;--bg:#f6f8fa;--line:#d0d7de;--text:#1f2328}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--text);margin:0;background:#fff}
main{max-width:1180px;margin:0 auto;padding:0 20px 40px}
h1{font-size:18px;margin:0;font-weight:600;opacity:.9}
h2{font-size:19px;margin:34px 0 10px;border-bottom:1px solid var(--line);padding-bottom:6px}
code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13px}
#verdict{color:#fff;padding:22px 20px 18px}
#verdict .inner{max-width:1180px;margin:0 auto;padding:0 20px}
#verdict.pass{background:var(--pass)}#verdict.fail{background:var(--fail)}#verdict.incomplete{background:var(--known)}#verdict.warn{background:var(--warn)}
#verdict .word{font-size:44px;font-weight:800;letter-spacing:.04em;line-height:1.1;margin:6px 0}
#verdict p{font-size:17px;margin:4px 0 0;max-width:900px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:14px 0 0}
.meta dt{font-weight:600}.meta dd{margin:0;word-break:break-all}
#verdict .meta{opacity:.92;font-size:13px}
#counts{display:flex;gap:12px;flex-wrap:wrap;margin:18px 0 0}
.count{border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:120px;background:var(--bg)}
.count b{display:block;font-size:28px;line-height:1.1}
.count.warn b{color:var(--warn)}.count.pass b{color:var(--pass)}.count.fail b{color:var(--fail)}.count.known b{color:var(--known)}.count.skip b,.count.notrun b{color:var(--skip)}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}
.badge{display:inline-block;border-radius:999px;padding:1px 10px;font-size:12px;font-weight:700;color:#fff;white-space:nowrap}
.badge.warn,.badge.partial{background:var(--warn)}.badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}.badge.known,.badge.fixed{background:var(--known)}
.badge.skip,.badge.none{background:var(--skip)}
.chip{display:inline-block;margin:2px 4px 2px 0;padding:1px 6px;border-radius:6px;border:1px solid var(--line);text-decoration:none;color:var(--text);font-size:13px;white-space:nowrap}
.chip.warn{border-color:var(--warn);background:#fff8c5}.chip.warn .v{color:var(--warn)}.chip.pass{border-color:var(--pass)}.chip.fail{border-color:var(--fail);background:#ffebe9}.chip.known,.chip.fixed{border-color:var(--known);background:#fff8c5}.chip.skip{border-style:dashed}
.chip .v{font-weight:700}.chip.pass .v{color:var(--pass)}.chip.fail .v{color:var(--fail)}.chip.known .v,.chip.fixed .v{color:var(--known)}.chip.skip .v{color:var(--skip)}
.prov{display:inline-block;font-size:11px;font-weight:700;border-radius:4px;padding:0 4px;margin-left:3px;border:1px solid}
.prov.documented{color:#0550ae;border-color:#0550ae}.prov.observed{color:#8250df;border-color:#8250df}.prov.inferred{color:#6e7781;border-color:#6e7781;border-style:dashed}
tr.el-none td:first-child,tr.el-none td:nth-child(3){color:var(--fail)}
details.case{border:1px solid var(--line);border-radius:8px;margin:8px 0;background:#fff}
details.case>summary{cursor:pointer;padding:8px 12px;list-style-position:inside}
details.case[data-status=fail]{border-left:6px solid var(--fail)}details.case[data-status=warn]{border-left:6px solid var(--warn)}
details.case[data-status=known],details.case[data-status=fixed]{border-left:6px solid var(--known)}
details.case[data-status=pass]{border-left:6px solid var(--pass)}
details.case[data-status=skip]{border-left:6px solid var(--skip)}
details.case .title{margin-left:6px}
details.case .spec{color:var(--skip);font-size:13px;margin-left:6px}
.casebody{padding:4px 16px 14px;border-top:1px solid var(--line)}
.step{margin:14px 0 0}
.step h4{margin:0 0 6px;font-size:14px}
.checks td.r{width:70px}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:8px 10px;overflow-x:auto;white-space:pre-wrap;word-break:break-word;margin:6px 0}
pre.diff .add{background:#dafbe1;color:#116329;display:block}pre.diff .del{background:#ffebe9;color:#82071e;display:block}pre.diff .hunk{color:#8250df;display:block}
.diffnote{font-size:12px;color:var(--skip);margin:6px 0 0}
details.exchange{margin:6px 0}details.exchange>summary{cursor:pointer;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px}
.reason{font-weight:600}
.known-note{background:#fff8c5;border:1px solid var(--known);border-radius:6px;padding:6px 10px;margin:8px 0}
.muted{color:var(--skip)}
footer{margin-top:40px;color:var(--skip);font-size:12px}
"#;

/// Opens a case's `<details>` when the page is opened at, or navigates to, its anchor.
const SCRIPT: &str = "function openHash(){var e=document.getElementById(decodeURIComponent(location.hash.slice(1)));if(e&&e.tagName==='DETAILS'){e.open=true;}}window.addEventListener('hashchange',openHash);openHash();";

/// The summary parts, then every case, failures first: each case is rendered as it is read into a
/// spool (a temporary file), and copied from there in that order at the end.
pub struct Html {
    spool: Option<io::BufWriter<Box<dyn Spool>>>,
    /// Where each case's HTML is in the spool, in report order.
    spans: Vec<(u64, usize)>,
    at: u64,
    text: String,
}

impl Html {
    pub fn new(spool: Box<dyn Spool>) -> Html {
        Html {
            spool: Some(io::BufWriter::with_capacity(1 << 16, spool)),
            spans: Vec::new(),
            at: 0,
            text: String::new(),
        }
    }
}

impl Writer for Html {
    fn begin(&mut self, index: &Index, h: &mut Sink) -> io::Result<()> {
        begin(index, h)
    }

    fn case(&mut self, index: &Index, n: usize, c: &CaseResult, _: &mut Sink) -> io::Result<()> {
        self.text.clear();
        case_html(
            &mut self.text,
            index.cases[n].status,
            index.summary().known_for(&c.id),
            c,
        );
        let text = &self.text;
        let spool = self.spool.as_mut().ok_or_else(spool_gone)?;
        spool.write_all(text.as_bytes())?;
        self.spans.push((self.at, text.len()));
        self.at += text.len() as u64;
        Ok(())
    }

    fn end(&mut self, index: &Index, h: &mut Sink) -> io::Result<()> {
        // Every case, failures first.
        let mut spool = self
            .spool
            .take()
            .ok_or_else(spool_gone)?
            .into_inner()
            .map_err(|e| e.into_error())?;
        let rank = |st: CaseStatus| match st {
            CaseStatus::Fail => 0,
            CaseStatus::Warn => 1,
            CaseStatus::NotRun => 2,
            CaseStatus::Known => 3,
            CaseStatus::Fixed => 4,
            CaseStatus::Skip => 5,
            CaseStatus::Pass => 6,
        };
        let mut order: Vec<usize> = (0..self.spans.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&index.cases[a], &index.cases[b]);
            (rank(a.status), &a.id).cmp(&(rank(b.status), &b.id))
        });
        let mut bytes = Vec::new();
        for i in order {
            let (at, len) = self.spans[i];
            spool.seek(io::SeekFrom::Start(at))?;
            bytes.resize(len, 0);
            spool.read_exact(&mut bytes)?;
            h.write_bytes(&bytes)?;
        }
        end(index, h)
    }
}

fn spool_gone() -> io::Error {
    io::Error::other("the HTML case spool is closed")
}

fn begin(index: &Index, h: &mut Sink) -> io::Result<()> {
    let r = &index.head;
    let s = &r.summary;
    let (word, line) = headline(r);
    let vclass = verdict_class(s);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{word}: GWS StartContactCenterSession conformance, {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&r.run.target.url)
    );

    // The verdict.
    let _ = write!(
        h,
        "<header id=\"verdict\" class=\"{vclass}\" data-verdict=\"{}\"><div class=\"inner\">\
<h1>Conformance of GWS StartContactCenterSession (POST /api/v2/me)</h1>\
<div class=\"word\">{}</div><p>{}</p><dl class=\"meta\">",
        vclass,
        esc(&word),
        esc(&line)
    );
    let mut meta: Vec<(&str, String)> = vec![("Target", r.run.target.url.clone())];
    if r.run.target.embedded {
        meta[0].1.push_str(" (gws-conform's own reference server)");
    }
    if let Some(v) = &r.run.target.server_version {
        meta.push(("Server version", v.clone()));
    }
    meta.push((
        "Run",
        format!(
            "{} · started {} · {} ms",
            r.run.run_id, r.run.started_at, s.duration_ms
        ),
    ));
    meta.push(("Harness", format!("gws-conform {}", r.run.harness_version)));
    if let Some(name) = r.run.profile.get("name").and_then(|n| n.as_str()) {
        meta.push(("Profile", name.to_string()));
    }
    if let Some(p) = &r.run.selection.partition {
        meta.push(("Shard", p.clone()));
    }
    if !r.merged_from.is_empty() {
        let parts: Vec<String> = r
            .merged_from
            .iter()
            .map(|m| {
                format!(
                    "{} ({} cases)",
                    m.partition.as_deref().unwrap_or(&m.run_id),
                    m.cases
                )
            })
            .collect();
        meta.push(("Merged from", parts.join(", ")));
    }
    for (k, v) in meta {
        let _ = write!(h, "<dt>{k}</dt><dd>{}</dd>", esc(&v));
    }
    h.push_str("</dl></div></header>\n<main>\n");

    // The counts.
    let counts = [
        ("pass", "passed", s.tally.passed),
        ("warn", "warnings", s.tally.warned),
        ("fail", "failed", s.unexcused_failures()),
        ("known", "known failures", s.count_known(KnownStatus::Known)),
        ("skip", "skipped", s.tally.skipped),
        ("notrun", "not run", s.tally.not_run),
        ("total", "cases", s.tally.total),
    ];
    h.push_str("<section id=\"counts\">");
    for (class, label, n) in counts {
        let _ = write!(
            h,
            "<div class=\"count {class}\" data-count=\"{class}\"><b>{n}</b>{label}</div>"
        );
    }
    h.push_str("</section>\n");
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
                esc(u.reason.as_deref().unwrap_or_default())
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

    let _ = writeln!(
        h,
        "<section id=\"cases\"><h2>Cases ({})</h2><p class=\"muted\">Failures first. Click a case to see its checks, diffs and HTTP exchanges (secrets are shown as ***).</p>",
        index.cases.len()
    );
    h.emit()
}

fn end(index: &Index, h: &mut Sink) -> io::Result<()> {
    let r = &index.head;
    h.push_str("</section>\n");

    // Inputs.
    h.push_str("<section id=\"inputs\"><h2>Inputs</h2><p>The files the verdicts rest on, with their SHA-256. <code>gws-conform verify report.json</code> checks a working tree against them.</p><table><thead><tr><th>File</th><th>SHA-256</th></tr></thead><tbody>\n");
    for i in &r.run.inputs {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td class=\"mono\">{}</td></tr>",
            esc(&i.path),
            esc(&i.sha256)
        );
        h.emit()?;
    }
    if let Some(b) = &r.baseline {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code> (baseline, judged on {})</td><td class=\"mono\">{}</td></tr>",
            esc(&b.file),
            esc(&b.today),
            esc(&b.sha256)
        );
    }
    h.push_str("</tbody></table>\n");
    let profile = serde_json::to_string_pretty(&r.run.profile).unwrap_or_default();
    let _ = writeln!(
        h,
        "<details class=\"exchange\"><summary>Target profile (secrets redacted)</summary><pre>{}</pre></details></section>",
        esc(&profile)
    );
    let _ = write!(
        h,
        "<footer>gws-conform {} · report format {} · rendered from report.json; re-render with <code>gws-conform report report.json --format html</code></footer>\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        esc(&r.run.harness_version),
        esc(&r.format)
    );
    h.emit()
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

fn case_html(h: &mut String, st: CaseStatus, known: Option<&KnownOutcome>, c: &CaseResult) {
    let _ = write!(
        h,
        "<details class=\"case\" id=\"case-{}\" data-status=\"{}\"><summary><span class=\"badge {}\">{}</span> <code>{}</code><span class=\"title\">{}</span><span class=\"spec\">{}</span>{}</summary><div class=\"casebody\">",
        attr(&c.id),
        st.word(),
        st.word(),
        esc(st.label()),
        esc(&c.id),
        esc(&c.title),
        esc(&c.spec.join(", ")),
        prov(c.provenance.as_str())
    );
    if let Some(k) = known {
        let note = match k.status {
            KnownStatus::Known => {
                format!("Known failure, tolerated until {}: {}", k.expires, k.reason)
            }
            KnownStatus::Expired => format!(
                "Listed as a known failure, but the entry expired on {}: it fails the run. ({})",
                k.expires, k.reason
            ),
            KnownStatus::Fixed => format!(
                "Listed as a known failure ({}), but it passes: remove it from the baseline.",
                k.reason
            ),
            KnownStatus::Skipped => format!("Listed as a known failure: {}", k.reason),
        };
        let _ = write!(h, "<div class=\"known-note\">{}</div>", esc(&note));
    }
    if let Some(reason) = &c.reason {
        let _ = write!(h, "<p class=\"reason\">{}</p>", esc(reason));
    }
    h.push_str("<dl class=\"meta\">");
    let mut meta: Vec<(&str, String)> = vec![
        ("Spec", c.spec.join(", ")),
        ("Provenance", c.provenance.as_str().to_string()),
    ];
    if let Some(s) = &c.source {
        meta.push(("Source", s.clone()));
    }
    if let Some(s) = &c.rationale {
        meta.push(("Rationale", s.clone()));
    }
    if !c.tags.is_empty() {
        meta.push(("Tags", c.tags.join(", ")));
    }
    if let Some(a) = &c.agent {
        let who = match &a.user {
            Some(u) => format!("role {}, user {u}", a.role),
            None => format!("role {} (no credentials)", a.role),
        };
        meta.push(("Agent", who));
    }
    meta.push(("File", format!("{} (sha256 {})", c.file, c.sha256)));
    meta.push(("Duration", format!("{} ms", c.duration_ms)));
    for (k, v) in meta {
        let _ = write!(h, "<dt>{k}</dt><dd>{}</dd>", esc(&v));
    }
    h.push_str("</dl>");
    if let Some(s) = &c.source {
        h.push_str(&super::cited::sections_html(s));
    }
    for step in &c.steps {
        step_html(h, step);
    }
    h.push_str("</div></details>\n");
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

fn step_html(h: &mut String, step: &StepResult) {
    let state = if !step.ran {
        "<span class=\"badge skip\">not run</span> an earlier step failed".to_string()
    } else if step.passed {
        format!(
            "<span class=\"badge pass\">passed</span> <span class=\"muted\">{} ms</span>",
            step.duration_ms
        )
    } else {
        format!(
            "<span class=\"badge fail\">failed</span> <span class=\"muted\">{} ms</span>",
            step.duration_ms
        )
    };
    let _ = write!(
        h,
        "<div class=\"step\" data-passed=\"{}\"><h4>{} {state}</h4>",
        step.passed,
        esc(&step.name)
    );
    if !step.checks.is_empty() {
        h.push_str("<table class=\"checks\"><thead><tr><th>Check</th><th>Result</th><th>Expected</th><th>Actual</th></tr></thead><tbody>");
        for c in &step.checks {
            let _ = write!(
                h,
                "<tr data-passed=\"{}\"><td><code>{}</code></td><td class=\"r\">{}</td><td>{}</td><td>{}</td></tr>",
                c.passed,
                esc(&c.name),
                match (c.passed, c.level) {
                    (true, _) => "<span class=\"badge pass\">ok</span>",
                    (false, Level::Failure) => "<span class=\"badge fail\">FAIL</span>",
                    (false, Level::Warning) => {
                        "<span class=\"badge warn\" title=\"an inferred expectation: needs review\">WARN</span>"
                    }
                    (false, Level::Info) => {
                        "<span class=\"badge skip\" title=\"a cleanup step: decides nothing\">note</span>"
                    }
                },
                esc(&c.expected),
                esc(&c.actual)
            );
        }
        h.push_str("</tbody></table>");
        for c in step.checks.iter().filter(|c| !c.passed) {
            if !c.mismatches.is_empty() {
                h.push_str("<ul class=\"mismatches\">");
                for m in &c.mismatches {
                    let _ = write!(
                        h,
                        "<li><code>{}</code>: {}</li>",
                        esc(&m.path),
                        esc(&m.message)
                    );
                }
                h.push_str("</ul>");
            }
            if let Some(d) = c.diff.as_deref().filter(|d| !d.trim().is_empty()) {
                let _ = write!(
                    h,
                    "<p class=\"diffnote\"><code>{}</code>: <span style=\"color:#82071e\">- expected</span> / <span style=\"color:#116329\">+ actual</span></p><pre class=\"diff\" data-check=\"{}\">",
                    esc(&c.name),
                    attr(&c.name)
                );
                for l in d.lines() {
                    let class = if l.starts_with("@@") {
                        "hunk"
                    } else if l.starts_with('+') && !l.starts_with("+++") {
                        "add"
                    } else if l.starts_with('-') && !l.starts_with("---") {
                        "del"
                    } else {
                        ""
                    };
                    if class.is_empty() {
                        let _ = writeln!(h, "{}", esc(l));
                    } else {
                        let _ = write!(h, "<span class=\"{class}\">{}</span>", esc(l));
                    }
                }
                h.push_str("</pre>");
            }
        }
    }
    for ex in &step.exchanges {
        exchange_html(h, ex);
    }
    for note in &step.notes {
        let _ = write!(h, "<p class=\"muted note\">note: {}</p>", esc(note));
    }
    if !step.notifications.is_empty() {
        let _ = write!(
            h,
            "<details class=\"exchange notifications\"><summary>CometD notifications received ({})</summary>",
            step.notifications.len()
        );
        for n in &step.notifications {
            let matched = if n.matched.is_empty() {
                "unexpected".to_string()
            } else {
                "matched an expectation".to_string()
            };
            let body = serde_json::to_string_pretty(&n.message).unwrap_or_default();
            let _ = write!(
                h,
                "<pre class=\"notification\">{} at {} ms ({matched})\n{}</pre>",
                esc(&n.channel),
                n.at_ms,
                esc(&body)
            );
        }
        h.push_str("</details>");
    }
    h.push_str("</div>");
}

fn exchange_html(h: &mut String, ex: &Exchange) {
    let answer = match (&ex.response, &ex.error) {
        (Some(r), _) => r.status.to_string(),
        (None, Some(e)) => format!("no answer: {e}"),
        (None, None) => "no answer".to_string(),
    };
    let _ = write!(
        h,
        "<details class=\"exchange\"><summary>{} {} → {} <span class=\"muted\">({} ms)</span></summary>",
        esc(&ex.request.method),
        esc(&ex.request.url),
        esc(&answer),
        ex.duration_ms
    );
    let mut req = format!("{} {}\n", ex.request.method, ex.request.url);
    for (k, v) in &ex.request.headers {
        req.push_str(&format!("{k}: {v}\n"));
    }
    if let Some(b) = &ex.request.body {
        req.push('\n');
        req.push_str(b);
    }
    let _ = write!(h, "<pre class=\"request\">{}</pre>", esc(&req));
    if let Some(resp) = &ex.response {
        let mut text = format!("HTTP {}\n", resp.status);
        for (k, v) in &resp.headers {
            text.push_str(&format!("{k}: {v}\n"));
        }
        text.push('\n');
        match &resp.body_text {
            Some(b) => text.push_str(&pretty(b)),
            None => text.push_str("(body is not UTF-8 text)"),
        }
        let _ = write!(h, "<pre class=\"response\">{}</pre>", esc(&text));
    }
    h.push_str("</details>");
}

/// JSON bodies pretty-printed; anything else as it came.
fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_string())
}

fn el_badge(s: ElementStatus) -> String {
    format!("<span class=\"badge {}\">{}</span>", s.word(), s.label())
}

fn prov(p: &str) -> String {
    format!("<span class=\"prov {p}\" title=\"provenance: {p}\">{p}</span>")
}

fn attr(s: &str) -> String {
    esc(s)
}
