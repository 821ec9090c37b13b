//! The contact-center model behind the HTTP layer: per-agent login state, device and number claims, and
//! the StartContactCenterSession / EndContactCenterSession / Ready / NotReady logic.
//!
//! Locking: every agent has its own `Mutex<AgentState>` in a map that is built once and never changes, so
//! looking an agent up takes no lock. Device and dynamic-number claims live in one small `Mutex<Claims>`
//! that is only taken while an agent lock is held (never the other way round) and never across an await.

mod params;
mod start;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::directory::{Device, Directory};
use crate::fault::Fault;
use crate::notifications::{self as n, NotificationBus};
use crate::reply::Reply;
use crate::variant::{Behaviour, Variant};

/// How long variant `slow-logout` takes to log an agent out after End answered.
const SLOW_LOGOUT: Duration = Duration::from_secs(3);
/// How long variant `late-restore` keeps an ended session's device assigned after the logout.
const LATE_RESTORE: Duration = Duration::from_secs(6);
const VOICE_ENVIRONMENT_ID: &str = "370ef5e6-9e3c-4d91-9588-7f4dfe67e011";
pub(crate) const INTERACTION_SERVER_DOWN: &str = "Interaction server connection is not opened";

#[derive(Default)]
struct AgentState {
    voice: Option<VoiceLogin>,
    /// Multimedia channels currently logged in.
    multimedia: BTreeSet<String>,
    /// Variant `slow-logout`: when End's logout takes effect (applied by the next operation that looks
    /// at any agent's state).
    logout_due: Option<Instant>,
    /// Fault `default-assignment-not-restored` (for good) and variant `late-restore` (until
    /// `restore_due`): the last session's device, still assigned after End.
    kept_device: Option<Device>,
    /// Variant `late-restore`: when the default assignment comes back.
    restore_due: Option<Instant>,
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
    b: Behaviour,
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

/// One channel's outcome: its name, or a statusCode, statusMessage and name.
enum ChannelResult {
    Ok(String),
    Failed(i64, String, String),
}

impl ContactCenter {
    pub(crate) fn new(
        dir: Directory,
        b: Behaviour,
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
            b,
            base_url,
            agents,
            claims: Mutex::new(Claims::default()),
            bus,
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.b.has(fault)
    }

    fn varies(&self, v: Variant) -> bool {
        self.b.varies(v)
    }

    pub(crate) fn directory(&self) -> &Directory {
        &self.dir
    }

    pub(crate) fn bus(&self) -> &NotificationBus {
        &self.bus
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    fn agent_state(&self, username: &str) -> MutexGuard<'_, AgentState> {
        self.log_out_due();
        // Every authenticated principal is a directory agent, so the entry exists.
        let mut state = lock(&self.agents[username]);
        // Its own, once more under the lock: one may have fallen due since the sweep.
        self.log_out_if_due(username, &mut state);
        state
    }

    /// Variant `slow-logout`: every logout whose time has come takes effect, whoever's it is, at
    /// any operation that looks at an agent's state (Start, End, Ready/NotReady, the user's devices),
    /// so that a device or number an ended session held is free for another agent 3 s after End, not
    /// only at that agent's next request. Each agent's lock is taken alone, with nothing else held, so
    /// no order of locks can deadlock.
    fn log_out_due(&self) {
        if !self.varies(Variant::SlowLogout) {
            return;
        }
        for (username, agent) in &self.agents {
            self.log_out_if_due(username, &mut lock(agent));
        }
    }

    fn log_out_if_due(&self, username: &str, state: &mut AgentState) {
        if state.logout_due.is_some_and(|due| due <= Instant::now()) {
            state.logout_due = None;
            for m in self.log_out(username, state) {
                self.bus.publish(username, m);
            }
        }
    }

    fn device_json(&self, device: &Device, user_state: Value, dynamic_number: &str) -> Value {
        let mut d = json!({
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
        });
        if self.varies(Variant::ExtraFields) {
            d["extra"] = json!({ "note": "a member no source names" });
        }
        if self.has(Fault::DynamicNumberAsDevice) && !dynamic_number.is_empty() {
            d["phoneNumber"] = json!(dynamic_number);
            d["e164Number"] = json!(dynamic_number);
        }
        d
    }

    /// The userState of a logged-in agent.
    fn user_state(&self, ready: bool) -> Value {
        if ready {
            n::user_state_ready()
        } else {
            n::user_state_not_ready()
        }
    }

    /// The URI of a device resource.
    fn device_uri(&self, device: &Device) -> String {
        format!("{}/api/v2/devices/{}", self.base_url, device.id)
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
        let mut state = self.agent_state(username);
        if state.restore_due.is_some_and(|due| due <= Instant::now()) {
            state.restore_due = None;
            state.kept_device = None;
        }
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
            None if state.kept_device.is_some() => state
                .kept_device
                .iter()
                .map(|d| self.device_json(d, n::user_state_logged_out(), ""))
                .collect(),
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

    /// EndContactCenterSession: logs out of every channel and restores the default device assignment.
    /// Answers 0 also when the agent has no session. (The HTTP session is invalidated by the caller.)
    pub(crate) fn end(&self, username: &str) -> Reply {
        let messages = {
            let mut state = self.agent_state(username);
            let idle = state.voice.is_none() && state.multimedia.is_empty();
            if idle && self.varies(Variant::EndWithoutSessionError) {
                return Reply::bad(
                    2,
                    format!("User '{username}' has no contact center session to end"),
                );
            }
            if self.varies(Variant::SlowLogout) && !idle {
                // Accepted and forwarded: the logout takes effect a moment later.
                state.logout_due.get_or_insert(Instant::now() + SLOW_LOGOUT);
                return Reply::op_ok();
            }
            self.log_out(username, &mut state)
        };
        for m in messages {
            self.bus.publish(username, m);
        }
        Reply::op_ok()
    }

    /// Logs out of every channel and releases the claims; the messages that announce it.
    fn log_out(&self, username: &str, state: &mut AgentState) -> Vec<Value> {
        let mut messages = Vec::new();
        if let Some(v) = state.voice.take() {
            if self.has(Fault::DefaultAssignmentNotRestored) {
                state.kept_device = Some(v.device.clone());
            } else if self.varies(Variant::LateRestore) {
                state.kept_device = Some(v.device.clone());
                state.restore_due = Some(Instant::now() + LATE_RESTORE);
            }
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
            if !self.varies(Variant::NoLogoutNotification) {
                messages.push(n::device_state_change(vec![self.device_json(
                    &v.device,
                    n::user_state_logged_out(),
                    "",
                )]));
            }
        }
        if !state.multimedia.is_empty() {
            let channels: Vec<String> = std::mem::take(&mut state.multimedia).into_iter().collect();
            messages.push(n::channel_state_change(
                &channels,
                n::user_state_logged_out(),
            ));
        }
        messages
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
    use serde_json::Map;

    fn cc(fault: Option<Fault>) -> ContactCenter {
        ContactCenter::new(
            Directory::builtin("pw", "lcpw"),
            Behaviour::new(fault, &[]),
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
            Behaviour::default(),
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
