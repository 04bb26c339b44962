//! `GET /residents?q=`: the resident picker's search, by name (or phone),
//! at most 20 answers; what it answers is logged like any read of a
//! resident's record, and what it does not answer is not.

use serde_json::{Value, json};

use crate::helpers::*;

async fn search(app: &TestApp, who: &Actor, query: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/residents?{query}"), Some(who))
        .await
        .expect(200);
    assert_eq!(page["next_cursor"], Value::Null, "a search is one page");
    page["items"].as_array().unwrap().clone()
}

fn names(items: &[Value]) -> Vec<&str> {
    items.iter().map(|r| r["name"].as_str().unwrap()).collect()
}

/// Entries of `resident`'s access log made by listing residents.
async fn listed_reads(app: &TestApp, manager: &Actor, resident: &str) -> usize {
    let log = app
        .get(&format!("/residents/{resident}/access-log"), Some(manager))
        .await
        .expect(200);
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["route"] == "GET /api/v1/residents")
        .count()
}

#[tokio::test]
async fn searching_residents_finds_by_name_and_phone_and_answers_at_most_twenty() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    for n in 0..23 {
        app.resident(
            &caseworker,
            json!({"name": format!("张桂兰{n}"), "phone": null, "guardian_phone": null}),
        )
        .await;
    }
    let li = id(&app
        .resident(
            &caseworker,
            json!({"name": "李秀英", "phone": "13698765432", "guardian_phone": null}),
        )
        .await);
    app.resident(
        &caseworker,
        json!({"name": "Mary 王", "phone": null, "guardian_phone": null}),
    )
    .await;

    let many = search(&app, &caseworker, "q=桂兰").await;
    assert_eq!(many.len(), 20, "at most 20");
    assert!(names(&many).iter().all(|n| n.starts_with("张桂兰")));
    assert_eq!(search(&app, &caseworker, "q=桂兰&limit=5").await.len(), 5);
    assert_eq!(
        search(&app, &caseworker, "q=桂兰&limit=100").await.len(),
        20
    );
    // A searched name's whole record, as `GET /residents` gives it.
    let found = search(&app, &caseworker, "q=秀英").await;
    assert_eq!(names(&found), ["李秀英"]);
    assert_eq!(found[0]["address"], "阳光社区 3 号楼 2 单元 501");
    // Four digits or more also search phones; fewer only names.
    assert_eq!(
        names(&search(&app, &caseworker, "q=8765").await),
        ["李秀英"]
    );
    assert!(search(&app, &caseworker, "q=876").await.is_empty());
    // Case does not matter, on either database; wildcards are literal.
    assert_eq!(
        names(&search(&app, &caseworker, "q=mary").await),
        ["Mary 王"]
    );
    assert!(search(&app, &caseworker, "q=%25").await.is_empty());
    assert!(search(&app, &caseworker, "q=_").await.is_empty());
    // Retired residents leave the picker's search (`active=true`).
    app.patch(
        &format!("/residents/{li}"),
        Some(&caseworker),
        json!({"active": false}),
    )
    .await
    .expect(200);
    assert!(
        search(&app, &caseworker, "q=秀英&active=true")
            .await
            .is_empty()
    );
    assert_eq!(search(&app, &manager, "q=秀英").await.len(), 1);

    // Only staff search; a search too long is refused.
    let volunteer = app.volunteer("路人").await;
    assert_eq!(
        app.get("/residents?q=秀英", Some(&volunteer)).await.status,
        403
    );
    let long = "秀".repeat(51);
    assert_eq!(
        app.get(&format!("/residents?q={long}"), Some(&caseworker))
            .await
            .status,
        422
    );
}

#[tokio::test]
async fn the_access_log_names_only_the_residents_a_search_answered() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let zhang = id(&app.resident(&caseworker, json!({"name": "张桂兰"})).await);
    let li = id(&app.resident(&caseworker, json!({"name": "李秀英"})).await);
    search(&app, &caseworker, "q=张").await;
    assert_eq!(listed_reads(&app, &manager, &zhang).await, 1);
    assert_eq!(
        listed_reads(&app, &manager, &li).await,
        0,
        "a resident the search did not answer was not read"
    );
}
