//! Statement authorisation when `[http] auth-enabled`: which privilege each
//! InfluxQL statement requires (admin, or READ/WRITE on a database) and
//! InfluxDB 1.x's refusal texts. InfluxDB authorises a whole query before
//! running any statement of it, at the HTTP layer, with 403
//! `error authorizing query: ...`; so does Tidemark.

use influxql::{Source, Statement};
use meta::{Data, Privilege};

/// What a statement needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    None,
    Admin,
    On(Privilege, String),
}

/// When no admin user exists yet, InfluxDB only accepts the creation of one.
pub const CREATE_ADMIN_FIRST: &str = "create admin user first or disable authentication";

/// Whether the metadata holds at least one admin user.
pub fn admin_exists(data: &Data) -> bool {
    data.users.iter().any(|u| u.admin)
}

/// Checks a query for an unauthenticated caller while no admin exists:
/// only `CREATE USER ... WITH ALL PRIVILEGES` statements pass.
pub fn authorize_bootstrap(query: &influxql::Query) -> Result<(), String> {
    let ok = !query.statements.is_empty()
        && query
            .statements
            .iter()
            .all(|s| matches!(s, Statement::CreateUser { admin: true, .. }));
    if ok {
        Ok(())
    } else {
        Err(CREATE_ADMIN_FIRST.to_string())
    }
}

/// Checks every statement of `query` for `user`; `default_db` is the `db`
/// parameter.
pub fn authorize_query(
    data: &Data,
    user: &str,
    query: &influxql::Query,
    default_db: &str,
) -> Result<(), String> {
    let Some(u) = data.user(user) else {
        return Err("authorization failed".to_string());
    };
    if u.admin {
        return Ok(());
    }
    for stmt in &query.statements {
        for req in requirements(stmt, default_db) {
            let allowed = match &req {
                Requirement::None => true,
                Requirement::Admin => false,
                Requirement::On(p, db) => match u.privileges.get(db) {
                    Some(Privilege::All) => true,
                    Some(have) => have == p,
                    None => false,
                },
            };
            if !allowed {
                let needs = match req {
                    Requirement::Admin => "admin privilege".to_string(),
                    Requirement::On(p, db) => format!("{} on {db}", p.as_str()),
                    Requirement::None => String::new(),
                };
                return Err(format!(
                    "{user} not authorized to execute statement '{}', requires {needs}",
                    statement_text(stmt)
                ));
            }
        }
    }
    Ok(())
}

/// The statement as InfluxDB prints it in errors: influxql's `Display`
/// redacts passwords (`[REDACTED]`) as InfluxDB's `String()` does.
fn statement_text(stmt: &Statement) -> String {
    stmt.to_string()
}

fn or_default(db: &Option<String>, default_db: &str) -> String {
    db.clone().unwrap_or_else(|| default_db.to_string())
}

fn select_requirements(
    s: &influxql::SelectStatement,
    default_db: &str,
    out: &mut Vec<Requirement>,
) {
    for src in &s.sources {
        match src {
            Source::Measurement(m) => {
                let db = if m.database.is_empty() {
                    default_db
                } else {
                    &m.database
                };
                out.push(Requirement::On(Privilege::Read, db.to_string()));
            }
            Source::SubQuery(sub) => select_requirements(sub, default_db, out),
        }
    }
    if let Some(t) = &s.target {
        let db = if t.measurement.database.is_empty() {
            default_db
        } else {
            &t.measurement.database
        };
        out.push(Requirement::On(Privilege::Write, db.to_string()));
    }
}

