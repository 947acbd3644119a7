//! Splitting a WHERE condition into its time range and the remaining
//! (non-time) condition, following InfluxDB 1.x's `ConditionExpr` rules:
//! `>` is exclusive (+1ns), `<` is exclusive (-1ns), `=` pins both ends, time
//! ranges are intersected across AND *and* OR (as InfluxDB does), time may be
//! on either side of the operator, and `now()` is the `now` passed in.
//!
//! Also a tiny constant folder for time arithmetic (`now() - 1h`,
//! `'2016-01-01T00:00:00Z' + 30m`).
//!
//! Must not: evaluate tag/field predicates.

use crate::ast::{BinaryOp, Expr};
use crate::error::{Error, Result};
use crate::timelit::{format_rfc3339_nano, is_time_string, parse_time_literal};
use crate::tz::{parse_time_literal_in, Tz};

/// Smallest time InfluxDB accepts (`models::MIN_NANOS`).
pub const MIN_TIME: i64 = i64::MIN + 2;
/// Largest time InfluxDB accepts (`models::MAX_NANOS`).
pub const MAX_TIME: i64 = i64::MAX - 1;

/// Inclusive time bounds in nanoseconds; `None` means unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeBounds {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl TimeBounds {
    /// Intersection (the larger min, the smaller max).
    pub fn intersect(self, other: TimeBounds) -> TimeBounds {
        TimeBounds {
            min: match (self.min, other.min) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            max: match (self.max, other.max) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    /// Min with InfluxDB's default (`MIN_TIME`) when unbounded.
    pub fn min_or_default(&self) -> i64 {
        self.min.unwrap_or(MIN_TIME)
    }

    /// Max with the given default when unbounded (InfluxDB uses `now` for
    /// GROUP BY time queries and `MAX_TIME` otherwise).
    pub fn max_or(&self, default: i64) -> i64 {
        self.max.unwrap_or(default)
    }

    /// True when the bounds select nothing.
    pub fn is_empty(&self) -> bool {
        matches!((self.min, self.max), (Some(a), Some(b)) if a > b)
    }
}

/// Split `cond` into (remaining condition, time bounds). `now` replaces
/// `now()`. Errors carry InfluxDB's messages (e.g. `invalid operation: time
/// and *influxql.StringLiteral are not compatible`).
pub fn split_condition(cond: Option<&Expr>, now: i64) -> Result<(Option<Expr>, TimeBounds)> {
    split_condition_tz(cond, now, None)
}

/// [`split_condition`] for a statement with `tz('...')`: time strings without
/// an explicit offset are wall-clock time in `tz` (as InfluxDB does).
pub fn split_condition_tz(
    cond: Option<&Expr>,
    now: i64,
    tz: Option<&Tz>,
) -> Result<(Option<Expr>, TimeBounds)> {
    let Some(cond) = cond else {
        return Ok((None, TimeBounds::default()));
    };
    let (mut expr, tr) = condition_expr(cond, now, tz)?;
    if let Some(Expr::Paren(inner)) = expr {
        expr = Some(*inner);
    }
    if let Some(Expr::Boolean(true)) = expr {
        expr = None;
    }
    Ok((expr, tr))
}

fn is_time_ref(e: &Expr) -> bool {
    matches!(e, Expr::VarRef(v) if v.name.eq_ignore_ascii_case("time"))
}

fn condition_expr(cond: &Expr, now: i64, tz: Option<&Tz>) -> Result<(Option<Expr>, TimeBounds)> {
    match cond {
        Expr::Binary(b) => match b.op {
            BinaryOp::And | BinaryOp::Or => {
                let (l, lt) = condition_expr(&b.lhs, now, tz)?;
                let (r, rt) = condition_expr(&b.rhs, now, tz)?;
                let tr = lt.intersect(rt);
                Ok(match (l, r) {
                    (l, None) => (l, tr),
                    (None, r) => (r, tr),
                    (Some(l), Some(r)) => (Some(Expr::binary(l, b.op, r)), tr),
                })
            }
            BinaryOp::Eq
            | BinaryOp::Neq
            | BinaryOp::Lt
            | BinaryOp::Lte
            | BinaryOp::Gt
            | BinaryOp::Gte => {
                if is_time_ref(&b.lhs) {
                    Ok((None, time_range(b.op, &b.rhs, now, tz)?))
                } else if is_time_ref(&b.rhs) {
                    let op = match b.op {
                        BinaryOp::Gt => BinaryOp::Lt,
                        BinaryOp::Lt => BinaryOp::Gt,
                        BinaryOp::Gte => BinaryOp::Lte,
                        BinaryOp::Lte => BinaryOp::Gte,
                        op => op,
                    };
                    Ok((None, time_range(op, &b.lhs, now, tz)?))
                } else {
                    Ok((Some(cond.clone()), TimeBounds::default()))
                }
            }
            _ => Ok((Some(cond.clone()), TimeBounds::default())),
        },
        Expr::Paren(inner) => {
            let (e, tr) = condition_expr(inner, now, tz)?;
            Ok((e.map(|e| Expr::Paren(Box::new(e))), tr))
        }
        Expr::Boolean(_) => Ok((Some(cond.clone()), TimeBounds::default())),
        _ => Err(Error::Invalid(format!(
            "invalid condition expression: {cond}"
        ))),
    }
}

/// Go type name InfluxDB prints for a literal in type errors.
fn go_type_name(e: &Expr) -> &'static str {
    match e {
        Expr::VarRef(_) => "*influxql.VarRef",
        Expr::Call(_) => "*influxql.Call",
        Expr::Distinct(_) => "*influxql.Distinct",
        Expr::Binary(_) => "*influxql.BinaryExpr",
        Expr::Paren(_) => "*influxql.ParenExpr",
        Expr::Wildcard(_) => "*influxql.Wildcard",
        Expr::Regex(_) => "*influxql.RegexLiteral",
        Expr::Integer(_) => "*influxql.IntegerLiteral",
        Expr::Unsigned(_) => "*influxql.UnsignedLiteral",
        Expr::Number(_) => "*influxql.NumberLiteral",
        Expr::String(_) => "*influxql.StringLiteral",
        Expr::Boolean(_) => "*influxql.BooleanLiteral",
        Expr::Duration(_) => "*influxql.DurationLiteral",
        Expr::Time(_) => "*influxql.TimeLiteral",
        Expr::List(_) => "*influxql.ListLiteral",
        Expr::Nil => "*influxql.NilLiteral",
    }
}

