//! Expression parsing: an operator chain is read flat, its tree depth
//! computed, and only then the tree built — the same tree InfluxDB's
//! right-descending insertion builds (precedence, left associativity), with
//! long AND/OR runs balanced; unary terms, calls, variable references and
//! `::type` casts.
//!
//! Must not: evaluate or type-check expressions.

use super::{compile_regex, unexpected, PResult, Parser};
use crate::ast::{BinaryOp, Call, DataType, Expr, VarRef, WildcardKind};
use crate::duration;
use crate::error::ParseError;
use crate::token::Token;

/// An operator chain read by [`Parser::parse_expr`]: `operands[i] ops[i]
/// operands[i+1]`, with the tree depth of every operand.
struct Chain {
    operands: Vec<Expr>,
    depths: Vec<usize>,
    ops: Vec<BinaryOp>,
}

/// Lowest and highest operator precedence ([`BinaryOp::precedence`]).
const PRECEDENCE_MIN: u8 = 1;
const PRECEDENCE_MAX: u8 = 5;

/// Whether a run of `n` operands joined by `op` is built balanced rather
/// than left-deep (see [`super::REBALANCE_MIN_TERMS`]).
fn balanced(op: BinaryOp, n: usize) -> bool {
    matches!(op, BinaryOp::And | BinaryOp::Or) && n >= super::REBALANCE_MIN_TERMS
}

impl Chain {
    /// Splits operands `lo..=hi` at the operators of precedence `prec`:
    /// the bounds of every segment.
    fn segments(&self, lo: usize, hi: usize, prec: u8) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut from = lo;
        for i in lo..hi {
            if self.ops[i].precedence() == prec {
                out.push((from, i));
                from = i + 1;
            }
        }
        out.push((from, hi));
        out
    }

    /// The depth of the tree [`Chain::build`] makes of operands `lo..=hi`,
    /// computed without building it.
    fn depth(&self, lo: usize, hi: usize, prec: u8) -> usize {
        if lo == hi {
            return self.depths[lo];
        }
        if prec > PRECEDENCE_MAX {
            // Unreachable: every operator has a precedence in range.
            return self.depths[lo..=hi].iter().copied().max().unwrap_or(0) + (hi - lo);
        }
        let segs = self.segments(lo, hi, prec);
        if segs.len() == 1 {
            return self.depth(lo, hi, prec + 1);
        }
        let d: Vec<usize> = segs
            .iter()
            .map(|&(a, b)| self.depth(a, b, prec + 1))
            .collect();
        if balanced(self.ops[segs[0].1], segs.len()) {
            balanced_depth(&d)
        } else {
            // Left-deep: every operator adds a level above what it joins.
            d[1..].iter().fold(d[0], |acc, &r| acc.max(r) + 1)
        }
    }

    /// Builds operands `lo..=hi` into InfluxDB's tree: operators bind by
    /// precedence and associate to the left; long AND/OR runs are balanced
    /// (the same truth value, logarithmic depth).
    fn build(&mut self, lo: usize, hi: usize, prec: u8) -> Expr {
        if lo == hi || prec > PRECEDENCE_MAX {
            let mut e = std::mem::replace(&mut self.operands[lo], Expr::Nil);
            for i in lo..hi {
                let rhs = std::mem::replace(&mut self.operands[i + 1], Expr::Nil);
                e = Expr::binary(e, self.ops[i], rhs);
            }
            return e;
        }
        let segs = self.segments(lo, hi, prec);
        if segs.len() == 1 {
            return self.build(lo, hi, prec + 1);
        }
        let mut parts: Vec<Expr> = segs
            .iter()
            .map(|&(a, b)| self.build(a, b, prec + 1))
            .collect();
        let op_after = |i: usize| self.ops[segs[i].1];
        if balanced(op_after(0), parts.len()) {
            let op = op_after(0);
            let mut it = parts.drain(..);
            let n = it.len();
            return build_balanced(&mut it, n, op);
        }
        let ops: Vec<BinaryOp> = (0..segs.len() - 1).map(op_after).collect();
        let mut it = parts.into_iter();
        let mut e = it.next().unwrap_or(Expr::Nil);
        for (op, rhs) in ops.into_iter().zip(it) {
            e = Expr::binary(e, op, rhs);
        }
        e
    }
}

/// Depth of a balanced tree over parts of depths `d` (split as
/// [`build_balanced`] splits).
fn balanced_depth(d: &[usize]) -> usize {
    if d.len() == 1 {
        return d[0];
    }
    let (l, r) = d.split_at(d.len() / 2);
    balanced_depth(l).max(balanced_depth(r)) + 1
}

/// A balanced tree over the next `n` parts, in order.
fn build_balanced(it: &mut impl Iterator<Item = Expr>, n: usize, op: BinaryOp) -> Expr {
    if n <= 1 {
        return it.next().unwrap_or(Expr::Nil);
    }
    let lhs = build_balanced(it, n / 2, op);
    let rhs = build_balanced(it, n - n / 2, op);
    Expr::binary(lhs, op, rhs)
}

