//! Keeps a connection whose transaction state is uncertain out of the
//! pool. After a failed `COMMIT` (disk full, I/O error, a lock held too
//! long) SQLite may or may not have rolled the transaction back itself;
//! sqlx then still counts a transaction on that connection, and its
//! `ROLLBACK` may fail ("no transaction is active"). Handed out again, the
//! connection runs every later "transaction" as a savepoint inside one
//! that never commits: writes answer 2xx and vanish at the next restart.
//!
//! The hook runs on every return to a pool, so it covers every
//! transaction — the service layer's, the workers', the migrations' —
//! without a call site having to remember it. A connection that sqlx or
//! the database itself says is still inside a transaction is closed (its
//! open transaction dies with it) and the pool opens a fresh one.

use futures::future::BoxFuture;
use sea_orm::sqlx::pool::PoolConnectionMetadata;
use sea_orm::sqlx::{self, Connection, PgConnection, SqliteConnection};

/// `after_release` for SQLite pools: keep the connection only when both
/// sqlx and SQLite (`sqlite3_get_autocommit`) say no transaction is open.
pub fn sqlite_after_release(
    conn: &mut SqliteConnection,
    _meta: PoolConnectionMetadata,
) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        // The rollback that dropping a failed transaction queued runs
        // first: commands reach the connection's worker in order.
        let counted = conn.is_in_transaction();
        let mut handle = conn.lock_handle().await?;
        // SAFETY: `lock_handle` gives this task the handle exclusively
        // until `handle` drops; sqlite3_get_autocommit only reads a flag
        // of that open connection.
        let autocommit =
            unsafe { libsqlite3_sys::sqlite3_get_autocommit(handle.as_raw_handle().as_ptr()) };
        Ok(keep(counted, autocommit != 0))
    })
}

/// `after_release` for PostgreSQL pools. sqlx queues the `ROLLBACK` of a
/// dropped transaction and sends it (with a ping) right after this hook,
/// closing the connection if that fails; a connection it still counts
/// inside a transaction is closed here.
pub fn postgres_after_release(
    conn: &mut PgConnection,
    _meta: PoolConnectionMetadata,
) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    let counted = conn.is_in_transaction();
    Box::pin(async move { Ok(keep(counted, true)) })
}

/// Whether a returned connection may be handed out again.
fn keep(sqlx_counts_a_transaction: bool, database_in_autocommit: bool) -> bool {
    if sqlx_counts_a_transaction || !database_in_autocommit {
        tracing::warn!(
            sqlx_counts_a_transaction,
            database_in_autocommit,
            "closing a database connection left inside a transaction"
        );
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_connection_outside_any_transaction_is_kept() {
        assert!(keep(false, true));
        assert!(!keep(true, true), "sqlx still counts a transaction");
        assert!(!keep(false, false), "SQLite is inside a transaction");
        assert!(!keep(true, false));
    }
}
