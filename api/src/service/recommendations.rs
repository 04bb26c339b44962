//! A volunteer's recommended requests (`GET /me/recommended-requests`):
//! what they can sign up for now, best first for them. Two queries: the
//! account, and the open requests of their teams with their residents.

use chrono::TimeZone;
use chrono_tz::Tz;
use sea_orm::ConnectionTrait;

use super::accounts;
use super::requests::{self, Reader};
use crate::auth::AuthUser;
use crate::domain::availability::{Slot, WeeklySlot};
use crate::domain::geo::Coordinates;
use crate::domain::recommend::{self, OpenRequestFacts, VolunteerFacts};
use crate::domain::vetting::{self, local_day};
use crate::error::{AppError, AppResult};
use crate::views::RecommendationView;

pub async fn for_volunteer(
    db: &impl ConnectionTrait,
    volunteer: &AuthUser,
    tz: Tz,
) -> AppResult<Vec<RecommendationView>> {
    // The account vanished after the token check: a plain 401. A database
    // failure stays a 5xx.
    let me = accounts::find(db, volunteer.id)
        .await
        .map_err(|e| match e {
            AppError::NotFound => AppError::Unauthorized,
            other => other,
        })?;
    let skills = me.skills.clone().into_vec();
    let slots: Vec<Slot> = serde_json::from_str::<Vec<WeeklySlot>>(&me.availability)
        .map_err(AppError::internal)?
        .iter()
        .filter_map(|s| Slot::parse(s).ok())
        .collect();
    let location = me
        .location_lat
        .zip(me.location_lng)
        .map(|(lat, lng)| Coordinates { lat, lng });
    let facts = VolunteerFacts {
        skills: &skills,
        location,
        slots: &slots,
    };

    let open = requests::open_for_volunteer(db, volunteer.id).await?;
    // None of these is theirs yet (their sign-ups are left out), so they
    // see each as any volunteer of the team does: no resident's details.
    let reader = Reader::without_signups(volunteer);
    let mut items = Vec::with_capacity(open.len());
    for row in &open {
        let (request, resident) = (&row.request, &row.resident);
        // Only what they can sign up for: not visits their check does not cover.
        let category = resident.as_ref().map(|r| r.category);
        if !vetting::may_serve(category, me.vetted_until, local_day(request.starts_at, tz)) {
            continue;
        }
        let request_facts = OpenRequestFacts {
            category: request.category,
            resident_location: requests::place_of(request, resident.as_ref())?,
            urgency: request.urgency,
            starts_at: tz
                .timestamp_opt(request.starts_at, 0)
                .single()
                .ok_or_else(|| AppError::internal("time"))?,
            ends_at: tz
                .timestamp_opt(request.ends_at, 0)
                .single()
                .ok_or_else(|| AppError::internal("time"))?,
        };
        let rec = recommend::recommend(&facts, &request_facts);
        items.push((
            request.starts_at,
            RecommendationView {
                request: requests::view_with(&reader, request, resident.as_ref(), tz),
                score: rec.score,
                // To the centre of the resident's grid cell, in whole
                // kilometres (`recommend::recommend`).
                distance_km: rec.distance_km,
                reasons: rec.reasons,
            },
        ));
    }
    items.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
    Ok(items.into_iter().map(|(_, item)| item).collect())
}
