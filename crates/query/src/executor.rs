//! The statement executor: the public API the HTTP layer calls. Dispatches
//! each statement of a query to DDL ([`crate::ddl`]), SHOW
//! ([`crate::show`]) or SELECT ([`crate::select`]), registers the query for
//! SHOW QUERIES / KILL QUERY, and applies InfluxDB's per-statement error
//! rules (after a failing statement the rest are "not executed").
//!
//! Owns: dispatch, configuration and the query registry handle. Must not:
//! format JSON or know HTTP.

use crate::error::{Error, Result};
use crate::registry::{Registry, RunningQuery, Task};
use crate::result::{Series, StatementResult, Value};
use crate::select;
use crate::storage::{PointSink, Storage};
use influxql::{Query, SelectStatement, Statement};
use std::sync::Arc;
use std::time::Duration;

/// Executor limits (InfluxDB's `[coordinator]` settings; 0 = unlimited).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutorConfig {
    pub max_select_point: u64,
    pub max_select_series: u64,
    pub max_select_buckets: u64,
    pub query_timeout: Duration,
    pub log_queries_after: Duration,
    pub max_concurrent_queries: u64,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig {
            max_select_point: 0,
            max_select_series: 0,
            max_select_buckets: 0,
            query_timeout: Duration::ZERO,
            log_queries_after: Duration::ZERO,
            max_concurrent_queries: 0,
        }
    }
}

/// Per-request context.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExecutionContext {
    /// `db=` parameter.
    pub database: String,
    /// `rp=` parameter.
    pub retention_policy: String,
    /// Nanoseconds; fixed for the whole request.
    pub now: i64,
    /// Authenticated user; None when auth is off.
    pub user: Option<String>,
    /// GET request: only SELECT/SHOW allowed.
    pub read_only: bool,
    pub host: String,
}

/// Executes InfluxQL statements against the meta store and local shards.
pub struct QueryExecutor {
    pub(crate) meta: Arc<dyn meta::MetaStore>,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) writer: Option<Arc<dyn PointSink>>,
    pub(crate) cfg: ExecutorConfig,
    pub(crate) registry: Arc<Registry>,
}

impl QueryExecutor {
    /// An executor over any [`Storage`] (the tsdb adapter, tests' memory
    /// storage, or a cluster-wide storage).
    pub fn with_storage(
        meta: Arc<dyn meta::MetaStore>,
        storage: Arc<dyn Storage>,
        writer: Option<Arc<dyn PointSink>>,
        cfg: ExecutorConfig,
    ) -> Self {
        QueryExecutor {
            meta,
            storage,
            writer,
            cfg,
            registry: Arc::new(Registry::default()),
        }
    }

    /// Running queries.
    pub fn queries(&self) -> Vec<RunningQuery> {
        self.registry.list()
    }

    /// Kills a running query.
    pub fn kill(&self, id: u64) -> Result<()> {
        self.registry.kill(id)
    }

    /// Executes every statement; one result per statement.
    /// Runs every statement where it is called.
    pub fn execute(&self, query: &Query, ctx: &ExecutionContext) -> Vec<StatementResult> {
        self.execute_with(query, ctx, &crate::offload::InPlace)
    }

