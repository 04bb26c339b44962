//! A volunteer's calendar feed: valid iCalendar (read back with the
//! `icalendar` crate's parser), one event per request signed up for with a
//! stable UID, the address, cancellations marked; a new address kills the
//! old one.

use icalendar::{Component, EventLike, EventStatus};
use serde_json::json;

use crate::helpers::*;

const PUBLIC: &str = "https://volunteer.example.org";

/// The feed at `url` (minted under `PUBLIC`), fetched from the test server.
async fn fetch(app: &TestApp, url: &str) -> (u16, String, Option<String>) {
    let path = url.strip_prefix(PUBLIC).expect("under PUBLIC_BASE_URL");
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    (status, res.text().await.unwrap(), kind)
}

fn parse(text: &str) -> icalendar::Calendar {
    let unfolded = icalendar::parser::unfold(text);
    icalendar::parser::read_calendar(&unfolded)
        .expect("valid iCalendar")
        .into()
}

#[tokio::test]
async fn the_feed_lists_signed_up_requests_and_rotating_kills_the_old_address() {
    let app = spawn_app_with(&[("PUBLIC_BASE_URL", PUBLIC)]).await;
    let c = community(&app, 2).await;
    let volunteer = app.volunteer("张志愿").await;
    app.join(&c.team_id, &volunteer).await;
    let cancelled = id(&app
        .request(
            &c.caseworker,
            &c.resident_id,
            json!({"title": "代购米面油", "starts_at": "2030-12-04T14:00:00+08:00", "ends_at": "2030-12-04T15:30:00+08:00"}),
        )
        .await);
    app.assign(&c.caseworker, &cancelled, &c.team_id).await;
    let not_mine = id(&app
        .request(&c.caseworker, &c.resident_id, json!({"title": "不是我的"}))
        .await);
    app.assign(&c.caseworker, &not_mine, &c.team_id).await;
    for request in [&c.request_id, &cancelled] {
        app.post_empty(&format!("/requests/{request}/signups"), Some(&volunteer))
            .await
            .expect(201);
    }
    app.post(
        &format!("/requests/{cancelled}/cancel"),
        Some(&c.caseworker),
        json!({}),
    )
    .await
    .expect(200);

    let minted = app
        .post_empty("/me/calendar", Some(&volunteer))
        .await
        .expect(201);
    let url = minted["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("{PUBLIC}/calendar/")) && url.ends_with(".ics"),
        "{url}"
    );
    let (status, text, kind) = fetch(&app, &url).await;
    assert_eq!(status, 200, "{text}");
    assert!(kind.unwrap().starts_with("text/calendar"));

    let calendar = parse(&text);
    let events: Vec<&icalendar::Event> = calendar.events().collect();
    assert_eq!(events.len(), 2, "{text}");
    let visit = events
        .iter()
        .find(|e| e.get_summary() == Some("陪王阿姨聊天"))
        .expect("the visit");
    assert_eq!(visit.get_location(), Some("阳光社区 3 号楼 2 单元 501"));
    assert_eq!(visit.get_status(), Some(EventStatus::Confirmed));
    let start = match visit.get_start() {
        Some(icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(t))) => t,
        other => panic!("a time with its zone: {other:?}"),
    };
    assert_eq!(
        start.to_rfc3339(),
        "2030-12-03T01:00:00+00:00",
        "09:00 in Shanghai"
    );
    assert!(visit.get_end().is_some());
    let dropped = events
        .iter()
        .find(|e| e.get_summary() == Some("代购米面油"))
        .expect("the cancelled request");
    assert_eq!(dropped.get_status(), Some(EventStatus::Cancelled));
    let uids: Vec<String> = events
        .iter()
        .map(|e| e.get_uid().unwrap().to_string())
        .collect();
    assert!(uids.iter().any(|u| u.contains(&c.request_id)), "{uids:?}");
    let (_, again, _) = fetch(&app, &url).await;
    let uids_again: Vec<String> = parse(&again)
        .events()
        .map(|e| e.get_uid().unwrap().to_string())
        .collect();
    assert_eq!(uids, uids_again, "UIDs are stable");

    // The residents' address left the server: the access log says so.
    let log = app
        .get(
            &format!("/residents/{}/access-log", c.resident_id),
            Some(&c.manager),
        )
        .await
        .expect(200);
    assert!(
        log["items"].as_array().unwrap().iter().any(|e| e["route"]
            .as_str()
            .unwrap()
            .contains("/calendar/{file}")
            && e["actor_id"] == volunteer.id.as_str()),
        "{log}"
    );

    let rotated = app
        .post_empty("/me/calendar", Some(&volunteer))
        .await
        .expect(201);
    let new_url = rotated["url"].as_str().unwrap();
    assert_ne!(new_url, url);
    let (old_status, old_body, _) = fetch(&app, &url).await;
    assert_eq!(old_status, 404, "the old address is dead");
    assert!(old_body.contains("not_found"), "{old_body}");
    assert_eq!(fetch(&app, new_url).await.0, 200);

    // Withdrawn: the visit leaves the calendar.
    app.delete(
        &format!("/requests/{}/signups/me", c.request_id),
        Some(&volunteer),
    )
    .await
    .expect(204);
    let (_, after, _) = fetch(&app, new_url).await;
    let left: Vec<Option<String>> = parse(&after)
        .events()
        .map(|e| e.get_summary().map(str::to_string))
        .collect();
    assert_eq!(left, [Some("代购米面油".to_string())], "{after}");
    let guessed = format!("{PUBLIC}/calendar/{}.ics", "A".repeat(43));
    assert_eq!(fetch(&app, &guessed).await.0, 404);
    assert_eq!(
        app.post_empty("/me/calendar", Some(&c.caseworker))
            .await
            .status,
        403,
        "feeds are for volunteers"
    );
}
