//! WHERE-clause analysis: extracts the time range (absolute and
//! now()-relative bounds), splits tag comparisons off into a [`TagFilter`]
//! that is pushed down to the shard index, and leaves the residual
//! expression evaluated per row.
//!
//! Owns: condition rewriting. Must not: read data.

use crate::error::{Error, Result};
use crate::storage::TagFilter;
use influxql::{BinaryOp, Expr};

/// Inclusive time bounds; `None` when the statement gives no bound.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TimeBounds {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

fn is_time_ref(e: &Expr) -> bool {
    matches!(e.unparen(), Expr::VarRef(v) if v.name.eq_ignore_ascii_case("time"))
}

/// Evaluates a time-valued expression (literal string, integer ns, now(),
/// arithmetic with durations).
pub fn time_value(e: &Expr, now: i64) -> Result<i64> {
    match e.unparen() {
        Expr::String(s) => influxql::timelit::parse_time_literal(s).map_err(Error::msg),
        Expr::Integer(i) => Ok(*i),
        Expr::Number(f) => Ok(*f as i64),
        Expr::Duration(d) => Ok(*d),
        Expr::Time(t) => Ok(*t),
        Expr::Call(c) if c.name == "now" => Ok(now),
        Expr::Binary(b) if matches!(b.op, BinaryOp::Add | BinaryOp::Sub) => {
            let l = time_value(&b.lhs, now)?;
            let r = time_value(&b.rhs, now)?;
            Ok(if b.op == BinaryOp::Add {
                l.saturating_add(r)
            } else {
                l.saturating_sub(r)
            })
        }
        _ => Err(Error::msg("invalid time expression")),
    }
}

fn and(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(Expr::binary(a, BinaryOp::And, b)),
    }
}

/// Removes time comparisons (under ANDs) from `cond` and returns the rest
/// with the bounds they imply.
pub fn split_time(cond: Option<&Expr>, now: i64) -> Result<(Option<Expr>, TimeBounds)> {
    let mut b = TimeBounds::default();
    let rest = match cond {
        Some(e) => walk_time(e, now, &mut b)?,
        None => None,
    };
    Ok((rest, b))
}

fn walk_time(e: &Expr, now: i64, b: &mut TimeBounds) -> Result<Option<Expr>> {
    match e {
        Expr::Paren(inner) => {
            let r = walk_time(inner, now, b)?;
            Ok(r.map(|x| Expr::Paren(Box::new(x))))
        }
        Expr::Binary(be) if be.op == BinaryOp::And => {
            let l = walk_time(&be.lhs, now, b)?;
            let r = walk_time(&be.rhs, now, b)?;
            Ok(and(l, r))
        }
        // InfluxDB lifts time comparisons out of an OR as well.
        Expr::Binary(be) if be.op == BinaryOp::Or => {
            let l = walk_time(&be.lhs, now, b)?;
            let r = walk_time(&be.rhs, now, b)?;
            Ok(match (l, r) {
                (Some(l), Some(r)) => Some(Expr::binary(l, BinaryOp::Or, r)),
                (x, None) | (None, x) => x,
            })
        }
        Expr::Binary(be) if be.op.is_comparison() => {
            let (op, other) = if is_time_ref(&be.lhs) {
                (be.op, &be.rhs)
            } else if is_time_ref(&be.rhs) {
                let flipped = match be.op {
                    BinaryOp::Lt => BinaryOp::Gt,
                    BinaryOp::Lte => BinaryOp::Gte,
                    BinaryOp::Gt => BinaryOp::Lt,
                    BinaryOp::Gte => BinaryOp::Lte,
                    o => o,
                };
                (flipped, &be.lhs)
            } else {
                return Ok(Some(e.clone()));
            };
            let t = time_value(other, now)?;
            let set_min = |b: &mut TimeBounds, v: i64| b.min = Some(b.min.map_or(v, |m| m.max(v)));
            let set_max = |b: &mut TimeBounds, v: i64| b.max = Some(b.max.map_or(v, |m| m.min(v)));
            match op {
                BinaryOp::Gt => set_min(b, t.saturating_add(1)),
                BinaryOp::Gte => set_min(b, t),
                BinaryOp::Lt => set_max(b, t.saturating_sub(1)),
                BinaryOp::Lte => set_max(b, t),
                BinaryOp::Eq => {
                    set_min(b, t);
                    set_max(b, t);
                }
                _ => return Err(Error::msg("invalid time comparison operator")),
            }
            Ok(None)
        }
        _ => Ok(Some(e.clone())),
    }
}

