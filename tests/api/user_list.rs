//! `GET /users` and `GET /users/{id}`: managers find accounts.

use crate::helpers::*;

#[tokio::test]
async fn managers_find_accounts_by_role_status_and_the_start_of_a_name_or_phone() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let zhang_san = app.volunteer("张三").await;
    let zhang_si = app.volunteer("张四").await;
    let wang = app.volunteer("王五").await;
    app.post_empty(&format!("/users/{}/disable", zhang_si.id), Some(&manager))
        .await
        .expect(200);

    let ids = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |query: String| {
        let (app, manager) = (&app, &manager);
        async move {
            app.get(&format!("/users{query}"), Some(manager))
                .await
                .expect(200)
        }
    };

    let everyone = list("".into()).await;
    assert_eq!(
        ids(&everyone).len(),
        6,
        "admin, manager, caseworker, three volunteers"
    );
    assert_eq!(everyone["items"][0]["id"], wang.id.as_str(), "newest first");
    assert!(everyone["items"][0]["status"] == "active");

    let zhangs = list("?q=%E5%BC%A0".into()).await; // 张
    assert_eq!(
        ids(&zhangs),
        vec![zhang_si.id.clone(), zhang_san.id.clone()]
    );
    let active_zhangs = list("?q=%E5%BC%A0&status=active".into()).await;
    assert_eq!(ids(&active_zhangs), vec![zhang_san.id.clone()]);
    let disabled = list("?status=disabled".into()).await;
    assert_eq!(ids(&disabled), vec![zhang_si.id.clone()]);
    assert_eq!(disabled["items"][0]["status"], "disabled");
    let caseworkers = list("?role=caseworker".into()).await;
    assert_eq!(ids(&caseworkers), vec![caseworker.id.clone()]);
    let by_phone = list(format!("?q={}", &wang.phone[..9])).await;
    assert!(ids(&by_phone).contains(&wang.id));
    assert!(
        list("?q=%25".into()).await["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "% is literal"
    );

    let first = list("?role=volunteer&limit=2".into()).await;
    assert_eq!(ids(&first).len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = list(format!("?role=volunteer&limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&second), vec![zhang_san.id.clone()]);
    assert!(second["next_cursor"].is_null());

    let one = app
        .get(&format!("/users/{}", zhang_san.id), Some(&app.admin))
        .await
        .expect(200);
    assert_eq!(one["name"], "张三");
    assert_eq!(one["status"], "active");
    let unknown = format!("/users/{}", uuid::Uuid::now_v7());
    assert_eq!(app.get(&unknown, Some(&manager)).await.status, 404);
    for bad in ["?role=chief", "?status=gone", "?limit=0", "?q=%00"] {
        let reply = app.get(&format!("/users{bad}"), Some(&manager)).await;
        assert_eq!(reply.status, 422, "{bad}: {}", reply.body);
    }
    for outsider in [&caseworker, &zhang_san] {
        assert_eq!(app.get("/users", Some(outsider)).await.status, 403);
        let one = format!("/users/{}", wang.id);
        assert_eq!(app.get(&one, Some(outsider)).await.status, 403);
    }
    assert_eq!(app.get("/users", None).await.status, 401);
}

#[tokio::test]
async fn the_account_routes_are_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc = app.get("/api-docs/openapi.json", None).await.expect(200);
    for (path, method) in [
        ("/api/v1/users", "get"),
        ("/api/v1/users/{id}", "get"),
        ("/api/v1/me/password", "post"),
        ("/api/v1/users/{id}/password", "post"),
        ("/api/v1/users/{id}/disable", "post"),
        ("/api/v1/users/{id}/enable", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
}
