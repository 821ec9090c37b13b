//! StartContactCenterSession's parameters: reading them from the body and resolving the place and
//! device they name, with the faults and variants that change either. Nothing here changes state.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::directory::{Agent, Device, DeviceKind, Directory, Place};
use crate::fault::Fault;
use crate::reply::Reply;
use crate::variant::{Behaviour, Variant};

pub(crate) const WORKMODE_INVALID: &str =
    "Parameter 'workmode' is invalid: \"The specified value is not within valid range\"";
const WORKMODE_INVALID_WRAPPED: &str =
    "Parameter 'workmode' is invalid: \"The specified value is not within\nvalid range\"";

/// Reads and resolves parameters against the directory.
pub(crate) struct Params<'a> {
    pub(crate) b: Behaviour,
    pub(crate) dir: &'a Directory,
}

impl Params<'_> {
    /// An optional string parameter: absent or null is `None` (null is invalid with `null-refused`);
    /// any other non-string is invalid (ignored with the fault `wrong-type-ignored`).
    pub(crate) fn opt_str(
        &self,
        body: &Map<String, Value>,
        name: &str,
    ) -> Result<Option<String>, Reply> {
        let invalid = || {
            Reply::bad(
                2,
                format!("Parameter '{name}' is invalid: \"Expected a string value\""),
            )
        };
        match body.get(name) {
            None => Ok(None),
            Some(Value::Null) if self.b.varies(Variant::NullRefused) => Err(invalid()),
            Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) if self.b.has(Fault::WrongTypeIgnored) => Ok(None),
            Some(_) => Err(invalid()),
        }
    }

    pub(crate) fn parse_channels(&self, body: &Map<String, Value>) -> Result<Vec<String>, Reply> {
        let invalid = || {
            Reply::bad(
                2,
                "Parameter 'channels' is invalid: \"Expected a non-empty array of channel names\"",
            )
        };
        let voice = || vec!["voice".to_string()];
        match body.get("channels") {
            None | Some(Value::Null) if self.b.has(Fault::MissingChannelsAccepted) => Ok(voice()),
            None | Some(Value::Null) => Err(Reply::bad(1, "Parameter 'channels' is missing")),
            Some(Value::Array(items)) if items.is_empty() => {
                if self.b.has(Fault::EmptyChannelsAccepted) {
                    Ok(voice())
                } else if self.b.varies(Variant::EmptyChannelsNoop) {
                    Ok(Vec::new())
                } else {
                    Err(invalid())
                }
            }
            Some(Value::Array(items)) => {
                let names: Vec<String> = items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string).ok_or_else(invalid))
                    .collect::<Result<_, _>>()?;
                let twice = names
                    .iter()
                    .enumerate()
                    .any(|(i, n)| names[..i].contains(n));
                if twice && self.b.varies(Variant::DuplicateChannelRefused) {
                    return Err(Reply::bad(
                        2,
                        "Parameter 'channels' is invalid: \"A channel is named twice\"",
                    ));
                }
                Ok(names)
            }
            Some(Value::String(s)) if self.b.has(Fault::NonArrayChannelsAccepted) => {
                Ok(vec![s.clone()])
            }
            Some(_) => Err(invalid()),
        }
    }

    pub(crate) fn parse_workmode(
        &self,
        body: &Map<String, Value>,
    ) -> Result<Option<&'static str>, Reply> {
        const MODES: [&str; 2] = ["ManualIn", "AutoIn"];
        let given = match body.get("workmode") {
            Some(Value::Null) if self.b.varies(Variant::NullRefused) => {
                return Err(Reply::bad(2, WORKMODE_INVALID))
            }
            None | Some(Value::Null) => return Ok(None),
            Some(v) => v,
        };
        if let Some(s) = given.as_str() {
            if let Some(m) = MODES.iter().find(|m| **m == s) {
                return Ok(Some(m));
            }
            if self.b.has(Fault::WorkmodeCaseInsensitive)
                || self.b.varies(Variant::WorkmodeCaseInsensitive)
            {
                if let Some(m) = MODES.iter().find(|m| m.eq_ignore_ascii_case(s)) {
                    return Ok(Some(m));
                }
            }
        }
        // T-Server's other agent work modes, which the page's "ManualIn and AutoIn" leaves out.
        const SWITCH_MODES: [&str; 4] =
            ["AuxWork", "AfterCallWork", "NoCallDisconnect", "WalkAway"];
        if let Some(m) = given
            .as_str()
            .and_then(|s| SWITCH_MODES.iter().find(|m| **m == s))
        {
            if self.b.has(Fault::SwitchWorkmodeAccepted) {
                return Ok(Some(m));
            }
        }
        if self.b.has(Fault::InvalidWorkmodeAccepted) {
            return Ok(None);
        }
        let code = if self.b.has(Fault::InvalidWorkmodeCode10) {
            10
        } else {
            2
        };
        let message = if self.b.has(Fault::InvalidWorkmodeMessageWrapped) {
            WORKMODE_INVALID_WRAPPED
        } else {
            WORKMODE_INVALID
        };
        Err(Reply::bad(code, message))
    }

    /// The place to use: the named one, or the agent's default place.
    pub(crate) fn resolve_place<'a>(
        &'a self,
        agent: &Agent,
        place: Option<&str>,
    ) -> Result<&'a Place, Reply> {
        let default = &self.dir.places[&agent.default_place];
        match place {
            None => Ok(default),
            Some(name) => match self.dir.place(name) {
                Some(p) => Ok(p),
                None if self.b.has(Fault::UnknownPlaceAccepted) => Ok(default),
                None => Err(Reply::error(
                    StatusCode::NOT_FOUND,
                    6,
                    format!("Place '{name}' not found"),
                )),
            },
        }
    }

    /// Whether the place's device cannot be resolved without a `devicePath` (several devices, and
    /// not exactly one ACD position): the failure variant `async-place-refusal` reports by CometD.
    pub(crate) fn unresolvable(&self, place: &Place, device_path: Option<&str>) -> bool {
        let acds = place
            .devices
            .iter()
            .filter(|d| d.kind == DeviceKind::Acd)
            .count();
        device_path.is_none() && place.devices.len() > 1 && acds != 1
    }

    /// The device to log in on: `devicePath` if given, else the place's only device, else its only ACD
    /// position.
    pub(crate) fn resolve_device(
        &self,
        agent: &Agent,
        place: &Place,
        device_path: Option<&str>,
    ) -> Result<Device, Reply> {
        let device_path = if self.b.has(Fault::DevicePathIgnored) {
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
                Some((p, d))
                    if p.name == place.name
                        || p.name == agent.default_place
                        || self.b.has(Fault::ForeignDevicePathAccepted) =>
                {
                    if place.devices.len() == 1 && self.b.has(Fault::DevicePathSingleDeviceRefused) {
                        return Err(Reply::bad(
                            2,
                            format!("Parameter 'devicePath' is invalid: place '{}' has a single device", place.name),
                        ));
                    }
                    Ok(d.clone())
                }
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
                    [_] if self.b.has(Fault::FirstDeviceLogin) => Ok(several[0].clone()),
                    [one] => Ok((*one).clone()),
                    [first, ..] if self.b.has(Fault::MultiAcdWithoutDevicePathAccepted) => Ok((*first).clone()),
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
}
