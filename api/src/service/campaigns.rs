//! Campaigns (我们的节日, 学雷锋日, 重阳节 …): one open request per active
//! resident of the chosen groups, made in one transaction; their progress;
//! and the fair automatic assignment of their open requests to teams.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use entity::campaign::{self, Entity as Campaigns};
use entity::help_request::{self, Entity as Requests};
use entity::resident::{self, Entity as Residents};
use entity::service_record::{self, Entity as Records};
use entity::signup::{self, Entity as Signups};
use entity::team::{self, Entity as Teams};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, Func},
};
use uuid::Uuid;

use super::outbox::{self, RequestEvent};
use super::paging::{PageRequest, finish};
use super::service_records::counts_as_approved;
use super::{matches, now, requests};
use crate::config::Settings;
use crate::domain::fair_assignment::{self, Candidate};
use crate::domain::geo::Coordinates;
use crate::domain::matching::{self, RequestFacts, TeamFacts};
use crate::domain::vocab::{
    EventType, RequestStatus, ResidentCategory, ServiceCategory, SignupStatus, Urgency,
};
use crate::error::{AppError, AppResult};
use crate::views::{AutoAssignView, CampaignProgress, TeamRequest};

/// Rows per INSERT: well under SQLite's and PostgreSQL's limits on bound
/// values (about 20 columns a row).
const INSERT_CHUNK: usize = 500;

pub struct NewCampaign {
    pub name: String,
    pub resident_categories: Vec<ResidentCategory>,
    pub category: ServiceCategory,
    pub title: String,
    pub description: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub volunteers_per_request: i32,
}

