//! SELECT planning: wildcard/regex expansion, column naming, classification
//! of the projection into leaves (raw variables or aggregate calls) and an
//! expression tree per column evaluated on the merge side.
//!
//! Owns: turning the AST into a [`Plan`]. Must not: read data.

use super::eval::{is_math_function, literal};
use super::partial::AggKind;
use super::transform::{is_transform, Transform};
use crate::error::{Error, Result};
use crate::result::Value;
use influxql::{BinaryOp, Call, Expr, Field, SelectStatement, WildcardKind};
use models::FieldType;
use std::collections::BTreeMap;

/// An aggregate call leaf.
#[derive(Debug, Clone, PartialEq)]
pub struct AggSpec {
    pub kind: AggKind,
    pub field: String,
    /// Tag names given to top()/bottom() (one point per tag combination).
    pub tag_args: Vec<String>,
}

/// Suffix of a variable forced to be read as a tag (`name::tag`).
pub const TAG_SUFFIX: &str = "::tag";

/// Per-column expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Raw mode: a variable (index into `Plan::vars`); aggregate mode: an
    /// aggregate leaf (index into `Plan::aggs`).
    Leaf(usize),
    /// Aggregate mode: an auxiliary variable taken from the selected point.
    Aux(usize),
    /// Tag argument `j` of top()/bottom() leaf `i` (its own column).
    TagArg(usize, usize),
    Lit(Value),
    Bin(BinaryOp, Box<Node>, Box<Node>),
    Math(String, Vec<Node>),
    Tr(Transform, Box<Node>),
}

/// The field a cast to an impossible type reads (`f::string` of a float
/// field): no shard holds it, so it reads nothing, as in InfluxDB.
pub const ABSENT_FIELD: &str = "\u{0}absent";

/// A planned SELECT for one set of measurements.
#[derive(Debug, Clone)]
pub struct Plan {
    pub columns: Vec<String>,
    pub nodes: Vec<Node>,
    /// True when the statement aggregates.
    pub aggregate: bool,
    pub aggs: Vec<AggSpec>,
    /// Raw-mode variables, or aggregate-mode auxiliary variables.
    pub vars: Vec<String>,
    /// Columns that are only a tag in raw mode do not keep a row alive.
    pub interval: i64,
    pub offset: i64,
    pub group_tags: Vec<String>,
    pub group_all: bool,
    /// Variables that are tags (they do not keep a raw row alive).
    pub tag_vars: Vec<String>,
    /// Intervals of input needed before the start (transforms over windows).
    pub lookback: i64,
    /// Columns written as tags by SELECT INTO (top/bottom tag arguments).
    pub into_tags: Vec<String>,
    /// ORDER BY time DESC: transformations run over the newest point first,
    /// as InfluxDB streams them.
    pub descending: bool,
    /// Zone of `tz()`: windows align on local time, times carry the offset.
    pub zone: Option<std::sync::Arc<super::tz::Zone>>,
}

/// Start of the window of `interval` (> 0) aligned on `offset` holding
/// `t`, with local time running `zone` ns ahead of `t`; computed in i128 so
/// that no input overflows, clamped to the i64 range.
pub fn floor_window(t: i64, interval: i64, offset: i64, zone: i64) -> i64 {
    let t = i128::from(t);
    let local = t - i128::from(offset) + i128::from(zone);
    let start = t - local.rem_euclid(i128::from(interval));
    start.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

impl Plan {
    /// Start of the GROUP BY time window holding `t`. Exact for every
    /// `t` (the arithmetic runs in i128); a start before the representable
    /// range is clamped to `i64::MIN`.
    pub fn window_start(&self, t: i64) -> i64 {
        if self.interval <= 0 {
            return t;
        }
        match &self.zone {
            Some(z) => z.window_start(t, self.interval, self.offset),
            None => floor_window(t, self.interval, self.offset, 0),
        }
    }

    /// End (exclusive) of the window starting at `w`.
    pub fn window_end(&self, w: i64) -> i64 {
        match &self.zone {
            Some(z) => z.window_end(w, self.interval),
            None => w.saturating_add(self.interval),
        }
    }

    /// The output cell of a timestamp.
    pub fn time_value(&self, t: i64) -> Value {
        match &self.zone {
            Some(z) => Value::TimeTz(t, (z.offset(t) / 1_000_000_000) as i32),
            None => Value::Time(t),
        }
    }
}

/// The schema of the measurements a statement reads.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub fields: BTreeMap<String, FieldType>,
    pub tags: Vec<String>,
}

