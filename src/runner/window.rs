//! The profile's notification window: the cases' `within_ms` are written for the default window,
//! and a slow lab (a WAN, a loaded switch) waits proportionally longer, absences included, so that
//! a longer window never turns an absence into a pass without the evidence of a longer wait.

use std::time::Duration;

use crate::load::profile::DEFAULT_NOTIFICATION_WINDOW;
use crate::model::NotificationExpectation;

/// The expectations with their windows scaled to `window`. A settle period (how long the channel
/// must stay quiet before the step stops listening) grows with a longer window too: in a slow lab the
/// messages of one login come further apart, and one heard after the settle would be blamed on the next
/// step. A shorter window does not shrink it (a fast lab's messages are no closer together for it),
/// but the window's end bounds it.
pub(super) fn scaled(
    mut all: Vec<NotificationExpectation>,
    window: Duration,
) -> Vec<NotificationExpectation> {
    for e in &mut all {
        e.within = proportional(e.within, window).max(Duration::from_millis(1));
        e.settle = e.settle.map(|s| scaled_up(s, window).min(e.within));
    }
    all
}

/// `d` scaled up for `window`, never down: a settle period, and a retried step's deadline (which
/// only bounds how long a failing state is polled; a fast lab passes before it).
pub(super) fn scaled_up(d: Duration, window: Duration) -> Duration {
    d.max(proportional(d, window))
}

/// `d`, written for the default window, in proportion to `window`.
fn proportional(d: Duration, window: Duration) -> Duration {
    let ms = d.as_millis() * window.as_millis() / DEFAULT_NOTIFICATION_WINDOW.as_millis();
    Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NotificationKind;

    #[test]
    fn a_retry_deadline_grows_with_a_slow_lab_and_never_shrinks() {
        let s = Duration::from_secs;
        let default = DEFAULT_NOTIFICATION_WINDOW;
        assert_eq!(scaled_up(s(10), default), s(10));
        assert_eq!(scaled_up(s(10), default * 2), s(20));
        assert_eq!(scaled_up(s(10), default / 4), s(10));
    }

    #[test]
    fn windows_and_settles_scale_with_the_profile_and_settle_stays_inside() {
        let e = |within: u64, settle: Option<u64>| NotificationExpectation {
            channel: "/v2/me/devices".into(),
            within: Duration::from_millis(within),
            schema: None,
            kind: NotificationKind::Absent { body: None },
            exclusive: false,
            provenance: None,
            settle: settle.map(Duration::from_millis),
        };
        let ms = |d: Duration| d.as_millis() as u64;
        let same = scaled(vec![e(4000, Some(1000))], Duration::from_millis(4000));
        assert_eq!(
            (ms(same[0].within), same[0].settle.map(ms)),
            (4000, Some(1000))
        );
        let slow = scaled(
            vec![e(4000, None), e(2000, None), e(4000, Some(2000))],
            Duration::from_millis(10_000),
        );
        assert_eq!((ms(slow[0].within), ms(slow[1].within)), (10_000, 5000));
        assert_eq!(
            slow[2].settle.map(ms),
            Some(5000),
            "the settle grows with the window"
        );
        let quick = scaled(vec![e(4000, Some(2000))], Duration::from_millis(2000));
        assert_eq!(
            (ms(quick[0].within), quick[0].settle.map(ms)),
            (2000, Some(2000)),
            "never shorter than the case's own, within its window"
        );
        let fast = scaled(vec![e(4000, Some(1000))], Duration::from_millis(400));
        assert_eq!(
            (ms(fast[0].within), fast[0].settle.map(ms)),
            (400, Some(400))
        );
    }
}
