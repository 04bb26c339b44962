//! Service certificates: issued from approved service and frozen, signed
//! with a published Ed25519 key, printed as PDF with real Chinese text and
//! a QR code, revoked by managers, and checked by anyone holding the
//! number without learning the volunteer's full name.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::helpers::*;

/// A volunteer with an uncommon name in a team with a request to serve.
struct Scene {
    c: Community,
    volunteer: Actor,
}

const NAME: &str = "欧阳堃喆";

async fn scene(app: &TestApp) -> Scene {
    let c = community(app, 2).await;
    let volunteer = app.volunteer(NAME).await;
    app.join(&c.team_id, &volunteer).await;
    Scene { c, volunteer }
}

fn ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339()
}

/// A paper record of `minutes` ending `ends_ago` minutes ago, approved by
/// the manager unless `approve` is false.
async fn served(app: &TestApp, s: &Scene, ends_ago: i64, minutes: i64, approve: bool) -> String {
    let body = json!({
        "volunteer_id": s.volunteer.id, "request_id": s.c.request_id,
        "started_at": ago(ends_ago + minutes), "ended_at": ago(ends_ago),
    });
    let record = id(&app
        .post("/service-records", Some(&s.c.caseworker), body)
        .await
        .expect(201));
    if approve {
        app.post_empty(
            &format!("/service-records/{record}/approve"),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    }
    record
}

async fn issue(app: &TestApp, by: &Actor, body: Value) -> Value {
    app.post("/certificates", Some(by), body).await.expect(201)
}

/// The published key set, read at the root with no token.
async fn keys(app: &TestApp) -> Value {
    let reply = app
        .send(
            app.client
                .get(format!("{}/.well-known/certificate-keys", app.base)),
        )
        .await;
    reply.expect(200)
}

/// Checks a compact JWS against the published keys with jsonwebtoken (a
/// library the server does not sign with), returning the payload.
fn verify_jws(jws: &str, keys: &Value) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(jws).map_err(|e| e.to_string())?;
    assert_eq!(header.alg, Algorithm::EdDSA);
    let kid = header.kid.ok_or("no kid")?;
    let jwk = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or("kid not published")?;
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(jwk["alg"], "EdDSA");
    let x = jwk["x"].as_str().unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(x).unwrap().len(), 32);
    let key = DecodingKey::from_ed_components(x).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(jws, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_volunteer_certifies_their_approved_service_and_later_approvals_change_nothing() {
    let app = spawn_app_with(&[("PUBLIC_BASE_URL", "https://zyfw.example.org")]).await;
    let s = scene(&app).await;
    served(&app, &s, 600, 90, true).await;
    served(&app, &s, 300, 60, true).await;
    served(&app, &s, 100, 30, false).await; // pending: not counted

    let cert = issue(&app, &s.volunteer, json!({})).await;
    assert_eq!(cert["volunteer_id"], s.volunteer.id.as_str());
    assert_eq!(cert["volunteer_name"], NAME);
    assert_eq!(cert["hours"], 2.5);
    assert_eq!(cert["records"], 2);
    assert_eq!(cert["status"], "valid");
    assert_eq!(cert["revoked_reason"], Value::Null);
    assert_eq!(cert["issuer"], "本社区");
    let lines = cert["by_category"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["hours"], 2.5);
    assert!(!lines[0]["label"].as_str().unwrap().is_ascii(), "{lines:?}");
    let number = cert["number"].as_str().unwrap();
    assert!(number.starts_with("ZM-") && number.len() == 22, "{number}");
    assert_eq!(
        cert["verify_url"],
        format!("https://zyfw.example.org/verify/{number}")
    );
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let earliest = (Utc::now() - Duration::minutes(690))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    assert_eq!(cert["period_from"], earliest.to_string());
    assert!(cert["period_to"].as_str().unwrap() <= today.to_string().as_str());

    // More service approved later: this certificate stays as issued; a
    // new one counts it.
    served(&app, &s, 1200, 60, true).await;
    let path = format!("/certificates/{}", id(&cert));
    let again = app.get(&path, Some(&s.volunteer)).await.expect(200);
    assert_eq!(again, cert);
    let newer = issue(&app, &s.volunteer, json!({})).await;
    assert_eq!(newer["hours"], 3.5);
    assert_eq!(newer["records"], 3);
    assert_ne!(newer["number"], cert["number"]);
}

#[tokio::test]
async fn a_period_without_approved_service_is_no_service() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let nothing = app
        .post("/certificates", Some(&s.volunteer), json!({}))
        .await;
    assert_eq!(nothing.status, 422);
    assert_eq!(nothing.code(), "no_service");
    served(&app, &s, 120, 60, false).await;
    let pending = app.post_empty("/certificates", Some(&s.volunteer)).await;
    assert_eq!(pending.code(), "no_service", "pending hours do not count");
    served(&app, &s, 60 * 24 * 3, 60, true).await;
    // A period that ended before the service: nothing; one that holds it:
    // the hour.
    let before = app
        .post(
            "/certificates",
            Some(&s.volunteer),
            json!({"from": "2020-01-01", "to": "2020-12-31"}),
        )
        .await;
    assert_eq!(before.code(), "no_service");
    let from = (Utc::now() - Duration::days(10)).date_naive().to_string();
    let cert = issue(&app, &s.volunteer, json!({"from": from})).await;
    assert_eq!(cert["hours"], 1.0);
    assert_eq!(cert["period_from"], from);
    let backwards = app
        .post(
            "/certificates",
            Some(&s.volunteer),
            json!({"from": "2026-02-01", "to": "2026-01-01"}),
        )
        .await;
    assert_eq!(backwards.status, 422);
}

