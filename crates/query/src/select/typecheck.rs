//! The type check InfluxDB runs over a SELECT's fields before executing it:
//! arithmetic needs numbers on both sides, bitwise operators integers (or a
//! boolean on the left), and a violation fails the statement with
//! `type error: <expr with its types>: incompatible types: <l> and <r>`.
//! Also which casts can read a field at all (`f::string` of a float field
//! reads nothing, as in InfluxDB).
//!
//! Owns: expression typing against the schema. Must not: plan or evaluate.
//! Where a type cannot be known (a missing field, an unfamiliar function)
//! nothing is reported: only what InfluxDB rejects is rejected.

use super::plan::Schema;
use crate::error::{Error, Result};
use influxql::{BinaryOp, Call, DataType, Expr, VarRef};
use models::FieldType;

// Types are influxql's `DataType`, as InfluxDB's type mapper names them;
// `Unknown` is a type that cannot be known (nothing is reported for it).

fn numeric(t: DataType) -> bool {
    matches!(t, DataType::Float | DataType::Integer | DataType::Unsigned)
}

fn of_field(t: FieldType) -> DataType {
    match t {
        FieldType::Float => DataType::Float,
        FieldType::Integer => DataType::Integer,
        FieldType::Unsigned => DataType::Unsigned,
        FieldType::String => DataType::String,
        FieldType::Boolean => DataType::Boolean,
    }
}

/// The type an explicit `::cast` asks for, if it names one.
fn of_cast(t: DataType) -> Option<DataType> {
    (!matches!(t, DataType::Unknown | DataType::AnyField)).then_some(t)
}

/// Whether `v` (a field reference, maybe with a cast) can read its stored
/// field: no cast, the field's own type, or a number read as another number.
pub fn cast_reads_field(v: &VarRef, schema: &Schema) -> bool {
    let (Some(want), Some(&stored)) = (of_cast(v.data_type), schema.fields.get(&v.name)) else {
        return true;
    };
    let have = of_field(stored);
    want == DataType::Tag || want == have || (numeric(want) && numeric(have))
}

/// A literal's kind, for folding constant sub-expressions as InfluxDB does
/// before it validates fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lit {
    Number,
    Integer,
    String,
    Boolean,
}

/// What a binary expression of two literals folds to, if anything.
fn fold(op: BinaryOp, l: Lit, r: Lit) -> Option<Lit> {
    use BinaryOp::*;
    let numeric = |k: Lit| matches!(k, Lit::Number | Lit::Integer);
    match op {
        Add | Sub | Mul | Div | Mod if numeric(l) && numeric(r) => {
            Some(if l == Lit::Integer && r == Lit::Integer && op != Div {
                Lit::Integer
            } else {
                Lit::Number
            })
        }
        Add if l == Lit::String && r == Lit::String => Some(Lit::String),
        BitAnd | BitOr | BitXor if l == Lit::Integer && r == Lit::Integer => Some(Lit::Integer),
        BitAnd | BitOr | BitXor if l == Lit::Boolean && r == Lit::Boolean => Some(Lit::Boolean),
        Eq | Neq | Lt | Lte | Gt | Gte if l == r || (numeric(l) && numeric(r)) => {
            Some(Lit::Boolean)
        }
        _ => None,
    }
}

/// The literal kind `e` folds to, `None` when it involves a variable or a
/// call, or the error for two literals that do not fold.
fn literal(e: &Expr) -> Result<Option<Lit>> {
    Ok(match e {
        Expr::Paren(inner) => literal(inner)?,
        Expr::Integer(_) | Expr::Unsigned(_) | Expr::Duration(_) | Expr::Time(_) => {
            Some(Lit::Integer)
        }
        Expr::Number(_) => Some(Lit::Number),
        Expr::String(_) => Some(Lit::String),
        Expr::Boolean(_) => Some(Lit::Boolean),
        Expr::Binary(b) => {
            let (l, r) = (literal(&b.lhs)?, literal(&b.rhs)?);
            match (l, r) {
                (Some(l), Some(r)) => Some(fold(b.op, l, r).ok_or_else(|| {
                    Error::msg("cannot perform a binary expression on two literals")
                })?),
                _ => None,
            }
        }
        _ => None,
    })
}

/// InfluxDB's checks on constant parts of the projection: two literals that
/// do not fold (`1 + 'x'`) and a field without any variable (`1`, `2 * 3`).
pub fn check_literals<'a>(fields: impl IntoIterator<Item = &'a Expr>) -> Result<()> {
    for e in fields {
        if literal(e)?.is_some() {
            return Err(Error::msg("field must contain at least one variable"));
        }
    }
    Ok(())
}

