//! The web console at `/console/`, driven in headless Chromium through
//! chromedriver: what a manager and a caseworker see and do, checked
//! against the API. Needs Debian's `chromium` and `chromium-driver`; the
//! tests fail (never skip) without them. `UPDATE_SCREENSHOTS=1` saves
//! screenshots of the dashboard and the approval queue into `docs/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{Datelike, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::helpers::*;

/// At most two browsers at once: the machine is small and the rest of
/// the suite runs beside them.
static BROWSERS: Semaphore = Semaphore::const_new(2);

/// A headless Chromium with its chromedriver, on the console of `app`.
struct Browser {
    client: Client,
    driver: Child,
    downloads: tempfile::TempDir,
    base: String,
    _permit: SemaphorePermit<'static>,
}

fn chromedriver() -> PathBuf {
    for candidate in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] {
        if Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!(
        "the console tests need Chromium and its driver: install them with \
         `apt-get install -y chromium chromium-driver` (no chromedriver found in /usr/bin \
         or /usr/lib/chromium)"
    );
}

impl Browser {
    async fn open(app: &TestApp) -> Browser {
        let driver_path = chromedriver();
        // Two rustls providers are linked (reqwest's, fantoccini's):
        // name one for the driver's client. Only the first call installs.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let permit = BROWSERS.acquire().await.expect("browser slot");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("address")
            .port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let downloads = tempfile::tempdir().expect("download dir");
        let caps = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1366,768",
                         "--lang=zh-CN"],
                "prefs": {
                    "download.default_directory": downloads.path().to_string_lossy(),
                    "download.prompt_for_download": false
                }
            }
        });
        let caps = caps.as_object().expect("an object").clone();
        // chromedriver listens a moment after it starts.
        let mut attempt = 0;
        let client = loop {
            match ClientBuilder::rustls()
                .expect("rustls")
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(e) if attempt < 100 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let _ = e;
                }
                Err(e) => panic!("chromedriver on port {port} did not answer: {e}"),
            }
        };
        Browser {
            client,
            driver,
            downloads,
            base: app.base.clone(),
            _permit: permit,
        }
    }

    async fn goto(&self, fragment: &str) {
        self.client
            .goto(&format!("{}/console/{fragment}", self.base))
            .await
            .expect("page opens");
    }

    async fn login(&self, phone: &str, password: &str) {
        self.goto("").await;
        let form = self.wait_for("#login").await;
        form.find(Locator::Css("input[name=phone]"))
            .await
            .expect("phone field")
            .send_keys(phone)
            .await
            .expect("typed");
        form.find(Locator::Css("input[name=password]"))
            .await
            .expect("password field")
            .send_keys(password)
            .await
            .expect("typed");
        self.click("#login-submit").await;
        self.wait_for("#who:not([hidden])").await;
    }

    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    /// Waits until page `view` has finished loading.
    async fn page(&self, view: &str) {
        self.wait_for(&format!("#view[data-view=\"{view}\"][data-loaded]"))
            .await;
    }

    async fn open_page(&self, view: &str) {
        self.click(&format!("#nav a[data-page=\"{view}\"]")).await;
        self.page(view).await;
    }

    async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.expect("clicked");
    }

    async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.expect("text")
    }

    async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .expect("script runs")
    }

    /// Waits until the script expression `condition` holds on the page.
    async fn until(&self, condition: &str) {
        for _ in 0..200 {
            if self.js(&format!("return !!({condition})")).await == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never true on the page: {condition}");
    }

    /// Types `term` into the posting form's resident search and waits
    /// until the list shows that search's answer.
    async fn pick_resident(&self, term: &str) {
        let search = self.wait_for("#resident-search").await;
        search.clear().await.expect("cleared");
        search.send_keys(term).await.expect("typed");
        self.wait_for(&format!(
            "#new-request select[name=resident_id][data-term=\"{term}\"]"
        ))
        .await;
    }

    /// Saves a screenshot as `docs/<name>` when `UPDATE_SCREENSHOTS=1`.
    async fn screenshot(&self, name: &str) {
        if std::env::var("UPDATE_SCREENSHOTS").as_deref() != Ok("1") {
            return;
        }
        let png = self.client.screenshot().await.expect("screenshot");
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join(name);
        std::fs::write(&path, png).expect("screenshot saved");
    }

    async fn close(self) {
        self.client.clone().close().await.expect("browser closes");
    }
}

