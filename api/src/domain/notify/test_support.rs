//! A fixed event for the notification tests.

use chrono::DateTime;
use serde_json::json;
use uuid::Uuid;

use super::EventMessage;
use crate::domain::vocab::EventType;

pub fn sample(event: EventType) -> EventMessage {
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
    EventMessage {
        facts: Vec::new(),
        event_id: Uuid::parse_str("0b4f6c1e-8d2a-4f5e-9c3b-7a1d2e3f4a5b").unwrap(),
        event,
        occurred_at: at("2024-05-18T08:30:00+08:00"),
        request_title: "陪同王**去社区医院复诊".into(),
        starts_at: at("2024-05-18T09:00:00+08:00"),
        ends_at: at("2024-05-18T11:00:00+08:00"),
        place: "幸福里社区".into(),
        team_name: Some("学雷锋志愿服务队".into()),
        contact: Some("社工 李** 138****5678".into()),
        detail: Some("请队长确认人手".into()),
        mention_mobiles: Vec::new(),
        data: json!({"id": "5f0c2d7e-1b3a-4c5d-8e9f-0a1b2c3d4e5f", "title": "陪同王**去社区医院复诊"}),
    }
}
