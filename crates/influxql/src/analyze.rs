//! Classification of SELECT statements the executor needs: raw vs aggregate
//! vs selector, the GROUP BY time interval/offset, function families.
//!
//! Must not: validate argument types or resolve fields (that is compile-time
//! work in the executor).

use crate::ast::{Call, Expr, SelectStatement};
use crate::visit::walk_expr;

/// Functions that pick one point (they keep that point's time and can carry
/// other fields/tags with them).
pub const SELECTORS: &[&str] = &[
    "first",
    "last",
    "min",
    "max",
    "percentile",
    "sample",
    "top",
    "bottom",
];

/// Functions that combine many points into one.
pub const AGGREGATES: &[&str] = &[
    "count", "distinct", "integral", "mean", "median", "mode", "spread", "stddev", "sum",
];

/// Functions that transform a series (need an aggregate inside when GROUP BY time is used).
pub const TRANSFORMS: &[&str] = &[
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "moving_average",
    "cumulative_sum",
    "elapsed",
    "holt_winters",
    "holt_winters_with_fit",
    "chande_momentum_oscillator",
    "exponential_moving_average",
    "double_exponential_moving_average",
    "kaufmans_efficiency_ratio",
    "kaufmans_adaptive_moving_average",
    "triple_exponential_moving_average",
    "triple_exponential_derivative",
    "relative_strength_index",
];

/// Row-wise math functions (do not make a query an aggregate).
pub const MATH_FUNCTIONS: &[&str] = &[
    "abs", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "exp", "log", "ln", "log2",
    "log10", "sqrt", "pow", "floor", "ceil", "round",
];

/// What kind of result a SELECT produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// No aggregate/selector/transform calls: one row per point.
    Raw,
    /// Exactly one selector call (other fields/tags ride along).
    Selector,
    /// Aggregates (or several selectors, or transforms).
    Aggregate,
}

/// InfluxDB's `IsRawQuery`: true when no function call appears in the fields.
pub fn is_raw_query(s: &SelectStatement) -> bool {
    let mut raw = true;
    for f in &s.fields {
        walk_expr(&f.expr, &mut |e| {
            if matches!(e, Expr::Call(_)) {
                raw = false;
            }
            raw
        });
    }
    raw
}

/// The aggregate/selector/transform calls of the fields (outermost only; math
/// functions are looked through).
pub fn function_calls(s: &SelectStatement) -> Vec<&Call> {
    let mut out = Vec::new();
    for f in &s.fields {
        walk_expr(&f.expr, &mut |e| match e {
            Expr::Call(c) if MATH_FUNCTIONS.contains(&c.name.as_str()) => true,
            Expr::Call(c) => {
                out.push(c);
                false
            }
            _ => true,
        });
    }
    out
}

/// Classify a SELECT as raw, single-selector or aggregate.
pub fn query_kind(s: &SelectStatement) -> QueryKind {
    let calls = function_calls(s);
    match calls.as_slice() {
        [] => QueryKind::Raw,
        [c] if SELECTORS.contains(&c.name.as_str()) => QueryKind::Selector,
        _ => QueryKind::Aggregate,
    }
}

/// The `time(...)` call of GROUP BY, if any.
pub fn group_by_time_call(s: &SelectStatement) -> Option<&Call> {
    s.dimensions.iter().find_map(|d| match &d.expr {
        Expr::Call(c) if c.name == "time" => Some(c),
        _ => None,
    })
}

/// GROUP BY time interval in nanoseconds (0 when there is none), with
/// InfluxDB's error texts for malformed `time()` dimensions.
pub fn group_by_interval(s: &SelectStatement) -> Result<i64, String> {
    let Some(c) = group_by_time_call(s) else {
        return Ok(0);
    };
    if c.args.is_empty() || c.args.len() > 2 {
        return Err("time dimension expected 1 or 2 arguments".into());
    }
    match c.args[0] {
        Expr::Duration(d) => Ok(d),
        _ => Err("time dimension must have duration argument".into()),
    }
}

/// GROUP BY time offset in nanoseconds (second argument of `time()`); `now()`
/// offsets are resolved by the caller, so they are returned as `Err`.
pub fn group_by_offset(s: &SelectStatement) -> Result<i64, String> {
    let Some(c) = group_by_time_call(s) else {
        return Ok(0);
    };
    match c.args.get(1) {
        None => Ok(0),
        Some(Expr::Duration(d)) => Ok(*d),
        Some(Expr::Integer(i)) => Ok(*i),
        Some(Expr::Call(c)) if c.name == "now" => Err("now() offset".into()),
        Some(_) => Err("time dimension offset must be duration or now()".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Statement;
    use crate::parser::parse_statement;

    fn sel(q: &str) -> SelectStatement {
        match parse_statement(q).unwrap() {
            Statement::Select(s) => *s,
            other => panic!("not a select: {other:?}"),
        }
    }

    #[test]
    fn classifies() {
        assert_eq!(query_kind(&sel("SELECT a, b FROM m")), QueryKind::Raw);
        assert_eq!(query_kind(&sel("SELECT abs(a) FROM m")), QueryKind::Raw);
        assert!(!is_raw_query(&sel("SELECT abs(a) FROM m")));
        assert_eq!(
            query_kind(&sel("SELECT max(a), host FROM m")),
            QueryKind::Selector
        );
        assert_eq!(
            query_kind(&sel("SELECT max(a), min(a) FROM m")),
            QueryKind::Aggregate
        );
        assert_eq!(
            query_kind(&sel("SELECT mean(a) FROM m")),
            QueryKind::Aggregate
        );
        assert_eq!(
            query_kind(&sel("SELECT derivative(mean(a)) FROM m")),
            QueryKind::Aggregate
        );
    }

    #[test]
    fn group_by_time() {
        let s = sel("SELECT mean(a) FROM m GROUP BY time(10m, 5m), host");
        assert_eq!(group_by_interval(&s), Ok(600_000_000_000));
        assert_eq!(group_by_offset(&s), Ok(300_000_000_000));
        let s = sel("SELECT mean(a) FROM m GROUP BY time(a)");
        assert_eq!(
            group_by_interval(&s),
            Err("time dimension must have duration argument".into())
        );
    }
}