impl Schema {
    pub fn is_tag(&self, n: &str) -> bool {
        self.tags.iter().any(|t| t == n)
    }
}

fn is_agg_name(n: &str) -> bool {
    matches!(
        n,
        "count"
            | "sum"
            | "mean"
            | "median"
            | "mode"
            | "spread"
            | "stddev"
            | "distinct"
            | "integral"
            | "min"
            | "max"
            | "first"
            | "last"
            | "percentile"
            | "sample"
            | "top"
            | "bottom"
    )
}

fn numeric(t: FieldType) -> bool {
    matches!(
        t,
        FieldType::Float | FieldType::Integer | FieldType::Unsigned
    )
}

fn accepts(func: &str, t: FieldType) -> bool {
    match func {
        "count" | "first" | "last" | "distinct" | "mode" | "sample" => true,
        "min" | "max" => numeric(t) || t == FieldType::Boolean,
        _ => numeric(t),
    }
}

/// Display name of a field, as InfluxDB derives it.
pub fn field_name(f: &Field) -> String {
    if let Some(a) = &f.alias {
        return a.clone();
    }
    expr_name(&f.expr)
}

fn expr_name(e: &Expr) -> String {
    match e {
        Expr::Call(c) => c.name.clone(),
        Expr::Paren(i) => expr_name(i),
        Expr::VarRef(v) => v.name.clone(),
        Expr::Distinct(_) => "distinct".into(),
        Expr::Binary(_) => {
            let mut parts = Vec::new();
            bin_names(e, &mut parts);
            parts.join("_")
        }
        _ => String::new(),
    }
}

fn bin_names(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::VarRef(v) => out.push(v.name.clone()),
        Expr::Call(c) => out.push(c.name.clone()),
        Expr::Distinct(_) => out.push("distinct".into()),
        Expr::Paren(i) => bin_names(i, out),
        Expr::Binary(b) => {
            bin_names(&b.lhs, out);
            bin_names(&b.rhs, out);
        }
        _ => {}
    }
}

/// Expands `*`, `*::field`, `*::tag`, regexes and `f(*)` in the projection.
pub fn expand_fields(stmt: &SelectStatement, schema: &Schema, group_tags: &[String]) -> Vec<Field> {
    let mut out = Vec::new();
    for f in &stmt.fields {
        match f.expr.unparen() {
            Expr::Wildcard(kind) => {
                let mut names: Vec<(String, bool)> = Vec::new();
                if *kind != WildcardKind::Tag {
                    names.extend(schema.fields.keys().map(|k| (k.clone(), false)));
                }
                if *kind != WildcardKind::Field {
                    names.extend(
                        schema
                            .tags
                            .iter()
                            .filter(|t| !group_tags.contains(t))
                            .map(|t| (t.clone(), true)),
                    );
                }
                names.sort();
                names.dedup();
                for (n, is_tag) in names {
                    let mut v = influxql::VarRef::new(n);
                    if is_tag && schema.fields.contains_key(&v.name) {
                        v.data_type = influxql::DataType::Tag;
                    }
                    out.push(Field {
                        expr: Expr::VarRef(v),
                        alias: None,
                    });
                }
            }
            Expr::Regex(re) => {
                let mut names: Vec<String> = schema
                    .fields
                    .keys()
                    .cloned()
                    .chain(
                        schema
                            .tags
                            .iter()
                            .filter(|t| !group_tags.contains(t))
                            .cloned(),
                    )
                    .filter(|n| re.0.is_match(n))
                    .collect();
                names.sort();
                names.dedup();
                for n in names {
                    out.push(Field {
                        expr: Expr::VarRef(influxql::VarRef::new(n)),
                        alias: None,
                    });
                }
            }
            Expr::Call(c)
                if c.args
                    .first()
                    .is_some_and(|a| matches!(a.unparen(), Expr::Wildcard(_) | Expr::Regex(_))) =>
            {
                let re = match c.args[0].unparen() {
                    Expr::Regex(r) => Some(r.0.clone()),
                    _ => None,
                };
                for (name, t) in &schema.fields {
                    if re.as_ref().is_some_and(|r| !r.is_match(name)) || !accepts(&c.name, *t) {
                        continue;
                    }
                    let mut args = c.args.clone();
                    args[0] = Expr::VarRef(influxql::VarRef::new(name.clone()));
                    out.push(Field {
                        expr: Expr::Call(Call {
                            name: c.name.clone(),
                            args,
                        }),
                        alias: Some(format!(
                            "{}_{}",
                            f.alias.clone().unwrap_or_else(|| c.name.clone()),
                            name
                        )),
                    });
                }
            }
            Expr::VarRef(v) if v.name.eq_ignore_ascii_case("time") => {}
            _ => out.push(f.clone()),
        }
    }
    out
}

