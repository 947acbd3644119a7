//! Base64 (RFC 4648): standard, for HTTP Basic credentials, and URL-safe
//! without padding, for JSON Web Tokens. No I/O.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// URL-safe alphabet, no padding.
pub fn encode_url(input: &[u8]) -> String {
    encode(input)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

pub fn decode_url(input: &str) -> Option<Vec<u8>> {
    if input.contains(['+', '/', '=']) {
        return None;
    }
    decode(&input.replace('-', "+").replace('_', "/"))
}

pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn decode(input: &str) -> Option<Vec<u8>> {
    let s = input.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        for s in ["", "a", "ab", "abc", "admin:secret pw"] {
            assert_eq!(
                super::decode(&super::encode(s.as_bytes())).unwrap(),
                s.as_bytes()
            );
        }
        assert_eq!(super::encode(b"admin:pw"), "YWRtaW46cHc=");
        assert!(super::decode("!!").is_none());
    }
}
