//! The InfluxQL abstract syntax tree: plain data types for every statement and
//! expression InfluxDB 1.x accepts.
//!
//! Owns: the node types and small accessors. Printing lives in `display`.
//! Must not: parse text, execute anything, or touch I/O.

mod display;

pub use display::{quote_ident, quote_ident_segments, quote_string, Unredacted, REDACTED};

use std::fmt;

/// A whole request: statements separated by `;`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub statements: Vec<Statement>,
}

/// One InfluxQL statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select(Box<SelectStatement>),
    Explain(ExplainStatement),
    Delete(DeleteStatement),

    ShowDatabases,
    ShowMeasurements(ShowMeasurementsStatement),
    ShowSeries(ShowSeriesStatement),
    ShowTagKeys(ShowTagKeysStatement),
    ShowTagValues(ShowTagValuesStatement),
    ShowFieldKeys(ShowFieldKeysStatement),
    /// `SHOW MEASUREMENT|SERIES|TAG KEY|TAG VALUES|FIELD KEY [EXACT] CARDINALITY ...`
    ShowCardinality(ShowCardinalityStatement),
    ShowRetentionPolicies {
        database: Option<String>,
    },
    ShowUsers,
    ShowGrants {
        user: String,
    },
    ShowContinuousQueries,
    ShowSubscriptions,
    ShowShards,
    ShowShardGroups,
    ShowQueries,
    ShowStats {
        module: Option<String>,
    },
    ShowDiagnostics {
        module: Option<String>,
    },

    CreateDatabase(CreateDatabaseStatement),
    DropDatabase {
        name: String,
    },
    CreateRetentionPolicy(CreateRetentionPolicyStatement),
    AlterRetentionPolicy(AlterRetentionPolicyStatement),
    DropRetentionPolicy {
        name: String,
        database: String,
    },

    CreateUser {
        name: String,
        password: String,
        admin: bool,
    },
    DropUser {
        name: String,
    },
    SetPassword {
        name: String,
        password: String,
    },
    /// `GRANT READ|WRITE|ALL ON db TO user`
    Grant {
        privilege: Privilege,
        database: String,
        user: String,
    },
    /// `GRANT ALL [PRIVILEGES] TO user`
    GrantAdmin {
        user: String,
    },
    /// `REVOKE READ|WRITE|ALL ON db FROM user`
    Revoke {
        privilege: Privilege,
        database: String,
        user: String,
    },
    /// `REVOKE ALL [PRIVILEGES] FROM user`
    RevokeAdmin {
        user: String,
    },

    CreateContinuousQuery(CreateContinuousQueryStatement),
    DropContinuousQuery {
        name: String,
        database: String,
    },

    CreateSubscription(CreateSubscriptionStatement),
    DropSubscription {
        name: String,
        database: String,
        retention_policy: String,
    },

    DropMeasurement {
        name: String,
    },
    DropSeries(DropSeriesStatement),
    DropShard {
        id: u64,
    },
    KillQuery {
        id: u64,
        host: Option<String>,
    },
}

impl Statement {
    /// True for statements that only read (SELECT without INTO, SHOW, EXPLAIN).
    pub fn is_read_only(&self) -> bool {
        use Statement as S;
        match self {
            S::Select(s) => s.target.is_none(),
            S::Explain(e) => e.statement.target.is_none(),
            S::ShowDatabases
            | S::ShowMeasurements(_)
            | S::ShowSeries(_)
            | S::ShowTagKeys(_)
            | S::ShowTagValues(_)
            | S::ShowFieldKeys(_)
            | S::ShowCardinality(_)
            | S::ShowRetentionPolicies { .. }
            | S::ShowUsers
            | S::ShowGrants { .. }
            | S::ShowContinuousQueries
            | S::ShowSubscriptions
            | S::ShowShards
            | S::ShowShardGroups
            | S::ShowQueries
            | S::ShowStats { .. }
            | S::ShowDiagnostics { .. } => true,
            _ => false,
        }
    }

