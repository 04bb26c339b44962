//! The managers' and caseworkers' web console at `/console/`: static files
//! compiled into the binary (`api/console/`), served with a strict
//! Content-Security-Policy. The console talks to the API like any other
//! client; nothing here reads the database or knows about tokens.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use include_dir::{Dir, include_dir};

use crate::error::AppError;
use crate::state::AppState;

static FILES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/console");

/// Scripts, styles, images and API calls only from this origin; no inline
/// scripts or styles, no plugins, never inside a frame. `blob:` images are
/// not needed; downloads use a `blob:` URL as a link target, which
/// navigation (not `img-src`) governs.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(redirect))
        .route("/console/{file:.*}", web::get().to(file));
}

/// The API browser at `/docs` answers under the console's policies: the
/// same Content-Security-Policy (the bundled Swagger UI loads its scripts
/// and styles from files of this origin, with none inline), never inside
/// a frame, no sniffing, no referrer. A page that can send requests with
/// a pasted token is as worth protecting from framing as the console.
pub async fn docs_policies(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    let is_docs = path == "/docs" || path.starts_with("/docs/");
    let mut res = next.call(req).await?;
    if is_docs {
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    Ok(res)
}

async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/console/"))
        .finish()
}

async fn file(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let name = match path.into_inner() {
        name if name.is_empty() => "index.html".to_string(),
        name => name,
    };
    let found = FILES.get_file(&name).ok_or(AppError::NotFound)?;
    let body = if name == "index.html" {
        page(
            &String::from_utf8_lossy(found.contents()),
            state.settings.time_zone.name(),
            &state.settings.community_name,
        )
        .into_bytes()
    } else {
        found.contents().to_vec()
    };
    let mut answer = HttpResponse::Ok();
    answer
        .insert_header((header::CONTENT_TYPE, content_type(&name)))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        // Small files: always revalidate, so a new binary's console is
        // what the next page load gets.
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    Ok(answer.body(body))
}

/// The page with the community's zone (the console counts "this month"
/// and "today" there, whatever the office computer's clock says) and its
/// name filled in, escaped for HTML.
fn page(template: &str, time_zone: &str, community: &str) -> String {
    template
        .replace("__TIME_ZONE__", &escape(time_zone))
        .replace("__COMMUNITY_NAME__", &escape(community))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("txt") | Some("md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_is_inside_the_binary() {
        for name in ["index.html", "app.js", "style.css"] {
            assert!(FILES.get_file(name).is_some(), "{name} is embedded");
        }
    }

    #[test]
    fn the_community_name_is_escaped_into_the_page() {
        let html = page(
            "<meta content=\"__TIME_ZONE__\"><b>__COMMUNITY_NAME__</b>",
            "Asia/Shanghai",
            "<script>\"阳光\"</script>",
        );
        assert_eq!(
            html,
            "<meta content=\"Asia/Shanghai\"><b>&lt;script&gt;&quot;阳光&quot;&lt;/script&gt;</b>"
        );
    }

    #[test]
    fn types_follow_the_extension() {
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("x.bin"), "application/octet-stream");
    }
}
