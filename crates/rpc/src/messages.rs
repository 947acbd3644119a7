//! The cluster RPC's wire messages: protobuf (proto3) messages written by
//! hand with prost's derive instead of generated from a `.proto` file (no
//! `protoc`, no build script). The equivalent schema, which is what another
//! implementation would need, is kept in ARCHITECTURE.md ("Cluster RPC").
//!
//! Owns the message shapes and their conversion to and from
//! [`models::Point`]; must not do I/O or know what a handler does.
//!
//! Compatibility rules: field tags are never reused; a new field gets a new
//! tag and a default that means "old behaviour"; every request starts with
//! a [`RequestHeader`] whose `version` the receiver checks against the range
//! it understands, so adjacent versions interoperate in a rolling upgrade.

use models::{FieldValue, Point};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// The oldest protocol version this build still accepts.
pub const MIN_PROTOCOL_VERSION: u32 = 1;

/// Sent at the start of every request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestHeader {
    /// [`PROTOCOL_VERSION`] of the sender.
    #[prost(uint32, tag = "1")]
    pub version: u32,
    /// The cluster the sender belongs to (meta `cluster_id`); a node of
    /// another cluster is refused.
    #[prost(uint64, tag = "2")]
    pub cluster_id: u64,
    /// The sender's data node id; an id the metadata does not know is
    /// refused.
    #[prost(uint64, tag = "3")]
    pub sender_node_id: u64,
}

/// Points for one shard, sent to one of its owners.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteShardRequest {
    #[prost(message, optional, tag = "1")]
    pub header: Option<RequestHeader>,
    #[prost(uint64, tag = "2")]
    pub shard_id: u64,
    /// The shard's database and retention policy, so an owner that has not
    /// created the shard yet can.
    #[prost(string, tag = "3")]
    pub database: String,
    #[prost(string, tag = "4")]
    pub retention_policy: String,
    #[prost(message, repeated, tag = "5")]
    pub points: Vec<WirePoint>,
}

/// One point. The series key travels with its parts so the receiver builds
/// a [`Point`] without parsing or escaping anything.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WirePoint {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub measurement: String,
    #[prost(message, repeated, tag = "3")]
    pub tags: Vec<WireTag>,
    #[prost(message, repeated, tag = "4")]
    pub fields: Vec<WireField>,
    #[prost(int64, tag = "5")]
    pub time: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WireTag {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WireField {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(oneof = "WireValue", tags = "2, 3, 4, 5, 6")]
    pub value: Option<WireValue>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum WireValue {
    #[prost(double, tag = "2")]
    Float(f64),
    #[prost(int64, tag = "3")]
    Integer(i64),
    #[prost(uint64, tag = "4")]
    Unsigned(u64),
    #[prost(bool, tag = "5")]
    Boolean(bool),
    #[prost(string, tag = "6")]
    String(String),
}

/// How an owner answered a shard write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum WriteCode {
    /// Every point is durable (the owner's WAL was fsynced).
    Ok = 0,
    /// Some points were refused for a reason that will not change on a
    /// retry (field type conflict, a cardinality limit); the rest are
    /// durable. `message` is InfluxDB's reason, `dropped` the count.
    Partial = 1,
    /// Nothing was written and a retry may succeed (engine closed, disk
    /// error): the sender keeps the points for hinted handoff.
    Retryable = 2,
    /// Nothing was written and a retry cannot succeed (the request is
    /// malformed, the shard's database is gone): the sender drops them.
    Rejected = 3,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteShardResponse {
    #[prost(enumeration = "WriteCode", tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
    #[prost(uint64, tag = "3")]
    pub dropped: u64,
}

impl WriteShardResponse {
    pub fn ok() -> WriteShardResponse {
        WriteShardResponse {
            code: WriteCode::Ok as i32,
            message: String::new(),
            dropped: 0,
        }
    }

    pub fn with(code: WriteCode, message: impl Into<String>, dropped: u64) -> WriteShardResponse {
        WriteShardResponse {
            code: code as i32,
            message: message.into(),
            dropped,
        }
    }

    /// The code, with an unknown value (a newer sender's) read as
    /// retryable: never dropped on a misunderstanding.
    pub fn outcome(&self) -> WriteCode {
        WriteCode::try_from(self.code).unwrap_or(WriteCode::Retryable)
    }
}

/// Asks a data node to join the meta cluster whose meta nodes are listed
/// (sent by a meta node on `influxd-ctl add-data <TCP address>`). A
/// standalone node without data accepts, records the meta servers and
/// restarts as a member; a member of the same cluster (the header's
/// `cluster_id`) answers again; anything else refuses.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JoinClusterRequest {
    /// `sender_node_id` is 0 (the sender is a meta node); `cluster_id` is
    /// the meta cluster's.
    #[prost(message, optional, tag = "1")]
    pub header: Option<RequestHeader>,
    /// The meta nodes' HTTP addresses (`host:8091`).
    #[prost(string, repeated, tag = "2")]
    pub meta_servers: Vec<String>,
    /// Join as a passive node (owns no shards).
    #[prost(bool, tag = "3")]
    pub passive: bool,
}

/// The joining node's addresses as it advertises them.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JoinClusterResponse {
    /// The HTTP address (`host:8086`) the meta nodes record for it.
    #[prost(string, tag = "1")]
    pub http_addr: String,
    /// Its cluster RPC address (`host:8088`).
    #[prost(string, tag = "2")]
    pub tcp_addr: String,
}

