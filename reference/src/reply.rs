//! What a handler answers, before the response-shaping faults and headers are applied.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::wire::Media;

/// How the body of a JSON reply is to be treated by the response-shaping faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `{"statusCode":0}` of an operation (POST /api/v2/me).
    OpSuccess,
    /// Partial success (`statusCode` 7 with arrays), already shaped by its own faults.
    Partial,
    /// A resource read (GET): statusCode 0 plus data.
    Data,
    /// `{"statusCode":N,"statusMessage":"..."}`.
    Error,
}

#[derive(Debug)]
pub(crate) enum Reply {
    Json {
        status: StatusCode,
        body: Value,
        kind: Kind,
        allow: Option<&'static str>,
    },
    Text {
        status: StatusCode,
        media: Media,
        body: String,
    },
}

impl Reply {
    pub(crate) fn op_ok() -> Reply {
        Reply::Json {
            status: StatusCode::OK,
            body: json!({ "statusCode": 0 }),
            kind: Kind::OpSuccess,
            allow: None,
        }
    }

    pub(crate) fn data(body: Value) -> Reply {
        Reply::Json {
            status: StatusCode::OK,
            body,
            kind: Kind::Data,
            allow: None,
        }
    }

    pub(crate) fn partial(body: Value) -> Reply {
        Reply::Json {
            status: StatusCode::OK,
            body,
            kind: Kind::Partial,
            allow: None,
        }
    }

    pub(crate) fn error(status: StatusCode, code: i64, message: impl Into<String>) -> Reply {
        Reply::Json {
            status,
            body: json!({ "statusCode": code, "statusMessage": message.into() }),
            kind: Kind::Error,
            allow: None,
        }
    }

    /// An error answer with a body of its own (fault `all-failed-every-channel`), left as it is by the
    /// response-shaping faults.
    pub(crate) fn error_with(status: StatusCode, body: Value) -> Reply {
        Reply::Json {
            status,
            body,
            kind: Kind::Partial,
            allow: None,
        }
    }

    /// HTTP 400 with a statusCode (1, 2, 10 or 18).
    pub(crate) fn bad(code: i64, message: impl Into<String>) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, code, message)
    }

    pub(crate) fn method_not_allowed(method: &str, allow: &'static str) -> Reply {
        Reply::Json {
            status: StatusCode::METHOD_NOT_ALLOWED,
            body: json!({
                "statusCode": 2,
                "statusMessage": format!("Request method '{method}' not supported"),
            }),
            kind: Kind::Error,
            allow: Some(allow),
        }
    }

    /// Whether this is a 2xx answer.
    pub(crate) fn is_success(&self) -> bool {
        match self {
            Reply::Json { status, .. } | Reply::Text { status, .. } => status.is_success(),
        }
    }

    /// The statusMessage of a JSON reply.
    pub(crate) fn message(&self) -> Option<String> {
        match self {
            Reply::Json { body, .. } => body["statusMessage"].as_str().map(str::to_string),
            Reply::Text { .. } => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn status_code(&self) -> Option<i64> {
        match self {
            Reply::Json { body, .. } => body["statusCode"].as_i64(),
            Reply::Text { .. } => None,
        }
    }
}
