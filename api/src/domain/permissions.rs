//! Who may change what, beyond the role: requests belong to the
//! caseworker who posted them, and nobody reviews their own work.

use uuid::Uuid;

use super::vocab::Role;

/// `assign`, `cancel`, `complete` and edits of a request: its caseworker,
/// managers and admins. Another caseworker may read it but not change it.
pub fn may_change_request(role: Role, user: Uuid, caseworker: Uuid) -> bool {
    role.is_manager() || (role == Role::Caseworker && user == caseworker)
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
    fn own_entries_are_ones_record_and_what_one_entered() {
        let (me, volunteer, recorder) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        assert!(is_own_entry(me, me, recorder));
        assert!(is_own_entry(me, volunteer, me));
        assert!(!is_own_entry(me, volunteer, recorder));
    }
}