    /// The SELECT inside this statement, if it is one (or an EXPLAIN of one).
    pub fn as_select(&self) -> Option<&SelectStatement> {
        match self {
            Statement::Select(s) => Some(s),
            Statement::Explain(e) => Some(&e.statement),
            _ => None,
        }
    }
}

/// `SELECT ...`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SelectStatement {
    pub fields: Vec<Field>,
    pub target: Option<Target>,
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
    pub dimensions: Vec<Dimension>,
    pub fill: Fill,
    pub sort_fields: Vec<SortField>,
    /// 0 means "no LIMIT" (as in InfluxDB).
    pub limit: u64,
    /// 0 means "no OFFSET".
    pub offset: u64,
    /// 0 means "no SLIMIT".
    pub slimit: u64,
    /// 0 means "no SOFFSET".
    pub soffset: u64,
    /// Time zone name given with `tz('...')`.
    pub location: Option<String>,
}

impl SelectStatement {
    /// True when the ORDER BY clause asks for descending time.
    pub fn time_descending(&self) -> bool {
        self.sort_fields.first().is_some_and(|f| !f.ascending)
    }
}

/// One projected column with an optional `AS alias`.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub expr: Expr,
    pub alias: Option<String>,
}

/// `INTO` clause. `measurement.name` is empty for `:MEASUREMENT`.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub measurement: Measurement,
}

/// A FROM source.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Measurement(Measurement),
    SubQuery(Box<SelectStatement>),
}

/// `db.rp.name` or `db.rp./regex/`; empty strings mean "not given".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Measurement {
    pub database: String,
    pub retention_policy: String,
    pub name: String,
    pub regex: Option<RegexLit>,
}

/// One GROUP BY element: `time(...)`, a tag, a regex or `*`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    pub expr: Expr,
}

/// `fill(...)` option.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Fill {
    #[default]
    Null,
    None,
    Previous,
    Linear,
    Number(FillNumber),
}

/// Numeric value of `fill(<n>)`, kept in the type it was written in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FillNumber {
    Integer(i64),
    Float(f64),
}

/// `ORDER BY [name] ASC|DESC`.
#[derive(Debug, Clone, PartialEq)]
pub struct SortField {
    /// Empty for a bare `ORDER BY DESC`.
    pub name: String,
    pub ascending: bool,
}

/// `EXPLAIN [ANALYZE] SELECT ...`
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainStatement {
    pub statement: Box<SelectStatement>,
    pub analyze: bool,
}

/// `DELETE [FROM ...] [WHERE ...]`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeleteStatement {
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
}

/// `DROP SERIES [FROM ...] [WHERE ...]`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DropSeriesStatement {
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
}

/// `SHOW MEASUREMENTS ...`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowMeasurementsStatement {
    pub database: Option<String>,
    pub wildcard_database: bool,
    pub retention_policy: Option<String>,
    pub wildcard_retention_policy: bool,
    /// `WITH MEASUREMENT = name` or `=~ /regex/`.
    pub source: Option<Measurement>,
    pub condition: Option<Expr>,
    pub sort_fields: Vec<SortField>,
    pub limit: u64,
    pub offset: u64,
}

/// `SHOW SERIES ...`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowSeriesStatement {
    pub database: Option<String>,
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
    pub sort_fields: Vec<SortField>,
    pub limit: u64,
    pub offset: u64,
}

/// `SHOW TAG KEYS ...`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowTagKeysStatement {
    pub database: Option<String>,
    pub sources: Vec<Source>,
    /// Optional `WITH KEY ...` filter.
    pub tag_key: Option<TagKeyFilter>,
    pub condition: Option<Expr>,
    pub sort_fields: Vec<SortField>,
    pub limit: u64,
    pub offset: u64,
    pub slimit: u64,
    pub soffset: u64,
}

