//! The transactional outbox: `emit` runs inside the transaction of the
//! change that causes an event, writing the event and one pending delivery
//! per webhook that wants it. If the change rolls back, so does the event;
//! once it commits, the delivery worker will send it, restart or not.

use chrono::{DateTime, FixedOffset};
use entity::help_request;
use entity::outbox_event;
use entity::resident;
use entity::team::Entity as Teams;
use entity::user::Entity as Users;
use entity::webhook::{self, Entity as Webhooks};
use entity::webhook_delivery::{self, Entity as Deliveries};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::config::Settings;
use crate::domain::geo::Coordinates;
use crate::domain::matching::{self, RequestFacts, TeamFacts};
use crate::domain::notify::EventMessage;
use crate::domain::notify::message::may_hear_phones;
use crate::domain::phone::mask_phone;
use crate::domain::vocab::{DeliveryStatus, EventType};
use crate::error::{AppError, AppResult};
use crate::views::{RequestView, local_time};

/// What a message says, stored with the event. Built from the request as
/// a volunteer who is not signed up sees it: no address, phone, exact
/// location or ID number ever enters the outbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredMessage {
    pub occurred_at: DateTime<FixedOffset>,
    pub request_title: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub place: String,
    pub team_name: Option<String>,
    pub contact: Option<String>,
    pub detail: Option<String>,
    pub data: Value,
    /// WeCom @-mentions: the assigned team's leaders, or for a reminder
    /// the signed-up volunteers (volunteers' own numbers, never a
    /// resident's). Kept only in the event delivered to the team's own
    /// webhooks ([`may_hear_phones`]).
    #[serde(default)]
    pub mention_mobiles: Vec<String>,
    /// Lines of a message about no single request (see
    /// [`EventMessage::facts`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<(String, String)>,
}

impl StoredMessage {
    pub fn into_message(self, event_id: Uuid, event: EventType) -> EventMessage {
        EventMessage {
            event_id,
            event,
            occurred_at: self.occurred_at,
            request_title: self.request_title,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            place: self.place,
            team_name: self.team_name,
            contact: self.contact,
            detail: self.detail,
            mention_mobiles: self.mention_mobiles,
            data: self.data,
            facts: self.facts,
        }
    }
}

/// An event about a request.
pub struct RequestEvent<'a> {
    pub event: EventType,
    pub request: &'a help_request::Model,
    /// `None` for a community activity.
    pub resident: Option<&'a resident::Model>,
    /// The team the event concerns (the assigned team), if any.
    pub team_id: Option<Uuid>,
    /// One line specific to the event.
    pub detail: Option<String>,
    /// The object the event is about when it is not the request itself.
    pub data: Option<Value>,
}

pub async fn emit(
    db: &impl ConnectionTrait,
    settings: &Settings,
    event: RequestEvent<'_>,
) -> AppResult<()> {
    let hooks = Webhooks::find().all(db).await?;
    let mut targets = Vec::new();
    for hook in hooks {
        if wants(db, &hook, &event).await? {
            targets.push(hook);
        }
    }
    if targets.is_empty() {
        return Ok(());
    }
    let message = message_for(db, settings, &event).await?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    // Volunteers' phones go only to the team's own webhooks; any other
    // webhook gets the same event as its own row without them.
    let (with_phones, without): (Vec<_>, Vec<_>) = targets
        .into_iter()
        .partition(|hook| may_hear_phones(hook.team_id, event.team_id));
    let ids = |hooks: Vec<webhook::Model>| hooks.into_iter().map(|h| h.id).collect::<Vec<_>>();
    if message.mention_mobiles.is_empty() {
        let all = ids(with_phones.into_iter().chain(without).collect());
        return write_event(db, event.event, &message, all, now_ms).await;
    }
    write_event(db, event.event, &message, ids(with_phones), now_ms).await?;
    let unmentioned = StoredMessage {
        mention_mobiles: Vec::new(),
        ..message
    };
    write_event(db, event.event, &unmentioned, ids(without), now_ms).await
}

