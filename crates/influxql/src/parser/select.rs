//! SELECT parsing and the clauses shared with SHOW/DROP/DELETE (sources,
//! WHERE, GROUP BY, ORDER BY, fill, tz).
//!
//! Must not: check fields against a schema or validate aggregates (the
//! executor's compile step does that, as in InfluxDB).

use super::{unexpected, PResult, Parser};
use crate::ast::{
    BinaryOp, Dimension, Expr, Field, Fill, FillNumber, Measurement, SelectStatement, SortField,
    Source, Target,
};
use crate::error::ParseError;
use crate::token::Token;

/// Whether an INTO clause is required (continuous queries) or allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TargetRequirement {
    Required,
    NotRequired,
    Subquery,
}

/// Preorder walk remembering the last comparison/logical operator found,
/// without descending below it (InfluxDB's `validateField`).
fn find_invalid_op(e: &Expr, found: &mut Option<BinaryOp>) {
    match e {
        Expr::Binary(b) => {
            if b.op.is_comparison() || matches!(b.op, BinaryOp::And | BinaryOp::Or) {
                *found = Some(b.op);
                return;
            }
            find_invalid_op(&b.lhs, found);
            find_invalid_op(&b.rhs, found);
        }
        Expr::Paren(inner) => find_invalid_op(inner, found),
        Expr::Call(c) => c.args.iter().for_each(|a| find_invalid_op(a, found)),
        _ => {}
    }
}