impl From<&Point> for WirePoint {
    fn from(p: &Point) -> WirePoint {
        WirePoint {
            key: p.key.clone(),
            measurement: p.measurement.clone(),
            tags: p
                .tags
                .iter()
                .map(|(k, v)| WireTag {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect(),
            fields: p
                .fields
                .iter()
                .map(|(name, v)| WireField {
                    name: name.clone(),
                    value: Some(match v {
                        FieldValue::Float(f) => WireValue::Float(*f),
                        FieldValue::Integer(i) => WireValue::Integer(*i),
                        FieldValue::Unsigned(u) => WireValue::Unsigned(*u),
                        FieldValue::Boolean(b) => WireValue::Boolean(*b),
                        FieldValue::String(s) => WireValue::String(s.clone()),
                    }),
                })
                .collect(),
            time: p.time,
        }
    }
}

/// Why a wire point cannot become a [`Point`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadPoint {
    #[error("point {0:?} has a field without a value")]
    MissingValue(String),
    #[error("point {0:?} has no fields")]
    NoFields(String),
    /// InfluxDB stores no NaN or infinite floats (line protocol cannot
    /// carry them); a peer must not smuggle them in.
    #[error("point {key:?}: field {field:?} is not a finite number")]
    NonFinite { key: String, field: String },
}

impl TryFrom<WirePoint> for Point {
    type Error = BadPoint;

    fn try_from(w: WirePoint) -> Result<Point, BadPoint> {
        if w.fields.is_empty() {
            return Err(BadPoint::NoFields(w.key));
        }
        let mut fields = Vec::with_capacity(w.fields.len());
        for f in w.fields {
            let v = match f.value {
                Some(WireValue::Float(x)) if x.is_finite() => FieldValue::Float(x),
                Some(WireValue::Float(_)) => {
                    return Err(BadPoint::NonFinite {
                        key: w.key,
                        field: f.name,
                    })
                }
                Some(WireValue::Integer(x)) => FieldValue::Integer(x),
                Some(WireValue::Unsigned(x)) => FieldValue::Unsigned(x),
                Some(WireValue::Boolean(x)) => FieldValue::Boolean(x),
                Some(WireValue::String(x)) => FieldValue::String(x),
                None => return Err(BadPoint::MissingValue(w.key)),
            };
            fields.push((f.name, v));
        }
        Ok(Point {
            measurement: w.measurement,
            tags: w.tags.into_iter().map(|t| (t.key, t.value)).collect(),
            fields,
            time: w.time,
            key: w.key,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use prost::Message;

    #[test]
    fn points_survive_the_wire_unchanged() {
        let p = Point::new(
            "cpu load".into(),
            vec![("host".into(), "a,b".into()), ("dc".into(), "x".into())],
            vec![
                ("f".into(), FieldValue::Float(-1.5)),
                ("i".into(), FieldValue::Integer(i64::MIN)),
                ("u".into(), FieldValue::Unsigned(u64::MAX)),
                ("b".into(), FieldValue::Boolean(true)),
                ("s".into(), FieldValue::String("é\"\n".into())),
            ],
            i64::MAX,
        );
        let req = WriteShardRequest {
            header: Some(RequestHeader {
                version: PROTOCOL_VERSION,
                cluster_id: 7,
                sender_node_id: 2,
            }),
            shard_id: 9,
            database: "db".into(),
            retention_policy: "rp".into(),
            points: vec![WirePoint::from(&p)],
        };
        let bytes = req.encode_to_vec();
        let back = WriteShardRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(back, req);
        let q = Point::try_from(back.points.into_iter().next().unwrap()).unwrap();
        assert_eq!(q, p);
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        let req = WriteShardRequest {
            header: None,
            shard_id: 1,
            database: "d".into(),
            retention_policy: "r".into(),
            points: vec![WirePoint {
                key: "m".into(),
                measurement: "m".into(),
                tags: vec![],
                fields: vec![WireField {
                    name: "v".into(),
                    value: Some(WireValue::Float(1.0)),
                }],
                time: 1,
            }],
        };
        let bytes = req.encode_to_vec();
        for n in 0..bytes.len() {
            let _ = WriteShardRequest::decode(&bytes[..n]);
        }
        assert!(WriteShardRequest::decode(&[0xff, 0xff, 0xff][..]).is_err());
        let no_value = WirePoint {
            key: "m".into(),
            measurement: "m".into(),
            tags: vec![],
            fields: vec![WireField {
                name: "v".into(),
                value: None,
            }],
            time: 1,
        };
        assert_eq!(
            Point::try_from(no_value),
            Err(BadPoint::MissingValue("m".into()))
        );
        // Found by the rpc_messages fuzz target: NaN arrived and was stored.
        let nan = WirePoint {
            key: "m".into(),
            measurement: "m".into(),
            tags: vec![],
            fields: vec![WireField {
                name: "v".into(),
                value: Some(WireValue::Float(f64::NAN)),
            }],
            time: 1,
        };
        assert_eq!(
            Point::try_from(nan),
            Err(BadPoint::NonFinite {
                key: "m".into(),
                field: "v".into()
            })
        );
    }

    #[test]
    fn an_unknown_code_from_a_newer_node_is_retryable() {
        let r = WriteShardResponse {
            code: 42,
            message: String::new(),
            dropped: 0,
        };
        assert_eq!(r.outcome(), WriteCode::Retryable);
    }
}