/// One event row and a pending delivery of it to each webhook; nothing
/// when there is no webhook.
async fn write_event(
    db: &impl ConnectionTrait,
    event: EventType,
    message: &StoredMessage,
    webhooks: Vec<Uuid>,
    now_ms: i64,
) -> AppResult<()> {
    if webhooks.is_empty() {
        return Ok(());
    }
    let event_id = Uuid::now_v7();
    outbox_event::ActiveModel {
        id: Set(event_id),
        event_type: Set(event),
        payload: Set(serde_json::to_string(message).map_err(AppError::internal)?),
        created_at: Set(now_ms),
    }
    .insert(db)
    .await?;
    for webhook_id in webhooks {
        enqueue(db, event_id, webhook_id, now_ms).await?;
    }
    Ok(())
}

/// An event about no single request (the monthly bulletin), to the
/// webhooks without a team that subscribed to it. `false` when none did:
/// nothing is written.
pub async fn emit_general(
    db: &impl ConnectionTrait,
    event: EventType,
    message: &StoredMessage,
) -> AppResult<bool> {
    let targets: Vec<Uuid> = Webhooks::find()
        .filter(webhook::Column::TeamId.is_null())
        .all(db)
        .await?
        .into_iter()
        .filter(|hook| hook.events.iter().any(|e| *e == event))
        .map(|hook| hook.id)
        .collect();
    if targets.is_empty() {
        return Ok(false);
    }
    // The real clock: the delivery worker compares with it.
    let now_ms = chrono::Utc::now().timestamp_millis();
    let event_id = Uuid::now_v7();
    outbox_event::ActiveModel {
        id: Set(event_id),
        event_type: Set(event),
        payload: Set(serde_json::to_string(message).map_err(AppError::internal)?),
        created_at: Set(now_ms),
    }
    .insert(db)
    .await?;
    for webhook_id in targets {
        enqueue(db, event_id, webhook_id, now_ms).await?;
    }
    Ok(true)
}

/// Whether a webhook without a team subscribed to `event`.
pub async fn has_general_subscriber(
    db: &impl ConnectionTrait,
    event: EventType,
) -> AppResult<bool> {
    Ok(Webhooks::find()
        .filter(webhook::Column::TeamId.is_null())
        .all(db)
        .await?
        .iter()
        .any(|hook| hook.events.iter().any(|e| *e == event)))
}

pub async fn enqueue(
    db: &impl ConnectionTrait,
    event_id: Uuid,
    webhook_id: Uuid,
    now_ms: i64,
) -> AppResult<()> {
    webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_id: Set(event_id),
        webhook_id: Set(webhook_id),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now_ms),
        lease_until: Set(None),
        last_attempt_at: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        created_at: Set(now_ms),
        delivered_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A webhook hears of an event it subscribed to; one with a team hears
/// only of that team's work — and of new requests the team matches.
async fn wants(
    db: &impl ConnectionTrait,
    hook: &webhook::Model,
    event: &RequestEvent<'_>,
) -> AppResult<bool> {
    if !hook.events.iter().any(|e| *e == event.event) {
        return Ok(false);
    }
    let Some(team_id) = hook.team_id else {
        return Ok(true);
    };
    if event.team_id == Some(team_id) {
        return Ok(true);
    }
    if event.event != EventType::RequestCreated {
        return Ok(false);
    }
    let Some(team) = Teams::find_by_id(team_id).one(db).await? else {
        return Ok(false);
    };
    let facts = RequestFacts {
        category: event.request.category,
        resident_category: event.resident.map(|r| r.category),
        resident_location: super::requests::place_of(event.request, event.resident)?,
        urgency: event.request.urgency,
        volunteers_needed: u32::try_from(event.request.volunteers_needed).unwrap_or(1),
    };
    let team_facts = TeamFacts {
        categories: team.service_categories.clone().into_vec(),
        location: Coordinates {
            lat: team.location_lat,
            lng: team.location_lng,
        },
        service_radius_km: team.service_radius_km,
        vetted: team.vetted,
    };
    Ok(matching::eligible(&facts, &team_facts).is_some())
}

