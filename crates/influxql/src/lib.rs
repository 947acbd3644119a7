//! InfluxQL (InfluxDB 1.x) lexer, parser and AST, plus pure helpers the query
//! executor needs (time-range extraction, walking/rewriting, classification,
//! duration and time-literal formatting).
//!
//! Owns: everything about InfluxQL text. Must not: do I/O or execute queries.
//!
//! Entry points: [`parse_query`], [`parse_query_with_params`],
//! [`parse_statement`], [`parse_expr`]; every AST node implements `Display`
//! with InfluxDB's canonical text (parse -> print -> parse is the identity),
//! except that passwords print as `[REDACTED]` as in InfluxDB: statement
//! texts reach SHOW QUERIES, logs and errors. `Statement::unredacted()` /
//! `Query::unredacted()` print them with passwords for the rare caller that
//! must reproduce the statement.
//!
//! Limits (parser/mod.rs) keep every recursive consumer of an AST within a
//! 2 MiB stack: 256 nested terms, 512 levels of expression tree, 20,000
//! operators and 32 nested subqueries per statement; long AND/OR runs are
//! built balanced.
//! `ParseError`'s `Display` is InfluxDB's text without the
//! `error parsing query: ` prefix, positions included.
//!
//! Modules: `token`/`lexer`/`parser` (text -> AST), `ast` (types + printing),
//! `params` (bound `$name` values), `duration`/`timelit`/`tz` (literals and
//! time zones), `condition` (WHERE -> time range + rest), `visit`
//! (walk/rewrite), `analyze` (raw/selector/aggregate, GROUP BY time),
//! `columns` (result column names).

pub mod analyze;
pub mod ast;
pub mod columns;
pub mod condition;
pub mod duration;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
mod lexer;
pub mod params;
pub mod parser;
pub mod timelit;
pub mod token;
pub mod tz;
pub mod visit;

pub use analyze::{group_by_interval, group_by_offset, is_raw_query, query_kind, QueryKind};
pub use ast::*;
pub use columns::{column_names, field_name};
pub use condition::{
    reduce_time, split_condition, split_condition_tz, TimeBounds, MAX_TIME, MIN_TIME,
};
pub use duration::{format_duration, format_go_duration, parse_duration};
pub use error::{Error, ParseError, Pos, Result};
pub use params::Param;
pub use parser::{parse_expr, parse_query, parse_query_with_params, parse_statement};
pub use timelit::{format_rfc3339_nano, parse_time_literal};
pub use tz::{parse_time_literal_in, window, Tz};
