//! Table-driven parser tests: every statement kind parses and prints back to
//! the canonical text, and error texts/positions match InfluxDB.

use super::*;

/// Parse `q` and return its canonical text.
fn canon(q: &str) -> String {
    match parse_statement(q) {
        Ok(s) => s.to_string(),
        Err(e) => panic!("{q}: {e}"),
    }
}

fn err(q: &str) -> String {
    match parse_query(q) {
        Ok(s) => panic!("{q}: expected error, got {s}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn smoke() {
    assert_eq!(canon("SELECT value FROM cpu"), "SELECT value FROM cpu");
}
