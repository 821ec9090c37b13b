//! The reference server's configuration directory: agents, places with their devices, switch login codes,
//! queues, numbers that already exist in Configuration Server, and the multimedia channel names the
//! Interaction Server knows.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Multimedia channel names of the built-in directory (and the default of a TOML directory).
pub const DEFAULT_MULTIMEDIA_CHANNELS: &[&str] = &[
    "chat", "email", "workitem", "im", "sms", "facebook", "twitter", "webform",
];

/// The version string `GET /api/v2/diagnostics/version` reports unless the directory says otherwise.
pub const DEFAULT_VERSION: &str = "8.5.200.50-reference";

/// A password, kept out of `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Kind of a device on a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// An extension DN.
    Extension,
    /// An ACD position DN.
    Acd,
}

#[derive(Clone, Debug)]
pub(crate) struct Device {
    pub(crate) id: String,
    pub(crate) number: String,
    pub(crate) kind: DeviceKind,
    pub(crate) registered: bool,
}

impl Device {
    pub(crate) fn path(&self) -> String {
        format!("/devices/{}", self.id)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Place {
    pub(crate) name: String,
    pub(crate) devices: Vec<Device>,
}

#[derive(Clone, Debug)]
pub(crate) struct Agent {
    pub(crate) username: String,
    pub(crate) password: Secret,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) default_place: String,
    pub(crate) login_code: Option<String>,
    pub(crate) multimedia_in_service: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct LoginCode {
    pub(crate) password: Option<Secret>,
}

/// Everything the reference server knows about the contact center. Immutable once built.
#[derive(Clone, Debug)]
pub struct Directory {
    pub(crate) version: String,
    pub(crate) agents: BTreeMap<String, Agent>,
    pub(crate) places: BTreeMap<String, Place>,
    pub(crate) login_codes: BTreeMap<String, LoginCode>,
    pub(crate) queues: BTreeSet<String>,
    pub(crate) existing_numbers: BTreeSet<String>,
    pub(crate) multimedia_channels: BTreeSet<String>,
}

/// Why a directory file could not be used. Every variant names the line (and the field where there is one).
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("cannot read directory file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("directory TOML, line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("directory TOML, line {line}, field `{field}`: {message}")]
    Invalid {
        line: usize,
        field: String,
        message: String,
    },
}

/// How many agents the built-in directory holds: `agent1` … `agent21`, one per agent role of the
/// suite (gws-conform's `profiles/reference.toml` gives each role one).
pub const BUILTIN_AGENTS: usize = NUMBER_WORDS.len();

const NUMBER_WORDS: [&str; 21] = [
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
    "Twenty",
    "Twenty-One",
];

fn device(id: &str, number: &str, kind: DeviceKind) -> Device {
    Device {
        id: id.to_string(),
        number: number.to_string(),
        kind,
        registered: true,
    }
}

impl Directory {
    /// Built-in default: every name the samples and `cases/variables.toml` use. Every agent's password is
    /// `agent_password`; the login code `agent1` (Sample 3) needs `login_code_password`.
    pub fn builtin(agent_password: &str, login_code_password: &str) -> Directory {
        use DeviceKind::{Acd, Extension};
        let mut places = BTreeMap::new();
        let mut agents = BTreeMap::new();
        let mut login_codes = BTreeMap::new();
        let mut add_place = |name: &str, devices: Vec<Device>| {
            places.insert(
                name.to_string(),
                Place {
                    name: name.to_string(),
                    devices,
                },
            );
        };
        for (i, word) in NUMBER_WORDS.iter().enumerate() {
            let n = i + 1;
            let username = format!("agent{n}");
            let place = format!("PLACE_agent{n}");
            let dn = format!("70{n:02}");
            add_place(&place, vec![device(&dn, &dn, Extension)]);
            let code = format!("LOGIN_agent{n}");
            login_codes.insert(code.clone(), LoginCode { password: None });
            agents.insert(
                username.clone(),
                Agent {
                    username,
                    password: Secret(agent_password.to_string()),
                    first_name: "Agent".to_string(),
                    last_name: word.to_string(),
                    default_place: place,
                    login_code: Some(code),
                    multimedia_in_service: n != 4,
                },
            );
        }
        add_place("SIP_5000", vec![device("5000", "5000", Extension)]);
        add_place("agent1", vec![device("5001", "5001", Extension)]);
        add_place("agent1@pizza.com", vec![device("5002", "5002", Extension)]);
        add_place(
            "PLACE_MULTI_ACD",
            vec![
                device("acd-6101", "6101", Acd),
                device("acd-6102", "6102", Acd),
            ],
        );
        add_place(
            "PLACE_MULTI_EXT",
            vec![
                device("ext-6201", "6201", Extension),
                device("ext-6202", "6202", Extension),
            ],
        );
        add_place(
            "PLACE_EXT_ACD",
            vec![
                device("ext-6301", "6301", Extension),
                device("acd-6302", "6302", Acd),
            ],
        );
        // A one-device place no agent has as default and only `default-assignment-restored` logs in at.
        add_place("PLACE_RESTORE", vec![device("6501", "6501", Extension)]);
        // A place whose voice DN the switch has not registered: its voice channel fails (Sample 4's
        // mirror case, gws-notes §1.3 [OBS G2]).
        add_place(
            "PLACE_UNREGISTERED",
            vec![Device {
                registered: false,
                ..device("6401", "6401", Extension)
            }],
        );
        login_codes.insert("8000".to_string(), LoginCode { password: None });
        login_codes.insert(
            "agent1".to_string(),
            LoginCode {
                password: Some(Secret(login_code_password.to_string())),
            },
        );
        Directory {
            version: DEFAULT_VERSION.to_string(),
            agents,
            places,
            login_codes,
            queues: ["9000".to_string()].into(),
            existing_numbers: ["+15550100999".to_string()].into(),
            multimedia_channels: DEFAULT_MULTIMEDIA_CHANNELS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }

    /// Parses the TOML directory format described in `reference/README.md`.
    pub fn from_toml_str(text: &str) -> Result<Directory, DirectoryError> {
        let raw: RawDirectory = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            DirectoryError::Syntax {
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        raw.build(text)
    }

    /// Reads and parses a TOML directory file.
    pub fn load(path: &Path) -> Result<Directory, DirectoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| DirectoryError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Directory::from_toml_str(&text)
    }

    /// User names of the directory's agents, sorted.
    pub fn agent_names(&self) -> Vec<&str> {
        self.agents.keys().map(String::as_str).collect()
    }

    /// Names of the directory's places, sorted.
    pub fn place_names(&self) -> Vec<&str> {
        self.places.keys().map(String::as_str).collect()
    }

    pub(crate) fn agent(&self, username: &str) -> Option<&Agent> {
        self.agents.get(username)
    }

    pub(crate) fn place(&self, name: &str) -> Option<&Place> {
        self.places.get(name)
    }

    /// The place holding the device with this path, and the device.
    pub(crate) fn device_by_path(&self, path: &str) -> Option<(&Place, &Device)> {
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        self.places
            .values()
            .find_map(|p| p.devices.iter().find(|d| d.path() == path).map(|d| (p, d)))
    }

    /// Whether the number exists in Configuration Server: a DN of some device, or a listed number.
    pub(crate) fn number_exists(&self, number: &str) -> bool {
        self.existing_numbers.contains(number)
            || self
                .places
                .values()
                .flat_map(|p| p.devices.iter())
                .any(|d| d.number == number)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, column)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDirectory {
    version: Option<String>,
    multimedia_channels: Option<Vec<String>>,
    #[serde(default)]
    queues: Vec<String>,
    #[serde(default)]
    existing_numbers: Vec<String>,
    #[serde(default)]
    agents: Vec<toml::Spanned<RawAgent>>,
    #[serde(default)]
    places: Vec<toml::Spanned<RawPlace>>,
    #[serde(default)]
    login_codes: Vec<toml::Spanned<RawLoginCode>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    username: String,
    password: String,
    first_name: Option<String>,
    last_name: Option<String>,
    default_place: String,
    login_code: Option<String>,
    #[serde(default = "yes")]
    multimedia_in_service: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlace {
    name: String,
    devices: Vec<RawDevice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    id: String,
    number: Option<String>,
    kind: DeviceKind,
    #[serde(default = "yes")]
    registered: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoginCode {
    code: String,
    password: Option<String>,
}

fn yes() -> bool {
    true
}

impl RawDirectory {
    fn build(self, text: &str) -> Result<Directory, DirectoryError> {
        let invalid = |start: usize, field: String, message: String| DirectoryError::Invalid {
            line: line_col(text, start).0,
            field,
            message,
        };
        let mut places = BTreeMap::new();
        let mut device_ids = BTreeSet::new();
        for (i, spanned) in self.places.into_iter().enumerate() {
            let start = spanned.span().start;
            let raw = spanned.into_inner();
            if raw.name.is_empty() {
                return Err(invalid(
                    start,
                    format!("places[{i}].name"),
                    "must not be empty".into(),
                ));
            }
            let mut devices = Vec::new();
            for (j, d) in raw.devices.into_iter().enumerate() {
                if d.id.is_empty() || d.id.contains('/') {
                    return Err(invalid(
                        start,
                        format!("places[{i}].devices[{j}].id"),
                        format!("`{}` is not a usable device id (non-empty, no `/`)", d.id),
                    ));
                }
                if !device_ids.insert(d.id.clone()) {
                    return Err(invalid(
                        start,
                        format!("places[{i}].devices[{j}].id"),
                        format!("device id `{}` is used twice", d.id),
                    ));
                }
                devices.push(Device {
                    number: d.number.unwrap_or_else(|| d.id.clone()),
                    id: d.id,
                    kind: d.kind,
                    registered: d.registered,
                });
            }
            let name = raw.name.clone();
            if places
                .insert(
                    name.clone(),
                    Place {
                        name: raw.name,
                        devices,
                    },
                )
                .is_some()
            {
                return Err(invalid(
                    start,
                    format!("places[{i}].name"),
                    format!("place `{name}` is defined twice"),
                ));
            }
        }
        let mut login_codes = BTreeMap::new();
        for (i, spanned) in self.login_codes.into_iter().enumerate() {
            let start = spanned.span().start;
            let raw = spanned.into_inner();
            let code = raw.code.clone();
            let value = LoginCode {
                password: raw.password.map(Secret),
            };
            if code.is_empty() || login_codes.insert(code.clone(), value).is_some() {
                return Err(invalid(
                    start,
                    format!("login_codes[{i}].code"),
                    format!("login code `{code}` is empty or defined twice"),
                ));
            }
        }
        let mut agents = BTreeMap::new();
        for (i, spanned) in self.agents.into_iter().enumerate() {
            let start = spanned.span().start;
            let raw = spanned.into_inner();
            if raw.username.is_empty() || raw.username.contains(':') {
                return Err(invalid(
                    start,
                    format!("agents[{i}].username"),
                    "must be non-empty and must not contain `:`".into(),
                ));
            }
            if !places.contains_key(&raw.default_place) {
                return Err(invalid(
                    start,
                    format!("agents[{i}].default_place"),
                    format!("no place named `{}`", raw.default_place),
                ));
            }
            if let Some(code) = &raw.login_code {
                if !login_codes.contains_key(code) {
                    return Err(invalid(
                        start,
                        format!("agents[{i}].login_code"),
                        format!("no login code `{code}` in [[login_codes]]"),
                    ));
                }
            }
            let username = raw.username.clone();
            let agent = Agent {
                username: raw.username,
                password: Secret(raw.password),
                first_name: raw.first_name.unwrap_or_else(|| "Agent".into()),
                last_name: raw.last_name.unwrap_or_else(|| username.clone()),
                default_place: raw.default_place,
                login_code: raw.login_code,
                multimedia_in_service: raw.multimedia_in_service,
            };
            if agents.insert(username.clone(), agent).is_some() {
                return Err(invalid(
                    start,
                    format!("agents[{i}].username"),
                    format!("agent `{username}` is defined twice"),
                ));
            }
        }
        if agents.is_empty() {
            return Err(DirectoryError::Invalid {
                line: 1,
                field: "agents".into(),
                message: "the directory needs at least one [[agents]] entry".into(),
            });
        }
        let multimedia_channels: BTreeSet<String> = self
            .multimedia_channels
            .unwrap_or_else(|| {
                DEFAULT_MULTIMEDIA_CHANNELS
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            })
            .into_iter()
            .collect();
        if multimedia_channels.contains("voice") {
            return Err(DirectoryError::Invalid {
                line: 1,
                field: "multimedia_channels".into(),
                message: "`voice` is not a multimedia channel".into(),
            });
        }
        Ok(Directory {
            version: self.version.unwrap_or_else(|| DEFAULT_VERSION.to_string()),
            agents,
            places,
            login_codes,
            queues: self.queues.into_iter().collect(),
            existing_numbers: self.existing_numbers.into_iter().collect(),
            multimedia_channels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
version = "8.5.200.50-test"
multimedia_channels = ["chat", "email"]
queues = ["9000"]
existing_numbers = ["+15550100999"]

[[agents]]
username = "alice"
password = "pw"
default_place = "P1"
login_code = "L1"

[[agents]]
username = "bob"
password = "pw2"
default_place = "P2"
multimedia_in_service = false

[[places]]
name = "P1"
devices = [{ id = "1001", kind = "extension" }]

[[places]]
name = "P2"
devices = [
  { id = "acd-1", number = "2001", kind = "acd" },
  { id = "acd-2", number = "2002", kind = "acd", registered = false },
]

[[login_codes]]
code = "L1"

[[login_codes]]
code = "L2"
password = "secret"
"#;

    #[test]
    fn parses_the_documented_format() {
        let d = Directory::from_toml_str(SAMPLE).unwrap();
        assert_eq!(d.agent_names(), vec!["alice", "bob"]);
        assert_eq!(d.version, "8.5.200.50-test");
        assert!(!d.agent("bob").unwrap().multimedia_in_service);
        assert!(d.number_exists("2002"));
        assert!(d.number_exists("+15550100999"));
        assert!(!d.number_exists("+15550100200"));
        let (p, dev) = d.device_by_path("/devices/acd-2").unwrap();
        assert_eq!(p.name, "P2");
        assert!(!dev.registered);
        assert!(d.login_codes["L2"].password.is_some());
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err =
            Directory::from_toml_str("queues = [\"9000\"]\n[[agents]]\nusername = \n").unwrap_err();
        match err {
            DirectoryError::Syntax { line, .. } => assert_eq!(line, 3),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn unknown_fields_are_named() {
        let text = "[[agents]]\nusername = \"a\"\npassword = \"b\"\ndefault_place = \"P\"\ncolour = \"red\"\n";
        let msg = Directory::from_toml_str(text).unwrap_err().to_string();
        assert!(msg.contains("colour"), "{msg}");
        assert!(msg.contains("line"), "{msg}");
    }

    #[test]
    fn dangling_references_name_field_and_line() {
        let text = "[[places]]\nname = \"P\"\ndevices = []\n\n[[agents]]\nusername = \"a\"\npassword = \"b\"\ndefault_place = \"Q\"\n";
        match Directory::from_toml_str(text).unwrap_err() {
            DirectoryError::Invalid { line, field, .. } => {
                assert_eq!(field, "agents[0].default_place");
                assert_eq!(line, 5);
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn builtin_holds_the_case_variables() {
        let d = Directory::builtin("pw", "lcpw");
        for name in [
            "SIP_5000",
            "agent1",
            "agent1@pizza.com",
            "PLACE_MULTI_ACD",
            "PLACE_MULTI_EXT",
            "PLACE_EXT_ACD",
            "PLACE_UNREGISTERED",
            "PLACE_RESTORE",
            "PLACE_agent16",
            "PLACE_agent21",
        ] {
            assert!(d.place(name).is_some(), "{name}");
        }
        assert_eq!(d.agents.len(), 21);
        assert_eq!(BUILTIN_AGENTS, 21);
        assert_eq!(d.place("PLACE_agent21").unwrap().devices[0].id, "7021");
        assert!(d.agent("agent21").unwrap().multimedia_in_service);
        assert!(d.login_codes.contains_key("8000"));
        assert!(d.login_codes.contains_key("agent1"));
        assert!(d.queues.contains("9000"));
        assert!(d.number_exists("5000"));
        assert!(!d.number_exists("+15550100200"));
        assert!(d.device_by_path("/devices/acd-6101").is_some());
        assert!(d.device_by_path("/devices/ext-6201").is_some());
        assert!(!d.place("PLACE_UNREGISTERED").unwrap().devices[0].registered);
        assert!(!d.agent("agent4").unwrap().multimedia_in_service);
        assert_eq!(d.agent("agent1").unwrap().password.0, "pw");
        assert!(!format!("{d:?}").contains("lcpw"));
    }
}