    /// Runs small SELECTs where it is called and moves everything that may
    /// take long — large scans, DDL, SELECT INTO, subqueries, SHOW — through
    /// `offload` (see [`crate::offload`]).
    pub fn execute_with(
        &self,
        query: &Query,
        ctx: &ExecutionContext,
        offload: &dyn crate::offload::Offload,
    ) -> Vec<StatementResult> {
        let mut out = Vec::with_capacity(query.statements.len());
        let mut failed = false;
        for (i, stmt) in query.statements.iter().enumerate() {
            if failed {
                out.push(StatementResult::error(i, "not executed"));
                continue;
            }
            let max = self.cfg.max_concurrent_queries;
            if max > 0 && self.registry.len() as u64 >= max {
                failed = true;
                out.push(StatementResult::error(
                    i,
                    format!(
                        "max-concurrent-queries limit exceeded({}, {})",
                        self.registry.len(),
                        max
                    ),
                ));
                continue;
            }
            let text = crate::registry::QueryText::new(stmt.clone());
            let guard = self
                .registry
                .start(text, ctx.database.clone(), self.cfg.query_timeout);
            let r = if may_run_inline(stmt) {
                self.execute_statement(stmt, ctx, &guard.task, offload)
            } else {
                crate::offload::offloaded(offload, || {
                    self.execute_statement(stmt, ctx, &guard.task, offload)
                })
            };
            let took = guard.task.started.elapsed();
            let slow = self.cfg.log_queries_after;
            if !slow.is_zero() && took > slow {
                tracing::warn!(
                    query = %guard.task.query,
                    qid = guard.task.id,
                    database = %ctx.database,
                    elapsed = ?took,
                    "Detected slow query"
                );
            }
            drop(guard);
            match r {
                Ok(mut res) => {
                    res.statement_id = i;
                    out.push(res);
                }
                Err(e) => {
                    failed = true;
                    out.push(StatementResult::error(i, e.to_string()));
                }
            }
        }
        out
    }

    fn execute_statement(
        &self,
        stmt: &Statement,
        ctx: &ExecutionContext,
        task: &Task,
        offload: &dyn crate::offload::Offload,
    ) -> Result<StatementResult> {
        if ctx.read_only && !is_read_only(stmt) {
            // InfluxDB 1.6 runs it and warns.
            let text = self.normalized(stmt, ctx).to_string();
            let mut r = self.execute_statement(
                stmt,
                &ExecutionContext {
                    read_only: false,
                    ..ctx.clone()
                },
                task,
                offload,
            )?;
            r.messages.push(crate::result::Message {
                level: "warning".into(),
                text: format!(
                    "deprecated use of '{text}' in a read only context, please use a POST request instead"
                ),
            });
            return Ok(r);
        }
        match stmt {
            Statement::Select(s) => self.select(s, ctx, task, offload),
            Statement::Explain(e) => Ok(crate::show::explain(&e.statement)),
            _ => {
                if let Some(r) = crate::show::execute(self, stmt, ctx)? {
                    return Ok(r);
                }
                crate::ddl::execute(self, stmt, ctx)
            }
        }
    }

    /// Environment for running a SELECT.
    fn select(
        &self,
        stmt: &SelectStatement,
        ctx: &ExecutionContext,
        task: &Task,
        offload: &dyn crate::offload::Offload,
    ) -> Result<StatementResult> {
        let data = self.meta.data();
        let cancel = || task.check();
        let env = select::Env {
            data: &data,
            storage: self.storage.as_ref(),
            database: &ctx.database,
            retention_policy: &ctx.retention_policy,
            now: ctx.now,
            max_select_point: self.cfg.max_select_point,
            max_select_series: self.cfg.max_select_series,
            max_select_buckets: self.cfg.max_select_buckets,
            cancel: &cancel,
            offload,
        };
        let (series, into_tags) = select::run_into(&env, stmt)?;
        match &stmt.target {
            None => Ok(StatementResult {
                series,
                ..Default::default()
            }),
            Some(t) => self.write_into(t, series, &into_tags, ctx),
        }
    }

