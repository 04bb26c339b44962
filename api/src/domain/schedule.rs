//! When the timed events of a request fall due, and whether a request
//! that reached its due time needs the event at all. Times are Unix
//! seconds; `now` is the scheduler's clock.

use super::vocab::RequestStatus;

/// The unfilled alert goes out when a request first starts within this.
pub const UNFILLED_WINDOW_SECS: i64 = 24 * 3_600;
/// A signed-up volunteer not checked in this long after the start is a
/// no-show.
pub const NO_SHOW_AFTER_SECS: i64 = 30 * 60;
/// No-shows count against a volunteer for 90 days.
pub const NO_SHOW_MEMORY_SECS: i64 = 90 * 86_400;

/// Requests starting at or before this are due for their reminder.
pub fn reminder_due_by(now: i64, lead_secs: i64) -> i64 {
    now + lead_secs
}

/// Requests starting at or before this are due for the unfilled alert.
pub fn unfilled_due_by(now: i64) -> i64 {
    now + UNFILLED_WINDOW_SECS
}

/// Requests starting at or before this are due for settling no-shows.
pub fn no_shows_due_by(now: i64) -> i64 {
    now - NO_SHOW_AFTER_SECS
}

/// A due request gets its reminder when it has a team and volunteers
/// signed up, is still on, and has not started: a reminder after the start
/// (a server down past it) would only confuse.
pub fn wants_reminder(
    status: RequestStatus,
    has_team: bool,
    signed_up: u64,
    starts_at: i64,
    now: i64,
) -> bool {
    matches!(status, RequestStatus::Assigned | RequestStatus::InProgress)
        && has_team
        && signed_up > 0
        && starts_at > now
}

/// A due request raises the unfilled alert when it is still on, has not
/// started, and has places left.
pub fn wants_unfilled_alert(
    status: RequestStatus,
    signups: i32,
    needed: i32,
    starts_at: i64,
    now: i64,
) -> bool {
    matches!(
        status,
        RequestStatus::Open | RequestStatus::Assigned | RequestStatus::InProgress
    ) && signups < needed
        && starts_at > now
}

/// No-shows are settled for visits that happened or should have: not for
/// cancelled ones, nor for requests never assigned.
pub fn settles_no_shows(status: RequestStatus) -> bool {
    matches!(
        status,
        RequestStatus::Assigned | RequestStatus::InProgress | RequestStatus::Completed
    )
}

/// Which of a request's handled marks a move of its start clears, so the
/// event is due again for the new time: those whose new due time is still
/// ahead. A reminder already sent for a start brought forward past its
/// due time is not sent twice; `request.updated` tells of the new time.
pub struct Rearm {
    pub reminder: bool,
    pub unfilled: bool,
    pub no_shows: bool,
}

pub fn rearm(new_starts_at: i64, now: i64, lead_secs: i64) -> Rearm {
    Rearm {
        reminder: new_starts_at - lead_secs > now,
        unfilled: new_starts_at - UNFILLED_WINDOW_SECS > now,
        no_shows: new_starts_at + NO_SHOW_AFTER_SECS > now,
    }
}

/// How much a member counts towards a team's staffing for a request: a
/// member with no recent no-show counts whole, each no-show of the last
/// 90 days halves it (1, ½, ¼, …). A team whose free members keep not
/// turning up is less likely to fill the visit than its head count says.
pub fn dependability(recent_no_shows: u32) -> f64 {
    0.5_f64.powi(i32::try_from(recent_no_shows.min(16)).unwrap_or(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn due_times_follow_the_lead_the_day_and_half_an_hour() {
        assert_eq!(reminder_due_by(NOW, 7_200), NOW + 7_200);
        assert_eq!(unfilled_due_by(NOW), NOW + 86_400);
        assert_eq!(no_shows_due_by(NOW), NOW - 1_800);
    }

    #[test]
    fn reminders_go_to_staffed_teams_before_the_start_only() {
        let soon = NOW + 600;
        assert!(wants_reminder(RequestStatus::Assigned, true, 1, soon, NOW));
        assert!(!wants_reminder(RequestStatus::Assigned, true, 0, soon, NOW));
        assert!(!wants_reminder(
            RequestStatus::Assigned,
            false,
            1,
            soon,
            NOW
        ));
        assert!(!wants_reminder(
            RequestStatus::Cancelled,
            true,
            1,
            soon,
            NOW
        ));
        assert!(!wants_reminder(RequestStatus::Assigned, true, 1, NOW, NOW));
    }

    #[test]
    fn unfilled_alerts_need_places_left_and_a_future_start() {
        let soon = NOW + 3_600;
        assert!(wants_unfilled_alert(RequestStatus::Open, 0, 1, soon, NOW));
        assert!(wants_unfilled_alert(
            RequestStatus::Assigned,
            1,
            2,
            soon,
            NOW
        ));
        assert!(!wants_unfilled_alert(
            RequestStatus::Assigned,
            2,
            2,
            soon,
            NOW
        ));
        assert!(!wants_unfilled_alert(
            RequestStatus::Completed,
            0,
            2,
            soon,
            NOW
        ));
        assert!(!wants_unfilled_alert(
            RequestStatus::Open,
            0,
            2,
            NOW - 1,
            NOW
        ));
    }

    #[test]
    fn no_shows_are_settled_for_visits_that_were_on() {
        assert!(settles_no_shows(RequestStatus::Assigned));
        assert!(settles_no_shows(RequestStatus::Completed));
        assert!(!settles_no_shows(RequestStatus::Cancelled));
        assert!(!settles_no_shows(RequestStatus::Open));
    }

    #[test]
    fn moving_a_start_rearms_only_what_is_still_ahead() {
        let later = rearm(NOW + 2 * 86_400, NOW, 7_200);
        assert!(later.reminder && later.unfilled && later.no_shows);
        let in_an_hour = rearm(NOW + 3_600, NOW, 7_200);
        assert!(!in_an_hour.reminder && !in_an_hour.unfilled && in_an_hour.no_shows);
        let past = rearm(NOW - 3_600, NOW, 7_200);
        assert!(!past.reminder && !past.unfilled && !past.no_shows);
    }

    #[test]
    fn each_recent_no_show_halves_what_a_member_counts_for() {
        assert_eq!(dependability(0), 1.0);
        assert_eq!(dependability(1), 0.5);
        assert_eq!(dependability(2), 0.25);
        assert!(dependability(1_000) > 0.0);
    }
}
