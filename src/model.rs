//! What a loaded suite is: cases, steps, requests and expectations, with every variable resolved.
//!
//! The loader builds these; the planner, executor and checker only read them.

use std::path::Path;
use std::sync::Arc;

use regex::Regex;
use serde::Serialize;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Provenance {
    /// The published page, or an official GWS documentation page, states the expected answer.
    Documented,
    /// Seen in real traffic of a real GWS server, or in Genesys-authored clients.
    Observed,
    /// No source states it; our best guess of what a real deployment does.
    Inferred,
}

impl Provenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Documented => "documented",
            Provenance::Observed => "observed",
            Provenance::Inferred => "inferred",
        }
    }
}

/// What identifies a case and its place in the spec: everything but its steps. A [`Case`] and a
/// [`CaseOutline`] both carry one, and both deref to it.
///
/// A large suite keeps one header per case for the whole run (in its outline), so the header is
/// compact: what most cases share (spec, provenance, tags, requirements, role, serial group) is one
/// [`CaseShape`], handed out interned by the loader (one allocation per distinct shape, which a
/// header reaches through [`Deref`](std::ops::Deref): `header.spec`); the id is inline up to 24
/// bytes (most ids), the title a boxed string (most titles are longer); the file is its shared folder
/// and inline name ([`CaseFile`]); the file's hash is its 32 bytes; the texts only some cases have
/// sit behind one pointer.
#[derive(Debug, Clone)]
pub struct CaseHeader {
    pub id: compact_str::CompactString,
    pub title: Box<str>,
    pub shape: Arc<CaseShape>,
    /// Where the case came from, relative to the working directory as given.
    pub file: CaseFile,
    /// SHA-256 of the file's bytes (when it was loaded).
    pub sha256: Sha256,
    /// `source`, `rationale` and missing variables: None when the case has none of them.
    pub notes: Option<Box<CaseNotes>>,
}

/// Where a case came from, relative to the working directory as given. Every header holds one for
/// the whole run, so the path is split: its folder, one allocation shared by the cases of the folder,
/// and its file name, inline up to 24 bytes. A path of its own was a 64-byte heap chunk per case. A
/// path that does not split back into itself exactly (not UTF-8, or a name the folder's join would
/// spell otherwise) is kept whole.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseFile {
    Split {
        dir: Arc<str>,
        name: compact_str::CompactString,
    },
    Whole(Arc<Path>),
}

impl CaseFile {
    /// `path`, its folder interned by `folder` (e.g. [`crate::intern::Interner::str`]).
    pub fn new(path: &Path, folder: impl FnOnce(&str) -> Arc<str>) -> CaseFile {
        let parts = path
            .parent()
            .and_then(Path::to_str)
            .zip(path.file_name().and_then(|n| n.to_str()));
        match parts {
            Some((dir, name)) if Path::new(dir).join(name).as_os_str() == path.as_os_str() => {
                CaseFile::Split {
                    dir: folder(dir),
                    name: name.into(),
                }
            }
            _ => CaseFile::Whole(Arc::from(path)),
        }
    }

    /// The path, as it was given.
    pub fn path(&self) -> std::borrow::Cow<'_, Path> {
        match self {
            CaseFile::Split { dir, name } => Path::new(&**dir).join(&**name).into(),
            CaseFile::Whole(path) => std::borrow::Cow::Borrowed(path),
        }
    }
}

/// What a case shares with most others of its suite: where in the spec it belongs and how, who runs
/// it, and what planning needs of its steps. 10,000 cases of a few shapes hold a few of these, each
/// list and name in it interned too.
///
/// Planning reads its steps' facts from here, never from the steps an outline may keep: which
/// outlines keep their steps depends on a memory budget and on which loading thread got there
/// first, and every shard of a `--partition` must compute the same split.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseShape {
    pub spec: Arc<[String]>,
    pub provenance: Provenance,
    pub tags: Arc<[String]>,
    /// The agent role named by the case (`default` when it names none).
    pub agent_role: Arc<str>,
    /// The serial group: cases of one group never run at the same time.
    pub group: Arc<str>,
    pub requires: Arc<[String]>,
    /// Per step, what it waits for beyond its round trip (see `plan::shard::estimate_ms`).
    pub costs: Arc<[StepCost]>,
    /// Some step logs in at a place, a device or a dynamic number ([`lab_resources`]).
    pub names_lab_resource: bool,
    /// Some step sends the agent's credentials (`basic` or `wrong-password`).
    pub needs_credentials: bool,
    /// Some step, or some answer it allows, listens on CometD.
    pub listens: bool,
}

