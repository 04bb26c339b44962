//! Statistics and exports: approved records only, local dates, totals that
//! agree with the export to the minute.

use serde_json::{Value, json};

use crate::helpers::*;

struct Data {
    app: TestApp,
    c: Community,
    second_team: String,
    a: Actor,
    b: Actor,
}

async fn record(
    app: &TestApp,
    c: &Community,
    v: &Actor,
    request: &str,
    start: &str,
    end: &str,
    approve: Option<bool>,
) -> Value {
    let r = app
        .post("/service-records", Some(&c.caseworker), json!({"volunteer_id": v.id, "request_id": request, "started_at": start, "ended_at": end}))
        .await
        .expect(201);
    match approve {
        Some(true) => app
            .post_empty(
                &format!("/service-records/{}/approve", id(&r)),
                Some(&c.manager),
            )
            .await
            .expect(200),
        Some(false) => app
            .post(
                &format!("/service-records/{}/reject", id(&r)),
                Some(&c.manager),
                json!({"reason": "无效"}),
            )
            .await
            .expect(200),
        None => r,
    }
}

/// Approved: a 90 min (Jan, team 1, home_visit), a 45 min (1 Feb 00:30
/// Shanghai = still January in UTC, team 1), b 61 min (Feb, team 2,
/// repair for a disabled resident). Pending and rejected ones too.
async fn data() -> Data {
    let app = spawn_app().await;
    let c = community(&app, 5).await;
    let second_team = id(&app
        .team(
            &c.manager,
            json!({"name": "维修服务队", "service_categories": ["repair"]}),
        )
        .await);
    let disabled = id(&app
        .resident(
            &c.caseworker,
            json!({"category": "disabled", "name": "残疾居民"}),
        )
        .await);
    let repair = id(&app
        .request(
            &c.caseworker,
            &disabled,
            json!({"category": "repair", "title": "修水管"}),
        )
        .await);
    app.assign(&c.caseworker, &repair, &second_team).await;
    let a = app.volunteer("张三").await;
    let b = app.volunteer("李四").await;
    // Paper records are for members of the request's team.
    app.join(&c.team_id, &a).await;
    app.join(&second_team, &b).await;
    record(
        &app,
        &c,
        &a,
        &c.request_id,
        "2025-01-20T09:00:00+08:00",
        "2025-01-20T10:30:00+08:00",
        Some(true),
    )
    .await;
    record(
        &app,
        &c,
        &a,
        &c.request_id,
        "2025-02-01T00:30:00+08:00",
        "2025-02-01T01:15:00+08:00",
        Some(true),
    )
    .await;
    record(
        &app,
        &c,
        &b,
        &repair,
        "2025-02-10T14:00:00+08:00",
        "2025-02-10T15:01:00+08:00",
        Some(true),
    )
    .await;
    record(
        &app,
        &c,
        &b,
        &repair,
        "2025-02-11T14:00:00+08:00",
        "2025-02-11T18:00:00+08:00",
        None,
    )
    .await;
    record(
        &app,
        &c,
        &a,
        &c.request_id,
        "2025-02-12T14:00:00+08:00",
        "2025-02-12T18:00:00+08:00",
        Some(false),
    )
    .await;
    Data {
        app,
        c,
        second_team,
        a,
        b,
    }
}

fn item<'a>(stats: &'a Value, key: &str) -> &'a Value {
    stats["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {stats}"))
}

#[tokio::test]
async fn statistics_group_approved_hours_five_ways() {
    let d = data().await;
    let get = |q: &str| {
        let app = &d.app;
        let manager = d.c.manager.clone();
        let q = q.to_string();
        async move {
            app.get(&format!("/stats/service-hours?{q}"), Some(&manager))
                .await
                .expect(200)
        }
    };
    let by_team = get("group_by=team").await;
    assert_eq!(by_team["total_hours"], 3.27, "196 approved minutes");
    assert_eq!(by_team["total_minutes"], 196);
    let first = item(&by_team, &d.c.team_id);
    assert_eq!(
        (
            first["hours"].clone(),
            first["records"].clone(),
            first["volunteers"].clone()
        ),
        (json!(2.25), json!(2), json!(1))
    );
    assert_eq!(first["label"], "阳光社区学雷锋志愿服务队");
    assert_eq!(item(&by_team, &d.second_team)["hours"], 1.02);
    assert_eq!(
        by_team["items"][0]["key"],
        d.c.team_id.as_str(),
        "largest first"
    );

    let by_volunteer = get("group_by=volunteer").await;
    assert_eq!(item(&by_volunteer, &d.a.id)["label"], "张三");
    assert_eq!(item(&by_volunteer, &d.b.id)["minutes"], 61);

    let by_month = get("group_by=month").await;
    let months: Vec<&str> = by_month["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        months,
        vec!["2025-01", "2025-02"],
        "months in Asia/Shanghai, in order"
    );
    assert_eq!(item(&by_month, "2025-01")["minutes"], 90);
    assert_eq!(item(&by_month, "2025-02")["minutes"], 106);
    assert_eq!(item(&by_month, "2025-02")["label"], "2025年2月");

    let by_category = get("group_by=category").await;
    assert_eq!(item(&by_category, "repair")["label"], "维修");
    assert_eq!(item(&by_category, "home_visit")["minutes"], 135);

    let by_resident = get("group_by=resident_category").await;
    assert_eq!(item(&by_resident, "disabled")["label"], "残疾人");
    assert_eq!(item(&by_resident, "elderly_alone")["records"], 2);

    let february = get("group_by=team&from=2025-02-01&to=2025-02-28").await;
    assert_eq!(
        february["total_minutes"], 106,
        "from is a local date: 00:30 on 1 Feb counts"
    );
    let one_day = get("group_by=team&from=2025-01-20&to=2025-01-20").await;
    assert_eq!(one_day["total_minutes"], 90, "to is inclusive");
}

