//! StartContactCenterSession: every synchronous check first (in the order of the README's behaviour
//! table), then each channel, then one answer. Nothing changes until every check has passed.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::params::Params;
use super::{lock, AgentState, ChannelResult, ContactCenter, VoiceLogin, INTERACTION_SERVER_DOWN};
use crate::directory::{Agent, Device};
use crate::fault::Fault;
use crate::notifications as n;
use crate::reply::Reply;
use crate::variant::Variant;

/// What a voice login needs once the checks have passed.
struct Login {
    device: Device,
    workmode: Option<&'static str>,
    has_login_code: bool,
    dynamic_number: Option<String>,
    /// A backend refusal that the `async-*` variants report on CometD instead of in the answer.
    rejected: Option<String>,
}

/// The requested channels split into voice, known multimedia names and unknown names.
struct Channels {
    voice: bool,
    multimedia: Vec<String>,
    unknown: Vec<String>,
}

impl ContactCenter {
    /// StartContactCenterSession for `username`.
    pub(crate) fn start(&self, username: &str, body: &Map<String, Value>) -> Reply {
        match self.try_start(username, body) {
            Ok(reply) | Err(reply) => reply,
        }
    }

    fn try_start(&self, username: &str, body: &Map<String, Value>) -> Result<Reply, Reply> {
        let agent = &self.dir.agents[username];
        let params = Params {
            b: self.b,
            dir: &self.dir,
        };
        self.check_extremes(body)?;
        let channels = self.split(params.parse_channels(body)?);
        let workmode = params.parse_workmode(body)?;
        let place_param = params.opt_str(body, "place")?;
        let device_path = params.opt_str(body, "devicePath")?;
        let login_code_param = params.opt_str(body, "loginCode")?;
        let login_password = params.opt_str(body, "agentLoginPassword")?;
        let queue = params.opt_str(body, "queue")?.filter(|q| !q.is_empty());
        let dynamic_number = params
            .opt_str(body, "dynamicPhoneNumber")?
            .filter(|q| !q.is_empty());
        if let Some(name) = channels.multimedia.iter().find(|c| *c != "chat") {
            if self.has(Fault::OnlyChatMultimedia) {
                return Err(Reply::bad(
                    2,
                    format!("Parameter 'channels' is invalid: channel '{name}' is not supported"),
                ));
            }
        }
        if let Some(name) = channels.unknown.first() {
            if self.varies(Variant::UnknownChannelRefused) {
                return Err(Reply::bad(
                    2,
                    format!("Parameter 'channels' is invalid: channel '{name}' is not supported"),
                ));
            }
        }

        let place = params.resolve_place(agent, place_param.as_deref())?;
        let mut rejected = None;
        let device = match params.resolve_device(agent, place, device_path.as_deref()) {
            Ok(device) => device,
            // Accepted and forwarded; the refusal comes by CometD, on the place's first device.
            Err(reply)
                if self.varies(Variant::AsyncPlaceRefusal)
                    && params.unresolvable(place, device_path.as_deref()) =>
            {
                rejected = Some(reply.message().unwrap_or_default());
                place.devices[0].clone()
            }
            Err(reply) => return Err(reply),
        };

        let mut state = self.agent_state(username);
        let logging_in = channels.voice && state.voice.is_none();
        if logging_in {
            // Checked first so that a device in use outranks the later validation errors; checked
            // again where it is claimed, since another agent may claim it in between.
            lock(&self.claims).check_device(&device.path(), &device.number, username)?;
        }
        let login_code = self.check_login_code(
            agent,
            login_code_param,
            login_password.as_deref(),
            &mut rejected,
        )?;
        self.check_queue_and_number(queue.as_deref(), dynamic_number.as_deref(), &mut rejected)?;

        let mut results: Vec<ChannelResult> = Vec::new();
        let mut messages: Vec<Value> = Vec::new();
        if channels.voice {
            let login = Login {
                device,
                workmode,
                has_login_code: login_code.is_some(),
                dynamic_number,
                rejected,
            };
            let result =
                self.start_voice(username, &mut state, logging_in, login, &mut messages)?;
            results.push(result);
        }
        if !channels.multimedia.is_empty() {
            results.extend(self.start_multimedia(
                agent,
                &mut state,
                channels.multimedia,
                &mut messages,
            ));
        }
        let ignore_unknown =
            self.has(Fault::UnknownChannelAccepted) || self.varies(Variant::UnknownChannelIgnored);
        if !ignore_unknown {
            for name in channels.unknown {
                let message = format!("Channel '{name}' is not supported");
                results.push(ChannelResult::Failed(2, message, name));
            }
        }
        drop(state);
        for m in messages {
            self.bus.publish(username, m);
        }
        self.answer(results)
    }

