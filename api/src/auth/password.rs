//! Argon2id password hashes, computed off the async runtime, a bounded
//! number at a time.

use std::sync::OnceLock;

use tokio::sync::Semaphore;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{AppError, AppResult};

/// Bounds the Argon2 work of one process. Each hash takes 19 MiB and a
/// core for tens of milliseconds; a burst of logins or registrations
/// would otherwise take all memory and starve every other request. At
/// most `running` hashes run at once and `queued` more wait; anyone
/// beyond that is told 503 `busy` at once rather than left waiting.
pub struct HashGate {
    running: Semaphore,
    admitted: Semaphore,
}

impl HashGate {
    pub fn new(running: usize, queued: usize) -> Self {
        let running = running.max(1);
        Self {
            running: Semaphore::new(running),
            admitted: Semaphore::new(running + queued),
        }
    }

    /// Runs `work` when a slot is free, or refuses if the queue is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let _admitted = self.admitted.try_acquire().map_err(|_| AppError::Busy {
            retry_after_secs: 1,
        })?;
        let _running = self.running.acquire().await.map_err(AppError::internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(AppError::internal)?
    }
}

/// Hashes with Argon2id (19 MiB, 2 passes, 1 lane: OWASP's baseline).
pub async fn hash_password(gate: &HashGate, password: String) -> AppResult<String> {
    gate.run(move || hash_blocking(&password)).await
}

fn hash_blocking(password: &str) -> AppResult<String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(AppError::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(AppError::internal)
}

/// Checks a password against a stored hash. With no stored hash (unknown
/// phone) it checks against a dummy so both cases take the same time and
/// timing does not tell who is registered.
pub async fn verify_password(
    gate: &HashGate,
    password: String,
    stored: Option<String>,
) -> AppResult<bool> {
    gate.run(move || {
        let known = stored.is_some();
        let hash_text = match stored {
            Some(hash) => hash,
            None => dummy_hash()?.to_string(),
        };
        let hash = PasswordHash::new(&hash_text).map_err(AppError::internal)?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok();
        Ok(known && matches)
    })
    .await
}

fn dummy_hash() -> AppResult<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let hash = hash_blocking("dummy password that nobody has")?;
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let gate = HashGate::new(2, 2);
        let hash = hash_password(&gate, "correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password(&gate, "correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password(&gate, "wrong horse".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(
            !verify_password(&gate, "dummy password that nobody has".into(), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn past_the_queue_the_answer_is_busy() {
        let gate = std::sync::Arc::new(HashGate::new(1, 1));
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        let blocker = {
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.run(move || {
                    let _ = started.send(());
                    let _ = wait.blocking_recv();
                    Ok(())
                })
                .await
            })
        };
        running.await.unwrap();
        let queued = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(|| Ok(())).await })
        };
        tokio::task::yield_now().await;
        // One running, one queued: a third is refused at once.
        assert!(matches!(
            gate.run(|| Ok(())).await,
            Err(AppError::Busy { .. })
        ));
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        queued.await.unwrap().unwrap();
    }
}
