//! Entry points for fuzzing (`fuzz/` at the repository root) and for
//! replaying its corpora in the normal test suite: the cluster RPC's wire
//! messages as a peer (or anyone on port 8088) may send them. Not an API:
//! hidden from the docs and free to change with the fuzz target.

use crate::messages::{WirePoint, WriteShardRequest, WriteShardResponse};
use prost::Message;

/// Decodes `data` as a shard write and as its answer. A decoded request's
/// points either convert to `Point`s that travel back to the same wire
/// form, or are refused with an error; nothing panics.
pub fn rpc_messages(data: &[u8]) {
    if let Ok(req) = WriteShardRequest::decode(data) {
        let _ = req.encoded_len();
        for w in req.points {
            let original = w.clone();
            if let Ok(p) = models::Point::try_from(w) {
                let back = WirePoint::from(&p);
                assert_eq!(back, original, "a point must cross the wire unchanged");
            }
        }
    }
    if let Ok(resp) = WriteShardResponse::decode(data) {
        let _ = resp.outcome();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::messages::{RequestHeader, WireField, WireTag, WireValue, PROTOCOL_VERSION};
    use std::path::PathBuf;

    fn corpus() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/rpc_messages")
    }

    #[test]
    fn fuzz_corpus_rpc_messages_replays() {
        let dir = corpus();
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()));
        let files: Vec<Vec<u8>> = entries
            .map(|e| std::fs::read(e.expect("corpus entry").path()).expect("corpus file"))
            .collect();
        assert!(!files.is_empty(), "corpus {} is empty", dir.display());
        // prost follows nested (unknown) groups up to its recursion limit of
        // 100, and this unoptimised build's frames for that overflow a 2 MiB
        // test thread. The optimised build runs every input of this corpus
        // on a 1 MiB stack (`ulimit -s 1024` and the fuzz binary with
        // `-runs=0`), so a release server's 2 MiB workers have room.
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(move || {
                for data in &files {
                    rpc_messages(data);
                }
            })
            .expect("spawn")
            .join()
            .expect("replay");
    }

    /// Writes the seed inputs (`cargo test -p rpc write_fuzz_seeds -- --ignored`).
    #[test]
    #[ignore]
    fn write_fuzz_seeds() {
        let dir = corpus();
        std::fs::create_dir_all(&dir).unwrap();
        let field = |name: &str, v: WireValue| WireField {
            name: name.into(),
            value: Some(v),
        };
        let point = WirePoint {
            key: "cpu,host=a".into(),
            measurement: "cpu".into(),
            tags: vec![WireTag {
                key: "host".into(),
                value: "a".into(),
            }],
            fields: vec![
                field("f", WireValue::Float(1.5)),
                field("i", WireValue::Integer(-3)),
                field("u", WireValue::Unsigned(7)),
                field("b", WireValue::Boolean(true)),
                field("s", WireValue::String("x y".into())),
            ],
            time: 1_700_000_000_000_000_000,
        };
        let req = WriteShardRequest {
            header: Some(RequestHeader {
                version: PROTOCOL_VERSION,
                cluster_id: 42,
                sender_node_id: 2,
            }),
            shard_id: 9,
            database: "db".into(),
            retention_policy: "autogen".into(),
            points: vec![point.clone(), point],
        };
        std::fs::write(dir.join("seed-write-shard"), req.encode_to_vec()).unwrap();
        let resp = WriteShardResponse::with(crate::WriteCode::Partial, "field type conflict", 3);
        std::fs::write(dir.join("seed-response"), resp.encode_to_vec()).unwrap();
        std::fs::write(dir.join("seed-empty"), b"").unwrap();
    }
}
