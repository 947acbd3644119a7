//! JSON Web Tokens signed with a shared secret (HS256 / HS384 / HS512), as
//! `influxd-ctl -auth-type jwt -secret S` sends them, a meta node with
//! `[meta] shared-secret` accepts them, and a data node with `[http]
//! shared-secret` accepts them as `Authorization: Bearer`: claims
//! `username` and `exp` (Unix seconds). The MAC is the RustCrypto `hmac`
//! crate over `sha2`, checked in constant time. Errors are the texts
//! InfluxDB answers with. No I/O.

use crate::base64::{decode_url, encode_url};
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384, Sha512};

/// The MAC of `msg` under `key` with the HMAC named by a JWT `alg`.
fn mac_for(alg: &str, key: &[u8], msg: &[u8]) -> Option<Vec<u8>> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Option<Vec<u8>> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).ok()?;
        m.update(msg);
        Some(m.finalize().into_bytes().to_vec())
    }
    match alg {
        "HS256" => run::<Hmac<Sha256>>(key, msg),
        "HS384" => run::<Hmac<Sha384>>(key, msg),
        "HS512" => run::<Hmac<Sha512>>(key, msg),
        _ => None,
    }
}

/// HMAC-SHA256 of `msg` under `key`.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    mac_for("HS256", key, msg).unwrap_or_default()
}

/// A HS256 token for `username` expiring at `exp` (Unix seconds).
pub fn sign(secret: &str, username: &str, exp: i64) -> String {
    let header = encode_url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({ "username": username, "exp": exp }).to_string();
    let payload = encode_url(claims.as_bytes());
    let signing_input = format!("{header}.{payload}");
    let sig = encode_url(&hmac_sha256(secret.as_bytes(), signing_input.as_bytes()));
    format!("{signing_input}.{sig}")
}

/// Checks a token's signature and expiry at `now` (Unix seconds); answers
/// its `username` claim (empty when absent). Errors are InfluxDB's texts.
/// Total on any input: it never panics (a fuzz target).
pub fn verify(secret: &str, token: &str, now: i64) -> Result<String, String> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("token contains an invalid number of segments".into());
    };
    let header: serde_json::Value = decode_url(h)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("illegal base64 data in token header")?;
    let alg = header["alg"].as_str().unwrap_or_default();
    let signing_input = &token[..h.len() + 1 + p.len()];
    let sig = decode_url(s).ok_or("signature is invalid")?;
    let key = secret.as_bytes();
    let ok = match alg {
        "HS256" => Hmac::<Sha256>::new_from_slice(key).map(|m| check(m, signing_input, &sig)),
        "HS384" => Hmac::<Sha384>::new_from_slice(key).map(|m| check(m, signing_input, &sig)),
        "HS512" => Hmac::<Sha512>::new_from_slice(key).map(|m| check(m, signing_input, &sig)),
        _ => return Err("signing method (alg) is unavailable.".into()),
    };
    if ok != Ok(true) {
        return Err("signature is invalid".into());
    }
    let claims: serde_json::Value = decode_url(p)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("illegal base64 data in token claims")?;
    // Go's JSON numbers are floats: `exp` may be written either way.
    match claims["exp"].as_f64() {
        Some(exp) if exp > 0.0 && exp > now as f64 => {}
        Some(exp) if exp > 0.0 => return Err("token is expired".into()),
        _ => return Err("token expiration required".into()),
    }
    Ok(claims["username"].as_str().unwrap_or_default().to_string())
}

fn check<M: Mac>(mut m: M, signing_input: &str, sig: &[u8]) -> bool {
    m.update(signing_input.as_bytes());
    m.verify_slice(sig).is_ok()
}

/// [`verify`] plus the data node's rule that the token names a user
/// (InfluxDB's `token must contain a username`).
pub fn verify_user(secret: &str, token: &str, now: i64) -> Result<String, String> {
    let user = verify(secret, token, now)?;
    if user.is_empty() {
        return Err("token must contain a username".into());
    }
    Ok(user)
}

/// [`verify`] over raw bytes, for fuzzing: the secret is the first byte's
/// worth of bytes (at most 255), the token the rest (lossy UTF-8).
pub fn verify_bytes(input: &[u8], now: i64) -> Result<String, String> {
    let (n, rest) = input.split_first().unwrap_or((&0, &[]));
    let n = (*n as usize).min(rest.len());
    let (secret, token) = rest.split_at(n);
    verify(
        &String::from_utf8_lossy(secret),
        &String::from_utf8_lossy(token),
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signs_and_verifies() {
        let t = sign("s3cret", "admin", 2_000);
        assert_eq!(verify("s3cret", &t, 1_000).unwrap(), "admin");
        assert_eq!(verify("s3cret", &t, 3_000).unwrap_err(), "token is expired");
        assert_eq!(
            verify("other", &t, 1_000).unwrap_err(),
            "signature is invalid"
        );
        assert!(verify("s3cret", "a.b", 1_000).is_err());
        let mut forged = t.clone();
        forged.push('A');
        assert!(verify("s3cret", &forged, 1_000).is_err());
    }

    /// Tokens other implementations make: HS512 and HS384, a float `exp`,
    /// no `exp`, no username, and `alg: none`.
    #[test]
    fn jwt_algorithms_and_claims_as_influxdb_reads_them() {
        let make = |alg: &str, claims: &str, key: &str| {
            let h = encode_url(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
            let p = encode_url(claims.as_bytes());
            let input = format!("{h}.{p}");
            let sig = mac_for(alg, key.as_bytes(), input.as_bytes()).unwrap_or_default();
            format!("{input}.{}", encode_url(&sig))
        };
        for alg in ["HS256", "HS384", "HS512"] {
            let t = make(alg, r#"{"username":"bob","exp":2000.0}"#, "k");
            assert_eq!(verify("k", &t, 1_000).unwrap(), "bob", "{alg}");
            assert_eq!(verify_user("k", &t, 1_000).unwrap(), "bob");
        }
        let t = make("HS256", r#"{"username":"bob"}"#, "k");
        assert_eq!(verify("k", &t, 1).unwrap_err(), "token expiration required");
        let t = make("HS256", r#"{"exp":2000}"#, "k");
        assert_eq!(verify("k", &t, 1).unwrap(), "");
        assert_eq!(
            verify_user("k", &t, 1).unwrap_err(),
            "token must contain a username"
        );
        let t = make("none", r#"{"username":"bob","exp":2000}"#, "k");
        assert_eq!(
            verify("k", &t, 1).unwrap_err(),
            "signing method (alg) is unavailable."
        );
        assert!(verify_bytes(&[3, b'a', b'b'], 0).is_err());
        assert!(verify_bytes(&[], 0).is_err());
    }
}
