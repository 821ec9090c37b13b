//! The page around the sections: its head (with the style and script), the verdict and the counts;
//! at the end, the inputs the verdicts rest on and the footer.

use std::fmt::Write as _;
use std::io;

use crate::report::format::Sink;
use crate::report::headline::{headline, verdict_class};
use crate::report::index::Index;
use crate::report::markup::esc;

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
#verdict.pass{background:var(--pass)}#verdict.fail{background:var(--fail)}#verdict.incomplete{background:var(--known)}#verdict.warn{background:var(--warn)}#verdict.error{background:var(--known)}
#verdict .word{font-size:44px;font-weight:800;letter-spacing:.04em;line-height:1.1;margin:6px 0}
#verdict p{font-size:17px;margin:4px 0 0;max-width:900px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:14px 0 0}
.meta dt{font-weight:600}.meta dd{margin:0;word-break:break-all}
#verdict .meta{opacity:.92;font-size:13px}
#counts{display:flex;gap:12px;flex-wrap:wrap;margin:18px 0 0}
.count{border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:120px;background:var(--bg)}
.count b{display:block;font-size:28px;line-height:1.1}
.count.warn b{color:var(--warn)}.count.pass b{color:var(--pass)}.count.fail b{color:var(--fail)}.count.known b{color:var(--known)}.count.skip b,.count.notrun b{color:var(--skip)}.count.error b,.count.expired b{color:var(--fail)}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}
.badge{display:inline-block;border-radius:999px;padding:1px 10px;font-size:12px;font-weight:700;color:#fff;white-space:nowrap}
.badge.warn,.badge.partial{background:var(--warn)}.badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}.badge.known,.badge.fixed{background:var(--known)}
.badge.skip,.badge.none{background:var(--skip)}.badge.error{background:var(--known)}
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
/// The document's head, the verdict header and the counts.
pub(super) fn start(index: &Index, h: &mut Sink) {
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
    let t = &s.tally;
    let counts = [
        ("pass", "passed", t.passed),
        ("warn", "warnings", t.warned),
        ("fail", "failed", t.failed),
        ("expired", "of them expired known failures", t.expired),
        ("known", "known failures", t.known),
        ("error", "errors (setup)", t.errors),
        ("skip", "skipped", t.skipped),
        ("notrun", "not run", t.not_run),
        ("total", "cases", t.total),
    ];
    h.push_str("<section id=\"counts\">");
    for (class, label, n) in counts {
        let _ = write!(
            h,
            "<div class=\"count {class}\" data-count=\"{class}\"><b>{n}</b>{label}</div>"
        );
    }
    h.push_str("</section>\n");
}

pub(super) fn end(index: &Index, h: &mut Sink) -> io::Result<()> {
    let r = &index.head;
    h.push_str("</section>\n");

    // Inputs.
    h.push_str("<section id=\"inputs\"><h2>Inputs</h2><p>The files the verdicts rest on, with their SHA-256. <code>gws-conform verify report.json</code> checks a working tree against them.</p><table><thead><tr><th>File</th><th>SHA-256</th></tr></thead><tbody>\n");
    for i in &r.run.inputs {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td class=\"mono\">{}</td></tr>",
            esc(&i.path),
            esc(&i.sha256.to_string())
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
    attestation(index, h);
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

/// Whether the result is signed, by which key, over which digests (`#attestation[data-signed]`).
fn attestation(index: &Index, h: &mut Sink) {
    let Some(a) = &index.attestation else {
        h.push_str("<div id=\"attestation\" data-signed=\"no\"><h3>Attestation</h3><p>Not signed. <code>gws-conform attest report.json --key KEY</code> (or <code>run --sign KEY</code>) signs the result as an in-toto attestation.</p></div>\n");
        return;
    };
    if let Some(p) = &a.problem {
        let _ = writeln!(
            h,
            "<div id=\"attestation\" data-signed=\"unreadable\"><h3>Attestation</h3><p class=\"fail\"><code>{}</code> is beside this report but cannot be read: {}</p></div>",
            esc(&a.file),
            esc(p)
        );
        return;
    }
    // Nothing here checks the signature (the page has no public key): the key the envelope names
    // is only what it claims, and the statement is matched to this report by run id and digest.
    let run_id = &index.head.run.run_id;
    let belongs = match &a.run_id {
        Some(id) if id == run_id => String::new(),
        Some(id) => format!(
            "<b class=\"fail\">It attests run <code>{}</code>, not this report's run <code>{}</code>: it belongs to an earlier run.</b> ",
            esc(id),
            esc(run_id)
        ),
        None => "<b class=\"fail\">It names no run.</b> ".to_string(),
    };
    let matches = if !belongs.is_empty() {
        ""
    } else if a.report_matches {
        "Its report.json subject is this report's digest."
    } else {
        "<b class=\"fail\">Its report.json subject is not this report's digest: the report was changed after signing.</b>"
    };
    let keys = if a.key_ids.iter().all(String::is_empty) {
        "names no key".to_string()
    } else {
        format!(
            "names key <span class=\"mono\">{}</span> (the SHA-256 of a public key)",
            esc(&a.key_ids.join(", "))
        )
    };
    let _ = write!(
        h,
        "<div id=\"attestation\" data-signed=\"unchecked\" data-run=\"{}\"><h3>Attestation</h3><p><code>{}</code>: an in-toto Statement (test-result predicate, result <b>{}</b>) in a DSSE envelope, Ed25519, that {keys} (signature not checked here; run <code>gws-conform verify report.json --attestation {} --key PUBLIC.pem</code>). {belongs}{matches}</p><table><thead><tr><th>Subject</th><th>SHA-256</th></tr></thead><tbody>",
        esc(a.run_id.as_deref().unwrap_or("")),
        esc(&a.file),
        esc(&a.result),
        esc(&a.file),
    );
    for (name, sha) in &a.subjects {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td class=\"mono\">{}</td></tr>",
            esc(name),
            esc(sha)
        );
    }
    h.push_str("</tbody></table><p class=\"muted\">The page cannot check the signature itself: <code>gws-conform verify --attestation</code> does, with the signer's public key, and re-derives the result.</p></div>\n");
}
