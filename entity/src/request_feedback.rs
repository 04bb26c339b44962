use sea_orm::entity::prelude::*;

/// How the resident found a completed visit (回访): one per request.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request_feedback")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique: a second feedback for a request is refused by the database.
    pub request_id: Uuid,
    /// The caseworker or manager who recorded it.
    pub author_id: Uuid,
    /// 1 (very unhappy) to 5 (very satisfied).
    pub satisfaction: i32,
    pub comment: Option<String>,
    /// Something about the resident needs attention (`resident.concern`).
    pub concern: bool,
    pub concern_note: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
