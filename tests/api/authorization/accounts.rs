//! Rows: routes outside `/api/v1`, and accounts.

use serde_json::json;

use super::*;

pub async fn outside_the_api(w: &World) {
    let app = &w.app;
    for path in [
        "/healthz",
        "/api/v1/healthz",
        "/livez",
        "/api/v1/livez",
        "/api-docs/openapi.json",
    ] {
        w.check(&format!("GET {path}"), ANYONE, |a, _| async move {
            app.get(path, a.as_ref()).await
        })
        .await;
    }
    // The browsable UI is served beside the document (not a route of it).
    w.check("GET /docs/", ANYONE, |a, _| async move {
        let url = format!("{}/docs/", app.base);
        raw_get(app, &url, a.as_ref().map(|a| a.token.as_str())).await
    })
    .await;
    // No user's token is the metrics token.
    let url = &format!("{}/metrics", app.base);
    w.check("GET /metrics", [401; 9], |a, _| async move {
        raw_get(app, url, a.as_ref().map(|a| a.token.as_str())).await
    })
    .await;
    raw_get(app, url, Some(METRICS_TOKEN)).await.expect(200);
}

pub async fn accounts(w: &World) {
    let app = &w.app;
    w.check("POST /auth/register", [201; 9], |a, _| async move {
        let body = json!({"phone": random_phone(), "password": PASSWORD, "name": "新志愿者"});
        app.post("/auth/register", a.as_ref(), body).await
    })
    .await;
    let target = &app.volunteer("登录者").await;
    w.check("POST /auth/login", ANYONE, |a, _| async move {
        let body = json!({"phone": target.phone, "password": PASSWORD});
        app.post("/auth/login", a.as_ref(), body).await
    })
    .await;
    w.check("GET /me", SIGNED_IN, |a, _| async move {
        app.get("/me", a.as_ref()).await
    })
    .await;
    w.check("PATCH /me", SIGNED_IN, |a, _| async move {
        app.patch("/me", a.as_ref(), json!({"skills": ["home_visit"]}))
            .await
    })
    .await;
    let admin_only_201 = [401, 403, 403, 403, 403, 403, 403, 403, 201];
    w.check("POST /users", admin_only_201, |a, _| async move {
        let body = json!({"phone": random_phone(), "password": PASSWORD, "name": "新社工", "role": "caseworker"});
        app.post("/users", a.as_ref(), body).await
    })
    .await;
    w.check("GET /users", MANAGERS, |a, _| async move {
        app.get("/users", a.as_ref()).await
    })
    .await;
    let person = &format!("/users/{}", w.actor(1).id);
    w.check("GET /users/{id}", MANAGERS, |a, _| async move {
        app.get(person, a.as_ref()).await
    })
    .await;
    let admin_only_204 = [401, 403, 403, 403, 403, 403, 403, 403, 204];
    w.check(
        "POST /users/{id}/password of a fresh volunteer",
        admin_only_204,
        |a, _| async move {
            let fresh = app.volunteer("忘记密码").await;
            let path = format!("/users/{}/password", fresh.id);
            app.post(&path, a.as_ref(), json!({"new_password": "new-password-1"}))
                .await
        },
    )
    .await;
    let manage_people = [401, 403, 403, 403, 403, 403, 403, 200, 200];
    w.check(
        "POST /users/{id}/disable of a fresh volunteer",
        manage_people,
        |a, _| async move {
            let fresh = app.volunteer("待停用").await;
            app.post_empty(&format!("/users/{}/disable", fresh.id), a.as_ref())
                .await
        },
    )
    .await;
    // Managers change volunteers and caseworkers only.
    w.check(
        "POST /users/{id}/disable of a fresh manager",
        [401, 403, 403, 403, 403, 403, 403, 403, 200],
        |a, _| async move {
            let fresh = app.staff("manager", "另一位经理").await;
            app.post_empty(&format!("/users/{}/disable", fresh.id), a.as_ref())
                .await
        },
    )
    .await;
    // Nobody disables themselves (decisions.md): an admin could lock the
    // last admin out.
    let own_status = &[
        (MANAGER, "cannot_change_own_status"),
        (ADMIN, "cannot_change_own_status"),
    ];
    w.check_codes(
        "POST /users/{id}/disable of the caller",
        [401, 403, 403, 403, 403, 403, 403, 403, 403],
        own_status,
        |a, _| async move {
            let me = a
                .as_ref()
                .map_or(uuid::Uuid::nil().to_string(), |a| a.id.clone());
            let path = format!("/users/{me}/disable");
            app.post_empty(&path, a.as_ref()).await
        },
    )
    .await;
    w.check(
        "POST /users/{id}/enable of a freshly disabled volunteer",
        manage_people,
        |a, _| async move {
            let fresh = app.volunteer("待恢复").await;
            app.post_empty(&format!("/users/{}/disable", fresh.id), Some(&app.admin))
                .await
                .expect(200);
            app.post_empty(&format!("/users/{}/enable", fresh.id), a.as_ref())
                .await
        },
    )
    .await;
    let bystander = &app.volunteer("待核验").await;
    let path = &format!("/users/{}/vetting", bystander.id);
    w.check("PUT /users/{id}/vetting", MANAGERS, |a, _| async move {
        let body = json!({"vetted_until": days_from_today(365), "note": "无犯罪记录证明"});
        app.put(path, a.as_ref(), body).await
    })
    .await;
    let path = &format!("/users/{}/vetting/history", bystander.id);
    w.check(
        "GET /users/{id}/vetting/history",
        MANAGERS,
        |a, _| async move { app.get(path, a.as_ref()).await },
    )
    .await;
    let path = &format!("/users/{}", bystander.id);
    w.check("PATCH /users/{id}", MANAGERS, |a, _| async move {
        let body = json!({"name": "核对后的姓名", "note": "身份证核对"});
        app.patch(path, a.as_ref(), body).await
    })
    .await;
    let path = &format!("/users/{}/name/history", bystander.id);
    w.check(
        "GET /users/{id}/name/history",
        MANAGERS,
        |a, _| async move { app.get(path, a.as_ref()).await },
    )
    .await;
    let path = &format!("/users/{}/calendar", bystander.id);
    w.check(
        "DELETE /users/{id}/calendar",
        [401, 403, 403, 403, 403, 403, 403, 204, 204],
        |a, _| async move { app.delete(path, a.as_ref()).await },
    )
    .await;
}

/// Last of all: every caller's own token stops working.
pub async fn own_password(w: &World) {
    let app = &w.app;
    w.check(
        "POST /me/password",
        [401, 204, 204, 204, 204, 204, 204, 204, 204],
        |a, i| async move {
            let current = if i == ADMIN { ADMIN_PASSWORD } else { PASSWORD };
            let body = json!({"current_password": current, "new_password": "changed-password-1"});
            app.post("/me/password", a.as_ref(), body).await
        },
    )
    .await;
    for (i, actor) in w.actors.iter().enumerate().skip(1) {
        let reply = app.get("/me", actor.as_ref()).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (401, "token_revoked"),
            "{}",
            CALLERS[i]
        );
    }
}
