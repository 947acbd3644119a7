//! The registry of running queries (SHOW QUERIES / KILL QUERY) and the
//! per-query cancel check scan loops call (kill flag, query timeout).
//!
//! Owns: query ids, their kill flags and start times. Must not: execute.

use crate::error::{Error, Result};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A query as listed by SHOW QUERIES.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningQuery {
    pub id: u64,
    pub query: String,
    pub database: String,
    pub duration: Duration,
    pub status: String,
}

/// The text of a running query, formatted only when somebody looks
/// (SHOW QUERIES, the slow-query log): most queries finish unobserved and
/// printing the AST costs more than a small query's scan.
pub struct QueryText {
    statement: Option<influxql::Statement>,
    text: std::sync::OnceLock<String>,
}

impl QueryText {
    pub fn new(statement: influxql::Statement) -> Self {
        QueryText {
            statement: Some(statement),
            text: std::sync::OnceLock::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        self.text.get_or_init(|| {
            self.statement
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        })
    }
}

impl From<&str> for QueryText {
    fn from(s: &str) -> Self {
        QueryText {
            statement: None,
            text: std::sync::OnceLock::from(s.to_string()),
        }
    }
}

impl std::fmt::Display for QueryText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Shared state of one running query.
pub struct Task {
    pub id: u64,
    pub query: QueryText,
    pub database: String,
    pub started: Instant,
    pub killed: AtomicBool,
    pub timeout: Duration,
}

impl Task {
    /// Err when the query was killed or ran past its timeout.
    pub fn check(&self) -> Result<()> {
        if self.killed.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        if !self.timeout.is_zero() && self.started.elapsed() > self.timeout {
            return Err(Error::Timeout);
        }
        Ok(())
    }
}

/// Running queries by id.
#[derive(Default)]
pub struct Registry {
    next: AtomicU64,
    tasks: Mutex<BTreeMap<u64, Arc<Task>>>,
}

impl Registry {
    /// Registers a query; it stays listed until the returned guard drops.
    pub fn start(
        self: &Arc<Self>,
        query: QueryText,
        database: String,
        timeout: Duration,
    ) -> TaskGuard {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let task = Arc::new(Task {
            id,
            query,
            database,
            started: Instant::now(),
            killed: AtomicBool::new(false),
            timeout,
        });
        self.tasks.lock().insert(id, task.clone());
        TaskGuard {
            registry: self.clone(),
            task,
        }
    }

    pub fn list(&self) -> Vec<RunningQuery> {
        self.tasks
            .lock()
            .values()
            .map(|t| RunningQuery {
                id: t.id,
                query: t.query.as_str().to_string(),
                database: t.database.clone(),
                duration: t.started.elapsed(),
                status: if t.killed.load(Ordering::Relaxed) {
                    "killed".into()
                } else {
                    "running".into()
                },
            })
            .collect()
    }

    pub fn kill(&self, id: u64) -> Result<()> {
        match self.tasks.lock().get(&id) {
            Some(t) => {
                t.killed.store(true, Ordering::Relaxed);
                Ok(())
            }
            None => Err(Error::NoSuchQuery(id)),
        }
    }

    pub fn len(&self) -> usize {
        self.tasks.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Unregisters its query on drop.
pub struct TaskGuard {
    registry: Arc<Registry>,
    pub task: Arc<Task>,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.registry.tasks.lock().remove(&self.task.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_and_list() {
        let r = Arc::new(Registry::default());
        let g = r.start("SELECT 1".into(), "db".into(), Duration::ZERO);
        assert_eq!(r.list().len(), 1);
        assert!(g.task.check().is_ok());
        r.kill(g.task.id).unwrap();
        assert_eq!(g.task.check(), Err(Error::Interrupted));
        assert!(r.kill(99).is_err());
        drop(g);
        assert!(r.is_empty());
    }

    #[test]
    fn h4_running_queries_show_no_passwords() {
        let r = Arc::new(Registry::default());
        let q = influxql::parse_query(
            "CREATE USER alice WITH PASSWORD 's3cret' WITH ALL PRIVILEGES; SET PASSWORD FOR alice = 's3cret'",
        )
        .unwrap();
        let guards: Vec<TaskGuard> = q
            .statements
            .iter()
            .map(|s| r.start(QueryText::new(s.clone()), "db".into(), Duration::ZERO))
            .collect();
        let shown: Vec<String> = r.list().into_iter().map(|q| q.query).collect();
        assert_eq!(
            shown,
            vec![
                "CREATE USER alice WITH PASSWORD [REDACTED] WITH ALL PRIVILEGES",
                "SET PASSWORD FOR alice = [REDACTED]"
            ]
        );
        // The slow-query log prints the same text.
        assert!(!guards[1].task.query.to_string().contains("s3cret"));
    }
}
