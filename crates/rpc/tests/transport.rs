//! The transport end to end on loopback: a real server and the pooled
//! client, with the failures a cluster meets — an unknown sender, a wrong
//! secret, a node that is down, a node that stalls past the deadline.

#![allow(clippy::unwrap_used)]

use rpc::messages::{RequestHeader, WirePoint};
use rpc::{ClientConfig, DataNodeService, Handler, Peers, RpcError, Sender, WriteCode};
use rpc::{WriteShardRequest, WriteShardResponse};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

struct Recorder {
    points: AtomicU64,
    stall: Duration,
}

impl Handler for Recorder {
    fn check_sender(&self, h: &RequestHeader) -> Result<(), String> {
        if h.cluster_id != 7 {
            return Err(format!("cluster {} is not this cluster (7)", h.cluster_id));
        }
        if h.sender_node_id != 1 {
            return Err(format!("unknown data node {}", h.sender_node_id));
        }
        Ok(())
    }

    fn write_shard(&self, req: WriteShardRequest) -> WriteShardResponse {
        std::thread::sleep(self.stall);
        for p in req.points {
            if models::Point::try_from(p).is_err() {
                return WriteShardResponse::with(WriteCode::Rejected, "bad point", 1);
            }
            self.points.fetch_add(1, Ordering::Relaxed);
        }
        WriteShardResponse::ok()
    }
}

async fn start(
    secret: &str,
    stall: Duration,
) -> (String, Arc<Recorder>, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let rec = Arc::new(Recorder {
        points: AtomicU64::new(0),
        stall,
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let svc = DataNodeService::new(rec.clone(), secret);
    tokio::spawn(rpc::serve(listener, svc, async {
        let _ = rx.await;
    }));
    (addr, rec, tx)
}

fn request(n: usize) -> WriteShardRequest {
    let p = models::Point::new(
        "cpu".into(),
        vec![("host".into(), "a".into())],
        vec![("v".into(), models::FieldValue::Float(1.0))],
        1,
    );
    WriteShardRequest {
        header: None,
        shard_id: 1,
        database: "db".into(),
        retention_policy: "rp".into(),
        points: (0..n).map(|_| WirePoint::from(&p)).collect(),
    }
}

fn peers(cluster_id: u64, node_id: u64, secret: &str) -> Peers {
    Peers::new(
        ClientConfig {
            shared_secret: secret.into(),
            ..Default::default()
        },
        Sender {
            cluster_id,
            node_id,
        },
    )
}

const DEADLINE: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_arrive_and_strangers_are_refused() {
    let (addr, rec, _stop) = start("", Duration::ZERO).await;
    let p = peers(7, 1, "");
    for _ in 0..3 {
        let r = p.write_shard(&addr, request(10), DEADLINE).await.unwrap();
        assert_eq!(r.outcome(), WriteCode::Ok);
    }
    assert_eq!(rec.points.load(Ordering::Relaxed), 30);

    let err = peers(8, 1, "")
        .write_shard(&addr, request(1), DEADLINE)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RpcError::Refused {
                code: tonic::Code::PermissionDenied,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("cluster 8 is not this cluster"),
        "{err}"
    );
    let err = peers(7, 5, "")
        .write_shard(&addr, request(1), DEADLINE)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown data node 5"), "{err}");
    assert_eq!(rec.points.load(Ordering::Relaxed), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_internal_secret_is_required_when_configured() {
    let (addr, rec, _stop) = start("s3cret", Duration::ZERO).await;
    let err = peers(7, 1, "")
        .write_shard(&addr, request(1), DEADLINE)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RpcError::Refused {
                code: tonic::Code::Unauthenticated,
                ..
            }
        ),
        "{err}"
    );
    let err = peers(7, 1, "wrong!")
        .write_shard(&addr, request(1), DEADLINE)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::Refused { .. }), "{err}");
    peers(7, 1, "s3cret")
        .write_shard(&addr, request(1), DEADLINE)
        .await
        .unwrap();
    assert_eq!(rec.points.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_node_is_unreachable_and_a_stalled_one_times_out() {
    // Nothing listens on a port we just released.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let err = peers(7, 1, "")
        .write_shard(&addr, request(1), DEADLINE)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::Unreachable { .. }), "{err}");
    assert!(err.is_retryable());

    let (addr, _rec, _stop) = start("", Duration::from_millis(800)).await;
    let err = peers(7, 1, "")
        .write_shard(&addr, request(1), Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::Timeout { .. }), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_port_does_not_hurt_other_peers() {
    use tokio::io::AsyncWriteExt;
    let (addr, rec, _stop) = start("", Duration::ZERO).await;
    // A client speaking nonsense, and one sending a truncated HTTP/2 preface.
    for junk in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\xff\xff",
    ] {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let _ = s.write_all(junk).await;
        drop(s);
    }
    peers(7, 1, "")
        .write_shard(&addr, request(2), DEADLINE)
        .await
        .unwrap();
    assert_eq!(rec.points.load(Ordering::Relaxed), 2);
}

/// Accepts a join for meta servers `m1:8091` only; refuses every data
/// node as a sender (a meta node is none).
struct Joiner;

impl Handler for Joiner {
    fn check_sender(&self, _h: &RequestHeader) -> Result<(), String> {
        Err("not a data node".into())
    }

    fn write_shard(&self, _req: WriteShardRequest) -> WriteShardResponse {
        WriteShardResponse::ok()
    }

    fn join_cluster(
        &self,
        req: rpc::JoinClusterRequest,
    ) -> Result<rpc::JoinClusterResponse, String> {
        if req.meta_servers != ["m1:8091"] {
            return Err("already joined to cluster".into());
        }
        Ok(rpc::JoinClusterResponse {
            http_addr: "d1:8086".into(),
            tcp_addr: "d1:8088".into(),
        })
    }
}

fn join(servers: &[&str]) -> rpc::JoinClusterRequest {
    rpc::JoinClusterRequest {
        header: None,
        meta_servers: servers.iter().map(|s| s.to_string()).collect(),
        passive: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_cluster_checks_the_secret_not_the_sender_and_carries_refusals() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (_tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(rpc::serve(
        listener,
        DataNodeService::new(Arc::new(Joiner), "s3cret"),
        async {
            let _ = rx.await;
        },
    ));
    let deadline = Duration::from_secs(5);
    // A meta node (node id 0) with the secret: the handler answers.
    let ok = peers(9, 0, "s3cret")
        .join_cluster(&addr, join(&["m1:8091"]), deadline)
        .await
        .unwrap();
    assert_eq!(ok.http_addr, "d1:8086");
    assert_eq!(ok.tcp_addr, "d1:8088");
    // The handler's refusal reaches the caller with its text.
    match peers(9, 0, "s3cret")
        .join_cluster(&addr, join(&["m2:8091"]), deadline)
        .await
    {
        Err(RpcError::Refused { reason, .. }) => {
            assert!(reason.contains("already joined to cluster"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Without the secret: refused before the handler.
    match peers(9, 0, "wrong")
        .join_cluster(&addr, join(&["m1:8091"]), deadline)
        .await
    {
        Err(RpcError::Refused { code, .. }) => assert_eq!(code, tonic::Code::Unauthenticated),
        other => panic!("expected unauthenticated, got {other:?}"),
    }
}
