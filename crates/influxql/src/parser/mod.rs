//! The InfluxQL parser (public entry points are re-exported at the crate root): a hand-written recursive-descent parser over the
//! scanner, mirroring InfluxDB 1.x's token look-ahead (a three-token unscan
//! ring) so that error messages and positions match InfluxDB exactly.
//!
//! Owns: token plumbing, shared small productions (identifiers, integers,
//! durations, strings, regexes) and the statement dispatch table.
//! Must not: execute anything or validate against a catalog.

mod expr;
mod select;
mod stmt;

use std::collections::HashMap;

use crate::ast::{Query, RegexLit, Statement};
use crate::duration;
use crate::error::{ParseError, Pos};
use crate::lexer::{Lexed, Lexer, EOF};
use crate::params::Param;
use crate::token::{tokstr, Token};

type PResult<T> = Result<T, ParseError>;

/// Parse one or more `;`-separated statements.
pub fn parse_query(text: &str) -> Result<Query, ParseError> {
    Parser::new(text, None).parse_query()
}

/// Parse a query, substituting `$name` bound parameters from `params`.
pub fn parse_query_with_params(
    text: &str,
    params: &HashMap<String, Param>,
) -> Result<Query, ParseError> {
    Parser::new(text, Some(params)).parse_query()
}

/// Parse a single statement (trailing text is not checked, as in InfluxDB).
pub fn parse_statement(text: &str) -> Result<Statement, ParseError> {
    Parser::new(text, None).parse_statement()
}

/// Parse a single expression.
pub fn parse_expr(text: &str) -> Result<crate::ast::Expr, ParseError> {
    Parser::new(text, None).parse_expr()
}

/// The parser state.
pub(crate) struct Parser<'a> {
    lex: Lexer<'a>,
    buf: [Lexed; 3],
    i: usize,
    n: usize,
    params: Option<&'a HashMap<String, Param>>,
    /// Current parenthesis/call nesting depth.
    depth: usize,
    /// Binary operators parsed in the current statement.
    ops: usize,
    /// Subqueries open around the current position.
    subqueries: usize,
    /// Position of the last binary operator read.
    op_pos: Pos,
}

/// Limits that keep recursive consumers of the AST (printing, dropping,
/// evaluation) within a 2 MiB thread stack. InfluxDB has no such limits; real
/// queries stay far below them.
pub(crate) const MAX_NESTING: usize = 256;
pub(crate) const MAX_OPERATORS: usize = 20_000;
/// Deepest expression tree a statement may hold (every `Binary`, `Paren`
/// and `Call` node is a level). Recursive consumers — printing, cloning,
/// dropping, type checking, per-row evaluation — stay within a 2 MiB stack
/// at this depth.
pub(crate) const MAX_EXPR_DEPTH: usize = 512;
/// AND/OR runs of at least this many terms are built as balanced trees
/// instead of InfluxDB's left-deep ones: a 10,000-term Grafana condition is
/// 14 levels deep instead of 10,000. Both shapes have the same truth value
/// (AND/OR are associative in InfluxQL's evaluation) and print the same
/// text; shorter runs keep InfluxDB's exact shape.
pub(crate) const REBALANCE_MIN_TERMS: usize = 64;
/// Deepest subquery nesting (`FROM (SELECT ... FROM (SELECT ...))`). The
/// executor runs each level on the stack of the one above it; InfluxDB has
/// no such limit, real queries use a handful of levels.
pub(crate) const MAX_SUBQUERY_DEPTH: usize = 32;

fn unexpected(t: &Lexed, expected: &[&str]) -> ParseError {
    ParseError::unexpected(tokstr(t.tok, &t.lit), expected, t.pos)
}

