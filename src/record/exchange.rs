//! What was sent and received: the exchanges a verdict rests on, as reports keep them.

use serde::{Deserialize, Serialize};

/// A request as sent, with secrets replaced.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RequestRecord {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A response as received. `body_text` is `None` when the body is not UTF-8.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResponseRecord {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub body_text: Option<String>,
    pub body_bytes: usize,
}

/// One request and what came of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Exchange {
    pub request: RequestRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// Why the harness sent this request or did not take its answer as the step's (a CSRF token
    /// fetched again after the session changed, a refusal retried once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
