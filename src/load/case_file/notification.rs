//! One `[[steps.notifications]]` table: the channel, the window, the expected message as matchers.

use super::expected_body::parse_expected;
use super::raw::*;
use super::Problems;
use crate::load::toml_json::toml_to_json;
use crate::load::vars::Variables;
use crate::load::LoadContext;
use crate::model::*;

/// One `[[steps.notifications]]` table. Problems are added to `p`; `None` when there were any.
pub(super) fn build_notification(
    p: &mut Problems,
    field: &str,
    rn: &RawNotification,
    vars: &Variables,
    secrets: &mut Vec<String>,
    ctx: &LoadContext,
) -> Option<NotificationExpectation> {
    let before = p.list.len();
    let f = |k: &str| format!("{field}.{k}");
    let channel = rn.channel.trim().to_string();
    if !channel.starts_with('/') || channel.len() < 2 || channel.contains(char::is_whitespace) {
        p.add(
            &f("channel"),
            format!("`{channel}` is not a Bayeux channel; write e.g. \"/v2/me/devices\""),
        );
    } else if channel.starts_with("/meta/") {
        p.add(
            &f("channel"),
            "`/meta/` channels carry the protocol itself; name a channel the server publishes on",
        );
    } else if channel.contains('*') {
        p.add(
            &f("channel"),
            "wildcard channels are not supported in expectations; name the channel, e.g. \"/v2/me/devices\"",
        );
    }
    let within = match rn.within_ms {
        None => {
            p.add(
                field,
                format!("`within_ms` is required: the window (1..={MAX_WINDOW_MS} ms) after the request is sent"),
            );
            std::time::Duration::ZERO
        }
        Some(ms) if !(1..=MAX_WINDOW_MS).contains(&ms) => {
            p.add(
                &f("within_ms"),
                format!("{ms} is outside 1..={MAX_WINDOW_MS} ms"),
            );
            std::time::Duration::ZERO
        }
        Some(ms) => std::time::Duration::from_millis(ms as u64),
    };
    if let Some(schema) = &rn.schema {
        p.known_schema(&f("schema"), schema, ctx);
    }
    let mut expected = |p: &mut Problems, at: &str, v: &toml::Value| -> Option<Expected> {
        let mut value = toml_to_json(v);
        let mut s = Vec::new();
        if let Err((path, err)) = vars.interpolate_json(&mut value, &mut s) {
            p.add(&format!("{at}{path}"), err.to_string());
            return None;
        }
        secrets.extend(s);
        if !value.is_object() {
            p.add(at, "an expected message is a table, matched as a subset of the whole Bayeux message ({ channel = ..., data = { ... } })");
            return None;
        }
        match parse_expected(&value, false) {
            Ok(x) => Some(x),
            Err((path, msg)) => {
                p.add(&format!("{at}{path}"), msg);
                None
            }
        }
    };
    let body = rn.body.as_ref().and_then(|b| expected(p, &f("body"), b));
    let conflict = |p: &mut Problems, a: &str, b: &str, why: &str| {
        p.add(&f(a), format!("`{a}` cannot be combined with `{b}`: {why}"));
    };
    let kind = if let Some(seq) = &rn.sequence {
        if rn.body.is_some() {
            conflict(p, "sequence", "body", "a sequence lists its bodies itself");
        }
        if rn.absent {
            conflict(p, "sequence", "absent", "an absence has no order");
        }
        if rn.count.is_some() {
            conflict(p, "count", "sequence", "a sequence is met once, in order");
        }
        if seq.is_empty() {
            p.add(&f("sequence"), "an empty sequence expects nothing");
        }
        let items: Vec<Expected> = seq
            .iter()
            .enumerate()
            .filter_map(|(k, v)| expected(p, &f(&format!("sequence[{k}]")), v))
            .collect();
        NotificationKind::Sequence(items)
    } else if rn.absent {
        if rn.count.is_some() {
            conflict(p, "count", "absent", "an absence counts nothing");
        }
        if rn.exclusive {
            conflict(
                p,
                "exclusive",
                "absent",
                "to forbid every message on the channel, leave `body` out",
            );
        }
        if rn.schema.is_some() {
            conflict(
                p,
                "schema",
                "absent",
                "an absence matches no message to validate",
            );
        }
        NotificationKind::Absent { body }
    } else {
        let count = match rn.count {
            None => 1,
            Some(n) if n >= 1 => n as usize,
            Some(n) => {
                p.add(
                    &f("count"),
                    format!("{n} is not a count: at least 1; for none, write `absent = true`"),
                );
                1
            }
        };
        NotificationKind::AtLeast { body, count }
    };
    let settle = match rn.settle_ms {
        None => None,
        Some(_) if rn.absent => {
            conflict(
                p,
                "settle_ms",
                "absent",
                "an absence waits its whole window anyway",
            );
            None
        }
        Some(ms) if ms < 1 || ms as u128 > within.as_millis() => {
            p.add(
                &f("settle_ms"),
                format!("{ms} is outside 1..=within_ms ({} ms)", within.as_millis()),
            );
            None
        }
        Some(ms) => Some(std::time::Duration::from_millis(ms as u64)),
    };
    (p.list.len() == before).then_some(NotificationExpectation {
        channel,
        within,
        schema: rn.schema.clone(),
        kind,
        exclusive: rn.exclusive,
        provenance: rn.provenance,
        settle,
    })
}
