//! The cluster layer of a data node: where points go (the points writer maps
//! each point to its shard group and shard, then to the shard's owners) and,
//! as the cluster data path grows, the node-to-node protocol, hinted handoff
//! and distributed query. It builds on the storage engine and the metadata
//! snapshot and knows nothing of HTTP.

pub mod consistency;
pub mod hh;
pub mod points_writer;

pub use hh::{HhConfig, HhError, HintedHandoff};
pub use points_writer::{Consistency, PointsWriter, Remote, WriteError, WriteStats};