    fn write_into(
        &self,
        target: &influxql::Target,
        series: Vec<Series>,
        into_tags: &[String],
        ctx: &ExecutionContext,
    ) -> Result<StatementResult> {
        let m = &target.measurement;
        let db = if m.database.is_empty() {
            ctx.database.clone()
        } else {
            m.database.clone()
        };
        let mut points = Vec::new();
        for s in &series {
            let name = if m.name.is_empty() {
                s.name.clone()
            } else {
                m.name.clone()
            };
            let base_tags: Vec<(String, String)> =
                s.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            for row in &s.values {
                let mut time = 0;
                let mut fields = Vec::new();
                let mut tags = base_tags.clone();
                for (c, v) in s.columns.iter().zip(row) {
                    if into_tags.contains(c) {
                        if let Value::String(x) = v {
                            tags.push((c.clone(), x.clone()));
                        }
                        continue;
                    }
                    let fv = match v {
                        Value::Time(t) | Value::TimeTz(t, _) => {
                            time = *t;
                            continue;
                        }
                        Value::Null => continue,
                        Value::Bool(b) => models::FieldValue::Boolean(*b),
                        Value::Integer(i) => models::FieldValue::Integer(*i),
                        Value::Unsigned(u) => models::FieldValue::Unsigned(*u),
                        Value::Float(f) => models::FieldValue::Float(*f),
                        Value::String(x) => models::FieldValue::String(x.clone()),
                    };
                    fields.push((c.clone(), fv));
                }
                if !fields.is_empty() {
                    points.push(models::Point::new(name.clone(), tags.clone(), fields, time));
                }
            }
        }
        let written = points.len() as i64;
        if !points.is_empty() {
            let writer = self
                .writer
                .as_ref()
                .ok_or_else(|| Error::msg("no points writer configured"))?;
            writer.write(&db, &m.retention_policy, points, ctx.now)?;
        }
        Ok(StatementResult {
            series: vec![Series {
                name: "result".into(),
                columns: vec!["time".into(), "written".into()],
                values: vec![vec![Value::Time(0), Value::Integer(written)]],
                ..Default::default()
            }],
            ..Default::default()
        })
    }
}

/// A SELECT that writes nothing and reads no subquery decides for itself
/// whether it is small (see [`crate::select`]); every other statement runs
/// through the offload.
fn may_run_inline(stmt: &Statement) -> bool {
    match stmt {
        Statement::Select(s) => {
            s.target.is_none()
                && s.sources
                    .iter()
                    .all(|src| matches!(src, influxql::Source::Measurement(_)))
        }
        _ => false,
    }
}

fn is_read_only(stmt: &Statement) -> bool {
    match stmt {
        Statement::Select(s) => s.target.is_none(),
        Statement::Explain(_)
        | Statement::ShowDatabases
        | Statement::ShowMeasurements(_)
        | Statement::ShowSeries(_)
        | Statement::ShowTagKeys(_)
        | Statement::ShowTagValues(_)
        | Statement::ShowFieldKeys(_)
        | Statement::ShowCardinality(_)
        | Statement::ShowRetentionPolicies { .. }
        | Statement::ShowUsers
        | Statement::ShowGrants { .. }
        | Statement::ShowContinuousQueries
        | Statement::ShowSubscriptions
        | Statement::ShowShards
        | Statement::ShowShardGroups
        | Statement::ShowQueries
        | Statement::ShowStats { .. }
        | Statement::ShowDiagnostics { .. } => true,
        _ => false,
    }
}

impl QueryExecutor {
    /// The statement with SELECT sources and INTO target qualified by the
    /// request's database and its default retention policy (as InfluxDB
    /// echoes statements back).
    fn normalized(&self, stmt: &Statement, ctx: &ExecutionContext) -> Statement {
        let Statement::Select(sel) = stmt else {
            return stmt.clone();
        };
        let data = self.meta.data();
        let mut sel = sel.clone();
        let qualify = |m: &mut influxql::Measurement| {
            if m.database.is_empty() {
                m.database = ctx.database.clone();
            }
            if m.retention_policy.is_empty() {
                if let Some(d) = data.database(&m.database) {
                    m.retention_policy = d.default_retention_policy.clone();
                }
            }
        };
        for s in sel.sources.iter_mut() {
            if let influxql::Source::Measurement(m) = s {
                qualify(m);
            }
        }
        if let Some(t) = sel.target.as_mut() {
            qualify(&mut t.measurement);
        }
        Statement::Select(sel)
    }
}
