//! The OpenAPI document's frame; paths and schemas are collected from the
//! handlers by `utoipa-actix-web`, and [`finish`] completes what every
//! operation shares: the standard error answers, security, unique ids.

use std::collections::BTreeMap;

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "社区志愿服务 API",
        description = "Volunteer teams, residents, help requests, sign-ups, service hours and notifications.",
    ),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    // utoipa copies the crate's licence, and the crates declare none: an
    // empty name would claim a licence that is not there.
    if doc.info.license.as_ref().is_some_and(|l| l.name.is_empty()) {
        doc.info.license = None;
    }
    doc
}

/// Signed-in routes every role may call: no 403 for them. The
/// authorization matrix (`tests/api/authorization.rs`) holds this list to
/// the routes none of its rows refuses with 403.
pub const ANY_SIGNED_IN: [&str; 12] = [
    "get_me",
    "update_me",
    "change_my_password",
    "list_requests",
    "get_request",
    "list_pairings",
    "get_pairing",
    "get_record",
    "record_history",
    "list_teams",
    "get_team",
    "metrics",
];

/// The error answers many routes share, declared once under
/// `components/responses`: (status, component name, description).
const SHARED: [(&str, &str, &str); 7] = [
    (
        "400",
        "MalformedJson",
        "malformed_json: the body is not JSON",
    ),
    (
        "401",
        "Unauthorized",
        "unauthorized, invalid token, token_revoked or account_disabled",
    ),
    (
        "403",
        "Forbidden",
        "forbidden: the caller's role or relation to the record does not allow this",
    ),
    (
        "404",
        "NotFound",
        "not_found: no such record, or one the caller may not read",
    ),
    (
        "413",
        "PayloadTooLarge",
        "payload_too_large: the body exceeds 256 KiB",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "unsupported_media_type: the body is not application/json",
    ),
    (
        "422",
        "ValidationFailed",
        "validation_failed (with details[].field), or a rule named by its code",
    ),
];

/// Completes the collected document: a relative server, unique operation
/// ids, an explicit security requirement on every operation (empty for
/// public ones), a description on every answer and the shared errors.
pub fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    doc.servers = Some(vec![Server::new("/")]);
    let components = doc.components.get_or_insert_with(Default::default);
    for (_, name, description) in SHARED {
        let content = Content::new(Some(Ref::from_schema_name("ErrorBody")));
        let mut response = Response::new(description);
        response
            .content
            .insert("application/json".into(), content.into());
        components.responses.insert(name.into(), response.into());
    }
    reference_wrapped_items(&mut components.schemas);
    let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            complete(op, &bearer);
            if let Some(id) = &op.operation_id {
                *ids.entry(id.clone()).or_default() += 1;
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            let duplicate = op.operation_id.as_ref().is_some_and(|id| ids[id] > 1);
            if duplicate {
                let slug: String = path
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                op.operation_id = Some(format!("{method}{}", slug.trim_end_matches('_')));
            }
        }
    }
    doc
}

/// utoipa inlines the item schema of the generic wrappers (`Page<T>`,
/// `Ranked<T>`) into each `Page_T`, leaving the component `T` described
/// twice and referenced nowhere. Where the inlined schema is exactly that
/// component, `items` points at it instead: the same document, each view
/// described once.
fn reference_wrapped_items(schemas: &mut BTreeMap<String, RefOr<Schema>>) {
    let wrappers: Vec<String> = schemas.keys().cloned().collect();
    for wrapper in wrappers {
        let Some(item) = ["Page_", "Ranked_"]
            .iter()
            .find_map(|prefix| wrapper.strip_prefix(prefix))
        else {
            continue;
        };
        let Some(item_schema @ RefOr::T(_)) = schemas.get(item).cloned() else {
            continue;
        };
        if let Some(RefOr::T(Schema::Object(object))) = schemas.get_mut(&wrapper)
            && let Some(RefOr::T(Schema::Array(list))) = object.properties.get_mut("items")
            && let ArrayItems::RefOrSchema(inlined) = &mut list.items
            && **inlined == item_schema
        {
            **inlined = RefOr::Ref(Ref::from_schema_name(item));
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
    .collect()
}

fn complete(op: &mut Operation, bearer: &SecurityRequirement) {
    let signed_in = op.security.as_ref().is_some_and(|s| s.contains(bearer));
    if op.security.is_none() {
        op.security = Some(vec![SecurityRequirement::default()]);
    }
    let has_in = |place: ParameterIn| {
        op.parameters.iter().flatten().any(|p| match p {
            RefOr::T(p) => p.parameter_in == place,
            RefOr::Ref(_) => false,
        })
    };
    let (path_params, query_params) = (has_in(ParameterIn::Path), has_in(ParameterIn::Query));
    let body = op.request_body.is_some();
    let id = op.operation_id.clone().unwrap_or_default();
    let mut wanted = Vec::new();
    if body {
        wanted.extend(["400", "413", "415", "422"]);
    }
    if query_params {
        wanted.push("422");
    }
    if path_params {
        wanted.push("404");
    }
    if signed_in {
        wanted.push("401");
        if !ANY_SIGNED_IN.contains(&id.as_str()) {
            wanted.push("403");
        }
    }
    let responses = &mut op.responses.responses;
    for (status, name, _) in SHARED {
        if wanted.contains(&status) && !responses.contains_key(status) {
            responses.insert(status.into(), RefOr::Ref(Ref::from_response_name(name)));
        }
    }
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = default_description(status).into();
        }
    }
}

fn default_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "created",
        "202" => "accepted",
        "204" => "done; no body",
        _ => "see the error code",
    }
}