/// What one step waits for beyond its round trip, its alternatives' expectations included (they
/// are awaited at once, so the longest counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StepCost {
    /// The longest absence window, in ms (0: none): it is waited out whole.
    pub absent_ms: u64,
    /// The longest settle of a message it awaits, in ms; None when it awaits none.
    pub heard_settle_ms: Option<u64>,
}

impl StepCost {
    pub fn of(step: &Step) -> StepCost {
        let all = step.notifications.iter().chain(
            step.expect
                .alternatives
                .iter()
                .flat_map(|a| &a.notifications),
        );
        let mut cost = StepCost {
            absent_ms: 0,
            heard_settle_ms: None,
        };
        for n in all {
            match n.kind {
                NotificationKind::Absent { .. } => {
                    cost.absent_ms = cost.absent_ms.max(n.within.as_millis() as u64);
                }
                _ => {
                    let settle = n.settle.map_or(0, |s| s.as_millis() as u64);
                    cost.heard_settle_ms = Some(cost.heard_settle_ms.unwrap_or(0).max(settle));
                }
            }
        }
        cost
    }
}

/// Whether some step sends the agent's credentials (`basic` or `wrong-password`).
pub fn sends_credentials(steps: &[Step]) -> bool {
    steps
        .iter()
        .any(|s| matches!(s.request.auth, AuthMode::Basic | AuthMode::WrongPassword))
}

/// Whether some step, or some answer it allows, listens on CometD.
pub fn listens(steps: &[Step]) -> bool {
    steps.iter().any(|s| {
        !s.notifications.is_empty()
            || s.expect
                .alternatives
                .iter()
                .any(|a| !a.notifications.is_empty())
    })
}