fn tag_cmp(e: &Expr, is_tag: &dyn Fn(&str) -> bool) -> Option<TagFilter> {
    let Expr::Binary(be) = e else { return None };
    let (name, other, op) = match (be.lhs.unparen(), be.rhs.unparen()) {
        (Expr::VarRef(v), o) if is_tag(&v.name) => (v.name.clone(), o, be.op),
        (o, Expr::VarRef(v))
            if is_tag(&v.name) && matches!(be.op, BinaryOp::Eq | BinaryOp::Neq) =>
        {
            (v.name.clone(), o, be.op)
        }
        _ => return None,
    };
    match (op, other) {
        (BinaryOp::Eq, Expr::String(s)) => Some(TagFilter::Eq(name, s.clone())),
        (BinaryOp::Neq, Expr::String(s)) => Some(TagFilter::NotEq(name, s.clone())),
        (BinaryOp::EqRegex, Expr::Regex(r)) => Some(TagFilter::Regex(name, r.0.clone())),
        (BinaryOp::NeqRegex, Expr::Regex(r)) => Some(TagFilter::NotRegex(name, r.0.clone())),
        _ => None,
    }
}

/// Splits `cond` into a tag filter and a residual evaluated per row.
pub fn split_tags(cond: &Expr, is_tag: &dyn Fn(&str) -> bool) -> (TagFilter, Option<Expr>) {
    match cond {
        Expr::Paren(inner) => split_tags(inner, is_tag),
        Expr::Binary(be) if be.op == BinaryOp::And => {
            let (lf, lr) = split_tags(&be.lhs, is_tag);
            let (rf, rr) = split_tags(&be.rhs, is_tag);
            (TagFilter::and(lf, rf), and(lr, rr))
        }
        Expr::Binary(be) if be.op == BinaryOp::Or => {
            let (lf, lr) = split_tags(&be.lhs, is_tag);
            let (rf, rr) = split_tags(&be.rhs, is_tag);
            if lr.is_none() && rr.is_none() {
                (TagFilter::Or(Box::new(lf), Box::new(rf)), None)
            } else {
                (TagFilter::True, Some(cond.clone()))
            }
        }
        Expr::Boolean(true) => (TagFilter::True, None),
        _ => match tag_cmp(cond, is_tag) {
            Some(f) => (f, None),
            None => (TagFilter::True, Some(cond.clone())),
        },
    }
}

/// Every variable name referenced by `e`.
pub fn var_refs(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::VarRef(v) if !out.contains(&v.name) => out.push(v.name.clone()),
        Expr::Paren(i) => var_refs(i, out),
        Expr::Binary(b) => {
            var_refs(&b.lhs, out);
            var_refs(&b.rhs, out);
        }
        Expr::Call(c) => c.args.iter().for_each(|a| var_refs(a, out)),
        Expr::Distinct(n) if !out.contains(n) => out.push(n.clone()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_time_and_tags() {
        let e = influxql::parse_expr(
            "time >= '2000-01-01T00:00:00Z' AND host = 'a' AND value > 5 AND time < now() - 1h",
        )
        .unwrap();
        let (rest, b) = split_time(Some(&e), 946_684_800_000_000_000 + 7_200_000_000_000).unwrap();
        assert_eq!(b.min, Some(946_684_800_000_000_000));
        assert_eq!(b.max, Some(946_684_800_000_000_000 + 3_600_000_000_000 - 1));
        let (f, rest) = split_tags(&rest.unwrap(), &|n| n == "host");
        assert!(f.matches(&[("host".into(), "a".into())]));
        assert!(!f.matches(&[("host".into(), "b".into())]));
        assert!(rest.is_some());
    }
}