    /// The faults about the request as a whole: a parameter the table does not define
    /// (`unknown-parameter-refused`), a very long string (`overlong-value-500`).
    fn check_extremes(&self, body: &Map<String, Value>) -> Result<(), Reply> {
        const TABLE: [&str; 9] = [
            "operationName",
            "channels",
            "place",
            "loginCode",
            "agentLoginPassword",
            "queue",
            "devicePath",
            "workmode",
            "dynamicPhoneNumber",
        ];
        if self.has(Fault::UnknownParameterRefused) {
            if let Some(k) = body.keys().find(|k| !TABLE.contains(&k.as_str())) {
                return Err(Reply::bad(2, format!("Parameter '{k}' is not supported")));
            }
        }
        fn longest(v: &Value) -> usize {
            match v {
                Value::String(s) => s.len(),
                Value::Array(a) => a.iter().map(longest).max().unwrap_or(0),
                Value::Object(o) => o.values().map(longest).max().unwrap_or(0),
                _ => 0,
            }
        }
        if self.has(Fault::OverlongValue500) && body.values().map(longest).max().unwrap_or(0) > 4096
        {
            return Err(Reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                1,
                "java.lang.IllegalArgumentException: value too long for column",
            ));
        }
        Ok(())
    }

    fn split(&self, requested: Vec<String>) -> Channels {
        let mut c = Channels {
            voice: false,
            multimedia: Vec::new(),
            unknown: Vec::new(),
        };
        for name in requested {
            if name == "voice" {
                c.voice = true;
            } else if self.dir.multimedia_channels.contains(&name) {
                if !c.multimedia.contains(&name) {
                    c.multimedia.push(name);
                }
            } else if !c.unknown.contains(&name) {
                c.unknown.push(name);
            }
        }
        c
    }

    /// The login code to use. A wrong or missing `agentLoginPassword` is an error, or, with
    /// `async-switch-password`, a refusal noted in `rejected` for CometD.
    fn check_login_code(
        &self,
        agent: &Agent,
        code: Option<String>,
        password: Option<&str>,
        rejected: &mut Option<String>,
    ) -> Result<Option<String>, Reply> {
        let Some(code) = code else {
            if password.is_some() && self.has(Fault::PasswordWithoutLoginCodeApplied) {
                let own = agent.login_code.as_deref().unwrap_or_default();
                let message = format!(
                    "RequestAgentLogin rejected for agent login '{own}': invalid agentLoginPassword"
                );
                return Err(Reply::bad(2, message));
            }
            return Ok(agent.login_code.clone());
        };
        let Some(lc) = self.dir.login_codes.get(&code) else {
            if self.has(Fault::UnknownLoginCodeAccepted) {
                return Ok(agent.login_code.clone());
            }
            let message =
                format!("Parameter 'loginCode' is invalid: agent login '{code}' not found");
            if self.varies(Variant::AsyncUnknownValue) {
                rejected.get_or_insert(message);
                return Ok(Some(code));
            }
            return Err(Reply::bad(2, message));
        };
        if let Some(expected) = &lc.password {
            let ok = password == Some(expected.0.as_str());
            if !ok && !self.has(Fault::LoginCodePasswordNotChecked) {
                let message = format!(
                    "RequestAgentLogin rejected for agent login '{code}': invalid agentLoginPassword"
                );
                if !self.varies(Variant::AsyncSwitchPassword) {
                    return Err(Reply::bad(2, message));
                }
                *rejected = Some(message);
            }
        }
        Ok(Some(code))
    }

    /// An unknown queue is an error; an existing dynamic number too, or, with
    /// `async-dynamic-number`, a refusal noted in `rejected` for CometD.
    fn check_queue_and_number(
        &self,
        queue: Option<&str>,
        dynamic_number: Option<&str>,
        rejected: &mut Option<String>,
    ) -> Result<(), Reply> {
        if let Some(q) = queue {
            if !self.dir.queues.contains(q) && !self.has(Fault::UnknownQueueAccepted) {
                let message = format!("Parameter 'queue' is invalid: queue '{q}' not found");
                if !self.varies(Variant::AsyncUnknownValue) {
                    return Err(Reply::bad(2, message));
                }
                rejected.get_or_insert(message);
            }
        }
        if let Some(number) = dynamic_number {
            if self.dir.number_exists(number) && !self.has(Fault::DynamicNumberCollisionAccepted) {
                let message = format!("Phone number '{number}' already exists");
                if !self.varies(Variant::AsyncDynamicNumber) {
                    return Err(Reply::bad(18, message));
                }
                rejected.get_or_insert(message);
            }
        }
        Ok(())
    }

    fn start_voice(
        &self,
        username: &str,
        state: &mut AgentState,
        logging_in: bool,
        login: Login,
        messages: &mut Vec<Value>,
    ) -> Result<ChannelResult, Reply> {
        let voice = || ChannelResult::Ok("voice".into());
        if !logging_in {
            if self.has(Fault::AlreadyLoggedInError) {
                return Err(Reply::bad(
                    2,
                    format!("Agent '{username}' is already logged in"),
                ));
            }
            if self.has(Fault::NotificationWhenAlreadyLoggedIn) {
                messages.extend(self.login_messages_again(state));
            }
            return Ok(voice());
        }
        let device = login.device;
        if !device.registered {
            let message = format!("Device '{}' is not registered.", device.number);
            return Ok(ChannelResult::Failed(4, message, "voice".into()));
        }
        if !login.has_login_code {
            let message = format!("No agent login is assigned to user '{username}'");
            return Ok(ChannelResult::Failed(4, message, "voice".into()));
        }
        if let Some(why) = login.rejected {
            // Accepted and forwarded; the backend's refusal arrives by CometD, and no login happens.
            messages.push(n::error_message(
                &device.path(),
                &self.device_uri(&device),
                &why,
            ));
            return Ok(voice());
        }
        let dynamic_number = login.dynamic_number;
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
        let ready = login.workmode == Some("AutoIn") && !self.varies(Variant::LoginNotReady);
        let dynamic = dynamic_number.clone().unwrap_or_default();
        let logged_in = n::user_state_logged_in();
        messages.push(n::device_state_change(vec![
            self.device_json(&device, logged_in, &dynamic)
        ]));
        if !self.varies(Variant::OneLoginNotification) {
            let now = self.user_state(ready);
            messages.push(n::device_state_change(vec![
                self.device_json(&device, now, &dynamic)
            ]));
        }
        state.voice = Some(VoiceLogin {
            device,
            ready,
            dynamic_number,
        });
        Ok(voice())
    }

    /// Fault `notification-when-already-logged-in`: the skipped login still notifies, as if it had
    /// happened again.
    fn login_messages_again(&self, state: &AgentState) -> Vec<Value> {
        let Some(v) = &state.voice else {
            return Vec::new();
        };
        let dynamic = v.dynamic_number.as_deref().unwrap_or("");
        let logged_in = n::user_state_logged_in();
        let now = self.user_state(v.ready);
        vec![
            n::device_state_change(vec![self.device_json(&v.device, logged_in, dynamic)]),
            n::device_state_change(vec![self.device_json(&v.device, now, dynamic)]),
        ]
    }

    /// One entry for all multimedia channels, named `multimedia` (or one per requested name with
    /// `failed-channel-requested-name`).
    fn start_multimedia(
        &self,
        agent: &Agent,
        state: &mut AgentState,
        requested: Vec<String>,
        messages: &mut Vec<Value>,
    ) -> Vec<ChannelResult> {
        let names = if self.varies(Variant::FailedChannelRequestedName)
            || self.has(Fault::AllFailedEveryChannel)
        {
            requested.clone()
        } else {
            vec!["multimedia".to_string()]
        };
        if !agent.multimedia_in_service {
            return names
                .into_iter()
                .map(|c| ChannelResult::Failed(4, INTERACTION_SERVER_DOWN.into(), c))
                .collect();
        }
        let fresh: Vec<String> = requested
            .into_iter()
            .filter(|c| !state.multimedia.contains(c))
            .collect();
        if !fresh.is_empty() {
            state.multimedia.extend(fresh.iter().cloned());
            if !self.varies(Variant::NoChannelStateOnStart) {
                messages.push(n::channel_state_change(&fresh, n::user_state_not_ready()));
            }
        }
        names.into_iter().map(ChannelResult::Ok).collect()
    }

    /// `{0}`, partial success 7, or the first failure as the one error when every channel failed.
    fn answer(&self, results: Vec<ChannelResult>) -> Result<Reply, Reply> {
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
        let voice_failed = failed.iter().any(|f| f["channel"] == "voice");
        if voice_failed && self.has(Fault::VoiceFailureFailsAll) {
            let message = failed[0]["statusMessage"].as_str().unwrap_or_default();
            return Err(Reply::error(StatusCode::INTERNAL_SERVER_ERROR, 4, message));
        }
        if succeeded.is_empty() && self.has(Fault::AllFailedEveryChannel) {
            let first = &failed[0];
            return Err(Reply::error_with(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "statusCode": 4, "statusMessage": first["statusMessage"], "failed": failed }),
            ));
        }
        if succeeded.is_empty() {
            let first = &failed[0];
            let code = first["statusCode"].as_i64().unwrap_or(4);
            if self.varies(Variant::AllFailedPartialLayout) {
                let status = if code == 4 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::BAD_REQUEST
                };
                return Err(Reply::error_with(
                    status,
                    json!({ "statusCode": code, "failed": [first], "succeeded": [] }),
                ));
            }
            let status = if self.varies(Variant::AllFailed200) {
                StatusCode::OK
            } else if code == 4 {
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
}
