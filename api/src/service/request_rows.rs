//! Requests read with their resident in one query and decoded by column
//! position (issue 11). SeaORM's `find_also_related` names every column
//! `A_…`/`B_…` and looks each one up by name in every row (a `format!`
//! and a search per column, ~35 per row); here the columns come in the
//! models' field order and are taken by index.

use chrono::NaiveDate;
use entity::help_request::{self, Entity as Requests};
use entity::resident::{self, Entity as Residents};
use entity::signup::{self, Entity as Signups};
use entity::team_member::{self, Entity as Members};
use entity::user::{self, Entity as Users};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, Iterable, QueryResult, TryGetable};
use uuid::Uuid;

use crate::domain::vocab::{MemberStatus, SignupStatus};
use crate::error::{AppError, AppResult};

/// A request, its resident (`None` for a community activity), and — when
/// asked for with [`with_signed_up`] / [`with_in_team`] — what the reader
/// has to do with it.
pub struct RequestRow {
    pub request: help_request::Model,
    pub resident: Option<resident::Model>,
    /// The reader signed up for it.
    pub signed_up: bool,
    /// It is assigned to one of the reader's teams (active membership).
    pub in_team: bool,
    /// The reader's `vetted_until` (read with [`with_signed_up`]): with
    /// `signed_up`, what decides whether they see the resident's address.
    pub reader_vetted_until: Option<NaiveDate>,
}

/// `SELECT <request columns>, <resident columns> FROM help_requests LEFT
/// JOIN residents`: filters, order and limit are the caller's.
pub fn select() -> SelectStatement {
    Query::select()
        .columns(help_request::Column::iter().map(|c| (Requests, c)))
        .columns(resident::Column::iter().map(|c| (Residents, c)))
        .from(Requests)
        .left_join(
            Residents,
            Expr::col((Residents, resident::Column::Id))
                .equals((Requests, help_request::Column::ResidentId)),
        )
        .to_owned()
}

/// Which reader flags a query built on [`select`] adds, in this order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flags {
    None,
    /// [`with_signed_up`] (two columns).
    SignedUp,
    /// [`with_signed_up`], then [`with_in_team`].
    SignedUpInTeam,
}

/// Adds two columns to [`select`]: has `reader` signed up for the row's
/// request — an indexed `EXISTS` (`signups (volunteer_id, request_id)`),
/// so a volunteer's page needs no second query for their sign-ups — and
/// the reader's `vetted_until`, a subquery on the primary key that does
/// not depend on the row (so the database evaluates it once), for the
/// read-time vetting rule.
pub fn with_signed_up(query: &mut SelectStatement, reader: Uuid) {
    let signed_up = Query::select()
        .expr(Expr::val(1))
        .from(Signups)
        .and_where(
            Expr::col((Signups, signup::Column::RequestId))
                .equals((Requests, help_request::Column::Id)),
        )
        .and_where(signup::Column::VolunteerId.eq(reader))
        // A withdrawn sign-up is kept as history, and holds nothing.
        .and_where(signup::Column::Status.is_in(SignupStatus::HOLDING))
        .to_owned();
    query.expr(Expr::exists(signed_up));
    let vetted_until = Query::select()
        .column((Users, user::Column::VettedUntil))
        .from(Users)
        .and_where(Expr::col((Users, user::Column::Id)).eq(reader))
        .to_owned();
    query.expr(Expr::SubQuery(None, Box::new(vetted_until.into())));
}

/// Adds a column to [`select`] (after [`with_signed_up`]'s): is the row's
/// request assigned to one of `reader`'s teams (active membership).
pub fn with_in_team(query: &mut SelectStatement, reader: Uuid) {
    let in_team = Query::select()
        .expr(Expr::val(1))
        .from(Members)
        .and_where(
            Expr::col((Members, team_member::Column::TeamId))
                .equals((Requests, help_request::Column::TeamId)),
        )
        .and_where(team_member::Column::UserId.eq(reader))
        .and_where(team_member::Column::Status.eq(MemberStatus::Active))
        .to_owned();
    query.expr(Expr::exists(in_team));
}

/// Runs a query built on [`select`] with `flags` added.
pub async fn all(
    db: &impl ConnectionTrait,
    query: &SelectStatement,
    flags: Flags,
) -> AppResult<Vec<RequestRow>> {
    db.query_all(query)
        .await?
        .iter()
        .map(|row| decode(row, flags))
        .collect()
}

