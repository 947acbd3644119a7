//! Canonical InfluxQL text for every AST node (InfluxDB's `String()` forms), so
//! that parse -> print -> parse yields an equal tree. The cluster forwards
//! queries as this text.
//!
//! Owns: `Display` impls and quoting helpers. Must not: parse.
//!
//! Deliberate differences from InfluxDB: float literals print with full
//! precision (InfluxDB prints `%.3f`, which loses digits) and passwords print
//! quoted instead of `[REDACTED]`, so the text round-trips.

use std::fmt::{self, Display, Formatter, Write};

use super::*;
use crate::duration::format_duration;
use crate::token::{lookup, Token};

/// Quote a string literal: `'it\'s'` (escapes `\n`, `\\`, `'`).
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn ident_needs_quotes(ident: &str) -> bool {
    if lookup(ident) != Token::Ident {
        return true;
    }
    for (i, c) in ident.chars().enumerate() {
        let ok = if i == 0 {
            c.is_ascii_alphabetic() || c == '_'
        } else {
            c.is_ascii_alphanumeric() || c == '_'
        };
        if !ok {
            return true;
        }
    }
    false
}

fn push_quoted_ident(out: &mut String, s: &str, force: bool) {
    let q = force || ident_needs_quotes(s);
    if q {
        out.push('"');
    }
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    if q {
        out.push('"');
    }
}

/// Quote one identifier only when needed (keywords, non-identifier characters, empty).
pub fn quote_ident(s: &str) -> String {
    quote_ident_segments(&[s])
}

/// Quote dotted identifier segments the way InfluxQL does (`"db".."m"`).
pub fn quote_ident_segments(segments: &[&str]) -> String {
    let mut out = String::new();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        let force = (i < last && !seg.is_empty()) || ((i == 0 || i == last) && seg.is_empty());
        push_quoted_ident(&mut out, seg, force);
        if i < last {
            out.push('.');
        }
    }
    out
}

fn join<T: Display>(f: &mut Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{it}")?;
    }
    Ok(())
}

/// Float literal text that the lexer reads back as the same NUMBER.
fn format_float(v: f64) -> String {
    let s3 = format!("{v:.3}");
    if s3.parse::<f64>().ok() == Some(v) {
        return s3;
    }
    let s = format!("{v}");
    if s.contains('.') || !v.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        join(f, &self.statements, ";\n")
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::VarRef(v) => write!(f, "{v}"),
            Expr::Call(c) => write!(f, "{c}"),
            Expr::Distinct(v) => write!(f, "DISTINCT {}", quote_ident(v)),
            Expr::Binary(b) => fmt_binary(f, b),
            Expr::Paren(e) => write!(f, "({e})"),
            Expr::Wildcard(WildcardKind::All) => f.write_str("*"),
            Expr::Wildcard(WildcardKind::Field) => f.write_str("*::field"),
            Expr::Wildcard(WildcardKind::Tag) => f.write_str("*::tag"),
            Expr::Regex(r) => write!(f, "{r}"),
            Expr::Integer(v) => write!(f, "{v}"),
            Expr::Unsigned(v) => write!(f, "{v}"),
            Expr::Number(v) => f.write_str(&format_float(*v)),
            Expr::String(s) => f.write_str(&quote_string(s)),
            Expr::Boolean(b) => f.write_str(if *b { "true" } else { "false" }),
            Expr::Duration(d) => f.write_str(&format_duration(*d)),
            Expr::Time(t) => write!(f, "'{}'", crate::timelit::format_rfc3339_nano(*t)),
            Expr::List(items) => {
                f.write_char('(')?;
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&quote_ident(it))?;
                }
                f.write_char(')')
            }
            Expr::Nil => f.write_str("<nil>"),
        }
    }
}