fn time_range(op: BinaryOp, rhs: &Expr, now: i64, tz: Option<&Tz>) -> Result<TimeBounds> {
    let rhs = match rhs {
        Expr::String(s) if is_time_string(s) => Expr::Time(
            match tz {
                Some(tz) => parse_time_literal_in(s, tz),
                None => parse_time_literal(s),
            }
            .map_err(Error::Invalid)?,
        ),
        other => reduce_time(other, now),
    };
    let value = match rhs {
        Expr::Time(t) => {
            if t > MAX_TIME {
                return Err(Error::Invalid(format!(
                    "time {} overflows time literal",
                    format_rfc3339_nano(t)
                )));
            } else if t < MIN_TIME + 1 {
                return Err(Error::Invalid(format!(
                    "time {} underflows time literal",
                    format_rfc3339_nano(t)
                )));
            }
            t
        }
        Expr::Duration(d) => d,
        Expr::Number(f) => f as i64,
        Expr::Integer(i) => i,
        other => {
            return Err(Error::Invalid(format!(
                "invalid operation: time and {} are not compatible",
                go_type_name(&other)
            )))
        }
    };
    Ok(match op {
        BinaryOp::Gt => TimeBounds {
            min: Some(value.saturating_add(1)),
            max: None,
        },
        BinaryOp::Gte => TimeBounds {
            min: Some(value),
            max: None,
        },
        BinaryOp::Lt => TimeBounds {
            min: None,
            max: Some(value.saturating_sub(1)),
        },
        BinaryOp::Lte => TimeBounds {
            min: None,
            max: Some(value),
        },
        BinaryOp::Eq => TimeBounds {
            min: Some(value),
            max: Some(value),
        },
        other => {
            return Err(Error::Invalid(format!(
                "invalid time comparison operator: {}",
                other.as_str()
            )))
        }
    })
}

/// Fold constant time arithmetic: `now()` becomes `Expr::Time(now)`, and
/// time ± duration, duration ± duration, integer math and time-string ±
/// duration are computed. Anything else is returned unchanged.
pub fn reduce_time(e: &Expr, now: i64) -> Expr {
    match e {
        Expr::Call(c) if c.name == "now" && c.args.is_empty() => Expr::Time(now),
        Expr::Paren(inner) => match reduce_time(inner, now) {
            lit @ (Expr::Time(_) | Expr::Duration(_) | Expr::Integer(_) | Expr::Number(_)) => lit,
            other => Expr::Paren(Box::new(other)),
        },
        Expr::Binary(b) => {
            let l = reduce_time(&b.lhs, now);
            let r = reduce_time(&b.rhs, now);
            fold(b.op, l, r)
        }
        other => other.clone(),
    }
}

