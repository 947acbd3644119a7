//! Entry points for fuzzing (`fuzz/` at the repository root) and for
//! replaying its corpora in the normal test suite. Not an API: hidden from
//! the docs and free to change with the fuzz targets. Must not be used by
//! the meta API.

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384, Sha512};

use crate::base64::{decode_url, encode_url};
use crate::jwt;

const SECRET: &str = "fuzz-secret";
const NOW: i64 = 1_700_000_000;

/// HMAC of `msg` under `key` with SHA-256, -384 and -512 (the three `alg`s).
fn macs(key: &[u8], msg: &[u8]) -> [Vec<u8>; 3] {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let Ok(mut m) = <M as hmac::digest::KeyInit>::new_from_slice(key) else {
            return Vec::new();
        };
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    }
    [
        run::<Hmac<Sha256>>(key, msg),
        run::<Hmac<Sha384>>(key, msg),
        run::<Hmac<Sha512>>(key, msg),
    ]
}

/// A bearer token: checked as sent (its signature cannot be right), then
/// with its header and claims signed for real under HS256, HS384 and HS512,
/// so header and claims parsing are reached. A token accepted must carry an
/// `exp` after now, the answer is its `username` claim, and `verify_user`
/// accepts it exactly when that claim is not empty.
pub fn jwt_verify(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let _ = jwt::verify(SECRET, token, NOW);
    let Some((signing_input, _)) = token.rsplit_once('.') else {
        return;
    };
    for sig in macs(SECRET.as_bytes(), signing_input.as_bytes()) {
        let signed = format!("{signing_input}.{}", encode_url(&sig));
        let verdict = jwt::verify(SECRET, &signed, NOW);
        let user_verdict = jwt::verify_user(SECRET, &signed, NOW);
        match &verdict {
            Ok(user) => {
                let claims: serde_json::Value = signing_input
                    .split_once('.')
                    .and_then(|(_, p)| decode_url(p))
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or_else(|| panic!("accepted {signed:?} without readable claims"));
                assert!(
                    claims["exp"].as_f64().is_some_and(|exp| exp > NOW as f64),
                    "accepted {signed:?} without a future exp"
                );
                assert_eq!(user, claims["username"].as_str().unwrap_or_default());
                assert_eq!(
                    user_verdict.is_ok(),
                    !user.is_empty(),
                    "verify_user on {signed:?}"
                );
            }
            Err(_) => assert!(user_verdict.is_err(), "verify_user accepted {signed:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn fuzz_corpus_jwt_verify_replays() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/jwt_verify");
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()));
        let mut n = 0;
        for e in entries {
            let data = std::fs::read(e.expect("corpus entry").path()).expect("corpus file");
            super::jwt_verify(&data);
            n += 1;
        }
        assert!(n > 0, "corpus {} is empty", dir.display());
    }
}
