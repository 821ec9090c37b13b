//! `init`'s users and passwords: the user names of `--username` and `--agents`, each user's password
//! variable (`--password-env`), and which user each role gets (see `init.rs` for the rules).

use std::collections::BTreeMap;

use gws_conform::load::catalogue::{self, ROLES};

/// The user names of `--username` and `--agents`.
pub fn user_names(pattern: &str, agents: usize) -> Vec<String> {
    if pattern.contains("{n}") {
        return (1..=agents)
            .map(|n| pattern.replace("{n}", &n.to_string()))
            .collect();
    }
    if agents == 1 {
        return vec![pattern.to_string()];
    }
    (1..=agents).map(|n| format!("{pattern}{n}")).collect()
}

/// The environment variable of each user's password (`--password-env`), in user order.
pub fn password_variables(pattern: &str, users: usize) -> Vec<String> {
    (1..=users)
        .map(|n| pattern.replace("{n}", &n.to_string()))
        .collect()
}

/// The role whose user must have the multimedia channel out of service (Sample 4's refusal).
const MULTIMEDIA_DOWN_ROLE: &str = "sample4";

/// Whether a role's user must have the multimedia channel in service (so not the user of
/// [`MULTIMEDIA_DOWN_ROLE`]).
fn needs_multimedia_in_service(role: &catalogue::RoleInfo) -> bool {
    role.lab_user
        .is_some_and(|l| l.contains("multimedia channel is in service"))
}

/// Each role's user. One user per role: role slot s gets user s (the reference lab's mapping).
/// Fewer: `sample4` keeps its slot's user (the reference lab's agent4, whose multimedia is out of
/// service) when there is one; then the roles, busiest first (cases per role in `counts`), each go
/// to the user with the fewest cases so far (the lowest-numbered on a tie), so that no user
/// carries much more than another. A role that needs multimedia in service never gets
/// `sample4`'s user.
pub fn assign(users: &[String], counts: &catalogue::Counts) -> BTreeMap<&'static str, String> {
    if users.len() >= ROLES.len() {
        return ROLES
            .iter()
            .map(|r| (r.name, users[(r.slot - 1) % users.len()].clone()))
            .collect();
    }
    let weight = |r: &catalogue::RoleInfo| counts.role(r.name).max(1);
    let mut load = vec![0usize; users.len()];
    let mut out = BTreeMap::new();
    let down = ROLES.iter().find(|r| r.name == MULTIMEDIA_DOWN_ROLE);
    let down_user = down.map(|r| (r.slot - 1).min(users.len() - 1));
    if let (Some(r), Some(u)) = (down, down_user) {
        load[u] += weight(r);
        out.insert(r.name, users[u].clone());
    }
    let mut roles: Vec<&catalogue::RoleInfo> = ROLES
        .iter()
        .filter(|r| r.name != MULTIMEDIA_DOWN_ROLE)
        .collect();
    roles.sort_by_key(|r| (std::cmp::Reverse(weight(r)), r.slot));
    for r in roles {
        let avoid = needs_multimedia_in_service(r) && users.len() > 1;
        let (i, _) = load
            .iter()
            .enumerate()
            .filter(|(i, _)| !(avoid && Some(*i) == down_user))
            .min_by_key(|(i, l)| (**l, *i))
            .expect("at least one user");
        load[i] += weight(r);
        out.insert(r.name, users[i].clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_follow_the_pattern() {
        assert_eq!(user_names("agent", 3), ["agent1", "agent2", "agent3"]);
        assert_eq!(user_names("lab_{n}_x", 2), ["lab_1_x", "lab_2_x"]);
        assert_eq!(user_names("jdoe", 1), ["jdoe"]);
        assert_eq!(user_names("a{n}", 1), ["a1"]);
    }

    #[test]
    fn a_password_per_user_numbers_its_variables_as_the_users() {
        assert_eq!(
            password_variables("GWS_PASSWORD", 2),
            ["GWS_PASSWORD", "GWS_PASSWORD"]
        );
        assert_eq!(
            password_variables("PW_{n}_LAB", 3),
            ["PW_1_LAB", "PW_2_LAB", "PW_3_LAB"]
        );
    }
}