/// [`all`] for at most one row.
pub async fn one(
    db: &impl ConnectionTrait,
    query: &SelectStatement,
    flags: Flags,
) -> AppResult<Option<RequestRow>> {
    db.query_one(query)
        .await?
        .map(|row| decode(&row, flags))
        .transpose()
}

const RESIDENT_COLUMNS: usize = 14;

/// Takes the row's values in order.
struct Columns<'a> {
    row: &'a QueryResult,
    at: usize,
}

impl Columns<'_> {
    fn next<T: TryGetable>(&mut self) -> Result<T, DbErr> {
        let value = self.row.try_get_by_index(self.at);
        self.at += 1;
        value
    }
}

fn decode(row: &QueryResult, flags: Flags) -> AppResult<RequestRow> {
    let mut columns = Columns { row, at: 0 };
    let request = request(&mut columns)?;
    let resident = resident(&mut columns)?;
    // A request that names a resident has one (a foreign key), so a
    // missing one is a broken database, not a 404.
    if request.resident_id.is_some() && resident.is_none() {
        return Err(AppError::internal("request without resident"));
    }
    let (signed_up, reader_vetted_until) = if flags == Flags::None {
        (false, None)
    } else {
        (
            columns.next::<bool>()?,
            columns.next::<Option<NaiveDate>>()?,
        )
    };
    let in_team = flags == Flags::SignedUpInTeam && columns.next::<bool>()?;
    Ok(RequestRow {
        request,
        resident,
        signed_up,
        in_team,
        reader_vetted_until,
    })
}

/// The fields in `help_request::Model`'s order, which is its `Column`
/// enum's order and so [`select`]'s (a struct literal's fields are
/// evaluated as written).
fn request(c: &mut Columns) -> Result<help_request::Model, DbErr> {
    Ok(help_request::Model {
        id: c.next()?,
        resident_id: c.next()?,
        caseworker_id: c.next()?,
        category: c.next()?,
        title: c.next()?,
        description: c.next()?,
        starts_at: c.next()?,
        ends_at: c.next()?,
        volunteers_needed: c.next()?,
        signups_count: c.next()?,
        urgency: c.next()?,
        status: c.next()?,
        team_id: c.next()?,
        created_at: c.next()?,
        updated_at: c.next()?,
        pairing_id: c.next()?,
        occurrence_at: c.next()?,
        campaign_id: c.next()?,
        location_lat: c.next()?,
        location_lng: c.next()?,
        address: c.next()?,
        reminder_sent_at: c.next()?,
        unfilled_sent_at: c.next()?,
        no_shows_settled_at: c.next()?,
    })
}

/// The resident's fields, or `None` when the join found none (all NULL).
fn resident(c: &mut Columns) -> Result<Option<resident::Model>, DbErr> {
    let Some(id) = c.next::<Option<Uuid>>()? else {
        c.at += RESIDENT_COLUMNS - 1;
        return Ok(None);
    };
    Ok(Some(resident::Model {
        id,
        name: c.next()?,
        category: c.next()?,
        phone: c.next()?,
        address: c.next()?,
        location_lat: c.next()?,
        location_lng: c.next()?,
        id_number_masked: c.next()?,
        guardian_name: c.next()?,
        guardian_phone: c.next()?,
        notes: c.next()?,
        created_by: c.next()?,
        created_at: c.next()?,
        active: c.next()?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::IdenStatic;

    /// The decoders take as many columns as [`select`] lists, in the
    /// same order (a new column in either model fails here first).
    #[test]
    fn the_decoders_follow_the_models_columns() {
        assert_eq!(help_request::Column::iter().count(), 24);
        assert_eq!(resident::Column::iter().count(), RESIDENT_COLUMNS);
        let names: Vec<String> = help_request::Column::iter()
            .map(|c| c.as_str().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "id",
                "resident_id",
                "caseworker_id",
                "category",
                "title",
                "description",
                "starts_at",
                "ends_at",
                "volunteers_needed",
                "signups_count",
                "urgency",
                "status",
                "team_id",
                "created_at",
                "updated_at",
                "pairing_id",
                "occurrence_at",
                "campaign_id",
                "location_lat",
                "location_lng",
                "address",
                "reminder_sent_at",
                "unfilled_sent_at",
                "no_shows_settled_at",
            ]
        );
        let names: Vec<String> = resident::Column::iter()
            .map(|c| c.as_str().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "id",
                "name",
                "category",
                "phone",
                "address",
                "location_lat",
                "location_lng",
                "id_number_masked",
                "guardian_name",
                "guardian_phone",
                "notes",
                "created_by",
                "created_at",
                "active",
            ]
        );
    }
}