impl Parser<'_> {
    /// Parse a full expression.
    pub(crate) fn parse_expr(&mut self) -> PResult<Expr> {
        self.parse_expr_depth().map(|(e, _)| e)
    }

    /// Parse a full expression and the depth of its tree. The tree is
    /// built only once its depth is known to be within
    /// [`super::MAX_EXPR_DEPTH`], so no consumer (including drop) ever sees
    /// a deeper one.
    fn parse_expr_depth(&mut self) -> PResult<(Expr, usize)> {
        // Every function on the recursion cycle (this one, `parse_unary*`,
        // `parse_operand`, `parse_call`, `parse_signed`) keeps its frame
        // small — cold paths live in helpers — so that MAX_NESTING levels
        // fit a 2 MiB stack even in debug builds.
        let start = self.peek_pos();
        let (e, d) = self.parse_unary()?;
        let mut chain = Chain {
            operands: vec![e],
            depths: vec![d],
            ops: Vec::new(),
        };
        while let Some(op) = self.next_binary_op() {
            let (rhs, d) = self.parse_operand(op)?;
            chain.ops.push(op);
            chain.operands.push(rhs);
            chain.depths.push(d);
        }
        self.finish_chain(chain, start)
    }

    #[inline(never)]
    fn peek_pos(&mut self) -> crate::error::Pos {
        let t = self.scan_ws();
        self.unscan();
        t.pos
    }

    /// The binary operator next, consumed; None (nothing consumed) otherwise.
    #[inline(never)]
    fn next_binary_op(&mut self) -> Option<BinaryOp> {
        let t = self.scan_ws();
        let op = t.tok.binary_op();
        if op.is_none() {
            self.unscan();
        }
        self.op_pos = t.pos;
        op
    }

    /// The right operand of `op` (a regex after `=~`/`!~`), counted
    /// against [`super::MAX_OPERATORS`].
    fn parse_operand(&mut self, op: BinaryOp) -> PResult<(Expr, usize)> {
        let operand = if matches!(op, BinaryOp::EqRegex | BinaryOp::NeqRegex) {
            self.parse_regex_operand()?
        } else {
            self.parse_unary()?
        };
        self.ops += 1;
        if self.ops > super::MAX_OPERATORS {
            return Err(self.too_many_operators());
        }
        Ok(operand)
    }

    #[inline(never)]
    fn parse_regex_operand(&mut self) -> PResult<(Expr, usize)> {
        match self.parse_regex()? {
            Some(r) => Ok((Expr::Regex(r), 1)),
            None => {
                let t = self.scan_ws();
                Err(unexpected(&t, &["regex"]))
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn too_many_operators(&mut self) -> ParseError {
        // The position of the operator just counted.
        ParseError::msg(
            format!(
                "too many operators in statement (limit {})",
                super::MAX_OPERATORS
            ),
            self.op_pos,
        )
    }

    /// Builds the chain once its depth is known to be within
    /// [`super::MAX_EXPR_DEPTH`].
    #[inline(never)]
    fn finish_chain(
        &mut self,
        mut chain: Chain,
        start: crate::error::Pos,
    ) -> PResult<(Expr, usize)> {
        let hi = chain.operands.len() - 1;
        let depth = chain.depth(0, hi, PRECEDENCE_MIN);
        if depth > super::MAX_EXPR_DEPTH {
            return Err(ParseError::msg(
                format!(
                    "expression nested too deeply (limit {})",
                    super::MAX_EXPR_DEPTH
                ),
                start,
            ));
        }
        Ok((chain.build(0, hi, PRECEDENCE_MIN), depth))
    }

    /// A term and the depth of its tree.
    fn parse_unary(&mut self) -> PResult<(Expr, usize)> {
        self.depth += 1;
        let r = self.parse_unary_inner();
        self.depth -= 1;
        r
    }

    fn parse_unary_inner(&mut self) -> PResult<(Expr, usize)> {
        if self.depth > super::MAX_NESTING {
            return Err(self.nested_too_deeply());
        }
        let t = self.scan_ws();
        match t.tok {
            Token::LParen => self.parse_paren_rest(),
            Token::Ident | Token::Distinct => {
                if self.scan().tok == Token::LParen {
                    let name = if t.tok == Token::Distinct {
                        "distinct"
                    } else {
                        &t.lit
                    };
                    let (c, d) = self.parse_call(name)?;
                    return Ok((Expr::Call(c), d + 1));
                }
                self.unscan();
                self.unscan();
                self.parse_leaf()
            }
            Token::Add | Token::Sub => self.parse_signed(t.tok == Token::Sub),
            _ => {
                self.unscan();
                self.parse_leaf()
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn nested_too_deeply(&mut self) -> ParseError {
        let t = self.scan_ws();
        ParseError::msg(
            format!(
                "expression nested too deeply (limit {})",
                super::MAX_NESTING
            ),
            t.pos,
        )
    }

    /// `expr )`; `(` is already consumed.
    fn parse_paren_rest(&mut self) -> PResult<(Expr, usize)> {
        let (e, d) = self.parse_expr_depth()?;
        self.expect_rparen()?;
        Ok((Expr::Paren(Box::new(e)), d + 1))
    }

    #[inline(never)]
    fn expect_rparen(&mut self) -> PResult<()> {
        let t = self.scan_ws();
        if t.tok != Token::RParen {
            return Err(unexpected(&t, &[")"]));
        }
        Ok(())
    }

    /// A term after a leading `+` or `-`.
    fn parse_signed(&mut self, neg: bool) -> PResult<(Expr, usize)> {
        self.check_signed_operand()?;
        let (e, d) = self.parse_unary()?;
        negate(e, d, neg)
    }

    #[inline(never)]
    fn check_signed_operand(&mut self) -> PResult<()> {
        let t0 = self.scan_ws();
        match t0.tok {
            Token::Number | Token::Integer | Token::DurationVal | Token::LParen | Token::Ident => {
                self.unscan();
                Ok(())
            }
            _ => Err(unexpected(&t0, &["identifier", "number", "duration", "("])),
        }
    }

    /// A term that holds no sub-expression.
    #[inline(never)]
    fn parse_leaf(&mut self) -> PResult<(Expr, usize)> {
        let t = self.scan_ws();
        let leaf = match t.tok {
            Token::Ident => {
                self.unscan();
                Ok(Expr::VarRef(self.parse_var_ref()?))
            }
            Token::Distinct => {
                let t0 = self.scan();
                if t0.tok == Token::Ws {
                    let t1 = self.scan_ws();
                    if t1.tok != Token::Ident {
                        return Err(unexpected(&t1, &["identifier"]));
                    }
                    return Ok((Expr::Distinct(t1.lit), 1));
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
                        Token::Field => Ok((Expr::Wildcard(WildcardKind::Field), 1)),
                        Token::Tag => Ok((Expr::Wildcard(WildcardKind::Tag), 1)),
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
            _ => Err(unexpected(&t, &["identifier", "string", "number", "bool"])),
        };
        leaf.map(|e| (e, 1))
    }
}

/// The next element of a call's argument list.
enum CallArg {
    Regex(Expr),
    Expr,
    End,
}

/// A signed term: `-` folds into a literal, and multiplies anything else by
/// -1 (`+` by 1), as InfluxDB does.
#[inline(never)]
fn negate(e: Expr, d: usize, neg: bool) -> PResult<(Expr, usize)> {
    Ok(match e {
        Expr::Number(v) if neg => (Expr::Number(-v), d),
        Expr::Integer(v) if neg => (Expr::Integer(v.wrapping_neg()), d),
        Expr::Duration(v) if neg => (Expr::Duration(v.wrapping_neg()), d),
        Expr::Unsigned(v) if neg => {
            if v == 1u64 << 63 {
                (Expr::Integer(i64::MIN), d)
            } else {
                return Err(ParseError::plain(format!("constant -{v} underflows int64")));
            }
        }
        e @ (Expr::VarRef(_) | Expr::Call(_) | Expr::Paren(_)) => (
            Expr::binary(Expr::Integer(if neg { -1 } else { 1 }), BinaryOp::Mul, e),
            d + 1,
        ),
        e => (e, d),
    })
}

impl Parser<'_> {
    /// `name(args...)`; the name and `(` are already consumed.
    /// Returns the call and the depth of its deepest argument.
    fn parse_call(&mut self, name: &str) -> PResult<(Call, usize)> {
        let name = name.to_ascii_lowercase();
        let mut args = Vec::new();
        let mut depth = 0;
        let mut first = true;
        loop {
            match self.next_call_arg(first)? {
                CallArg::Regex(e) => {
                    args.push(e);
                    depth = depth.max(1);
                }
                CallArg::Expr => {
                    let (e, d) = self.parse_expr_depth()?;
                    args.push(e);
                    depth = depth.max(d);
                }
                CallArg::End => break,
            }
            first = false;
        }
        Ok((Call { name, args }, depth))
    }

    /// What comes next in an argument list: a regex argument (consumed),
    /// an expression argument (not consumed yet), or the end (`)` consumed).
    #[inline(never)]
    fn next_call_arg(&mut self, first: bool) -> PResult<CallArg> {
        if !first && self.scan_ws().tok != Token::Comma {
            self.unscan();
            let t = self.scan();
            if t.tok != Token::RParen {
                return Err(unexpected(&t, &[")"]));
            }
            return Ok(CallArg::End);
        }
        if let Some(r) = self.parse_regex()? {
            return Ok(CallArg::Regex(Expr::Regex(r)));
        }
        if first {
            if self.scan().tok == Token::RParen {
                return Ok(CallArg::End);
            }
            self.unscan();
        }
        Ok(CallArg::Expr)
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
