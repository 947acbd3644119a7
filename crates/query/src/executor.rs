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
use models::TimeRange;
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
    /// Rows a time slice of a streamed (`chunked=true`) SELECT aims at.
    pub stream_slice_rows: usize,
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
            stream_slice_rows: STREAM_SLICE_ROWS,
        }
    }
}

/// Rows a time slice of a streamed SELECT aims at by default: large enough
/// that a block is decoded by few slices, small enough that a slice stays
/// in the tens of megabytes (a full 864,000-row TSBS export streams with a
/// 42 MB peak RSS).
pub const STREAM_SLICE_ROWS: usize = 50_000;

/// A piece of a chunked answer. Every series of `result` but the last is
/// complete; the last one continues in the next fragment unless `done`,
/// which also ends the statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Fragment {
    pub result: StatementResult,
    pub done: bool,
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
    /// The server's counters and configuration (SHOW STATS, SHOW
    /// DIAGNOSTICS); weak because the server owns this executor.
    system: std::sync::OnceLock<std::sync::Weak<dyn crate::system::SystemInfo>>,
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
            system: std::sync::OnceLock::new(),
        }
    }

    /// Connects SHOW STATS and SHOW DIAGNOSTICS to the server (once).
    pub fn set_system_info(&self, info: std::sync::Weak<dyn crate::system::SystemInfo>) {
        let _ = self.system.set(info);
    }

    pub(crate) fn system_info(&self) -> Option<Arc<dyn crate::system::SystemInfo>> {
        self.system.get().and_then(std::sync::Weak::upgrade)
    }

    /// Running queries.
    pub fn queries(&self) -> Vec<RunningQuery> {
        self.registry.list()
    }

    /// Kills a running query.
    pub fn kill(&self, id: u64) -> Result<()> {
        self.registry.kill(id)
    }

    /// Executes every statement, where it is called; one result per
    /// statement.
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

    /// Runs `query` for a chunked answer, handing `emit` one piece at a
    /// time (it returns false when nobody listens any more, which stops the
    /// query). A raw SELECT of one measurement streams in time slices of
    /// about [`ExecutorConfig::stream_slice_rows`] rows, so its memory stays bounded however
    /// large the answer; other statements arrive whole. Runs everything
    /// where it is called: call it off the async workers.
    pub fn execute_streaming(
        &self,
        query: &Query,
        ctx: &ExecutionContext,
        emit: &mut dyn FnMut(Fragment) -> bool,
    ) {
        let mut failed = false;
        for (i, stmt) in query.statements.iter().enumerate() {
            let streamed = match stmt {
                Statement::Select(s) if !failed && crate::select::streamable(s) => {
                    Some(self.stream_select(i, s, ctx, emit))
                }
                _ => None,
            };
            let ok = match streamed {
                Some(Ok(listening)) => {
                    if !listening {
                        return;
                    }
                    true
                }
                Some(Err(e)) => {
                    let result = StatementResult::error(i, e.to_string());
                    if !emit(Fragment { result, done: true }) {
                        return;
                    }
                    false
                }
                None => {
                    let result = if failed {
                        StatementResult::error(i, "not executed")
                    } else {
                        let single = Query {
                            statements: vec![stmt.clone()],
                        };
                        let mut r = self
                            .execute_with(&single, ctx, &crate::offload::InPlace)
                            .pop()
                            .unwrap_or_default();
                        r.statement_id = i;
                        r
                    };
                    let ok = result.error.is_none();
                    if !emit(Fragment { result, done: true }) {
                        return;
                    }
                    ok
                }
            };
            failed |= !ok;
        }
    }

    /// Streams one raw SELECT in adaptive time slices; Ok(false) when the
    /// listener went away.
    fn stream_select(
        &self,
        id: usize,
        stmt: &SelectStatement,
        ctx: &ExecutionContext,
        emit: &mut dyn FnMut(Fragment) -> bool,
    ) -> Result<bool> {
        let guard = self.registry.start(
            crate::registry::QueryText::new(Statement::Select(Box::new(stmt.clone()))),
            ctx.database.clone(),
            self.cfg.query_timeout,
        );
        let task = &guard.task;
        let data = self.meta.data();
        let cancel = || task.check();
        let env = self.env(&data, ctx, &cancel, &crate::offload::InPlace);
        let done = |id| Fragment {
            result: StatementResult {
                statement_id: id,
                ..Default::default()
            },
            done: true,
        };
        let Some((stmt, span)) = select::prepare_stream(&env, stmt)? else {
            return Ok(emit(done(id)));
        };
        // Slices are sized from block headers before they run: halve until a
        // slice holds about twice the target at most, double after a small
        // one. Memory stays bounded however the data is spread.
        let limit = 2 * self.cfg.stream_slice_rows.max(1) as u64;
        let mut step = ((span.max - span.min) / 64).max(1);
        let mut t = span.min;
        loop {
            task.check()?;
            let mut end = t.saturating_add(step - 1).min(span.max);
            let mut estimate = select::estimate_values(&env, &stmt, TimeRange::new(t, end), limit)?;
            while estimate > limit && end > t {
                step = (step / 2).max(1);
                end = t.saturating_add(step - 1).min(span.max);
                estimate = select::estimate_values(&env, &stmt, TimeRange::new(t, end), limit)?;
            }
            let series = select::run(&env, &select::with_time_range(&stmt, t, end))?;
            if series.iter().any(|s| !s.values.is_empty()) {
                let result = StatementResult {
                    statement_id: id,
                    series,
                    ..Default::default()
                };
                if !emit(Fragment {
                    result,
                    done: false,
                }) {
                    return Ok(false);
                }
            }
            if end >= span.max {
                break;
            }
            t = end + 1;
            if estimate < limit / 4 {
                step = step.saturating_mul(2);
            }
        }
        Ok(emit(done(id)))
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
            Statement::Explain(e) => self.explain(e, ctx, task, offload),
            _ => {
                if let Some(r) = crate::show::execute(self, stmt, ctx)? {
                    return Ok(r);
                }
                crate::ddl::execute(self, stmt, ctx)
            }
        }
    }

    /// EXPLAIN: where each iterator's data lives; EXPLAIN ANALYZE also runs
    /// the statement and reports its times and output.
    fn explain(
        &self,
        e: &influxql::ExplainStatement,
        ctx: &ExecutionContext,
        task: &Task,
        offload: &dyn crate::offload::Offload,
    ) -> Result<StatementResult> {
        let data = self.meta.data();
        let cancel = || task.check();
        let env = self.env(&data, ctx, &cancel, offload);
        let started = std::time::Instant::now();
        let (iters, shown) = select::explain(&env, &e.statement)?;
        if !e.analyze {
            return Ok(crate::show::query_plan(
                "QUERY PLAN",
                crate::explain::plan_lines(&iters),
            ));
        }
        let planning = started.elapsed();
        select::run(&env, &e.statement)?;
        let execution = started.elapsed() - planning;
        Ok(crate::show::query_plan(
            "EXPLAIN ANALYZE",
            crate::explain::analyze_tree(&shown, &iters, planning, execution),
        ))
    }

    /// What a SELECT runs against: this executor's storage and limits, the
    /// request's database and clock.
    fn env<'a>(
        &'a self,
        data: &'a meta::Data,
        ctx: &'a ExecutionContext,
        cancel: &'a (dyn Fn() -> Result<()> + Sync),
        offload: &'a dyn crate::offload::Offload,
    ) -> select::Env<'a> {
        select::Env {
            data,
            storage: self.storage.as_ref(),
            database: &ctx.database,
            retention_policy: &ctx.retention_policy,
            now: ctx.now,
            max_select_point: self.cfg.max_select_point,
            max_select_series: self.cfg.max_select_series,
            max_select_buckets: self.cfg.max_select_buckets,
            cancel,
            offload,
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
        let env = self.env(&data, ctx, &cancel, offload);
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
