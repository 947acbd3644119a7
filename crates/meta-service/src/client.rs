//! [`MetaClient`]: how data nodes and `influxd-ctl` talk to the meta
//! cluster. It tries every meta node (the last one that answered first),
//! retries with backoff while there is no leader, and keeps a cached copy of
//! [`meta::Data`] that a background thread refreshes by long-polling
//! `GET /data?index=N`. Reads come from the cache only, so writes and
//! queries never call the meta service per request and keep working while
//! the meta cluster has no leader.
//!
//! Blocking (ureq): call it from blocking threads, never from an async task.

use crate::error::{Error, Result};
use crate::http_util::{self, Reply};
use crate::network::SECRET_HEADER;
use meta::{Command, Data, MetaStore, Response};
use parking_lot::{Condvar, Mutex, RwLock};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a [`MetaClient`] authenticates and how long it keeps trying.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Give up on a request after this long without a usable answer.
    pub retry_for: Duration,
    /// Timeout of a single HTTP request (long-polls add their wait).
    pub request_timeout: Duration,
    /// `internal-shared-secret`, sent as a header when not empty.
    pub shared_secret: String,
    /// Basic credentials of an admin user.
    pub basic_auth: Option<(String, String)>,
    /// `[meta] shared-secret`: each request carries a fresh HS256 JWT.
    pub jwt: Option<JwtAuth>,
    /// How long the cached users may serve authentication without an
    /// answer from a meta node that has a leader (M4). Past it every
    /// password check fails (`authorization failed`) until the cache is
    /// fresh again, so a revoked user or changed password cannot keep
    /// working on a cut-off data node forever; everything else keeps
    /// serving from the cache.
    pub max_credential_staleness: Duration,
}

/// Default of [`ClientOptions::max_credential_staleness`].
pub const DEFAULT_MAX_CREDENTIAL_STALENESS: Duration = Duration::from_secs(10 * 60);

/// Signing input of the JWTs a client sends.
#[derive(Debug, Clone)]
pub struct JwtAuth {
    pub secret: String,
    pub username: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            retry_for: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            shared_secret: String::new(),
            basic_auth: None,
            jwt: None,
            max_credential_staleness: DEFAULT_MAX_CREDENTIAL_STALENESS,
        }
    }
}

struct Inner {
    servers: Vec<String>,
    /// Index into `servers` of the node that answered last.
    preferred: AtomicUsize,
    agent: ureq::Agent,
    opts: ClientOptions,
    cache: RwLock<Arc<Data>>,
    /// When a meta node last answered `/data` (they answer only while they
    /// have a leader).
    fresh_at: Mutex<Instant>,
    /// The cache with every password hash blanked, served once it is older
    /// than `max_credential_staleness` (built once per index).
    locked_out: Mutex<Option<Arc<Data>>>,
    /// Signalled whenever the cache changes.
    changed: (Mutex<()>, Condvar),
    stop: AtomicBool,
    watching: AtomicBool,
}

/// A client of the meta cluster; clones share the connection and cache.
#[derive(Clone)]
pub struct MetaClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MetaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaClient")
            .field("servers", &self.inner.servers)
            .finish()
    }
}

impl MetaClient {
    /// A client of the meta nodes at `servers` (`host:8091`).
    pub fn new(servers: Vec<String>) -> MetaClient {
        MetaClient::with_options(servers, ClientOptions::default())
    }

    pub fn with_options(servers: Vec<String>, opts: ClientOptions) -> MetaClient {
        MetaClient {
            inner: Arc::new(Inner {
                servers,
                preferred: AtomicUsize::new(0),
                agent: http_util::agent(),
                opts,
                cache: RwLock::new(Arc::new(Data::default())),
                fresh_at: Mutex::new(Instant::now()),
                locked_out: Mutex::new(None),
                changed: (Mutex::new(()), Condvar::new()),
                stop: AtomicBool::new(false),
                watching: AtomicBool::new(false),
            }),
        }
    }

    /// A client that has fetched the metadata once (retrying for
    /// `opts.retry_for`) and keeps it fresh in the background: what a data
    /// node creates at start.
    pub fn connect(servers: Vec<String>, opts: ClientOptions) -> Result<MetaClient> {
        let c = MetaClient::with_options(servers, opts);
        c.refresh()?;
        c.start_watching();
        Ok(c)
    }

    pub fn servers(&self) -> &[String] {
        &self.inner.servers
    }