fn fold(op: BinaryOp, l: Expr, r: Expr) -> Expr {
    use BinaryOp::*;
    use Expr::*;
    let as_time = |e: &Expr| match e {
        String(s) if is_time_string(s) => parse_time_literal(s).ok(),
        Time(t) => Some(*t),
        _ => None,
    };
    match (op, &l, &r) {
        (Add, Time(_) | String(_), Duration(d)) | (Add, Duration(d), Time(_) | String(_)) => {
            let t = if matches!(r, Duration(_)) {
                as_time(&l)
            } else {
                as_time(&r)
            };
            match t {
                Some(t) => Time(t.saturating_add(*d)),
                None => Expr::binary(l, op, r),
            }
        }
        (Sub, Time(_) | String(_), Duration(d)) => match as_time(&l) {
            Some(t) => Time(t.saturating_sub(*d)),
            None => Expr::binary(l, op, r),
        },
        (Sub, Time(a), Time(b)) => Duration(a.saturating_sub(*b)),
        (Add, Duration(a), Duration(b)) => Duration(a.saturating_add(*b)),
        (Sub, Duration(a), Duration(b)) => Duration(a.saturating_sub(*b)),
        (Mul, Duration(a), Integer(b)) | (Mul, Integer(b), Duration(a)) => {
            Duration(a.saturating_mul(*b))
        }
        (Div, Duration(a), Integer(b)) if *b != 0 => Duration(a / b),
        (Add, Integer(a), Integer(b)) => Integer(a.wrapping_add(*b)),
        (Sub, Integer(a), Integer(b)) => Integer(a.wrapping_sub(*b)),
        (Mul, Integer(a), Integer(b)) => Integer(a.wrapping_mul(*b)),
        (Add, Time(t), Integer(i)) | (Add, Integer(i), Time(t)) => Time(t.saturating_add(*i)),
        (Sub, Time(t), Integer(i)) => Time(t.saturating_sub(*i)),
        _ => Expr::binary(l, op, r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_expr;

    const JAN1: i64 = 1_451_606_400_000_000_000;
    const HOUR: i64 = 3_600_000_000_000;

    fn split(s: &str, now: i64) -> (Option<String>, TimeBounds) {
        let e = parse_expr(s).unwrap();
        let (rest, tr) = split_condition(Some(&e), now).unwrap();
        (rest.map(|e| e.to_string()), tr)
    }

    #[test]
    fn absolute_and_exclusive_bounds() {
        let (rest, tr) = split(
            "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z' AND host = 'a'",
            0,
        );
        assert_eq!(rest.as_deref(), Some("host = 'a'"));
        assert_eq!(
            tr,
            TimeBounds {
                min: Some(JAN1),
                max: Some(JAN1 + HOUR - 1)
            }
        );
        let (_, tr) = split("time > 10 AND time <= 20", 0);
        assert_eq!(
            tr,
            TimeBounds {
                min: Some(11),
                max: Some(20)
            }
        );
        let (_, tr) = split("time = '2016-01-01'", 0);
        assert_eq!(
            tr,
            TimeBounds {
                min: Some(JAN1),
                max: Some(JAN1)
            }
        );
    }

    #[test]
    fn now_arithmetic_and_swapped_sides() {
        let (rest, tr) = split("now() - 1h < time", JAN1);
        assert_eq!(rest, None);
        assert_eq!(
            tr,
            TimeBounds {
                min: Some(JAN1 - HOUR + 1),
                max: None
            }
        );
        let (_, tr) = split("time < '2016-01-01T00:00:00Z' + 1h", 0);
        assert_eq!(tr.max, Some(JAN1 + HOUR - 1));
    }

    #[test]
    fn parens_and_or_intersect() {
        let (rest, tr) = split("(time > 5 AND (host = 'a' OR host = 'b'))", 0);
        assert_eq!(rest.as_deref(), Some("(host = 'a' OR host = 'b')"));
        assert_eq!(tr.min, Some(6));
        let (_, tr) = split("time > 5 OR time < 3", 0);
        assert!(tr.is_empty());
    }

    #[test]
    fn errors_like_influxdb() {
        let e = parse_expr("time > 'abc'").unwrap();
        assert_eq!(
            split_condition(Some(&e), 0).unwrap_err().to_string(),
            "invalid operation: time and *influxql.StringLiteral are not compatible"
        );
        let e = parse_expr("time != 5").unwrap();
        assert_eq!(
            split_condition(Some(&e), 0).unwrap_err().to_string(),
            "invalid time comparison operator: !="
        );
    }
}