fn contains_agg(e: &Expr) -> bool {
    match e {
        Expr::Call(c) => is_agg_name(&c.name) || c.args.iter().any(contains_agg),
        Expr::Distinct(_) => true,
        Expr::Paren(i) => contains_agg(i),
        Expr::Binary(b) => contains_agg(&b.lhs) || contains_agg(&b.rhs),
        _ => false,
    }
}

struct Builder<'a> {
    plan: Plan,
    schema: &'a Schema,
}

impl Builder<'_> {
    fn var(&mut self, name: &str) -> usize {
        if let Some(i) = self.plan.vars.iter().position(|v| v == name) {
            return i;
        }
        self.plan.vars.push(name.to_string());
        self.plan.vars.len() - 1
    }

    fn agg(&mut self, spec: AggSpec) -> usize {
        if let Some(i) = self.plan.aggs.iter().position(|a| *a == spec) {
            return i;
        }
        self.plan.aggs.push(spec);
        self.plan.aggs.len() - 1
    }

    fn field_arg(&self, c: &Call) -> Result<String> {
        match c.args.first().map(|a| a.unparen()) {
            Some(Expr::VarRef(v)) => Ok(self.read_name(v)),
            _ => Err(Error::msg(format!(
                "expected field argument in {}()",
                c.name
            ))),
        }
    }

    /// The name a field reference reads: its own, or [`ABSENT_FIELD`] when
    /// a cast asks for a type the stored field cannot give.
    fn read_name(&self, v: &influxql::VarRef) -> String {
        if super::typecheck::cast_reads_field(v, self.schema) {
            v.name.clone()
        } else {
            ABSENT_FIELD.to_string()
        }
    }

    /// Compiles a projection expression. The recursion (parentheses,
    /// operators, math and transformations) stays in this small function;
    /// the rest lives in non-recursive helpers, so that a 512-level
    /// expression (the parser's limit) fits a 2 MiB stack in debug builds.
    fn compile(&mut self, e: &Expr) -> Result<Node> {
        match e {
            Expr::Paren(i) => self.compile(i),
            Expr::Binary(b) => {
                let l = self.compile(&b.lhs)?;
                let r = self.compile(&b.rhs)?;
                Ok(Node::Bin(b.op, Box::new(l), Box::new(r)))
            }
            Expr::Call(c) if is_math_function(&c.name) => {
                let mut args = Vec::with_capacity(c.args.len());
                for a in &c.args {
                    args.push(self.compile(a)?);
                }
                Ok(Node::Math(c.name.clone(), args))
            }
            Expr::Call(c) if is_transform(&c.name) => {
                let (t, inner) = self.transform_of(c)?;
                Ok(Node::Tr(t, Box::new(self.compile(inner)?)))
            }
            other => self.compile_leaf(other),
        }
    }

    /// The transformation a call names, checked as InfluxDB checks it, and
    /// the expression it transforms.
    #[inline(never)]
    fn transform_of<'e>(&mut self, c: &'e Call) -> Result<(Transform, &'e Expr)> {
        arg_count(c)?;
        let inner_is_agg = c.args.first().is_some_and(contains_agg);
        if c.name.starts_with("holt_winters") {
            holt_winters_args(c, inner_is_agg)?;
        }
        if matches!(
            c.name.as_str(),
            "relative_strength_index"
                | "triple_exponential_derivative"
                | "kaufmans_adaptive_moving_average"
        ) {
            momentum_args(c)?;
        }
        if !inner_is_agg && self.plan.interval > 0 {
            return Err(Error::msg(format!(
                "aggregate function required inside the call to {}",
                c.name
            )));
        }
        if inner_is_agg && self.plan.interval <= 0 {
            return Err(Error::msg(format!(
                "{} aggregate requires a GROUP BY interval",
                c.name
            )));
        }
        let unit_interval = if self.plan.aggregate {
            self.plan.interval
        } else {
            0
        };
        let t = Transform::from_call(&c.name, &c.args, unit_interval)
            .ok_or_else(|| Error::msg(format!("invalid arguments to {}()", c.name)))?;
        if self.plan.aggregate && self.plan.interval > 0 {
            self.plan.lookback = self.plan.lookback.max(t.lookback());
        }
        let inner = c.args.first().ok_or_else(|| {
            Error::msg(format!(
                "invalid number of arguments for {}, expected at least 1, got 0",
                c.name
            ))
        })?;
        Ok((t, inner))
    }

    /// Everything without sub-expressions to compile: references,
    /// aggregates, literals.
    #[inline(never)]
    fn compile_leaf(&mut self, e: &Expr) -> Result<Node> {
        Ok(match e {
            Expr::VarRef(v) => {
                let name = if v.data_type == influxql::DataType::Tag {
                    format!("{}{TAG_SUFFIX}", v.name)
                } else {
                    self.read_name(v)
                };
                let node = if self.plan.aggregate {
                    Node::Aux(self.var(&name))
                } else {
                    Node::Leaf(self.var(&name))
                };
                match v.data_type {
                    influxql::DataType::Float
                    | influxql::DataType::Integer
                    | influxql::DataType::Unsigned
                    | influxql::DataType::String
                    | influxql::DataType::Boolean => {
                        Node::Math(format!("::{}", v.data_type.as_str()), vec![node])
                    }
                    _ => node,
                }
            }
            Expr::Distinct(n) => Node::Leaf(self.agg(AggSpec {
                kind: AggKind::Distinct,
                field: n.clone(),
                tag_args: vec![],
            })),
            Expr::Call(c)
                if c.name == "count"
                    && matches!(c.args.first().map(|a| a.unparen()), Some(Expr::Call(d)) if d.name == "distinct") =>
            {
                let Some(Expr::Call(d)) = c.args.first().map(|a| a.unparen()) else {
                    return Err(Error::msg("count(distinct) expected"));
                };
                Node::Leaf(self.agg(AggSpec {
                    kind: AggKind::CountDistinct,
                    field: self.field_arg(d)?,
                    tag_args: vec![],
                }))
            }
            Expr::Call(c)
                if c.name == "count"
                    && matches!(c.args.first().map(|a| a.unparen()), Some(Expr::Distinct(_))) =>
            {
                let Some(Expr::Distinct(n)) = c.args.first().map(|a| a.unparen()) else {
                    return Err(Error::msg("count(distinct) expected"));
                };
                Node::Leaf(self.agg(AggSpec {
                    kind: AggKind::CountDistinct,
                    field: n.clone(),
                    tag_args: vec![],
                }))
            }
            Expr::Call(c) if is_agg_name(&c.name) => {
                arg_count(c)?;
                if let Some(Expr::Call(inner)) = c.args.first().map(|a| a.unparen()) {
                    if is_agg_name(&inner.name) {
                        return Err(Error::msg(format!(
                            "expected field argument in {}()",
                            c.name
                        )));
                    }
                }
                let kind = AggKind::from_call(&c.name, &c.args)
                    .ok_or_else(|| Error::msg(format!("invalid arguments to {}()", c.name)))?;
                let field = self.field_arg(c)?;
                let tag_args = if matches!(kind, AggKind::Top(_) | AggKind::Bottom(_)) {
                    c.args[1..c.args.len() - 1]
                        .iter()
                        .filter_map(|a| match a.unparen() {
                            Expr::VarRef(v) => Some(v.name.clone()),
                            _ => None,
                        })
                        .collect()
                } else {
                    vec![]
                };
                let _ = self.schema;
                Node::Leaf(self.agg(AggSpec {
                    kind,
                    field,
                    tag_args,
                }))
            }
            Expr::Call(c) => {
                return Err(Error::msg(format!("undefined function {}()", c.name)));
            }
            other => Node::Lit(literal(other).unwrap_or(Value::Null)),
        })
    }
}

