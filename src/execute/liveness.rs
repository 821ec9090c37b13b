//! The lost-target rule: a target that stops answering midway ends the run instead of turning every
//! remaining case into a timeout (at `timeout_ms` each, a 2,000-case suite would take hours to say
//! "down").
//!
//! Every REST exchange of the run reports here whether it got an answer. [`LOST_AFTER`] exchanges in
//! a row without one (a connection refused or dropped before any answer, or no complete answer within
//! `timeout_ms`), counted across the whole run in the order they end, mean the target is gone; any
//! answer, even an error status, resets the count. One slow endpoint or a single dropped connection
//! therefore never stops a run, while a dead target stops it within about
//! `LOST_AFTER / jobs * timeout_ms`.

use std::sync::Mutex;

use tokio::sync::watch;

/// Consecutive exchanges without an answer after which the run stops (documented in the README).
pub const LOST_AFTER: usize = 5;

/// The run-wide count of exchanges in a row that got no answer, and whether the target is lost.
#[derive(Debug)]
pub struct Liveness {
    limit: usize,
    silent: Mutex<usize>,
    /// Set once, with the reason, when the count reaches `limit`; never unset.
    lost: watch::Sender<Option<String>>,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness::new(LOST_AFTER)
    }
}

impl Liveness {
    pub fn new(limit: usize) -> Liveness {
        Liveness {
            limit: limit.max(1),
            silent: Mutex::new(0),
            lost: watch::Sender::new(None),
        }
    }

    /// An exchange got an answer (any status): the count starts again.
    pub fn answered(&self) {
        *self.silent.lock().unwrap_or_else(|e| e.into_inner()) = 0;
    }

    /// An exchange got no answer; `error` (already masked) says why, and ends up in the reason.
    pub fn unanswered(&self, error: &str) {
        let mut silent = self.silent.lock().unwrap_or_else(|e| e.into_inner());
        *silent += 1;
        if *silent >= self.limit {
            let limit = self.limit;
            self.lost.send_if_modified(|lost| {
                if lost.is_some() {
                    return false;
                }
                *lost = Some(format!(
                    "the target stopped answering: {limit} exchanges in a row got no answer (the last: {error})"
                ));
                true
            });
        }
    }

    /// The reason, once the target is lost.
    pub fn lost_reason(&self) -> Option<String> {
        self.lost.borrow().clone()
    }

    /// Resolves with the reason when the target is lost (at once if it already is).
    pub async fn lost(&self) -> String {
        let mut rx = self.lost.subscribe();
        let reason = match rx.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            // The sender lives as long as `self`: this cannot happen while we borrow it.
            Err(_) => None,
        };
        match reason {
            Some(r) => r,
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_consecutive_silences_lose_the_target() {
        let l = Liveness::new(3);
        l.unanswered("a");
        l.unanswered("b");
        l.answered();
        l.unanswered("c");
        l.unanswered("d");
        assert_eq!(l.lost_reason(), None, "an answer resets the count");
        l.unanswered("e");
        let reason = l.lost_reason().expect("three in a row");
        assert_eq!(
            reason,
            "the target stopped answering: 3 exchanges in a row got no answer (the last: e)"
        );
        // Latched: a late answer does not bring it back, and the reason stays the first one.
        l.answered();
        l.unanswered("f");
        l.unanswered("g");
        l.unanswered("h");
        assert_eq!(l.lost_reason().as_deref(), Some(reason.as_str()));
    }

    #[tokio::test]
    async fn lost_resolves_when_the_limit_is_reached() {
        let l = std::sync::Arc::new(Liveness::new(2));
        let waiter = tokio::spawn({
            let l = l.clone();
            async move { l.lost().await }
        });
        l.unanswered("x");
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        l.unanswered("y");
        let reason = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("resolves")
            .expect("joins");
        assert!(reason.ends_with("(the last: y)"), "{reason}");
    }
}
