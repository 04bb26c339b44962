//! Answers of the hottest reads (`GET /requests/{id}`, `GET /requests`),
//! kept in memory while nothing has been written since.
//!
//! A volunteer's phone refreshes the same request and the same first page
//! over and over; each answer costs 1–4 queries. An answer here is the
//! exact body the handler produced for one caller (user and role) and one
//! URI, so authorisation and masking ran for that very caller: a cached
//! body never reaches anybody else.
//!
//! Validity is one counter, the *generation*. Every write bumps it, and an
//! entry counts only if it was loaded in the current generation:
//! - in this process, [`middleware`] bumps it after every request that may
//!   write (any method but GET, HEAD and OPTIONS), before its answer
//!   leaves, so a caller always reads their own writes;
//! - on PostgreSQL, triggers on the tables these views read (migration 5)
//!   `NOTIFY` at commit, and [`listen`] bumps it for every other process's
//!   write. Unless that channel is proven to work (a heartbeat echoed
//!   through it), nothing is served from memory, since another process's
//!   write could go unseen.
//!
//! Loads capture the generation *before* they read, so a load that raced
//! a write is stored under an old generation and never served.
//! Decisions (capacity, who may approve, …) never read from here: only
//! answers to GETs do.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header::ContentType};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::disclosure::{self, Discloses};
use crate::domain::vocab::Role;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The PostgreSQL channel migration 5's triggers notify on.
pub const CHANGES_CHANNEL: &str = "volunteer_service_changes";

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    user: Uuid,
    role: Role,
    /// Path and query, as sent.
    uri: String,
}

#[derive(Clone)]
struct Entry {
    generation: u64,
    body: Bytes,
    /// Residents whose personal data the body carries: a hit is logged
    /// like the answer it repeats (see `disclosure`).
    residents: Arc<[Uuid]>,
}

/// Weighs entries by their size, so the bound is on memory, not count.
#[derive(Clone)]
struct BodySize;

impl quick_cache::Weighter<Key, Entry> for BodySize {
    fn weight(&self, key: &Key, entry: &Entry) -> u64 {
        (key.uri.len() + entry.body.len() + entry.residents.len() * 16 + 64) as u64
    }
}

pub struct ReadCache {
    /// `None` when configured off (`READ_CACHE_MB=0`).
    entries: Option<quick_cache::sync::Cache<Key, Entry, BodySize>>,
    generation: AtomicU64,
    /// Whether every write that matters reaches [`ReadCache::invalidate`]:
    /// always on SQLite (one process per file); on PostgreSQL only while
    /// the listener's channel is proven by its heartbeat.
    live: AtomicBool,
}

/// What a lookup found, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Hit,
    Miss,
    /// Off, or not live.
    Bypass,
}

impl ReadCache {
    /// `max_bytes`: 0 turns the cache off. `live`: whether invalidation is
    /// complete from the start (see [`ReadCache::set_live`]).
    pub fn new(max_bytes: u64, live: bool) -> Self {
        let entries = (max_bytes > 0).then(|| {
            // The estimate only sizes the internal tables; the weight
            // bound is what limits memory.
            let estimated_items = (max_bytes / 8192).clamp(16, 1 << 20) as usize;
            quick_cache::sync::Cache::with_weighter(estimated_items, max_bytes, BodySize)
        });
        Self {
            entries,
            generation: AtomicU64::new(0),
            live: AtomicBool::new(live),
        }
    }

    /// Everything loaded so far is out of date.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// On PostgreSQL: whether the change listener's channel works. Either
    /// way the entries so far are retired, because notifications may have
    /// been missed.
    pub fn set_live(&self, live: bool) {
        self.invalidate();
        self.live.store(live, Ordering::SeqCst);
    }

    /// The current generation while every write that matters reaches
    /// [`ReadCache::invalidate`], whether or not answers are kept: the
    /// account cache (`auth::standing`) follows the same generations.
    pub fn live_generation(&self) -> Option<u64> {
        self.live
            .load(Ordering::SeqCst)
            .then(|| self.generation.load(Ordering::SeqCst))
    }

    /// The generation a load about to start belongs to; `None` when its
    /// answer must not be kept.
    fn current(&self) -> Option<u64> {
        (self.entries.is_some() && self.live.load(Ordering::SeqCst))
            .then(|| self.generation.load(Ordering::SeqCst))
    }

