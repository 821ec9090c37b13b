//! The contact-center model behind the HTTP layer: per-agent login state, device and number claims, and
//! the StartContactCenterSession / EndContactCenterSession / Ready / NotReady logic.
//!
//! Locking: every agent has its own `Mutex<AgentState>` in a map that is built once and never changes, so
//! looking an agent up takes no lock. Device and dynamic-number claims live in one small `Mutex<Claims>`
//! that is only taken while an agent lock is held (never the other way round) and never across an await.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use crate::directory::{Agent, Device, DeviceKind, Directory, Place};
use crate::fault::Fault;
use crate::notifications::{self as n, NotificationBus};
use crate::reply::Reply;

const VOICE_ENVIRONMENT_ID: &str = "370ef5e6-9e3c-4d91-9588-7f4dfe67e011";
pub(crate) const INTERACTION_SERVER_DOWN: &str = "Interaction server connection is not opened";
pub(crate) const WORKMODE_INVALID: &str =
    "Parameter 'workmode' is invalid: \"The specified value is not within valid range\"";
const WORKMODE_INVALID_WRAPPED: &str =
    "Parameter 'workmode' is invalid: \"The specified value is not within\nvalid range\"";

#[derive(Default)]
struct AgentState {
    voice: Option<VoiceLogin>,
    /// Multimedia channels currently logged in.
    multimedia: BTreeSet<String>,
}

struct VoiceLogin {
    device: Device,
    ready: bool,
    dynamic_number: Option<String>,
}

#[derive(Default)]
struct Claims {
    /// Device path -> user name of the live session holding it.
    devices: HashMap<String, String>,
    /// Dynamic phone number -> user name of the live session using it.
    numbers: HashMap<String, String>,
}

impl Claims {
    /// 409 when another user's session holds the device.
    fn check_device(&self, path: &str, number: &str, username: &str) -> Result<(), Reply> {
        if self.devices.get(path).is_some_and(|u| u != username) {
            return Err(Reply::error(
                StatusCode::CONFLICT,
                19,
                format!("Device '{number}' is already in use"),
            ));
        }
        Ok(())
    }
}

pub(crate) struct ContactCenter {
    dir: Directory,
    fault: Option<Fault>,
    base_url: String,
    agents: HashMap<String, Mutex<AgentState>>,
    claims: Mutex<Claims>,
    bus: NotificationBus,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Stable user id derived from the user name (FNV-1a), formatted as a UUID.
fn user_id(username: &str) -> String {
    let hash = |seed: u64| {
        username.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    uuid::Uuid::from_u64_pair(hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4)).to_string()
}

/// An optional string parameter: absent or null is `None`; any other non-string is invalid.
fn opt_str(body: &Map<String, Value>, name: &str) -> Result<Option<String>, Reply> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Reply::bad(
            2,
            format!("Parameter '{name}' is invalid: \"Expected a string value\""),
        )),
    }
}

