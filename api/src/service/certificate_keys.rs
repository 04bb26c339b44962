//! The keys that sign certificates, decided in the database so that every
//! process signs with the same one: the highest generation signs, and a
//! new generation is claimed by inserting it under the unique
//! `generation` (the loser of a race reads the winner's key back). Every
//! row stays published until an admin withdraws it, so certificates
//! signed before a rotation still verify; withdrawing the signing key
//! rotates in the same transaction, so nothing is signed with it again.
//! Generated seeds are sealed with `SECRETS_KEY` when it is set, and the
//! ones stored in clear before it was set are sealed at start.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use entity::certificate_key::{self, Entity as Keys};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
    sea_query::{Expr, OnConflict},
};

use crate::config::Settings;
use crate::domain::certificate::CertificateSigner;
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::secrets::{self, SEALED_PREFIX, SecretsKey};

/// How often a start (or a rotation) retries after losing a race.
const ATTEMPTS: usize = 5;

async fn current(db: &impl ConnectionTrait) -> AppResult<Option<certificate_key::Model>> {
    Ok(Keys::find()
        .order_by_desc(certificate_key::Column::Generation)
        .one(db)
        .await?)
}

/// Every key not withdrawn, newest first: what
/// `/.well-known/certificate-keys` publishes.
pub async fn published(db: &impl ConnectionTrait) -> AppResult<Vec<certificate_key::Model>> {
    Ok(Keys::find()
        .filter(certificate_key::Column::WithdrawnAt.is_null())
        .order_by_desc(certificate_key::Column::Generation)
        .all(db)
        .await?)
}

/// Whether the key `kid` was withdrawn; a kid with no row is not.
pub async fn is_withdrawn(db: &impl ConnectionTrait, kid: &str) -> AppResult<bool> {
    let withdrawn_at: Option<Option<i64>> = Keys::find_by_id(kid.to_string())
        .select_only()
        .column(certificate_key::Column::WithdrawnAt)
        .into_tuple()
        .one(db)
        .await?;
    Ok(matches!(withdrawn_at, Some(Some(_))))
}

/// Makes sure a key exists that this process can sign with: the
/// operator's (`CERTIFICATE_SIGNING_KEY`) or, without one, the current
/// generated key (made on the very first start).
pub async fn ensure(db: &impl ConnectionTrait, settings: &Settings) -> AppResult<()> {
    for _ in 0..ATTEMPTS {
        let now_key = current(db).await?;
        let candidate = match settings.certificate_signing_key {
            Some(seed) => {
                let signer = CertificateSigner::from_seed(seed);
                if let Some(row) = Keys::find_by_id(signer.kid.clone()).one(db).await? {
                    // A leaked key given again by mistake must not sign:
                    // the start stops, naming the setting.
                    if row.withdrawn_at.is_some() {
                        return Err(AppError::internal(
                            "CERTIFICATE_SIGNING_KEY is a withdrawn key: give a new one",
                        ));
                    }
                    return Ok(());
                }
                (signer, None)
            }
            None => {
                if let Some(key) = &now_key
                    && key.sealed_seed.is_some()
                    && key.withdrawn_at.is_none()
                {
                    // Like an unreadable webhook secret, an unreadable key
                    // fails only what needs it (issuing), loudly, and
                    // leaves the rest of the service up.
                    if let Err(e) = open_seed(key, settings) {
                        tracing::error!(
                            error = %e,
                            "certificate signing key cannot be read: issuing certificates fails until SECRETS_KEY is the key it was sealed with"
                        );
                    }
                    return Ok(());
                }
                fresh(settings)
            }
        };
        let generation = now_key.map_or(1, |k| k.generation + 1);
        insert(db, candidate, generation, settings.now()).await?;
    }
    Err(AppError::internal(
        "certificate key: no agreement after retries",
    ))
}

/// A new generated key becomes the signing key; the old ones stay
/// published. Refused while the operator gives the key.
pub async fn rotate(db: &impl ConnectionTrait, settings: &Settings) -> AppResult<String> {
    if settings.certificate_signing_key.is_some() {
        return Err(AppError::conflict(
            "signing_key_from_settings",
            "签名密钥由 CERTIFICATE_SIGNING_KEY 给定：请更换该设置",
        ));
    }
    for _ in 0..ATTEMPTS {
        let generation = current(db).await?.map_or(1, |k| k.generation + 1);
        let (signer, sealed) = fresh(settings);
        let kid = signer.kid.clone();
        if insert(db, (signer, sealed), generation, settings.now()).await? {
            return Ok(kid);
        }
    }
    Err(AppError::internal(
        "certificate key rotation: no agreement after retries",
    ))
}

fn fresh(settings: &Settings) -> (CertificateSigner, Option<String>) {
    let seed: [u8; 32] = rand::random();
    let signer = CertificateSigner::from_seed(seed);
    let sealed = secrets::seal_optional(
        settings.secrets_key.as_ref(),
        &STANDARD.encode(seed),
        signer.kid.as_bytes(),
    );
    (signer, Some(sealed))
}

