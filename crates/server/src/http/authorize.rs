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

/// The statement as InfluxDB prints it in errors: passwords redacted.
fn statement_text(stmt: &Statement) -> String {
    match stmt {
        Statement::SetPassword { name, .. } => {
            format!(
                "SET PASSWORD FOR {} = [REDACTED]",
                influxql::quote_ident(name)
            )
        }
        Statement::CreateUser { name, admin, .. } => {
            let mut s = format!(
                "CREATE USER {} WITH PASSWORD [REDACTED]",
                influxql::quote_ident(name)
            );
            if *admin {
                s.push_str(" WITH ALL PRIVILEGES");
            }
            s
        }
        other => other.to_string(),
    }
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
        Statement::CreateContinuousQuery(c) => vec![read(c.database.clone())],
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
    fn bootstrap_allows_only_admin_creation() {
        let q =
            influxql::parse_query("CREATE USER a WITH PASSWORD 'x' WITH ALL PRIVILEGES").unwrap();
        assert!(authorize_bootstrap(&q).is_ok());
        let q = influxql::parse_query("CREATE USER a WITH PASSWORD 'x'").unwrap();
        assert_eq!(authorize_bootstrap(&q).unwrap_err(), CREATE_ADMIN_FIRST);
    }
}
