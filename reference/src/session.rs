//! HTTP sessions (`JSESSIONID`) and their CSRF tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A live HTTP session: who it belongs to and its CSRF token (one per session, same lifetime).
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) username: String,
    pub(crate) csrf_token: String,
}

struct Entry {
    session: Session,
    last_used: Instant,
}

/// Sessions expire after this much idle time (Tomcat's default is 30 minutes).
const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Above this many sessions, creating one first sweeps the expired ones.
const SWEEP_ABOVE: usize = 4096;

#[derive(Default)]
pub(crate) struct SessionStore {
    map: Mutex<Sessions>,
}

#[derive(Default)]
struct Sessions {
    map: HashMap<String, Entry>,
    /// The next sweep happens above this many sessions: at least [`SWEEP_ABOVE`], and twice what the
    /// last sweep kept, so that a store full of live sessions is not swept again on every create
    /// (which made every request of a long benchmark cost a scan of every session).
    sweep_above: usize,
}

impl std::ops::Deref for Sessions {
    type Target = HashMap<String, Entry>;
    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl std::ops::DerefMut for Sessions {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.map
    }
}

impl SessionStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live session with this id, refreshing its idle timer.
    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        let mut map = self.lock();
        let now = Instant::now();
        match map.get_mut(id) {
            Some(entry) if now.duration_since(entry.last_used) < IDLE_TIMEOUT => {
                entry.last_used = now;
                Some(entry.session.clone())
            }
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    pub(crate) fn create(&self, username: &str) -> Session {
        let session = Session {
            id: uuid::Uuid::new_v4().simple().to_string().to_uppercase(),
            username: username.to_string(),
            csrf_token: uuid::Uuid::new_v4().to_string(),
        };
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() > map.sweep_above.max(SWEEP_ABOVE) {
            map.retain(|_, e| now.duration_since(e.last_used) < IDLE_TIMEOUT);
            map.sweep_above = map.len().saturating_mul(2);
        }
        map.insert(
            session.id.clone(),
            Entry {
                session: session.clone(),
                last_used: now,
            },
        );
        session
    }

    /// Gives the session a new CSRF token (variant `csrf-rotate-on-get`); the old one stops working.
    pub(crate) fn rotate_csrf(&self, id: &str) -> Option<String> {
        let mut map = self.lock();
        let entry = map.get_mut(id)?;
        entry.session.csrf_token = uuid::Uuid::new_v4().to_string();
        Some(entry.session.csrf_token.clone())
    }

    pub(crate) fn invalidate(&self, id: &str) {
        self.lock().remove(id);
    }
}