    fn get(&self, key: &Key) -> (Lookup, Option<Entry>) {
        let (Some(entries), Some(generation)) = (&self.entries, self.current()) else {
            return (Lookup::Bypass, None);
        };
        match entries.get(key) {
            Some(entry) if entry.generation == generation => (Lookup::Hit, Some(entry)),
            _ => (Lookup::Miss, None),
        }
    }

    fn put(&self, key: Key, entry: Entry) {
        if let Some(entries) = &self.entries {
            entries.insert(key, entry);
        }
    }
}

/// The JSON answer of `load` for this caller and URI: from memory when
/// nothing was written since it was loaded, else loaded (and kept if it
/// succeeded). Errors are never kept. Either way an answer carrying
/// residents' personal data is logged first (`disclosure`).
pub async fn json<T, F>(
    state: &AppState,
    caller: &AuthUser,
    req: &HttpRequest,
    load: impl FnOnce() -> F,
) -> AppResult<HttpResponse>
where
    T: Serialize + Discloses,
    F: Future<Output = AppResult<T>>,
{
    let cache = &state.read_cache;
    let key = Key {
        user: caller.id,
        role: caller.role,
        uri: req
            .uri()
            .path_and_query()
            .map_or_else(String::new, |p| p.as_str().to_string()),
    };
    let (lookup, found) = cache.get(&key);
    state.metrics.read_cache_lookup(lookup);
    if let Some(entry) = found {
        disclosure::log_residents(state, req, caller, &entry.residents).await?;
        return Ok(ok_json(entry.body));
    }
    let generation = cache.current();
    let value = load().await?;
    let residents: Arc<[Uuid]> = value.residents().into();
    disclosure::log_residents(state, req, caller, &residents).await?;
    let body =
        Bytes::from(serde_json::to_vec(&value).map_err(|e| AppError::internal(e.to_string()))?);
    if let Some(generation) = generation {
        let entry = Entry {
            generation,
            body: body.clone(),
            residents,
        };
        cache.put(key, entry);
    }
    Ok(ok_json(body))
}

fn ok_json(body: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body)
}

/// Bumps the generation after every request that may have written,
/// whatever its outcome, before its answer goes out.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let may_write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let state = may_write
        .then(|| req.app_data::<web::Data<AppState>>().cloned())
        .flatten();
    let result = next.call(req).await;
    if let Some(state) = state {
        state.read_cache.invalidate();
    }
    result.map(ServiceResponse::map_into_boxed_body)
}

