//! InfluxQL (InfluxDB 1.x) lexer, parser and AST, plus pure helpers the query
//! executor needs (time-range extraction, walking/rewriting, classification).
//!
//! Owns: everything about InfluxQL text. Must not: do I/O or execute queries.

pub mod ast;
pub mod duration;
pub mod error;
pub mod timelit;
pub mod token;

pub use ast::*;
pub use error::{Error, ParseError, Pos, Result};
