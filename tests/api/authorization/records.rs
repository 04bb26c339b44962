//! Rows: service records (the member's service for R), statistics and
//! exports.

use serde_json::json;

use super::*;

/// Who reads a record of the member: the member, T's leader and every
/// caseworker, manager and admin; the others may not know it exists.
const READS_RECORD: Expected = [401, 404, 200, 200, 404, 200, 200, 200, 200];
/// Who reviews it: R's caseworker, T's leader, managers and admins; the
/// member may read it but it is their own (403 `own_entry`), another
/// caseworker may read it but not review it (403).
const REVIEWS_RECORD: Expected = [401, 404, 403, 200, 404, 200, 403, 200, 200];
const REVIEW_CODES: &[(usize, &str)] = &[(MEMBER, "own_entry"), (OTHER_CASEWORKER, "forbidden")];

pub async fn service_records(w: &World) {
    let app = &w.app;
    let (member, request) = (&w.member, &w.request);
    w.check("POST /service-records", STAFF_CREATE, |a, _| async move {
        let (start, end) = w.slot();
        let body = json!({"volunteer_id": member.id, "request_id": request, "started_at": minutes_ago(start), "ended_at": minutes_ago(end)});
        app.post("/service-records", a.as_ref(), body).await
    })
    .await;
    // Volunteers list their own (and leaders their team's).
    w.check("GET /service-records", SIGNED_IN, |a, _| async move {
        app.get("/service-records", a.as_ref()).await
    })
    .await;
    // A volunteer may not ask for someone else's, even a leader for a
    // member; staff may.
    let of_member = &format!("/service-records?volunteer_id={}", member.id);
    w.check(
        "GET /service-records of the member",
        [401, 403, 200, 403, 403, 200, 200, 200, 200],
        |a, _| async move { app.get(of_member, a.as_ref()).await },
    )
    .await;
    let record = w.paper_record(&w.recorder).await;
    let path = &format!("/service-records/{record}");
    w.check(
        "GET /service-records/{id}",
        READS_RECORD,
        |a, _| async move { app.get(path, a.as_ref()).await },
    )
    .await;
    let path = &format!("/service-records/{record}/history");
    w.check(
        "GET /service-records/{id}/history",
        READS_RECORD,
        |a, _| async move { app.get(path, a.as_ref()).await },
    )
    .await;
    reviews(w).await;
}

/// Each caller reviews or corrects a fresh record.
async fn reviews(w: &World) {
    let app = &w.app;
    w.check_codes(
        "POST /service-records/{id}/approve entered by someone else",
        REVIEWS_RECORD,
        REVIEW_CODES,
        |a, _| async move {
            let record = w.paper_record(&w.recorder).await;
            let path = format!("/service-records/{record}/approve");
            app.post_empty(&path, a.as_ref()).await
        },
    )
    .await;
    // Staff approving a paper record they entered themselves.
    let own: Vec<(usize, &str)> = [MEMBER, CASEWORKER, OTHER_CASEWORKER, MANAGER, ADMIN]
        .into_iter()
        .map(|i| (i, "own_entry"))
        .collect();
    w.check_codes(
        "POST /service-records/{id}/approve entered by the caller",
        [401, 404, 403, 200, 404, 403, 403, 403, 403],
        &own,
        |a, i| async move {
            let recorder = if i >= CASEWORKER {
                w.actor(i)
            } else {
                &w.recorder
            };
            let record = w.paper_record(recorder).await;
            let path = format!("/service-records/{record}/approve");
            app.post_empty(&path, a.as_ref()).await
        },
    )
    .await;
    w.check_codes(
        "POST /service-records/{id}/reject entered by someone else",
        REVIEWS_RECORD,
        REVIEW_CODES,
        |a, _| async move {
            let record = w.paper_record(&w.recorder).await;
            let path = format!("/service-records/{record}/reject");
            app.post(&path, a.as_ref(), json!({"reason": "时间与签到表不符"}))
                .await
        },
    )
    .await;
    let correctors: Expected = [401, 404, 403, 201, 404, 201, 403, 201, 201];
    w.check_codes(
        "POST /service-records/{id}/corrections of an approved record",
        correctors,
        REVIEW_CODES,
        |a, _| async move {
            let (start, end) = w.slot();
            let body = json!({"volunteer_id": w.member.id, "request_id": w.request, "started_at": minutes_ago(start), "ended_at": minutes_ago(end)});
            let record = id(&app
                .post("/service-records", Some(&w.recorder), body)
                .await
                .expect(201));
            app.post_empty(
                &format!("/service-records/{record}/approve"),
                Some(&w.manager),
            )
            .await
            .expect(200);
            let body = json!({"started_at": minutes_ago(start), "ended_at": minutes_ago(end + 5), "reason": "实际提前结束"});
            let path = format!("/service-records/{record}/corrections");
            app.post(&path, a.as_ref(), body).await
        },
    )
    .await;
}

pub async fn statistics(w: &World) {
    let app = &w.app;
    w.check("GET /stats/service-hours", MANAGERS, |a, _| async move {
        app.get("/stats/service-hours?group_by=team", a.as_ref())
            .await
    })
    .await;
    w.check("GET /stats/requests", MANAGERS, |a, _| async move {
        app.get("/stats/requests?from=2030-12-01&to=2030-12-31", a.as_ref())
            .await
    })
    .await;
    let url = &app.url("/exports/service-hours?format=csv");
    w.check("GET /exports/service-hours", MANAGERS, |a, _| async move {
        raw_get(app, url, a.as_ref().map(|a| a.token.as_str())).await
    })
    .await;
}
