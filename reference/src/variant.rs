//! The variant catalogue, the twin of the fault catalogue (`crate::fault`): each variant is a way a
//! *conforming* GWS deployment may differ from the default reference server, where the published page
//! and the notes are silent or allow several answers. A harness must pass every case against every
//! variant; a case that fails one demands more than the sources do.
//!
//! Every variant names its source: a section of `gws-notes.md` ("notes"), the published page, or
//! "spec silent". None may break what the page or the notes document.

use std::fmt;
use std::str::FromStr;

use crate::fault::Fault;

macro_rules! variants {
    ($( $variant:ident => $name:literal, $area:literal, $desc:literal, $source:literal; )*) => {
        /// One conforming deviation from the default reference server (see the README's variant
        /// catalogue).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Variant { $( $variant, )* }

        impl Variant {
            /// Every variant, in catalogue order.
            pub const ALL: &'static [Variant] = &[ $( Variant::$variant, )* ];

            /// The kebab-case name used on the command line (`--variant NAME`).
            pub fn name(&self) -> &'static str {
                match self { $( Variant::$variant => $name, )* }
            }

            /// The area of the server the variant touches.
            pub fn area(&self) -> &'static str {
                match self { $( Variant::$variant => $area, )* }
            }

            /// One sentence: what the server does differently.
            pub fn description(&self) -> &'static str {
                match self { $( Variant::$variant => $desc, )* }
            }

            /// Why this is still conforming: the section of the notes or the page, or "spec silent".
            pub fn source(&self) -> &'static str {
                match self { $( Variant::$variant => $source, )* }
            }
        }
    };
}

