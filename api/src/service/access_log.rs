//! The access log of residents' personal data: written once per answer
//! that carried a resident's address, phone or ID number, read by
//! managers per resident. Never edited through the API.

use entity::resident_access::{self, Entity as AccessLog};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    Statement,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::now;
use super::paging::{self, PageRequest};
use crate::auth::AuthUser;
use crate::error::{AppError, AppResult};

/// Most rows one statement carries (6 values each: far inside SQLite's
/// and PostgreSQL's limits on bound values).
const MAX_ROWS_PER_STATEMENT: usize = 2_000;

struct Pending {
    rows: Vec<resident_access::Model>,
    written: oneshot::Sender<Result<(), sea_orm::DbErr>>,
}

/// Writes entries with group commit: every answer waits until its own
/// entries are committed, but the answers waiting at the same moment share
/// one statement and one commit. On SQLite every write goes through one
/// connection, so one commit per answer would make every read of an
/// address wait in line behind the others' commits.
#[derive(Clone)]
pub struct AccessLogWriter {
    queue: mpsc::UnboundedSender<Pending>,
}

impl AccessLogWriter {
    /// Starts the writer task on `db`; it ends when the last writer handle
    /// is dropped.
    pub fn spawn(db: DatabaseConnection) -> Self {
        let (queue, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(db, receiver));
        Self { queue }
    }

    /// Records that `actor` received the personal data of `residents`
    /// through `route`; returns once the entries are committed.
    pub async fn record(&self, actor: &AuthUser, route: &str, residents: &[Uuid]) -> AppResult<()> {
        let rows = entries(actor, route, residents);
        if rows.is_empty() {
            return Ok(());
        }
        let (written, done) = oneshot::channel();
        self.queue
            .send(Pending { rows, written })
            .map_err(|_| AppError::internal("access log writer stopped"))?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(cause)) => Err(AppError::context("access log", cause)),
            Err(_) => Err(AppError::internal("access log writer stopped")),
        }
    }
}

/// One row per resident (each once), all stamped now.
fn entries(actor: &AuthUser, route: &str, residents: &[Uuid]) -> Vec<resident_access::Model> {
    let mut residents = residents.to_vec();
    residents.sort_unstable();
    residents.dedup();
    let at = now();
    residents
        .into_iter()
        .map(|resident_id| resident_access::Model {
            id: Uuid::now_v7(),
            resident_id,
            actor_id: actor.id,
            actor_role: actor.role,
            route: route.into(),
            accessed_at: at,
        })
        .collect()
}

/// One statement for any number of rows. PostgreSQL gets them as one JSON
/// parameter, so the statement's text is the same whatever the batch and
/// is prepared once; a multi-row `VALUES` list would be a new statement,
/// parsed and planned anew, for every batch size. SQLite prepares
/// statements cheaply and takes the plain multi-row insert.
async fn insert(db: &DatabaseConnection, rows: Vec<resident_access::Model>) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        let rows = rows.into_iter().map(resident_access::ActiveModel::from);
        AccessLog::insert_many(rows).exec(db).await?;
        return Ok(());
    }
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            serde_json::json!({
                "id": row.id, "resident_id": row.resident_id, "actor_id": row.actor_id,
                "actor_role": row.actor_role, "route": row.route, "accessed_at": row.accessed_at,
            })
        })
        .collect();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO resident_access_log (id, resident_id, actor_id, actor_role, route, accessed_at) \
         SELECT id, resident_id, actor_id, actor_role, route, accessed_at \
         FROM json_to_recordset($1::json) AS r(id uuid, resident_id uuid, actor_id uuid, \
         actor_role text, route text, accessed_at bigint)",
        [serde_json::Value::Array(json).to_string().into()],
    ))
    .await?;
    Ok(())
}

async fn write_batches(db: DatabaseConnection, mut receiver: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        let mut rows = batch[0].rows.len();
        while rows < MAX_ROWS_PER_STATEMENT {
            match receiver.try_recv() {
                Ok(next) => {
                    rows += next.rows.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let (rows, waiting): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|p| (p.rows, p.written)).unzip();
        let outcome = insert(&db, rows.into_iter().flatten().collect()).await;
        if let Err(cause) = &outcome {
            tracing::error!(%cause, "access log entries not written; their answers fail");
        }
        for written in waiting {
            let _ = written.send(outcome.clone());
        }
    }
}

/// One resident's entries, newest first, each with the actor's name.
pub async fn for_resident(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    page: PageRequest,
) -> AppResult<(
    Vec<(resident_access::Model, Option<String>)>,
    Option<String>,
)> {
    let query = AccessLog::find().filter(resident_access::Column::ResidentId.eq(resident_id));
    let (rows, next_cursor) =
        paging::newest_first(db, query, resident_access::Column::Id, page, |r| r.id).await?;
    let mut actors: Vec<Uuid> = rows.iter().map(|r| r.actor_id).collect();
    actors.sort_unstable();
    actors.dedup();
    let names = super::accounts::names_of(db, actors).await?;
    let rows = rows
        .into_iter()
        .map(|row| {
            let name = names.get(&row.actor_id).cloned();
            (row, name)
        })
        .collect();
    Ok((rows, next_cursor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::vocab::Role;
    use sea_orm::PaginatorTrait;

    #[tokio::test]
    async fn answers_at_the_same_moment_are_all_written_and_each_waits_for_its_own() {
        let db = crate::startup::connect("sqlite::memory:").await.unwrap();
        let writer = AccessLogWriter::spawn(db.clone());
        let actor = AuthUser {
            id: Uuid::now_v7(),
            role: Role::Caseworker,
        };
        let resident = Uuid::now_v7();
        let answers = (0..50).map(|i| {
            let writer = writer.clone();
            let actor = actor.clone();
            async move {
                let residents = if i % 2 == 0 {
                    vec![resident, resident]
                } else {
                    vec![resident, Uuid::now_v7()]
                };
                writer
                    .record(&actor, "GET /api/v1/requests", &residents)
                    .await
            }
        });
        for outcome in futures::future::join_all(answers).await {
            outcome.unwrap();
        }
        // 25 answers of one resident (once each) and 25 of two.
        assert_eq!(AccessLog::find().count(&db).await.unwrap(), 75);
        let (mine, _) = for_resident(
            &db,
            resident,
            PageRequest {
                limit: 100,
                after: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(mine.len(), 50);
    }
}
