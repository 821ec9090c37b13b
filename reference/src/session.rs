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
/// The most sessions kept. A client that sends Basic without the cookie opens a session per request
/// (a benchmark does), and nothing else would bound the store before those sessions' 30 idle minutes.
const MAX_SESSIONS: usize = 10_000;

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
        if map.len() >= MAX_SESSIONS {
            make_room(&mut map, now);
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

/// Drops the expired sessions, then, if that is not enough, the least recently used ones, down to three
/// quarters of [`MAX_SESSIONS`]: a full store is scanned once every `MAX_SESSIONS / 4` creates at
/// most, not on every create.
fn make_room(map: &mut HashMap<String, Entry>, now: Instant) {
    map.retain(|_, e| now.duration_since(e.last_used) < IDLE_TIMEOUT);
    let keep = MAX_SESSIONS - MAX_SESSIONS / 4;
    if map.len() <= keep {
        return;
    }
    let mut used: Vec<Instant> = map.values().map(|e| e.last_used).collect();
    let excess = used.len() - keep;
    let (_, cutoff, _) = used.select_nth_unstable(excess - 1);
    let cutoff = *cutoff;
    map.retain(|_, e| e.last_used > cutoff);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_nobody_ends_stay_bounded_and_the_recently_used_stay_live() {
        let store = SessionStore::default();
        let kept = store.create("agent1");
        let first = store.create("agent2");
        for i in 0..3 * MAX_SESSIONS {
            store.create(&format!("agent{}", i % 16 + 1));
            if i % 1000 == 0 {
                assert!(
                    store.get(&kept.id).is_some(),
                    "a session in use was dropped"
                );
            }
        }
        let len = store.lock().len();
        assert!(len <= MAX_SESSIONS, "{len} sessions kept");
        assert!(store.get(&kept.id).is_some());
        assert!(
            store.get(&first.id).is_none(),
            "the least recently used session is kept"
        );
    }

    #[test]
    fn ended_sessions_leave_the_store() {
        let store = SessionStore::default();
        let ids: Vec<String> = (0..100).map(|_| store.create("agent1").id).collect();
        for id in &ids {
            store.invalidate(id);
        }
        assert_eq!(store.lock().len(), 0);
        assert!(store.get(&ids[0]).is_none());
    }
}