/// Checks every field expression of a statement, in order.
pub fn check_fields<'a>(fields: impl IntoIterator<Item = &'a Expr>, schema: &Schema) -> Result<()> {
    for e in fields {
        eval(e, schema)?;
    }
    Ok(())
}

fn var_type(v: &VarRef, schema: &Schema) -> DataType {
    if let Some(t) = of_cast(v.data_type) {
        return t;
    }
    match schema.fields.get(&v.name) {
        Some(&t) => of_field(t),
        None if schema.tags.contains(&v.name) => DataType::Tag,
        None => DataType::Unknown,
    }
}

fn call_type(c: &Call, schema: &Schema) -> Result<DataType> {
    let arg = match c.args.first() {
        Some(a) => eval(a, schema)?,
        None => DataType::Unknown,
    };
    Ok(match c.name.as_str() {
        "count" | "elapsed" => DataType::Integer,
        "mean"
        | "median"
        | "stddev"
        | "integral"
        | "derivative"
        | "non_negative_derivative"
        | "moving_average"
        | "holt_winters"
        | "holt_winters_with_fit"
        | "exponential_moving_average"
        | "double_exponential_moving_average"
        | "triple_exponential_moving_average"
        | "relative_strength_index"
        | "triple_exponential_derivative"
        | "kaufmans_efficiency_ratio"
        | "kaufmans_adaptive_moving_average"
        | "chande_momentum_oscillator" => DataType::Float,
        "min"
        | "max"
        | "first"
        | "last"
        | "sum"
        | "mode"
        | "distinct"
        | "top"
        | "bottom"
        | "sample"
        | "percentile"
        | "spread"
        | "difference"
        | "non_negative_difference"
        | "cumulative_sum" => arg,
        _ => DataType::Unknown,
    })
}

fn eval(e: &Expr, schema: &Schema) -> Result<DataType> {
    Ok(match e {
        Expr::Paren(inner) => eval(inner, schema)?,
        Expr::VarRef(v) => var_type(v, schema),
        Expr::Integer(_) => DataType::Integer,
        Expr::Number(_) => DataType::Float,
        Expr::String(_) => DataType::String,
        Expr::Boolean(_) => DataType::Boolean,
        Expr::Unsigned(_) => DataType::Unsigned,
        Expr::Call(c) => call_type(c, schema)?,
        Expr::Binary(b) => {
            let l = eval(&b.lhs, schema)?;
            let r = eval(&b.rhs, schema)?;
            if l == DataType::Unknown || r == DataType::Unknown {
                return Ok(DataType::Unknown);
            }
            let arithmetic = matches!(
                b.op,
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
            );
            let bitwise = matches!(b.op, BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor);
            let ok = if arithmetic {
                (numeric(l) && numeric(r)).then(|| {
                    if l == DataType::Float || r == DataType::Float {
                        DataType::Float
                    } else if l == DataType::Unsigned || r == DataType::Unsigned {
                        DataType::Unsigned
                    } else {
                        DataType::Integer
                    }
                })
            } else if bitwise {
                match (l, r) {
                    (DataType::Boolean, _) => Some(DataType::Boolean),
                    (DataType::Integer, DataType::Integer) => Some(DataType::Integer),
                    (
                        DataType::Unsigned | DataType::Integer,
                        DataType::Unsigned | DataType::Integer,
                    ) => Some(DataType::Unsigned),
                    _ => None,
                }
            } else {
                // Comparisons and logic in a projection: not checked here.
                Some(DataType::Boolean)
            };
            match ok {
                Some(t) => t,
                None => {
                    return Err(Error::msg(format!(
                        "type error: {}: incompatible types: {} and {}",
                        typed(e, schema),
                        l.as_str(),
                        r.as_str()
                    )))
                }
            }
        }
        _ => DataType::Unknown,
    })
}

/// `e` printed with the types of its references, as InfluxDB's EXPLAIN
/// and type errors print it (`mean(usage::float)`).
pub fn typed_text(e: &Expr, schema: &Schema) -> String {
    typed(e, schema).to_string()
}

/// [`typed_text`] as an expression.
pub fn typed_expr(e: &Expr, schema: &Schema) -> Expr {
    typed(e, schema)
}

