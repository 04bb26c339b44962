//! A database that does not answer is 503 `database_unavailable`, with
//! `Retry-After`: on the health checks and for signed-in callers alike —
//! never a 401 (as if the token were bad) and never a bare 500.
//! (PostgreSQL only: the test database is dropped under the running
//! server; an open SQLite file cannot be made to fail as safely.)

use sea_orm::{ConnectionTrait, Database};

use crate::helpers::*;
use crate::process::on_postgres;

#[tokio::test]
async fn a_database_that_stops_answering_makes_healthz_and_reads_answer_503() {
    if !on_postgres() {
        eprintln!(
            "skipped: a_database_that_stops_answering_makes_healthz_and_reads_answer_503 \
             drops a PostgreSQL database; an open SQLite file cannot be made to fail safely"
        );
        return;
    }
    let app = spawn_app_with(&[("DATABASE_ACQUIRE_TIMEOUT_SECS", "1")]).await;
    app.get("/healthz", None).await.expect(200);
    app.get("/me", Some(&app.admin)).await.expect(200);

    let name = url::Url::parse(&app.database_url)
        .expect("database URL")
        .path()
        .trim_start_matches('/')
        .to_string();
    let base = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let admin = Database::connect(&base).await.expect("connect");
    admin
        .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .expect("drop the test database");
    admin.close().await.expect("close");

    for path in ["/healthz", "/api/v1/healthz"] {
        let r = app.get(path, None).await;
        assert_eq!(r.status.as_u16(), 503, "{path}: {}", r.body);
        assert_eq!(r.body["error"]["code"], "database_unavailable");
        assert!(r.headers.contains_key("retry-after"), "{path}");
        assert!(
            !r.body.to_string().contains(&name),
            "the cause stays in the log"
        );
    }
    let r = app.get("/me", Some(&app.admin)).await;
    assert_eq!(
        r.status.as_u16(),
        503,
        "a valid token is not refused: {}",
        r.body
    );
    assert_eq!(r.body["error"]["code"], "database_unavailable");
}
