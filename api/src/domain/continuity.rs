//! Continuity of a pairing (结对帮扶): how its visits went. A caseworker
//! reads these figures to see whose visits are slipping, so "missed" is
//! defined here once.

use crate::domain::vocab::RequestStatus;

/// One occurrence (a request of the pairing), with the approved service
/// records that count for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: RequestStatus,
    /// Approved minutes of the visit's records (0 when none).
    pub approved_minutes: i64,
    /// When the first approved record of the visit began, if any.
    pub first_record_at: Option<i64>,
    /// Whether any approved record counts for the visit.
    pub has_approved_record: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Continuity {
    /// Visits with an approved record.
    pub completed: u32,
    /// Visits whose time is over without an approved record. A visit
    /// cancelled beforehand (by its caseworker, or because the pairing
    /// ended) was called off, not missed.
    pub missed: u32,
    pub approved_minutes: i64,
    /// When the latest visit with an approved record began.
    pub last_visit_at: Option<i64>,
    /// The next visit still to come (not cancelled, not completed).
    pub next_at: Option<i64>,
}

pub fn of(visits: &[Visit], now: i64) -> Continuity {
    let mut out = Continuity::default();
    for visit in visits {
        out.approved_minutes += visit.approved_minutes;
        if visit.has_approved_record {
            out.completed += 1;
            let at = visit.first_record_at.unwrap_or(visit.starts_at);
            out.last_visit_at = out.last_visit_at.max(Some(at));
        } else if visit.ends_at <= now && visit.status != RequestStatus::Cancelled {
            out.missed += 1;
        }
        let to_come = visit.starts_at > now
            && !matches!(
                visit.status,
                RequestStatus::Cancelled | RequestStatus::Completed
            );
        if to_come && out.next_at.is_none_or(|next| visit.starts_at < next) {
            out.next_at = Some(visit.starts_at);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(starts_at: i64, status: RequestStatus, minutes: Option<i64>) -> Visit {
        Visit {
            starts_at,
            ends_at: starts_at + 3_600,
            status,
            approved_minutes: minutes.unwrap_or(0),
            first_record_at: minutes.map(|_| starts_at + 60),
            has_approved_record: minutes.is_some(),
        }
    }

    #[test]
    fn a_visit_over_without_an_approved_record_is_missed() {
        let now = 100_000;
        let figures = of(
            &[
                visit(10_000, RequestStatus::Completed, Some(90)),
                visit(20_000, RequestStatus::Assigned, None),
                visit(30_000, RequestStatus::Completed, None),
                visit(40_000, RequestStatus::InProgress, Some(30)),
            ],
            now,
        );
        assert_eq!(figures.completed, 2);
        assert_eq!(figures.missed, 2);
        assert_eq!(figures.approved_minutes, 120);
        assert_eq!(figures.last_visit_at, Some(40_060));
        assert_eq!(figures.next_at, None);
    }

    #[test]
    fn cancelled_and_unfinished_visits_are_not_missed() {
        let now = 100_000;
        let figures = of(
            &[
                visit(10_000, RequestStatus::Cancelled, None),
                // Started, not over yet.
                visit(now - 60, RequestStatus::InProgress, None),
                visit(now + 7 * 86_400, RequestStatus::Assigned, None),
                visit(now + 86_400, RequestStatus::Assigned, None),
                visit(now + 3_600, RequestStatus::Cancelled, None),
            ],
            now,
        );
        assert_eq!(figures.missed, 0);
        assert_eq!(figures.completed, 0);
        assert_eq!(figures.next_at, Some(now + 86_400));
        assert_eq!(figures.last_visit_at, None);
    }
}
