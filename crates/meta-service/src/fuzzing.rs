//! Entry points for fuzzing (`fuzz/` at the repository root) and for
//! replaying its corpora in the normal test suite. Not an API: hidden from
//! the docs and free to change with the fuzz targets. Must not be used by
//! the meta API.

use crate::base64::{decode_url, encode_url};
use crate::jwt;

const SECRET: &str = "fuzz-secret";
const NOW: i64 = 1_700_000_000;

/// A bearer token: checked as sent (its signature cannot be right), then
/// with its header and claims signed for real under HS256 and HS512, so
/// header and claims parsing are reached. A token accepted must carry an
/// `exp` after now, and the answer is its `username` claim.
pub fn jwt_verify(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let _ = jwt::verify(SECRET, token, NOW);
    let Some((signing_input, _)) = token.rsplit_once('.') else {
        return;
    };
    for mac in [jwt::hmac_sha256, jwt::hmac_sha512] {
        let sig = encode_url(&mac(SECRET.as_bytes(), signing_input.as_bytes()));
        let signed = format!("{signing_input}.{sig}");
        if let Ok(user) = jwt::verify(SECRET, &signed, NOW) {
            let claims: serde_json::Value = signing_input
                .split_once('.')
                .and_then(|(_, p)| decode_url(p))
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_else(|| panic!("accepted {signed:?} without readable claims"));
            assert!(
                claims["exp"].as_i64().is_some_and(|exp| exp > NOW),
                "accepted {signed:?} without a future exp"
            );
            assert_eq!(user, claims["username"].as_str().unwrap_or_default());
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
