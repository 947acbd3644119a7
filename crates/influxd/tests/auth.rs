//! Authentication and authorisation end to end, with `[http] auth-enabled`:
//! the bootstrap rule (only an admin may be created first), credentials by
//! parameters and Basic auth, and InfluxDB's 401/403 texts for queries and
//! writes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Influxd;

#[test]
fn auth_flow_matches_influxdb() {
    let dir = tempfile::tempdir().unwrap();
    let n = Influxd::start_in(dir.path(), "  auth-enabled = true\n");

    let r = n.query("SHOW DATABASES", "");
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["error"],
        "error authorizing query: create admin user first or disable authentication"
    );
    let r = n.query(
        "CREATE USER admin WITH PASSWORD 'a' WITH ALL PRIVILEGES",
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let r = n.query("SHOW DATABASES", "");
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (401, Some("unable to parse authentication credentials"))
    );
    let r = n.query("SHOW DATABASES", "u=admin&p=wrong");
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (401, Some("authorization failed"))
    );

    let r = n.query(
        "CREATE DATABASE db; CREATE USER bob WITH PASSWORD 'b'; CREATE USER w WITH PASSWORD 'w'; GRANT WRITE ON db TO w",
        "u=admin&p=a",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.get("error").is_none()),
        "{}",
        r.body
    );

    let r = n.query("SELECT * FROM cpu", "u=bob&p=b&db=db");
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["error"],
        "error authorizing query: bob not authorized to execute statement 'SELECT * FROM cpu', requires READ on db"
    );
    let r = n.query("CREATE DATABASE y", "u=bob&p=b");
    assert_eq!(r.status, 403);

    // Writes: no credentials, wrong password, no privilege, privilege.
    assert_eq!(n.write("db=db", "cpu v=1").status, 401);
    assert_eq!(n.write("db=db&u=w&p=x", "cpu v=1").status, 401);
    let r = n.write("db=db&u=bob&p=b", "cpu v=1");
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["error"],
        "\"bob\" user is not authorized to write to database \"db\""
    );
    assert_eq!(n.write("db=db&u=w&p=w", "cpu v=1 1").status, 204);

    // Basic auth works like u/p.
    let basic = "Basic YWRtaW46YQ=="; // admin:a
    let r = n.request(
        "POST",
        &format!(
            "/query?db=db&epoch=ns&q={}",
            common::encode("SELECT v FROM cpu")
        ),
        &[("Authorization", basic)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["results"][0]["series"][0]["values"],
        serde_json::json!([[1, 1]])
    );
}
