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
    /// What kind of transport error `error` is: the runner and check decide by it, never by text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    /// Made by the harness itself (a CSRF token fetch, the REST login before CometD), not by the
    /// case: a setup request, whose failure is a setup error, never the case's failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_harness: bool,
    pub duration_ms: u64,
    /// Why the harness sent this request or did not take its answer as the step's (a CSRF token
    /// fetched again after the session changed, a refusal retried once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a request got no usable answer, by kind (the text is in `Exchange::error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The target could not be reached at all.
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// The body went over the size cap.
    BodyTooLarge,
    /// An answer that is not HTTP, or broke off in a way that is the server's answer.
    Protocol,
    /// The connection closed or reset before any answer came.
    Dropped,
}

impl ErrorKind {
    /// Whether the target could not be reached at all (as opposed to answering badly).
    pub fn is_unreachable(self) -> bool {
        self == ErrorKind::Connect
    }

    /// Whether the target gave no answer at all: it could not be reached, dropped the connection
    /// before answering, or did not finish answering in time.
    pub fn got_no_answer(self) -> bool {
        matches!(
            self,
            ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Dropped
        )
    }
}
