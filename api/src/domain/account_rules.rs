//! Who may disable or enable whom.

use uuid::Uuid;

use super::vocab::Role;

/// Why a status change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRefusal {
    /// Nobody changes their own account: an admin who disabled themselves
    /// might leave no admin at all, and there is no case for it.
    OwnAccount,
    /// Managers look after volunteers and caseworkers only.
    NotTheirs,
    /// Neither a manager nor an admin.
    NoRight,
}

/// Admins may disable or enable anyone but themselves; managers only
/// volunteers and caseworkers.
pub fn may_change_status(
    actor: Uuid,
    actor_role: Role,
    target: Uuid,
    target_role: Role,
) -> Result<(), StatusRefusal> {
    if !actor_role.is_manager() {
        return Err(StatusRefusal::NoRight);
    }
    if actor == target {
        return Err(StatusRefusal::OwnAccount);
    }
    match (actor_role, target_role) {
        (Role::Admin, _) => Ok(()),
        (_, Role::Volunteer | Role::Caseworker) => Ok(()),
        _ => Err(StatusRefusal::NotTheirs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_change_anyone_else() {
        let (me, other) = (Uuid::now_v7(), Uuid::now_v7());
        for role in Role::ALL {
            assert_eq!(may_change_status(me, Role::Admin, other, *role), Ok(()));
        }
    }

    #[test]
    fn managers_change_volunteers_and_caseworkers_only() {
        let (me, other) = (Uuid::now_v7(), Uuid::now_v7());
        let manager = |target| may_change_status(me, Role::Manager, other, target);
        assert_eq!(manager(Role::Volunteer), Ok(()));
        assert_eq!(manager(Role::Caseworker), Ok(()));
        assert_eq!(manager(Role::Manager), Err(StatusRefusal::NotTheirs));
        assert_eq!(manager(Role::Admin), Err(StatusRefusal::NotTheirs));
    }

    #[test]
    fn nobody_changes_their_own_account() {
        let me = Uuid::now_v7();
        assert_eq!(
            may_change_status(me, Role::Admin, me, Role::Admin),
            Err(StatusRefusal::OwnAccount)
        );
    }

    #[test]
    fn others_have_no_right() {
        let (me, other) = (Uuid::now_v7(), Uuid::now_v7());
        for role in [Role::Volunteer, Role::Caseworker] {
            assert_eq!(
                may_change_status(me, role, other, Role::Volunteer),
                Err(StatusRefusal::NoRight)
            );
        }
    }
}
