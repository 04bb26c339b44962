//! `volunteer-service backup FILE` during a sign-up rush and `restore
//! FILE` into a fresh server (SQLite); restore refuses a database in use.
//! On PostgreSQL, the `pg_dump`/`pg_restore` commands of
//! `docs/operations.md` are run as written there.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

use crate::helpers::*;
use crate::process::{ServerProcess, on_postgres};

/// An SQLite database file of its own, whatever `TEST_DATABASE_URL` says:
/// backup and restore are SQLite's commands.
fn sqlite_file() -> PathBuf {
    let dir = std::env::temp_dir().join("volunteer-service-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(format!("vs_backup_{}.db", uuid::Uuid::new_v4().simple()))
}

fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}?mode=rwc", file.display())
}

/// Runs `volunteer-service <command> <file>` on `database_url`.
fn run(command: &str, database_url: &str, file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_volunteer-service"))
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .arg(command)
        .arg(file)
        .output()
        .expect("the binary runs")
}

/// Every request's sign-ups as (request, volunteer) pairs, and each
/// request's `signups_count`, as the manager reads them.
async fn sign_ups(
    app: &TestApp,
    manager: &Actor,
    requests: &[String],
) -> (BTreeSet<(String, String)>, Vec<i64>) {
    let mut pairs = BTreeSet::new();
    let mut counts = Vec::new();
    for request in requests {
        let list = app
            .get(&format!("/requests/{request}/signups"), Some(manager))
            .await
            .expect(200);
        for item in list["items"].as_array().expect("items") {
            pairs.insert((
                request.clone(),
                item["volunteer_id"].as_str().unwrap().to_string(),
            ));
        }
        let seen = app
            .get(&format!("/requests/{request}"), Some(manager))
            .await
            .expect(200);
        counts.push(seen["signups_count"].as_i64().expect("count"));
    }
    (pairs, counts)
}

