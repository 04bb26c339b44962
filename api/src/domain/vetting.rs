//! Vetting of people (无犯罪记录证明): whose background check holds on
//! which day, and what it allows — active membership of a vetted team,
//! and visits to left-behind children and disabled residents.

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;

use super::vocab::{MemberStatus, ResidentCategory};

/// The community's calendar day at `unix_secs`: a check valid "until
/// 2026-12-01" holds through that whole day where the community lives.
pub fn local_day(unix_secs: i64, tz: Tz) -> NaiveDate {
    tz.timestamp_opt(unix_secs, 0)
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

/// Whether a check valid through `vetted_until` still holds on `day`.
pub fn vetted_on(vetted_until: Option<NaiveDate>, day: NaiveDate) -> bool {
    vetted_until.is_some_and(|until| until >= day)
}

/// A visit to a left-behind child or a disabled resident needs a check
/// that still holds on the day the visit starts, not just today: a check
/// that lapses before the visit does not cover it. `resident` is `None`
/// for a community activity: a public place, where no check is asked.
pub fn may_serve(
    resident: Option<ResidentCategory>,
    vetted_until: Option<NaiveDate>,
    starts_on: NaiveDate,
) -> bool {
    !resident.is_some_and(ResidentCategory::needs_vetted_team) || vetted_on(vetted_until, starts_on)
}

/// Who brings a person into a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joining {
    /// The volunteer asks to join; a vetted team's leader decides.
    Themselves,
    /// A manager adds them, and so vouches for them at once.
    ByManager,
}

/// Why a membership cannot become active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotVetted;

/// The status of a new membership. A team that is not vetted takes anyone
/// at once. A vetted team's own applicants wait for approval (the leader
/// knows who they let in); a manager's addition is an approval, so it is
/// held to approval's rule.
pub fn new_membership(
    team_vetted: bool,
    joining: Joining,
    vetted_until: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<MemberStatus, NotVetted> {
    match (team_vetted, joining) {
        (false, _) => Ok(MemberStatus::Active),
        (true, Joining::Themselves) => Ok(MemberStatus::Pending),
        (true, Joining::ByManager) => approve(vetted_until, today),
    }
}

/// Approval of a pending member: only while their check holds today.
pub fn approve(
    vetted_until: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<MemberStatus, NotVetted> {
    if vetted_on(vetted_until, today) {
        Ok(MemberStatus::Active)
    } else {
        Err(NotVetted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_check_holds_through_its_last_day() {
        let today = day("2026-12-01");
        assert!(vetted_on(Some(day("2026-12-01")), today));
        assert!(vetted_on(Some(day("2027-06-30")), today));
        assert!(!vetted_on(Some(day("2026-11-30")), today));
        assert!(!vetted_on(None, today));
    }

    #[test]
    fn the_day_is_the_communitys() {
        // 2026-11-30T17:00Z is already 1 December in Shanghai.
        let at = 1_796_058_000;
        assert_eq!(local_day(at, chrono_tz::Asia::Shanghai), day("2026-12-01"));
        assert_eq!(local_day(at, chrono_tz::UTC), day("2026-11-30"));
    }

    #[test]
    fn children_and_disabled_residents_need_a_check_valid_on_the_visit_day() {
        let visit = day("2027-03-01");
        for category in [
            ResidentCategory::LeftBehindChild,
            ResidentCategory::Disabled,
        ] {
            assert!(!may_serve(Some(category), None, visit));
            assert!(!may_serve(Some(category), Some(day("2027-02-28")), visit));
            assert!(may_serve(Some(category), Some(day("2027-03-01")), visit));
        }
        for category in [
            ResidentCategory::ElderlyAlone,
            ResidentCategory::MigrantWorker,
            ResidentCategory::Other,
        ] {
            assert!(may_serve(Some(category), None, visit));
        }
    }

    #[test]
    fn a_community_activity_needs_no_check() {
        assert!(may_serve(None, None, day("2027-03-01")));
    }

    #[test]
    fn vetted_teams_hold_applicants_and_check_managers_additions() {
        let today = day("2026-12-01");
        let valid = Some(day("2027-12-01"));
        let lapsed = Some(day("2026-11-30"));
        assert_eq!(
            new_membership(false, Joining::Themselves, None, today),
            Ok(MemberStatus::Active)
        );
        assert_eq!(
            new_membership(false, Joining::ByManager, None, today),
            Ok(MemberStatus::Active)
        );
        assert_eq!(
            new_membership(true, Joining::Themselves, valid, today),
            Ok(MemberStatus::Pending)
        );
        assert_eq!(
            new_membership(true, Joining::ByManager, valid, today),
            Ok(MemberStatus::Active)
        );
        assert_eq!(
            new_membership(true, Joining::ByManager, lapsed, today),
            Err(NotVetted)
        );
        assert_eq!(approve(None, today), Err(NotVetted));
        assert_eq!(approve(valid, today), Ok(MemberStatus::Active));
    }
}
