//! Certificate signing keys: sealed with `SECRETS_KEY` once it is set
//! (at the next start for a key stored before), withdrawn by an admin
//! (no longer published; what it signed checks as `key_withdrawn`), and
//! certificates reissued under a new number and the current key.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::secrets::column;

const KEY_A: &str = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A volunteer with an hour of approved service, and the manager.
struct Scene {
    manager: Actor,
    volunteer: Actor,
}

async fn scene(app: &TestApp) -> Scene {
    let c = community(app, 2).await;
    let volunteer = app.volunteer("欧阳堃喆").await;
    app.join(&c.team_id, &volunteer).await;
    let ago = |m: i64| (Utc::now() - Duration::minutes(m)).to_rfc3339();
    let record = app
        .post(
            "/service-records",
            Some(&c.caseworker),
            json!({"volunteer_id": volunteer.id, "request_id": c.request_id,
                   "started_at": ago(260), "ended_at": ago(200)}),
        )
        .await
        .expect(201);
    app.post_empty(
        &format!("/service-records/{}/approve", id(&record)),
        Some(&c.manager),
    )
    .await
    .expect(200);
    Scene {
        manager: c.manager,
        volunteer,
    }
}

async fn issue(app: &TestApp, s: &Scene) -> Value {
    app.post("/certificates", Some(&s.volunteer), json!({}))
        .await
        .expect(201)
}

async fn published(app: &TestApp) -> Value {
    app.send(
        app.client
            .get(format!("{}/.well-known/certificate-keys", app.base)),
    )
    .await
    .expect(200)
}

fn kids(set: &Value) -> Vec<String> {
    set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

fn kid_of(cert: &Value) -> String {
    jsonwebtoken::decode_header(cert["signature"].as_str().unwrap())
        .unwrap()
        .kid
        .unwrap()
}

/// Checks the certificate's signature against the published keys, as a
/// verifier offline would.
fn signature_holds(cert: &Value, set: &Value) -> bool {
    let kid = kid_of(cert);
    let Some(jwk) = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
    else {
        return false;
    };
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(cert["signature"].as_str().unwrap(), &key, &validation).is_ok()
}

async fn check(app: &TestApp, number: &str, accept: &str) -> Reply {
    app.send(
        app.client
            .get(format!("{}/verify/{number}", app.base))
            .header("Accept", accept),
    )
    .await
}

fn number(cert: &Value) -> &str {
    cert["number"].as_str().unwrap()
}

#[tokio::test]
async fn a_signing_key_stored_in_clear_is_sealed_at_the_next_start_with_secrets_key() {
    let before = spawn_app().await;
    let s = scene(&before).await;
    let old = issue(&before, &s).await;
    let clear = column(
        &before.database_url,
        "SELECT sealed_seed FROM certificate_keys",
    )
    .await;
    assert_eq!(clear.len(), 1);
    assert_eq!(STANDARD.decode(&clear[0]).unwrap().len(), 32, "in clear");

    let after = spawn_on(&before.database_url, &[("SECRETS_KEY", KEY_A)]).await;
    let sealed = column(
        &after.database_url,
        "SELECT sealed_seed FROM certificate_keys",
    )
    .await;
    assert_eq!(sealed.len(), 1, "the same key, not a new one");
    assert!(sealed[0].starts_with("enc:v1:"), "{}", sealed[0]);
    assert!(!sealed[0].contains(&clear[0]));

    // What it signed still verifies, and it still signs.
    let set = published(&after).await;
    assert!(signature_holds(&old, &set));
    assert_eq!(
        check(&after, number(&old), "application/json").await.body["status"],
        "valid"
    );
    let volunteer = after.login(&s.volunteer.phone, PASSWORD).await;
    let new = after
        .post("/certificates", Some(&volunteer), json!({}))
        .await
        .expect(201);
    assert_eq!(kid_of(&new), kid_of(&old));
    assert!(signature_holds(&new, &set));
}

#[tokio::test]
async fn a_withdrawn_key_leaves_the_published_set_and_its_certificates_say_so() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let cert = issue(&app, &s).await;
    let leaked = kid_of(&cert);
    assert_eq!(kids(&published(&app).await), vec![leaked.clone()]);

    let path = format!("/certificate-keys/{leaked}/withdraw");
    let done = app.post_empty(&path, Some(&app.admin)).await.expect(200);
    assert_eq!(done["kid"], leaked.as_str());
    let signing = done["signing_kid"].as_str().unwrap().to_string();
    assert_ne!(signing, leaked, "withdrawing the signing key rotates");
    let set = published(&app).await;
    assert_eq!(kids(&set), vec![signing.clone()]);
    assert!(!signature_holds(&cert, &set));

    let json_check = check(&app, number(&cert), "application/json").await;
    assert_eq!(json_check.status, 200);
    assert_eq!(json_check.body["status"], "key_withdrawn");
    let page = check(&app, number(&cert), BROWSER).await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("签名密钥已撤回"), "{html}");
    assert!(!html.contains("真实有效"), "{html}");

    // Again: the same answer, nothing more happens.
    let again = app.post_empty(&path, Some(&app.admin)).await.expect(200);
    assert_eq!(again["withdrawn_at"], done["withdrawn_at"]);
    assert_eq!(again["signing_kid"], signing.as_str());
    assert_eq!(kids(&published(&app).await), vec![signing.clone()]);
    let unknown = app
        .post_empty("/certificate-keys/no-such-kid/withdraw", Some(&app.admin))
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.code(), "not_found");

    // The next certificate is signed with the new key and stands.
    let next = issue(&app, &s).await;
    assert_eq!(kid_of(&next), signing);
    assert!(signature_holds(&next, &set));
    assert_eq!(
        check(&app, number(&next), "application/json").await.body["status"],
        "valid"
    );
    // A key withdrawn while another signs needs no rotation.
    let rotated = app
        .post_empty("/certificate-keys/rotate", Some(&app.admin))
        .await
        .expect(201);
    let older = app
        .post_empty(
            &format!("/certificate-keys/{signing}/withdraw"),
            Some(&app.admin),
        )
        .await
        .expect(200);
    assert_eq!(older["signing_kid"], rotated["kid"]);
    assert_eq!(
        kids(&published(&app).await),
        vec![rotated["kid"].as_str().unwrap().to_string()]
    );
}

