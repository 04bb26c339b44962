//! Vetting of people (无犯罪记录证明): whose background check holds on
//! which day, and what it allows — active membership of a vetted team,
//! and visits to left-behind children and disabled residents. The rule of
//! who may serve a request *now* ([`may_serve_now`]) is applied whenever
//! something it depends on changes, and again whenever an address is read.

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

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

/// Where a person stands in the team a request is assigned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Active,
    /// Held until the team's leader or a manager approves: a vetted team
    /// holds whoever's check no longer holds today.
    Pending,
    /// Not a member (never was, or left, or was removed).
    None,
}

impl Membership {
    /// The membership row's status, if there is a row.
    pub fn of(status: Option<MemberStatus>) -> Self {
        match status {
            Some(MemberStatus::Active) => Self::Active,
            Some(MemberStatus::Pending) => Self::Pending,
            None => Self::None,
        }
    }
}

/// A person, as far as serving a request is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Server {
    /// The account is not disabled.
    pub account_active: bool,
    pub vetted_until: Option<NaiveDate>,
    /// In the team the request is assigned to.
    pub membership: Membership,
}

/// A request, as far as who may serve it is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit {
    /// `None` for a community activity.
    pub resident: Option<ResidentCategory>,
    /// The local day the request starts.
    pub starts_on: NaiveDate,
}

/// Why a person may not (or no longer) serve a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfit {
    AccountDisabled,
    /// Not a member of the request's team.
    NotMember,
    /// A member held as pending: their check no longer holds today.
    HeldForVetting,
    /// Their check does not cover the day of a visit to a left-behind
    /// child or a disabled resident.
    NotVetted,
}

/// Why a sign-up was withdrawn (the `reason` of `signup.withdrawn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalReason {
    Vetting,
    MemberRemoved,
    AccountDisabled,
    /// The volunteer withdrew themselves.
    Volunteer,
}

impl WithdrawalReason {
    /// The reason in a message.
    pub fn label(self) -> &'static str {
        match self {
            Self::Vetting => "无犯罪记录证明不再覆盖该服务",
            Self::MemberRemoved => "已不是该队伍的队员",
            Self::AccountDisabled => "账号已停用",
            Self::Volunteer => "志愿者本人撤销",
        }
    }
}

impl Unfit {
    pub fn reason(self) -> WithdrawalReason {
        match self {
            Self::AccountDisabled => WithdrawalReason::AccountDisabled,
            Self::NotMember => WithdrawalReason::MemberRemoved,
            Self::HeldForVetting | Self::NotVetted => WithdrawalReason::Vetting,
        }
    }
}

/// May `server` serve `visit` now: an account that is not disabled, an
/// active membership of the request's team (as signing up asks), and for
/// a left-behind child or a disabled resident a check that covers the
/// visit's day ([`may_serve`]). The first reason that fails is given, so
/// a disabled account hears about its account, not its check.
pub fn may_serve_now(server: &Server, visit: &Visit) -> Result<(), Unfit> {
    if !server.account_active {
        return Err(Unfit::AccountDisabled);
    }
    match server.membership {
        Membership::Active => {}
        Membership::Pending => return Err(Unfit::HeldForVetting),
        Membership::None => return Err(Unfit::NotMember),
    }
    if !may_serve(visit.resident, server.vetted_until, visit.starts_on) {
        return Err(Unfit::NotVetted);
    }
    Ok(())
}

/// Whether a volunteer reading a request sees its resident's address,
/// phone and exact place: only while signed up for it and while the rule
/// still lets them serve it. The reader's token was just accepted, so the
/// account is active; a sign-up that still holds stands for the
/// membership, since every end of a membership withdraws the sign-ups it
/// allowed.
pub fn sees_address(signed_up: bool, vetted_until: Option<NaiveDate>, visit: &Visit) -> bool {
    let server = Server {
        account_active: true,
        vetted_until,
        membership: Membership::Active,
    };
    signed_up && may_serve_now(&server, visit).is_ok()
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

    fn server(vetted_until: Option<NaiveDate>, membership: Membership) -> Server {
        Server {
            account_active: true,
            vetted_until,
            membership,
        }
    }

    #[test]
    fn serving_now_needs_an_active_account_an_active_membership_and_a_covering_check() {
        let child = Visit {
            resident: Some(ResidentCategory::LeftBehindChild),
            starts_on: day("2027-03-01"),
        };
        let elderly = Visit {
            resident: Some(ResidentCategory::ElderlyAlone),
            ..child
        };
        let covered = Some(day("2027-03-01"));
        assert_eq!(
            may_serve_now(&server(covered, Membership::Active), &child),
            Ok(())
        );
        assert_eq!(
            may_serve_now(&server(None, Membership::Active), &elderly),
            Ok(())
        );
        assert_eq!(
            may_serve_now(&server(Some(day("2027-02-28")), Membership::Active), &child),
            Err(Unfit::NotVetted)
        );
        assert_eq!(
            may_serve_now(&server(covered, Membership::Pending), &elderly),
            Err(Unfit::HeldForVetting)
        );
        assert_eq!(
            may_serve_now(&server(covered, Membership::None), &child),
            Err(Unfit::NotMember)
        );
        let disabled = Server {
            account_active: false,
            ..server(None, Membership::None)
        };
        assert_eq!(
            may_serve_now(&disabled, &child),
            Err(Unfit::AccountDisabled),
            "the account is named first"
        );
    }

    #[test]
    fn each_unfitness_has_its_withdrawal_reason() {
        assert_eq!(Unfit::NotVetted.reason(), WithdrawalReason::Vetting);
        assert_eq!(Unfit::HeldForVetting.reason(), WithdrawalReason::Vetting);
        assert_eq!(Unfit::NotMember.reason(), WithdrawalReason::MemberRemoved);
        assert_eq!(
            Unfit::AccountDisabled.reason(),
            WithdrawalReason::AccountDisabled
        );
        let codes: Vec<String> = [
            WithdrawalReason::Vetting,
            WithdrawalReason::MemberRemoved,
            WithdrawalReason::AccountDisabled,
            WithdrawalReason::Volunteer,
        ]
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
        assert_eq!(
            codes,
            [
                "\"vetting\"",
                "\"member_removed\"",
                "\"account_disabled\"",
                "\"volunteer\""
            ]
        );
    }

    #[test]
    fn the_address_shows_only_to_a_signed_up_volunteer_whose_check_covers_the_day() {
        let visit = Visit {
            resident: Some(ResidentCategory::Disabled),
            starts_on: day("2027-03-01"),
        };
        assert!(sees_address(true, Some(day("2027-03-01")), &visit));
        assert!(!sees_address(true, Some(day("2027-02-28")), &visit));
        assert!(!sees_address(true, None, &visit));
        assert!(!sees_address(false, Some(day("2030-01-01")), &visit));
        let activity = Visit {
            resident: None,
            ..visit
        };
        assert!(sees_address(true, None, &activity));
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