#[tokio::test]
async fn statistics_refuse_bad_queries_and_non_managers() {
    let d = data().await;
    let app = &d.app;
    for q in [
        "",
        "group_by=planet",
        "group_by=team&from=2025-02-30",
        "group_by=team&from=2025-03-01&to=2025-02-01",
    ] {
        let r = app
            .get(&format!("/stats/service-hours?{q}"), Some(&d.c.manager))
            .await;
        assert_eq!(r.status, 422, "{q}");
    }
    assert_eq!(
        app.get("/stats/service-hours?group_by=team", Some(&d.c.caseworker))
            .await
            .status,
        403
    );
    assert_eq!(
        app.get("/stats/service-hours?group_by=team", Some(&d.a))
            .await
            .status,
        403
    );
    assert_eq!(
        app.get("/exports/service-hours?format=csv", Some(&d.b))
            .await
            .status,
        403
    );
    assert_eq!(
        app.get("/exports/service-hours?format=pdf", Some(&d.c.manager))
            .await
            .status,
        422
    );
    app.get("/stats/service-hours?group_by=team", Some(&app.admin))
        .await
        .expect(200);
}

fn minutes_between(start: &str, end: &str) -> i64 {
    let parse = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    (parse(end) - parse(start)).num_minutes()
}

#[tokio::test]
async fn the_csv_opens_in_excel_and_agrees_with_the_statistics() {
    let d = data().await;
    let res = d
        .app
        .client
        .get(d.app.url("/exports/service-hours?format=csv"))
        .bearer_auth(&d.c.manager.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM for Excel");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "志愿者",
            "手机号",
            "队伍",
            "服务对象类别",
            "服务类别",
            "开始时间",
            "结束时间",
            "时长(小时)"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "approved records only");
    let first = &rows[0];
    assert_eq!(&first[0], "张三");
    assert!(
        first[1].contains("****") && !first[1].contains(&d.a.phone[3..7]),
        "phone masked"
    );
    assert_eq!(&first[3], "空巢老人");
    assert_eq!(&first[4], "上门探访");
    assert_eq!(&first[5], "2025-01-20 09:00");
    assert_eq!(&first[7], "1.50");
    assert!(!text.contains("3 号楼"));
    let export_minutes: i64 = rows.iter().map(|r| minutes_between(&r[5], &r[6])).sum();
    let stats = d
        .app
        .get(
            "/stats/service-hours?group_by=volunteer",
            Some(&d.c.manager),
        )
        .await
        .expect(200);
    assert_eq!(export_minutes, stats["total_minutes"].as_i64().unwrap());

    let filtered = d
        .app
        .client
        .get(
            d.app
                .url("/exports/service-hours?format=csv&from=2025-02-01&to=2025-02-01"),
        )
        .bearer_auth(&d.c.manager.token)
        .send()
        .await
        .unwrap();
    let text = filtered.text().await.unwrap();
    assert_eq!(
        text.lines().count(),
        2,
        "header and the one record of 1 Feb"
    );
}

#[tokio::test]
async fn the_xlsx_export_is_a_workbook() {
    let d = data().await;
    let res = d
        .app
        .client
        .get(d.app.url("/exports/service-hours?format=xlsx"))
        .bearer_auth(&d.c.manager.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".xlsx")
    );
    let bytes = res.bytes().await.unwrap();
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("a workbook");
    let sheet = workbook.worksheet_range("服务时长").expect("the sheet");
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows.len(), 4, "header and the three approved records");
    assert_eq!(rows[0][0], Data::String("志愿者".into()));
    assert_eq!(rows[0][7], Data::String("时长(小时)".into()));
    assert_eq!(rows[1][0], Data::String("张三".into()));
    let phone = rows[1][1].to_string();
    assert!(
        phone.contains("****") && !phone.contains(&d.a.phone[3..7]),
        "{phone}"
    );
    assert_eq!(rows[1][5], Data::String("2025-01-20 09:00".into()));
    assert_eq!(
        rows[1][7],
        Data::Float(1.5),
        "hours are numbers the sheet can sum"
    );
    let total: f64 = rows[1..]
        .iter()
        .map(|r| if let Data::Float(h) = r[7] { h } else { 0.0 })
        .sum();
    assert!((total - 196.0 / 60.0).abs() < 0.02);
}
