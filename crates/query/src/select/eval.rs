//! Scalar evaluation of InfluxQL expressions over one row: arithmetic with
//! InfluxDB's typing rules (integer division yields a float, division by zero
//! yields 0), comparisons, boolean logic and the math functions.
//!
//! Owns: value-level semantics. Must not: read storage or know about rows'
//! provenance (the caller supplies a lookup for variable references).

use crate::result::Value;
use influxql::{BinaryOp, Expr};
use std::cmp::Ordering;

/// Converts a literal expression to a value (None for non-literals).
pub fn literal(e: &Expr) -> Option<Value> {
    Some(match e.unparen() {
        Expr::Integer(i) => Value::Integer(*i),
        Expr::Unsigned(u) => Value::Unsigned(*u),
        Expr::Number(f) => Value::Float(*f),
        Expr::String(s) => Value::String(s.clone()),
        Expr::Boolean(b) => Value::Bool(*b),
        Expr::Duration(d) => Value::Integer(*d),
        Expr::Time(t) => Value::Integer(*t),
        Expr::Nil => Value::Null,
        _ => return None,
    })
}

/// Numeric view of a value.
pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Integer(i) => Some(*i as f64),
        Value::Unsigned(u) => Some(*u as f64),
        Value::Time(t) | Value::TimeTz(t, _) => Some(*t as f64),
        _ => None,
    }
}

/// Orders two values of comparable types (numbers together, strings, bools).
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => Some(x.cmp(y)),
        (Value::Unsigned(x), Value::Unsigned(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, _) | (_, Value::Null) => None,
        _ => {
            let (x, y) = (as_f64(a)?, as_f64(b)?);
            x.partial_cmp(&y)
        }
    }
}

/// Evaluates a binary operator on two values.
pub fn binary(op: BinaryOp, l: &Value, r: &Value) -> Value {
    use BinaryOp::*;
    match op {
        And | Or => {
            let (Value::Bool(a), Value::Bool(b)) = (l, r) else {
                return match (op, l, r) {
                    (Or, Value::Bool(true), _) | (Or, _, Value::Bool(true)) => Value::Bool(true),
                    _ => Value::Bool(false),
                };
            };
            Value::Bool(if op == And { *a && *b } else { *a || *b })
        }
        Eq | Neq | Lt | Lte | Gt | Gte => {
            if matches!(l, Value::Null) || matches!(r, Value::Null) {
                return Value::Bool(false);
            }
            let Some(o) = compare(l, r) else {
                return Value::Bool(op == Neq);
            };
            Value::Bool(match op {
                Eq => o == Ordering::Equal,
                Neq => o != Ordering::Equal,
                Lt => o == Ordering::Less,
                Lte => o != Ordering::Greater,
                Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            })
        }
        EqRegex | NeqRegex | In => Value::Bool(false),
        BitAnd | BitOr | BitXor if matches!(l, Value::Bool(_)) || matches!(r, Value::Bool(_)) => {
            // InfluxDB reads a missing side next to a boolean as false, and a
            // boolean with anything but a boolean gives false.
            let side = |v: &Value| match v {
                Value::Bool(b) => Some(*b),
                Value::Null => Some(false),
                _ => None,
            };
            let (Some(a), Some(b)) = (side(l), side(r)) else {
                return Value::Bool(false);
            };
            Value::Bool(match op {
                BitAnd => a & b,
                BitOr => a | b,
                _ => a ^ b,
            })
        }
        _ => math(op, l, r),
    }
}