impl<'a> Parser<'a> {
    pub(crate) fn new(text: &'a str, params: Option<&'a HashMap<String, Param>>) -> Parser<'a> {
        let empty = Lexed {
            tok: Token::Eof,
            pos: Pos::default(),
            lit: String::new(),
        };
        Parser {
            lex: Lexer::new(text),
            buf: [empty.clone(), empty.clone(), empty],
            i: 0,
            n: 0,
            params,
            depth: 0,
            ops: 0,
            subqueries: 0,
            op_pos: Pos::default(),
        }
    }

    // ---- token plumbing -------------------------------------------------

    fn scan_with(&mut self, regex: bool) -> Lexed {
        let raw = if self.n > 0 {
            self.n -= 1;
            self.curr()
        } else {
            self.i = (self.i + 1) % 3;
            let t = if regex {
                self.lex.scan_regex()
            } else {
                self.lex.scan()
            };
            self.buf[self.i] = t;
            self.curr()
        };
        self.substitute(raw)
    }

    fn substitute(&self, mut t: Lexed) -> Lexed {
        if t.tok == Token::BoundParam {
            let k = &t.lit[1..];
            if !k.is_empty() {
                if let Some((tok, lit)) = self.params.and_then(|p| p.get(k)).and_then(Param::token)
                {
                    t.tok = tok;
                    t.lit = lit;
                }
            }
        }
        t
    }

    fn curr(&self) -> Lexed {
        self.buf[(self.i + 3 - self.n) % 3].clone()
    }

    /// Next token, whitespace included.
    pub(crate) fn scan(&mut self) -> Lexed {
        self.scan_with(false)
    }

    /// Push the last token back.
    pub(crate) fn unscan(&mut self) {
        self.n += 1;
    }

    /// Next token that is not whitespace or a comment.
    pub(crate) fn scan_ws(&mut self) -> Lexed {
        loop {
            let t = self.scan();
            if t.tok != Token::Ws && t.tok != Token::Comment {
                return t;
            }
        }
    }

    /// Consume one whitespace token if next.
    pub(crate) fn consume_ws(&mut self) {
        if self.scan().tok != Token::Ws {
            self.unscan();
        }
    }

    /// Peek at the next rune of the underlying reader (InfluxDB consumes EOF here).
    pub(crate) fn peek_rune(&mut self) -> char {
        let (r, _) = self.lex.r.read();
        if r != EOF {
            self.lex.r.unread();
        }
        r
    }

    /// Expect exactly this sequence of tokens.
    pub(crate) fn parse_tokens(&mut self, toks: &[Token]) -> PResult<()> {
        for &expected in toks {
            let t = self.scan_ws();
            if t.tok != expected {
                return Err(unexpected(&t, &[expected.as_str()]));
            }
        }
        Ok(())
    }

    /// Consume `tok` if it is next (ignoring whitespace); true when consumed.
    pub(crate) fn accept(&mut self, tok: Token) -> bool {
        if self.scan_ws().tok == tok {
            true
        } else {
            self.unscan();
            false
        }
    }

    /// Expect the token `tok`, else `found X, expected <tok>`.
    pub(crate) fn expect(&mut self, tok: Token) -> PResult<()> {
        self.parse_tokens(&[tok])
    }

    // ---- small productions ---------------------------------------------

    pub(crate) fn parse_ident(&mut self) -> PResult<String> {
        let t = self.scan_ws();
        if t.tok != Token::Ident {
            return Err(unexpected(&t, &["identifier"]));
        }
        Ok(t.lit)
    }

    pub(crate) fn parse_ident_list(&mut self) -> PResult<Vec<String>> {
        let mut out = vec![self.parse_ident()?];
        while self.accept(Token::Comma) {
            out.push(self.parse_ident()?);
        }
        Ok(out)
    }

    /// `"db"."rp".m`, `db..m`: up to three dotted identifiers.
    pub(crate) fn parse_segmented_idents(&mut self) -> PResult<Vec<String>> {
        let mut idents = vec![self.parse_ident()?];
        loop {
            if self.scan().tok != Token::Dot {
                self.unscan();
                break;
            }
            let ch = self.peek_rune();
            if ch == '/' || ch == ':' {
                break;
            } else if ch == '.' {
                idents.push(String::new());
                continue;
            }
            idents.push(self.parse_ident()?);
        }
        if idents.len() > 3 {
            let segs: Vec<&str> = idents.iter().map(String::as_str).collect();
            return Err(ParseError::msg(
                format!(
                    "too many segments in {}",
                    crate::ast::quote_ident_segments(&segs)
                ),
                Pos::default(),
            ));
        }
        Ok(idents)
    }

    pub(crate) fn parse_string(&mut self) -> PResult<String> {
        let t = self.scan_ws();
        if t.tok != Token::Str {
            return Err(unexpected(&t, &["string"]));
        }
        Ok(t.lit)
    }

    pub(crate) fn parse_string_list(&mut self) -> PResult<Vec<String>> {
        let mut out = vec![self.parse_string()?];
        while self.accept(Token::Comma) {
            out.push(self.parse_string()?);
        }
        Ok(out)
    }

    /// A base-10 integer within `[min, max]`.
    pub(crate) fn parse_int(&mut self, min: i64, max: i64) -> PResult<i64> {
        let t = self.scan_ws();
        if t.tok != Token::Integer {
            return Err(unexpected(&t, &["integer"]));
        }
        let n: i64 = t.lit.parse().map_err(|_| {
            ParseError::msg(
                format!(
                    "strconv.Atoi: parsing {}: value out of range",
                    go_quote(&t.lit)
                ),
                t.pos,
            )
        })?;
        if n < min || n > max {
            return Err(ParseError::msg(
                format!("invalid value {n}: must be {min} <= n <= {max}"),
                t.pos,
            ));
        }
        Ok(n)
    }

    pub(crate) fn parse_uint64(&mut self) -> PResult<u64> {
        let t = self.scan_ws();
        if t.tok != Token::Integer {
            return Err(unexpected(&t, &["integer"]));
        }
        t.lit.parse().map_err(|_| {
            ParseError::msg(
                format!(
                    "strconv.ParseUint: parsing {}: value out of range",
                    go_quote(&t.lit)
                ),
                t.pos,
            )
        })
    }

    /// A duration literal or `INF` (0).
    pub(crate) fn parse_duration(&mut self) -> PResult<i64> {
        let t = self.scan_ws();
        if t.tok != Token::DurationVal && t.tok != Token::Inf {
            return Err(unexpected(&t, &["duration"]));
        }
        if t.tok == Token::Inf {
            return Ok(0);
        }
        duration::parse_duration(&t.lit).map_err(|e| ParseError::msg(e, t.pos))
    }

    /// `LIMIT n`-style optional clause; 0 when absent.
    pub(crate) fn parse_optional_token_and_int(&mut self, tok: Token) -> PResult<u64> {
        if !self.accept(tok) {
            return Ok(0);
        }
        let t = self.scan_ws();
        if t.tok != Token::Integer {
            return Err(unexpected(&t, &["integer"]));
        }
        // Like Go's strconv.ParseInt with its error ignored: out-of-range
        // values saturate. Negative values can only come from bound parameters.
        let n = t.lit.parse::<i64>().unwrap_or(if t.lit.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        });
        if n < 0 {
            return Err(ParseError::msg(
                format!("{} must be >= 0", tok.as_str()),
                t.pos,
            ));
        }
        Ok(n as u64)
    }

    /// A `/regex/` if one is next, else `None`.
    pub(crate) fn parse_regex(&mut self) -> PResult<Option<RegexLit>> {
        let next = self.peek_rune();
        if next == ' ' || next == '\t' || next == '\n' {
            self.consume_ws();
        }
        let next = self.peek_rune();
        if next == '$' {
            let t = self.scan();
            self.unscan();
            if t.tok != Token::Regex {
                return Ok(None);
            }
        } else if next != '/' {
            return Ok(None);
        }
        let t = self.scan_with(true);
        match t.tok {
            Token::BadEscape => {
                return Err(ParseError::msg(format!("bad escape: {}", t.lit), t.pos))
            }
            Token::BadRegex => return Err(ParseError::msg(format!("bad regex: {}", t.lit), t.pos)),
            Token::Regex => {}
            _ => return Err(unexpected(&t, &["regex"])),
        }
        compile_regex(&t.lit, t.pos).map(Some)
    }

    // ---- entry points ----------------------------------------------------

    pub(crate) fn parse_query(&mut self) -> PResult<Query> {
        let mut statements = Vec::new();
        let mut semi = true;
        loop {
            let t = self.scan_ws();
            match t.tok {
                Token::Eof => return Ok(Query { statements }),
                Token::Semicolon => semi = true,
                _ => {
                    if !semi {
                        return Err(unexpected(&t, &[";"]));
                    }
                    self.unscan();
                    statements.push(self.parse_statement()?);
                    semi = false;
                }
            }
        }
    }

    pub(crate) fn parse_statement(&mut self) -> PResult<Statement> {
        self.depth = 0;
        self.ops = 0;
        self.subqueries = 0;
        stmt::dispatch(self)
    }
}