enum ChannelResult {
    Ok(&'static str),
    Failed(i64, String, String),
}

impl ContactCenter {
    pub(crate) fn new(
        dir: Directory,
        fault: Option<Fault>,
        base_url: String,
        bus: NotificationBus,
    ) -> Self {
        let agents = dir
            .agents
            .keys()
            .map(|name| (name.clone(), Mutex::new(AgentState::default())))
            .collect();
        ContactCenter {
            dir,
            fault,
            base_url,
            agents,
            claims: Mutex::new(Claims::default()),
            bus,
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.fault == Some(fault)
    }

    pub(crate) fn directory(&self) -> &Directory {
        &self.dir
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    fn agent_state(&self, username: &str) -> MutexGuard<'_, AgentState> {
        // Every authenticated principal is a directory agent, so the entry exists.
        lock(&self.agents[username])
    }

    fn device_json(&self, device: &Device, user_state: Value, dynamic_number: &str) -> Value {
        json!({
            "id": device.id,
            "deviceState": if device.registered { "Active" } else { "Inactive" },
            "userState": user_state,
            "phoneNumber": device.number,
            "e164Number": device.number,
            "telephonyNetwork": "Private",
            "doNotDisturb": "Off",
            "voiceEnvironmentUri": format!("{}/api/v2/voice-environments/{VOICE_ENVIRONMENT_ID}", self.base_url),
            "capabilities": ["DoNotDisturbOn", "ForwardCallsOn"],
            "dynamicPhoneNumber": dynamic_number,
            "description": "",
            "channels": ["voice"],
        })
    }

    /// The user resource of `GET /api/v2/me`.
    pub(crate) fn user_json(&self, username: &str) -> Value {
        let agent = &self.dir.agents[username];
        let id = user_id(username);
        json!({
            "id": id,
            "userName": agent.username,
            "firstName": agent.first_name,
            "lastName": agent.last_name,
            "roles": ["ROLE_AGENT"],
            "enabled": true,
            "changePasswordOnFirstLogin": false,
            "uri": format!("{}/api/v2/users/{id}", self.base_url),
            "path": format!("/users/{id}"),
        })
    }

    /// The agent's currently assigned devices: the login device during a voice session, else the devices
    /// of the default place.
    pub(crate) fn devices_json(&self, username: &str) -> Vec<Value> {
        let state = self.agent_state(username);
        match &state.voice {
            Some(v) => vec![self.device_json(
                &v.device,
                if v.ready {
                    n::user_state_ready()
                } else {
                    n::user_state_not_ready()
                },
                v.dynamic_number.as_deref().unwrap_or(""),
            )],
            None => {
                let agent = &self.dir.agents[username];
                self.dir.places[&agent.default_place]
                    .devices
                    .iter()
                    .map(|d| self.device_json(d, n::user_state_logged_out(), ""))
                    .collect()
            }
        }
    }

    fn parse_channels(&self, body: &Map<String, Value>) -> Result<Vec<String>, Reply> {
        let invalid = || {
            Reply::bad(
                2,
                "Parameter 'channels' is invalid: \"Expected a non-empty array of channel names\"",
            )
        };
        let voice = || vec!["voice".to_string()];
        match body.get("channels") {
            None | Some(Value::Null) if self.has(Fault::MissingChannelsAccepted) => Ok(voice()),
            None | Some(Value::Null) => Err(Reply::bad(1, "Parameter 'channels' is missing")),
            Some(Value::Array(items)) if items.is_empty() => {
                if self.has(Fault::EmptyChannelsAccepted) {
                    Ok(voice())
                } else {
                    Err(invalid())
                }
            }
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(invalid))
                .collect(),
            Some(Value::String(s)) if self.has(Fault::NonArrayChannelsAccepted) => {
                Ok(vec![s.clone()])
            }
            Some(_) => Err(invalid()),
        }
    }

    fn parse_workmode(&self, body: &Map<String, Value>) -> Result<Option<&'static str>, Reply> {
        const MODES: [&str; 2] = ["ManualIn", "AutoIn"];
        let given = match body.get("workmode") {
            None | Some(Value::Null) => return Ok(None),
            Some(v) => v,
        };
        if let Some(s) = given.as_str() {
            if let Some(m) = MODES.iter().find(|m| **m == s) {
                return Ok(Some(m));
            }
            if self.has(Fault::WorkmodeCaseInsensitive) {
                if let Some(m) = MODES.iter().find(|m| m.eq_ignore_ascii_case(s)) {
                    return Ok(Some(m));
                }
            }
        }
        if self.has(Fault::InvalidWorkmodeAccepted) {
            return Ok(None);
        }
        let code = if self.has(Fault::InvalidWorkmodeCode10) {
            10
        } else {
            2
        };
        let message = if self.has(Fault::InvalidWorkmodeMessageWrapped) {
            WORKMODE_INVALID_WRAPPED
        } else {
            WORKMODE_INVALID
        };
        Err(Reply::bad(code, message))
    }