fn math(op: BinaryOp, l: &Value, r: &Value) -> Value {
    use BinaryOp::*;
    match (l, r) {
        (Value::Integer(a), Value::Integer(b)) => {
            let (a, b) = (*a, *b);
            match op {
                Add => Value::Integer(a.wrapping_add(b)),
                Sub => Value::Integer(a.wrapping_sub(b)),
                Mul => Value::Integer(a.wrapping_mul(b)),
                Div => {
                    if b == 0 {
                        Value::Float(0.0)
                    } else {
                        Value::Float(a as f64 / b as f64)
                    }
                }
                Mod => {
                    if b == 0 {
                        Value::Integer(0)
                    } else {
                        Value::Integer(a.wrapping_rem(b))
                    }
                }
                BitAnd => Value::Integer(a & b),
                BitOr => Value::Integer(a | b),
                BitXor => Value::Integer(a ^ b),
                _ => Value::Null,
            }
        }
        (Value::Unsigned(a), Value::Unsigned(b)) => {
            let (a, b) = (*a, *b);
            match op {
                Add => Value::Unsigned(a.wrapping_add(b)),
                Sub => Value::Unsigned(a.wrapping_sub(b)),
                Mul => Value::Unsigned(a.wrapping_mul(b)),
                Div => {
                    if b == 0 {
                        Value::Float(0.0)
                    } else {
                        Value::Float(a as f64 / b as f64)
                    }
                }
                Mod => {
                    if b == 0 {
                        Value::Unsigned(0)
                    } else {
                        Value::Unsigned(a % b)
                    }
                }
                BitAnd => Value::Unsigned(a & b),
                BitOr => Value::Unsigned(a | b),
                BitXor => Value::Unsigned(a ^ b),
                _ => Value::Null,
            }
        }
        (Value::Bool(a), Value::Bool(b)) => match op {
            BitAnd => Value::Bool(a & b),
            BitOr => Value::Bool(a | b),
            BitXor => Value::Bool(a ^ b),
            _ => Value::Null,
        },
        _ => {
            let (Some(a), Some(b)) = (num(l), num(r)) else {
                return Value::Null;
            };
            match op {
                Add => Value::Float(a + b),
                Sub => Value::Float(a - b),
                Mul => Value::Float(a * b),
                Div => {
                    if b == 0.0 {
                        Value::Float(0.0)
                    } else {
                        Value::Float(a / b)
                    }
                }
                Mod => Value::Float(a % b),
                _ => Value::Null,
            }
        }
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Integer(i) => Some(*i as f64),
        Value::Unsigned(u) => Some(*u as f64),
        _ => None,
    }
}

/// Names of the scalar math functions InfluxQL supports.
pub fn is_math_function(name: &str) -> bool {
    matches!(
        name,
        "abs"
            | "sin"
            | "cos"
            | "tan"
            | "asin"
            | "acos"
            | "atan"
            | "atan2"
            | "exp"
            | "ln"
            | "log"
            | "log2"
            | "log10"
            | "sqrt"
            | "pow"
            | "floor"
            | "ceil"
            | "round"
    )
}

/// Applies a math function to evaluated arguments.
pub fn math_call(name: &str, args: &[Value]) -> Value {
    let Some(a0) = args.first() else {
        return Value::Null;
    };
    if let Some(to) = name.strip_prefix("::") {
        return cast(a0, to);
    }
    if matches!(a0, Value::Null) {
        return Value::Null;
    }
    match (name, a0) {
        ("abs", Value::Integer(i)) => return Value::Integer(i.wrapping_abs()),
        ("abs", Value::Unsigned(u)) => return Value::Unsigned(*u),
        ("floor" | "ceil" | "round", Value::Integer(i)) => return Value::Integer(*i),
        ("floor" | "ceil" | "round", Value::Unsigned(u)) => return Value::Unsigned(*u),
        _ => {}
    }
    let Some(x) = num(a0) else {
        return Value::Null;
    };
    let y = args.get(1).and_then(num);
    let r = match name {
        "abs" => x.abs(),
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tan" => x.tan(),
        "asin" => x.asin(),
        "acos" => x.acos(),
        "atan" => x.atan(),
        "atan2" => match y {
            Some(y) => x.atan2(y),
            None => return Value::Null,
        },
        "exp" => x.exp(),
        "ln" => x.ln(),
        "log" => match y {
            Some(b) => x.ln() / b.ln(),
            None => return Value::Null,
        },
        "log2" => x.log2(),
        "log10" => x.log10(),
        "sqrt" => x.sqrt(),
        "pow" => match y {
            Some(p) => x.powf(p),
            None => return Value::Null,
        },
        "floor" => x.floor(),
        "ceil" => x.ceil(),
        "round" => go_round(x),
        _ => return Value::Null,
    };
    Value::Float(r)
}

