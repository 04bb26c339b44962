//! A minimal reproduction, for sqlx upstream, of why `pool_guard` exists.
//!
//! When SQLite rolls a transaction back by itself (disk full, I/O error,
//! or here `INSERT OR ROLLBACK`), sqlx's own `ROLLBACK` on drop fails ("no
//! transaction is active") and its transaction depth stays at 1. The next
//! `begin` then issues `SAVEPOINT`, its rollback `ROLLBACK TO SAVEPOINT`
//! — which leaves SQLite inside a transaction — and from then on every
//! "commit" is a `RELEASE SAVEPOINT` inside a transaction that never
//! commits: writes succeed and nobody else ever sees them.
//!
//! ```sh
//! cargo run -p api --example sqlx_stale_transaction            # shows the loss
//! cargo run -p api --example sqlx_stale_transaction -- guarded # with api::pool_guard
//! ```

use std::error::Error;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sea_orm::sqlx::{self, Connection, SqliteConnection};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let guarded = std::env::args().any(|a| a == "guarded");
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("repro.db");
    let options = SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(true);
    let mut pool = SqlitePoolOptions::new().max_connections(1);
    if guarded {
        pool = pool.after_release(api::pool_guard::sqlite_after_release);
    }
    let pool = pool.connect_with(options.clone()).await?;
    sqlx::query("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        .execute(&pool)
        .await?;
    sqlx::query("INSERT INTO t VALUES (1)")
        .execute(&pool)
        .await?;

    // 1. SQLite rolls the whole transaction back on its own.
    let mut tx = pool.begin().await?;
    let refused = sqlx::query("INSERT OR ROLLBACK INTO t VALUES (1)")
        .execute(&mut *tx)
        .await;
    println!("statement refused: {}", refused.is_err());
    drop(tx);

    // 2. A transaction that fails and is rolled back.
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO t VALUES (2)")
        .execute(&mut *tx)
        .await?;
    drop(tx);

    // 3. A transaction that commits without error.
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO t VALUES (3)")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    println!("row 3 committed without error");

    let mut reader = SqliteConnection::connect_with(&options).await?;
    let seen: Option<i64> = sqlx::query_scalar("SELECT x FROM t WHERE x = 3")
        .fetch_optional(&mut reader)
        .await?;
    match seen {
        Some(_) => println!("another connection sees row 3: committed"),
        None => println!("another connection does NOT see row 3: the commit was lost"),
    }
    Ok(())
}
