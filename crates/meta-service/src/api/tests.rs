//! Bad input to the HTTP API of a real single-server meta node on loopback:
//! malformed JSON, unknown node ids, invalid addresses and retention
//! durations, missing credentials — each gets a clear `{"error": ...}` with
//! the right status and leaves the metadata unchanged.

use crate::config::Config;
use crate::http_util;
use serde_json::Value;
use std::time::Duration;

struct TestNode {
    http: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(auth_secret: Option<&str>) -> TestNode {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config {
        hostname: "127.0.0.1".into(),
        ..Default::default()
    };
    cfg.meta.dir = dir.path().join("meta");
    cfg.meta.bind_address = format!("127.0.0.1:{}", port());
    cfg.meta.http_bind_address = format!("127.0.0.1:{}", port());
    if let Some(s) = auth_secret {
        cfg.meta.auth_enabled = true;
        cfg.meta.internal_shared_secret = s.into();
        cfg.meta.shared_secret = format!("{s}-jwt");
    }
    let http = cfg.http_advertise().unwrap();
    let bound = crate::server::bind(cfg).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        bound
            .serve(true, async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    let node = TestNode {
        http,
        stop: Some(tx),
        task: Some(task),
        _dir: dir,
    };
    let hdr = [(crate::network::SECRET_HEADER, auth_secret.unwrap_or(""))];
    for _ in 0..200 {
        if let Some((200, st)) = node.call("GET", "/status", None, &hdr).await {
            if st["state"] == "Leader" && st["index"].as_u64() >= Some(1) {
                return node;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("single-server node did not become leader");
}

impl TestNode {
    async fn call(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Option<(u16, Value)> {
        let url = format!("http://{}{path}", self.http);
        let body = body.map(|b| b.as_bytes().to_vec());
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tokio::task::spawn_blocking(move || {
            let r = http_util::request(
                &http_util::agent(),
                method,
                &url,
                body.as_deref(),
                &headers,
                Duration::from_secs(10),
            )
            .ok()?;
            Some((
                r.status,
                serde_json::from_slice(&r.body).unwrap_or(Value::Null),
            ))
        })
        .await
        .unwrap()
    }

    async fn post(&self, path: &str, body: &str) -> (u16, Value) {
        self.call("POST", path, Some(body), &[]).await.unwrap()
    }

    async fn data(&self) -> Value {
        self.call("GET", "/data", None, &[]).await.unwrap().1
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// Asserts an error answer with `status` whose text contains `needle`, and
/// that the metadata did not change.
async fn refused(node: &TestNode, path: &str, body: &str, status: u16, needle: &str) {
    let before = node.data().await;
    let (s, v) = node.post(path, body).await;
    assert_eq!(s, status, "{path} {body}: {v}");
    let text = v["error"].as_str().unwrap_or_default();
    assert!(text.contains(needle), "{path} {body}: {v}");
    assert_eq!(node.data().await, before, "{path} {body} changed the state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_without_state_change() {
    let node = start(None).await;
    let (s, v) = node.post("/add-data", r#"{"addr":"127.0.0.1:8088"}"#).await;
    assert_eq!(s, 200, "{v}");

    // Bootstrap chose a cluster id.
    assert_ne!(node.data().await["cluster_id"], 0);
    // update-data keeps the node's HTTP port on its new host.
    let (s, v) = node
        .post("/add-data", r#"{"addr":"old:8088","httpAddr":"old:9086"}"#)
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = node
        .post("/update-data", r#"{"old":"old:8088","new":"new:8188"}"#)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["host"].as_str(), v["tcp_host"].as_str()),
        (Some("new:9086"), Some("new:8188"))
    );

    refused(&node, "/execute", "{not json", 400, "invalid JSON body").await;
    refused(
        &node,
        "/execute",
        r#"{"type":"no_such_command"}"#,
        400,
        "invalid JSON body",
    )
    .await;
    refused(
        &node,
        "/execute",
        r#"{"type":"delete_data_node","id":99}"#,
        404,
        "node not found",
    )
    .await;
    refused(
        &node,
        "/execute",
        r#"{"type":"create_database","name":"db","rp":{"name":"short","duration":1000,"replica_n":null,"shard_group_duration":null},"retention_autocreate":true}"#,
        400,
        "retention policy duration must be at least 1h0m0s",
    )
    .await;
    refused(
        &node,
        "/execute",
        r#"{"type":"create_database","name":"a/b","rp":null,"retention_autocreate":true}"#,
        400,
        "invalid name",
    )
    .await;
    refused(
        &node,
        "/remove-data",
        r#"{"id":99}"#,
        404,
        "data node not found",
    )
    .await;
    refused(&node, "/remove-data", "[]", 400, "address or id required").await;
    refused(&node, "/remove-data", "7", 400, "invalid JSON body").await;
    refused(
        &node,
        "/update-data",
        r#"{"old":"nope:8088","new":"h:8088"}"#,
        404,
        "data node not found",
    )
    .await;
    refused(
        &node,
        "/update-data",
        r#"{"old":"127.0.0.1:8088","new":"no-port"}"#,
        400,
        "invalid address",
    )
    .await;
    refused(
        &node,
        "/add-data",
        r#"{"addr":"missing-port"}"#,
        400,
        "invalid address",
    )
    .await;
    refused(
        &node,
        "/remove-meta",
        r#"{"addr":"127.0.0.1:1"}"#,
        404,
        "meta node not found",
    )
    .await;
    refused(
        &node,
        "/add-meta",
        r#"{"address":"x"}"#,
        400,
        "invalid JSON body",
    )
    .await;

    // Leases: unknown node, missing arguments, and a conflict.
    let (s, v) = node
        .call("GET", "/lease?name=cq&nodeid=42", None, &[])
        .await
        .unwrap();
    assert_eq!((s, v["error"].as_str()), (404, Some("node not found")));
    let (s, _) = node
        .call("GET", "/lease?name=cq&nodeid=abc", None, &[])
        .await
        .unwrap();
    assert_eq!(s, 400);
    let (s, _) = node
        .call("GET", "/lease?nodeid=2", None, &[])
        .await
        .unwrap();
    assert_eq!(s, 400);
    let (s, v) = node
        .call("GET", "/lease?name=cq&nodeid=2", None, &[])
        .await
        .unwrap();
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["owner"], 2);
    let (s, v) = node
        .call("GET", "/lease?name=cq&nodeid=1", None, &[])
        .await
        .unwrap();
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["error"], "another node has the lease");
    assert_eq!(v["owner"], 2);

    // Shards: truncation with a bad delay, removal of unknown shards/owners.
    refused(
        &node,
        "/truncate-shards",
        r#"{"delay":"soon"}"#,
        400,
        "invalid duration",
    )
    .await;
    refused(
        &node,
        "/remove-shard",
        r#"{"addr":"127.0.0.1:8088","id":77}"#,
        404,
        "shard not found",
    )
    .await;
    refused(
        &node,
        "/remove-shard",
        r#"{"addr":"zz:8088","id":1}"#,
        404,
        "data node not found",
    )
    .await;
    let (s, v) = node
        .post(
            "/execute",
            r#"{"type":"create_database","name":"sh","rp":null,"retention_autocreate":true}"#,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let now = crate::node::now_nanos();
    let sg = format!(
        r#"{{"type":"create_shard_group","database":"sh","policy":"autogen","timestamp":{now}}}"#
    );
    assert_eq!(node.post("/execute", &sg).await.0, 200);
    let (s, v) = node.post("/truncate-shards", r#"{"delay":"1s"}"#).await;
    assert_eq!(s, 200, "{v}");
    let d = node.data().await;
    let sh = &d["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|db| db["name"] == "sh")
        .unwrap()["retention_policies"][0]["shard_groups"][0];
    assert!(sh["truncated_at"].as_i64().unwrap() > now, "{sh}");
    let shard_id = sh["shards"][0]["id"].as_u64().unwrap();
    let owner = sh["shards"][0]["owners"][0].as_u64().unwrap();
    let owner_addr = d["data_nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == owner)
        .unwrap()["tcp_host"]
        .as_str()
        .unwrap()
        .to_string();
    let body = format!(r#"{{"addr":"{owner_addr}","id":{shard_id}}}"#);
    let (s, v) = node.post("/remove-shard", &body).await;
    assert_eq!(s, 200, "{v}");
    refused(&node, "/remove-shard", &body, 400, "is not owned by").await;

    // A single-server cluster cannot lose its last member.
    let (s, v) = node.post("/leave", "{}").await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("cannot remove the last meta node"))
    );

    // Conflicts are 409 and keep the typed error for MetaClient.
    let user = r#"{"type":"create_user","name":"u","hash":"h1","admin":false}"#;
    assert_eq!(node.post("/execute", user).await.0, 200);
    let (s, v) = node
        .post(
            "/execute",
            r#"{"type":"create_user","name":"u","hash":"h2","admin":false}"#,
        )
        .await;
    assert_eq!((s, v["error"].as_str()), (409, Some("user already exists")));
    assert_eq!(v["meta_error"], "UserExists");

    let (s, _) = node
        .call("GET", "/data?index=abc", None, &[])
        .await
        .unwrap();
    assert_eq!(s, 400);
    let (s, _) = node
        .call("GET", "/debug/pprof/heap", None, &[])
        .await
        .unwrap();
    assert_eq!(s, 501);
    let (s, v) = node.call("GET", "/debug/vars", None, &[]).await.unwrap();
    assert_eq!(s, 200);
    assert_eq!(v["raft"]["state"], "Leader");
    let (s, v) = node.call("GET", "/nope", None, &[]).await.unwrap();
    assert_eq!((s, v["error"].as_str()), (404, Some("not found")));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_long_poll_returns_on_change() {
    let node = start(None).await;
    let index = node.data().await["index"].as_u64().unwrap();
    let path = format!("/data?index={index}");
    let t = std::time::Instant::now();
    let (poll, _) = tokio::join!(node.call("GET", &path, None, &[]), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        node.post("/add-data", r#"{"addr":"h:8088"}"#).await
    });
    let (s, d) = poll.unwrap();
    assert_eq!(s, 200);
    assert!(d["index"].as_u64().unwrap() > index);
    assert!(t.elapsed() < Duration::from_secs(5));
    // Without a change it waits for the given timeout, then answers.
    let index = d["index"].as_u64().unwrap();
    let t = std::time::Instant::now();
    let (s, d) = node
        .call("GET", &format!("/data?index={index}&timeout=1"), None, &[])
        .await
        .unwrap();
    assert_eq!((s, d["index"].as_u64()), (200, Some(index)));
    assert!(t.elapsed() >= Duration::from_millis(900));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_requires_the_shared_secret() {
    let node = start(Some("s3cret")).await;
    let (s, v) = node.call("GET", "/status", None, &[]).await.unwrap();
    assert_eq!(s, 401, "{v}");
    let (s, _) = node
        .call(
            "GET",
            "/status",
            None,
            &[(crate::network::SECRET_HEADER, "wrong")],
        )
        .await
        .unwrap();
    assert_eq!(s, 401);
    let (s, _) = node
        .call(
            "GET",
            "/status",
            None,
            &[(crate::network::SECRET_HEADER, "s3cret")],
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let (s, _) = node.call("GET", "/ping", None, &[]).await.unwrap();
    assert_eq!(s, 204);

    // JWTs signed with `shared-secret` (influxd-ctl -auth-type jwt).
    let now = crate::node::now_nanos() / 1_000_000_000;
    let good = format!(
        "Bearer {}",
        crate::jwt::sign("s3cret-jwt", "admin", now + 60)
    );
    let (s, _) = node
        .call("GET", "/status", None, &[("Authorization", &good)])
        .await
        .unwrap();
    assert_eq!(s, 200);
    let expired = format!(
        "Bearer {}",
        crate::jwt::sign("s3cret-jwt", "admin", now - 1)
    );
    let (s, v) = node
        .call("GET", "/status", None, &[("Authorization", &expired)])
        .await
        .unwrap();
    assert_eq!((s, v["error"].as_str()), (401, Some("token is expired")));
    let forged = format!("Bearer {}", crate::jwt::sign("guess", "admin", now + 60));
    let (s, v) = node
        .call(
            "POST",
            "/execute",
            Some("{}"),
            &[("Authorization", &forged)],
        )
        .await
        .unwrap();
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("signature is invalid"))
    );
    node.stop().await;
}

/// Query strings decode as forms (`+` is a space) and malformed escapes,
/// even before a multi-byte character, stay text instead of panicking.
#[test]
fn query_strings_decode_as_forms_without_panicking() {
    let q = super::parse_query("name=a+b%20c&x=%a\u{e9}&y=%zz&flag");
    assert_eq!(q["name"], "a b c");
    assert_eq!(q["x"], "%a\u{e9}");
    assert_eq!(q["y"], "%zz");
    assert_eq!(q["flag"], "");
}

/// M3 through the API: a DROP DATABASE resent with the same idempotency key
/// after the database was created again answers as the first time and
/// leaves the new database alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m3_resent_drop_database_is_applied_once() {
    let node = start(None).await;
    let create = r#"{"type":"create_database","name":"x","rp":null,"retention_autocreate":true}"#;
    let drop = r#"{"type":"once","key":"0123456789abcdef0123456789abcdef",
                   "command":{"type":"drop_database","name":"x"}}"#;
    assert_eq!(node.post("/execute", create).await.0, 200);
    assert_eq!(node.post("/execute", drop).await.0, 200);
    assert_eq!(node.post("/execute", create).await.0, 200);
    let (s, v) = node.post("/execute", drop).await;
    assert_eq!(s, 200, "{v}");
    let dbs = node.data().await["databases"].clone();
    assert_eq!(dbs[0]["name"], "x", "{dbs}");
    // The client wraps its commands the same way, with a fresh key each.
    let a = crate::client::request_key();
    assert_eq!(a.len(), 32);
    assert_ne!(a, crate::client::request_key());
    node.stop().await;
}

/// M9: a node that is a voter in the membership it knows refuses to wipe
/// its vote and log on `/internal/reset` or `/force-leave`, unless forced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m9_reset_refuses_to_wipe_a_voter_unless_forced() {
    let node = start(None).await;
    for path in ["/internal/reset", "/force-leave"] {
        let (s, v) = node.post(path, "{}").await;
        assert_eq!(s, 409, "{path}: {v}");
        assert!(
            v["error"].as_str().unwrap().contains("still a voter"),
            "{v}"
        );
        let st = node.call("GET", "/status", None, &[]).await.unwrap().1;
        assert_eq!(st["state"], "Leader", "{path} wiped a voter");
    }
    // A leader's word about a membership that still has this node is not
    // enough either.
    let stale = r#"{"reason":{"removed_by":{"voters":[1],"log_index":99}}}"#;
    assert_eq!(node.post("/internal/reset", stale).await.0, 409);
    let (s, v) = node.post("/force-leave", r#"{"force":true}"#).await;
    assert_eq!(s, 200, "{v}");
    let st = node.call("GET", "/status", None, &[]).await.unwrap().1;
    assert_eq!(st["state"], "Uninitialized");
    node.stop().await;
}

/// H1: with a secret configured, node-to-node `/internal/*` calls need it
/// even while `auth-enabled` is off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h1_internal_calls_need_the_secret() {
    let node = start(None).await;
    // No secret configured and a loopback caller: admitted (and refused by
    // M9 because this node is a voter).
    assert_eq!(node.post("/internal/reset", "{}").await.0, 409);
    node.stop().await;
    let node = start(Some("s3cret")).await;
    let (s, v) = node
        .call("POST", "/internal/reset", Some(r#"{"force":true}"#), &[])
        .await
        .unwrap();
    assert_eq!(s, 401, "{v}");
    let st = node
        .call(
            "GET",
            "/status",
            None,
            &[(crate::network::SECRET_HEADER, "s3cret")],
        )
        .await
        .unwrap()
        .1;
    assert_eq!(st["state"], "Leader");
    node.stop().await;
}
