//! A full disk under a running server (SQLite on a 48 MB tmpfs): writes
//! answer 507 `storage_full` with `Retry-After`, never 500 and never a 2xx
//! for something not stored; reads that write nothing keep answering;
//! writes work again once space is freed, and everything answered 2xx is
//! still there after a restart. Mounting needs root: where it is refused
//! the test says so, and fails when `REQUIRE_TMPFS=1` (CI) asks for it.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

use crate::helpers::*;
use crate::process::ServerProcess;

/// A tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("vs-small-disk-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(Self { dir })
    }

    /// Writes a file until the disk refuses another byte.
    fn fill(&self) -> PathBuf {
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        let chunk = vec![0u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        // The last partial chunk: byte by byte up to the very end.
        while file.write_all(&[0]).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `None` (with a loud line) where tmpfs cannot be mounted; a failure
/// instead when `REQUIRE_TMPFS=1`.
fn small_disk(test: &str) -> Option<SmallDisk> {
    let disk = SmallDisk::mount(48);
    if disk.is_none() {
        assert!(
            std::env::var("REQUIRE_TMPFS").as_deref() != Ok("1"),
            "{test}: REQUIRE_TMPFS=1 but `mount -t tmpfs` was refused (run as root)"
        );
        eprintln!(
            "SKIPPED {test}: `mount -t tmpfs` was refused (needs root); \
             set REQUIRE_TMPFS=1 to make this a failure"
        );
    }
    disk
}

fn new_request(resident: &str, i: usize) -> serde_json::Value {
    json!({
        "resident_id": resident,
        "category": "home_visit",
        "title": format!("磁盘满时的求助 {i}"),
        "description": "每周一次上门陪伴",
        "starts_at": "2030-12-03T09:00:00+08:00",
        "ends_at": "2030-12-03T11:00:00+08:00",
        "volunteers_needed": 2,
        "urgency": "normal"
    })
}

#[tokio::test]
async fn a_full_disk_answers_507_and_loses_no_acknowledged_write() {
    let test = "a_full_disk_answers_507_and_loses_no_acknowledged_write";
    let Some(disk) = small_disk(test) else {
        return;
    };
    let url = format!("sqlite://{}?mode=rwc", disk.dir.join("v.db").display());
    let server = ServerProcess::start(&url, &[]);
    let app = server.connect(&url).await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let volunteer = app.volunteer("刘志愿").await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    let mut stored: Vec<String> = Vec::new();
    let mut answers: Vec<u16> = Vec::new();

    let filler = disk.fill();
    let mut refused = 0;
    for i in 0..300 {
        let r = app
            .post("/requests", Some(&caseworker), new_request(&resident, i))
            .await;
        answers.push(r.status.as_u16());
        match r.status.as_u16() {
            201 => stored.push(id(&r.body)),
            507 => {
                assert_eq!(r.code(), "storage_full", "{}", r.body);
                assert!(
                    r.headers.contains_key("retry-after"),
                    "507 without Retry-After"
                );
                refused += 1;
            }
            other => panic!("while the disk is full: {other} {}", r.body),
        }
        if refused >= 5 {
            break;
        }
    }
    assert!(refused >= 5, "the disk never filled: {answers:?}");
    // Reads that write nothing keep answering.
    for (path, who) in [
        ("/healthz", None),
        ("/api/v1/livez", None),
        ("/me", Some(&volunteer)),
        ("/teams", Some(&volunteer)),
    ] {
        let r = app.get(path, who).await;
        assert_eq!(r.status.as_u16(), 200, "{path} on a full disk: {}", r.body);
    }

    std::fs::remove_file(&filler).expect("free the space");
    let freed = Instant::now();
    let mut i = 1000;
    loop {
        let r = app
            .post("/requests", Some(&caseworker), new_request(&resident, i))
            .await;
        i += 1;
        answers.push(r.status.as_u16());
        if r.status.as_u16() == 201 {
            stored.push(id(&r.body));
            break;
        }
        assert_eq!(r.status.as_u16(), 507, "{}", r.body);
        assert!(
            freed.elapsed() < Duration::from_secs(15),
            "writes did not resume within 15 s of freeing space"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let resumed_after = freed.elapsed();
    for j in 0..5 {
        let body = new_request(&resident, 2000 + j);
        let created = app
            .post("/requests", Some(&caseworker), body)
            .await
            .expect(201);
        stored.push(id(&created));
    }
    assert!(!answers.contains(&500), "{answers:?}");

    drop(server);
    let server = ServerProcess::start(&url, &[]);
    let app = server.connect(&url).await;
    let caseworker = app.login(&caseworker.phone, PASSWORD).await;
    for request in &stored {
        let r = app
            .get(&format!("/requests/{request}"), Some(&caseworker))
            .await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "acknowledged {request} lost: {}",
            r.body
        );
    }
    drop(server);
    assert_eq!(integrity_check(&url).await, "ok");
    eprintln!(
        "{test}: {} acknowledged writes kept, {refused} refused with 507, \
         writes resumed {:.1} s after space was freed",
        stored.len(),
        resumed_after.as_secs_f64()
    );
}

/// SQLite's `PRAGMA integrity_check` of the database at `url`.
pub async fn integrity_check(url: &str) -> String {
    let db = Database::connect(url).await.expect("open");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "PRAGMA integrity_check",
        ))
        .await
        .expect("integrity_check")
        .expect("a row");
    let verdict: String = row.try_get_by_index(0).expect("text");
    db.close().await.expect("close");
    verdict
}