#[tokio::test]
async fn the_signature_verifies_against_the_published_key_and_not_once_a_byte_changes() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    served(&app, &s, 200, 45, true).await;
    let cert = issue(&app, &s.volunteer, json!({})).await;
    let jws = cert["signature"].as_str().unwrap();
    let keys = keys(&app).await;
    let payload = verify_jws(jws, &keys).unwrap();
    assert_eq!(
        payload,
        json!({
            "number": cert["number"], "volunteer_name": NAME, "hours": 0.75, "records": 1,
            "period_from": cert["period_from"], "period_to": cert["period_to"],
            "issued_at": cert["issued_at"], "issuer": "本社区",
        })
    );
    // Every character of the payload segment, changed, breaks it.
    let parts: Vec<&str> = jws.split('.').collect();
    for i in 0..parts[1].len() {
        let mut changed = parts[1].as_bytes().to_vec();
        changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            String::from_utf8(changed).unwrap(),
            parts[2]
        );
        assert!(verify_jws(&forged, &keys).is_err(), "byte {i} changed");
    }
    // A payload re-encoded with a different figure fails as well.
    let mut claims = payload.clone();
    claims["hours"] = json!(75.0);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    assert!(verify_jws(&forged, &keys).is_err());
}

#[tokio::test]
async fn after_a_key_rotation_old_certificates_still_verify() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    served(&app, &s, 200, 60, true).await;
    let old = issue(&app, &s.volunteer, json!({})).await;
    let before = keys(&app).await;
    assert_eq!(before["keys"].as_array().unwrap().len(), 1);
    let refused = app
        .post_empty("/certificate-keys/rotate", Some(&s.c.manager))
        .await;
    assert_eq!(refused.status, 403, "admins only");
    let rotated = app
        .post_empty("/certificate-keys/rotate", Some(&app.admin))
        .await
        .expect(201);
    let new = issue(&app, &s.volunteer, json!({})).await;
    let after = keys(&app).await;
    assert_eq!(after["keys"].as_array().unwrap().len(), 2);
    assert_eq!(after["keys"][0]["kid"], rotated["kid"], "newest first");
    let kid_of = |c: &Value| {
        jsonwebtoken::decode_header(c["signature"].as_str().unwrap())
            .unwrap()
            .kid
            .unwrap()
    };
    assert_eq!(kid_of(&new), rotated["kid"].as_str().unwrap());
    assert_ne!(kid_of(&old), kid_of(&new));
    verify_jws(old["signature"].as_str().unwrap(), &after).unwrap();
    verify_jws(new["signature"].as_str().unwrap(), &after).unwrap();
    // The same set under /api/v1.
    assert_eq!(
        app.get("/.well-known/certificate-keys", None)
            .await
            .expect(200),
        after
    );
}

