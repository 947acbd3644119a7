//! `testrig`: instruments for end-to-end tests on real processes.
//!
//! * [`cluster`] / [`node`] — start N meta and M data nodes from built
//!   binaries with generated configs in a temp dir, wait until ready
//!   (bounded polling), kill -9, stop, restart, wipe, read logs; every
//!   process dies with its handle, also when a test panics.
//! * [`proxy`] — a fault-injecting TCP proxy (pass, drop, drop one way,
//!   delay, reset), switchable at run time.
//! * [`history`] — record writes with their outcomes, read everything back,
//!   and check Jepsen-style for lost, unexpected and duplicated points.
//!
//! The crate only drives processes and sockets; it knows no product logic.
//!
//! ```no_run
//! use testrig::{find_binary, ClusterBuilder, Mode, NodeSpec};
//! # fn main() -> testrig::Result<()> {
//! // Meta nodes plug in by binary path + config template; `{{peers.meta.raft}}`
//! // and friends resolve to the other nodes' (proxied) addresses.
//! let meta = NodeSpec::influxd_meta(find_binary("influxd-meta")?)
//!     .with_extra_config("# peers: [{{peers.meta.raft}}]");
//! let mut cluster = ClusterBuilder::new()
//!     .meta(3, meta)
//!     .data(2, NodeSpec::influxd(find_binary("influxd")?))
//!     .proxy_links(true)
//!     .start()?; // every node answers /ping, or the error carries its log
//! cluster.partition("meta-1", "meta-2")?;
//! cluster.link("data-1", "meta-3")?.set_mode(Mode::Delay(std::time::Duration::from_millis(50)));
//! cluster.data(2)?.kill9()?;
//! cluster.heal_all();
//! cluster.data(2)?.start()?;
//! # Ok(())
//! # }
//! ```

pub mod binaries;
pub mod cluster;
mod error;
pub mod history;
pub mod http;
pub mod node;
pub mod ports;
pub mod process;
pub mod proxy;
pub mod template;
pub mod wait;

pub use binaries::find_binary;
pub use cluster::{Cluster, ClusterBuilder, Link};
pub use error::{Error, Result};
pub use http::{HttpClient, Reply};
pub use node::{NodeHandle, NodeSpec, Readiness, Role};
pub use proxy::{Mode, Proxy, ProxyStats};
