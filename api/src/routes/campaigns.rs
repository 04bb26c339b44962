//! Campaigns (我们的节日, 学雷锋日, 重阳节 …): started by managers, one
//! request per active resident of the chosen groups; followed by staff;
//! their open requests assigned to teams fairly in one call.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Manager, Staff};
use crate::domain::vocab::{ResidentCategory, ServiceCategory};
use crate::domain::{calendar, text};
use crate::error::AppResult;
use crate::extract::{EmptyBody, Json, OptionalJson};
use crate::service::campaigns::{self, NewCampaign};
use crate::service::paging::PageParams;
use crate::state::AppState;
use crate::validate::Checker;
use crate::views::{AutoAssignView, CampaignView, Page};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(create_campaign)
        .service(list_campaigns)
        .service(get_campaign)
        .service(auto_assign_campaign);
}

#[derive(Deserialize, ToSchema)]
pub struct CreateCampaignBody {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// The groups whose active residents each get a request.
    #[schema(min_items = 1)]
    resident_categories: Vec<ResidentCategory>,
    category: ServiceCategory,
    #[schema(min_length = 1, max_length = 100)]
    title: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    description: String,
    starts_at: DateTime<FixedOffset>,
    ends_at: DateTime<FixedOffset>,
    /// 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    volunteers_per_request: i64,
}

fn new_campaign(body: CreateCampaignBody) -> AppResult<NewCampaign> {
    let mut check = Checker::new();
    let name = check.check("name", text::clean(&body.name, 100));
    let title = check.check("title", text::clean(&body.title, 100));
    let description = check.check(
        "description",
        text::clean_optional(Some(&body.description), 2000),
    );
    let mut groups = body.resident_categories;
    groups.sort_by_key(|c| c.code());
    groups.dedup();
    if groups.is_empty() {
        check.fail("resident_categories", "至少选择一类服务对象");
    }
    let (starts_at, ends_at) = (body.starts_at.timestamp(), body.ends_at.timestamp());
    for (field, at) in [("starts_at", starts_at), ("ends_at", ends_at)] {
        if let Err(e) = calendar::check_plausible(at) {
            check.fail(field, e);
        }
    }
    if let Err(e) = calendar::check_request_window(starts_at, ends_at) {
        check.fail("ends_at", e);
    }
    if !(1..=1000).contains(&body.volunteers_per_request) {
        check.fail(
            "volunteers_per_request",
            "每个求助所需人数须在 1 到 1000 之间",
        );
    }
    let values = (|| {
        Some(NewCampaign {
            name: name?,
            resident_categories: groups,
            category: body.category,
            title: title?,
            description: description?.unwrap_or_default(),
            starts_at,
            ends_at,
            volunteers_per_request: body.volunteers_per_request as i32,
        })
    })();
    check.finish(values)
}

/// Starts a campaign: one `open` request, with `campaign_id`, for every
/// active resident of `resident_categories`, all in one transaction
/// (managers). Retried with the same `Idempotency-Key`, it makes nothing
/// twice.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), request_body = CreateCampaignBody, responses(
    (status = 201, body = CampaignView),
))]
#[post("/campaigns")]
async fn create_campaign(
    state: web::Data<AppState>,
    manager: Manager,
    body: Json<CreateCampaignBody>,
) -> AppResult<HttpResponse> {
    let new = new_campaign(body.0)?;
    let campaign = campaigns::create(&state.db, new, manager.0.id).await?;
    let view = view(&state, &campaign).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Campaigns, newest first, each with its progress (caseworkers,
/// managers).
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, body = Page<CampaignView>),
))]
#[get("/campaigns")]
async fn list_campaigns(
    state: web::Data<AppState>,
    _: Staff,
    query: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let (rows, next_cursor) = campaigns::list(&state.reads, query.parse()?).await?;
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let mut progress = campaigns::progress(&state.reads, &ids).await?;
    let tz = state.settings.time_zone;
    let items = rows
        .iter()
        .map(|c| CampaignView::build(c, progress.remove(&c.id).unwrap_or_default(), tz))
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// One campaign with its requests by status, volunteers and approved
/// hours (caseworkers, managers).
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = CampaignView),
))]
#[get("/campaigns/{id}")]
async fn get_campaign(
    state: web::Data<AppState>,
    _: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let campaign = campaigns::find(&state.reads, *id).await?;
    Ok(HttpResponse::Ok().json(view(&state, &campaign).await?))
}

/// Assigns each open request of the campaign to a team that passes its
/// hard rules (category, radius, vetting), best first, spreading the work:
/// no team holds two or more requests more than another team that could
/// take one of them. Requests no team may take are listed as `unmatched`
/// (managers).
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<EmptyBody>), responses(
    (status = 200, body = AutoAssignView),
))]
#[post("/campaigns/{id}/auto-assign")]
async fn auto_assign_campaign(
    state: web::Data<AppState>,
    _: Manager,
    id: web::Path<Uuid>,
    _: OptionalJson<EmptyBody>,
) -> AppResult<HttpResponse> {
    let answer = campaigns::auto_assign(&state.db, &state.settings, *id).await?;
    Ok(HttpResponse::Ok().json(answer))
}

async fn view(state: &AppState, campaign: &entity::campaign::Model) -> AppResult<CampaignView> {
    let progress = campaigns::progress(&state.db, &[campaign.id]).await?;
    let progress = progress.get(&campaign.id).copied().unwrap_or_default();
    Ok(CampaignView::build(
        campaign,
        progress,
        state.settings.time_zone,
    ))
}