#[tokio::test]
async fn the_operators_key_signs_and_every_process_agrees_on_a_generated_one() {
    let seed = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
    let app = spawn_app_with(&[("CERTIFICATE_SIGNING_KEY", &seed)]).await;
    let s = scene(&app).await;
    served(&app, &s, 200, 60, true).await;
    let cert = issue(&app, &s.volunteer, json!({})).await;
    let keys = keys(&app).await;
    let public = ed25519_public_of([42u8; 32]);
    assert_eq!(
        keys["keys"][0]["x"], public,
        "the operator's key is published"
    );
    verify_jws(cert["signature"].as_str().unwrap(), &keys).unwrap();
    let refused = app
        .post_empty("/certificate-keys/rotate", Some(&app.admin))
        .await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.code(), "signing_key_from_settings");

    // Two more processes on one fresh database, without an operator key:
    // both publish the one key the database settled on.
    let database = fresh_database().await;
    // Migrated first (on SQLite two processes must not migrate at once),
    // so the two starts race only for the key.
    let db = sea_orm::Database::connect(&database).await.unwrap();
    <migration::Migrator as migration::MigratorTrait>::up(&db, None)
        .await
        .unwrap();
    db.close().await.unwrap();
    let (first, second) = if crate::process::on_postgres() {
        tokio::join!(start_on(&database), start_on(&database))
    } else {
        // One SQLite file does not take two starts at once (both switch
        // it to WAL): one after the other, the second reads the key back.
        println!("certificates: SQLite starts the two processes one after the other");
        let first = start_on(&database).await;
        (first, start_on(&database).await)
    };
    let a = keys_at(&app.client, &first).await;
    let b = keys_at(&app.client, &second).await;
    assert_eq!(a["keys"].as_array().unwrap().len(), 1);
    assert_eq!(a, b);
}

/// The public key of a seed, as a JWK's `x`, from ed25519-dalek.
fn ed25519_public_of(seed: [u8; 32]) -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes())
}

