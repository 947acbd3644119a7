//! A cluster of N meta and M data nodes started from built binaries, each
//! with a generated config in a temp dir, optionally with a fault-injecting
//! proxy on every directed inter-node link. Owns node naming (`meta-1`,
//! `data-2`, ...), cluster-wide config placeholders, start order and
//! link-level faults; per-node lifecycle lives in `node`, bytes in `proxy`.
//!
//! Cluster placeholders (on top of a node's own, see [`NodeSpec`]):
//! * `{{via.NODE.PORT}}` — address this node uses to reach NODE's PORT: the
//!   proxy of the link this-node -> NODE when links are proxied, else direct;
//! * `{{peers.ROLE.PORT}}` — `"addr", "addr"` (TOML array body) of every
//!   other node of ROLE (`meta`/`data`), via proxies like `via`;
//! * `{{all.ROLE.PORT}}` — the same including this node (its own address);
//! * `{{direct.NODE.PORT}}` — NODE's real address, never proxied;
//! * `{{dial_map}}` — the body of a TOML inline table mapping every other
//!   node's real internal address to the proxy this node must dial instead
//!   (`"127.0.0.1:8088" = "127.0.0.1:40123", ...`; empty without proxies).
//!
//! Nodes that learn peer addresses at run time (advertised through the meta
//! store, `influxd-ctl add-meta/add-data`) keep advertising their real
//! addresses; per-link faults then need the product to rewrite the address
//! it dials through such a map (e.g. `dial-overrides = { {{dial_map}} }`).

use crate::node::{NodeHandle, NodeInit, NodeSpec, Role, HOST};
use crate::proxy::{Mode, Proxy, ProxyStats};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Builds and starts a [`Cluster`].
#[derive(Debug, Default)]
pub struct ClusterBuilder {
    meta: Option<(usize, NodeSpec)>,
    data: Option<(usize, NodeSpec)>,
    proxy_links: bool,
    root: Option<PathBuf>,
}

impl ClusterBuilder {
    pub fn new() -> ClusterBuilder {
        ClusterBuilder::default()
    }

    /// `count` meta nodes (`meta-1` ...) run from `spec`.
    pub fn meta(mut self, count: usize, spec: NodeSpec) -> ClusterBuilder {
        self.meta = Some((count, spec));
        self
    }

    /// `count` data nodes (`data-1` ...) run from `spec`.
    pub fn data(mut self, count: usize, spec: NodeSpec) -> ClusterBuilder {
        self.data = Some((count, spec));
        self
    }

    /// Put a [`Proxy`] in front of every internal port of every node, one
    /// per directed pair of nodes, so links can be cut one by one. Configs
    /// must use `via`/`peers` placeholders for the proxies to be used.
    pub fn proxy_links(mut self, on: bool) -> ClusterBuilder {
        self.proxy_links = on;
        self
    }