/// PostgreSQL: keeps a connection listening on [`CHANGES_CHANNEL`] and
/// bumps the generation for every notification — other processes' writes
/// (and this one's again, harmlessly). The cache is live only while the
/// channel is proven to work end to end: after connecting, and whenever
/// the connection has been quiet for a few seconds, the listener notifies
/// itself and must hear the echo. A connection that died silently, or a
/// pooler that does not pass notifications on, thus turns the cache off
/// rather than leaving it deaf. After a failure it reconnects every second.
pub async fn listen(database_url: String, cache: std::sync::Arc<ReadCache>) {
    loop {
        if let Err(err) = follow_changes(&database_url, &cache).await {
            tracing::warn!(%err, "read cache: change listener lost; reads go to the database");
        }
        cache.set_live(false);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// How long the channel may stay quiet before it is checked, and how long
/// the check may take.
const QUIET: Duration = Duration::from_secs(5);

async fn follow_changes(database_url: &str, cache: &ReadCache) -> Result<(), String> {
    use sea_orm::sqlx::postgres::PgListener;
    let mut listener = PgListener::connect(database_url)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    listener.eager_reconnect(false);
    listener
        .listen(CHANGES_CHANNEL)
        .await
        .map_err(|e| format!("LISTEN: {e}"))?;
    let heartbeat = format!("heartbeat {}", Uuid::now_v7());
    echo(&mut listener, &heartbeat, cache).await?;
    cache.set_live(true);
    tracing::debug!("read cache: following other processes' writes");
    loop {
        match tokio::time::timeout(QUIET, listener.try_recv()).await {
            Ok(Ok(Some(note))) => {
                if note.payload() != heartbeat {
                    cache.invalidate();
                }
            }
            Ok(Ok(None)) => return Err("connection lost".into()),
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_quiet) => echo(&mut listener, &heartbeat, cache).await?,
        }
    }
}

/// Sends `heartbeat` on the channel and waits for it to come back,
/// retiring the cache for any change heard meanwhile.
async fn echo(
    listener: &mut sea_orm::sqlx::postgres::PgListener,
    heartbeat: &str,
    cache: &ReadCache,
) -> Result<(), String> {
    let waited = async {
        sea_orm::sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANGES_CHANNEL)
            .bind(heartbeat)
            .execute(&mut *listener)
            .await
            .map_err(|e| format!("NOTIFY: {e}"))?;
        loop {
            match listener.try_recv().await {
                Ok(Some(note)) if note.payload() == heartbeat => return Ok(()),
                Ok(Some(_)) => cache.invalidate(),
                Ok(None) => return Err("connection lost".to_string()),
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    tokio::time::timeout(QUIET, waited)
        .await
        .map_err(|_| "no echo of the heartbeat".to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(user: u128, uri: &str) -> Key {
        Key {
            user: Uuid::from_u128(user),
            role: Role::Volunteer,
            uri: uri.into(),
        }
    }

    fn cached(cache: &ReadCache, user: u128, uri: &str, body: &'static str) {
        let generation = cache.current().expect("live");
        cache.put(key(user, uri), entry(generation, body));
    }

    fn entry(generation: u64, body: &'static str) -> Entry {
        Entry {
            generation,
            body: Bytes::from_static(body.as_bytes()),
            residents: Arc::new([]),
        }
    }

    #[test]
    fn an_answer_is_kept_for_its_caller_and_uri_only() {
        let cache = ReadCache::new(1 << 20, true);
        cached(&cache, 1, "/api/v1/requests/x", "mine");
        assert_eq!(cache.get(&key(1, "/api/v1/requests/x")).0, Lookup::Hit);
        assert_eq!(cache.get(&key(2, "/api/v1/requests/x")).0, Lookup::Miss);
        assert_eq!(cache.get(&key(1, "/api/v1/requests/y")).0, Lookup::Miss);
        let other_role = Key {
            role: Role::Manager,
            ..key(1, "/api/v1/requests/x")
        };
        assert_eq!(cache.get(&other_role).0, Lookup::Miss);
    }

    #[test]
    fn any_write_retires_every_answer() {
        let cache = ReadCache::new(1 << 20, true);
        cached(&cache, 1, "/a", "a");
        cached(&cache, 2, "/b", "b");
        cache.invalidate();
        assert_eq!(cache.get(&key(1, "/a")).0, Lookup::Miss);
        assert_eq!(cache.get(&key(2, "/b")).0, Lookup::Miss);
    }

    #[test]
    fn a_load_that_raced_a_write_is_never_served() {
        let cache = ReadCache::new(1 << 20, true);
        // The load starts, a write commits and bumps, the load stores.
        let started_in = cache.current().unwrap();
        cache.invalidate();
        cache.put(key(1, "/a"), entry(started_in, "old"));
        assert_eq!(cache.get(&key(1, "/a")).0, Lookup::Miss);
    }

    #[test]
    fn nothing_is_served_while_writes_may_go_unseen() {
        let cache = ReadCache::new(1 << 20, true);
        cached(&cache, 1, "/a", "a");
        cache.set_live(false);
        assert_eq!(cache.get(&key(1, "/a")).0, Lookup::Bypass);
        assert_eq!(cache.current(), None);
        // Back online: what was kept before is out of date.
        cache.set_live(true);
        assert_eq!(cache.get(&key(1, "/a")).0, Lookup::Miss);
    }

    #[test]
    fn zero_bytes_turns_it_off() {
        let cache = ReadCache::new(0, true);
        assert_eq!(cache.current(), None);
        assert_eq!(cache.get(&key(1, "/a")).0, Lookup::Bypass);
    }

    #[test]
    fn memory_stays_within_the_bound() {
        let cache = ReadCache::new(64 * 1024, true);
        let body = Bytes::from(vec![b'x'; 1000]);
        let generation = cache.current().unwrap();
        for user in 0..1000 {
            let entry = Entry {
                generation,
                body: body.clone(),
                residents: Arc::new([]),
            };
            cache.put(key(user, "/a"), entry);
        }
        let entries = cache.entries.as_ref().unwrap();
        assert!(entries.weight() <= 64 * 1024, "{}", entries.weight());
        assert!(entries.len() < 1000);
    }
}
