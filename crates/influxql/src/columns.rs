//! Output column naming of a SELECT, following InfluxDB 1.x: a field's name
//! is its alias, else the call name, the variable name, or the `_`-joined
//! names inside a math expression; clashes get `_1`, `_2`, ... suffixes;
//! `top()`/`bottom()` tag arguments add columns (when there is no INTO).
//!
//! Must not: rewrite wildcards (that needs the schema).

use std::collections::HashMap;

use crate::ast::{Expr, Field, SelectStatement};
use crate::visit::walk_expr;

/// InfluxDB's `Field.Name()`.
pub fn field_name(f: &Field) -> String {
    if let Some(a) = &f.alias {
        return a.clone();
    }
    expr_name(&f.expr)
}

/// Name of an un-aliased expression (empty for literals).
pub fn expr_name(e: &Expr) -> String {
    match e {
        Expr::Call(c) => c.name.clone(),
        Expr::VarRef(v) => v.name.clone(),
        Expr::Paren(inner) => expr_name(inner),
        Expr::Binary(_) => {
            let mut names = Vec::new();
            walk_expr(e, &mut |n| match n {
                Expr::VarRef(v) => {
                    names.push(v.name.clone());
                    true
                }
                Expr::Call(c) => {
                    names.push(c.name.clone());
                    false
                }
                _ => true,
            });
            names.join("_")
        }
        _ => String::new(),
    }
}

/// Column names of a SELECT's result: `time_column` (None to omit the time
/// column) followed by one name per field (plus `top`/`bottom` tag columns),
/// de-duplicated like InfluxDB's `ColumnNames()`.
pub fn column_names(s: &SelectStatement, time_column: Option<&str>) -> Vec<String> {
    let mut cols: Vec<Field> = Vec::new();
    for f in &s.fields {
        cols.push(f.clone());
        if let Expr::Call(c) = &f.expr {
            if s.target.is_none() && (c.name == "top" || c.name == "bottom") {
                for a in c.args.iter().skip(1) {
                    if let Expr::VarRef(_) = a {
                        cols.push(Field {
                            expr: a.clone(),
                            alias: None,
                        });
                    }
                }
            }
        }
    }
    let mut out: Vec<Option<String>> = vec![None; cols.len()];
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, c) in cols.iter().enumerate() {
        if let Some(a) = &c.alias {
            out[i] = Some(a.clone());
            seen.insert(a.clone(), 1);
        }
    }
    for (i, c) in cols.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        let mut name = field_name(c);
        if let Some(&start) = seen.get(&name) {
            let mut count = start;
            loop {
                let candidate = format!("{name}_{count}");
                if !seen.contains_key(&candidate) {
                    seen.insert(name.clone(), count + 1);
                    name = candidate;
                    break;
                }
                count += 1;
            }
        }
        *seen.entry(name.clone()).or_insert(0) += 1;
        out[i] = Some(name);
    }
    time_column
        .map(str::to_string)
        .into_iter()
        .chain(out.into_iter().map(Option::unwrap_or_default))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Statement;
    use crate::parser::parse_statement;

    fn cols(q: &str) -> Vec<String> {
        match parse_statement(q).unwrap() {
            Statement::Select(s) => column_names(&s, Some("time")),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn names_like_influxdb() {
        assert_eq!(
            cols("SELECT mean(v), mean(v), max(v) AS mean FROM m"),
            ["time", "mean_1", "mean_2", "mean"]
        );
        assert_eq!(
            cols("SELECT sum(a) / mean(b), a + b, (c) FROM m"),
            ["time", "sum_mean", "a_b", "c"]
        );
        assert_eq!(
            cols("SELECT top(v, host, 2) FROM m"),
            ["time", "top", "host"]
        );
        assert_eq!(cols("SELECT 1, v FROM m"), ["time", "", "v"]);
    }
}