/// Compile a regex literal; errors carry Go's `regexp` wording where possible.
pub(crate) fn compile_regex(pattern: &str, pos: Pos) -> PResult<RegexLit> {
    match regex::Regex::new(pattern) {
        Ok(r) => Ok(RegexLit(r)),
        Err(e) => Err(ParseError::msg(go_regex_error(pattern, &e), pos)),
    }
}

/// Best-effort translation of a `regex` crate error into Go's RE2 error text
/// (`error parsing regexp: <code>: `<expr>``).
fn go_regex_error(pattern: &str, e: &regex::Error) -> String {
    let text = e.to_string();
    let code = if text.contains("unclosed group") {
        "missing closing )"
    } else if text.contains("unopened group") {
        "unexpected )"
    } else if text.contains("unclosed character class") {
        "missing closing ]"
    } else if text.contains("repetition operator missing expression") {
        "missing argument to repetition operator"
    } else if text.contains("incomplete escape") {
        "trailing backslash at end of expression"
    } else if text.contains("unrecognized escape") || text.contains("escape sequence") {
        "invalid escape sequence"
    } else if text.contains("invalid range") || text.contains("class range") {
        "invalid character class range"
    } else if text.contains("repetition quantifier") || text.contains("counted repetition") {
        "invalid repeat count"
    } else if text.contains("size limit") {
        "expression too large"
    } else {
        "invalid or unsupported Perl syntax"
    };
    let shown = match code {
        "missing argument to repetition operator" => {
            let b = pattern.as_bytes();
            let at = (0..b.len()).find(|&i| {
                matches!(b[i], b'*' | b'+' | b'?') && (i == 0 || matches!(b[i - 1], b'(' | b'|'))
            });
            at.map(|i| pattern[i..=i].to_string())
                .unwrap_or_else(|| pattern.to_string())
        }
        "invalid escape sequence" => {
            let mut it = pattern.char_indices().peekable();
            let mut found = None;
            while let Some((_, c)) = it.next() {
                if c == '\\' {
                    if let Some(&(_, n)) = it.peek() {
                        let known =
                            n.is_ascii_punctuation() || "dDsSwWbBAzpPQExafnrtv01234567".contains(n);
                        if !known {
                            found = Some(format!("\\{n}"));
                            break;
                        }
                        it.next();
                    }
                }
            }
            found.unwrap_or_else(|| pattern.to_string())
        }
        "trailing backslash at end of expression" => String::new(),
        "missing closing ]" => pattern
            .find('[')
            .map(|i| pattern[i..].to_string())
            .unwrap_or_default(),
        _ => pattern.to_string(),
    };
    format!("error parsing regexp: {code}: `{shown}`")
}

/// Go's `%q`-style quoting for the strconv error messages.
fn go_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests;