fn requirements(stmt: &Statement, default_db: &str) -> Vec<Requirement> {
    use Requirement::*;
    let read = |db: String| On(Privilege::Read, db);
    match stmt {
        Statement::Select(s) => {
            let mut out = Vec::new();
            select_requirements(s, default_db, &mut out);
            out
        }
        Statement::Explain(e) => {
            let mut out = Vec::new();
            select_requirements(&e.statement, default_db, &mut out);
            out
        }
        Statement::ShowDatabases => vec![None],
        Statement::ShowMeasurements(s) => vec![read(or_default(&s.database, default_db))],
        Statement::ShowSeries(s) => vec![read(or_default(&s.database, default_db))],
        Statement::ShowTagKeys(s) => vec![read(or_default(&s.database, default_db))],
        Statement::ShowTagValues(s) => vec![read(or_default(&s.database, default_db))],
        Statement::ShowFieldKeys(s) => vec![read(or_default(&s.database, default_db))],
        Statement::ShowCardinality(s) => vec![read(or_default(&s.database, default_db))],
        Statement::ShowRetentionPolicies { database } => {
            vec![read(or_default(database, default_db))]
        }
        Statement::ShowContinuousQueries | Statement::ShowQueries => {
            vec![read(default_db.to_string())]
        }
        // READ on the CQ's database, READ on every source and WRITE on the
        // INTO target of its SELECT, unqualified names meaning the CQ's
        // database (where the CQ runs). InfluxDB 1.x checks only READ on
        // the database and WRITE on a qualified target; a CQ reading or
        // writing another database would let it read or write what its
        // creator may not (audit L9).
        Statement::CreateContinuousQuery(c) => {
            let mut out = vec![read(c.database.clone())];
            select_requirements(&c.source, &c.database, &mut out);
            out
        }
        Statement::DropContinuousQuery { database, .. } => {
            vec![On(Privilege::Write, database.clone())]
        }
        Statement::Delete(_) | Statement::DropSeries(_) => {
            vec![On(Privilege::Write, default_db.to_string())]
        }
        _ => vec![Admin],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meta::{state_machine::apply, Command};

    fn data() -> Data {
        let mut d = Data::default();
        for (name, admin) in [("admin", true), ("bob", false), ("w", false)] {
            apply(
                &mut d,
                Command::CreateUser {
                    name: name.into(),
                    hash: "h".into(),
                    admin,
                },
            )
            .unwrap();
        }
        apply(
            &mut d,
            Command::CreateDatabase {
                name: "db".into(),
                rp: Option::None,
                retention_autocreate: true,
            },
        )
        .unwrap();
        apply(
            &mut d,
            Command::SetPrivilege {
                user: "w".into(),
                database: "db".into(),
                privilege: Privilege::Write,
            },
        )
        .unwrap();
        d
    }

    fn check(user: &str, q: &str) -> Result<(), String> {
        authorize_query(&data(), user, &influxql::parse_query(q).unwrap(), "db")
    }

    #[test]
    fn texts_match_influxdb() {
        assert_eq!(
            check("bob", "SELECT * FROM cpu").unwrap_err(),
            "bob not authorized to execute statement 'SELECT * FROM cpu', requires READ on db"
        );
        assert_eq!(
            check("bob", "CREATE DATABASE y").unwrap_err(),
            "bob not authorized to execute statement 'CREATE DATABASE y', requires admin privilege"
        );
        assert_eq!(
            check("w", "SET PASSWORD FOR bob = 'c'").unwrap_err(),
            "w not authorized to execute statement 'SET PASSWORD FOR bob = [REDACTED]', requires admin privilege"
        );
    }

    #[test]
    fn privileges_are_honoured() {
        assert!(check("admin", "DROP DATABASE db").is_ok());
        assert!(check("bob", "SHOW DATABASES").is_ok());
        assert!(check("w", "DELETE FROM cpu").is_ok());
        assert!(check("w", "DROP SERIES FROM cpu").is_ok());
        assert!(check("w", "SHOW MEASUREMENTS").is_err());
        assert!(check("w", "SELECT * INTO db..x FROM cpu").is_err());
        assert!(check("nobody", "SHOW DATABASES").is_err());
    }

    #[test]
    fn l9_continuous_queries_need_read_on_sources_and_write_on_target() {
        // r: READ on db; w: WRITE on db; rw: ALL on db, READ on other.
        let mut d = data();
        apply(
            &mut d,
            Command::CreateDatabase {
                name: "other".into(),
                rp: Option::None,
                retention_autocreate: true,
            },
        )
        .unwrap();
        for (user, db, p) in [
            ("r", "db", Privilege::Read),
            ("rw", "db", Privilege::All),
            ("rw", "other", Privilege::Read),
        ] {
            apply(
                &mut d,
                Command::CreateUser {
                    name: user.into(),
                    hash: "h".into(),
                    admin: false,
                },
            )
            .ok();
            apply(
                &mut d,
                Command::SetPrivilege {
                    user: user.into(),
                    database: db.into(),
                    privilege: p,
                },
            )
            .unwrap();
        }
        let check =
            |user: &str, q: &str| authorize_query(&d, user, &influxql::parse_query(q).unwrap(), "");
        let cq = |into: &str, from: &str| {
            format!(
                "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(v) INTO {into} FROM {from} GROUP BY time(1m) END"
            )
        };
        // Reading db alone no longer lets a CQ write into it.
        assert_eq!(
            check("r", &cq("m2", "m")).unwrap_err(),
            "r not authorized to execute statement 'CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(v) INTO m2 FROM m GROUP BY time(1m) END', requires WRITE on db"
        );
        assert!(check("w", &cq("m2", "m"))
            .unwrap_err()
            .ends_with("requires READ on db"));
        assert!(check("rw", &cq("m2", "m")).is_ok());
        // Sources in another database need READ there, also in subqueries.
        assert!(check("rw", &cq("m2", "other.autogen.m")).is_ok());
        assert!(check("rw", &cq("m2", "secret.autogen.m"))
            .unwrap_err()
            .ends_with("requires READ on secret"));
        assert!(check("rw", &cq("m2", "(SELECT v FROM secret.autogen.m)"))
            .unwrap_err()
            .ends_with("requires READ on secret"));
        // The target's database needs WRITE.
        assert!(check("rw", &cq("other.autogen.m2", "m"))
            .unwrap_err()
            .ends_with("requires WRITE on other"));
        assert!(check("admin", &cq("x.autogen.m2", "y.autogen.m")).is_ok());
    }

    #[test]
    fn bootstrap_allows_only_admin_creation() {
        let q =
            influxql::parse_query("CREATE USER a WITH PASSWORD 'x' WITH ALL PRIVILEGES").unwrap();
        assert!(authorize_bootstrap(&q).is_ok());
        let q = influxql::parse_query("CREATE USER a WITH PASSWORD 'x'").unwrap();
        assert_eq!(authorize_bootstrap(&q).unwrap_err(), CREATE_ADMIN_FIRST);
    }
}

/// Issue 10 "must show": each hostile input of the audit goes through what
/// `/query` does — parse, authorise (as a READ-only user), execute against
/// the node's tsdb-backed executor — on a thread with tokio's 2 MiB worker
/// stack, and is answered (an error or rows); nothing aborts.
#[cfg(test)]
mod hostile_tests {
    use super::*;
    use crate::node::Node;
    use meta::Command;
    use std::sync::Arc;

    const SMALL_STACK_BYTES: usize = 2 << 20;
    const NOW: i64 = 1_000_000_000_000_000_000;

    fn node(dir: &std::path::Path) -> Arc<Node> {
        let mut c = crate::config::Config::default();
        c.meta.dir = dir.join("meta");
        c.data.dir = dir.join("data");
        c.data.wal_dir = dir.join("wal");
        let n = Node::open_standalone(c).unwrap();
        for cmd in [
            Command::CreateDatabase {
                name: "db".into(),
                rp: None,
                retention_autocreate: true,
            },
            Command::CreateUser {
                name: "bob".into(),
                hash: "h".into(),
                admin: false,
            },
            Command::SetPrivilege {
                user: "bob".into(),
                database: "db".into(),
                privilege: Privilege::Read,
            },
        ] {
            n.meta.execute(cmd).unwrap();
        }
        let lo = models::MIN_NANOS + 8 * 86_400 * 1_000_000_000;
        let hi = models::MAX_NANOS - 8 * 86_400 * 1_000_000_000;
        let mut body: String = (0..20)
            .map(|i| {
                format!(
                    "m,host=h{} v={i} {}\n",
                    i % 5,
                    (946_684_800_i64 + i * 60) * 1_000_000_000
                )
            })
            .collect();
        body.push_str(&format!("x v=1 {lo}\nx v=2 {hi}\n"));
        let pts = lineproto::parse_points(body.as_bytes(), models::Precision::Nanosecond, 0);
        assert!(pts.errors.is_empty(), "{:?}", pts.errors);
        n.writer
            .write("db", "", pts.points, cluster::Consistency::One, NOW)
            .unwrap();
        n
    }

    /// What `/query` would answer, shortened: `400 ...`, `403 ...`,
    /// `error: <statement error>` or `rows: <n>`.
    fn answer(n: &Arc<Node>, text: String) -> String {
        let n = n.clone();
        std::thread::Builder::new()
            .stack_size(SMALL_STACK_BYTES)
            .spawn(move || {
                let q = match influxql::parse_query(&text) {
                    Ok(q) => q,
                    Err(e) => return format!("400 error parsing query: {e}"),
                };
                if let Err(e) = authorize_query(&n.meta.data(), "bob", &q, "db") {
                    return format!("403 error authorizing query: {e}");
                }
                let ctx = query::ExecutionContext {
                    database: "db".into(),
                    now: NOW,
                    user: Some("bob".into()),
                    ..Default::default()
                };
                let r = n.executor.execute(&q, &ctx);
                match &r[0].error {
                    Some(e) => format!("error: {e}"),
                    None => format!(
                        "rows: {}",
                        r[0].series.iter().map(|s| s.values.len()).sum::<usize>()
                    ),
                }
            })
            .unwrap()
            .join()
            .expect("the statement panicked")
    }

    fn nest(levels: usize) -> String {
        let mut q = "SELECT v FROM m".to_string();
        for _ in 0..levels {
            q = format!("SELECT v FROM ({q})");
        }
        q
    }

    #[test]
    fn h3_m5_h5_m2_hostile_queries_are_answered_on_a_small_stack() {
        let dir = tempfile::tempdir().unwrap();
        let n = node(dir.path());
        let or =
            |term: &dyn Fn(usize) -> String| (0..10_000).map(term).collect::<Vec<_>>().join(" OR ");
        let (min, max) = (models::MIN_NANOS, models::MAX_NANOS);
        let cases: Vec<(&str, String, &str)> = vec![
            ("h3 at the limit", nest(32), "rows: 20"),
            (
                "h3 beyond",
                nest(33),
                "400 error parsing query: subqueries nested too deeply (limit 32)",
            ),
            (
                "h3 audit reproducer",
                nest(3_000),
                "400 error parsing query: subqueries nested too deeply (limit 32)",
            ),
            (
                "h3 in a continuous query",
                format!("CREATE CONTINUOUS QUERY c ON db BEGIN SELECT mean(v) INTO y FROM ({}) GROUP BY time(1m) END", nest(31)),
                "403 error authorizing query: bob not authorized",
            ),
            (
                "m5 tags",
                format!("SELECT v FROM m WHERE {}", or(&|i| format!("host = 'h{}'", i + 3))),
                "rows: 8",
            ),
            (
                "m5 fields",
                format!("SELECT v FROM m WHERE {}", or(&|i| format!("v = {}", i + 10))),
                "rows: 10",
            ),
            (
                "m5 arithmetic at the operator cap",
                format!("SELECT {} FROM m", vec!["v"; 20_001].join(" * ")),
                "400 error parsing query: expression nested too deeply (limit 512)",
            ),
            (
                "h5",
                "SELECT holt_winters(mean(v), 100000000000, 0) FROM m WHERE time >= 946684800s AND time < 946686000s GROUP BY time(1m)".into(),
                "error: second arg to holt_winters must be at most 100000, got 100000000000",
            ),
            (
                "m2 low end",
                format!("SELECT count(v) FROM x WHERE time >= {min} AND time <= 0 GROUP BY time(1d, 12h) fill(none) tz('America/Los_Angeles')"),
                "rows: 1",
            ),
            (
                "m2 high end",
                format!("SELECT difference(count(v)) FROM x WHERE time >= 0 AND time <= {max} GROUP BY time(1000w, 3d) fill(none)"),
                "rows: 0",
            ),
        ];
        for (name, q, want) in cases {
            let got = answer(&n, q);
            assert!(got.starts_with(want), "{name}: {got}");
        }
        // The node still answers afterwards.
        assert_eq!(answer(&n, "SELECT count(v) FROM m".into()), "rows: 1");
    }

    #[test]
    fn m6_newline_flood_body_is_answered() {
        let dir = tempfile::tempdir().unwrap();
        let n = node(dir.path());
        let body = vec![b'\n'; 25 << 20];
        let pts = lineproto::parse_points(&body, models::Precision::Nanosecond, 0);
        // At most one point per 6 bytes (`m v=1\n`) is reserved.
        assert!(pts.points.capacity() <= body.len() / 6 + 1);
        assert!(pts.points.is_empty() && pts.errors.is_empty());
        assert_eq!(answer(&n, "SELECT count(v) FROM m".into()), "rows: 1");
    }
}
