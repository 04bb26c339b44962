//! `volunteer-service backup FILE` and `volunteer-service restore FILE` for
//! an SQLite database. A backup is a consistent copy taken while the
//! server keeps writing (`VACUUM INTO` reads one snapshot); a restore
//! refuses a database any process has open, and replaces its content in
//! one SQLite transaction. PostgreSQL has `pg_dump`/`pg_restore`
//! (`docs/operations.md`).

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode};
use sea_orm::sqlx::{self, Connection};

/// How long a backup waits for the server's writer to let it read.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The file of an SQLite `DATABASE_URL`; PostgreSQL and in-memory
/// databases have none.
pub fn sqlite_file(database_url: &str) -> Result<PathBuf, String> {
    if database_url.starts_with("postgres") {
        return Err(
            "DATABASE_URL is PostgreSQL: back up with pg_dump and restore with pg_restore \
             (see docs/operations.md, \"Backup and restore\")"
                .into(),
        );
    }
    let Some(rest) = database_url.strip_prefix("sqlite:") else {
        return Err("DATABASE_URL is neither SQLite nor PostgreSQL".into());
    };
    let path = rest
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Err("an in-memory SQLite database has no file to back up or restore".into());
    }
    Ok(PathBuf::from(path))
}

/// Writes a consistent copy of the database to `target`, which must not
/// exist yet. The copy is written beside `target` under another name and
/// renamed once checked, so `target` is never a half-written file.
pub async fn backup(database_url: &str, target: &Path) -> Result<u64, String> {
    let source = sqlite_file(database_url)?;
    if target.exists() {
        return Err(format!(
            "{} exists; a backup never overwrites",
            target.display()
        ));
    }
    let partial = partial_name(target);
    let _ = std::fs::remove_file(&partial);
    let mut conn = open(&source, false)
        .await
        .map_err(|e| format!("cannot open {}: {e}", source.display()))?;
    let written = sqlx::query("VACUUM INTO ?")
        .bind(partial.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("backup failed: {e}"));
    }
    if let Err(e) = check(&partial).await {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, target)
        .map_err(|e| format!("cannot name the backup {}: {e}", target.display()))?;
    std::fs::metadata(target)
        .map(|m| m.len())
        .map_err(|e| e.to_string())
}

/// Replaces the database's content with the backup `source`. Refused
/// while any process has the database open: the restore first takes
/// SQLite's exclusive lock without waiting, which a running server
/// (holding the database open in WAL mode, idle or not) prevents.
pub async fn restore(database_url: &str, source: &Path) -> Result<(), String> {
    let target = sqlite_file(database_url)?;
    check(source).await?;
    let options = SqliteConnectOptions::new()
        .filename(&target)
        .create_if_missing(true)
        .locking_mode(SqliteLockingMode::Exclusive)
        .busy_timeout(Duration::ZERO);
    let mut dest = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| in_use_or(&target, e))?;
    // In exclusive locking mode the lock taken here is kept after the
    // COMMIT, until this connection closes.
    sqlx::raw_sql("BEGIN EXCLUSIVE; COMMIT")
        .execute(&mut dest)
        .await
        .map_err(|e| in_use_or(&target, e))?;
    let mut src = open(source, true)
        .await
        .map_err(|e| format!("cannot open {}: {e}", source.display()))?;
    let copied = copy_pages(&mut src, &mut dest).await;
    let _ = src.close().await;
    let closed = dest.close().await;
    copied?;
    closed.map_err(|e| format!("closing the restored database: {e}"))
}

fn in_use_or(target: &Path, e: sqlx::Error) -> String {
    let text = e.to_string();
    if text.contains("locked") || text.contains("busy") {
        format!(
            "{} is in use (a server or another process has it open): stop it before restoring",
            target.display()
        )
    } else {
        format!("cannot open {}: {text}", target.display())
    }
}

/// SQLite's online backup API, from `src` into `dest`: every page in one
/// step, as one write transaction on `dest`.
async fn copy_pages(src: &mut SqliteConnection, dest: &mut SqliteConnection) -> Result<(), String> {
    let mut src = src.lock_handle().await.map_err(|e| e.to_string())?;
    let mut dest = dest.lock_handle().await.map_err(|e| e.to_string())?;
    let (src, dest) = (src.as_raw_handle().as_ptr(), dest.as_raw_handle().as_ptr());
    let main = c"main".as_ptr();
    // SAFETY: both handles are open connections locked for this task
    // until the guards above drop, after the backup has finished; the
    // backup object is finished before they are released.
    unsafe {
        let backup = libsqlite3_sys::sqlite3_backup_init(dest, main, src, main);
        if backup.is_null() {
            return Err(format!("restore failed: {}", message(dest)));
        }
        let stepped = libsqlite3_sys::sqlite3_backup_step(backup, -1);
        let finished = libsqlite3_sys::sqlite3_backup_finish(backup);
        if stepped != libsqlite3_sys::SQLITE_DONE || finished != libsqlite3_sys::SQLITE_OK {
            return Err(format!("restore failed: {}", message(dest)));
        }
    }
    Ok(())
}

/// SQLite's text for the last error of `db`.
///
/// # Safety
/// `db` is an open connection this task holds.
unsafe fn message(db: *mut libsqlite3_sys::sqlite3) -> String {
    // SAFETY: sqlite3_errmsg returns a NUL-terminated string owned by
    // `db`, valid until its next call; it is copied at once.
    unsafe { CStr::from_ptr(libsqlite3_sys::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned()
}

/// A backup is a whole database of this service: `integrity_check` says
/// ok and the migrations table is there.
async fn check(file: &Path) -> Result<(), String> {
    let mut conn = open(file, true)
        .await
        .map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    let verdict: Result<(String, i64), sqlx::Error> = async {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await?;
        let migrations: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'",
        )
        .fetch_one(&mut conn)
        .await?;
        Ok((integrity, migrations))
    }
    .await;
    let _ = conn.close().await;
    match verdict {
        Ok((integrity, 1)) if integrity == "ok" => Ok(()),
        Ok((integrity, 1)) => Err(format!(
            "{} fails SQLite's integrity check: {integrity}",
            file.display()
        )),
        Ok(_) => Err(format!(
            "{} is not a volunteer-service database",
            file.display()
        )),
        Err(e) => Err(format!("{} cannot be read: {e}", file.display())),
    }
}

async fn open(file: &Path, read_only: bool) -> Result<SqliteConnection, sqlx::Error> {
    let options = SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(false)
        .read_only(read_only)
        .busy_timeout(BUSY_TIMEOUT);
    SqliteConnection::connect_with(&options).await
}

fn partial_name(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_sqlite_file_can_be_backed_up_here() {
        assert_eq!(
            sqlite_file("sqlite://data/volunteer.db?mode=rwc").unwrap(),
            PathBuf::from("data/volunteer.db")
        );
        assert_eq!(
            sqlite_file("sqlite:///tmp/v.db").unwrap(),
            PathBuf::from("/tmp/v.db")
        );
        assert!(sqlite_file("sqlite::memory:").is_err());
        let pg = sqlite_file("postgres://u@h/db").unwrap_err();
        assert!(pg.contains("pg_dump"), "{pg}");
    }
}