/// Print a binary expression. Left-deep chains (`a OR b OR c ...`, as long
/// Grafana-style conditions produce) are printed iteratively so that very long
/// chains do not exhaust the stack. Parentheses are added where a synthetic
/// tree needs them (the parser itself keeps explicit `Paren` nodes).
fn fmt_binary(f: &mut Formatter<'_>, b: &BinaryExpr) -> fmt::Result {
    // Walk down the left spine while no parentheses are needed there.
    let mut spine: Vec<&BinaryExpr> = vec![b];
    let mut cur = b;
    while let Expr::Binary(l) = &cur.lhs {
        if l.op.precedence() < cur.op.precedence() {
            break;
        }
        spine.push(l);
        cur = l;
    }
    // `cur` is the innermost node of the spine; print its lhs first.
    let lhs_paren = matches!(&cur.lhs, Expr::Binary(l) if l.op.precedence() < cur.op.precedence());
    if lhs_paren {
        write!(f, "({})", cur.lhs)?;
    } else {
        write!(f, "{}", cur.lhs)?;
    }
    for node in spine.iter().rev() {
        write!(f, " {} ", node.op.as_str())?;
        // AND and OR are associative (and alone at their precedence): a
        // balanced run (see the parser) prints as the flat text it came from.
        let rhs_paren = matches!(&node.rhs, Expr::Binary(r)
            if r.op.precedence() < node.op.precedence()
                || (r.op.precedence() == node.op.precedence()
                    && !matches!(node.op, BinaryOp::And | BinaryOp::Or)));
        if rhs_paren {
            write!(f, "({})", node.rhs)?;
        } else {
            write!(f, "{}", node.rhs)?;
        }
    }
    Ok(())
}

impl Display for VarRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&quote_ident(&self.name))?;
        if self.data_type != DataType::Unknown {
            write!(f, "::{}", self.data_type.as_str())?;
        }
        Ok(())
    }
}

impl Display for Call {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        join(f, &self.args, ", ")?;
        f.write_char(')')
    }
}

impl Display for RegexLit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.as_str().replace('/', "\\/"))
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        if let Some(a) = &self.alias {
            write!(f, " AS {}", quote_ident(a))?;
        }
        Ok(())
    }
}

impl Measurement {
    /// `db.rp.`, `db..` or `rp.` before the name (nothing when both are empty).
    fn fmt_qualifier(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.database.is_empty() {
            write!(f, "{}.", quote_ident(&self.database))?;
        }
        if !self.retention_policy.is_empty() {
            f.write_str(&quote_ident(&self.retention_policy))?;
        }
        if !self.database.is_empty() || !self.retention_policy.is_empty() {
            f.write_char('.')?;
        }
        Ok(())
    }
}

impl Display for Measurement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.fmt_qualifier(f)?;
        match &self.regex {
            Some(r) if self.name.is_empty() => write!(f, "{r}"),
            // An empty name (`FROM ""`) prints quoted, so the text parses
            // back; InfluxDB 1.x prints nothing there.
            _ => f.write_str(&quote_ident(&self.name)),
        }
    }
}

impl Display for Source {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Source::Measurement(m) => write!(f, "{m}"),
            Source::SubQuery(s) => write!(f, "({s})"),
        }
    }
}

impl Display for Target {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("INTO ")?;
        if self.measurement.name.is_empty() {
            self.measurement.fmt_qualifier(f)?;
            f.write_str(":MEASUREMENT")
        } else {
            write!(f, "{}", self.measurement)
        }
    }
}

impl Display for Dimension {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

impl Display for SortField {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.name.is_empty() {
            write!(f, "{} ", quote_ident(&self.name))?;
        }
        f.write_str(if self.ascending { "ASC" } else { "DESC" })
    }
}

impl Display for Privilege {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Privilege::NoPrivileges => "NO PRIVILEGES",
            Privilege::Read => "READ",
            Privilege::Write => "WRITE",
            Privilege::All => "ALL PRIVILEGES",
        })
    }
}

impl Display for TagKeyFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TagKeyFilter::Eq(k) => write!(f, "WITH KEY = {}", quote_ident(k)),
            TagKeyFilter::Neq(k) => write!(f, "WITH KEY != {}", quote_ident(k)),
            TagKeyFilter::In(ks) => {
                write!(f, "WITH KEY IN {}", Expr::List(ks.clone()))
            }
            TagKeyFilter::EqRegex(r) => write!(f, "WITH KEY =~ {r}"),
            TagKeyFilter::NeqRegex(r) => write!(f, "WITH KEY !~ {r}"),
        }
    }
}

struct Clauses<'a> {
    on: Option<&'a str>,
    sources: &'a [Source],
    condition: Option<&'a Expr>,
    dimensions: &'a [Dimension],
    sort: &'a [SortField],
    limit: u64,
    offset: u64,
}

