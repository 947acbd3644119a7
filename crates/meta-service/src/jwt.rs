//! JSON Web Tokens signed with a shared secret (HS256 / HS512), as
//! `influxd-ctl -auth-type jwt -secret S` sends them and a meta node with
//! `[meta] shared-secret` accepts them: claims `username` and `exp` (Unix
//! seconds). HMAC is computed here over `sha2`. No I/O.

use crate::base64::{decode_url, encode_url};
use sha2::{Digest, Sha256, Sha512};

fn hmac<D: Digest>(block: usize, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > block {
        D::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(block, 0);
    let mut inner = D::new();
    inner.update(k.iter().map(|b| b ^ 0x36).collect::<Vec<u8>>());
    inner.update(msg);
    let inner = inner.finalize();
    let mut outer = D::new();
    outer.update(k.iter().map(|b| b ^ 0x5c).collect::<Vec<u8>>());
    outer.update(inner);
    outer.finalize().to_vec()
}

pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    hmac::<Sha256>(64, key, msg)
}

pub fn hmac_sha512(key: &[u8], msg: &[u8]) -> Vec<u8> {
    hmac::<Sha512>(128, key, msg)
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

/// Checks a token's signature and expiry; answers its `username` claim.
/// Errors are the texts InfluxDB answers with.
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
    let signing_input = format!("{h}.{p}");
    let expected = match header["alg"].as_str() {
        Some("HS256") => hmac_sha256(secret.as_bytes(), signing_input.as_bytes()),
        Some("HS512") => hmac_sha512(secret.as_bytes(), signing_input.as_bytes()),
        _ => return Err("signing method (alg) is unavailable.".into()),
    };
    let sig = decode_url(s).ok_or("signature is invalid")?;
    // Compare without an early exit.
    if sig.len() != expected.len()
        || sig
            .iter()
            .zip(&expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
    {
        return Err("signature is invalid".into());
    }
    let claims: serde_json::Value = decode_url(p)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("illegal base64 data in token claims")?;
    match claims["exp"].as_i64() {
        Some(exp) if exp > now => {}
        Some(_) => return Err("token is expired".into()),
        None => return Err("token expiration required".into()),
    }
    Ok(claims["username"].as_str().unwrap_or_default().to_string())
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
}