    /// Keep node directories under `dir` (kept after the test) instead of a
    /// temp dir (removed when the cluster drops).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> ClusterBuilder {
        self.root = Some(dir.into());
        self
    }

    /// Allocates ports, starts proxies, writes configs, then starts all meta
    /// nodes (spawned together, then each waited for) and then all data
    /// nodes. On error everything already started is killed.
    ///
    /// Ports are chosen free but released before the nodes bind them; if a
    /// node loses that race ("address in use") the whole start is undone
    /// and retried on new ports (3 attempts).
    pub fn start(self) -> Result<Cluster> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_start() {
                Err(e) if attempt < 3 && crate::node::is_port_clash(&e) => continue,
                other => return other,
            }
        }
    }

    fn try_start(&self) -> Result<Cluster> {
        let (tmp, root) = match self.root.clone() {
            Some(r) => {
                std::fs::create_dir_all(&r)
                    .map_err(|e| Error::io(format!("create {}", r.display()), e))?;
                (None, r)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("testrig-")
                    .tempdir()
                    .map_err(|e| Error::io("create temp dir", e))?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let mut plan: Vec<(NodeInit, NodeSpec)> = Vec::new();
        for (role, group) in [(Role::Meta, &self.meta), (Role::Data, &self.data)] {
            if let Some((count, spec)) = group {
                for i in 1..=*count {
                    let name = format!("{}-{i}", role.as_str());
                    plan.push((NodeInit::allocate(&name, role, i, spec)?, spec.clone()));
                }
            }
        }
        let mut links = BTreeMap::new();
        if self.proxy_links {
            for (from, _) in &plan {
                for (to, to_spec) in &plan {
                    if from.name == to.name {
                        continue;
                    }
                    let mut proxies = BTreeMap::new();
                    for p in to_spec.ports.iter().filter(|p| p.internal) {
                        if let Some(port) = to.ports.get(&p.name) {
                            let target = SocketAddr::from(([127, 0, 0, 1], *port));
                            proxies.insert(p.name.clone(), Proxy::start(target)?);
                        }
                    }
                    links.insert(
                        (from.name.clone(), to.name.clone()),
                        Link {
                            from: from.name.clone(),
                            to: to.name.clone(),
                            proxies,
                        },
                    );
                }
            }
        }
        let inits: Vec<NodeInit> = plan.iter().map(|(i, _)| i.clone()).collect();
        let mut nodes = Vec::new();
        for (init, spec) in plan {
            let me = init.name.clone();
            let lookup = |name: &str| cluster_var(&me, &inits, &links, name);
            nodes.push(NodeHandle::create(init, spec, &root, &lookup)?);
        }
        let mut cluster = Cluster {
            nodes,
            links,
            root,
            proxy_links: self.proxy_links,
            _tmp: tmp,
        };
        for role in [Role::Meta, Role::Data] {
            for n in cluster.nodes.iter_mut().filter(|n| n.role() == role) {
                n.spawn()?;
            }
            for n in cluster.nodes.iter_mut().filter(|n| n.role() == role) {
                n.wait_ready()?;
            }
        }
        Ok(cluster)
    }
}

fn cluster_var(
    me: &str,
    inits: &[NodeInit],
    links: &BTreeMap<(String, String), Link>,
    name: &str,
) -> Option<String> {
    let parts: Vec<&str> = name.split('.').collect();
    let direct = |node: &NodeInit, port: &str| -> Option<String> {
        Some(format!("{HOST}:{}", node.ports.get(port)?))
    };
    let via = |node: &NodeInit, port: &str| -> Option<String> {
        if node.name == me {
            return direct(node, port);
        }
        match links
            .get(&(me.to_string(), node.name.clone()))
            .and_then(|l| l.proxies.get(port))
        {
            Some(p) => Some(p.listen_addr().to_string()),
            None => direct(node, port),
        }
    };
    match parts.as_slice() {
        ["dial_map"] => {
            let mut entries = Vec::new();
            for link in links.values().filter(|l| l.from == me) {
                let target = inits.iter().find(|n| n.name == link.to)?;
                for (port, proxy) in &link.proxies {
                    entries.push(format!(
                        "\"{}\" = \"{}\"",
                        direct(target, port)?,
                        proxy.listen_addr()
                    ));
                }
            }
            Some(entries.join(", "))
        }
        ["via", node, port] => via(inits.iter().find(|n| n.name == *node)?, port),
        ["direct", node, port] => direct(inits.iter().find(|n| n.name == *node)?, port),
        [which @ ("peers" | "all"), role, port] => {
            let addrs: Option<Vec<String>> = inits
                .iter()
                .filter(|n| n.role.as_str() == *role && (*which == "all" || n.name != me))
                .map(|n| via(n, port).map(|a| format!("\"{a}\"")))
                .collect();
            Some(addrs?.join(", "))
        }
        _ => None,
    }
}

/// The proxies carrying traffic from one node to another (one per internal
/// port of the destination).
#[derive(Debug)]
pub struct Link {
    from: String,
    to: String,
    proxies: BTreeMap<String, Proxy>,
}

impl Link {
    pub fn from(&self) -> &str {
        &self.from
    }

    pub fn to(&self) -> &str {
        &self.to
    }

    /// The proxy in front of the destination's `port`.
    pub fn proxy(&self, port: &str) -> Option<&Proxy> {
        self.proxies.get(port)
    }

    /// Sets the mode of every proxy of the link (`Forward` = from -> to).
    pub fn set_mode(&self, mode: Mode) {
        for p in self.proxies.values() {
            p.set_mode(mode);
        }
    }

    /// Stats of each proxy by destination port.
    pub fn stats(&self) -> BTreeMap<String, ProxyStats> {
        self.proxies
            .iter()
            .map(|(k, p)| (k.clone(), p.stats()))
            .collect()
    }
}

/// A running cluster. Dropping it kills every node and proxy; if the thread
/// is panicking (a failed test) the log tail of every node goes to stderr.
#[derive(Debug)]
pub struct Cluster {
    nodes: Vec<NodeHandle>,
    links: BTreeMap<(String, String), Link>,
    root: PathBuf,
    proxy_links: bool,
    _tmp: Option<tempfile::TempDir>,
}

impl Cluster {
    /// Directory holding one sub-directory per node.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn nodes(&self) -> &[NodeHandle] {
        &self.nodes
    }

    pub fn nodes_mut(&mut self) -> &mut [NodeHandle] {
        &mut self.nodes
    }

    /// Nodes of one role in index order.
    pub fn nodes_of(&self, role: Role) -> impl Iterator<Item = &NodeHandle> {
        self.nodes.iter().filter(move |n| n.role() == role)
    }

    pub fn node(&self, name: &str) -> Result<&NodeHandle> {
        self.nodes
            .iter()
            .find(|n| n.name() == name)
            .ok_or_else(|| Error::UnknownNode(name.into()))
    }

    pub fn node_mut(&mut self, name: &str) -> Result<&mut NodeHandle> {
        self.nodes
            .iter_mut()
            .find(|n| n.name() == name)
            .ok_or_else(|| Error::UnknownNode(name.into()))
    }

    /// `data-i` (1-based).
    pub fn data(&mut self, i: usize) -> Result<&mut NodeHandle> {
        self.node_mut(&format!("data-{i}"))
    }

    /// `meta-i` (1-based).
    pub fn meta(&mut self, i: usize) -> Result<&mut NodeHandle> {
        self.node_mut(&format!("meta-{i}"))
    }

    /// Adds and starts one more node of `role` (named after the next free
    /// index, e.g. `data-3`), with proxied links to and from every existing
    /// node when the cluster has them. Existing nodes' configs are not
    /// rewritten: they learn of it the way operators add nodes (meta API).
    /// A node that loses the port race ("address in use") is removed with
    /// its links and added again on new ports (3 attempts), like [`start`].
    ///
    /// [`start`]: ClusterBuilder::start
    pub fn add_node(&mut self, role: Role, spec: NodeSpec) -> Result<&mut NodeHandle> {
        let index = self.nodes_of(role).map(|n| n.index()).max().unwrap_or(0) + 1;
        let name = format!("{}-{index}", role.as_str());
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_add_node(role, index, &name, spec.clone()) {
                Err(e) if attempt < 3 && crate::node::is_port_clash(&e) => {
                    self.nodes.retain(|n| n.name() != name);
                    self.links.retain(|_, l| l.from != name && l.to != name);
                }
                Err(e) => return Err(e),
                Ok(()) => {
                    let last = self.nodes.len() - 1;
                    return Ok(&mut self.nodes[last]);
                }
            }
        }
    }

    fn try_add_node(&mut self, role: Role, index: usize, name: &str, spec: NodeSpec) -> Result<()> {
        let name = name.to_string();
        let init = NodeInit::allocate(&name, role, index, &spec)?;
        if self.proxy_links {
            for other in &self.nodes {
                for (from, to, to_ports, to_spec) in [
                    (other.name(), name.as_str(), &init.ports, &spec),
                    (name.as_str(), other.name(), other.ports(), other.spec()),
                ] {
                    let mut proxies = BTreeMap::new();
                    for p in to_spec.ports.iter().filter(|p| p.internal) {
                        if let Some(port) = to_ports.get(&p.name) {
                            let target = SocketAddr::from(([127, 0, 0, 1], *port));
                            proxies.insert(p.name.clone(), Proxy::start(target)?);
                        }
                    }
                    self.links.insert(
                        (from.to_string(), to.to_string()),
                        Link {
                            from: from.to_string(),
                            to: to.to_string(),
                            proxies,
                        },
                    );
                }
            }
        }
        let mut inits: Vec<NodeInit> = self
            .nodes
            .iter()
            .map(|n| NodeInit {
                name: n.name().to_string(),
                role: n.role(),
                index: n.index(),
                ports: n.ports().clone(),
            })
            .collect();
        inits.push(init.clone());
        let links = &self.links;
        let lookup = |var: &str| cluster_var(&name, &inits, links, var);
        let node = NodeHandle::create(init, spec, &self.root, &lookup)?;
        self.nodes.push(node);
        let last = self.nodes.len() - 1;
        self.nodes[last].start()
    }

    /// The link from -> to (only with `proxy_links(true)`).
    pub fn link(&self, from: &str, to: &str) -> Result<&Link> {
        self.links
            .get(&(from.to_string(), to.to_string()))
            .ok_or_else(|| Error::UnknownNode(format!("link {from} -> {to}")))
    }

    /// Cuts both directions between `a` and `b` (bytes swallowed).
    pub fn partition(&self, a: &str, b: &str) -> Result<()> {
        self.link(a, b)?.set_mode(Mode::DropBoth);
        self.link(b, a)?.set_mode(Mode::DropBoth);
        Ok(())
    }

    /// Swallows bytes travelling from `from` to `to` only, on connections
    /// opened by either side.
    pub fn drop_one_way(&self, from: &str, to: &str) -> Result<()> {
        self.link(from, to)?.set_mode(Mode::DropForward);
        self.link(to, from)?.set_mode(Mode::DropBackward);
        Ok(())
    }

    /// Adds `latency` per chunk on both links between `a` and `b`.
    pub fn delay(&self, a: &str, b: &str, latency: Duration) -> Result<()> {
        self.link(a, b)?.set_mode(Mode::Delay(latency));
        self.link(b, a)?.set_mode(Mode::Delay(latency));
        Ok(())
    }

    /// Cuts `node` off from every other node.
    pub fn isolate(&self, node: &str) -> Result<()> {
        self.node(node)?;
        for l in self.links.values() {
            if l.from == node || l.to == node {
                l.set_mode(Mode::DropBoth);
            }
        }
        Ok(())
    }

    /// Every link back to `Pass`.
    pub fn heal_all(&self) {
        for l in self.links.values() {
            l.set_mode(Mode::Pass);
        }
    }

    /// The last `lines` lines of every node's log, labelled.
    pub fn logs(&self, lines: usize) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            out.push_str(&format!(
                "--- {} ({}) log tail ---\n{}\n",
                n.name(),
                n.dir().display(),
                n.log_tail(lines)
            ));
        }
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("testrig: test failed; node logs:\n{}", self.logs(60));
        }
        for n in &mut self.nodes {
            let _ = n.kill9();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn init(name: &str, role: Role, ports: &[(&str, u16)]) -> NodeInit {
        NodeInit {
            name: name.into(),
            role,
            index: 1,
            ports: ports.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn placeholders_resolve_direct_without_proxies() {
        let inits = vec![
            init("meta-1", Role::Meta, &[("http", 1001), ("raft", 1002)]),
            init("meta-2", Role::Meta, &[("http", 2001), ("raft", 2002)]),
            init("data-1", Role::Data, &[("http", 3001)]),
        ];
        let links = BTreeMap::new();
        let v = |me: &str, n: &str| cluster_var(me, &inits, &links, n);
        assert_eq!(v("data-1", "via.meta-2.http").unwrap(), "127.0.0.1:2001");
        assert_eq!(
            v("meta-1", "peers.meta.raft").unwrap(),
            "\"127.0.0.1:2002\""
        );
        assert_eq!(
            v("meta-1", "all.meta.raft").unwrap(),
            "\"127.0.0.1:1002\", \"127.0.0.1:2002\""
        );
        assert_eq!(v("meta-1", "via.nope.http"), None);
        assert_eq!(v("meta-1", "via.meta-2.nope"), None);
    }

    #[test]
    fn via_uses_the_link_proxy() {
        let inits = vec![
            init("a", Role::Meta, &[("raft", 1002)]),
            init("b", Role::Meta, &[("raft", 2002)]),
        ];
        let p = Proxy::start("127.0.0.1:2002".parse().unwrap()).unwrap();
        let listen = p.listen_addr().to_string();
        let mut proxies = BTreeMap::new();
        proxies.insert("raft".to_string(), p);
        let mut links = BTreeMap::new();
        links.insert(
            ("a".to_string(), "b".to_string()),
            Link {
                from: "a".into(),
                to: "b".into(),
                proxies,
            },
        );
        assert_eq!(
            cluster_var("a", &inits, &links, "via.b.raft").unwrap(),
            listen
        );
        assert_eq!(
            cluster_var("a", &inits, &links, "direct.b.raft").unwrap(),
            "127.0.0.1:2002"
        );
        // No proxy b -> a was made: direct.
        assert_eq!(
            cluster_var("b", &inits, &links, "via.a.raft").unwrap(),
            "127.0.0.1:1002"
        );
    }
}
