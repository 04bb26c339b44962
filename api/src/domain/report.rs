//! Service-hour reports: grouping keys and labels for statistics, and the
//! rows of the CSV/XLSX export, as plain functions.

use chrono::{DateTime, Datelike, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::Deserialize;
use utoipa::ToSchema;

use super::phone::mask_phone;
use super::vocab::{ResidentCategory, ServiceCategory};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Team,
    Volunteer,
    Month,
    ResidentCategory,
    Category,
}

/// The export's header row, as the contract gives it.
pub const EXPORT_HEADER: [&str; 8] = [
    "志愿者",
    "手机号",
    "队伍",
    "服务对象类别",
    "服务类别",
    "开始时间",
    "结束时间",
    "时长(小时)",
];

/// The group of community activities (requests without a resident) in
/// statistics by resident category and in the export: key and label.
pub const COMMUNITY_ACTIVITY: (&str, &str) = ("community_activity", "社区活动");

/// The key and label a record is counted under by resident category: its
/// resident's group, or community activity when it served no resident.
pub fn served_group(resident: Option<ResidentCategory>) -> (&'static str, &'static str) {
    match resident {
        Some(category) => (category.code(), category.label()),
        None => COMMUNITY_ACTIVITY,
    }
}

/// One approved record as stored, joined with what the export shows.
#[derive(Debug, Clone)]
pub struct ExportRecord {
    pub volunteer_name: String,
    pub volunteer_phone: String,
    pub team_name: String,
    /// `None` for a community activity.
    pub resident_category: Option<ResidentCategory>,
    pub service_category: ServiceCategory,
    pub started_at: i64,
    pub ended_at: i64,
    pub minutes: i64,
}

/// `YYYY-MM-DD HH:MM` in the community's zone.
pub fn local_minute(unix_secs: i64, tz: Tz) -> String {
    // Written field by field: `format("%Y-%m-%d %H:%M")` parses its
    // pattern again for every cell of a million-row export.
    tz.timestamp_opt(unix_secs, 0)
        .single()
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

/// Hours to two decimals, as text (`1.50`).
pub fn hours_text(minutes: i64) -> String {
    format!("{:.2}", minutes as f64 / 60.0)
}

impl ExportRecord {
    /// The eight cells of the export, phone masked, codes in Chinese.
    pub fn cells(&self, tz: Tz) -> [String; 8] {
        [
            self.volunteer_name.clone(),
            mask_phone(&self.volunteer_phone),
            self.team_name.clone(),
            served_group(self.resident_category).1.to_string(),
            self.service_category.label().to_string(),
            local_minute(self.started_at, tz),
            local_minute(self.ended_at, tz),
            hours_text(self.minutes),
        ]
    }
}

/// `YYYY-MM` of a start in the community's zone, and its label.
pub fn month_key(unix_secs: i64, tz: Tz) -> (String, String) {
    match tz.timestamp_opt(unix_secs, 0).single() {
        Some(t) => month_of(t),
        None => (String::new(), String::new()),
    }
}

fn month_of(t: DateTime<Tz>) -> (String, String) {
    (
        format!("{:04}-{:02}", t.year(), t.month()),
        format!("{}年{}月", t.year(), t.month()),
    )
}

/// Spreadsheet programs run formulas in cells starting with these; a
/// volunteer called `=HYPERLINK(...)` must stay text (CSV injection).
pub fn defuse_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    fn midnight() -> i64 {
        Shanghai
            .with_ymd_and_hms(2026, 12, 2, 0, 0, 0)
            .unwrap()
            .timestamp()
    }

    #[test]
    fn cells_are_masked_local_and_chinese() {
        let row = ExportRecord {
            volunteer_name: "张三".into(),
            volunteer_phone: "13812345678".into(),
            team_name: "学雷锋队".into(),
            resident_category: Some(ResidentCategory::ElderlyAlone),
            service_category: ServiceCategory::MealDelivery,
            started_at: midnight(),
            ended_at: midnight() + 90 * 60,
            minutes: 90,
        };
        assert_eq!(
            row.cells(Shanghai),
            [
                "张三",
                "138****5678",
                "学雷锋队",
                "空巢老人",
                "送餐",
                "2026-12-02 00:00",
                "2026-12-02 01:30",
                "1.50"
            ]
            .map(String::from)
        );
    }

    #[test]
    fn activities_are_their_own_group() {
        assert_eq!(served_group(None), ("community_activity", "社区活动"));
        assert_eq!(
            served_group(Some(ResidentCategory::MigrantWorker)),
            ("migrant_worker", "农民工")
        );
    }

    #[test]
    fn months_follow_the_community_zone() {
        // 2026-11-30T16:30Z is already December in Shanghai.
        let utc_evening = chrono::Utc
            .with_ymd_and_hms(2026, 11, 30, 16, 30, 0)
            .unwrap()
            .timestamp();
        assert_eq!(
            month_key(utc_evening, Shanghai),
            ("2026-12".into(), "2026年12月".into())
        );
        assert_eq!(month_key(utc_evening, chrono_tz::UTC).0, "2026-11");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(defuse_formula("=1+1"), "'=1+1");
        assert_eq!(defuse_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse_formula("王五"), "王五");
        assert_eq!(hours_text(1), "0.02");
    }
}