async fn message_for(
    db: &impl ConnectionTrait,
    settings: &Settings,
    event: &RequestEvent<'_>,
) -> AppResult<StoredMessage> {
    let tz = settings.time_zone;
    let request = event.request;
    let team_name = match event.team_id.or(request.team_id) {
        Some(id) => Teams::find_by_id(id).one(db).await?.map(|t| t.name),
        None => None,
    };
    let contact = Users::find_by_id(request.caseworker_id)
        .one(db)
        .await?
        .map(|u| format!("{}（{}）", u.name, mask_phone(&u.phone)));
    let data = match &event.data {
        Some(data) => data.clone(),
        None => serde_json::to_value(RequestView::build(request, event.resident, false, tz))
            .map_err(AppError::internal)?,
    };
    let mention_mobiles = match (event.event, event.team_id) {
        (EventType::RequestAssigned, Some(team_id)) => leader_phones(db, team_id).await?,
        (EventType::SignupReminder, Some(_)) => signed_up_phones(db, request.id).await?,
        _ => Vec::new(),
    };
    Ok(StoredMessage {
        facts: Vec::new(),
        mention_mobiles,
        occurred_at: local_time(chrono::Utc::now().timestamp(), tz),
        request_title: request.title.clone(),
        starts_at: local_time(request.starts_at, tz),
        ends_at: local_time(request.ends_at, tz),
        place: crate::domain::notify::message::place(
            &settings.community_name,
            match event.resident {
                None => request.address.as_deref(),
                Some(_) => None,
            },
        ),
        team_name,
        contact,
        detail: event.detail.clone(),
        data,
    })
}

/// The team's leaders' mobiles, to @ them in a WeCom group.
async fn leader_phones(db: &impl ConnectionTrait, team_id: Uuid) -> AppResult<Vec<String>> {
    use entity::team_member::{self, Entity as Members};
    use sea_orm::{ColumnTrait, QueryFilter};
    let leaders: Vec<Uuid> = Members::find()
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::Role.eq(crate::domain::vocab::MemberRole::Leader))
        .filter(team_member::Column::Status.eq(crate::domain::vocab::MemberStatus::Active))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    if leaders.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Users::find()
        .filter(entity::user::Column::Id.is_in(leaders))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.phone)
        .collect())
}

/// The mobiles of the volunteers signed up for a request (not withdrawn,
/// not absent), to @ them in a WeCom group when it is about to start.
async fn signed_up_phones(db: &impl ConnectionTrait, request_id: Uuid) -> AppResult<Vec<String>> {
    use crate::domain::vocab::SignupStatus;
    use entity::signup::{self, Entity as Signups};
    let volunteers: Vec<Uuid> = Signups::find()
        .filter(signup::Column::RequestId.eq(request_id))
        .filter(signup::Column::Status.is_in([SignupStatus::SignedUp, SignupStatus::Attended]))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.volunteer_id)
        .collect();
    if volunteers.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Users::find()
        .filter(entity::user::Column::Id.is_in(volunteers))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.phone)
        .collect())
}

/// Deliveries waiting to be sent (the outbox depth) and deliveries that
/// failed for good, across all processes.
pub async fn depth(db: &DatabaseConnection) -> AppResult<(i64, i64)> {
    let count = |status: DeliveryStatus| {
        Deliveries::find()
            .filter(webhook_delivery::Column::Status.eq(status))
            .count(db)
    };
    let pending = count(DeliveryStatus::Pending).await?;
    let failed = count(DeliveryStatus::Failed).await?;
    Ok((pending as i64, failed as i64))
}
