//! Who may change what, beyond the role: requests belong to the
//! caseworker who posted them, and nobody reviews their own work.

use uuid::Uuid;

use super::vocab::Role;

/// `assign`, `cancel`, `complete` and edits of a request: its caseworker,
/// managers and admins. Another caseworker may read it but not change it.
pub fn may_change_request(role: Role, user: Uuid, caseworker: Uuid) -> bool {
    role.is_manager() || (role == Role::Caseworker && user == caseworker)
}

/// Who reads a request's feedback (回访): its caseworker, managers and
/// admins, and the leader of the team that served it.
pub fn may_read_feedback(role: Role, user: Uuid, caseworker: Uuid, leads_its_team: bool) -> bool {
    may_change_request(role, user, caseworker) || (role == Role::Volunteer && leads_its_team)
}

/// A record is the reviewer's own when it is about their service or when
/// they entered it (a paper record, a correction): approving either would
/// let one person vouch for themselves.
pub fn is_own_entry(reviewer: Uuid, volunteer: Uuid, recorder: Uuid) -> bool {
    reviewer == volunteer || reviewer == recorder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_its_caseworker_and_managers_change_a_request() {
        let (mine, other) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(may_change_request(Role::Caseworker, mine, mine));
        assert!(!may_change_request(Role::Caseworker, other, mine));
        assert!(may_change_request(Role::Manager, other, mine));
        assert!(may_change_request(Role::Admin, other, mine));
        assert!(!may_change_request(Role::Volunteer, mine, mine));
    }

    #[test]
    fn feedback_is_read_by_the_caseworker_managers_and_the_teams_leader() {
        let (mine, other) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(may_read_feedback(Role::Caseworker, mine, mine, false));
        assert!(!may_read_feedback(Role::Caseworker, other, mine, false));
        assert!(may_read_feedback(Role::Manager, other, mine, false));
        assert!(may_read_feedback(Role::Volunteer, other, mine, true));
        assert!(!may_read_feedback(Role::Volunteer, other, mine, false));
    }

    #[test]
    fn own_entries_are_ones_record_and_what_one_entered() {
        let (me, volunteer, recorder) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        assert!(is_own_entry(me, me, recorder));
        assert!(is_own_entry(me, volunteer, me));
        assert!(!is_own_entry(me, volunteer, recorder));
    }
}