variants! {
    PrettyReversedJson => "pretty-reversed-json", "wire",
        "Every JSON body (REST answers and CometD messages) is pretty-printed with each object's keys in reverse order.",
        "spec silent: JSON member order and whitespace carry no meaning (RFC 8259 §4)";
    Chunked => "chunked", "wire",
        "Every response body is streamed with Transfer-Encoding: chunked and no Content-Length.",
        "spec silent: HTTP/1.1 framing (RFC 9112 §7.1)";
    Gzip => "gzip", "wire",
        "Response bodies are gzip-compressed (Content-Encoding: gzip) when the request's Accept-Encoding allows gzip.",
        "spec silent: HTTP content coding (RFC 9110 §8.4)";
    Charset => "charset", "wire",
        "Content types are spelled `application/json; charset=utf-8` and `text/plain; charset=utf-8` (space, lower case).",
        "notes §3.3 asks for application/json only; media-type parameters are case-insensitive (RFC 9110 §8.3.1)";
    NoCharset => "no-charset", "wire",
        "Content types carry no charset parameter: `application/json`, `text/plain`.",
        "notes §3.3 asks for application/json only; UTF-8 is JSON's default (RFC 8259 §8.1)";
    ExtraFields => "extra-fields", "response",
        "Success bodies add referenceId and extra; the user adds emailAddress, contactCenterId and extra; devices add extra; notification data adds metrics. Error bodies are untouched.",
        "notes §5.3 (metrics [OBS], 'a schema must allow additional properties'), §2 (emailAddress, contactCenterId [OBS]), §5.3 referenceId [DOC D21, D24]; §3.2 forbids extras in errors only";
    UnknownChannelRefused => "unknown-channel-refused", "validation",
        "A request naming an unknown channel (e.g. fax), with or without voice, is refused as a whole: HTTP 400 {statusCode 2}; nothing is logged in.",
        "notes §10 Q5: whether unknown channels are rejected, and how, is open";
    UnknownChannelIgnored => "unknown-channel-ignored", "validation",
        "Unknown channel names are ignored: voice plus fax answers {statusCode 0}; fax alone answers {statusCode 0} and logs nothing in.",
        "notes §10 Q5 (open); expectation audit rows 7-8";
    EmptyChannelsNoop => "empty-channels-noop", "validation",
        "An empty channels array answers {statusCode 0} and logs nothing in.",
        "notes §10 Q5: whether an empty array is rejected is open; expectation audit row 9";
    WorkmodeCaseInsensitive => "workmode-case-insensitive", "validation",
        "workmode is matched case-insensitively (manualin, AUTOIN are accepted); other values are still refused.",
        "page: 'Valid values are ManualIn and AutoIn' (case not stated); expectation audit row 13";
    FailedChannelRequestedName => "failed-channel-requested-name", "response",
        "Partial-success entries of multimedia channels are named after the requested channels (chat) instead of multimedia.",
        "notes §1.3: accept channel in {voice, multimedia, the literal requested name} [INF]";
    AsyncSwitchPassword => "async-switch-password", "validation",
        "A loginCode whose agentLoginPassword is missing or wrong is accepted with {statusCode 0}; no login happens and an ErrorMessage is published on /v2/me/devices.",
        "notes §3.2: 0 means only 'accepted and forwarded to a backend', the outcome comes by CometD [DOC D9]; §5.3 ErrorMessage [OBS G2]";
    AsyncDynamicNumber => "async-dynamic-number", "validation",
        "An existing dynamicPhoneNumber is accepted with {statusCode 0}; no login happens and an ErrorMessage is published on /v2/me/devices.",
        "page: 'SIP Server will reject the RequestAgentLogin' (a backend, so asynchronous); notes §3.2 [DOC D9]";
    AsyncPlaceRefusal => "async-place-refusal", "validation",
        "A place whose device cannot be resolved (several ACD positions, or several extensions and none) without devicePath is accepted with {statusCode 0}; no login happens and an ErrorMessage is published on /v2/me/devices.",
        "page: 'the StartContactCenterSession operation fails' (not how); notes §3.2: 0 means only 'accepted and forwarded to a backend', the outcome comes by CometD [DOC D9]";
    NullRefused => "null-refused", "validation",
        "A parameter sent as JSON null is refused like any value of the wrong type (HTTP 400 {statusCode 2}), not read as absent.",
        "spec silent: the table types each parameter and says nothing of null";
    AsyncUnknownValue => "async-unknown-value", "validation",
        "An unknown queue or loginCode is accepted with {statusCode 0}; no login happens and an ErrorMessage is published on /v2/me/devices.",
        "notes §3.2: 0 means only 'accepted and forwarded to a backend', the outcome comes by CometD [DOC D9]";
    DuplicateChannelRefused => "duplicate-channel-refused", "validation",
        "A channels array naming a channel twice is refused as a whole: HTTP 400 {statusCode 2}; nothing is logged in.",
        "spec silent: the table lists channel names, not how often each may appear";
    EndWithoutSessionError => "end-without-session-error", "session",
        "EndContactCenterSession while logged in on no channel answers HTTP 400 {statusCode 2} and changes nothing (the HTTP session stays).",
        "notes §2: End answers 0 for a live session [DOC D2]; End without one is undescribed (expectation audit row 1)";
    AccessDenied401 => "access-denied-401", "auth",
        "Access denials answer HTTP 401 with the same {statusCode 20, \"Access denied\"} body (no WWW-Authenticate).",
        "notes §3.3: 'No doc page gives a mapping'; 403 is [OBS G2] only (expectation audit row 4)";
    WrongPasswordChallenge => "wrong-password-challenge", "auth",
        "Basic credentials with a wrong password get HTTP 401 with the plain text `Bad credentials` (a servlet container's own refusal), not the anonymous JSON answer; requests without credentials are unchanged.",
        "notes §8.3: wrong credentials get 'presumably the same' as none [INF]; no trace shows a wrong-password exchange (audit 2026-12-07, B)";
    DeniedPost200 => "denied-post-200", "auth",
        "Access denials of POST requests (the operations) come with HTTP 200 and the same {statusCode 20, \"Access denied\"} body; a GET still gets 403.",
        "notes §3.3: 'No page maps statusCodes to HTTP statuses'; 403 is [OBS G2] for an anonymous GET only; the body is [DOC D5] (audit 2026-12-07, B)";
    CsrfRotateOnGet => "csrf-rotate-on-get", "auth",
        "With CSRF on, every GET answers a new X-CSRF-TOKEN and the session's previous token stops working.",
        "notes §4.3 [DOC D6]: a GET returns the token; rotation is not excluded (but §4.3 says the token shares the session's lifetime)";
    NewSessionAfterEnd => "new-session-after-end", "session",
        "A Basic-authenticated request without a live session (the first after End, REST or CometD) gets a new JSESSIONID even when it is refused for CSRF; the old token stays refused.",
        "notes §4.2: after End 'a request that also carries Basic auth opens a new session' [INF]; §4.3 the token lives with the session [DOC D6]";
    CometdCsrf => "cometd-csrf", "auth",
        "With CSRF on, CometD long-polling POSTs need the session's X-CSRF-TOKEN too (403 'Missing or invalid Csrf token' without it).",
        "notes §4.3 and §10 Q4: whether CometD POSTs need the token is open [OBS G3 sends it]";
    NotifyBeforeResponse => "notify-before-response", "notifications",
        "An operation that publishes notifications answers its HTTP request 250 ms after publishing, so the messages arrive first.",
        "notes §5.1: WWE saw the LoggedIn DSC before its CometD start; ordering is not specified";
    OneLoginNotification => "one-login-notification", "notifications",
        "A voice login publishes one DeviceStateChangeMessage (LoggedIn) instead of LoggedIn then NotReady/Ready.",
        "page Sample 1: 'delivers a DeviceStateChangeMessage'; notes §2 step 4: Ready/NotReady come as the agent or desktop changes state";
    LoginNotReady => "login-not-ready", "notifications",
        "A voice login ends NotReady whatever the workmode (AutoIn too), in the DSC and in GET /api/v2/me/devices.",
        "notes §5.3: the post-login state depends 'on the switch/workmode and the desktop' (expectation audit row 16)";
    NoChannelStateOnStart => "no-channel-state-on-start", "notifications",
        "StartContactCenterSession publishes no state message for the multimedia channels it logs in (/v2/me/channels carries later changes only).",
        "notes §5.2, §5.3: clients listen on /v2/me/channels [OBS G1, G3, G4]; no source shows Start emitting a message there (audit 2026-12-07, B)";
    SlowLogout => "slow-logout", "session",
        "EndContactCenterSession answers {statusCode 0} at once and logs the agent out 3 s later; a start in between finds the agent logged in (no login, no notification).",
        "notes §3.2: 0 means only 'accepted and forwarded to a backend', the outcome comes later [DOC D9]; Sample 1: an agent already logged in gets no notification (audit 2026-12-07, B)";
    LateRestore => "late-restore", "session",
        "EndContactCenterSession logs the agent out at once but restores the default device assignment 6 s later: until then the user's devices are the ended session's device (logged out).",
        "page, parameter table, place: 'When the client ends the session, Web Services restores the default device assignment' (not when); notes §3.2: 0 means 'accepted and forwarded', the outcome comes later [DOC D9]";
    NoLogoutNotification => "no-logout-notification", "notifications",
        "EndContactCenterSession publishes no DeviceStateChangeMessage.",
        "spec silent: no source shows a logout DSC (expectation audit row 17)";
    SlowLab => "slow-lab", "notifications",
        "Every CometD notification reaches the client 6 s after its cause (a lab across a slow WAN); its profile sets notification_window_ms = 10000.",
        "spec silent on timing: the one figure is 'about 90 ms later' [OBS G2] (notes §5.1); the profile sets the window (audit 2026-12-07, B)";
    LongPollingOnly => "long-polling-only", "cometd",
        "The CometD handshake offers only long-polling and WebSocket upgrades are refused (HTTP 400).",
        "notes §5.1: transports are configurable; 'some deployments disable websocket'";
    WebsocketOnly => "websocket-only", "cometd",
        "The CometD handshake (over HTTP) offers only websocket; other long-polling messages are refused (400::Unsupported connection type).",
        "notes §5.1: the server's transports are configurable [INF]";
    WrongMethod400 => "wrong-method-400", "http",
        "A wrong HTTP method (e.g. PUT /api/v2/me) answers 400 {statusCode 2} instead of 405, without Allow.",
        "notes §3.3: no doc gives the HTTP mapping; statusCode 2 'probably 400' [INF]";
    NoAgentState => "no-agent-state", "http",
        "Ready/NotReady (POST /api/v2/me/channels/voice) are not implemented: 404 {statusCode 6}.",
        "notes §2: Ready/NotReady are other operations [DOC D14, 8.6.0], not part of StartContactCenterSession (expectation audit row 18)";
    AllFailed200 => "all-failed-200", "response",
        "When every requested channel fails, the one error {statusCode, statusMessage} comes with HTTP 200.",
        "page: 'only returns a statusCode and statusMessage for one of the channels' (no HTTP status); notes §3.3: no mapping (expectation audit row 11)";
    AllFailedPartialLayout => "all-failed-partial-layout", "response",
        "When every requested channel fails, the answer takes the partial-success layout: the first failure's statusCode, that one failure in `failed`, and an empty `succeeded` array.",
        "page: 'only returns a statusCode and statusMessage for one of the channels' (not in which layout); notes §1.3: the exact shape is [INF] (audit 2026-12-07)";
    CometdCookieAuth => "cometd-cookie-auth", "cometd",
        "The CometD endpoint authenticates by the JSESSIONID cookie only; HTTP Basic alone is refused there (403::Handshake denied).",
        "notes §4.2: the initial GET /me is needed 'to retrieve a cookie that will be used by CometD for authorization' [OBS G3]";
    CookiePathRoot => "cookie-path-root", "session",
        "The session cookie is set as `JSESSIONID=...; Path=/; HttpOnly; SameSite=Lax` instead of Path=/api.",
        "notes §4.2: clients must keep a cookie store [DOC D6]; the cookie's attributes are not specified";
    ChannelStateUntyped => "channel-state-untyped", "notifications",
        "Multimedia channel state messages on /v2/me/channels carry no messageType (data is just {channels: [...]}).",
        "notes §5.3: the body shape is DOC D18 and 'the 8.5.0 doc sample has no messageType'; the name is OBS only (expectation audit row 20)";
    CometdAdviceInterval => "cometd-advice-interval", "cometd",
        "CometD advice asks for a 1 s pause between connects and holds each connect at most 10 s (interval 1000, timeout 10000).",
        "spec silent: notes §5.1 fixes no CometD settings (a deployment configures them; CometD's defaults are 0 and 30 s)";
}