/// InfluxDB's checks of the momentum indicators' (period, hold, warm-up).
fn momentum_args(c: &Call) -> Result<()> {
    let name = &c.name;
    let max = if name == "kaufmans_adaptive_moving_average" {
        3
    } else {
        4
    };
    let got = c.args.len();
    if got < 2 || got > max {
        return Err(Error::msg(format!(
            "invalid number of arguments for {name}, expected at least 2 but no more than {max}, got {got}"
        )));
    }
    match c.args[1].unparen() {
        Expr::Integer(p) if *p >= 1 => {}
        Expr::Integer(_) => {
            return Err(Error::msg(format!(
                "{name} period must be greater than or equal to 1"
            )))
        }
        _ => return Err(Error::msg(format!("{name} period must be an integer"))),
    }
    if let Some(h) = c.args.get(2) {
        match h.unparen() {
            Expr::Integer(h) if *h >= -1 => {}
            Expr::Integer(_) => {
                return Err(Error::msg(format!(
                    "{name} hold period must be greater than or equal to 0"
                )))
            }
            _ => return Err(Error::msg(format!("{name} hold period must be an integer"))),
        }
    }
    if let Some(w) = c.args.get(3) {
        match w.unparen() {
            Expr::String(w) if w == "exponential" || w == "simple" => {}
            Expr::String(_) => {
                return Err(Error::msg(format!(
                    "{name} warmup type must be one of: 'exponential' 'simple'"
                )))
            }
            _ => return Err(Error::msg(format!("{name} warmup type must be a string"))),
        }
    }
    Ok(())
}