    fn headers(&self) -> Vec<(String, String)> {
        let mut h = Vec::new();
        if !self.inner.opts.shared_secret.is_empty() {
            h.push((
                SECRET_HEADER.to_string(),
                self.inner.opts.shared_secret.clone(),
            ));
        }
        if let Some(j) = &self.inner.opts.jwt {
            let exp = crate::node::now_nanos() / 1_000_000_000 + 60;
            h.push((
                "Authorization".to_string(),
                format!("Bearer {}", crate::jwt::sign(&j.secret, &j.username, exp)),
            ));
        } else if let Some((u, p)) = &self.inner.opts.basic_auth {
            h.push((
                "Authorization".to_string(),
                format!(
                    "Basic {}",
                    crate::base64::encode(format!("{u}:{p}").as_bytes())
                ),
            ));
        }
        h
    }

    /// One request to one server.
    fn call_one(
        &self,
        server: &str,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Reply, http_util::RequestError> {
        http_util::request(
            &self.inner.agent,
            method,
            &format!("http://{server}{path}"),
            body,
            &self.headers(),
            timeout,
        )
        .map_err(|e| http_util::RequestError {
            message: format!("{server}: {}", e.message),
            maybe_sent: e.maybe_sent,
        })
    }

    /// Sends a request to the meta cluster: the preferred node first, then
    /// the others; unreachable nodes and 503 `no leader` answers are retried
    /// with backoff until `retry_for` runs out. Any other answer is returned.
    ///
    /// Only a GET is resent after it may have reached a server (a transfer
    /// broken after sending, a timeout, a 503 other than `no leader` such as
    /// a commit that timed out): a POST is not idempotent, so resending it
    /// could apply it twice (M3). [`MetaClient::execute_command`] makes its
    /// POSTs idempotent with a key and resends them.
    pub fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> Result<Reply> {
        self.send(method, path, body, method.eq_ignore_ascii_case("GET"))
    }

    /// [`MetaClient::request`]; `resend`: whether the request may be sent
    /// again after a server may have acted on it.
    fn send(&self, method: &str, path: &str, body: Option<&[u8]>, resend: bool) -> Result<Reply> {
        let n = self.inner.servers.len();
        if n == 0 {
            return Err(Error::Http("no meta servers configured".into()));
        }
        let deadline = Instant::now() + self.inner.opts.retry_for;
        let mut backoff = Duration::from_millis(50);
        let mut last = Error::Http("no meta server answered".into());
        // A node that answered "no leader" says more than one that did not
        // answer at all.
        let mut last_503: Option<Error> = None;
        loop {
            let start = self.inner.preferred.load(Ordering::Relaxed);
            for k in 0..n {
                let i = (start + k) % n;
                let server = &self.inner.servers[i];
                match self.call_one(server, method, path, body, self.inner.opts.request_timeout) {
                    Ok(r) if r.status == 503 => {
                        let e = error_from_reply(&r);
                        if !resend && !matches!(e, Error::NoLeader) {
                            return Ok(r);
                        }
                        last_503 = Some(e);
                    }
                    Ok(r) => {
                        self.inner.preferred.store(i, Ordering::Relaxed);
                        return Ok(r);
                    }
                    Err(e) if e.maybe_sent && !resend => {
                        return Err(Error::Http(format!(
                            "{e}; the request may have been applied, so it was not resent"
                        )));
                    }
                    Err(e) => last = Error::Http(e.message),
                }
            }
            if Instant::now() + backoff > deadline {
                return Err(last_503.unwrap_or(last));
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    /// A JSON request answering the decoded body of a 2xx reply, or the
    /// server's `{"error": ...}` as an error.
    pub fn request_json(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let r = self.request(method, path, bytes.as_deref())?;
        if (200..300).contains(&r.status) {
            if r.body.is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_slice(&r.body).map_err(|e| Error::Http(format!("bad reply: {e}")))
        } else {
            Err(error_from_reply(&r))
        }
    }

    /// Fetches the current metadata from any node and updates the cache if
    /// it is newer.
    pub fn refresh(&self) -> Result<Arc<Data>> {
        let r = self.request("GET", "/data", None)?;
        self.absorb(&r)?;
        Ok(self.data_cached())
    }

    fn absorb(&self, r: &Reply) -> Result<()> {
        if r.status != 200 {
            return Err(error_from_reply(r));
        }
        let d: Data = serde_json::from_slice(&r.body)
            .map_err(|e| Error::Http(format!("bad /data reply: {e}")))?;
        let was = std::mem::replace(&mut *self.inner.fresh_at.lock(), Instant::now());
        if was.elapsed() > self.inner.opts.max_credential_staleness {
            tracing::warn!("metadata is fresh again: authentication from the cache resumes");
        }
        let mut cache = self.inner.cache.write();
        if d.index > cache.index || cache.index == 0 {
            *cache = Arc::new(d);
            drop(cache);
            let _g = self.inner.changed.0.lock();
            self.inner.changed.1.notify_all();
        }
        Ok(())
    }

    /// The cached metadata (never a network call).
    pub fn data_cached(&self) -> Arc<Data> {
        self.inner.cache.read().clone()
    }

    /// Waits until the cache's index reaches `index`; false on timeout.
    pub fn wait_for_index(&self, index: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut g = self.inner.changed.0.lock();
        loop {
            if self.data_cached().index >= index {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            self.inner.changed.1.wait_for(&mut g, deadline - now);
        }
    }

    /// Starts the background thread that keeps the cache fresh by
    /// long-polling. Idempotent; the thread ends when the last clone of the
    /// client is dropped or [`MetaClient::stop`] is called.
    pub fn start_watching(&self) {
        if self.inner.watching.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let spawned = std::thread::Builder::new()
            .name("meta-client-watch".into())
            .spawn(move || {
                let mut backoff = Duration::from_millis(100);
                loop {
                    let Some(inner) = weak.upgrade() else { return };
                    if inner.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let client = MetaClient { inner };
                    match client.poll_once(Duration::from_secs(10)) {
                        Ok(()) => backoff = Duration::from_millis(100),
                        Err(e) => {
                            tracing::debug!("meta watch: {e}");
                            drop(client);
                            std::thread::sleep(backoff);
                            backoff = (backoff * 2).min(Duration::from_secs(2));
                        }
                    }
                }
            });
        if spawned.is_err() {
            self.inner.watching.store(false, Ordering::SeqCst);
        }
    }

    /// One long-poll round against one node (rotating on failure).
    fn poll_once(&self, wait: Duration) -> Result<()> {
        let n = self.inner.servers.len();
        if n == 0 {
            return Err(Error::Http("no meta servers configured".into()));
        }
        let i = self.inner.preferred.load(Ordering::Relaxed) % n;
        let server = self.inner.servers[i].clone();
        let index = self.data_cached().index;
        let path = format!("/data?index={index}&timeout={}", wait.as_secs().max(1));
        let res = self.call_one(
            &server,
            "GET",
            &path,
            None,
            wait + self.inner.opts.request_timeout,
        );
        let res = res.map_err(|e| Error::Http(e.message));
        match res.and_then(|r| self.absorb(&r)) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.inner.preferred.store((i + 1) % n, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Stops the background watcher.
    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::Relaxed);
    }

    /// Applies `cmd` through the meta cluster, then refreshes the cache so
    /// that [`MetaClient::data_cached`] reflects the change on return.
    /// The command travels with a fresh idempotency key
    /// ([`Command::Once`]), so resending it after a timeout cannot apply it
    /// twice (M3).
    pub fn execute_command(&self, cmd: &Command) -> Result<Response> {
        let once;
        let cmd = match cmd {
            Command::Once { .. } => cmd,
            _ => {
                once = Command::Once {
                    key: request_key(),
                    command: Box::new(cmd.clone()),
                };
                &once
            }
        };
        let body = serde_json::to_vec(cmd).map_err(|e| Error::Http(e.to_string()))?;
        let r = self.send("POST", "/execute", Some(&body), true)?;
        if r.status != 200 {
            return Err(error_from_reply(&r));
        }
        let resp: Response = serde_json::from_slice(&r.body)
            .map_err(|e| Error::Http(format!("bad /execute reply: {e}")))?;
        let _ = self.refresh();
        Ok(resp)
    }
}

impl MetaClient {
    /// Registers a data node (idempotent: a restart gets its id back).
    pub fn register_data_node(
        &self,
        http_addr: &str,
        tcp_addr: &str,
        passive: bool,
    ) -> Result<meta::NodeInfo> {
        match self.execute_command(&Command::CreateDataNode {
            host: http_addr.to_string(),
            tcp_host: tcp_addr.to_string(),
            passive,
        })? {
            Response::Node { node } => Ok(node),
            other => Err(Error::Http(format!("unexpected reply {other:?}"))),
        }
    }

    /// Acquires or renews the lease `name` for `node_id` for the meta
    /// cluster's `lease-duration`, timed by the leader's clock. Another
    /// holder is reported as `meta::Error::LeaseConflict`.
    pub fn acquire_lease(&self, name: &str, node_id: u64) -> Result<meta::Lease> {
        let path = format!("/lease?name={}&nodeid={node_id}", encode_query(name));
        let r = self.request("GET", &path, None)?;
        if r.status != 200 {
            return Err(error_from_reply(&r));
        }
        let v: Value = serde_json::from_slice(&r.body)
            .map_err(|e| Error::Http(format!("bad /lease reply: {e}")))?;
        Ok(meta::Lease {
            name: v["name"].as_str().unwrap_or(name).to_string(),
            owner: v["owner"].as_u64().unwrap_or(node_id),
            expiration: v["expiration"].as_i64().unwrap_or(0),
        })
    }
}

/// A fresh idempotency key: 128 random bits in hex. Should the OS refuse
/// randomness, time, process and a counter mixed (uniqueness, not secrecy,
/// is what a key needs).
pub fn request_key() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let now = crate::node::now_nanos();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let seed = format!("{now}-{}-{n}", std::process::id());
        b[..8].copy_from_slice(&meta::fnv64a(seed.as_bytes()).to_le_bytes());
        b[8..].copy_from_slice(&(now as u64 ^ n.rotate_left(32)).to_le_bytes());
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Form-encodes a query value.
fn encode_query(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The error a non-2xx reply describes.
pub fn error_from_reply(r: &Reply) -> Error {
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    let message = v
        .get("error")
        .and_then(|e| e.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(&r.body).into_owned());
    if r.status == 503 && message == "no leader" {
        return Error::NoLeader;
    }
    let typed = v
        .get("meta_error")
        .and_then(|m| serde_json::from_value::<meta::Error>(m.clone()).ok());
    Error::Meta {
        message,
        status: r.status,
        error: typed,
    }
}

impl MetaClient {
    /// The cache, as authentication may use it: once no meta node with a
    /// leader has answered for `max_credential_staleness`, a copy whose
    /// password hashes are blank, so every password check fails while
    /// users, privileges and everything else stay readable.
    pub fn data_for_auth(&self) -> Arc<Data> {
        let d = self.data_cached();
        let age = self.inner.fresh_at.lock().elapsed();
        if age <= self.inner.opts.max_credential_staleness {
            return d;
        }
        let mut locked = self.inner.locked_out.lock();
        if let Some(l) = locked.as_ref().filter(|l| l.index == d.index) {
            return l.clone();
        }
        tracing::error!(
            stale_secs = age.as_secs(),
            "no meta node with a leader has answered for longer than \
             max-credential-staleness: password checks fail until one does"
        );
        let mut copy = (*d).clone();
        for u in &mut copy.users {
            u.hash.clear();
        }
        let copy = Arc::new(copy);
        *locked = Some(copy.clone());
        copy
    }
}

impl MetaStore for MetaClient {
    /// The cache ([`MetaClient::data_for_auth`]: with password hashes
    /// blanked once it is too old to authenticate with).
    fn data(&self) -> Arc<Data> {
        self.data_for_auth()
    }

    fn execute(&self, cmd: Command) -> meta::Result<Response> {
        match self.execute_command(&cmd) {
            Ok(r) => Ok(r),
            Err(Error::Meta { error: Some(e), .. }) => Err(e),
            Err(e) => Err(meta::Error::Storage(format!("meta service: {e}"))),
        }
    }

    fn refresh(&self) -> meta::Result<Arc<Data>> {
        MetaClient::refresh(self).map_err(|e| meta::Error::Storage(format!("meta service: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_with_user() -> Data {
        let mut d = Data::default();
        meta::state_machine::apply(
            &mut d,
            Command::CreateUser {
                name: "u".into(),
                hash: bcrypt_hash(),
                admin: true,
            },
        )
        .unwrap();
        d
    }

    fn bcrypt_hash() -> String {
        // A fixed bcrypt hash of "pw" (cost 4).
        "$2b$04$R0wE3cOFLd3pr0Y0mq5BS.uXr1UV8cZp4Cl7EJp7X5Ec0C6m7oJzW".to_string()
    }

    #[test]
    fn m4_stale_cache_stops_authenticating_users() {
        let opts = ClientOptions {
            max_credential_staleness: Duration::from_millis(50),
            ..Default::default()
        };
        let c = MetaClient::with_options(vec![], opts);
        let body = serde_json::to_vec(&data_with_user()).unwrap();
        c.absorb(&Reply {
            status: 200,
            body: body.clone(),
        })
        .unwrap();
        assert_eq!(MetaStore::data(&c).user("u").unwrap().hash, bcrypt_hash());
        std::thread::sleep(Duration::from_millis(80));
        // Too old: the user is still there (no bootstrap mode), but no
        // password can match.
        let stale = MetaStore::data(&c);
        let u = stale.user("u").unwrap();
        assert!(u.admin && u.hash.is_empty());
        let creds = meta::auth::CredentialCache::default();
        assert!(creds.authenticate(&stale, "u", "pw").is_err());
        // A fresh answer from a meta node restores it.
        c.absorb(&Reply { status: 200, body }).unwrap();
        assert_eq!(MetaStore::data(&c).user("u").unwrap().hash, bcrypt_hash());
    }
}
