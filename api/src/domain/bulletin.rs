//! The monthly bulletin (`report.monthly`, 宣传志愿服务成效): when it is
//! due and what it says, as plain functions of the time and the figures.

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

use super::calendar::day_start;

/// Local hour of the first day of a month at which the bulletin goes out.
pub const SEND_HOUR: u32 = 9;
/// A bulletin not sent at its time (every process down) goes out late, as
/// long as it is at most this late; after that it would be stale news.
pub const LATE_AT_MOST_SECS: i64 = 7 * 86_400;
/// How many teams the bulletin names.
pub const TOP_TEAMS: usize = 3;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn previous(self) -> Self {
        match self.month {
            1 => Self {
                year: self.year - 1,
                month: 12,
            },
            m => Self {
                year: self.year,
                month: m - 1,
            },
        }
    }

    pub fn next(self) -> Self {
        match self.month {
            12 => Self {
                year: self.year + 1,
                month: 1,
            },
            m => Self {
                year: self.year,
                month: m + 1,
            },
        }
    }

    fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// `YYYY-MM`: the key that makes the bulletin once.
    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    pub fn label(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }

    /// The month's instants `[first 00:00, next first 00:00)` in `tz`.
    pub fn range(self, tz: Tz) -> (i64, i64) {
        (
            day_start(self.first_day(), tz),
            day_start(self.next().first_day(), tz),
        )
    }

    /// When this month's bulletin about the month before goes out: the
    /// first at 09:00 local.
    pub fn send_time(self, tz: Tz) -> i64 {
        let at = self
            .first_day()
            .and_time(NaiveTime::from_hms_opt(SEND_HOUR, 0, 0).unwrap_or_default());
        tz.from_local_datetime(&at)
            .earliest()
            .map_or_else(|| at.and_utc().timestamp(), |t| t.timestamp())
    }
}

/// The month whose bulletin is due at `now`: the month before the latest
/// first-of-the-month 09:00 that has passed, unless that passed more than
/// [`LATE_AT_MOST_SECS`] ago.
pub fn due(now: i64, tz: Tz) -> Option<Month> {
    let today = tz.timestamp_opt(now, 0).single()?.date_naive();
    let mut this = Month::of(today);
    if now < this.send_time(tz) {
        this = this.previous();
    }
    (now - this.send_time(tz) <= LATE_AT_MOST_SECS).then(|| this.previous())
}

/// A team among the top ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopTeam {
    pub team_id: String,
    pub name: String,
    pub hours: f64,
}

/// Last month's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// `YYYY-MM`.
    pub month: String,
    pub approved_hours: f64,
    /// Volunteers with approved service in the month.
    pub active_volunteers: i64,
    /// Requests completed that started in the month.
    pub visits_completed: i64,
    /// Campaigns that started in the month.
    pub campaigns: i64,
    /// At most [`TOP_TEAMS`], most hours first.
    pub top_teams: Vec<TopTeam>,
}

/// The bulletin's lines for group chats.
pub fn facts(month: Month, figures: &Figures, community: &str) -> Vec<(String, String)> {
    let mut lines = vec![
        (
            "月份".to_string(),
            format!("{} {}", community, month.label()),
        ),
        (
            "服务时长".to_string(),
            format!("{} 小时", figures.approved_hours),
        ),
        (
            "参与志愿者".to_string(),
            format!("{} 人", figures.active_volunteers),
        ),
        (
            "完成服务".to_string(),
            format!("{} 次", figures.visits_completed),
        ),
        ("主题活动".to_string(), format!("{} 场", figures.campaigns)),
    ];
    let top = figures
        .top_teams
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{}. {}（{} 小时）", i + 1, t.name, t.hours))
        .collect::<Vec<_>>();
    lines.push((
        "服务时长前三的队伍".to_string(),
        if top.is_empty() {
            "暂无".to_string()
        } else {
            top.join("；")
        },
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const TZ: Tz = chrono_tz::Asia::Shanghai;

    fn at(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn due_from_the_first_at_nine_local_for_the_month_before() {
        assert_eq!(due(at("2026-12-01T08:59:59+08:00"), TZ), None);
        let november = Month {
            year: 2026,
            month: 11,
        };
        assert_eq!(due(at("2026-12-01T09:00:00+08:00"), TZ), Some(november));
        assert_eq!(due(at("2026-12-03T18:00:00+08:00"), TZ), Some(november));
        assert_eq!(due(at("2026-12-08T09:00:00+08:00"), TZ), Some(november));
        assert_eq!(due(at("2026-12-08T09:00:01+08:00"), TZ), None, "stale");
        assert_eq!(
            due(at("2027-01-01T10:00:00+08:00"), TZ),
            Some(Month {
                year: 2026,
                month: 12
            }),
            "across the year"
        );
    }

    #[test]
    fn a_months_range_is_local() {
        let (from, until) = Month {
            year: 2026,
            month: 11,
        }
        .range(TZ);
        assert_eq!(from, at("2026-11-01T00:00:00+08:00"));
        assert_eq!(until, at("2026-12-01T00:00:00+08:00"));
        let december = Month {
            year: 2026,
            month: 12,
        };
        assert_eq!(december.next().key(), "2027-01");
        assert_eq!(december.previous().label(), "2026年11月");
    }

    #[test]
    fn the_message_names_the_figures_and_the_top_teams() {
        let figures = Figures {
            month: "2026-11".into(),
            approved_hours: 12.5,
            active_volunteers: 4,
            visits_completed: 3,
            campaigns: 1,
            top_teams: vec![TopTeam {
                team_id: "t".into(),
                name: "学雷锋队".into(),
                hours: 10.0,
            }],
        };
        let month = Month {
            year: 2026,
            month: 11,
        };
        let lines = facts(month, &figures, "阳光社区");
        assert_eq!(lines[0].1, "阳光社区 2026年11月");
        assert_eq!(lines[1].1, "12.5 小时");
        assert_eq!(lines[5].1, "1. 学雷锋队（10 小时）");
        let empty = Figures {
            top_teams: vec![],
            ..figures
        };
        assert_eq!(facts(month, &empty, "阳光社区")[5].1, "暂无");
    }
}