impl Clauses<'_> {
    fn write(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(db) = self.on {
            write!(f, " ON {}", quote_ident(db))?;
        }
        self.write_from(f)?;
        self.write_tail(f)
    }
    fn write_from(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.sources.is_empty() {
            f.write_str(" FROM ")?;
            join(f, self.sources, ", ")?;
        }
        Ok(())
    }
    fn write_tail(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(c) = self.condition {
            write!(f, " WHERE {c}")?;
        }
        if !self.dimensions.is_empty() {
            f.write_str(" GROUP BY ")?;
            join(f, self.dimensions, ", ")?;
        }
        if !self.sort.is_empty() {
            f.write_str(" ORDER BY ")?;
            join(f, self.sort, ", ")?;
        }
        if self.limit > 0 {
            write!(f, " LIMIT {}", self.limit)?;
        }
        if self.offset > 0 {
            write!(f, " OFFSET {}", self.offset)?;
        }
        Ok(())
    }
}

impl Display for SelectStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        join(f, &self.fields, ", ")?;
        if let Some(t) = &self.target {
            write!(f, " {t}")?;
        }
        if !self.sources.is_empty() {
            f.write_str(" FROM ")?;
            join(f, &self.sources, ", ")?;
        }
        if let Some(c) = &self.condition {
            write!(f, " WHERE {c}")?;
        }
        if !self.dimensions.is_empty() {
            f.write_str(" GROUP BY ")?;
            join(f, &self.dimensions, ", ")?;
        }
        match self.fill {
            Fill::Null => {}
            Fill::None => f.write_str(" fill(none)")?,
            Fill::Previous => f.write_str(" fill(previous)")?,
            Fill::Linear => f.write_str(" fill(linear)")?,
            Fill::Number(FillNumber::Integer(v)) => write!(f, " fill({v})")?,
            Fill::Number(FillNumber::Float(v)) => write!(f, " fill({})", format_float(v))?,
        }
        if !self.sort_fields.is_empty() {
            f.write_str(" ORDER BY ")?;
            join(f, &self.sort_fields, ", ")?;
        }
        if self.limit > 0 {
            write!(f, " LIMIT {}", self.limit)?;
        }
        if self.offset > 0 {
            write!(f, " OFFSET {}", self.offset)?;
        }
        if self.slimit > 0 {
            write!(f, " SLIMIT {}", self.slimit)?;
        }
        if self.soffset > 0 {
            write!(f, " SOFFSET {}", self.soffset)?;
        }
        if let Some(tz) = &self.location {
            write!(f, " tz({})", quote_string(tz))?;
        }
        Ok(())
    }
}

fn opt_module(f: &mut Formatter<'_>, m: &Option<String>) -> fmt::Result {
    if let Some(m) = m {
        write!(f, " FOR {}", quote_string(m))?;
    }
    Ok(())
}

/// What InfluxDB prints in place of a password (`CREATE USER`, `SET
/// PASSWORD`): statement texts end up in SHOW QUERIES, logs and error
/// messages.
pub const REDACTED: &str = "[REDACTED]";

/// `CREATE USER` / `SET PASSWORD` with `password` printed as given
/// ([`REDACTED`] or the quoted password).
fn fmt_password_statement(f: &mut Formatter<'_>, s: &Statement, password: &str) -> fmt::Result {
    match s {
        Statement::CreateUser { name, admin, .. } => {
            write!(
                f,
                "CREATE USER {} WITH PASSWORD {password}",
                quote_ident(name)
            )?;
            if *admin {
                f.write_str(" WITH ALL PRIVILEGES")?;
            }
            Ok(())
        }
        Statement::SetPassword { name, .. } => {
            write!(f, "SET PASSWORD FOR {} = {password}", quote_ident(name))
        }
        other => write!(f, "{other}"),
    }
}

/// Prints a statement or query with its passwords, i.e. text that parses
/// back to the same AST. Only for what must reproduce the statement
/// (round-trip tests, forwarding a statement verbatim); never log it.
pub struct Unredacted<'a, T>(pub &'a T);

impl Statement {
    /// This statement's text with passwords (see [`Unredacted`]); plain
    /// `Display` prints `[REDACTED]` in their place, as InfluxDB does.
    pub fn unredacted(&self) -> Unredacted<'_, Statement> {
        Unredacted(self)
    }
}

impl Query {
    /// The query's text with passwords (see [`Unredacted`]).
    pub fn unredacted(&self) -> Unredacted<'_, Query> {
        Unredacted(self)
    }
}

impl Display for Unredacted<'_, Statement> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            Statement::CreateUser { password, .. } | Statement::SetPassword { password, .. } => {
                fmt_password_statement(f, self.0, &quote_string(password))
            }
            other => write!(f, "{other}"),
        }
    }
}