/// InfluxDB's checks of `holt_winters[_with_fit](agg, N, S)`.
fn holt_winters_args(c: &Call, inner_is_agg: bool) -> Result<()> {
    if !inner_is_agg {
        return Err(Error::msg(format!(
            "must use aggregate function with {}",
            c.name
        )));
    }
    let int = |i: usize, nth: &str| match c.args.get(i).map(|a| a.unparen()) {
        Some(Expr::Integer(n)) => Ok(*n),
        _ => Err(Error::msg(format!(
            "expected integer argument as {nth} arg in {}",
            c.name
        ))),
    };
    let n = int(1, "second")?;
    if n <= 0 {
        return Err(Error::msg(format!(
            "second arg to {} must be greater than 0, got {n}",
            c.name
        )));
    }
    let max = super::holt_winters::MAX_FORECAST;
    if n > max {
        return Err(Error::msg(format!(
            "second arg to {} must be at most {max}, got {n}",
            c.name
        )));
    }
    let s = int(2, "third")?;
    if s < 0 {
        return Err(Error::msg(format!(
            "third arg to {} cannot be negative, got {s}",
            c.name
        )));
    }
    if s > max {
        return Err(Error::msg(format!(
            "third arg to {} must be at most {max}, got {s}",
            c.name
        )));
    }
    Ok(())
}

/// InfluxDB's argument-count checks.
fn arg_count(c: &Call) -> Result<()> {
    let got = c.args.len();
    let exact = |n: usize| {
        if got != n {
            Err(Error::msg(format!(
                "invalid number of arguments for {}, expected {n}, got {got}",
                c.name
            )))
        } else {
            Ok(())
        }
    };
    match c.name.as_str() {
        "percentile" | "sample" | "moving_average" => exact(2),
        "holt_winters" | "holt_winters_with_fit" => exact(3),
        "top" | "bottom" if got < 2 => Err(Error::msg(format!(
            "invalid number of arguments for {}, expected at least 2, got {got}",
            c.name
        ))),
        "count" | "sum" | "mean" | "median" | "mode" | "spread" | "stddev" | "distinct" | "min"
        | "max" | "first" | "last" | "cumulative_sum" => exact(1),
        "derivative" | "non_negative_derivative" | "elapsed" | "integral" if got == 0 || got > 2 => {
            Err(Error::msg(format!(
                "invalid number of arguments for {}, expected at least 1 but no more than 2, got {got}",
                c.name
            )))
        }
        "difference" | "non_negative_difference" => exact(1),
        _ => Ok(()),
    }
}

/// Name of the function behind an aggregate kind.
fn agg_name(k: &AggKind) -> &'static str {
    match k {
        AggKind::Count | AggKind::CountDistinct => "count",
        AggKind::Sum => "sum",
        AggKind::Mean => "mean",
        AggKind::Median => "median",
        AggKind::Mode => "mode",
        AggKind::Spread => "spread",
        AggKind::Stddev => "stddev",
        AggKind::Distinct => "distinct",
        AggKind::Integral(_) => "integral",
        AggKind::Min => "min",
        AggKind::Max => "max",
        AggKind::First => "first",
        AggKind::Last => "last",
        AggKind::Percentile(_) => "percentile",
        AggKind::Sample(_) => "sample",
        AggKind::Top(_) => "top",
        AggKind::Bottom(_) => "bottom",
    }
}

