//! How bodies go on the wire: JSON text, content types, gzip and chunked framing. The REST layer and
//! the CometD transports both answer through here, so the wire variants apply to every response.

use std::convert::Infallible;
use std::io::Write;

use axum::body::{Body, Bytes};
use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use axum::http::response::Builder;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use serde_json::Value;

use crate::variant::{Variant, Variants};

/// The kinds of body the server sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Media {
    Json,
    Text,
    Html,
}

/// The wire settings of one response: the server's variants and what the request accepts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wire {
    variants: Variants,
    gzip: bool,
}

impl Wire {
    pub(crate) fn new(variants: Variants, request: &HeaderMap) -> Wire {
        let gzip = variants.has(Variant::Gzip) && accepts_gzip(request);
        Wire { variants, gzip }
    }

    /// JSON as this server writes it: compact, or pretty with reversed keys.
    pub(crate) fn json(&self, value: &Value) -> String {
        if self.variants.has(Variant::PrettyReversedJson) {
            let mut out = String::new();
            pretty_reversed(value, 0, &mut out);
            out
        } else {
            value.to_string()
        }
    }

    pub(crate) fn content_type(&self, media: Media) -> &'static str {
        let charset = self.variants.has(Variant::Charset);
        let none = self.variants.has(Variant::NoCharset);
        match media {
            Media::Json if none => "application/json",
            Media::Json if charset => "application/json; charset=utf-8",
            Media::Json => "application/json;charset=UTF-8",
            Media::Text if none => "text/plain",
            Media::Text if charset => "text/plain; charset=utf-8",
            Media::Text => "text/plain;charset=UTF-8",
            Media::Html => "text/html;charset=utf-8",
        }
    }

    /// Sets the content type, then encodes and frames `body` as the variants say.
    pub(crate) fn finish(&self, builder: Builder, media: Media, body: Vec<u8>) -> Response {
        let mut builder = builder.header(CONTENT_TYPE, self.content_type(media));
        let body = if self.gzip {
            builder = builder
                .header(CONTENT_ENCODING, HeaderValue::from_static("gzip"))
                .header(VARY, HeaderValue::from_static("Accept-Encoding"));
            gzip(&body)
        } else {
            body
        };
        let body = if self.variants.has(Variant::Chunked) {
            // A stream of unknown length: hyper frames it with Transfer-Encoding: chunked.
            let half = body.len() / 2;
            let (a, b) = body.split_at(half);
            let chunks = vec![Bytes::copy_from_slice(a), Bytes::copy_from_slice(b)];
            Body::from_stream(futures_util::stream::iter(
                chunks.into_iter().map(Ok::<_, Infallible>),
            ))
        } else {
            Body::from(body)
        };
        builder
            .body(body)
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

/// `Accept-Encoding` lists gzip (or `*`) with a non-zero quality.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// Two-space indented JSON, every object's members in reverse order.
fn pretty_reversed(value: &Value, depth: usize, out: &mut String) {
    let pad = |n: usize| "  ".repeat(n);
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push_str("{\n");
            let n = map.len();
            for (i, (k, v)) in map.iter().rev().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                pretty_reversed(v, depth + 1, out);
                out.push_str(if i + 1 < n { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, v) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                pretty_reversed(v, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_reversed_keeps_the_value_and_reverses_the_members() {
        let v = json!({"a": 1, "b": {"c": [1, {"d": "x\"y", "e": null}], "f": {}}, "g": []});
        let mut s = String::new();
        pretty_reversed(&v, 0, &mut s);
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
        assert!(s.find("\"g\"").unwrap() < s.find("\"a\"").unwrap(), "{s}");
        assert!(s.find("\"e\"").unwrap() < s.find("\"d\"").unwrap(), "{s}");
        assert!(s.contains("\n  "));
    }

    #[test]
    fn accept_encoding_is_read_with_qualities() {
        let h = |v: &'static str| {
            let mut m = HeaderMap::new();
            m.insert(ACCEPT_ENCODING, HeaderValue::from_static(v));
            m
        };
        assert!(accepts_gzip(&h("gzip")));
        assert!(accepts_gzip(&h("br, GZIP;q=0.5")));
        assert!(accepts_gzip(&h("*")));
        assert!(!accepts_gzip(&h("gzip;q=0")));
        assert!(!accepts_gzip(&h("br, deflate")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