/// The lab resources a case logs in at: each `place`, `devicePath` and `dynamicPhoneNumber` value of
/// its request bodies (a number in use by one session is refused to another: 409).
/// Two cases that name one of them must not run at once.
///
/// One kind of request holds nothing: one whose every allowed answer is a refusal that weighs as a
/// failure (a documented or observed 400, Sample 5's invalid workmode). A server that logs in there
/// anyway fails that case for it. A refusal we only inferred may be a conforming server's login
/// (variant `workmode-case-insensitive`), so it holds the resource like any other request.
pub fn lab_resources(steps: &[Step], case: Provenance) -> Vec<String> {
    let refused_for_certain = |s: &Step| {
        !s.always
            && !s.expect.may_succeed()
            && s.expect.provenance.unwrap_or(case) != Provenance::Inferred
    };
    let mut out: Vec<String> = Vec::new();
    for step in steps.iter().filter(|s| !refused_for_certain(s)) {
        let Some(Body::Json(serde_json::Value::Object(body))) = &step.request.body else {
            continue;
        };
        for key in ["place", "devicePath", "dynamicPhoneNumber"] {
            if let Some(serde_json::Value::String(v)) = body.get(key) {
                let r = format!("{key} {v}");
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
    }
    out
}

impl std::ops::Deref for CaseHeader {
    type Target = CaseShape;

    fn deref(&self) -> &CaseShape {
        &self.shape
    }
}

/// The parts of a header most cases of a large suite leave empty, or that only reports show.
#[derive(Debug, Clone, Default)]
pub struct CaseNotes {
    pub source: Option<String>,
    pub rationale: Option<String>,
    /// Environment variables the case names that are not set, when the run skips such cases
    /// (against a real target) instead of refusing to load them.
    pub needs_env: Vec<String>,
    /// Lab variables (`[lab]` of `cases/variables.toml`) the case names that the profile does not
    /// set: the case is skipped naming them.
    pub needs_lab: Vec<LabNeed>,
}

/// A lab variable a case needs and the profile does not set, with its one-line meaning (from
/// `cases/variables.toml`), so that a skip reason and a report can say what would unlock the case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct LabNeed {
    pub variable: String,
    pub meaning: String,
}

impl std::fmt::Display for LabNeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` ({})", self.variable, self.meaning)
    }
}

impl CaseNotes {
    /// The notes, boxed, or None when they hold nothing (the usual case: no pointer's target to keep).
    pub fn boxed(self) -> Option<Box<CaseNotes>> {
        let empty = self.source.is_none()
            && self.rationale.is_none()
            && self.needs_env.is_empty()
            && self.needs_lab.is_empty();
        (!empty).then(|| Box::new(self))
    }
}

impl CaseHeader {
    pub fn source(&self) -> Option<&str> {
        self.notes.as_ref().and_then(|n| n.source.as_deref())
    }

    pub fn rationale(&self) -> Option<&str> {
        self.notes.as_ref().and_then(|n| n.rationale.as_deref())
    }

    /// Environment variables the case names that are not set (see [`CaseNotes::needs_env`]).
    pub fn needs_env(&self) -> &[String] {
        self.notes.as_ref().map_or(&[], |n| &n.needs_env)
    }

    /// Lab variables the case names that the profile does not set (see [`CaseNotes::needs_lab`]).
    pub fn needs_lab(&self) -> &[LabNeed] {
        self.notes.as_ref().map_or(&[], |n| &n.needs_lab)
    }
}

/// A SHA-256 digest, kept as its bytes: written as lowercase hex (64 characters) wherever it is shown.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    pub fn of(bytes: &[u8]) -> Sha256 {
        use sha2::Digest;
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    pub fn hex(&self) -> String {
        self.to_string()
    }
}

impl std::fmt::Display for Sha256 {
    /// One write of 64 characters: a report writes a hash per input file and per case, and a
    /// `write!` per byte was 1% of a 10,000-case run.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 64];
        for (pair, b) in text.chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 15)];
        }
        f.write_str(std::str::from_utf8(&text).map_err(|_| std::fmt::Error)?)
    }
}

/// A SHA-256 as a report records it (hex text): 32 bytes when the text is 64 lowercase hex digits,
/// as every hash this harness writes is, and the text as found otherwise (a hand-edited report), so
/// that reading a report never fails on a hash and `verify` can still say it differs. Equal texts
/// give equal values. A 10,000-file run's list of inputs is held while the formats are rendered: the
/// bytes take 32 bytes where the text took 88 on the heap.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Digest {
    Sha256(Sha256),
    Text(Box<str>),
}

impl From<Sha256> for Digest {
    fn from(sha: Sha256) -> Digest {
        Digest::Sha256(sha)
    }
}

impl From<&str> for Digest {
    fn from(text: &str) -> Digest {
        let hex = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        let bytes = text.as_bytes();
        let mut sha = [0u8; 32];
        if bytes.len() == 64 {
            let parsed = sha.iter_mut().zip(bytes.chunks(2)).all(|(out, pair)| {
                match (hex(pair[0]), hex(pair[1])) {
                    (Some(hi), Some(lo)) => {
                        *out = hi << 4 | lo;
                        true
                    }
                    _ => false,
                }
            });
            if parsed {
                return Digest::Sha256(Sha256(sha));
            }
        }
        Digest::Text(text.into())
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Digest::Sha256(sha) => sha.fmt(f),
            Digest::Text(text) => f.write_str(text),
        }
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        struct Hex;
        impl serde::de::Visitor<'_> for Hex {
            type Value = Digest;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a SHA-256 as text")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Digest, E> {
                Ok(Digest::from(v))
            }
        }
        d.deserialize_str(Hex)
    }
}

impl std::fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sha256({self})")
    }
}

#[derive(Debug, Clone)]
pub struct Case {
    pub header: CaseHeader,
    /// Shared: the loader hands out one allocation for cases whose steps are equal (see
    /// `load::kept`), and an outline keeps it for the run.
    pub steps: Arc<[Step]>,
}

/// What the planner needs of a case, and its steps when the suite keeps them: the loader keeps the
/// parsed steps of every case while they fit its budget (equal steps are kept once; see
/// `load::kept`), so that each case file is parsed once. Past the budget an outline has no steps and
/// is slim: `source` and `rationale`, which only reports show, are left out, and the full [`Case`]
/// is rebuilt from its file when it runs (see `load::Suite::case`).
#[derive(Debug, Clone)]
pub struct CaseOutline {
    pub header: CaseHeader,
    /// The case's steps, when kept.
    pub(crate) steps: Option<Arc<[Step]>>,
}

impl std::ops::Deref for Case {
    type Target = CaseHeader;

    fn deref(&self) -> &CaseHeader {
        &self.header
    }
}

impl std::ops::Deref for CaseOutline {
    type Target = CaseHeader;

    fn deref(&self) -> &CaseHeader {
        &self.header
    }
}

impl CaseOutline {
    /// The outline of a case, with its header whole and without its steps.
    pub fn of(case: &Case) -> CaseOutline {
        CaseOutline {
            header: case.header.clone(),
            steps: None,
        }
    }

    /// The outline that keeps the case's steps: the case can run without its file.
    pub fn kept(case: Case) -> CaseOutline {
        let mut outline = CaseOutline::of(&case);
        outline.steps = Some(case.steps);
        outline
    }

    /// The outline without the texts only reports show (see [`CaseOutline`]).
    pub fn slim(case: &Case) -> CaseOutline {
        let mut outline = CaseOutline::of(case);
        outline.header.notes = outline.header.notes.take().and_then(|n| {
            CaseNotes {
                needs_env: n.needs_env,
                needs_lab: n.needs_lab,
                ..CaseNotes::default()
            }
            .boxed()
        });
        outline
    }

    /// The case's steps, when the suite kept them.
    pub fn steps(&self) -> Option<&[Step]> {
        self.steps.as_deref()
    }

    /// The full case, when the suite kept its steps.
    pub fn kept_case(&self) -> Option<Case> {
        self.steps.as_ref().map(|steps| Case {
            header: self.header.clone(),
            steps: Arc::clone(steps),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    /// Runs even after an earlier step of the case failed (cleanup).
    pub always: bool,
    /// What the step is for: what the case checks, or a setup step that only serves it.
    pub purpose: StepPurpose,
    /// For a setup step, the profile capability it relies on (named in the error's fix).
    pub capability: Option<String>,
    pub request: Request,
    pub expect: Expectation,
    /// CometD expectations: their channels are subscribed before the request is sent.
    pub notifications: Vec<NotificationExpectation>,
    /// Members of the JSON body whose value is a variable of the environment as it is
    /// (`agentLoginPassword = "${env:GWS_AGENT_LOGIN_PASSWORD}"`), as (member, variable).
    pub sent_from_env: Vec<(String, String)>,
    /// `[steps.retry]`: the step is sent again while its checks fail, until a deadline.
    pub retry: Option<Retry>,
}

/// How a step whose outcome may come a moment late is polled (`[steps.retry]` in a case file): a
/// state the page promises without saying when ("restores the default device assignment") is
/// looked at again until it holds or the deadline passes, so that a conforming server that gets
/// there later than our lab does is not failed for it, and a fast one is not waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// How long after the first attempt started another may still start (the profile's
    /// `notification_window_ms` scales it up, never down).
    pub within: std::time::Duration,
    /// The pause between the end of one attempt and the start of the next.
    pub every: std::time::Duration,
    /// Only a failing attempt answered with one of these statuses is tried again (empty: any
    /// failing attempt; when given, an attempt with no answer is not tried again either). A poll
    /// for a state to settle stops at once on an answer that says the target cannot show that
    /// state (a 404 for a resource it does not have), and on a target that does not answer.
    pub while_status: Vec<StatusPattern>,
}

impl Retry {
    /// Whether a failing attempt whose answer had `status` (none: no answer) is tried again.
    pub fn retries(&self, status: Option<u16>) -> bool {
        self.while_status.is_empty()
            || status.is_some_and(|s| self.while_status.iter().any(|p| p.matches(s)))
    }
}

impl Step {
    /// What a failure of this step says of the values it sent from the environment as they are: a
    /// lab whose value is another refuses the request for that reason alone (Sample 3's switch
    /// password), and nothing in the answer says which variable that was.
    pub fn env_hint(&self) -> Option<String> {
        let sent: Vec<String> = self
            .sent_from_env
            .iter()
            .map(|(member, var)| format!("`{member}` was sent from ${var} as it is"))
            .collect();
        (!sent.is_empty()).then(|| {
            format!(
                "{}: if the lab's value is another, the target refuses the request for that reason alone; check the variable",
                sent.join(", ")
            )
        })
    }
}

/// What a step is for (`purpose` in a case file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepPurpose {
    /// What the case checks: a miss weighs what its provenance says.
    #[default]
    Check,
    /// Serves the case without being what it checks (Ready/NotReady before a notification is
    /// awaited): a miss of its HTTP answer makes the case an error (setup), never a failure.
    Setup,
}

/// What a step expects on one CometD channel, within a window that opens when its request is sent.
#[derive(Debug, Clone)]
pub struct NotificationExpectation {
    /// The Bayeux channel, e.g. `/v2/me/devices`.
    pub channel: String,
    pub within: std::time::Duration,
    /// Every message the expectation matches must conform to this schema (a file stem in `schemas/`).
    pub schema: Option<String>,
    pub kind: NotificationKind,
    /// Any other message on the channel within the window is a failure, not a note.
    pub exclusive: bool,
    /// Overrides the case's provenance for this expectation (what a failure of it weighs).
    pub provenance: Option<Provenance>,
    /// Once met, the step keeps listening until the channel has been quiet this long (never past
    /// `within`), so that the rest of what its request caused is heard in this step and not blamed
    /// on the next one.
    pub settle: Option<std::time::Duration>,
}

/// How a notification expectation is met. Bodies are matched as subsets against the whole Bayeux
/// message (`{"channel": ..., "data": {...}}`); `None` matches any message on the channel.
#[derive(Debug, Clone)]
pub enum NotificationKind {
    /// At least `count` matching messages; the wait ends as soon as they have arrived.
    AtLeast {
        body: Option<Expected>,
        count: usize,
    },
    /// No matching message for the whole window.
    Absent { body: Option<Expected> },
    /// Messages matching these bodies, in this order (others may come between, unless exclusive).
    Sequence(Vec<Expected>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// Basic credentials and the session's cookies.
    Basic,
    /// The session's cookies only.
    Session,
    /// Neither.
    None,
    /// The role's user name with a password that is certainly wrong.
    WrongPassword,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    pub auth: AuthMode,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
    /// Whether to send the CSRF token when the profile says the target wants one.
    pub csrf: bool,
    /// Follow 3xx answers (at most 5); credentials only ever go to the target's own origin.
    pub follow_redirects: bool,
}

#[derive(Debug, Clone)]
pub enum Body {
    Json(serde_json::Value),
    Raw {
        text: String,
        content_type: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum StatusPattern {
    Exact(u16),
    /// `2xx` and the like: the hundreds digit.
    Class(u8),
}

impl Expectation {
    /// Whether an allowed answer (the main one or an alternative) may be a success: a 2xx status,
    /// or any status when none is given.
    pub fn may_succeed(&self) -> bool {
        let ok = |e: &Expectation| {
            e.status.is_empty() || e.status.iter().any(|p| (200..300).any(|s| p.matches(s)))
        };
        ok(self) || self.alternatives.iter().any(ok)
    }
}

impl StatusPattern {
    /// `patterns` as checks and notes show them: `2xx or 404`.
    pub fn list(patterns: &[StatusPattern]) -> String {
        patterns
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" or ")
    }

    pub fn matches(&self, status: u16) -> bool {
        match self {
            StatusPattern::Exact(s) => *s == status,
            StatusPattern::Class(c) => status / 100 == u16::from(*c),
        }
    }
}

impl std::fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatusPattern::Exact(s) => write!(f, "{s}"),
            StatusPattern::Class(c) => write!(f, "{c}xx"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    Exact,
    #[default]
    Subset,
}

#[derive(Debug, Clone, Default)]
pub struct Expectation {
    pub status: Vec<StatusPattern>,
    pub content_type: Option<String>,
    /// Schema name (file stem in `schemas/`, e.g. `success`).
    pub schema: Option<String>,
    pub match_mode: MatchMode,
    pub ignore: Vec<JsonPath>,
    pub body: Option<Expected>,
    /// The exact body, for answers that are not JSON (trailing whitespace ignored).
    pub text: Option<String>,
    /// Other answers the spec allows for the same request; the step passes if the answer matches
    /// this expectation or any one of them.
    pub alternatives: Vec<Expectation>,
    /// Why this answer is allowed (one line; required on alternatives), shown when a case warns or
    /// fails so that a reviewer sees what was tried.
    pub reason: Option<String>,
    /// Overrides the case's provenance for the HTTP answer of this step (what a failure weighs).
    pub provenance: Option<Provenance>,
    /// For an alternative: what must (or must not) then arrive over CometD for this answer to hold,
    /// e.g. "statusCode 0, then no LoggedIn message". The main answer's are the step's own.
    pub notifications: Vec<NotificationExpectation>,
}

/// An expected JSON value, with in-place matchers.
#[derive(Debug, Clone)]
pub enum Expected {
    Literal(serde_json::Value),
    Object(Vec<(String, Expected)>),
    Array(Vec<Expected>),
    Any,
    Type(JsonType),
    Regex(Regex),
    OneOf(Vec<Expected>),
    Not(Box<Expected>),
    Absent,
    Unordered(Vec<Expected>),
    /// An array holding an element that matches each of these (any order, other elements allowed).
    Contains(Vec<Expected>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
    Null,
}

impl JsonType {
    pub const NAMES: &'static [&'static str] = &[
        "string", "integer", "number", "boolean", "array", "object", "null",
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "string" => JsonType::String,
            "integer" => JsonType::Integer,
            "number" => JsonType::Number,
            "boolean" => JsonType::Boolean,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            "null" => JsonType::Null,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Integer => "integer",
            JsonType::Number => "number",
            JsonType::Boolean => "boolean",
            JsonType::Array => "array",
            JsonType::Object => "object",
            JsonType::Null => "null",
        }
    }

    pub fn of(value: &serde_json::Value) -> Self {
        use serde_json::Value as V;
        match value {
            V::String(_) => JsonType::String,
            V::Number(n) if n.is_i64() || n.is_u64() => JsonType::Integer,
            V::Number(_) => JsonType::Number,
            V::Bool(_) => JsonType::Boolean,
            V::Array(_) => JsonType::Array,
            V::Object(_) => JsonType::Object,
            V::Null => JsonType::Null,
        }
    }

    pub fn accepts(self, value: &serde_json::Value) -> bool {
        let actual = JsonType::of(value);
        actual == self || (self == JsonType::Number && actual == JsonType::Integer)
    }
}

/// A path such as `$.failed[0].statusMessage` or `$.items[*].id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    pub text: String,
    pub segments: Vec<PathSegment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
    AnyIndex,
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = text
            .strip_prefix('$')
            .ok_or_else(|| format!("path `{text}` must start with `$`"))?;
        let mut segments = Vec::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    let mut key = String::new();
                    while let Some(&n) = chars.peek() {
                        if n == '.' || n == '[' {
                            break;
                        }
                        key.push(n);
                        chars.next();
                    }
                    if key.is_empty() {
                        return Err(format!("path `{text}` has an empty key"));
                    }
                    segments.push(PathSegment::Key(key));
                }
                '[' => {
                    let mut inner = String::new();
                    for n in chars.by_ref() {
                        if n == ']' {
                            break;
                        }
                        inner.push(n);
                    }
                    if inner == "*" {
                        segments.push(PathSegment::AnyIndex);
                    } else {
                        let i = inner
                            .parse()
                            .map_err(|_| format!("path `{text}` has a bad index `[{inner}]`"))?;
                        segments.push(PathSegment::Index(i));
                    }
                }
                other => return Err(format!("path `{text}` has an unexpected `{other}`")),
            }
        }
        Ok(JsonPath {
            text: text.to_string(),
            segments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_parse() {
        let p = JsonPath::parse("$.failed[0].statusMessage").unwrap();
        assert_eq!(
            p.segments,
            vec![
                PathSegment::Key("failed".into()),
                PathSegment::Index(0),
                PathSegment::Key("statusMessage".into())
            ]
        );
        assert_eq!(
            JsonPath::parse("$.a[*]").unwrap().segments[1],
            PathSegment::AnyIndex
        );
        assert!(JsonPath::parse("a.b").is_err());
        assert!(JsonPath::parse("$.a[x]").is_err());
    }

    #[test]
    fn a_request_that_can_only_be_refused_holds_no_lab_resource() {
        let step = |status: Vec<StatusPattern>, alternative: Option<Vec<StatusPattern>>| Step {
            name: "s".into(),
            always: false,
            purpose: StepPurpose::Check,
            capability: None,
            request: Request {
                method: "POST".into(),
                path: "/api/v2/me".into(),
                auth: AuthMode::Basic,
                headers: Vec::new(),
                body: Some(Body::Json(serde_json::json!({"place": "P1"}))),
                csrf: true,
                follow_redirects: false,
            },
            expect: Expectation {
                status,
                alternatives: alternative
                    .map(|status| Expectation {
                        status,
                        ..Expectation::default()
                    })
                    .into_iter()
                    .collect(),
                ..Expectation::default()
            },
            notifications: Vec::new(),
            sent_from_env: Vec::new(),
            retry: None,
        };
        let p1 = vec!["place P1".to_string()];
        let refused = vec![StatusPattern::Exact(400)];
        let documented = Provenance::Documented;
        assert!(lab_resources(&[step(refused.clone(), None)], documented).is_empty());
        assert_eq!(
            lab_resources(&[step(refused.clone(), None)], Provenance::Inferred),
            p1,
            "an inferred refusal may be a conforming server's login"
        );
        let mut own = step(refused.clone(), None);
        own.expect.provenance = Some(Provenance::Inferred);
        assert_eq!(
            lab_resources(&[own], documented),
            p1,
            "the step's own weight"
        );
        assert_eq!(
            lab_resources(&[step(vec![StatusPattern::Class(2)], None)], documented),
            p1
        );
        assert_eq!(
            lab_resources(&[step(Vec::new(), None)], documented),
            p1,
            "any status"
        );
        assert_eq!(
            lab_resources(
                &[step(refused, Some(vec![StatusPattern::Exact(200)]))],
                documented
            ),
            p1,
            "an alternative may log in"
        );
    }

    /// A large suite keeps a header per case all run: a field that grows it grows every run's memory
    /// by that much per case (see benches/RESULTS.md, "Fourth session").
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_header_stays_compact() {
        // The id is inline (24 bytes, no allocation of its own for ids up to 24 bytes), and so is
        // the file name (40 bytes with its shared folder; a path of its own was a 64-byte chunk).
        assert_eq!(std::mem::size_of::<CaseHeader>(), 128);
        assert_eq!(std::mem::size_of::<CaseOutline>(), 144);
    }

    /// A case file's path is split only where it joins back into exactly the path given; the
    /// cases of one folder share the folder.
    #[test]
    fn a_case_file_gives_back_the_path_it_was_given() {
        let interner = crate::intern::Interner::default();
        let folder = |d: &str| interner.str(d);
        for given in [
            "cases/s1.toml",
            "s1.toml",
            "./cases/sub/s1.toml",
            "/abs/cases/s1.toml",
        ] {
            let file = CaseFile::new(Path::new(given), folder);
            assert!(matches!(file, CaseFile::Split { .. }), "{given}");
            assert_eq!(file.path().as_os_str(), given);
        }
        let (a, b) = (
            CaseFile::new(Path::new("cases/a.toml"), folder),
            CaseFile::new(Path::new("cases/b.toml"), folder),
        );
        match (&a, &b) {
            (CaseFile::Split { dir: x, .. }, CaseFile::Split { dir: y, .. }) => {
                assert!(Arc::ptr_eq(x, y), "one folder, one allocation")
            }
            _ => panic!("both split"),
        }
        // `cases/` + `s1.toml` would join as `cases/s1.toml`: kept whole, as given.
        for odd in ["cases//s1.toml", "cases/s1.toml/", "/", ""] {
            let file = CaseFile::new(Path::new(odd), folder);
            assert_eq!(file.path().as_os_str(), odd, "{odd}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let raw = Path::new(std::ffi::OsStr::from_bytes(b"cases/\xff.toml"));
            let file = CaseFile::new(raw, folder);
            assert!(matches!(file, CaseFile::Whole(_)), "not UTF-8: whole");
            assert_eq!(file.path(), raw);
        }
    }

    /// A hash this harness wrote is held as its bytes and written back as the same text; any other
    /// text (a hand-edited report) is kept as found, so the reading does not fail and equal texts
    /// stay equal.
    #[test]
    fn a_digest_reads_and_writes_its_text() {
        assert_eq!(
            Sha256::of(b"abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let hex = Sha256::of(b"x").hex();
        let d: Digest = serde_json::from_str(&format!("\"{hex}\"")).unwrap();
        assert_eq!(d, Digest::Sha256(Sha256::of(b"x")));
        assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{hex}\""));
        for odd in [
            hex.to_uppercase(),
            hex[..63].to_string(),
            format!("{}g", &hex[..63]),
            String::new(),
        ] {
            let d: Digest = serde_json::from_str(&format!("\"{odd}\"")).unwrap();
            assert_eq!(d, Digest::Text(odd.as_str().into()), "{odd:?}");
            assert_eq!(d.to_string(), odd);
            assert_ne!(d, Digest::from(hex.as_str()));
        }
    }

    #[test]
    fn status_patterns() {
        assert!(StatusPattern::Class(4).matches(403));
        assert!(!StatusPattern::Class(4).matches(500));
        assert!(StatusPattern::Exact(200).matches(200));
    }
}