    /// The place to use: the named one, or the agent's default place.
    fn resolve_place<'a>(&'a self, agent: &Agent, place: Option<&str>) -> Result<&'a Place, Reply> {
        let default = &self.dir.places[&agent.default_place];
        match place {
            None => Ok(default),
            Some(name) => match self.dir.place(name) {
                Some(p) => Ok(p),
                None if self.has(Fault::UnknownPlaceAccepted) => Ok(default),
                None => Err(Reply::error(
                    StatusCode::NOT_FOUND,
                    6,
                    format!("Place '{name}' not found"),
                )),
            },
        }
    }

    /// The device to log in on: `devicePath` if given, else the place's only device, else its only ACD
    /// position.
    fn resolve_device(
        &self,
        agent: &Agent,
        place: &Place,
        device_path: Option<&str>,
    ) -> Result<Device, Reply> {
        let device_path = if self.has(Fault::DevicePathIgnored) {
            None
        } else {
            device_path
        };
        if let Some(path) = device_path {
            return match self.dir.device_by_path(path) {
                None => Err(Reply::error(
                    StatusCode::NOT_FOUND,
                    6,
                    format!("Device '{path}' not found"),
                )),
                Some((p, d)) if p.name == place.name || p.name == agent.default_place => Ok(d.clone()),
                Some(_) => Err(Reply::bad(
                    2,
                    format!(
                        "Parameter 'devicePath' is invalid: device '{path}' is not assigned to place '{}'",
                        place.name
                    ),
                )),
            };
        }
        match place.devices.as_slice() {
            [] => Err(Reply::bad(
                2,
                format!("Place '{}' has no devices", place.name),
            )),
            [only] => Ok(only.clone()),
            several => {
                let acds: Vec<&Device> = several
                    .iter()
                    .filter(|d| d.kind == DeviceKind::Acd)
                    .collect();
                match acds.as_slice() {
                    [one] => Ok((*one).clone()),
                    [first, ..] if self.has(Fault::MultiAcdWithoutDevicePathAccepted) => Ok((*first).clone()),
                    _ => Err(Reply::bad(
                        2,
                        format!(
                            "Cannot resolve the device of place '{}': it has {} devices and {} ACD positions; specify devicePath",
                            place.name,
                            several.len(),
                            acds.len()
                        ),
                    )),
                }
            }
        }
    }

    /// StartContactCenterSession. Parameters are validated in the order of the README's behaviour table.
    pub(crate) fn start(&self, username: &str, body: &Map<String, Value>) -> Reply {
        match self.try_start(username, body) {
            Ok(reply) | Err(reply) => reply,
        }
    }

    fn try_start(&self, username: &str, body: &Map<String, Value>) -> Result<Reply, Reply> {
        let agent = &self.dir.agents[username];
        let channels = self.parse_channels(body)?;
        let workmode = self.parse_workmode(body)?;
        let place_param = opt_str(body, "place")?;
        let device_path = opt_str(body, "devicePath")?;
        let login_code_param = opt_str(body, "loginCode")?;
        let login_password = opt_str(body, "agentLoginPassword")?;
        let queue = opt_str(body, "queue")?.filter(|q| !q.is_empty());
        let dynamic_number = opt_str(body, "dynamicPhoneNumber")?.filter(|q| !q.is_empty());

        // Split the requested channels: voice, known multimedia channels, unknown names.
        let mut wants_voice = false;
        let mut multimedia: Vec<String> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for c in channels {
            if c == "voice" {
                wants_voice = true;
            } else if self.dir.multimedia_channels.contains(&c) {
                if !multimedia.contains(&c) {
                    multimedia.push(c);
                }
            } else if !unknown.contains(&c) {
                unknown.push(c);
            }
        }

        let place = self.resolve_place(agent, place_param.as_deref())?;
        let device = self.resolve_device(agent, place, device_path.as_deref())?;

        let mut state = self.agent_state(username);
        let logging_in = wants_voice && state.voice.is_none();
        if logging_in {
            // Checked first so that a device in use outranks the later validation errors; checked
            // again where it is claimed, since another agent may claim it in between.
            lock(&self.claims).check_device(&device.path(), &device.number, username)?;
        }

        let login_code = match &login_code_param {
            Some(code) => {
                let Some(lc) = self.dir.login_codes.get(code) else {
                    return Err(Reply::bad(
                        2,
                        format!("Parameter 'loginCode' is invalid: agent login '{code}' not found"),
                    ));
                };
                if let Some(expected) = &lc.password {
                    let ok = login_password.as_deref() == Some(expected.0.as_str());
                    if !ok && !self.has(Fault::LoginCodePasswordNotChecked) {
                        return Err(Reply::bad(
                            2,
                            format!("RequestAgentLogin rejected for agent login '{code}': invalid agentLoginPassword"),
                        ));
                    }
                }
                Some(code.clone())
            }
            None => agent.login_code.clone(),
        };
        if let Some(q) = &queue {
            if !self.dir.queues.contains(q) {
                return Err(Reply::bad(
                    2,
                    format!("Parameter 'queue' is invalid: queue '{q}' not found"),
                ));
            }
        }
        if let Some(number) = &dynamic_number {
            if self.dir.number_exists(number) && !self.has(Fault::DynamicNumberCollisionAccepted) {
                return Err(Reply::bad(
                    18,
                    format!("Phone number '{number}' already exists"),
                ));
            }
        }

        // Per-channel processing. Nothing is changed until every check above has passed.
        let mut results: Vec<ChannelResult> = Vec::new();
        let mut messages: Vec<Value> = Vec::new();
        if wants_voice {
            if !logging_in {
                if self.has(Fault::AlreadyLoggedInError) {
                    return Err(Reply::bad(
                        2,
                        format!("Agent '{username}' is already logged in"),
                    ));
                }
                if self.has(Fault::NotificationWhenAlreadyLoggedIn) {
                    // The fault: the skipped login still notifies, as if it had happened again.
                    if let Some(v) = &state.voice {
                        let dynamic = v.dynamic_number.as_deref().unwrap_or("");
                        let now = if v.ready {
                            n::user_state_ready()
                        } else {
                            n::user_state_not_ready()
                        };
                        messages.push(n::device_state_change(vec![self.device_json(
                            &v.device,
                            n::user_state_logged_in(),
                            dynamic,
                        )]));
                        messages.push(n::device_state_change(vec![
                            self.device_json(&v.device, now, dynamic)
                        ]));
                    }
                }
                results.push(ChannelResult::Ok("voice"));
            } else if !device.registered {
                results.push(ChannelResult::Failed(
                    4,
                    format!("Device '{}' is not registered.", device.number),
                    "voice".into(),
                ));
            } else if login_code.is_none() {
                results.push(ChannelResult::Failed(
                    4,
                    format!("No agent login is assigned to user '{username}'"),
                    "voice".into(),
                ));
            } else {
                {
                    // Check and claim under one lock: two agents racing for one device, one wins.
                    let mut claims = lock(&self.claims);
                    claims.check_device(&device.path(), &device.number, username)?;
                    if let Some(number) = &dynamic_number {
                        if claims.numbers.get(number).is_some_and(|u| u != username) {
                            return Err(Reply::error(
                                StatusCode::CONFLICT,
                                19,
                                format!("Phone number '{number}' is already in use"),
                            ));
                        }
                        claims.numbers.insert(number.clone(), username.to_string());
                    }
                    claims.devices.insert(device.path(), username.to_string());
                }
                let ready = workmode == Some("AutoIn");
                let dynamic = dynamic_number.clone().unwrap_or_default();
                messages.push(n::device_state_change(vec![self.device_json(
                    &device,
                    n::user_state_logged_in(),
                    &dynamic,
                )]));
                messages.push(n::device_state_change(vec![self.device_json(
                    &device,
                    if ready {
                        n::user_state_ready()
                    } else {
                        n::user_state_not_ready()
                    },
                    &dynamic,
                )]));
                state.voice = Some(VoiceLogin {
                    device,
                    ready,
                    dynamic_number,
                });
                results.push(ChannelResult::Ok("voice"));
            }
        }
        if !multimedia.is_empty() {
            if agent.multimedia_in_service {
                let fresh: Vec<String> = multimedia
                    .into_iter()
                    .filter(|c| !state.multimedia.contains(c))
                    .collect();
                if !fresh.is_empty() {
                    state.multimedia.extend(fresh.iter().cloned());
                    messages.push(n::channel_state_change(&fresh, n::user_state_not_ready()));
                }
                results.push(ChannelResult::Ok("multimedia"));
            } else {
                results.push(ChannelResult::Failed(
                    4,
                    INTERACTION_SERVER_DOWN.into(),
                    "multimedia".into(),
                ));
            }
        }
        if !self.has(Fault::UnknownChannelAccepted) {
            for name in unknown {
                results.push(ChannelResult::Failed(
                    2,
                    format!("Channel '{name}' is not supported"),
                    name,
                ));
            }
        }
        drop(state);
        for m in messages {
            self.bus.publish(username, m);
        }

        let mut succeeded = Vec::new();
        let mut failed = Vec::new();
        for r in results {
            match r {
                ChannelResult::Ok(channel) => {
                    succeeded.push(json!({ "statusCode": 0, "channel": channel }))
                }
                ChannelResult::Failed(code, message, channel) => failed.push(json!({
                    "statusCode": code, "statusMessage": message, "channel": channel,
                })),
            }
        }
        if failed.is_empty() {
            return Ok(Reply::op_ok());
        }
        if succeeded.is_empty() {
            let first = &failed[0];
            let code = first["statusCode"].as_i64().unwrap_or(4);
            let status = if code == 4 {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::BAD_REQUEST
            };
            let message = first["statusMessage"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            return Err(Reply::error(status, code, message));
        }
        Ok(if self.has(Fault::PartialSuccessAsZero) {
            Reply::op_ok()
        } else if self.has(Fault::PartialSuccessWithoutArrays) {
            Reply::partial(json!({ "statusCode": 7 }))
        } else if self.has(Fault::PartialSuccessSwapped) {
            Reply::partial(json!({ "statusCode": 7, "failed": succeeded, "succeeded": failed }))
        } else {
            Reply::partial(json!({ "statusCode": 7, "failed": failed, "succeeded": succeeded }))
        })
    }

    /// EndContactCenterSession: logs out of every channel and restores the default device assignment.
    /// Answers 0 also when the agent has no session. (The HTTP session is invalidated by the caller.)
    pub(crate) fn end(&self, username: &str) -> Reply {
        let mut messages = Vec::new();
        {
            let mut state = self.agent_state(username);
            if let Some(v) = state.voice.take() {
                let mut claims = lock(&self.claims);
                let path = v.device.path();
                if claims.devices.get(&path).is_some_and(|u| u == username) {
                    claims.devices.remove(&path);
                }
                if let Some(number) = &v.dynamic_number {
                    if claims.numbers.get(number).is_some_and(|u| u == username) {
                        claims.numbers.remove(number);
                    }
                }
                messages.push(n::device_state_change(vec![self.device_json(
                    &v.device,
                    n::user_state_logged_out(),
                    "",
                )]));
            }
            if !state.multimedia.is_empty() {
                let channels: Vec<String> =
                    std::mem::take(&mut state.multimedia).into_iter().collect();
                messages.push(n::channel_state_change(
                    &channels,
                    n::user_state_logged_out(),
                ));
            }
        }
        for m in messages {
            self.bus.publish(username, m);
        }
        Reply::op_ok()
    }

    /// Ready / NotReady on the voice channel (`POST /api/v2/me/channels/voice`).
    pub(crate) fn set_voice_ready(&self, username: &str, ready: bool) -> Reply {
        let message = {
            let mut state = self.agent_state(username);
            let Some(v) = state.voice.as_mut() else {
                return Reply::bad(2, "The agent is not logged in on the voice channel");
            };
            v.ready = ready;
            n::device_state_change(vec![self.device_json(
                &v.device,
                if ready {
                    n::user_state_ready()
                } else {
                    n::user_state_not_ready()
                },
                v.dynamic_number.as_deref().unwrap_or(""),
            )])
        };
        self.bus.publish(username, message);
        Reply::op_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(fault: Option<Fault>) -> ContactCenter {
        ContactCenter::new(
            Directory::builtin("pw", "lcpw"),
            fault,
            "http://127.0.0.1:1".into(),
            NotificationBus::new(),
        )
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn user_ids_are_stable_and_distinct() {
        assert_eq!(user_id("agent1"), user_id("agent1"));
        assert_ne!(user_id("agent1"), user_id("agent2"));
    }

    #[test]
    fn place_with_one_acd_and_one_extension_logs_in_on_the_acd() {
        let c = cc(None);
        let r = c.start(
            "agent8",
            &body(json!({"channels": ["voice"], "place": "PLACE_EXT_ACD"})),
        );
        assert_eq!(r.status_code(), Some(0));
        assert_eq!(c.devices_json("agent8")[0]["id"], "acd-6302");
    }

    #[test]
    fn unregistered_device_fails_voice_with_code_4() {
        let text = r#"
[[agents]]
username = "a"
password = "p"
default_place = "P"
login_code = "L"
[[places]]
name = "P"
devices = [{ id = "1", kind = "extension", registered = false }]
[[login_codes]]
code = "L"
"#;
        let c = ContactCenter::new(
            Directory::from_toml_str(text).unwrap(),
            None,
            String::new(),
            NotificationBus::new(),
        );
        let r = c.start("a", &body(json!({"channels": ["voice", "chat"]})));
        let Reply::Json { body, .. } = r else {
            panic!()
        };
        assert_eq!(body["statusCode"], 7);
        assert_eq!(
            body["failed"][0]["statusMessage"],
            "Device '1' is not registered."
        );
        assert_eq!(body["succeeded"][0]["channel"], "multimedia");
    }
}
