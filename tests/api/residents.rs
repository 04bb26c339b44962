//! Residents: validation, masking, and who may read them.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_caseworker_registers_a_resident_and_the_id_number_is_masked() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let resident = app.resident(&caseworker, json!({})).await;
    assert_eq!(resident["name"], "王秀英");
    assert_eq!(resident["address"], "阳光社区 3 号楼 2 单元 501");
    assert_eq!(resident["id_number"], "110***********002X");
    let read = app
        .get(&format!("/residents/{}", id(&resident)), Some(&caseworker))
        .await
        .expect(200);
    assert_eq!(read["id_number"], "110***********002X");
    let list = app.get("/residents", Some(&caseworker)).await.expect(200);
    assert_eq!(list["items"][0]["id_number"], "110***********002X");
}

#[tokio::test]
async fn the_whole_id_number_never_reaches_the_database() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    app.resident(&caseworker, json!({})).await;
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(&app.database_url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT * FROM residents",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let mut dump = String::new();
    for column in [
        "name",
        "category",
        "phone",
        "address",
        "id_number_masked",
        "guardian_name",
        "guardian_phone",
        "notes",
    ] {
        let value: Option<String> = rows[0].try_get("", column).unwrap();
        dump.push_str(&value.unwrap_or_default());
    }
    assert!(
        !dump.contains("11010519491231002X"),
        "a database dump shows the ID number whole"
    );
    let stored: Option<String> = rows[0].try_get("", "id_number_masked").unwrap();
    assert_eq!(stored.as_deref(), Some("110***********002X"));
}

#[tokio::test]
async fn residents_are_validated() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    for (override_, field) in [
        (json!({"category": "alien"}), "category"),
        (json!({"phone": "call me"}), "phone"),
        (json!({"id_number": "110105194912310021"}), "id_number"),
        (json!({"location": {"lat": 100, "lng": 0}}), "location.lat"),
        (json!({"address": "   "}), "address"),
        (json!({"name": ""}), "name"),
    ] {
        let mut body = json!({"name": "王秀英", "category": "elderly_alone", "address": "3 号楼", "location": {"lat": 39.9, "lng": 116.4}});
        merge(&mut body, override_.clone());
        let r = app.post("/residents", Some(&caseworker), body).await;
        assert_eq!(r.status, 422, "{override_}");
        assert_eq!(r.body["error"]["details"][0]["field"], field, "{override_}");
    }
    let list = app.get("/residents", Some(&caseworker)).await.expect(200);
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn volunteers_never_read_residents() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let resident = app.resident(&caseworker, json!({})).await;
    let v = app.volunteer("甲").await;
    assert_eq!(
        app.get(&format!("/residents/{}", id(&resident)), Some(&v))
            .await
            .status,
        403
    );
    assert_eq!(app.get("/residents", Some(&v)).await.status, 403);
    let r = app.post("/residents", Some(&v), json!({"name": "x", "category": "other", "address": "x", "location": {"lat": 1, "lng": 1}})).await;
    assert_eq!(r.status, 403);
}
