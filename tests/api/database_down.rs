//! A PostgreSQL cluster of the test's own, stopped under two server
//! processes taking sign-ups: every answer within 2 s (503 with
//! `Retry-After` while it is down), `/healthz` 503 within a second,
//! `/livez` 200, normal answers within 15 s of its return, no sign-up lost
//! or doubled, every event delivered. PostgreSQL runs only (it needs
//! `initdb`/`pg_ctl` and root to run them as `postgres`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

use crate::helpers::*;
use crate::process::{ServerProcess, free_port, on_postgres};
use crate::receiver::Receiver;

/// A PostgreSQL cluster in a temporary directory, run as `postgres`.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

fn as_postgres(program: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .output()
        .expect("runuser runs")
}

impl Cluster {
    fn start() -> Self {
        let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL under /usr/lib/postgresql")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .collect();
        bins.sort();
        let bin = bins.pop().expect("an initdb");
        let dir = std::env::temp_dir().join(format!("vs-cluster-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let chown = Command::new("chown").arg("postgres").arg(&dir).status();
        assert!(chown.is_ok_and(|s| s.success()), "chown postgres");
        let data = dir.join("data");
        let out = as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = Self {
            dir,
            bin,
            port: free_port(),
        };
        cluster.pg_ctl_start();
        cluster
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        let out = as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn stop(&self, mode: &str) {
        let data = self.dir.join("data");
        let out = as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", data.to_str().unwrap(), "-m", mode, "-w", "stop"],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One answer of the load: what, through which process, how long it took.
struct Answer {
    status: u16,
    code: String,
    retry_after: bool,
    took: Duration,
}

#[tokio::test]
async fn a_stopped_postgresql_answers_503_in_time_and_loses_no_sign_up() {
    let test = "a_stopped_postgresql_answers_503_in_time_and_loses_no_sign_up";
    if !on_postgres() {
        eprintln!("SKIPPED {test}: PostgreSQL only (set TEST_DATABASE_URL=postgres://…)");
        return;
    }
    let cluster = Cluster::start();
    {
        use sea_orm::{ConnectionTrait, Database};
        let admin = Database::connect(cluster.url("postgres"))
            .await
            .expect("connect");
        admin
            .execute_unprepared("CREATE DATABASE volunteer")
            .await
            .expect("create database");
        admin.close().await.expect("close");
    }
    let url = cluster.url("volunteer");
    let (a, b) = (
        ServerProcess::start(&url, &[]),
        ServerProcess::start(&url, &[]),
    );
    let (app_a, app_b) = (a.connect(&url).await, b.connect(&url).await);
    let receiver = Receiver::start().await;
    app_a.request_webhook(&receiver.url).await;
    let c = community(&app_a, 40).await;
    let mut requests = vec![c.request_id.clone()];
    for i in 0..3 {
        let request = app_a
            .request(
                &c.caseworker,
                &c.resident_id,
                json!({"volunteers_needed": 40, "title": format!("停库时的报名 {i}")}),
            )
            .await;
        app_a.assign(&c.caseworker, &id(&request), &c.team_id).await;
        requests.push(id(&request));
    }
    let mut volunteers = Vec::new();
    for i in 0..24 {
        let app = if i % 2 == 0 { &app_a } else { &app_b };
        let volunteer = app.volunteer(&format!("志愿者{i}")).await;
        app.join(&c.team_id, &volunteer).await;
        volunteers.push(volunteer);
    }

    let answers: Mutex<Vec<Answer>> = Mutex::new(Vec::new());
    let acknowledged: Mutex<BTreeSet<(String, String)>> = Mutex::new(BTreeSet::new());
    // Each worker signs its volunteer up for every request, one after
    // the other, retrying a 503 until the answer is final. The second
    // half waits until the database has been stopped, so sign-ups meet
    // the outage however fast the first half went.
    let (stopped_tx, stopped_rx) = tokio::sync::watch::channel(false);
    let workers = join_all(volunteers.iter().enumerate().map(|(i, v)| {
        let (answers, acknowledged, requests) = (&answers, &acknowledged, &requests);
        let app = if i % 2 == 0 { &app_a } else { &app_b };
        let mut stopped = stopped_rx.clone();
        async move {
            for (n, request) in requests.iter().enumerate() {
                if n == requests.len() / 2 {
                    stopped
                        .wait_for(|down| *down)
                        .await
                        .expect("the outage runs");
                }
                loop {
                    let started = Instant::now();
                    let r = app
                        .post_empty(&format!("/requests/{request}/signups"), Some(v))
                        .await;
                    let status = r.status.as_u16();
                    answers.lock().unwrap().push(Answer {
                        status,
                        code: r.code().to_string(),
                        retry_after: r.headers.contains_key("retry-after"),
                        took: started.elapsed(),
                    });
                    match status {
                        201 => {
                            acknowledged
                                .lock()
                                .unwrap()
                                .insert((request.clone(), v.id.clone()));
                            break;
                        }
                        // A commit whose answer was lost: stored, and said so now.
                        409 if r.code() == "already_signed_up" => break,
                        503 => tokio::time::sleep(Duration::from_millis(300)).await,
                        other => panic!("sign-up answered {other}: {}", r.body),
                    }
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        }
    }));
    let outage = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let stopping = tokio::task::spawn_blocking({
            let data = cluster.dir.clone();
            let bin = cluster.bin.clone();
            move || {
                let data = data.join("data");
                as_postgres(
                    &bin.join("pg_ctl"),
                    &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
                )
            }
        });
        assert!(
            stopping.await.expect("stop ran").status.success(),
            "pg_ctl stop"
        );
        stopped_tx.send_replace(true);
        let mut down = Vec::new();
        for app in [&app_a, &app_b] {
            let started = Instant::now();
            let health = app.get("/healthz", None).await;
            down.push((health.status.as_u16(), started.elapsed()));
            let live = app.get("/livez", None).await;
            assert_eq!(
                live.status.as_u16(),
                200,
                "/livez while the database is down"
            );
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        tokio::task::spawn_blocking({
            let data = cluster.dir.clone();
            let (bin, port, sock) = (cluster.bin.clone(), cluster.port, cluster.dir.clone());
            move || {
                let options = format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                    sock.display()
                );
                let log = data.join("log");
                let data = data.join("data");
                as_postgres(
                    &bin.join("pg_ctl"),
                    &[
                        "-D",
                        data.to_str().unwrap(),
                        "-o",
                        &options,
                        "-l",
                        log.to_str().unwrap(),
                        "-w",
                        "start",
                    ],
                )
            }
        })
        .await
        .expect("start ran");
        let back = Instant::now();
        let mut resumed = Vec::new();
        for app in [&app_a, &app_b] {
            loop {
                if app.get("/teams", Some(&c.manager)).await.status == 200 {
                    resumed.push(back.elapsed());
                    break;
                }
                assert!(
                    back.elapsed() < Duration::from_secs(15),
                    "no normal answer within 15 s"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        (down, resumed)
    };
    let (_, (down, resumed)) = futures::join!(workers, outage);

    for (status, took) in &down {
        assert_eq!(*status, 503, "/healthz while the database is down");
        assert!(*took < Duration::from_secs(1), "/healthz took {took:?}");
    }
    let answers = answers.into_inner().unwrap();
    let slowest = answers.iter().map(|a| a.took).max().unwrap_or_default();
    assert!(
        slowest < Duration::from_secs(2),
        "an answer took {slowest:?}"
    );
    let unavailable: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    assert!(!unavailable.is_empty(), "the outage was never seen");
    for a in &unavailable {
        assert_eq!(a.code, "database_unavailable");
        assert!(a.retry_after, "503 without Retry-After");
    }
    assert!(
        answers.iter().all(|a| a.status != 500),
        "a 500 during the outage"
    );

    let acknowledged = acknowledged.into_inner().unwrap();
    let mut stored = BTreeSet::new();
    for request in &requests {
        let list = app_b
            .get(&format!("/requests/{request}/signups"), Some(&c.manager))
            .await
            .expect(200);
        let items = list["items"].as_array().unwrap();
        let volunteers: BTreeSet<String> = items
            .iter()
            .map(|i| i["volunteer_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(volunteers.len(), items.len(), "a sign-up doubled");
        let seen = app_b
            .get(&format!("/requests/{request}"), Some(&c.manager))
            .await
            .expect(200);
        assert_eq!(
            seen["signups_count"].as_u64().unwrap() as usize,
            items.len()
        );
        stored.extend(volunteers.into_iter().map(|v| (request.clone(), v)));
    }
    assert!(
        stored.is_superset(&acknowledged),
        "an acknowledged sign-up is missing"
    );
    assert_eq!(
        stored.len(),
        requests.len() * volunteers.len(),
        "every volunteer ends signed up for every request, once"
    );
    // The request.created events, written before the outage, all arrive.
    let delivered: BTreeSet<String> = receiver
        .wait_for(requests.len(), 60)
        .await
        .iter()
        .filter(|r| r.body["type"] == "request.created")
        .map(|r| {
            r.body["data"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    for request in &requests {
        assert!(
            delivered.contains(request),
            "request.created of {request} not delivered"
        );
    }
    eprintln!(
        "{test}: {} answers, {} were 503, slowest {:?}; /healthz while down {:?}; \
         normal answers {:?} after the restart",
        answers.len(),
        unavailable.len(),
        slowest,
        down,
        resumed
    );
    drop((a, b));
    cluster.stop("fast");
}
