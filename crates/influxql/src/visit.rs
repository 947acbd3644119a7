//! Generic traversal utilities over expressions and statements: walk
//! (read-only, pre-order) and rewrite (owned, post-order).
//!
//! Must not: interpret what it visits.

use crate::ast::{Expr, Measurement, SelectStatement, Source, Statement};

/// Visit `e` and all sub-expressions in pre-order; `f` returns false to skip
/// the children of a node.
pub fn walk_expr<'a>(e: &'a Expr, f: &mut impl FnMut(&'a Expr) -> bool) {
    if !f(e) {
        return;
    }
    match e {
        Expr::Binary(b) => {
            walk_expr(&b.lhs, f);
            walk_expr(&b.rhs, f);
        }
        Expr::Paren(inner) => walk_expr(inner, f),
        Expr::Call(c) => c.args.iter().for_each(|a| walk_expr(a, f)),
        _ => {}
    }
}

/// Rebuild `e` bottom-up: children are rewritten first, then `f` is applied to
/// the node holding the rewritten children.
pub fn rewrite_expr(e: Expr, f: &mut impl FnMut(Expr) -> Expr) -> Expr {
    let e = match e {
        Expr::Binary(mut b) => {
            let lhs = std::mem::replace(&mut b.lhs, Expr::Nil);
            let rhs = std::mem::replace(&mut b.rhs, Expr::Nil);
            b.lhs = rewrite_expr(lhs, f);
            b.rhs = rewrite_expr(rhs, f);
            Expr::Binary(b)
        }
        Expr::Paren(inner) => Expr::Paren(Box::new(rewrite_expr(*inner, f))),
        Expr::Call(mut c) => {
            c.args = std::mem::take(&mut c.args)
                .into_iter()
                .map(|a| rewrite_expr(a, f))
                .collect();
            Expr::Call(c)
        }
        other => other,
    };
    f(e)
}

/// Every top-level expression of a SELECT (fields, condition, dimensions), not
/// descending into subqueries.
pub fn select_exprs(s: &SelectStatement) -> impl Iterator<Item = &Expr> {
    s.fields
        .iter()
        .map(|f| &f.expr)
        .chain(s.condition.iter())
        .chain(s.dimensions.iter().map(|d| &d.expr))
}

/// The SELECTs nested as subqueries in `s`'s FROM clause (direct children only).
pub fn subqueries(s: &SelectStatement) -> impl Iterator<Item = &SelectStatement> {
    s.sources.iter().filter_map(|src| match src {
        Source::SubQuery(q) => Some(&**q),
        Source::Measurement(_) => None,
    })
}

/// Apply `f` to every expression slot of a SELECT (fields, condition,
/// dimensions), recursing into subqueries.
pub fn rewrite_select(s: &mut SelectStatement, f: &mut impl FnMut(Expr) -> Expr) {
    for field in &mut s.fields {
        let e = std::mem::replace(&mut field.expr, Expr::Nil);
        field.expr = rewrite_expr(e, f);
    }
    if let Some(c) = s.condition.take() {
        s.condition = Some(rewrite_expr(c, f));
    }
    for d in &mut s.dimensions {
        let e = std::mem::replace(&mut d.expr, Expr::Nil);
        d.expr = rewrite_expr(e, f);
    }
    for src in &mut s.sources {
        if let Source::SubQuery(q) = src {
            rewrite_select(q, f);
        }
    }
}

/// Visit every measurement of a SELECT mutably (FROM sources, recursing into
/// subqueries, and the INTO target, flagged `true`), e.g. to fill in the
/// default database and retention policy before forwarding or storing a CQ.
pub fn measurements_mut(s: &mut SelectStatement, f: &mut impl FnMut(&mut Measurement, bool)) {
    if let Some(t) = &mut s.target {
        f(&mut t.measurement, true);
    }
    for src in &mut s.sources {
        match src {
            Source::Measurement(m) => f(m, false),
            Source::SubQuery(q) => measurements_mut(q, f),
        }
    }
}

/// The WHERE condition of any statement that has one.
pub fn statement_condition(s: &Statement) -> Option<&Expr> {
    match s {
        Statement::Select(q) => q.condition.as_ref(),
        Statement::Explain(e) => e.statement.condition.as_ref(),
        Statement::Delete(d) => d.condition.as_ref(),
        Statement::DropSeries(d) => d.condition.as_ref(),
        Statement::ShowMeasurements(x) => x.condition.as_ref(),
        Statement::ShowSeries(x) => x.condition.as_ref(),
        Statement::ShowTagKeys(x) => x.condition.as_ref(),
        Statement::ShowTagValues(x) => x.condition.as_ref(),
        Statement::ShowCardinality(x) => x.condition.as_ref(),
        _ => None,
    }
}

/// True when `e` references the `time` variable anywhere (case-insensitive).
pub fn has_time_ref(e: &Expr) -> bool {
    let mut found = false;
    walk_expr(e, &mut |n| {
        if let Expr::VarRef(v) = n {
            if v.name.eq_ignore_ascii_case("time") {
                found = true;
            }
        }
        !found
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::{parse_expr, parse_statement};

    #[test]
    fn normalizing_a_continuous_query_prints_like_influxdb() {
        let q = r#"CREATE CONTINUOUS QUERY "cq1" ON db0 BEGIN SELECT count(value) INTO "rp1".:MEASUREMENT FROM /[cg]pu/ GROUP BY time(5s) END"#;
        let Statement::CreateContinuousQuery(mut cq) = parse_statement(q).unwrap() else {
            panic!("not a CQ")
        };
        measurements_mut(&mut cq.source, &mut |m, _target| {
            if m.database.is_empty() {
                m.database = "db0".into();
            }
            if m.retention_policy.is_empty() {
                m.retention_policy = "rp0".into();
            }
        });
        assert_eq!(
            Statement::CreateContinuousQuery(cq).to_string(),
            "CREATE CONTINUOUS QUERY cq1 ON db0 BEGIN SELECT count(value) INTO db0.rp1.:MEASUREMENT FROM db0.rp0./[cg]pu/ GROUP BY time(5s) END"
        );
    }

    #[test]
    fn walks_and_rewrites() {
        let e = parse_expr("a + f(b, 2) > 3 AND time > now() - 1h").unwrap();
        let mut names = vec![];
        walk_expr(&e, &mut |n| {
            if let Expr::VarRef(v) = n {
                names.push(v.name.clone());
            }
            true
        });
        assert_eq!(names, ["a", "b", "time"]);
        assert!(has_time_ref(&e));
        let r = rewrite_expr(e, &mut |n| match n {
            Expr::Integer(i) => Expr::Integer(i * 10),
            n => n,
        });
        assert_eq!(r.to_string(), "a + f(b, 20) > 30 AND time > now() - 1h");
    }
}
