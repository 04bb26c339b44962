//! Gathers what matching needs from the database — every team, then the
//! members' availability, open assignments and history of the teams that
//! pass the hard rules — and hands it to `domain::matching`.

use std::collections::{HashMap, HashSet};

use chrono::TimeZone;
use chrono_tz::Tz;
use entity::help_request::{self, Entity as Requests};
use entity::team::Entity as Teams;
use entity::team_member::{self, Entity as Members};
use entity::user::{self, Entity as Users};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::domain::availability::{self, Slot, WeeklySlot};
use crate::domain::geo::Coordinates;
use crate::domain::matching::{self, RequestFacts, TeamFacts, TeamSituation};
use crate::domain::schedule;
use crate::domain::vocab::{MemberStatus, RequestStatus};
use crate::error::{AppError, AppResult};
use crate::views::{MatchView, TeamView};

pub async fn for_request(
    db: &impl ConnectionTrait,
    request: &help_request::Model,
    resident: Option<&entity::resident::Model>,
    tz: Tz,
) -> AppResult<Vec<MatchView>> {
    let facts = RequestFacts {
        category: request.category,
        resident_category: resident.map(|r| r.category),
        resident_location: super::requests::place_of(request, resident)?,
        urgency: request.urgency,
        volunteers_needed: u32::try_from(request.volunteers_needed).unwrap_or(1),
    };
    let teams = Teams::find().all(db).await?;
    let mut candidates = Vec::new();
    for team in &teams {
        let team_facts = TeamFacts {
            categories: team.service_categories.clone().into_vec(),
            location: Coordinates {
                lat: team.location_lat,
                lng: team.location_lng,
            },
            service_radius_km: team.service_radius_km,
            vetted: team.vetted,
        };
        if let Some(distance) = matching::eligible(&facts, &team_facts) {
            candidates.push((team, team_facts, distance));
        }
    }
    let ids: Vec<Uuid> = candidates.iter().map(|(t, _, _)| t.id).collect();
    let situations = situations(db, &ids, request, tz).await?;
    let scored = candidates
        .into_iter()
        .map(|(team, team_facts, distance)| {
            let situation = situations.get(&team.id).copied().unwrap_or_default();
            (
                team,
                distance,
                matching::score(&facts, &team_facts, distance, situation),
            )
        })
        .collect();
    Ok(matching::rank(scored)
        .into_iter()
        .map(|(team, distance, scored)| MatchView {
            team: TeamView::build(team, tz),
            score: scored.score,
            distance_km: (distance * 100.0).round() / 100.0,
            reasons: scored.reasons,
        })
        .collect())
}

pub(super) async fn situations(
    db: &impl ConnectionTrait,
    team_ids: &[Uuid],
    request: &help_request::Model,
    tz: Tz,
) -> AppResult<HashMap<Uuid, TeamSituation>> {
    let mut out: HashMap<Uuid, TeamSituation> = HashMap::new();
    if team_ids.is_empty() {
        return Ok(out);
    }
    let start = tz
        .timestamp_opt(request.starts_at, 0)
        .single()
        .ok_or_else(|| AppError::internal("bad time"))?;
    let end = tz
        .timestamp_opt(request.ends_at, 0)
        .single()
        .ok_or_else(|| AppError::internal("bad time"))?;

    let members: Vec<(Uuid, Uuid)> = Members::find()
        .select_only()
        .column(team_member::Column::TeamId)
        .column(team_member::Column::UserId)
        .filter(team_member::Column::TeamId.is_in(team_ids.iter().copied()))
        .filter(team_member::Column::Status.eq(MemberStatus::Active))
        .into_tuple()
        .all(db)
        .await?;
    let user_ids: HashSet<Uuid> = members.iter().map(|(_, u)| *u).collect();
    let free_users: HashSet<Uuid> = Users::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Availability)
        .filter(user::Column::Id.is_in(user_ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .filter(|(_, json)| {
            let slots: Vec<Slot> = serde_json::from_str::<Vec<WeeklySlot>>(json)
                .unwrap_or_default()
                .iter()
                .filter_map(|s| Slot::parse(s).ok())
                .collect();
            availability::covers(&slots, start, end)
        })
        .map(|(id, _)| id)
        .collect();
    let free: Vec<Uuid> = free_users.iter().copied().collect();
    let no_shows = super::attendance::recent_no_shows(db, &free, super::now()).await?;
    for (team_id, user_id) in &members {
        if free_users.contains(user_id) {
            let entry = out.entry(*team_id).or_default();
            entry.available_members += 1;
            if let Some(&n) = no_shows.get(user_id) {
                entry.members_with_no_shows += 1;
                entry.no_show_discount += 1.0 - schedule::dependability(n);
            }
        }
    }

    let assignments: Vec<(Option<Uuid>, Option<Uuid>, RequestStatus)> = Requests::find()
        .select_only()
        .column(help_request::Column::TeamId)
        .column(help_request::Column::ResidentId)
        .column(help_request::Column::Status)
        .filter(help_request::Column::TeamId.is_in(team_ids.iter().copied()))
        .filter(help_request::Column::Id.ne(request.id))
        .into_tuple()
        .all(db)
        .await?;
    for (team_id, resident_id, status) in assignments {
        let Some(team_id) = team_id else { continue };
        let entry = out.entry(team_id).or_default();
        if status == RequestStatus::Assigned || status == RequestStatus::InProgress {
            entry.open_assignments += 1;
        }
        let served = status == RequestStatus::Completed || status == RequestStatus::InProgress;
        // An activity has no resident to have served before.
        if request.resident_id.is_some() && resident_id == request.resident_id && served {
            entry.served_resident_before = true;
        }
    }
    Ok(out)
}