/// `unsupported <fn> iterator type: ...` for a function over a field type
/// it does not accept.
fn check_types(plan: &Plan, schema: &Schema) -> Result<()> {
    let iter_type = |t: FieldType| match t {
        FieldType::String => "string",
        FieldType::Boolean => "boolean",
        FieldType::Integer => "integer",
        FieldType::Unsigned => "unsigned",
        FieldType::Float => "float",
    };
    for a in &plan.aggs {
        let Some(t) = schema.fields.get(&a.field) else {
            continue;
        };
        let name = agg_name(&a.kind);
        if !accepts(name, *t) {
            return Err(Error::msg(format!(
                "unsupported {name} iterator type: *query.{}InterruptIterator",
                iter_type(*t)
            )));
        }
    }
    fn raw_transform<'a>(n: &'a Node, out: &mut Vec<(&'a Transform, usize)>) {
        match n {
            Node::Tr(t, inner) => {
                if let Node::Leaf(i) = **inner {
                    out.push((t, i));
                }
                raw_transform(inner, out);
            }
            Node::Bin(_, a, b) => {
                raw_transform(a, out);
                raw_transform(b, out);
            }
            Node::Math(_, a) => a.iter().for_each(|x| raw_transform(x, out)),
            _ => {}
        }
    }
    if !plan.aggregate {
        let mut trs = Vec::new();
        plan.nodes.iter().for_each(|n| raw_transform(n, &mut trs));
        for (t, i) in trs {
            if let Some(ft) = schema.fields.get(&plan.vars[i]) {
                if matches!(ft, FieldType::String | FieldType::Boolean)
                    && !matches!(t, Transform::Elapsed(_))
                {
                    // InfluxDB names the iterator in words, and the
                    // non-negative variants after their base function.
                    let name = t.name();
                    let name = name.strip_prefix("non_negative_").unwrap_or(name);
                    return Err(Error::msg(format!(
                        "unsupported {} iterator type: *query.{}InterruptIterator",
                        name.replace('_', " "),
                        iter_type(*ft)
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Builds the plan of `stmt` against `schema`.
pub fn build(stmt: &SelectStatement, schema: &Schema) -> Result<Plan> {
    let mut interval = 0;
    let mut offset = 0;
    let mut group_tags = Vec::new();
    let mut group_all = false;
    for d in &stmt.dimensions {
        match d.expr.unparen() {
            Expr::Call(c) if c.name == "time" => {
                interval = match c.args.first().map(|a| a.unparen()) {
                    Some(Expr::Duration(d)) => *d,
                    _ => return Err(Error::msg("time dimension expected 1 or 2 arguments")),
                };
                offset = match c.args.get(1).map(|a| a.unparen()) {
                    Some(Expr::Duration(d)) => *d,
                    Some(Expr::Integer(i)) => *i,
                    _ => 0,
                };
            }
            Expr::VarRef(v) if !group_tags.contains(&v.name) => group_tags.push(v.name.clone()),
            Expr::Wildcard(_) => group_all = true,
            Expr::Regex(re) => {
                for t in &schema.tags {
                    if re.0.is_match(t) && !group_tags.contains(t) {
                        group_tags.push(t.clone());
                    }
                }
            }
            _ => {}
        }
    }
    if group_all {
        group_tags = schema.tags.clone();
    }
    group_tags.sort();
    let fields = expand_fields(stmt, schema, &group_tags);
    super::typecheck::check_literals(fields.iter().map(|f| &f.expr))?;
    let aggregate = fields.iter().any(|f| contains_agg(&f.expr));
    let mut b = Builder {
        plan: Plan {
            columns: vec![],
            nodes: vec![],
            aggregate,
            aggs: vec![],
            vars: vec![],
            interval,
            offset,
            group_tags,
            group_all,
            tag_vars: vec![],
            lookback: 0,
            descending: stmt.time_descending(),
            into_tags: vec![],
            zone: match &stmt.location {
                Some(name) => Some(std::sync::Arc::new(super::tz::Zone::load(name)?)),
                None => None,
            },
        },
        schema,
    };
    let mut aliased = Vec::new();
    let mut nodes = Vec::with_capacity(fields.len());
    for f in &fields {
        nodes.push(b.compile(&f.expr)?);
    }
    for (f, node) in fields.iter().zip(nodes) {
        aliased.push(f.alias.is_some());
        let tag_cols = match &node {
            Node::Leaf(i) if aggregate => b.plan.aggs[*i].tag_args.clone(),
            _ => vec![],
        };
        let leaf = match &node {
            Node::Leaf(i) => *i,
            _ => 0,
        };
        b.plan.nodes.push(node);
        b.plan.columns.push(field_name(f));
        for (j, t) in tag_cols.into_iter().enumerate() {
            aliased.push(false);
            b.plan.nodes.push(Node::TagArg(leaf, j));
            b.plan.into_tags.push(t.clone());
            b.plan.columns.push(t);
        }
    }
    b.plan.tag_vars = b
        .plan
        .vars
        .iter()
        .filter(|v| v.ends_with(TAG_SUFFIX) || (!schema.fields.contains_key(*v)))
        .cloned()
        .collect();
    // Duplicate derived column names get numeric suffixes (explicit
    // aliases are kept as written).
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let names = b.plan.columns.clone();
    for (i, n) in names.iter().enumerate() {
        let c = seen.entry(n.clone()).or_insert(0);
        if *c > 0 && !aliased.get(i).copied().unwrap_or(false) {
            let mut cand = format!("{n}_{c}");
            while names.contains(&cand) {
                *c += 1;
                cand = format!("{n}_{c}");
            }
            b.plan.columns[i] = cand;
        }
        *c += 1;
    }
    validate(&b.plan, stmt)?;
    super::typecheck::check_fields(fields.iter().map(|f| &f.expr), schema)?;
    check_types(&b.plan, schema)?;
    Ok(b.plan)
}

fn validate(plan: &Plan, stmt: &SelectStatement) -> Result<()> {
    if !plan.aggregate {
        // A transformation of raw values (derivative(usage)) is a function
        // call to InfluxDB: it does not mix with plain fields.
        fn has_tr(n: &Node) -> bool {
            match n {
                Node::Tr(..) => true,
                Node::Bin(_, a, b) => has_tr(a) || has_tr(b),
                Node::Math(_, a) => a.iter().any(has_tr),
                _ => false,
            }
        }
        fn bare_var(n: &Node) -> bool {
            match n {
                Node::Leaf(_) | Node::Aux(_) => true,
                Node::Bin(_, a, b) => bare_var(a) || bare_var(b),
                Node::Math(_, a) => a.iter().any(bare_var),
                _ => false,
            }
        }
        if plan.nodes.iter().any(has_tr) && plan.nodes.iter().any(bare_var) {
            return Err(Error::msg(
                "mixing aggregate and non-aggregate queries is not supported",
            ));
        }
    }
    if plan.aggregate {
        // top() and bottom() pick whole points: nothing else may share them.
        if plan.aggs.len() > 1 {
            if let Some(a) = plan
                .aggs
                .iter()
                .find(|a| matches!(a.kind, AggKind::Top(_) | AggKind::Bottom(_)))
            {
                return Err(Error::msg(format!(
                    "selector function {}() cannot be combined with other functions",
                    agg_name(&a.kind)
                )));
            }
        }
        let selectors = plan.aggs.iter().filter(|a| a.kind.is_selector()).count();
        for a in &plan.aggs {
            if matches!(a.kind, AggKind::Distinct) && (plan.aggs.len() > 1 || !plan.vars.is_empty())
            {
                return Err(Error::msg(
                    "aggregate function distinct() cannot be combined with other functions or fields",
                ));
            }
        }
        if !(plan.vars.is_empty() || plan.aggs.len() == 1 && selectors == 1) {
            return Err(Error::msg(
                "mixing aggregate and non-aggregate queries is not supported",
            ));
        }
        for a in &plan.aggs {
            if let AggKind::Top(n) | AggKind::Bottom(n) = a.kind {
                if stmt.limit > 0 && n as u64 > stmt.limit {
                    let f = if matches!(a.kind, AggKind::Top(_)) {
                        "top"
                    } else {
                        "bottom"
                    };
                    return Err(Error::msg(format!(
                        "limit ({n}) in {f} function can not be larger than the LIMIT ({}) in the select statement",
                        stmt.limit
                    )));
                }
            }
        }
    } else if plan.interval > 0 {
        return Err(Error::msg(
            "GROUP BY requires at least one aggregate function",
        ));
    }
    Ok(())
}