/// `field::type` casts: numbers convert among themselves, a value of the
/// named type passes, anything else is null.
fn cast(v: &Value, to: &str) -> Value {
    match (to, v) {
        ("float", Value::Float(_)) => v.clone(),
        ("float", Value::Integer(i)) => Value::Float(*i as f64),
        ("float", Value::Unsigned(u)) => Value::Float(*u as f64),
        ("integer", Value::Integer(_)) => v.clone(),
        ("integer", Value::Float(f)) => Value::Integer(*f as i64),
        ("integer", Value::Unsigned(u)) => Value::Integer(*u as i64),
        ("unsigned", Value::Unsigned(_)) => v.clone(),
        ("unsigned", Value::Float(f)) => Value::Unsigned(*f as u64),
        ("unsigned", Value::Integer(i)) => Value::Unsigned(*i as u64),
        ("string", Value::String(_)) | ("boolean", Value::Bool(_)) => v.clone(),
        _ => Value::Null,
    }
}

/// Go's math.Round: half away from zero.
fn go_round(x: f64) -> f64 {
    x.round()
}

/// Evaluates `e` with `lookup` resolving variable references (and calls the
/// caller precomputed, by their display text). Regex comparisons against a
/// string value are supported.
pub fn eval(e: &Expr, lookup: &dyn Fn(&Expr) -> Option<Value>) -> Value {
    if let Some(v) = lookup(e) {
        return v;
    }
    match e {
        Expr::Paren(inner) => eval(inner, lookup),
        Expr::Binary(b) => {
            if matches!(b.op, BinaryOp::EqRegex | BinaryOp::NeqRegex) {
                let l = eval(&b.lhs, lookup);
                let matched = match (&l, b.rhs.unparen()) {
                    (Value::String(s), Expr::Regex(re)) => re.0.is_match(s),
                    (Value::Null, Expr::Regex(re)) => re.0.is_match(""),
                    _ => false,
                };
                return Value::Bool(if b.op == BinaryOp::EqRegex {
                    matched
                } else {
                    !matched
                });
            }
            let l = eval(&b.lhs, lookup);
            if b.op == BinaryOp::And && l == Value::Bool(false) {
                return Value::Bool(false);
            }
            let r = eval(&b.rhs, lookup);
            binary(b.op, &l, &r)
        }
        Expr::Call(c) if is_math_function(&c.name) => {
            let args: Vec<Value> = c.args.iter().map(|a| eval(a, lookup)).collect();
            math_call(&c.name, &args)
        }
        other => literal(other).unwrap_or(Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_division_is_float_and_zero_safe() {
        assert_eq!(
            binary(BinaryOp::Div, &Value::Integer(5), &Value::Integer(2)),
            Value::Float(2.5)
        );
        assert_eq!(
            binary(BinaryOp::Div, &Value::Integer(5), &Value::Integer(0)),
            Value::Float(0.0)
        );
        assert_eq!(
            binary(BinaryOp::Add, &Value::Integer(5), &Value::Float(0.5)),
            Value::Float(5.5)
        );
        assert_eq!(
            binary(BinaryOp::Gt, &Value::Integer(5), &Value::Float(4.5)),
            Value::Bool(true)
        );
        assert_eq!(
            binary(BinaryOp::Gt, &Value::Null, &Value::Float(4.5)),
            Value::Bool(false)
        );
    }

    #[test]
    fn math_functions() {
        assert_eq!(math_call("abs", &[Value::Integer(-3)]), Value::Integer(3));
        assert_eq!(math_call("sqrt", &[Value::Float(4.0)]), Value::Float(2.0));
        assert_eq!(
            math_call("pow", &[Value::Integer(2), Value::Integer(3)]),
            Value::Float(8.0)
        );
    }
}
