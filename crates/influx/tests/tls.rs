//! `-ssl` and `-unsafeSsl` against a real InfluxDB 1.x serving HTTPS with a
//! self-signed certificate (made with `openssl`): with `-unsafeSsl` the query
//! runs; without it the certificate is refused with a clear error and a
//! non-zero exit. Skipped with a note when `/usr/bin/influxd` or `openssl`
//! is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tool(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

fn influx(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_influx"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ssl_flags_against_an_https_server() {
    let (Some(influxd), Some(openssl)) = (tool("influxd"), tool("openssl")) else {
        eprintln!("note: influxd or openssl not installed; skipping the TLS test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let ok = Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl could not make a certificate");
    let (port, rpc) = (free_port(), free_port());
    let d = dir.path().display();
    let conf = dir.path().join("influxdb.conf");
    std::fs::write(
        &conf,
        format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n\
             [meta]\n  dir = \"{d}/meta\"\n\
             [data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n\
             [monitor]\n  store-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:{port}\"\n  https-enabled = true\n  https-certificate = \"{}\"\n  https-private-key = \"{}\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let _server = Killed(
        Command::new(influxd)
            .args(["run", "-config"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let port_s = port.to_string();
    let base = ["-host", "localhost", "-port", port_s.as_str()];
    // Wait (bounded) until the HTTPS server answers through the CLI itself.
    let start = Instant::now();
    let (code, out, err) = loop {
        let mut args = base.to_vec();
        args.extend(["-ssl", "-unsafeSsl", "-execute", "SHOW DATABASES"]);
        let r = influx(&args);
        if r.0 == 0 || start.elapsed() > Duration::from_secs(30) {
            break r;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(code, 0, "-ssl -unsafeSsl failed: {out}{err}");
    assert!(out.contains("name: databases"), "{out}");

    let mut args = base.to_vec();
    args.extend(["-ssl", "-execute", "SHOW DATABASES"]);
    let (code, out, err) = influx(&args);
    assert_ne!(
        code, 0,
        "a self-signed certificate must be refused without -unsafeSsl"
    );
    assert!(
        err.to_lowercase().contains("certificate") || out.to_lowercase().contains("certificate"),
        "{out}{err}"
    );

    // Plain HTTP against the HTTPS port points at -ssl.
    let mut args = base.to_vec();
    args.extend(["-execute", "SHOW DATABASES"]);
    let (code, _, _) = influx(&args);
    assert_ne!(code, 0);
}