/// `SHOW TAG VALUES ... WITH KEY ...`
#[derive(Debug, Clone, PartialEq)]
pub struct ShowTagValuesStatement {
    pub database: Option<String>,
    pub sources: Vec<Source>,
    pub tag_key: TagKeyFilter,
    pub condition: Option<Expr>,
    pub sort_fields: Vec<SortField>,
    pub limit: u64,
    pub offset: u64,
}

/// The `WITH KEY` clause of SHOW TAG KEYS / TAG VALUES.
#[derive(Debug, Clone, PartialEq)]
pub enum TagKeyFilter {
    Eq(String),
    Neq(String),
    In(Vec<String>),
    EqRegex(RegexLit),
    NeqRegex(RegexLit),
}

/// `SHOW FIELD KEYS ...`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowFieldKeysStatement {
    pub database: Option<String>,
    pub sources: Vec<Source>,
    pub sort_fields: Vec<SortField>,
    pub limit: u64,
    pub offset: u64,
}

/// What a SHOW ... CARDINALITY statement counts.
#[derive(Debug, Clone, PartialEq)]
pub enum CardinalityKind {
    Measurement,
    Series,
    TagKey,
    /// TAG VALUES cardinality carries its mandatory `WITH KEY` filter.
    TagValues(TagKeyFilter),
    FieldKey,
}

/// `SHOW <kind> [EXACT] CARDINALITY [ON db] [FROM ...] [WHERE ...] [GROUP BY ...] [LIMIT] [OFFSET]`
#[derive(Debug, Clone, PartialEq)]
pub struct ShowCardinalityStatement {
    pub kind: CardinalityKind,
    pub exact: bool,
    pub database: Option<String>,
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
    pub dimensions: Vec<Dimension>,
    pub limit: u64,
    pub offset: u64,
}

/// `CREATE DATABASE name [WITH ...]`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreateDatabaseStatement {
    pub name: String,
    /// True when a `WITH` clause was given.
    pub retention_policy_create: bool,
    /// Nanoseconds; `Some(0)` is INF.
    pub retention_policy_duration: Option<i64>,
    pub retention_policy_replication: Option<u32>,
    /// Nanoseconds, 0 = not given.
    pub retention_policy_shard_group_duration: i64,
    pub retention_policy_name: Option<String>,
}

/// `CREATE RETENTION POLICY ...`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreateRetentionPolicyStatement {
    pub name: String,
    pub database: String,
    /// Nanoseconds; 0 is INF.
    pub duration: i64,
    pub replication: u32,
    /// Nanoseconds; 0 = not given.
    pub shard_group_duration: i64,
    pub default: bool,
}

/// `ALTER RETENTION POLICY ...`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlterRetentionPolicyStatement {
    pub name: String,
    pub database: String,
    pub duration: Option<i64>,
    pub replication: Option<u32>,
    pub shard_group_duration: Option<i64>,
    pub default: bool,
}

/// User privilege levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Privilege {
    NoPrivileges,
    Read,
    Write,
    All,
}

/// `CREATE CONTINUOUS QUERY name ON db [RESAMPLE ...] BEGIN select END`
#[derive(Debug, Clone, PartialEq)]
pub struct CreateContinuousQueryStatement {
    pub name: String,
    pub database: String,
    pub source: Box<SelectStatement>,
    /// Nanoseconds, 0 = not given.
    pub resample_every: i64,
    /// Nanoseconds, 0 = not given.
    pub resample_for: i64,
}

