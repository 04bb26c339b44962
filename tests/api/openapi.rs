//! The committed `docs/openapi.json` is the document the server serves, so
//! the repository describes its API without a running server.

use crate::helpers::*;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");

#[tokio::test]
async fn the_committed_openapi_document_is_the_one_the_server_serves() {
    let app = spawn_app().await;
    let served = app.get("/api-docs/openapi.json", None).await.expect(200);
    let pretty = format!("{}\n", serde_json::to_string_pretty(&served).unwrap());
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, &pretty).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == pretty,
        "docs/openapi.json differs from the served document; regenerate it with \
         `UPDATE_OPENAPI=1 cargo test --test api openapi` and commit the change"
    );
}