impl Variant {
    /// The profile capabilities a deployment like this lacks, and must not claim: the cases that
    /// need them are skipped, never passed on a 404 (`gws-conform variants` drops them).
    pub fn lacks(&self) -> &'static [&'static str] {
        match self {
            Variant::NoAgentState => &["agent_state"],
            _ => &[],
        }
    }
}

impl Variant {
    /// The `notification_window_ms` a profile for such a deployment sets, when not the default.
    pub fn notification_window(&self) -> Option<std::time::Duration> {
        match self {
            Variant::SlowLab => Some(std::time::Duration::from_millis(10_000)),
            _ => None,
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown variant name; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown variant `{name}`; valid variants: {}", valid_names())]
pub struct UnknownVariant {
    pub name: String,
}

fn valid_names() -> String {
    Variant::ALL
        .iter()
        .map(|v| v.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Variant {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Variant, UnknownVariant> {
        let wanted = s.trim();
        Variant::ALL
            .iter()
            .copied()
            .find(|v| v.name() == wanted)
            .ok_or_else(|| UnknownVariant {
                name: s.to_string(),
            })
    }
}

/// A set of variants (a bit per catalogue entry), cheap to copy into every part of the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Variants(u64);

impl Variants {
    pub(crate) fn has(self, v: Variant) -> bool {
        self.0 & (1 << v as u64) != 0
    }
}

impl<'a> FromIterator<&'a Variant> for Variants {
    fn from_iter<I: IntoIterator<Item = &'a Variant>>(iter: I) -> Variants {
        Variants(iter.into_iter().fold(0, |bits, v| bits | 1 << *v as u64))
    }
}

/// What the server deviates by: at most one fault plus any set of variants. The model, the bus and
/// the HTTP layer each keep a copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Behaviour {
    pub(crate) fault: Option<Fault>,
    pub(crate) variants: Variants,
}

impl Behaviour {
    pub(crate) fn new(fault: Option<Fault>, variants: &[Variant]) -> Behaviour {
        Behaviour {
            fault,
            variants: variants.iter().collect(),
        }
    }

    pub(crate) fn has(self, fault: Fault) -> bool {
        self.fault == Some(fault)
    }

    pub(crate) fn varies(self, v: Variant) -> bool {
        self.variants.has(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_entry_says_why() {
        let mut seen = std::collections::HashSet::new();
        assert!(Variant::ALL.len() <= 64, "Variants is a u64 bit set");
        for v in Variant::ALL {
            assert!(seen.insert(v.name()), "duplicate {}", v.name());
            assert!(v
                .name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            assert_eq!(v.name().parse::<Variant>().unwrap(), *v);
            assert!(!v.description().is_empty() && !v.source().is_empty());
        }
    }

    #[test]
    fn a_set_holds_exactly_its_members() {
        let b = Behaviour::new(None, &[Variant::Gzip, Variant::NoAgentState]);
        for v in Variant::ALL {
            assert_eq!(
                b.varies(*v),
                matches!(v, Variant::Gzip | Variant::NoAgentState)
            );
        }
        let err = "gzp".parse::<Variant>().unwrap_err().to_string();
        assert!(err.contains("`gzp`") && err.contains("chunked"));
    }
}