/// `CREATE SUBSCRIPTION name ON db.rp DESTINATIONS ALL|ANY 'url', ...`
#[derive(Debug, Clone, PartialEq)]
pub struct CreateSubscriptionStatement {
    pub name: String,
    pub database: String,
    pub retention_policy: String,
    /// "ALL" or "ANY".
    pub mode: String,
    pub destinations: Vec<String>,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    VarRef(VarRef),
    Call(Call),
    /// `DISTINCT field` (the non-call form).
    Distinct(String),
    Binary(Box<BinaryExpr>),
    Paren(Box<Expr>),
    Wildcard(WildcardKind),
    Regex(RegexLit),
    Integer(i64),
    Unsigned(u64),
    Number(f64),
    String(String),
    Boolean(bool),
    /// Nanoseconds.
    Duration(i64),
    /// Absolute time in nanoseconds since the epoch (produced by rewrites, not by the parser).
    Time(i64),
    /// `(a, b, c)` identifiers, as in `WITH KEY IN (...)`.
    List(Vec<String>),
    Nil,
}

impl Expr {
    /// Build a binary expression.
    pub fn binary(lhs: Expr, op: BinaryOp, rhs: Expr) -> Expr {
        Expr::Binary(Box::new(BinaryExpr { op, lhs, rhs }))
    }

    /// Strip any number of enclosing parentheses.
    pub fn unparen(&self) -> &Expr {
        let mut e = self;
        while let Expr::Paren(inner) = e {
            e = inner;
        }
        e
    }
}

/// Reference to a field, tag or measurement name, with optional `::type` cast.
#[derive(Debug, Clone, PartialEq)]
pub struct VarRef {
    pub name: String,
    pub data_type: DataType,
}

impl VarRef {
    pub fn new(name: impl Into<String>) -> VarRef {
        VarRef {
            name: name.into(),
            data_type: DataType::Unknown,
        }
    }
}

/// `name(args...)`; `name` is lower-cased by the parser.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub args: Vec<Expr>,
}

/// `lhs op rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    pub op: BinaryOp,
    pub lhs: Expr,
    pub rhs: Expr,
}

/// Binary operators with InfluxQL precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    And,
    Or,
    In,
    Eq,
    Neq,
    EqRegex,
    NeqRegex,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl BinaryOp {
    /// InfluxQL precedence (higher binds tighter).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Neq
            | BinaryOp::EqRegex
            | BinaryOp::NeqRegex
            | BinaryOp::Lt
            | BinaryOp::Lte
            | BinaryOp::Gt
            | BinaryOp::Gte
            | BinaryOp::In => 3,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::BitOr | BinaryOp::BitXor => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::BitAnd => 5,
        }
    }

    /// The operator's text.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
            BinaryOp::In => "IN",
            BinaryOp::Eq => "=",
            BinaryOp::Neq => "!=",
            BinaryOp::EqRegex => "=~",
            BinaryOp::NeqRegex => "!~",
            BinaryOp::Lt => "<",
            BinaryOp::Lte => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Gte => ">=",
        }
    }

    /// Comparison operators (`=`, `!=`, `<`, ..., regex matches).
    pub fn is_comparison(self) -> bool {
        self.precedence() == 3
    }

    /// Arithmetic / bitwise math operators.
    pub fn is_math(self) -> bool {
        self.precedence() >= 4
    }
}

/// `*`, `*::field`, `*::tag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WildcardKind {
    All,
    Field,
    Tag,
}

/// Cast / type annotation of a [`VarRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DataType {
    #[default]
    Unknown,
    Float,
    Integer,
    Unsigned,
    String,
    Boolean,
    Tag,
    /// `::field`
    AnyField,
}

impl DataType {
    /// Text after `::`, empty for `Unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Unknown => "",
            DataType::Float => "float",
            DataType::Integer => "integer",
            DataType::Unsigned => "unsigned",
            DataType::String => "string",
            DataType::Boolean => "boolean",
            DataType::Tag => "tag",
            DataType::AnyField => "field",
        }
    }
}

/// A compiled regular expression literal; equality compares the source text.
#[derive(Clone)]
pub struct RegexLit(pub regex::Regex);

impl RegexLit {
    /// The pattern text (without slashes).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq for RegexLit {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl fmt::Debug for RegexLit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.0.as_str())
    }
}
