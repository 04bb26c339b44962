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

#[tokio::test]
async fn every_schema_of_the_document_is_used() {
    let app = spawn_app().await;
    let served = app.get("/api-docs/openapi.json", None).await.expect(200);
    let text = served.to_string();
    let unused: Vec<&String> = served["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
        .filter(|name| !text.contains(&format!("\"#/components/schemas/{name}\"")))
        .collect();
    assert!(
        unused.is_empty(),
        "schemas nothing refers to (a client generator makes a type of each): {unused:?}"
    );
}
