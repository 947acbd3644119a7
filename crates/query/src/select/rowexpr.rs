//! A WHERE residual compiled for one series: field references become column
//! slots, tag references become constants, so the per-row check does no
//! name lookups.
//!
//! Owns: compiling and evaluating row predicates. Must not: read storage.

use super::eval::{binary, math_call};
use crate::result::Value;
use influxql::{BinaryOp, Expr};

/// A compiled row expression.
#[derive(Debug, Clone)]
pub enum RowExpr {
    Slot(usize),
    Time,
    Const(Value),
    Bin(BinaryOp, Box<RowExpr>, Box<RowExpr>),
    Regex(Box<RowExpr>, regex::Regex, bool),
    Math(String, Vec<RowExpr>),
}

/// Compiles `e`; `slot` maps a field name to its column, `tag` gives a
/// tag's value for this series (missing: "").
pub fn compile(
    e: &Expr,
    slot: &dyn Fn(&str) -> Option<usize>,
    tag: &dyn Fn(&str) -> String,
) -> RowExpr {
    match e {
        Expr::Paren(i) => compile(i, slot, tag),
        Expr::VarRef(v) if v.name.eq_ignore_ascii_case("time") => RowExpr::Time,
        Expr::VarRef(v) => match slot(&v.name) {
            Some(i) if v.data_type != influxql::DataType::Tag => RowExpr::Slot(i),
            _ => RowExpr::Const(Value::String(tag(&v.name))),
        },
        Expr::Binary(b) if matches!(b.op, BinaryOp::EqRegex | BinaryOp::NeqRegex) => {
            match b.rhs.unparen() {
                Expr::Regex(re) => RowExpr::Regex(
                    Box::new(compile(&b.lhs, slot, tag)),
                    re.0.clone(),
                    b.op == BinaryOp::NeqRegex,
                ),
                _ => RowExpr::Const(Value::Bool(false)),
            }
        }
        Expr::Binary(b) => RowExpr::Bin(
            b.op,
            Box::new(compile(&b.lhs, slot, tag)),
            Box::new(compile(&b.rhs, slot, tag)),
        ),
        Expr::Call(c) if super::eval::is_math_function(&c.name) => RowExpr::Math(
            c.name.clone(),
            c.args.iter().map(|a| compile(a, slot, tag)).collect(),
        ),
        other => RowExpr::Const(super::eval::literal(other).unwrap_or(Value::Null)),
    }
}

/// Evaluates a compiled expression; `get` reads slot `i` of the row.
pub fn eval(e: &RowExpr, time: i64, get: &dyn Fn(usize) -> Value) -> Value {
    match e {
        RowExpr::Slot(i) => get(*i),
        RowExpr::Time => Value::Integer(time),
        RowExpr::Const(v) => v.clone(),
        RowExpr::Regex(inner, re, neg) => {
            let m = match eval(inner, time, get) {
                Value::String(s) => re.is_match(&s),
                Value::Null => re.is_match(""),
                _ => false,
            };
            Value::Bool(m != *neg)
        }
        RowExpr::Bin(op, l, r) => {
            let lv = eval(l, time, get);
            if *op == BinaryOp::And && lv == Value::Bool(false) {
                return lv;
            }
            if *op == BinaryOp::Or && lv == Value::Bool(true) {
                return lv;
            }
            binary(*op, &lv, &eval(r, time, get))
        }
        RowExpr::Math(name, args) => {
            let vals: Vec<Value> = args.iter().map(|a| eval(a, time, get)).collect();
            math_call(name, &vals)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_predicate() {
        let e = influxql::parse_expr("value > 5 AND (host = 'a' OR host =~ /^b/)").unwrap();
        let slot = |n: &str| (n == "value").then_some(0);
        let c = compile(&e, &slot, &|_| "bx".to_string());
        assert_eq!(eval(&c, 0, &|_| Value::Float(6.0)), Value::Bool(true));
        assert_eq!(eval(&c, 0, &|_| Value::Float(4.0)), Value::Bool(false));
        let c = compile(&e, &slot, &|_| "c".to_string());
        assert_eq!(eval(&c, 0, &|_| Value::Float(6.0)), Value::Bool(false));
    }
}