/// The campaign and its requests, all or nothing. Its requests announce
/// nothing one by one (a WeCom group would get thousands of messages);
/// teams hear of the requests given to them by auto-assign.
pub async fn create(
    db: &DatabaseConnection,
    new: NewCampaign,
    manager: Uuid,
) -> AppResult<campaign::Model> {
    let txn = db.begin().await?;
    let now = now();
    let model = campaign::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name),
        resident_categories: Set(new.resident_categories.clone().into()),
        category: Set(new.category),
        title: Set(new.title.clone()),
        description: Set(new.description.clone()),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        volunteers_per_request: Set(new.volunteers_per_request),
        created_by: Set(manager),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let residents: Vec<Uuid> = Residents::find()
        .select_only()
        .column(resident::Column::Id)
        .filter(resident::Column::Active.eq(true))
        .filter(resident::Column::Category.is_in(new.resident_categories))
        .order_by_asc(resident::Column::Id)
        .into_tuple()
        .all(&txn)
        .await?;
    for chunk in residents.chunks(INSERT_CHUNK) {
        let rows = chunk.iter().map(|resident| help_request::ActiveModel {
            id: Set(Uuid::now_v7()),
            resident_id: Set(Some(*resident)),
            caseworker_id: Set(manager),
            category: Set(model.category),
            title: Set(model.title.clone()),
            description: Set(model.description.clone()),
            starts_at: Set(model.starts_at),
            ends_at: Set(model.ends_at),
            volunteers_needed: Set(model.volunteers_per_request),
            signups_count: Set(0),
            urgency: Set(Urgency::Normal),
            status: Set(RequestStatus::Open),
            team_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            campaign_id: Set(Some(model.id)),
            ..Default::default()
        });
        Requests::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(model)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<campaign::Model> {
    Campaigns::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// A page of campaigns, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    page: PageRequest,
) -> AppResult<(Vec<campaign::Model>, Option<String>)> {
    let mut query = Campaigns::find()
        .order_by_desc(campaign::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(campaign::Column::Id.lt(after));
    }
    Ok(finish(query.all(db).await?, page.limit, |c| c.id))
}

/// Each campaign's requests by status, its volunteers (who signed up)
/// and approved hours: three grouped queries for a whole page.
pub async fn progress(
    db: &impl ConnectionTrait,
    campaigns: &[Uuid],
) -> AppResult<HashMap<Uuid, CampaignProgress>> {
    let mut out: HashMap<Uuid, CampaignProgress> = campaigns
        .iter()
        .map(|id| (*id, CampaignProgress::default()))
        .collect();
    if campaigns.is_empty() {
        return Ok(out);
    }
    let of_these = help_request::Column::CampaignId.is_in(campaigns.iter().copied());
    let by_status: Vec<(Option<Uuid>, RequestStatus, i64)> = Requests::find()
        .select_only()
        .column(help_request::Column::CampaignId)
        .column(help_request::Column::Status)
        .column_as(help_request::Column::Id.count(), "n")
        .filter(of_these.clone())
        .group_by(help_request::Column::CampaignId)
        .group_by(help_request::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    for (campaign, status, n) in by_status {
        if let Some(p) = campaign.and_then(|c| out.get_mut(&c)) {
            p.count(status, n);
        }
    }
    let volunteers: Vec<(Option<Uuid>, i64)> = Signups::find()
        .join(
            JoinType::InnerJoin,
            Signups::belongs_to(Requests)
                .from(signup::Column::RequestId)
                .to(help_request::Column::Id)
                .into(),
        )
        .select_only()
        .column(help_request::Column::CampaignId)
        .column_as(
            Expr::expr(Func::count_distinct(Expr::col((
                Signups,
                signup::Column::VolunteerId,
            )))),
            "n",
        )
        .filter(of_these.clone())
        .filter(signup::Column::Status.ne(SignupStatus::Withdrawn))
        .group_by(help_request::Column::CampaignId)
        .into_tuple()
        .all(db)
        .await?;
    for (campaign, n) in volunteers {
        if let Some(p) = campaign.and_then(|c| out.get_mut(&c)) {
            p.volunteers = n;
        }
    }
    let minutes: Vec<(Option<Uuid>, Option<i64>)> = Records::find()
        .join(
            JoinType::InnerJoin,
            Records::belongs_to(Requests)
                .from(service_record::Column::RequestId)
                .to(help_request::Column::Id)
                .into(),
        )
        .select_only()
        .column(help_request::Column::CampaignId)
        .column_as(
            Expr::expr(Func::sum(Expr::col((
                Records,
                service_record::Column::Minutes,
            )))),
            "minutes",
        )
        .filter(of_these)
        .filter(counts_as_approved())
        .group_by(help_request::Column::CampaignId)
        .into_tuple()
        .all(db)
        .await?;
    for (campaign, minutes) in minutes {
        if let Some(p) = campaign.and_then(|c| out.get_mut(&c)) {
            p.approved_minutes = minutes.unwrap_or(0);
        }
    }
    Ok(out)
}

/// Gives each open request of the campaign a team that passes its hard
/// rules (category, radius, vetting), spreading the work fairly
/// (`domain::fair_assignment`), in one transaction. A request someone
/// else assigned meanwhile is left as it is and not reported.
pub async fn auto_assign(
    db: &DatabaseConnection,
    settings: &Settings,
    campaign_id: Uuid,
) -> AppResult<AutoAssignView> {
    let txn = db.begin().await?;
    find(&txn, campaign_id).await?;
    let open: Vec<requests::WithResident> = Requests::find()
        .find_also_related(Residents)
        .filter(help_request::Column::CampaignId.eq(campaign_id))
        .filter(help_request::Column::Status.eq(RequestStatus::Open))
        .order_by_asc(help_request::Column::Id)
        .all(&txn)
        .await?;
    let teams = Teams::find()
        .order_by_asc(team::Column::Id)
        .all(&txn)
        .await?;
    let choices = candidates(&txn, settings, &open, &teams).await?;
    let plan = fair_assignment::assign(teams.len(), &choices);

    let mut answer = AutoAssignView::default();
    for ((request, resident), team) in open.iter().zip(plan) {
        let Some(team) = team.map(|t| &teams[t]) else {
            answer.unmatched.push(request.id);
            continue;
        };
        let updated = Requests::update_many()
            .col_expr(
                help_request::Column::Status,
                Expr::value(RequestStatus::Assigned),
            )
            .col_expr(help_request::Column::TeamId, Expr::value(team.id))
            .col_expr(help_request::Column::UpdatedAt, Expr::value(now()))
            .filter(help_request::Column::Id.eq(request.id))
            .filter(help_request::Column::Status.eq(RequestStatus::Open))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            continue;
        }
        let assigned = help_request::Model {
            status: RequestStatus::Assigned,
            team_id: Some(team.id),
            ..request.clone()
        };
        let event = RequestEvent {
            event: EventType::RequestAssigned,
            request: &assigned,
            resident: resident.as_ref(),
            team_id: Some(team.id),
            detail: Some(format!(
                "需要 {} 名志愿者，请队员尽快报名",
                assigned.volunteers_needed
            )),
            data: None,
        };
        outbox::emit(&txn, settings, event).await?;
        answer.assigned.push(TeamRequest {
            request_id: request.id,
            team_id: team.id,
        });
    }
    txn.commit().await?;
    Ok(answer)
}

/// Each request's eligible teams (indices into `teams`) with the score
/// `GET /requests/{id}/matches` would give. The teams' situation (free
/// members, load) is gathered once per time window, not per request: a
/// campaign's requests share one window unless edited since.
async fn candidates(
    db: &impl ConnectionTrait,
    settings: &Settings,
    open: &[requests::WithResident],
    teams: &[team::Model],
) -> AppResult<Vec<Vec<Candidate>>> {
    let team_facts: Vec<TeamFacts> = teams.iter().map(team_facts).collect();
    let team_ids: Vec<Uuid> = teams.iter().map(|t| t.id).collect();
    let served = served_before(db, &team_ids).await?;
    let mut by_window = HashMap::new();
    let mut out = Vec::with_capacity(open.len());
    for (request, resident) in open {
        let window = (request.starts_at, request.ends_at);
        let situations = match by_window.entry(window) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => {
                slot.insert(matches::situations(db, &team_ids, request, settings.time_zone).await?)
            }
        };
        let facts = RequestFacts {
            category: request.category,
            resident_category: resident.as_ref().map(|r| r.category),
            resident_location: requests::place_of(request, resident.as_ref())?,
            urgency: request.urgency,
            volunteers_needed: u32::try_from(request.volunteers_needed).unwrap_or(1),
        };
        let mut choices = Vec::new();
        for (index, (team, facts_of_team)) in teams.iter().zip(&team_facts).enumerate() {
            let Some(distance) = matching::eligible(&facts, facts_of_team) else {
                continue;
            };
            let mut situation = situations.get(&team.id).copied().unwrap_or_default();
            situation.served_resident_before = request
                .resident_id
                .is_some_and(|r| served.contains(&(team.id, r)));
            let scored = matching::score(&facts, facts_of_team, distance, situation);
            choices.push(Candidate {
                team: index,
                score: scored.score,
            });
        }
        out.push(choices);
    }
    Ok(out)
}

fn team_facts(team: &team::Model) -> TeamFacts {
    TeamFacts {
        categories: team.service_categories.clone().into_vec(),
        location: Coordinates {
            lat: team.location_lat,
            lng: team.location_lng,
        },
        service_radius_km: team.service_radius_km,
        vetted: team.vetted,
    }
}

/// (team, resident) pairs where the team has served the resident.
async fn served_before(
    db: &impl ConnectionTrait,
    team_ids: &[Uuid],
) -> AppResult<HashSet<(Uuid, Uuid)>> {
    let rows: Vec<(Option<Uuid>, Option<Uuid>)> = Requests::find()
        .select_only()
        .column(help_request::Column::TeamId)
        .column(help_request::Column::ResidentId)
        .filter(help_request::Column::TeamId.is_in(team_ids.iter().copied()))
        .filter(help_request::Column::Status.is_in([
            RequestStatus::InProgress.code(),
            RequestStatus::Completed.code(),
        ]))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(team, resident)| team.zip(resident))
        .collect())
}