/// `true` when this row became generation `generation`; `false` when
/// another process claimed it first.
async fn insert(
    db: &impl ConnectionTrait,
    (signer, sealed_seed): (CertificateSigner, Option<String>),
    generation: i64,
    now: i64,
) -> AppResult<bool> {
    let row = certificate_key::ActiveModel {
        kid: Set(signer.kid.clone()),
        generation: Set(generation),
        public_key: Set(signer.public_x()),
        sealed_seed: Set(sealed_seed),
        created_at: Set(now),
        withdrawn_at: Set(None),
    };
    let inserted = Keys::insert(row)
        .on_conflict(
            OnConflict::column(certificate_key::Column::Generation)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await;
    match inserted {
        Ok(n) => Ok(n > 0),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn open_seed(key: &certificate_key::Model, settings: &Settings) -> AppResult<[u8; 32]> {
    let stored = key
        .sealed_seed
        .as_deref()
        .ok_or_else(|| AppError::internal("the signing key is the operator's, not stored"))?;
    let clear = secrets::reveal(settings.secrets_key.as_ref(), stored, key.kid.as_bytes())
        .map_err(|e| AppError::internal(format!("certificate key {}: {e}", key.kid)))?;
    let bytes = STANDARD
        .decode(clear)
        .map_err(|_| AppError::internal("certificate key: stored seed is not base64"))?;
    bytes
        .try_into()
        .map_err(|_| AppError::internal("certificate key: stored seed is not 32 bytes"))
}

/// The key to sign with now: the operator's, or the current generation.
pub async fn signer(
    db: &impl ConnectionTrait,
    settings: &Settings,
) -> AppResult<CertificateSigner> {
    if let Some(seed) = settings.certificate_signing_key {
        return Ok(CertificateSigner::from_seed(seed));
    }
    let mut key = current(db).await?;
    if key
        .as_ref()
        .is_none_or(|k| k.sealed_seed.is_none() || k.withdrawn_at.is_some())
    {
        // The operator's key was taken out of the settings since the
        // last start (or the current key was withdrawn without its
        // rotation): a generated one takes over.
        ensure(db, settings).await?;
        key = current(db).await?;
    }
    let key = key.ok_or_else(|| AppError::internal("no certificate signing key"))?;
    Ok(CertificateSigner::from_seed(open_seed(&key, settings)?))
}

/// What withdrawing a key came to.
#[derive(Debug, Clone)]
pub struct Withdrawal {
    pub kid: String,
    /// When it was first withdrawn (a repeated withdrawal changes nothing).
    pub withdrawn_at: i64,
    /// The key that signs from now on.
    pub signing_kid: String,
}

/// Withdraws a key: it leaves the published set and what it signed checks
/// as `key_withdrawn`. Withdrawing the signing key rotates in the same
/// transaction (a new generated key signs from then on). 404 for an
/// unknown kid; withdrawing again answers as the first time did; 409
/// `signing_key_from_settings` for the key `CERTIFICATE_SIGNING_KEY`
/// gives, which only a change of that setting can replace.
pub async fn withdraw(
    db: &DatabaseConnection,
    settings: &Settings,
    kid: &str,
) -> AppResult<Withdrawal> {
    let from_settings = settings
        .certificate_signing_key
        .map(|seed| CertificateSigner::from_seed(seed).kid);
    if from_settings.as_deref() == Some(kid) {
        return Err(AppError::conflict(
            "signing_key_from_settings",
            "该密钥由 CERTIFICATE_SIGNING_KEY 给定：请先更换该设置再撤回",
        ));
    }
    let now = settings.now();
    let txn = db.begin().await?;
    let row = Keys::find_by_id(kid.to_string())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let withdrawn_at = match row.withdrawn_at {
        Some(at) => at,
        None => {
            Keys::update_many()
                .col_expr(certificate_key::Column::WithdrawnAt, Expr::value(now))
                .filter(certificate_key::Column::Kid.eq(kid))
                .exec(&txn)
                .await?;
            now
        }
    };
    let newest = current(&txn).await?;
    if from_settings.is_none() && newest.as_ref().is_some_and(|k| k.kid == kid) {
        let generation = row.generation + 1;
        // A rotation racing this one may have claimed the generation: then
        // its key signs, which is just as good.
        insert(&txn, fresh(settings), generation, now).await?;
    }
    let signing_kid = match from_settings {
        Some(kid) => kid,
        None => current(&txn)
            .await?
            .map(|k| k.kid)
            .ok_or_else(|| AppError::internal("no certificate signing key"))?,
    };
    txn.commit().await?;
    Ok(Withdrawal {
        kid: kid.to_string(),
        withdrawn_at,
        signing_kid,
    })
}

/// Seals the generated seeds stored in clear before `SECRETS_KEY` was
/// set; returns how many. Like webhook secrets: each row is replaced only
/// if it still holds the clear value read, so processes starting together
/// seal it once.
pub async fn seal_clear_seeds(db: &impl ConnectionTrait, key: &SecretsKey) -> AppResult<u64> {
    let clear: Vec<(String, String)> = Keys::find()
        .select_only()
        .column(certificate_key::Column::Kid)
        .column(certificate_key::Column::SealedSeed)
        .filter(certificate_key::Column::SealedSeed.is_not_null())
        .filter(certificate_key::Column::SealedSeed.not_like(format!("{SEALED_PREFIX}%")))
        .into_tuple()
        .all(db)
        .await?;
    let mut sealed = 0;
    for (kid, seed) in clear {
        let done = Keys::update_many()
            .col_expr(
                certificate_key::Column::SealedSeed,
                Expr::value(key.seal(&seed, kid.as_bytes())),
            )
            .filter(certificate_key::Column::Kid.eq(kid.as_str()))
            .filter(certificate_key::Column::SealedSeed.eq(seed))
            .exec(db)
            .await?;
        sealed += done.rows_affected;
    }
    Ok(sealed)
}
