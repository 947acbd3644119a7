//! Password hashing and checking for users kept in the metadata. Hashes are
//! bcrypt, as in InfluxDB; because bcrypt is deliberately slow, successful
//! checks are remembered in a small cache keyed by a salted SHA-256 of the
//! password, so that a client sending credentials with every request does not
//! pay bcrypt every time.
//!
//! Hashing happens before a command is proposed — never inside the state
//! machine, which must stay cheap and deterministic.

use crate::data::Data;
use crate::error::{Error, Result};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// bcrypt cost InfluxDB uses.
pub const BCRYPT_COST: u32 = 10;
/// Upper bound on cached credential checks.
const MAX_CACHED_CREDENTIALS: usize = 4096;

/// Longest password bcrypt can hash without silently ignoring the rest.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// Hashes a new password. A password longer than bcrypt's 72 bytes is
/// refused with the error InfluxDB builds on current Go answer, instead of
/// being truncated silently (the old behaviour, where everything after byte
/// 72 was ignored at every login).
pub fn hash_password(password: &str) -> Result<String> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::PasswordTooLong);
    }
    // At 72 bytes bcrypt only drops the terminating NUL, as Go's does.
    bcrypt::hash(password, BCRYPT_COST).map_err(|e| Error::Storage(format!("hash password: {e}")))
}

/// A bcrypt hash of cost [`BCRYPT_COST`] checked against when the user does
/// not exist, so that an unknown user costs as much time as a wrong
/// password and names cannot be probed by timing (made once).
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| bcrypt::hash("tidemark-no-such-user", BCRYPT_COST).unwrap_or_default())
}

/// Remembers (user, hash) pairs whose password was verified.
#[derive(Default)]
pub struct CredentialCache {
    ok: Mutex<HashMap<(String, String), [u8; 32]>>,
}

fn digest(user_hash: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(user_hash.as_bytes());
    h.update([0u8]);
    h.update(password.as_bytes());
    h.finalize().into()
}

impl CredentialCache {
    /// Whether `password` was already verified for `user` (with the user's
    /// current hash): answers without running bcrypt, so a caller can let
    /// known-good credentials through while it rate-limits the expensive
    /// checks.
    pub fn is_verified(&self, data: &Data, user: &str, password: &str) -> bool {
        let Some(u) = data.user(user) else {
            return false;
        };
        let key = (u.name.clone(), u.hash.clone());
        self.ok.lock().get(&key) == Some(&digest(&u.hash, password))
    }

    /// Checks `user`/`password` against `data`. Errors are InfluxDB's texts:
    /// `authorization failed` for an unknown user or a wrong password.
    pub fn authenticate(&self, data: &Data, user: &str, password: &str) -> Result<(), AuthError> {
        let Some(u) = data.user(user) else {
            let _ = bcrypt::verify(password, dummy_hash());
            return Err(AuthError::AuthorizationFailed);
        };
        let key = (u.name.clone(), u.hash.clone());
        let d = digest(&u.hash, password);
        if self.ok.lock().get(&key) == Some(&d) {
            return Ok(());
        }
        // Longer than 72 bytes cannot be a password that was set (they are
        // refused), and must not match on its first 72 bytes.
        let checked = if password.len() > MAX_PASSWORD_BYTES {
            Ok(false)
        } else {
            bcrypt::verify(password, &u.hash)
        };
        match checked {
            Ok(true) => {
                let mut cache = self.ok.lock();
                if cache.len() >= MAX_CACHED_CREDENTIALS {
                    cache.clear();
                }
                cache.insert(key, d);
                Ok(())
            }
            _ => Err(AuthError::AuthorizationFailed),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("authorization failed")]
    AuthorizationFailed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{state_machine::apply, Command};

    #[test]
    fn l5_long_passwords_are_refused_not_truncated() {
        let long = "p".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(hash_password(&long), Err(Error::PasswordTooLong));
        assert_eq!(
            Error::PasswordTooLong.to_string(),
            "bcrypt: password length exceeds 72 bytes"
        );
        // A hash of the first 72 bytes does not accept the longer one.
        let mut data = Data::default();
        let hash = bcrypt::hash(&long[..MAX_PASSWORD_BYTES], 4).unwrap();
        apply(
            &mut data,
            Command::CreateUser {
                name: "u".into(),
                hash,
                admin: false,
            },
        )
        .unwrap();
        let c = CredentialCache::default();
        assert!(c
            .authenticate(&data, "u", &long[..MAX_PASSWORD_BYTES])
            .is_ok());
        assert!(c.authenticate(&data, "u", &long).is_err());
    }

    #[test]
    fn l5_unknown_users_cost_a_bcrypt_too() {
        let data = Data::default();
        let c = CredentialCache::default();
        // Warm the dummy hash, then an unknown user takes bcrypt time
        // (cost 10: tens of milliseconds), not microseconds.
        let _ = c.authenticate(&data, "nobody", "x");
        let t = std::time::Instant::now();
        assert!(c.authenticate(&data, "nobody", "x").is_err());
        assert!(
            t.elapsed() > std::time::Duration::from_millis(5),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn verifies_and_caches() {
        let mut data = Data::default();
        let hash = bcrypt::hash("secret", 4).unwrap();
        apply(
            &mut data,
            Command::CreateUser {
                name: "u".into(),
                hash,
                admin: true,
            },
        )
        .unwrap();
        let c = CredentialCache::default();
        assert!(!c.is_verified(&data, "u", "secret"));
        assert!(c.authenticate(&data, "u", "secret").is_ok());
        assert!(c.is_verified(&data, "u", "secret"));
        assert!(!c.is_verified(&data, "u", "wrong"));
        assert!(c.authenticate(&data, "u", "secret").is_ok());
        assert_eq!(
            c.authenticate(&data, "u", "wrong"),
            Err(AuthError::AuthorizationFailed)
        );
        assert_eq!(
            c.authenticate(&data, "nobody", "secret"),
            Err(AuthError::AuthorizationFailed)
        );
    }
}