impl Drop for Browser {
    /// chromedriver goes with the test, passed or failed.
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The figure shown in `css` ("12.5 小时" → 12.5).
async fn figure(browser: &Browser, css: &str) -> f64 {
    let text = browser.text(css).await;
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{css} shows no number: {text:?}"))
}

/// A community with an active member and approved plus pending paper
/// records of the member's service in the last hours.
struct Scene {
    c: Community,
    member: Actor,
    pending: Vec<String>,
}

fn minutes_ago(m: i64) -> String {
    (Utc::now() - chrono::Duration::minutes(m)).to_rfc3339()
}

async fn scene(app: &TestApp, pending: usize) -> Scene {
    let c = community(app, 3).await;
    let member = app.volunteer("张志愿").await;
    app.join(&c.team_id, &member).await;
    let record = |start: i64, end: i64| {
        json!({"volunteer_id": member.id, "request_id": c.request_id,
               "started_at": minutes_ago(start), "ended_at": minutes_ago(end)})
    };
    // Approved: 90 minutes, entered by the caseworker, approved by the manager.
    let approved = app
        .post("/service-records", Some(&c.caseworker), record(200, 110))
        .await
        .expect(201);
    app.post_empty(
        &format!("/service-records/{}/approve", id(&approved)),
        Some(&c.manager),
    )
    .await
    .expect(200);
    let mut ids = Vec::new();
    for n in 0..pending as i64 {
        let r = app
            .post(
                "/service-records",
                Some(&c.caseworker),
                record(100 - 20 * n, 90 - 20 * n),
            )
            .await
            .expect(201);
        ids.push(id(&r));
    }
    Scene {
        c,
        member,
        pending: ids,
    }
}

/// First and last day of this month and this year in the test servers'
/// `TIME_ZONE` (Asia/Shanghai).
fn periods() -> ((String, String), (String, String)) {
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let first = today.with_day(1).expect("day 1");
    let next = if today.month() == 12 {
        first
            .with_year(today.year() + 1)
            .and_then(|d| d.with_month(1))
    } else {
        first.with_month(today.month() + 1)
    }
    .expect("next month");
    let last = next.pred_opt().expect("previous day");
    let year = today.year();
    (
        (first.to_string(), last.to_string()),
        (format!("{year}-01-01"), format!("{year}-12-31")),
    )
}

#[tokio::test]
async fn a_manager_sees_the_figures_the_api_gives() {
    let app = spawn_app().await;
    let s = scene(&app, 1).await;
    // A request starting in 30 hours with places left, and one starting
    // in 3 days (outside the 48 hours).
    let soon = app
        .request(
            &s.c.caseworker,
            &s.c.resident_id,
            json!({"title": "明天下午送餐",
                   "starts_at": (Utc::now() + chrono::Duration::hours(30)).to_rfc3339(),
                   "ends_at": (Utc::now() + chrono::Duration::hours(32)).to_rfc3339()}),
        )
        .await;
    app.request(
        &s.c.caseworker,
        &s.c.resident_id,
        json!({"title": "三天后理发",
               "starts_at": (Utc::now() + chrono::Duration::hours(72)).to_rfc3339(),
               "ends_at": (Utc::now() + chrono::Duration::hours(73)).to_rfc3339()}),
    )
    .await;

    let browser = Browser::open(&app).await;
    browser.login(&s.c.manager.phone, PASSWORD).await;
    browser.page("dashboard").await;

    let ((month_from, month_to), (year_from, year_to)) = periods();
    let stats = |group: &str, from: &str, to: &str| {
        format!("/stats/service-hours?group_by={group}&from={from}&to={to}")
    };
    let month = app
        .get(&stats("month", &month_from, &month_to), Some(&s.c.manager))
        .await
        .expect(200);
    let year = app
        .get(&stats("month", &year_from, &year_to), Some(&s.c.manager))
        .await
        .expect(200);
    let month_volunteers = app
        .get(
            &stats("volunteer", &month_from, &month_to),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    let year_volunteers = app
        .get(
            &stats("volunteer", &year_from, &year_to),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    let whole = app
        .get(
            "/stats/service-hours?group_by=volunteer",
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    assert_eq!(whole["total_minutes"], 90, "the approved record counts");
    assert_eq!(
        figure(&browser, "#fig-month-hours").await,
        month["total_hours"].as_f64().expect("hours")
    );
    assert_eq!(
        figure(&browser, "#fig-year-hours").await,
        year["total_hours"].as_f64().expect("hours")
    );
    assert_eq!(
        figure(&browser, "#fig-month-volunteers").await as usize,
        month_volunteers["items"].as_array().expect("items").len()
    );
    assert_eq!(
        figure(&browser, "#fig-year-volunteers").await as usize,
        year_volunteers["items"].as_array().expect("items").len()
    );
    // This month's requests by status are the statistics' figures, and
    // the page never listed the month's requests to count them.
    let by_status = app
        .get(
            &format!("/stats/requests?from={month_from}&to={month_to}"),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    for status in ["open", "assigned", "in_progress", "completed", "cancelled"] {
        assert_eq!(
            figure(&browser, &format!("#fig-requests-{status}")).await as i64,
            by_status["by_status"][status].as_i64().expect("a count"),
            "{status}"
        );
    }
    let urls = browser
        .js("return performance.getEntriesByType('resource').map(e => e.name)")
        .await;
    let urls: Vec<&str> = urls
        .as_array()
        .expect("urls")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        urls.iter().any(|u| u.contains("/api/v1/stats/requests?")),
        "{urls:?}"
    );
    assert!(
        !urls
            .iter()
            .any(|u| u.contains(&format!("/api/v1/requests?from={month_from}"))),
        "the month's requests are counted by the server: {urls:?}"
    );
    // The charts carry the API's hours: the month of the record shows 1.5.
    let months = browser.text("#chart-months").await;
    assert!(months.contains("1.5"), "monthly chart: {months}");
    let kinds = browser.text("#chart-kinds").await;
    assert!(kinds.contains("学雷锋志愿服务队"), "team kinds: {kinds}");
    let residents = browser.text("#chart-residents").await;
    assert!(residents.contains("空巢老人"), "categories: {residents}");
    // Requests starting within 48 hours with places left: only the one.
    let upcoming = browser.text("#soon").await;
    assert!(upcoming.contains("明天下午送餐"), "{upcoming}");
    assert!(!upcoming.contains("三天后理发"), "{upcoming}");
    let shown = browser
        .js(&format!(
            "return document.querySelectorAll('#soon a[href=\"#/request/{}\"]').length",
            id(&soon)
        ))
        .await;
    assert_eq!(shown, 1);
    browser.screenshot("console-dashboard.png").await;
    browser.close().await;
}

#[tokio::test]
async fn approving_in_the_queue_approves_the_record() {
    let app = spawn_app().await;
    let s = scene(&app, 3).await;
    let browser = Browser::open(&app).await;
    browser.login(&s.c.manager.phone, PASSWORD).await;
    browser.open_page("approvals").await;
    let rows = |ids: &[String]| {
        ids.iter()
            .map(|i| format!("tr[data-record=\"{i}\"]"))
            .collect::<Vec<_>>()
    };
    for row in rows(&s.pending) {
        browser.wait_for(&row).await;
    }
    assert!(browser.text("#queue").await.contains("张志愿"));
    browser.screenshot("console-approvals.png").await;

    // One by its own button.
    let first = &s.pending[0];
    browser
        .click(&format!("tr[data-record=\"{first}\"] button.approve"))
        .await;
    browser
        .until(&format!(
            "document.querySelectorAll('tr[data-record=\"{first}\"]').length === 0 \
             && document.querySelectorAll('tr[data-record]').length === 2"
        ))
        .await;
    let record = app
        .get(&format!("/service-records/{first}"), Some(&s.c.manager))
        .await
        .expect(200);
    assert_eq!(record["status"], "approved");
    assert_eq!(record["reviewed_by"], s.c.manager.id.as_str());

    // Rejecting without a reason is refused on the page; with one, the
    // two others go at once.
    browser.click(".toolbar input[type=checkbox]").await;
    browser.click("#reject-selected").await;
    assert!(browser.text("#notice").await.contains("驳回原因"));
    browser
        .wait_for("#reject-reason")
        .await
        .send_keys("时间与签到表不符")
        .await
        .expect("typed");
    browser.click("#reject-selected").await;
    browser.wait_for("#queue-empty").await;
    for other in &s.pending[1..] {
        let record = app
            .get(&format!("/service-records/{other}"), Some(&s.c.manager))
            .await
            .expect(200);
        assert_eq!(record["status"], "rejected");
        assert_eq!(record["reject_reason"], "时间与签到表不符");
    }
    let _ = &s.member;
    browser.close().await;
}

#[tokio::test]
async fn a_manager_downloads_the_export_as_a_file() {
    let app = spawn_app().await;
    let s = scene(&app, 0).await;
    let browser = Browser::open(&app).await;
    browser.login(&s.c.manager.phone, PASSWORD).await;
    browser.open_page("exports").await;
    // The whole range the record may fall in, whatever the hour.
    let from = days_from_today(-2);
    let to = days_from_today(1);
    browser
        .js(&format!(
            "document.querySelector('#export-from').value = '{from}';
             document.querySelector('#export-to').value = '{to}'; return true"
        ))
        .await;
    browser.click("#export-csv").await;
    let csv = wait_for_download(&browser, ".csv").await;
    let direct = app
        .client
        .get(app.url(&format!(
            "/exports/service-hours?format=csv&from={from}&to={to}"
        )))
        .bearer_auth(&s.c.manager.token)
        .send()
        .await
        .expect("export");
    assert_eq!(direct.status(), 200);
    let direct = direct.bytes().await.expect("bytes");
    assert_eq!(csv, direct.to_vec(), "the saved file is the API's export");
    assert!(String::from_utf8_lossy(&csv).contains("张志愿"));

    browser.click("#export-xlsx").await;
    let xlsx = wait_for_download(&browser, ".xlsx").await;
    assert!(xlsx.starts_with(b"PK"), "an xlsx is a zip");
    // The token never appears in an address the browser opened.
    let urls = browser
        .js("return performance.getEntriesByType('resource').map(e => e.name).join(' ')")
        .await;
    assert!(!urls.as_str().unwrap_or("").contains(&s.c.manager.token));
    browser.close().await;
}

/// The bytes of the one file ending in `ext` in the browser's download
/// folder, once Chromium has finished writing it (until then it is a
/// `.crdownload`).
async fn wait_for_download(browser: &Browser, ext: &str) -> Vec<u8> {
    let dir = browser.downloads.path();
    let mut seen = Vec::new();
    for _ in 0..200 {
        seen = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        if let Some(file) = seen.iter().find(|p| p.to_string_lossy().ends_with(ext)) {
            return std::fs::read(file).expect("the download reads");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {ext} download in {}; it holds {seen:?}", dir.display());
}

#[tokio::test]
async fn a_caseworker_posts_a_request_and_assigns_the_best_match() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    app.team(&manager, json!({"name": "近处的学雷锋队"})).await;
    app.team(
        &manager,
        json!({"name": "远一点的邻里守望队", "kind": "neighborhood_watch",
               "location": {"lat": 39.9350, "lng": 116.4000}}),
    )
    .await;
    app.resident(&caseworker, json!({})).await;

    let browser = Browser::open(&app).await;
    browser.login(&caseworker.phone, PASSWORD).await;
    browser.page("requests").await;
    // A caseworker has no manager pages.
    let manager_links = browser
        .js("return document.querySelectorAll('#nav a[data-page=dashboard]').length")
        .await;
    assert_eq!(manager_links, 0);
    browser.open_page("new-request").await;
    browser.pick_resident("王秀").await;
    browser
        .wait_for("#new-request input[name=title]")
        .await
        .send_keys("陪王阿姨去医院")
        .await
        .expect("typed");
    browser.click("#new-request button[type=submit]").await;
    browser.page("request").await;

    let mine = app
        .get("/requests?status=open", Some(&caseworker))
        .await
        .expect(200);
    let request = &mine["items"][0];
    assert_eq!(request["title"], "陪王阿姨去医院");
    let request_id = id(request);
    let matches = app
        .get(
            &format!("/requests/{request_id}/matches"),
            Some(&caseworker),
        )
        .await
        .expect(200);
    let best = &matches["items"][0]["team"];
    assert_eq!(matches["items"].as_array().expect("items").len(), 2);
    // The page lists the matches in the API's order, with their reasons.
    let order = browser
        .js("return [...document.querySelectorAll('#matches tr[data-team]')].map(r => r.dataset.team)")
        .await;
    let api_order: Vec<Value> = matches["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["team"]["id"].clone())
        .collect();
    assert_eq!(order, Value::Array(api_order));
    let shown = browser.text("#matches").await;
    for reason in matches["items"][0]["reasons"].as_array().expect("reasons") {
        assert!(
            shown.contains(reason["text"].as_str().expect("text")),
            "{reason} missing"
        );
    }

    browser.click("#matches tr[data-team] button.assign").await;
    browser
        .until("document.querySelector('#request-status')?.textContent === '已分派'")
        .await;
    let assigned = app
        .get(&format!("/requests/{request_id}"), Some(&caseworker))
        .await
        .expect(200);
    assert_eq!(assigned["status"], "assigned");
    assert_eq!(assigned["team_id"], best["id"]);
    browser.close().await;
}

#[tokio::test]
async fn a_resident_named_like_html_shows_as_that_text() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let name = "<img src=x onerror=alert(1)>";
    app.resident(
        &caseworker,
        json!({"name": name, "address": "<b>3 号楼</b>"}),
    )
    .await;

    let browser = Browser::open(&app).await;
    browser.login(&caseworker.phone, PASSWORD).await;
    browser.open_page("residents").await;
    assert_eq!(browser.text("#residents td.name").await, name);
    assert!(browser.text("#residents").await.contains("<b>3 号楼</b>"));
    let images = browser
        .js("return document.querySelectorAll('img, b').length")
        .await;
    assert_eq!(images, 0, "no element was made from the name");
    // The posting form lists the resident by name, as text too.
    browser.open_page("new-request").await;
    browser.pick_resident("img").await;
    let option = browser
        .js("return document.querySelector('select[name=resident_id] option').textContent")
        .await;
    assert!(option.as_str().expect("text").starts_with(name));
    let alert = browser.client.get_alert_text().await;
    assert!(alert.is_err(), "an alert opened: {alert:?}");
    browser.close().await;
}

#[tokio::test]
async fn the_resident_picker_searches_instead_of_loading_every_resident() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    app.team(&manager, json!({})).await;
    let mut zhang = Vec::new();
    for n in 0..23 {
        let r = app
            .resident(&caseworker, json!({"name": format!("张桂兰{n}")}))
            .await;
        zhang.push(id(&r));
    }
    let li = id(&app.resident(&caseworker, json!({"name": "李秀英"})).await);

    let browser = Browser::open(&app).await;
    browser.login(&caseworker.phone, PASSWORD).await;
    browser.page("requests").await;
    browser.open_page("new-request").await;
    // Nothing is loaded before the caseworker types.
    let before = browser
        .js("return [document.querySelectorAll('select[name=resident_id] option[value]:not([value=\"\"])').length, \
             performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/residents')).length]")
        .await;
    assert_eq!(before, json!([0, 0]));

    browser.pick_resident("桂兰").await;
    let shown = browser
        .js("return [...document.querySelectorAll('select[name=resident_id] option')].map(o => o.textContent)")
        .await;
    let shown: Vec<&str> = shown
        .as_array()
        .expect("options")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(shown.len(), 20, "at most 20: {shown:?}");
    assert!(shown.iter().all(|o| o.starts_with("张桂兰")), "{shown:?}");
    // The three oldest were not among the answers, and the access log
    // says nobody read them through the list.
    let log_of = |resident: String| {
        let app = &app;
        let manager = &manager;
        async move {
            app.get(&format!("/residents/{resident}/access-log"), Some(manager))
                .await
                .expect(200)["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter(|e| e["route"] == "GET /api/v1/residents")
                .count()
        }
    };
    assert_eq!(log_of(zhang[0].clone()).await, 0);
    assert!(
        log_of(zhang[22].clone()).await >= 1,
        "the newest was answered"
    );
    assert_eq!(log_of(li.clone()).await, 0);

    browser.pick_resident("秀英").await;
    let option = browser
        .js("return [...document.querySelectorAll('select[name=resident_id] option')].map(o => [o.value, o.textContent])")
        .await;
    assert_eq!(option, json!([[li, "李秀英（空巢老人）"]]));
    browser
        .wait_for("#new-request input[name=title]")
        .await
        .send_keys("陪李阿姨买菜")
        .await
        .expect("typed");
    browser.click("#new-request button[type=submit]").await;
    browser.page("request").await;
    let posted = app
        .get("/requests?status=open", Some(&caseworker))
        .await
        .expect(200);
    assert_eq!(posted["items"][0]["title"], "陪李阿姨买菜");
    let detail = app
        .get(
            &format!("/requests/{}", id(&posted["items"][0])),
            Some(&caseworker),
        )
        .await
        .expect(200);
    assert_eq!(detail["resident"]["id"], li.as_str());
    browser.close().await;
}

#[tokio::test]
async fn logging_out_forgets_the_token() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let browser = Browser::open(&app).await;
    browser.login(&manager.phone, PASSWORD).await;
    browser.page("dashboard").await;
    // Nothing kept where it outlives the page.
    let stored = browser
        .js("return [localStorage.length, sessionStorage.length, document.cookie]")
        .await;
    assert_eq!(stored, json!([0, 0, ""]));

    browser.click("#logout").await;
    browser.wait_for("#login").await;
    let nav = browser
        .js("return [document.querySelector('#nav').hidden, document.querySelector('#who').hidden]")
        .await;
    assert_eq!(nav, json!([true, true]));
    // Going back to a manager page needs a new login.
    browser.goto("#/approvals").await;
    browser.wait_for("#login").await;
    browser.client.refresh().await.expect("reloaded");
    browser.wait_for("#login").await;
    let queue = browser
        .js("return document.querySelectorAll('#queue, #figures').length")
        .await;
    assert_eq!(queue, 0, "no manager page without logging in again");
    browser.close().await;
}

#[tokio::test]
async fn the_console_is_served_with_a_strict_policy() {
    let app = spawn_app_with(&[("COMMUNITY_NAME", "阳光<社区>")]).await;
    let page = app
        .client
        .get(format!("{}/console/", app.base))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("html");
    assert!(html.contains("阳光&lt;社区&gt;"), "the name is escaped");
    assert!(html.contains(r#"content="Asia/Shanghai""#));
    assert!(!html.contains("<script>"), "no inline script");
    let handlers = html
        .split(|c: char| c.is_whitespace())
        .filter(|word| word.starts_with("on") && word.contains('='))
        .count();
    assert_eq!(handlers, 0, "no inline handler");

    let script = app
        .client
        .get(format!("{}/console/app.js", app.base))
        .send()
        .await
        .expect("script");
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/javascript")
    );
    assert!(script.headers().contains_key("content-security-policy"));
    let source = script.text().await.expect("js");
    assert!(!source.contains("innerHTML"), "data never becomes HTML");
    assert!(
        !source.contains("localStorage"),
        "the token stays in memory"
    );

    // `/console` leads to the page; a file that is not there is the API's
    // usual 404, and the console is not part of the API's document.
    let bare = app
        .client
        .get(format!("{}/console", app.base))
        .send()
        .await
        .expect("redirect");
    assert_eq!(bare.status(), 308);
    assert_eq!(bare.headers()["location"], "/console/");
    let console = |path: &str| app.client.get(format!("{}/console/{path}", app.base));
    let missing = app.send(console("%2e%2e/Cargo.toml")).await;
    assert_eq!(missing.status, 404);
    let missing = app.send(console("nothing.js")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.code(), "not_found");
    let doc = app.get("/api-docs/openapi.json", None).await.expect(200);
    assert!(
        doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .all(|p| !p.starts_with("/console"))
    );
}
