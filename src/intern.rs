//! Sharing what most cases of a suite repeat: their spec and tag lists, requirements, role and serial
//! group, and the [`CaseShape`] that holds them. A large suite keeps a header per case for the whole run (and the report's index an entry per
//! case while the formats are rendered); handed out by one interner, 10,000 cases that name the same
//! spec element hold one list between them, not 10,000 copies. A leaf module: loading and reporting
//! both use it, and it uses neither (only the records of `crate::model`).

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use crate::model::CaseShape;

/// Hands out one shared allocation per distinct value. Shared by the loading threads (and by a case
/// rebuilt from its file when it runs); a value is looked up under a lock, which costs far less than
/// the parse that produced it.
#[derive(Debug, Default)]
pub struct Interner {
    strs: Mutex<HashSet<Arc<str>>>,
    lists: Mutex<HashSet<Arc<[String]>>>,
    shapes: Mutex<HashSet<Arc<CaseShape>>>,
}

impl Interner {
    pub fn str(&self, value: &str) -> Arc<str> {
        intern(&self.strs, value, |v| Arc::from(v))
    }

    pub fn list(&self, value: &[String]) -> Arc<[String]> {
        intern(&self.lists, value, |v| Arc::from(v.to_vec()))
    }

    /// A case's shape, its parts interned first (so equal shapes compare by pointer).
    pub fn shape(&self, value: CaseShape) -> Arc<CaseShape> {
        let value = CaseShape {
            spec: self.list(&value.spec),
            tags: self.list(&value.tags),
            agent_role: self.str(&value.agent_role),
            group: self.str(&value.group),
            requires: self.list(&value.requires),
            ..value
        };
        intern(&self.shapes, &value, |v| Arc::new(v.clone()))
    }
}

fn intern<T: ?Sized + Eq + Hash>(
    set: &Mutex<HashSet<Arc<T>>>,
    value: &T,
    make: impl FnOnce(&T) -> Arc<T>,
) -> Arc<T> {
    // A poisoned lock only means another loading thread panicked, which stops the load anyway; the
    // set itself is never left half-updated.
    let mut set = set
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(shared) = set.get(value) {
        return Arc::clone(shared);
    }
    let shared = make(value);
    set.insert(Arc::clone(&shared));
    shared
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_allocation() {
        let i = Interner::default();
        let a = i.list(&["S1".to_string()]);
        let b = i.list(&["S1".to_string()]);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &i.list(&["S5".to_string()])));
        assert!(Arc::ptr_eq(&i.str("agent:agent1"), &i.str("agent:agent1")));
        assert_eq!(&*i.list(&[]), &[] as &[String]);
        let shape = |group: &str| CaseShape {
            spec: Arc::from(vec!["S1".to_string()]),
            provenance: crate::model::Provenance::Documented,
            tags: Arc::from(Vec::new()),
            agent_role: Arc::from("default"),
            group: Arc::from(group),
            requires: Arc::from(Vec::new()),
            costs: Arc::from(Vec::new()),
            names_lab_resource: false,
            needs_credentials: false,
            listens: false,
        };
        let one = i.shape(shape("agent:a"));
        assert!(Arc::ptr_eq(&one, &i.shape(shape("agent:a"))));
        assert!(Arc::ptr_eq(&one.spec, &a), "its parts interned too");
        assert!(!Arc::ptr_eq(&one, &i.shape(shape("agent:b"))));
    }
}
