//! What SHOW STATS and SHOW DIAGNOSTICS report. The server knows its
//! counters and configuration; it hands them to the executor through
//! [`SystemInfo`].
//!
//! Owns: the contract and the shaping into series. Must not: collect
//! counters itself.

use crate::result::{Series, Value};
use std::collections::BTreeMap;

/// One statistics source, as InfluxDB's `/debug/vars` and SHOW STATS show
/// it: a module name, tags, and named values.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistic {
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub values: Vec<(String, Value)>,
}

/// The server's side of SHOW STATS and SHOW DIAGNOSTICS.
pub trait SystemInfo: Send + Sync {
    fn statistics(&self) -> Vec<Statistic>;
    /// One series per diagnostics module (`build`, `config-data`, ...).
    fn diagnostics(&self) -> Vec<Series>;
}

/// SHOW STATS [FOR 'module']: a series per source, columns sorted by name.
pub fn stats_series(stats: Vec<Statistic>, module: Option<&str>) -> Vec<Series> {
    stats
        .into_iter()
        .filter(|s| module.is_none_or(|m| m == s.name))
        .map(|mut s| {
            s.values.sort_by(|a, b| a.0.cmp(&b.0));
            let (columns, row): (Vec<String>, Vec<Value>) = s.values.into_iter().unzip();
            Series {
                name: s.name,
                tags: s.tags,
                columns,
                values: vec![row],
                partial: false,
            }
        })
        .collect()
}

/// SHOW DIAGNOSTICS [FOR 'module'].
pub fn diagnostics_series(all: Vec<Series>, module: Option<&str>) -> Vec<Series> {
    all.into_iter()
        .filter(|s| module.is_none_or(|m| m == s.name))
        .collect()
}
