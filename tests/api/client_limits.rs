//! Per-client limits: callers without a token cannot make the database
//! write without bound, `GET /verify` is limited per client without a
//! write per call, and an IPv6 client is counted by its /64.

use serde_json::json;

use crate::helpers::*;
use crate::secrets::column;

const UNKNOWN_CERTIFICATE: &str = "/verify/ZM-0000-0000-0000-0000";

fn minute() -> i64 {
    chrono::Utc::now().timestamp().div_euclid(60)
}

async fn rows(app: &TestApp, sql: &str) -> Vec<String> {
    column(&app.database_url, sql).await
}

#[tokio::test]
async fn anonymous_calls_leave_at_most_one_row_a_minute_and_verify_is_still_limited() {
    let app = spawn_app_with(&[("VERIFY_REQUESTS_PER_MINUTE", "5")]).await;
    let keys_before = rows(&app, "SELECT key FROM idempotency_keys").await;
    let first_minute = minute();
    let mut statuses = Vec::new();
    for i in 0..20 {
        // A creating POST with a key but no token: refused, nothing kept.
        let post = app
            .send(
                app.client
                    .post(app.url("/residents"))
                    .header("Idempotency-Key", format!("anon-{i}"))
                    .json(&json!({"name": "王秀英"})),
            )
            .await;
        assert_eq!(post.status, 401);
        // A forged token is no token either.
        let forged = app
            .send(
                app.client
                    .post(app.url("/residents"))
                    .bearer_auth("not-a-token")
                    .header("Idempotency-Key", format!("forged-{i}"))
                    .json(&json!({"name": "王秀英"})),
            )
            .await;
        assert_eq!(forged.status, 401);
        let check = app.get(UNKNOWN_CERTIFICATE, None).await;
        statuses.push(check.status.as_u16());
    }
    let minutes = minute() - first_minute + 1;

    let keys_after = rows(&app, "SELECT key FROM idempotency_keys").await;
    assert_eq!(keys_after, keys_before, "no key kept for anonymous callers");
    let verify_rows = rows(
        &app,
        "SELECT address FROM client_attempts WHERE address LIKE 'verify %'",
    )
    .await;
    assert!(
        verify_rows.len() as i64 <= minutes,
        "{} rows in {minutes} minute(s): {verify_rows:?}",
        verify_rows.len()
    );
    // Still limited: five a minute answer, the rest 429.
    let answered = statuses.iter().filter(|s| **s == 404).count() as i64;
    let limited = statuses.iter().filter(|s| **s == 429).count() as i64;
    assert_eq!(answered + limited, 20, "{statuses:?}");
    assert!(answered <= 5 * minutes, "{statuses:?}");
    assert!(limited >= 20 - 5 * minutes, "{statuses:?}");
    let refused = app.get(UNKNOWN_CERTIFICATE, None).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.code(), "too_many_attempts");
    assert!(refused.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn an_ipv6_client_is_counted_by_its_64_and_mapped_ipv4_as_ipv4() {
    let app = spawn_app_with(&[
        ("VERIFY_REQUESTS_PER_MINUTE", "3"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let from = |client: &str| {
        app.client
            .get(app.url(UNKNOWN_CERTIFICATE))
            .header("X-Forwarded-For", client)
    };
    // Four addresses of one /64: one client, so the fourth call is over.
    let mut statuses = Vec::new();
    for client in [
        "2001:db8:1:2::a",
        "2001:db8:1:2::b",
        "2001:db8:1:2:ffff:ffff:ffff:ffff",
        "2001:db8:1:2::d",
    ] {
        statuses.push(app.send(from(client)).await.status.as_u16());
    }
    assert_eq!(statuses, [404, 404, 404, 429]);
    // The next /64 is another client.
    assert_eq!(app.send(from("2001:db8:1:3::a")).await.status, 404);
    // An IPv4 client through an IPv6 socket is the IPv4 client.
    let mut statuses = Vec::new();
    for client in [
        "203.0.113.7",
        "::ffff:203.0.113.7",
        "203.0.113.7",
        "::ffff:203.0.113.7",
    ] {
        statuses.push(app.send(from(client)).await.status.as_u16());
    }
    assert_eq!(statuses, [404, 404, 404, 429]);
    let counted = rows(
        &app,
        "SELECT address FROM client_attempts WHERE address LIKE 'verify %'",
    )
    .await;
    assert!(
        counted.contains(&"verify 2001:db8:1:2::/64".to_string()),
        "{counted:?}"
    );
}
