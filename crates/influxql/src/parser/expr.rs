//! Expression parsing: precedence climbing exactly like InfluxDB's (a
//! right-descending insertion), unary terms, calls, variable references and
//! `::type` casts.
//!
//! Must not: evaluate or type-check expressions.

use super::{compile_regex, unexpected, PResult, Parser};
use crate::ast::{BinaryOp, Call, DataType, Expr, VarRef, WildcardKind};
use crate::duration;
use crate::error::ParseError;
use crate::token::Token;

/// Insert `op rhs` into the tree: descend the right spine while the operator
/// there binds looser than `op`.
fn insert(slot: &mut Expr, op: BinaryOp, rhs: Expr) {
    match slot {
        Expr::Binary(b) if b.op.precedence() < op.precedence() => insert(&mut b.rhs, op, rhs),
        _ => {
            let lhs = std::mem::replace(slot, Expr::Nil);
            *slot = Expr::binary(lhs, op, rhs);
        }
    }
}

impl Parser<'_> {
    /// Parse a full expression.
    pub(crate) fn parse_expr(&mut self) -> PResult<Expr> {
        let mut root = self.parse_unary()?;
        loop {
            let t = self.scan_ws();
            let Some(op) = t.tok.binary_op() else {
                self.unscan();
                return Ok(root);
            };
            let rhs = if matches!(op, BinaryOp::EqRegex | BinaryOp::NeqRegex) {
                match self.parse_regex()? {
                    Some(r) => Expr::Regex(r),
                    None => {
                        let t = self.scan_ws();
                        return Err(unexpected(&t, &["regex"]));
                    }
                }
            } else {
                self.parse_unary()?
            };
            self.ops += 1;
            if self.ops > super::MAX_OPERATORS {
                return Err(ParseError::msg(
                    format!(
                        "too many operators in statement (limit {})",
                        super::MAX_OPERATORS
                    ),
                    t.pos,
                ));
            }
            insert(&mut root, op, rhs);
        }
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        self.depth += 1;
        let r = self.parse_unary_inner();
        self.depth -= 1;
        r
    }

    fn parse_unary_inner(&mut self) -> PResult<Expr> {
        if self.depth > super::MAX_NESTING {
            let t = self.scan_ws();
            return Err(ParseError::msg(
                format!(
                    "expression nested too deeply (limit {})",
                    super::MAX_NESTING
                ),
                t.pos,
            ));
        }
        if self.scan_ws().tok == Token::LParen {
            let e = self.parse_expr()?;
            let t = self.scan_ws();
            if t.tok != Token::RParen {
                return Err(unexpected(&t, &[")"]));
            }
            return Ok(Expr::Paren(Box::new(e)));
        }
        self.unscan();

        let t = self.scan_ws();
        match t.tok {
            Token::Ident => {
                if self.scan().tok == Token::LParen {
                    return Ok(Expr::Call(self.parse_call(&t.lit)?));
                }
                self.unscan();
                self.unscan();
                Ok(Expr::VarRef(self.parse_var_ref()?))
            }
            Token::Distinct => {
                let t0 = self.scan();
                if t0.tok == Token::LParen {
                    return Ok(Expr::Call(self.parse_call("distinct")?));
                } else if t0.tok == Token::Ws {
                    let t1 = self.scan_ws();
                    if t1.tok != Token::Ident {
                        return Err(unexpected(&t1, &["identifier"]));
                    }
                    return Ok(Expr::Distinct(t1.lit));
                }
                Err(unexpected(&t0, &["(", "identifier"]))
            }
            Token::Str => Ok(Expr::String(t.lit)),
            Token::Number => t
                .lit
                .parse::<f64>()
                .map(Expr::Number)
                .map_err(|_| ParseError::msg("unable to parse number", t.pos)),
            Token::Integer => match t.lit.parse::<i64>() {
                Ok(v) => Ok(Expr::Integer(v)),
                Err(_) => match t.lit.parse::<u64>() {
                    Ok(v) => Ok(Expr::Unsigned(v)),
                    Err(_) => Err(ParseError::msg("unable to parse integer", t.pos)),
                },
            },
            Token::True => Ok(Expr::Boolean(true)),
            Token::False => Ok(Expr::Boolean(false)),
            Token::DurationVal => duration::parse_duration(&t.lit)
                .map(Expr::Duration)
                .map_err(ParseError::plain),
            Token::Mul => {
                if self.scan().tok == Token::DoubleColon {
                    let t = self.scan();
                    return match t.tok {
                        Token::Field => Ok(Expr::Wildcard(WildcardKind::Field)),
                        Token::Tag => Ok(Expr::Wildcard(WildcardKind::Tag)),
                        _ => Err(unexpected(&t, &["field", "tag"])),
                    };
                }
                self.unscan();
                Ok(Expr::Wildcard(WildcardKind::All))
            }
            Token::Regex => compile_regex(&t.lit, t.pos).map(Expr::Regex),
            Token::BoundParam => {
                let k = t.lit.trim_start_matches('$');
                if k.is_empty() {
                    return Err(ParseError::plain("empty bound parameter"));
                }
                match self.params.and_then(|p| p.get(k)) {
                    None => Err(ParseError::plain(format!("missing parameter: {k}"))),
                    Some(crate::params::Param::Error(e)) => Err(ParseError::plain(e.clone())),
                    Some(_) => Err(ParseError::plain(format!("missing parameter: {k}"))),
                }
            }
            Token::Add | Token::Sub => {
                let neg = t.tok == Token::Sub;
                let t0 = self.scan_ws();
                match t0.tok {
                    Token::Number
                    | Token::Integer
                    | Token::DurationVal
                    | Token::LParen
                    | Token::Ident => {
                        self.unscan();
                        let e = self.parse_unary()?;
                        Ok(match e {
                            Expr::Number(v) if neg => Expr::Number(-v),
                            Expr::Integer(v) if neg => Expr::Integer(v.wrapping_neg()),
                            Expr::Duration(v) if neg => Expr::Duration(v.wrapping_neg()),
                            Expr::Unsigned(v) if neg => {
                                if v == 1u64 << 63 {
                                    Expr::Integer(i64::MIN)
                                } else {
                                    return Err(ParseError::plain(format!(
                                        "constant -{v} underflows int64"
                                    )));
                                }
                            }
                            e @ (Expr::VarRef(_) | Expr::Call(_) | Expr::Paren(_)) => Expr::binary(
                                Expr::Integer(if neg { -1 } else { 1 }),
                                BinaryOp::Mul,
                                e,
                            ),
                            e => e,
                        })
                    }
                    _ => Err(unexpected(&t0, &["identifier", "number", "duration", "("])),
                }
            }
            _ => Err(unexpected(&t, &["identifier", "string", "number", "bool"])),
        }
    }

    /// `name(args...)`; the name and `(` are already consumed.
    fn parse_call(&mut self, name: &str) -> PResult<Call> {
        let name = name.to_ascii_lowercase();
        let mut args = Vec::new();
        if let Some(r) = self.parse_regex()? {
            args.push(Expr::Regex(r));
        } else {
            if self.scan().tok == Token::RParen {
                return Ok(Call { name, args });
            }
            self.unscan();
            args.push(self.parse_expr()?);
        }
        loop {
            if self.scan_ws().tok != Token::Comma {
                self.unscan();
                break;
            }
            if let Some(r) = self.parse_regex()? {
                args.push(Expr::Regex(r));
                continue;
            }
            args.push(self.parse_expr()?);
        }
        let t = self.scan();
        if t.tok != Token::RParen {
            return Err(unexpected(&t, &[")"]));
        }
        Ok(Call { name, args })
    }

    /// `a.b.c[::type]`
    pub(crate) fn parse_var_ref(&mut self) -> PResult<VarRef> {
        let segments = self.parse_segmented_idents()?;
        let mut data_type = DataType::Unknown;
        if self.scan().tok == Token::DoubleColon {
            let t = self.scan();
            data_type = match t.tok {
                Token::Ident => match t.lit.to_ascii_lowercase().as_str() {
                    "float" => DataType::Float,
                    "integer" => DataType::Integer,
                    "unsigned" => DataType::Unsigned,
                    "string" => DataType::String,
                    "boolean" => DataType::Boolean,
                    _ => {
                        return Err(unexpected(
                            &t,
                            &[
                                "float", "integer", "unsigned", "string", "boolean", "field", "tag",
                            ],
                        ))
                    }
                },
                Token::Field => DataType::AnyField,
                Token::Tag => DataType::Tag,
                _ => {
                    return Err(unexpected(
                        &t,
                        &["float", "integer", "string", "boolean", "field", "tag"],
                    ))
                }
            };
        } else {
            self.unscan();
        }
        Ok(VarRef {
            name: segments.join("."),
            data_type,
        })
    }
}