impl Parser<'_> {
    /// SELECT statement; `SELECT` is already consumed.
    pub(crate) fn parse_select(&mut self, tr: TargetRequirement) -> PResult<SelectStatement> {
        let mut s = SelectStatement {
            fields: self.parse_fields()?,
            ..Default::default()
        };
        s.target = self.parse_target(tr)?;
        let t = self.scan_ws();
        if t.tok != Token::From {
            return Err(unexpected(&t, &["FROM"]));
        }
        s.sources = self.parse_sources(true)?;
        s.condition = self.parse_condition()?;
        s.dimensions = self.parse_dimensions()?;
        s.fill = self.parse_fill()?;
        s.sort_fields = self.parse_order_by()?;
        s.limit = self.parse_optional_token_and_int(Token::Limit)?;
        s.offset = self.parse_optional_token_and_int(Token::Offset)?;
        s.slimit = self.parse_optional_token_and_int(Token::Slimit)?;
        s.soffset = self.parse_optional_token_and_int(Token::Soffset)?;
        s.location = self.parse_location()?;
        Ok(s)
    }

    fn parse_fields(&mut self) -> PResult<Vec<Field>> {
        let mut fields = Vec::new();
        loop {
            fields.push(self.parse_field()?);
            if self.scan().tok != Token::Comma {
                self.unscan();
                break;
            }
        }
        Ok(fields)
    }

    fn parse_field(&mut self) -> PResult<Field> {
        let expr = if let Some(r) = self.parse_regex()? {
            Expr::Regex(r)
        } else {
            let pos = self.scan_ws().pos;
            self.unscan();
            let expr = self.parse_expr()?;
            let mut bad = None;
            find_invalid_op(&expr, &mut bad);
            if let Some(op) = bad {
                return Err(ParseError::plain(format!(
                    "invalid operator {} in SELECT clause at line {}, char {}; operator is intended for WHERE clause",
                    op.as_str(),
                    pos.line + 1,
                    pos.char + 1
                )));
            }
            expr
        };
        let alias = self.parse_alias()?;
        self.consume_ws();
        Ok(Field { expr, alias })
    }

    fn parse_alias(&mut self) -> PResult<Option<String>> {
        if !self.accept(Token::As) {
            return Ok(None);
        }
        self.parse_ident().map(Some)
    }

    fn parse_target(&mut self, tr: TargetRequirement) -> PResult<Option<Target>> {
        let t = self.scan_ws();
        if t.tok != Token::Into {
            if tr == TargetRequirement::Required {
                return Err(unexpected(&t, &["INTO"]));
            }
            self.unscan();
            return Ok(None);
        }
        let mut idents = self.parse_segmented_idents()?;
        if idents.len() < 3 && self.peek_rune() == ':' {
            self.parse_tokens(&[Token::Colon, Token::Measurement])?;
            idents.push(String::new());
        }
        let mut m = Measurement::default();
        match idents.len() {
            1 => m.name = idents.remove(0),
            2 => {
                m.name = idents.remove(1);
                m.retention_policy = idents.remove(0);
            }
            _ => {
                m.name = idents.remove(2);
                m.retention_policy = idents.remove(1);
                m.database = idents.remove(0);
            }
        }
        Ok(Some(Target { measurement: m }))
    }

    pub(crate) fn parse_sources(&mut self, subqueries: bool) -> PResult<Vec<Source>> {
        let mut out = Vec::new();
        loop {
            out.push(self.parse_source(subqueries)?);
            if !self.accept(Token::Comma) {
                break;
            }
        }
        Ok(out)
    }

    pub(crate) fn parse_source(&mut self, subqueries: bool) -> PResult<Source> {
        let mut m = Measurement::default();
        if let Some(r) = self.parse_regex()? {
            m.regex = Some(r);
            return Ok(Source::Measurement(m));
        }
        if subqueries {
            let t = self.scan_ws();
            if t.tok == Token::LParen {
                if self.subqueries >= super::MAX_SUBQUERY_DEPTH {
                    return Err(ParseError::msg(
                        format!(
                            "subqueries nested too deeply (limit {})",
                            super::MAX_SUBQUERY_DEPTH
                        ),
                        t.pos,
                    ));
                }
                self.subqueries += 1;
                let s = self.parse_subquery();
                self.subqueries -= 1;
                return s;
            }
            self.unscan();
        }
        let mut idents = self.parse_segmented_idents()?;
        if idents.len() == 3 {
            m.name = idents.remove(2);
            m.retention_policy = idents.remove(1);
            m.database = idents.remove(0);
            return Ok(Source::Measurement(m));
        }
        let re = self.parse_regex()?;
        let has_re = re.is_some();
        m.regex = re;
        match (idents.len(), has_re) {
            (1, true) => m.retention_policy = idents.remove(0),
            (1, false) => m.name = idents.remove(0),
            (_, true) => {
                m.retention_policy = idents.remove(1);
                m.database = idents.remove(0);
            }
            (_, false) => {
                m.name = idents.remove(1);
                m.retention_policy = idents.remove(0);
            }
        }
        Ok(Source::Measurement(m))
    }

    /// `SELECT ...)` of a subquery; `(` is already consumed.
    fn parse_subquery(&mut self) -> PResult<Source> {
        self.parse_tokens(&[Token::Select])?;
        let s = self.parse_select(TargetRequirement::Subquery)?;
        self.parse_tokens(&[Token::RParen])?;
        Ok(Source::SubQuery(Box::new(s)))
    }

    pub(crate) fn parse_condition(&mut self) -> PResult<Option<Expr>> {
        if !self.accept(Token::Where) {
            return Ok(None);
        }
        self.parse_expr().map(Some)
    }

    pub(crate) fn parse_dimensions(&mut self) -> PResult<Vec<Dimension>> {
        if !self.accept(Token::Group) {
            return Ok(Vec::new());
        }
        let t = self.scan_ws();
        if t.tok != Token::By {
            return Err(unexpected(&t, &["BY"]));
        }
        let mut dims = Vec::new();
        loop {
            let expr = match self.parse_regex()? {
                Some(r) => Expr::Regex(r),
                None => {
                    let e = self.parse_expr()?;
                    self.consume_ws();
                    e
                }
            };
            dims.push(Dimension { expr });
            if self.scan().tok != Token::Comma {
                self.unscan();
                break;
            }
        }
        Ok(dims)
    }

    fn peek_ident_named(&mut self, name: &str) -> bool {
        let t = self.scan_ws();
        self.unscan();
        t.tok == Token::Ident && t.lit.eq_ignore_ascii_case(name)
    }

    fn parse_fill(&mut self) -> PResult<Fill> {
        if !self.peek_ident_named("fill") {
            return Ok(Fill::Null);
        }
        let Expr::Call(call) = self.parse_expr()? else {
            return Err(ParseError::plain("fill must be a function call"));
        };
        if call.args.len() != 1 {
            return Err(ParseError::plain(
                "fill requires an argument, e.g.: 0, null, none, previous, linear",
            ));
        }
        Ok(match call.args[0].to_string().as_str() {
            "null" => Fill::Null,
            "none" => Fill::None,
            "previous" => Fill::Previous,
            "linear" => Fill::Linear,
            _ => match call.args[0] {
                Expr::Integer(v) => Fill::Number(FillNumber::Integer(v)),
                Expr::Number(v) => Fill::Number(FillNumber::Float(v)),
                _ => return Err(ParseError::plain("expected number argument in fill()")),
            },
        })
    }

    pub(crate) fn parse_order_by(&mut self) -> PResult<Vec<SortField>> {
        if !self.accept(Token::Order) {
            return Ok(Vec::new());
        }
        let t = self.scan_ws();
        if t.tok != Token::By {
            return Err(unexpected(&t, &["BY"]));
        }
        let only_time = || ParseError::plain("only ORDER BY time supported at this time");
        let mut fields = Vec::new();
        let t = self.scan_ws();
        match t.tok {
            Token::Asc | Token::Desc => fields.push(SortField {
                name: String::new(),
                ascending: t.tok == Token::Asc,
            }),
            Token::Ident => {
                self.unscan();
                let f = self.parse_sort_field()?;
                if t.lit != "time" {
                    return Err(only_time());
                }
                fields.push(f);
            }
            _ => return Err(unexpected(&t, &["identifier", "ASC", "DESC"])),
        }
        while self.accept(Token::Comma) {
            fields.push(self.parse_sort_field()?);
        }
        if fields.len() > 1 {
            return Err(only_time());
        }
        Ok(fields)
    }

    fn parse_sort_field(&mut self) -> PResult<SortField> {
        let name = self.parse_ident()?;
        let t = self.scan_ws();
        let ascending = match t.tok {
            Token::Asc => true,
            Token::Desc => false,
            _ => {
                self.unscan();
                true
            }
        };
        Ok(SortField { name, ascending })
    }

    fn parse_location(&mut self) -> PResult<Option<String>> {
        if !self.peek_ident_named("tz") {
            return Ok(None);
        }
        let Expr::Call(call) = self.parse_expr()? else {
            return Err(ParseError::plain("tz must be a function call"));
        };
        if call.args.len() != 1 {
            return Err(ParseError::plain("tz requires exactly one argument"));
        }
        match &call.args[0] {
            Expr::String(s) => Ok(Some(s.clone())),
            _ => Err(ParseError::plain("expected string argument in tz()")),
        }
    }
}