async fn keys_at(client: &reqwest::Client, base: &str) -> Value {
    let res = client
        .get(format!("{base}/.well-known/certificate-keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Another server process (in this test process) on the same database.
async fn start_on(database_url: &str) -> String {
    let url = database_url.to_string();
    let settings = api::Settings::from_lookup(move |key| match key {
        "DATABASE_URL" => Some(url.clone()),
        "BIND_ADDR" => Some("127.0.0.1:0".into()),
        "JWT_SECRET" => Some("test-secret-that-is-long-enough-for-hs256".into()),
        _ => None,
    })
    .unwrap();
    let app = api::Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    base
}

#[tokio::test]
async fn managers_issue_list_and_revoke_and_volunteers_see_only_their_own() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    served(&app, &s, 200, 60, true).await;
    let other = app.volunteer("孙悟净").await;
    app.join(&s.c.team_id, &other).await;

    let for_volunteer = app
        .post(
            "/certificates",
            Some(&s.c.manager),
            json!({"volunteer_id": s.volunteer.id}),
        )
        .await
        .expect(201);
    assert_eq!(for_volunteer["volunteer_name"], NAME);
    let needs_whom = app.post_empty("/certificates", Some(&s.c.manager)).await;
    assert_eq!(needs_whom.status, 422);
    let not_yours = app
        .post(
            "/certificates",
            Some(&other),
            json!({"volunteer_id": s.volunteer.id}),
        )
        .await;
    assert_eq!(not_yours.status, 403);
    assert_eq!(
        app.post_empty("/certificates", Some(&s.c.caseworker))
            .await
            .status,
        403
    );
    let own = issue(&app, &s.volunteer, json!({})).await;

    // Another volunteer neither reads nor prints it, nor finds it listed.
    for path in [
        format!("/certificates/{}", id(&own)),
        format!("/certificates/{}/pdf", id(&own)),
    ] {
        let reply = app.get(&path, Some(&other)).await;
        assert_eq!(reply.status, 404, "{path}");
    }
    let theirs = app.get("/certificates", Some(&other)).await.expect(200);
    assert_eq!(theirs["items"], json!([]));
    let mine = app
        .get("/certificates", Some(&s.volunteer))
        .await
        .expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    assert_eq!(mine["items"][0]["id"], own["id"], "newest first");
    let page = app
        .get(
            &format!("/certificates?volunteer_id={}&limit=1", s.volunteer.id),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!(
                "/certificates?volunteer_id={}&limit=1&cursor={cursor}",
                s.volunteer.id
            ),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    assert_eq!(rest["items"][0]["id"], for_volunteer["id"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let none = app
        .get(
            &format!("/certificates?volunteer_id={}", other.id),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    assert_eq!(none["items"], json!([]));

    // Revocation: a manager's, with a reason.
    let revoke = format!("/certificates/{}/revoke", id(&own));
    assert_eq!(
        app.post(&revoke, Some(&s.volunteer), json!({"reason": "x"}))
            .await
            .status,
        403
    );
    let blank = app
        .post(&revoke, Some(&s.c.manager), json!({"reason": "  "}))
        .await;
    assert_eq!(blank.status, 422);
    let missing = app.post(&revoke, Some(&s.c.manager), json!({})).await;
    assert_eq!(missing.status, 422);
    let revoked = app
        .post(
            &revoke,
            Some(&s.c.manager),
            json!({"reason": "记录有误，已更正"}),
        )
        .await
        .expect(200);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoked_reason"], "记录有误，已更正");
    assert_eq!(revoked["hours"], own["hours"]);
    let twice = app
        .post(&revoke, Some(&s.c.manager), json!({"reason": "再次"}))
        .await;
    assert_eq!(twice.status, 409);
    assert_eq!(twice.code(), "already_revoked");
    let seen = app
        .get(&format!("/certificates/{}", id(&own)), Some(&s.volunteer))
        .await
        .expect(200);
    assert_eq!(seen["status"], "revoked");

    // The public check says so, without the reason.
    let check = verify(&app, own["number"].as_str().unwrap(), "application/json").await;
    assert_eq!(check.status, 200);
    assert_eq!(check.body["status"], "revoked");
    assert!(!check.body.to_string().contains("记录有误"));
    let page = verify(&app, own["number"].as_str().unwrap(), "text/html").await;
    assert!(page.body.as_str().unwrap().contains("已撤销"));
}

async fn verify(app: &TestApp, number: &str, accept: &str) -> Reply {
    app.send(
        app.client
            .get(format!("{}/verify/{number}", app.base))
            .header("Accept", accept),
    )
    .await
}

#[tokio::test]
async fn anyone_checks_a_number_without_a_token_and_sees_the_name_masked() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    served(&app, &s, 200, 60, true).await;
    let cert = issue(&app, &s.volunteer, json!({})).await;
    let number = cert["number"].as_str().unwrap();

    let check = verify(&app, number, "application/json").await;
    assert_eq!(check.status, 200);
    assert_eq!(
        check.body,
        json!({
            "number": number, "status": "valid", "volunteer_masked_name": "欧***",
            "hours": 1.0, "records": 1, "period_from": cert["period_from"],
            "period_to": cert["period_to"], "issued_at": cert["issued_at"],
            "issuer": "本社区", "revoked_at": null,
        })
    );
    // Typed by hand: lower case, no hyphens.
    let typed = number.replace('-', "").to_lowercase();
    assert_eq!(verify(&app, &typed, "*/*").await.body["number"], number);
    // Also under /api/v1.
    assert_eq!(
        app.get(&format!("/verify/{number}"), None)
            .await
            .expect(200),
        check.body
    );

    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let page = verify(&app, number, browser).await;
    assert_eq!(page.status, 200);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        page.headers
    );
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("script-src"),
        "{csp}"
    );
    let html = page.body.as_str().unwrap();
    assert!(html.contains("欧***"));
    assert!(html.contains(number));
    assert!(html.contains("真实有效"));
    assert!(
        !html.contains("<script") && !html.contains("src="),
        "no script, no assets"
    );
    for body in [check.body.to_string(), html.to_string()] {
        assert!(!body.contains(NAME) && !body.contains("堃喆"), "{body}");
    }

    for unknown in ["ZM-0000-0000-0000-0000", "nonsense", "ZM-<script>"] {
        let reply = verify(&app, unknown, browser).await;
        assert_eq!(reply.status, 404, "{unknown}");
        assert_eq!(reply.code(), "not_found");
    }
}

#[tokio::test]
async fn checks_beyond_the_limit_of_an_address_answer_429() {
    let app = spawn_app_with(&[("VERIFY_REQUESTS_PER_MINUTE", "3")]).await;
    // A fixed one-minute window: seven calls cross at most one boundary,
    // so at most six pass.
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..7 {
        let reply = verify(&app, "ZM-0000-0000-0000-0000", "application/json").await;
        if reply.status == 429 {
            retry_after = reply.headers.get("retry-after").cloned();
            assert_eq!(reply.code(), "too_many_attempts");
        }
        statuses.push(reply.status.as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses[0], 404);
    let secs: i64 = retry_after.unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs));
    // Logins from the same address are counted apart.
    app.login(ADMIN_PHONE, ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn the_pdf_carries_the_name_hours_and_number_as_text_and_a_qr_code_of_the_check() {
    let app = spawn_app_with(&[("PUBLIC_BASE_URL", "https://zyfw.example.org")]).await;
    let s = scene(&app).await;
    served(&app, &s, 400, 75, true).await;
    served(&app, &s, 200, 60, true).await;
    let cert = issue(&app, &s.volunteer, json!({})).await;
    let res = app
        .client
        .get(app.url(&format!("/certificates/{}/pdf", id(&cert))))
        .bearer_auth(&s.volunteer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap().to_vec();
    assert!(
        pdf.len() < 100_000,
        "a subset font keeps it small: {} bytes",
        pdf.len()
    );

    let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let number = cert["number"].as_str().unwrap();
    for expected in [
        "志愿服务记录证明",
        NAME,
        "2.25小时",
        "2条",
        "本社区",
        number,
    ] {
        assert!(flat.contains(expected), "{expected} in {text}");
    }
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    assert_eq!(doc.get_pages().len(), 1);
    assert_eq!(
        qr_of(&doc),
        format!("https://zyfw.example.org/verify/{number}")
    );
    // The font is embedded, and only a subset of it.
    let embedded = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|st| {
            st.dict.get(b"Subtype").is_ok_and(|t| {
                t.as_name().ok() == Some(&b"CIDFontType0C"[..])
                    || t.as_name().ok() == Some(&b"OpenType"[..])
            })
        })
        .count();
    assert_eq!(embedded, 1, "one embedded CFF font program");
}

/// The QR code drawn on the page, decoded: the filled squares of the
/// content stream rebuilt into a module grid, rendered and read by rqrr.
fn qr_of(doc: &lopdf::Document) -> String {
    let (_, page) = doc.get_pages().into_iter().next().unwrap();
    let content = doc.get_page_content(page).unwrap();
    let ops = lopdf::content::Content::decode(&content)
        .unwrap()
        .operations;
    let num = |o: &lopdf::Object| {
        o.as_float()
            .ok()
            .or_else(|| o.as_i64().ok().map(|i| i as f32))
            .unwrap_or(f32::NAN)
    };
    // (x, y, w, h) of every rectangle in a filled path.
    let mut squares: Vec<(f32, f32, f32, f32)> = Vec::new();
    let mut pending: Vec<(f32, f32, f32, f32)> = Vec::new();
    let mut points: Vec<(f32, f32)> = Vec::new();
    let close = |points: &mut Vec<(f32, f32)>, pending: &mut Vec<(f32, f32, f32, f32)>| {
        if points.len() >= 3 {
            let xs = points.iter().map(|p| p.0);
            let ys = points.iter().map(|p| p.1);
            let (x0, x1) = (
                xs.clone().fold(f32::MAX, f32::min),
                xs.fold(f32::MIN, f32::max),
            );
            let (y0, y1) = (
                ys.clone().fold(f32::MAX, f32::min),
                ys.fold(f32::MIN, f32::max),
            );
            pending.push((x0, y0, x1 - x0, y1 - y0));
        }
        points.clear();
    };
    for op in &ops {
        let a: Vec<f32> = op.operands.iter().map(num).collect();
        match op.operator.as_str() {
            "re" => pending.push((a[0], a[1], a[2].abs(), a[3].abs())),
            "m" => {
                close(&mut points, &mut pending);
                points.push((a[0], a[1]));
            }
            "l" => points.push((a[0], a[1])),
            "h" => close(&mut points, &mut pending),
            "f" | "f*" | "F" | "B" | "B*" => {
                close(&mut points, &mut pending);
                squares.append(&mut pending);
            }
            "n" | "S" | "s" => {
                points.clear();
                pending.clear();
            }
            _ => {}
        }
    }
    assert!(
        squares.len() > 50,
        "the QR code is drawn: {} squares",
        squares.len()
    );
    let module = squares.iter().map(|s| s.2).fold(f32::MAX, f32::min);
    let x0 = squares.iter().map(|s| s.0).fold(f32::MAX, f32::min);
    let y0 = squares.iter().map(|s| s.1).fold(f32::MAX, f32::min);
    let cell = |v: f32, origin: f32| ((v - origin) / module).round() as usize;
    let width = squares.iter().map(|s| cell(s.0 + s.2, x0)).max().unwrap();
    let mut dark = vec![vec![false; width]; width];
    for &(x, y, w, h) in &squares {
        for line in &mut dark[cell(y, y0)..cell(y + h, y0)] {
            line[cell(x, x0)..cell(x + w, x0)].fill(true);
        }
    }
    // Content coordinates may run up or down the page: try both.
    for flipped in [false, true] {
        let scale = 6;
        let size = (width + 8) * scale;
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| {
            let (col, row) = ((x / scale) as isize - 4, (y / scale) as isize - 4);
            let inside = (0..width as isize).contains(&col) && (0..width as isize).contains(&row);
            let row = if flipped {
                width as isize - 1 - row
            } else {
                row
            };
            if inside && dark[row as usize][col as usize] {
                0
            } else {
                255
            }
        });
        if let Some(grid) = img.detect_grids().first()
            && let Ok((_, text)) = grid.decode()
        {
            return text;
        }
    }
    panic!("no QR code could be read from the page");
}

#[tokio::test]
async fn the_generated_signing_key_is_stored_sealed_and_a_wrong_secrets_key_stops_only_issuing() {
    let key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
    let app = spawn_app_with(&[("SECRETS_KEY", key)]).await;
    let stored = crate::secrets::column(
        &app.database_url,
        "SELECT sealed_seed FROM certificate_keys",
    )
    .await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with("enc:v1:"), "{}", stored[0]);
    // It still signs what the published key verifies.
    let s = scene(&app).await;
    served(&app, &s, 200, 60, true).await;
    let cert = issue(&app, &s.volunteer, json!({})).await;
    verify_jws(cert["signature"].as_str().unwrap(), &keys(&app).await).unwrap();
    // Under another sealing key the server still starts and checks
    // certificates; only issuing fails (its cause is logged).
    let url = app.database_url.clone();
    let settings = api::Settings::from_lookup(move |k| match k {
        "DATABASE_URL" => Some(url.clone()),
        "BIND_ADDR" => Some("127.0.0.1:0".into()),
        "JWT_SECRET" => Some("test-secret-that-is-long-enough-for-hs256".into()),
        "SECRETS_KEY" => Some("QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=".into()),
        _ => None,
    })
    .unwrap();
    let other = api::Application::build(settings).await.unwrap();
    let other_base = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());
    let number = cert["number"].as_str().unwrap();
    let checked = app
        .client
        .get(format!("{other_base}/verify/{number}"))
        .send()
        .await
        .unwrap();
    assert_eq!(checked.status(), 200);
    let refused = app
        .client
        .post(format!("{other_base}/api/v1/certificates"))
        .bearer_auth(&s.volunteer.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        500,
        "no certificate signed with an unpublished key"
    );
}
