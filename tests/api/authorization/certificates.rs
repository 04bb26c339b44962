//! Rows: service certificates, their public check and signing keys.

use serde_json::json;

use super::*;

/// Approved service of the member, so certificates of it can be issued.
async fn approved_service(w: &World) {
    let record = w.paper_record(&w.recorder).await;
    w.app
        .post_empty(
            &format!("/service-records/{record}/approve"),
            Some(&w.manager),
        )
        .await
        .expect(200);
}

async fn members_certificate(w: &World) -> serde_json::Value {
    w.app
        .post(
            "/certificates",
            Some(&w.manager),
            json!({"volunteer_id": w.member.id}),
        )
        .await
        .expect(201)
}

pub async fn certificates(w: &World) {
    let app = &w.app;
    approved_service(w).await;
    let member = w.member.id.clone();
    w.check(
        "POST /certificates of the member",
        [401, 403, 201, 403, 403, 403, 403, 201, 201],
        |a, _| {
            let body = json!({"volunteer_id": member});
            async move { app.post("/certificates", a.as_ref(), body).await }
        },
    )
    .await;
    w.check(
        "GET /certificates",
        [401, 200, 200, 200, 200, 403, 403, 200, 200],
        |a, _| async move { app.get("/certificates", a.as_ref()).await },
    )
    .await;
    let cert = members_certificate(w).await;
    let own = [401, 404, 200, 404, 404, 403, 403, 200, 200];
    let path = &format!("/certificates/{}", id(&cert));
    w.check("GET /certificates/{id}", own, |a, _| async move {
        app.get(path, a.as_ref()).await
    })
    .await;
    let pdf = &format!("/certificates/{}/pdf", id(&cert));
    w.check("GET /certificates/{id}/pdf", own, |a, _| async move {
        app.get(pdf, a.as_ref()).await
    })
    .await;
    w.check(
        "POST /certificates/{id}/revoke",
        MANAGERS,
        |a, _| async move {
            let cert = members_certificate(w).await;
            let path = format!("/certificates/{}/revoke", id(&cert));
            app.post(&path, a.as_ref(), json!({"reason": "测试"})).await
        },
    )
    .await;
    w.check(
        "POST /certificate-keys/rotate",
        [401, 403, 403, 403, 403, 403, 403, 403, 201],
        |a, _| async move { app.post_empty("/certificate-keys/rotate", a.as_ref()).await },
    )
    .await;
    w.check(
        "POST /certificate-keys/{kid}/withdraw",
        [401, 403, 403, 403, 403, 403, 403, 403, 200],
        |a, _| async move {
            // A key of its own for each caller: the admin's call withdraws it.
            let rotated = app
                .post_empty("/certificate-keys/rotate", Some(&app.admin))
                .await
                .expect(201);
            let kid = rotated["kid"].as_str().unwrap().to_string();
            app.post_empty(&format!("/certificate-keys/{kid}/withdraw"), a.as_ref())
                .await
        },
    )
    .await;
    w.check(
        "POST /certificates/{id}/reissue",
        [401, 403, 403, 403, 403, 403, 403, 201, 201],
        |a, _| async move {
            let cert = members_certificate(w).await;
            let path = format!("/certificates/{}/reissue", id(&cert));
            app.post_empty(&path, a.as_ref()).await
        },
    )
    .await;
    // Public: at the root (the QR code, RFC 8615) and under /api/v1.
    let number = cert["number"].as_str().unwrap().to_string();
    let at_root = &format!("{}/verify/{number}", app.base);
    w.check(
        "GET /verify/{number} at the root",
        ANYONE,
        |a, _| async move { raw_get(app, at_root, a.as_ref().map(|a| a.token.as_str())).await },
    )
    .await;
    let under_api = &format!("/verify/{number}");
    w.check(
        "GET /verify/{number} under /api/v1",
        ANYONE,
        |a, _| async move { app.get(under_api, a.as_ref()).await },
    )
    .await;
    let keys_at_root = &format!("{}/.well-known/certificate-keys", app.base);
    w.check(
        "GET /.well-known/certificate-keys at the root",
        ANYONE,
        |a, _| async move { raw_get(app, keys_at_root, a.as_ref().map(|a| a.token.as_str())).await },
    )
    .await;
    w.check(
        "GET /.well-known/certificate-keys under /api/v1",
        ANYONE,
        |a, _| async move { app.get("/.well-known/certificate-keys", a.as_ref()).await },
    )
    .await;
}
