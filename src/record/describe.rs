//! How a case's failures are put in words: the one-line reason a result carries, the first failure
//! a summary quotes, and the full account the console and JUnit print. One module, so that every
//! output says the same thing.

use super::{CaseResult, Check, Exchange, Level, StepResult, Verdict};

/// The one-line reason of a case that failed, ended in a setup error, or warned: the first failed check at the level that
/// decided the verdict, with the answers that were tried when the step allowed several.
pub fn reason(case: &CaseResult, verdict: Verdict) -> Option<String> {
    let level = match verdict {
        Verdict::Fail => Level::Failure,
        Verdict::Warn => Level::Warning,
        Verdict::Error => Level::Setup,
        _ => return None,
    };
    let (step, check) = case.steps.iter().find_map(|s| {
        s.checks
            .iter()
            .find(|c| !c.passed && c.level == level)
            .map(|c| (s, c))
    })?;
    let mut text = format!("{}: {}", step.name, check_line(check));
    if let Some(answer) = tried(step).filter(|_| check.name != "answer") {
        text.push_str(&format!(" ({answer})"));
    }
    Some(match verdict {
        Verdict::Warn => format!("needs review: {text}"),
        Verdict::Error => format!("error (setup): {text}"),
        _ => text,
    })
}

/// `name: expected X, got Y`.
fn check_line(c: &Check) -> String {
    format!("{}: expected {}, got {}", c.name, c.expected, c.actual)
}

/// What the step's failed `answer` check says was tried.
fn tried(step: &StepResult) -> Option<&str> {
    step.checks
        .iter()
        .find(|c| c.name == "answer" && !c.passed)
        .map(|c| c.actual.as_str())
}

/// The first failure of a case, in one line (for summaries): the first differing member says more
/// than "1 difference(s)".
pub fn first_failure(case: &CaseResult) -> Option<String> {
    first_failure_in(&case.steps, case.reason.as_deref())
}

/// [`first_failure`] of a case's steps and reason, for a reader that holds only those.
pub fn first_failure_in(steps: &[StepResult], reason: Option<&str>) -> Option<String> {
    super::verdict::failures_in(steps)
        .next()
        .map(|(s, c)| match c.mismatches.first() {
            Some(m) => format!("{}: {}: {}: {}", s.name, c.name, m.path, m.message),
            None => format!("{}: {}", s.name, check_line(c)),
        })
        .or_else(|| reason.map(str::to_string))
}

/// The full account of one failed (or warned) case: each failed check, its JSON paths, and the diff.
pub fn describe_failure(f: &CaseResult) -> String {
    let mut s = format!(
        "\n---- {} ({}) [{}; {}] ----\n{}\n",
        f.id,
        f.file,
        f.spec.join(", "),
        f.provenance.as_str(),
        f.title
    );
    if let Some(src) = &f.source {
        s.push_str(&format!("spec: {src}\n"));
    }
    if let Some(a) = &f.agent {
        match &a.user {
            Some(u) => {
                let how = a
                    .scheduled
                    .as_ref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                s.push_str(&format!("agent: role `{}`, user `{u}`{how}\n", a.role));
            }
            None => s.push_str(&format!("agent: role `{}` (no credentials)\n", a.role)),
        }
    }
    for step in &f.steps {
        if !step.ran {
            s.push_str(&format!(
                "  step `{}`: not run (an earlier step failed)\n",
                step.name
            ));
            continue;
        }
        if step.passed {
            continue;
        }
        match step.attempts {
            Some(n) if n > 1 => s.push_str(&format!(
                "  step `{}` (retried: the last of {n} attempts over {} ms):\n",
                step.name, step.duration_ms
            )),
            _ => s.push_str(&format!("  step `{}`:\n", step.name)),
        }
        for c in step.checks.iter().filter(|c| !c.passed) {
            let weight = match c.level {
                Level::Failure => "",
                Level::Warning => " [warning: needs review]",
                Level::Setup => " [setup: the case could not be tested]",
                Level::Info => " [cleanup: decides nothing]",
            };
            s.push_str(&format!(
                "    {}{weight}: expected {}, got {}\n",
                c.name, c.expected, c.actual
            ));
            for m in &c.mismatches {
                s.push_str(&format!("      {}: {}\n", m.path, m.message));
            }
            if let Some(d) = &c.diff {
                for l in d.lines() {
                    s.push_str(&format!("      {l}\n"));
                }
            }
        }
        if let Some(h) = &step.hint {
            s.push_str(&format!("    hint: {h}\n"));
        }
        if let Some(e) = step.exchanges.last() {
            s.push_str(&exchange(e));
        }
    }
    s
}

/// What a step sent and got back, as a failure shows it: the request (method, path, headers as
/// recorded, with secrets already masked, and body) and the response (status, headers, body).
pub fn exchange(e: &Exchange) -> String {
    let r = &e.request;
    let mut s = format!("    request: {} {}\n", r.method, request_path(e));
    for (k, v) in &r.headers {
        s.push_str(&format!("      {k}: {v}\n"));
    }
    if let Some(b) = &r.body {
        s.push_str(&format!("      body: {}\n", cut(b, 2000)));
    }
    match (&e.response, &e.error) {
        (Some(resp), _) => {
            s.push_str(&format!("    response: HTTP {}\n", resp.status));
            for (k, v) in &resp.headers {
                s.push_str(&format!("      {k}: {v}\n"));
            }
            match &resp.body_text {
                Some(b) if !b.is_empty() => s.push_str(&format!("      body: {}\n", cut(b, 2000))),
                Some(_) => s.push_str("      body: (empty)\n"),
                None => s.push_str(&format!(
                    "      body: {} bytes, not UTF-8\n",
                    resp.body_bytes
                )),
            }
        }
        (None, Some(err)) => s.push_str(&format!("    response: none ({err})\n")),
        (None, None) => s.push_str("    response: none\n"),
    }
    s
}

/// The request's path and query, without scheme and host.
fn request_path(e: &Exchange) -> String {
    let r = &e.request;
    url::Url::parse(&r.url)
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        })
        .unwrap_or_else(|_| r.url.clone())
}

/// [`exchange`] in four lines, for a summary: the request line and body, the response's status,
/// content type and body, each body cut to `chars` (headers are in the full account).
pub fn exchange_brief(e: &Exchange, chars: usize) -> String {
    let r = &e.request;
    let mut s = format!("request: {} {}\n", r.method, request_path(e));
    if let Some(b) = &r.body {
        s.push_str(&format!("  body: {}\n", cut(b, chars)));
    }
    match (&e.response, &e.error) {
        (Some(resp), _) => {
            let kind = resp
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| format!(" ({v})"))
                .unwrap_or_default();
            s.push_str(&format!("response: HTTP {}{kind}\n", resp.status));
            match &resp.body_text {
                Some(b) if !b.is_empty() => s.push_str(&format!("  body: {}\n", cut(b, chars))),
                Some(_) => s.push_str("  body: (empty)\n"),
                None => s.push_str(&format!("  body: {} bytes, not UTF-8\n", resp.body_bytes)),
            }
        }
        (None, Some(err)) => s.push_str(&format!("response: none ({err})\n")),
        (None, None) => s.push_str("response: none\n"),
    }
    s
}

/// At most `n` characters, saying how much was left out.
fn cut(text: &str, n: usize) -> String {
    let total = text.chars().count();
    if total <= n {
        text.to_string()
    } else {
        format!(
            "{}… ({} more characters in report.json)",
            text.chars().take(n).collect::<String>(),
            total - n
        )
    }
}