/// `e` as InfluxDB prints it in a type error: references carry their types
/// (`f::float`, `host::tag`) and parentheses are gone.
fn typed(e: &Expr, schema: &Schema) -> Expr {
    match e {
        Expr::Paren(inner) => typed(inner, schema),
        Expr::VarRef(v) => {
            let mut v = v.clone();
            if v.data_type == DataType::Unknown {
                v.data_type = var_type(&v, schema);
            }
            Expr::VarRef(v)
        }
        Expr::Call(c) => {
            let mut c = c.clone();
            c.args = c.args.iter().map(|a| typed(a, schema)).collect();
            Expr::Call(c)
        }
        Expr::Binary(b) => Expr::binary(typed(&b.lhs, schema), b.op, typed(&b.rhs, schema)),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        let mut s = Schema::default();
        s.fields.insert("f".into(), FieldType::Float);
        s.fields.insert("i".into(), FieldType::Integer);
        s.fields.insert("s".into(), FieldType::String);
        s.fields.insert("b".into(), FieldType::Boolean);
        s.tags.push("host".into());
        s
    }

    fn check(field: &str) -> std::result::Result<(), String> {
        let q = influxql::parse_query(&format!("SELECT {field} FROM m")).unwrap();
        let influxql::Statement::Select(s) = &q.statements[0] else {
            panic!("not a select")
        };
        check_fields(s.fields.iter().map(|f| &f.expr), &schema()).map_err(|e| e.to_string())
    }

    /// Answers recorded from InfluxDB 1.6.7.
    #[test]
    fn rejects_what_influxdb_rejects_with_its_text() {
        let cases = [
            ("s + 1", "type error: s::string + 1: incompatible types: string and integer"),
            ("f + s", "type error: f::float + s::string: incompatible types: float and string"),
            ("b + 1", "type error: b::boolean + 1: incompatible types: boolean and integer"),
            ("(f + s) * 2", "type error: f::float + s::string: incompatible types: float and string"),
            ("f + host", "type error: f::float + host::tag: incompatible types: float and tag"),
            ("f::string + 1", "type error: f::string + 1: incompatible types: string and integer"),
            ("-s", "type error: -1 * s::string: incompatible types: integer and string"),
            ("f + (s)", "type error: f::float + s::string: incompatible types: float and string"),
            (
                "max(f) + min(s)",
                "type error: max(f::float) + min(s::string): incompatible types: float and string",
            ),
            (
                "count(f) & max(f)",
                "type error: count(f::float) & max(f::float): incompatible types: integer and float",
            ),
            ("f & i", "type error: f::float & i::integer: incompatible types: float and integer"),
        ];
        for (field, want) in cases {
            assert_eq!(check(field), Err(want.to_string()), "{field}");
        }
    }

    #[test]
    fn accepts_what_influxdb_accepts() {
        for field in [
            "f + i",
            "i % 1.5",
            "1 - f",
            "i & i",
            "i | 1",
            "b & f",
            "b ^ s",
            "true & host",
            "f + nosuch",
            "nosuch + s",
            "f::integer + 1",
            "mean(s) + 1",
            "f",
            "s",
        ] {
            assert_eq!(check(field), Ok(()), "{field}");
        }
    }

    #[test]
    fn constant_fields_fail_like_influxdb() {
        let lit = |f: &str| {
            let q = influxql::parse_query(&format!("SELECT {f} FROM m")).unwrap();
            let influxql::Statement::Select(s) = &q.statements[0] else {
                panic!("not a select")
            };
            check_literals(s.fields.iter().map(|f| &f.expr)).map_err(|e| e.to_string())
        };
        let no_var = Err("field must contain at least one variable".to_string());
        let two = Err("cannot perform a binary expression on two literals".to_string());
        for f in [
            "1",
            "'x'",
            "1 + 1",
            "1 / 1.5",
            "'x' + 'y'",
            "true & true",
            "1 & 1",
            "f, 2 * 3",
        ] {
            assert_eq!(lit(f), no_var, "{f}");
        }
        for f in [
            "1 + 'x'",
            "1.5 & 1",
            "1 + true",
            "f + (1 + 'x')",
            "1 + 'x', f",
        ] {
            assert_eq!(lit(f), two, "{f}");
        }
        for f in ["f", "f + 1", "max(f) * 2", "top(f, 3)", "1 - f"] {
            assert_eq!(lit(f), Ok(()), "{f}");
        }
    }

    #[test]
    fn casts_read_a_field_only_as_its_type_or_another_number() {
        let s = schema();
        let v = |n: &str, t: DataType| VarRef {
            name: n.into(),
            data_type: t,
        };
        assert!(cast_reads_field(&v("f", DataType::Integer), &s));
        assert!(cast_reads_field(&v("i", DataType::Float), &s));
        assert!(cast_reads_field(&v("i", DataType::Unsigned), &s));
        assert!(cast_reads_field(&v("s", DataType::String), &s));
        assert!(cast_reads_field(&v("f", DataType::Unknown), &s));
        assert!(!cast_reads_field(&v("f", DataType::String), &s));
        assert!(!cast_reads_field(&v("s", DataType::Float), &s));
        assert!(!cast_reads_field(&v("b", DataType::Integer), &s));
        assert!(!cast_reads_field(&v("i", DataType::Boolean), &s));
    }
}