impl Display for Unredacted<'_, Query> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.statements.iter().enumerate() {
            if i > 0 {
                f.write_str(";\n")?;
            }
            write!(f, "{}", s.unredacted())?;
        }
        Ok(())
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use Statement as S;
        match self {
            S::Select(s) => write!(f, "{s}"),
            S::Explain(e) => {
                f.write_str("EXPLAIN ")?;
                if e.analyze {
                    f.write_str("ANALYZE ")?;
                }
                write!(f, "{}", e.statement)
            }
            S::Delete(d) => {
                f.write_str("DELETE")?;
                Clauses {
                    on: None,
                    sources: &d.sources,
                    condition: d.condition.as_ref(),
                    dimensions: &[],
                    sort: &[],
                    limit: 0,
                    offset: 0,
                }
                .write(f)
            }
            S::ShowDatabases => f.write_str("SHOW DATABASES"),
            S::ShowMeasurements(s) => {
                f.write_str("SHOW MEASUREMENTS")?;
                if s.database.is_some() || s.wildcard_database {
                    f.write_str(" ON ")?;
                    match &s.database {
                        Some(db) if !s.wildcard_database => f.write_str(&quote_ident(db))?,
                        _ => f.write_char('*')?,
                    }
                    if s.wildcard_retention_policy {
                        f.write_str(".*")?;
                    } else if let Some(rp) = &s.retention_policy {
                        write!(f, ".{}", quote_ident(rp))?;
                    }
                }
                if let Some(m) = &s.source {
                    if m.regex.is_some() && m.name.is_empty() {
                        write!(f, " WITH MEASUREMENT =~ {m}")?;
                    } else {
                        write!(f, " WITH MEASUREMENT = {m}")?;
                    }
                }
                Clauses {
                    on: None,
                    sources: &[],
                    condition: s.condition.as_ref(),
                    dimensions: &[],
                    sort: &s.sort_fields,
                    limit: s.limit,
                    offset: s.offset,
                }
                .write(f)
            }
            S::ShowSeries(s) => {
                f.write_str("SHOW SERIES")?;
                Clauses {
                    on: s.database.as_deref(),
                    sources: &s.sources,
                    condition: s.condition.as_ref(),
                    dimensions: &[],
                    sort: &s.sort_fields,
                    limit: s.limit,
                    offset: s.offset,
                }
                .write(f)
            }
            S::ShowTagKeys(s) => {
                f.write_str("SHOW TAG KEYS")?;
                let c = Clauses {
                    on: s.database.as_deref(),
                    sources: &s.sources,
                    condition: s.condition.as_ref(),
                    dimensions: &[],
                    sort: &s.sort_fields,
                    limit: s.limit,
                    offset: s.offset,
                };
                if let Some(db) = &s.database {
                    write!(f, " ON {}", quote_ident(db))?;
                }
                c.write_from(f)?;
                if let Some(k) = &s.tag_key {
                    write!(f, " {k}")?;
                }
                c.write_tail(f)?;
                if s.slimit > 0 {
                    write!(f, " SLIMIT {}", s.slimit)?;
                }
                if s.soffset > 0 {
                    write!(f, " SOFFSET {}", s.soffset)?;
                }
                Ok(())
            }
            S::ShowTagValues(s) => {
                f.write_str("SHOW TAG VALUES")?;
                let c = Clauses {
                    on: None,
                    sources: &s.sources,
                    condition: s.condition.as_ref(),
                    dimensions: &[],
                    sort: &s.sort_fields,
                    limit: s.limit,
                    offset: s.offset,
                };
                if let Some(db) = &s.database {
                    write!(f, " ON {}", quote_ident(db))?;
                }
                c.write_from(f)?;
                write!(f, " {}", s.tag_key)?;
                c.write_tail(f)
            }
            S::ShowFieldKeys(s) => {
                f.write_str("SHOW FIELD KEYS")?;
                Clauses {
                    on: s.database.as_deref(),
                    sources: &s.sources,
                    condition: None,
                    dimensions: &[],
                    sort: &s.sort_fields,
                    limit: s.limit,
                    offset: s.offset,
                }
                .write(f)
            }
            S::ShowCardinality(s) => {
                let what = match &s.kind {
                    CardinalityKind::Measurement => "MEASUREMENT",
                    CardinalityKind::Series => "SERIES",
                    CardinalityKind::TagKey => "TAG KEY",
                    CardinalityKind::TagValues(_) => "TAG VALUES",
                    CardinalityKind::FieldKey => "FIELD KEY",
                };
                write!(f, "SHOW {what} ")?;
                if s.exact {
                    f.write_str("EXACT ")?;
                }
                f.write_str("CARDINALITY")?;
                let c = Clauses {
                    on: None,
                    sources: &s.sources,
                    condition: s.condition.as_ref(),
                    dimensions: &s.dimensions,
                    sort: &[],
                    limit: s.limit,
                    offset: s.offset,
                };
                if let Some(db) = &s.database {
                    write!(f, " ON {}", quote_ident(db))?;
                }
                c.write_from(f)?;
                if let CardinalityKind::TagValues(k) = &s.kind {
                    write!(f, " {k}")?;
                }
                c.write_tail(f)
            }
            S::ShowRetentionPolicies { database } => {
                f.write_str("SHOW RETENTION POLICIES")?;
                if let Some(db) = database {
                    write!(f, " ON {}", quote_ident(db))?;
                }
                Ok(())
            }
            S::ShowUsers => f.write_str("SHOW USERS"),
            S::ShowGrants { user } => write!(f, "SHOW GRANTS FOR {}", quote_ident(user)),
            S::ShowContinuousQueries => f.write_str("SHOW CONTINUOUS QUERIES"),
            S::ShowSubscriptions => f.write_str("SHOW SUBSCRIPTIONS"),
            S::ShowShards => f.write_str("SHOW SHARDS"),
            S::ShowShardGroups => f.write_str("SHOW SHARD GROUPS"),
            S::ShowQueries => f.write_str("SHOW QUERIES"),
            S::ShowStats { module } => {
                f.write_str("SHOW STATS")?;
                opt_module(f, module)
            }
            S::ShowDiagnostics { module } => {
                f.write_str("SHOW DIAGNOSTICS")?;
                opt_module(f, module)
            }
            S::CreateDatabase(s) => {
                write!(f, "CREATE DATABASE {}", quote_ident(&s.name))?;
                if s.retention_policy_create {
                    f.write_str(" WITH")?;
                    if let Some(d) = s.retention_policy_duration {
                        write!(f, " DURATION {}", format_duration(d))?;
                    }
                    if let Some(r) = s.retention_policy_replication {
                        write!(f, " REPLICATION {r}")?;
                    }
                    if s.retention_policy_shard_group_duration > 0 {
                        write!(
                            f,
                            " SHARD DURATION {}",
                            format_duration(s.retention_policy_shard_group_duration)
                        )?;
                    }
                    if let Some(n) = &s.retention_policy_name {
                        write!(f, " NAME {}", quote_ident(n))?;
                    }
                }
                Ok(())
            }
            S::DropDatabase { name } => write!(f, "DROP DATABASE {}", quote_ident(name)),
            S::CreateRetentionPolicy(s) => {
                write!(
                    f,
                    "CREATE RETENTION POLICY {} ON {} DURATION {} REPLICATION {}",
                    quote_ident(&s.name),
                    quote_ident(&s.database),
                    format_duration(s.duration),
                    s.replication
                )?;
                if s.shard_group_duration > 0 {
                    write!(
                        f,
                        " SHARD DURATION {}",
                        format_duration(s.shard_group_duration)
                    )?;
                }
                if s.default {
                    f.write_str(" DEFAULT")?;
                }
                Ok(())
            }
            S::AlterRetentionPolicy(s) => {
                write!(
                    f,
                    "ALTER RETENTION POLICY {} ON {}",
                    quote_ident(&s.name),
                    quote_ident(&s.database)
                )?;
                if let Some(d) = s.duration {
                    write!(f, " DURATION {}", format_duration(d))?;
                }
                if let Some(r) = s.replication {
                    write!(f, " REPLICATION {r}")?;
                }
                if let Some(d) = s.shard_group_duration {
                    write!(f, " SHARD DURATION {}", format_duration(d))?;
                }
                if s.default {
                    f.write_str(" DEFAULT")?;
                }
                Ok(())
            }
            S::DropRetentionPolicy { name, database } => write!(
                f,
                "DROP RETENTION POLICY {} ON {}",
                quote_ident(name),
                quote_ident(database)
            ),
            S::CreateUser { .. } | S::SetPassword { .. } => {
                fmt_password_statement(f, self, REDACTED)
            }
            S::DropUser { name } => write!(f, "DROP USER {}", quote_ident(name)),
            S::Grant {
                privilege,
                database,
                user,
            } => write!(
                f,
                "GRANT {privilege} ON {} TO {}",
                quote_ident(database),
                quote_ident(user)
            ),
            S::GrantAdmin { user } => write!(f, "GRANT ALL PRIVILEGES TO {}", quote_ident(user)),
            S::Revoke {
                privilege,
                database,
                user,
            } => write!(
                f,
                "REVOKE {privilege} ON {} FROM {}",
                quote_ident(database),
                quote_ident(user)
            ),
            S::RevokeAdmin { user } => {
                write!(f, "REVOKE ALL PRIVILEGES FROM {}", quote_ident(user))
            }
            S::CreateContinuousQuery(s) => {
                write!(
                    f,
                    "CREATE CONTINUOUS QUERY {} ON {} ",
                    quote_ident(&s.name),
                    quote_ident(&s.database)
                )?;
                if s.resample_every > 0 || s.resample_for > 0 {
                    f.write_str("RESAMPLE ")?;
                    if s.resample_every > 0 {
                        write!(f, "EVERY {} ", format_duration(s.resample_every))?;
                    }
                    if s.resample_for > 0 {
                        write!(f, "FOR {} ", format_duration(s.resample_for))?;
                    }
                }
                write!(f, "BEGIN {} END", s.source)
            }
            S::DropContinuousQuery { name, database } => write!(
                f,
                "DROP CONTINUOUS QUERY {} ON {}",
                quote_ident(name),
                quote_ident(database)
            ),
            S::CreateSubscription(s) => {
                write!(
                    f,
                    "CREATE SUBSCRIPTION {} ON {}.{} DESTINATIONS {} ",
                    quote_ident(&s.name),
                    quote_ident(&s.database),
                    quote_ident(&s.retention_policy),
                    s.mode
                )?;
                for (i, d) in s.destinations.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&quote_string(d))?;
                }
                Ok(())
            }
            S::DropSubscription {
                name,
                database,
                retention_policy,
            } => write!(
                f,
                "DROP SUBSCRIPTION {} ON {}.{}",
                quote_ident(name),
                quote_ident(database),
                quote_ident(retention_policy)
            ),
            S::DropMeasurement { name } => write!(f, "DROP MEASUREMENT {}", quote_ident(name)),
            S::DropSeries(s) => {
                f.write_str("DROP SERIES")?;
                Clauses {
                    on: None,
                    sources: &s.sources,
                    condition: s.condition.as_ref(),
                    dimensions: &[],
                    sort: &[],
                    limit: 0,
                    offset: 0,
                }
                .write(f)
            }
            S::DropShard { id } => write!(f, "DROP SHARD {id}"),
            S::KillQuery { id, host } => {
                write!(f, "KILL QUERY {id}")?;
                if let Some(h) = host {
                    write!(f, " ON {}", quote_ident(h))?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_trees_get_needed_parentheses() {
        let a = || Expr::VarRef(VarRef::new("a"));
        let e = Expr::binary(
            Expr::binary(a(), BinaryOp::Add, Expr::Integer(1)),
            BinaryOp::Mul,
            Expr::binary(a(), BinaryOp::Sub, Expr::Integer(2)),
        );
        assert_eq!(e.to_string(), "(a + 1) * (a - 2)");
        let e = Expr::binary(a(), BinaryOp::Sub, Expr::binary(a(), BinaryOp::Sub, a()));
        assert_eq!(e.to_string(), "a - (a - a)");
        let e = Expr::binary(Expr::binary(a(), BinaryOp::Sub, a()), BinaryOp::Sub, a());
        assert_eq!(e.to_string(), "a - a - a");
    }

    #[test]
    fn literals() {
        assert_eq!(Expr::Number(1.0).to_string(), "1.000");
        assert_eq!(Expr::Number(0.1234567).to_string(), "0.1234567");
        assert_eq!(Expr::Duration(5_400_000_000_000).to_string(), "90m");
        assert_eq!(Expr::Time(0).to_string(), "'1970-01-01T00:00:00Z'");
        assert_eq!(Expr::Distinct("a b".into()).to_string(), "DISTINCT \"a b\"");
        assert_eq!(
            Expr::List(vec!["a".into(), "b c".into()]).to_string(),
            "(a, \"b c\")"
        );
    }
}