#[tokio::test]
async fn the_operators_key_is_withdrawn_by_changing_the_setting() {
    let seed = STANDARD.encode([42u8; 32]);
    let app = spawn_app_with(&[("CERTIFICATE_SIGNING_KEY", &seed)]).await;
    let kid = kids(&published(&app).await).remove(0);
    let refused = app
        .post_empty(
            &format!("/certificate-keys/{kid}/withdraw"),
            Some(&app.admin),
        )
        .await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.code(), "signing_key_from_settings");
    assert_eq!(kids(&published(&app).await), vec![kid]);
}

#[tokio::test]
async fn a_reissued_certificate_has_a_new_number_and_the_old_one_is_revoked() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let old = issue(&app, &s).await;
    let leaked = kid_of(&old);
    app.post_empty(
        &format!("/certificate-keys/{leaked}/withdraw"),
        Some(&app.admin),
    )
    .await
    .expect(200);

    let path = format!("/certificates/{}/reissue", id(&old));
    let refused = app.post_empty(&path, Some(&s.volunteer)).await;
    assert_eq!(refused.status, 403, "managers reissue");
    let new = app.post_empty(&path, Some(&s.manager)).await.expect(201);
    assert_ne!(new["id"], old["id"]);
    assert_ne!(new["number"], old["number"]);
    for same in [
        "volunteer_id",
        "volunteer_name",
        "hours",
        "records",
        "period_from",
        "period_to",
        "by_category",
        "issuer",
    ] {
        assert_eq!(new[same], old[same], "{same}");
    }
    assert_eq!(new["status"], "valid");
    assert_ne!(kid_of(&new), leaked);
    assert!(signature_holds(&new, &published(&app).await));
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(
                new["signature"]
                    .as_str()
                    .unwrap()
                    .split('.')
                    .nth(1)
                    .unwrap(),
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        payload["number"], new["number"],
        "signed under its own number"
    );

    assert_eq!(
        check(&app, number(&new), "application/json").await.body["status"],
        "valid"
    );
    let gone = check(&app, number(&old), "application/json").await;
    assert_eq!(gone.body["status"], "revoked");
    let seen = app
        .get(&format!("/certificates/{}", id(&old)), Some(&s.volunteer))
        .await
        .expect(200);
    assert_eq!(seen["status"], "revoked");
    let reason = seen["revoked_reason"].as_str().unwrap();
    assert!(reason.contains(number(&new)), "{reason}");

    let twice = app.post_empty(&path, Some(&s.manager)).await;
    assert_eq!(twice.status, 409);
    assert_eq!(twice.code(), "already_revoked");
    let listed = app
        .get("/certificates", Some(&s.volunteer))
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "no third");
    let unknown = app
        .post_empty(
            &format!("/certificates/{}/reissue", uuid::Uuid::now_v7()),
            Some(&s.manager),
        )
        .await;
    assert_eq!(unknown.status, 404);
}
