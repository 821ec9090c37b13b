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
    map: Mutex<HashMap<String, Entry>>,
}

impl SessionStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
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
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, e| now.duration_since(e.last_used) < IDLE_TIMEOUT);
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

    pub(crate) fn invalidate(&self, id: &str) {
        self.lock().remove(id);
    }
}
