//! Base64 (RFC 4648) as the meta API needs it: standard, for HTTP Basic
//! credentials, and URL-safe without padding, for JSON Web Tokens — thin
//! wrappers over the `base64` crate (the data node's HTTP layer uses the same
//! crate). No I/O.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// Standard alphabet; decoding accepts input with or without padding and
/// non-canonical trailing bits, as lenient HTTP clients send them.
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// URL-safe alphabet, no padding.
pub fn encode_url(input: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(input)
}

/// URL-safe alphabet; padding and the standard alphabet's `+` and `/` are
/// refused.
pub fn decode_url(input: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(input).ok()
}

pub fn encode(input: &[u8]) -> String {
    STANDARD_LENIENT.encode(input)
}

pub fn decode(input: &str) -> Option<Vec<u8>> {
    STANDARD_LENIENT.decode(input).ok()
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
        assert_eq!(super::decode("YWRtaW46cHc").unwrap(), b"admin:pw");
        assert_eq!(super::encode_url(&[0xfb, 0xff]), "-_8");
        assert!(super::decode_url("+/8").is_none());
        assert!(super::decode_url("YQ==").is_none());
    }
}