#[tokio::test]
async fn a_backup_taken_during_a_sign_up_rush_restores_every_acknowledged_sign_up() {
    let original = sqlite_file();
    let url = sqlite_url(&original);
    let server = ServerProcess::start(&url, &[]);
    let app = server.connect(&url).await;
    let c = community(&app, 30).await;
    let mut requests = vec![c.request_id.clone()];
    for i in 0..3 {
        let request = app
            .request(
                &c.caseworker,
                &c.resident_id,
                json!({"volunteers_needed": 30, "title": format!("抢报名 {i}")}),
            )
            .await;
        app.assign(&c.caseworker, &id(&request), &c.team_id).await;
        requests.push(id(&request));
    }
    let mut volunteers = Vec::new();
    for i in 0..20 {
        let volunteer = app.volunteer(&format!("志愿者{i}")).await;
        app.join(&c.team_id, &volunteer).await;
        volunteers.push(volunteer);
    }

    // Every (request, volunteer) at once; the backup starts once a
    // quarter of them have been answered.
    let answered: Mutex<Vec<(String, String, Instant)>> = Mutex::new(Vec::new());
    let backup_file = sqlite_file();
    let pairs: Vec<(&String, &Actor)> = requests
        .iter()
        .flat_map(|r| volunteers.iter().map(move |v| (r, v)))
        .collect();
    let (app_ref, answered_ref) = (&app, &answered);
    let rush = join_all(pairs.into_iter().map(|(request, v)| async move {
        let r = app_ref
            .post_empty(&format!("/requests/{request}/signups"), Some(v))
            .await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
        answered_ref
            .lock()
            .unwrap()
            .push((request.clone(), v.id.clone(), Instant::now()));
    }));
    let total = requests.len() * volunteers.len();
    let backup = async {
        while answered.lock().unwrap().len() < total / 4 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let started = Instant::now();
        let (url, file) = (url.clone(), backup_file.clone());
        let output = tokio::task::spawn_blocking(move || run("backup", &url, &file))
            .await
            .expect("backup ran");
        (started, output)
    };
    let (_, (backup_started, output)) = futures::join!(rush, backup);
    assert!(
        output.status.success(),
        "backup: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answered = answered.into_inner().unwrap();
    let before: BTreeSet<(String, String)> = answered
        .iter()
        .filter(|(_, _, at)| *at < backup_started)
        .map(|(r, v, _)| (r.clone(), v.clone()))
        .collect();
    let all: BTreeSet<(String, String)> = answered
        .iter()
        .map(|(r, v, _)| (r.clone(), v.clone()))
        .collect();
    assert!(before.len() >= total / 4);
    let (now, now_counts) = sign_ups(&app, &c.manager, &requests).await;
    assert_eq!(now, all, "the original has every acknowledged sign-up");

    // Restore refuses the database the server has open.
    let refused = run("restore", &url, &backup_file);
    assert!(
        !refused.status.success(),
        "restore over a running server succeeded"
    );
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("in use"), "{said}");
    assert_eq!(
        sign_ups(&app, &c.manager, &requests).await.0,
        all,
        "untouched"
    );

    // The mid-rush backup in a fresh server: everything acknowledged
    // before it began, nothing that was never acknowledged, and counts
    // that agree with the rows.
    let restored = sqlite_file();
    let restored_url = sqlite_url(&restored);
    let done = run("restore", &restored_url, &backup_file);
    assert!(
        done.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    let second = ServerProcess::start(&restored_url, &[]);
    let app2 = second.connect(&restored_url).await;
    let manager2 = app2.login(&c.manager.phone, PASSWORD).await;
    let (kept, counts) = sign_ups(&app2, &manager2, &requests).await;
    assert!(
        kept.is_superset(&before),
        "a sign-up acknowledged before the backup is missing"
    );
    assert!(kept.is_subset(&all), "a sign-up nobody was told of");
    for (i, request) in requests.iter().enumerate() {
        let rows = kept.iter().filter(|(r, _)| r == request).count() as i64;
        assert_eq!(
            counts[i], rows,
            "signups_count of {request} against its sign-ups"
        );
    }
    drop(second);

    // A backup after the rush restores the same figures the server shows.
    let last = sqlite_file();
    let output = run("backup", &url, &last);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let again = sqlite_file();
    let again_url = sqlite_url(&again);
    assert!(run("restore", &again_url, &last).status.success());
    let third = ServerProcess::start(&again_url, &[]);
    let app3 = third.connect(&again_url).await;
    let manager3 = app3.login(&c.manager.phone, PASSWORD).await;
    assert_eq!(
        sign_ups(&app3, &manager3, &requests).await,
        (now, now_counts),
        "the same sign-ups and counts after backup and restore"
    );
    let stats = "/stats/service-hours?group_by=team";
    assert_eq!(
        app3.get(stats, Some(&manager3)).await.expect(200),
        app.get(stats, Some(&c.manager)).await.expect(200)
    );
    assert_eq!(crate::disk_full::integrity_check(&again_url).await, "ok");
    eprintln!(
        "backup during the rush held {} of {total} sign-ups ({} acknowledged before it began)",
        kept.len(),
        before.len()
    );
}

#[tokio::test]
async fn a_backup_never_overwrites_and_restore_refuses_what_is_not_a_backup() {
    let original = sqlite_file();
    let url = sqlite_url(&original);
    let server = ServerProcess::start(&url, &[]);
    server.connect(&url).await;
    let existing = sqlite_file();
    std::fs::write(&existing, b"keep me").expect("write");
    let refused = run("backup", &url, &existing);
    assert!(!refused.status.success());
    assert_eq!(std::fs::read(&existing).expect("read"), b"keep me");
    let target = sqlite_url(&sqlite_file());
    let refused = run("restore", &target, &existing);
    assert!(!refused.status.success(), "a text file restored");
}

/// The commands of `docs/operations.md` ("Backup and restore"), run as
/// written there with `DATABASE_URL`, `NEW_DATABASE_URL` and `FILE` set.
const PG_BACKUP: &str = r#"pg_dump --format=custom --file="$FILE" "$DATABASE_URL""#;
const PG_RESTORE: &str =
    r#"pg_restore --no-owner --no-privileges --exit-on-error --dbname="$NEW_DATABASE_URL" "$FILE""#;

fn shell(script: &str, vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new("sh");
    command.arg("-c").arg(script);
    for (k, v) in vars {
        command.env(k, v);
    }
    command.output().expect("sh runs")
}

#[tokio::test]
async fn pg_dump_and_pg_restore_as_documented_keep_every_sign_up() {
    if !on_postgres() {
        eprintln!(
            "SKIPPED pg_dump_and_pg_restore_as_documented_keep_every_sign_up: \
             PostgreSQL only (set TEST_DATABASE_URL=postgres://…)"
        );
        return;
    }
    let operations = include_str!("../../docs/operations.md");
    for command in [PG_BACKUP, PG_RESTORE] {
        assert!(
            operations.contains(command),
            "docs/operations.md lacks: {command}"
        );
    }
    let app = spawn_app().await;
    let c = community(&app, 5).await;
    for i in 0..3 {
        let volunteer = app.volunteer(&format!("志愿者{i}")).await;
        app.join(&c.team_id, &volunteer).await;
        app.post_empty(
            &format!("/requests/{}/signups", c.request_id),
            Some(&volunteer),
        )
        .await
        .expect(201);
    }
    let requests = vec![c.request_id.clone()];
    let before = sign_ups(&app, &c.manager, &requests).await;
    let file = std::env::temp_dir().join(format!("vs-pg-{}.dump", uuid::Uuid::new_v4()));
    let file = file.to_string_lossy().into_owned();
    let dumped = shell(
        PG_BACKUP,
        &[("DATABASE_URL", &app.database_url), ("FILE", &file)],
    );
    assert!(
        dumped.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&dumped.stderr)
    );

    let new_url = fresh_empty_postgres().await;
    let restored = shell(
        PG_RESTORE,
        &[("NEW_DATABASE_URL", &new_url), ("FILE", &file)],
    );
    let _ = std::fs::remove_file(&file);
    assert!(
        restored.status.success(),
        "pg_restore: {}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let server = ServerProcess::start(&new_url, &[]);
    let app2 = server.connect(&new_url).await;
    let manager = app2.login(&c.manager.phone, PASSWORD).await;
    assert_eq!(sign_ups(&app2, &manager, &requests).await, before);
}

/// A new, empty PostgreSQL database beside `TEST_DATABASE_URL`.
async fn fresh_empty_postgres() -> String {
    fresh_database().await
}
