//! The InfluxQL scanner: turns text into `(Token, Pos, literal)` triples.
//!
//! Owns: character reading with InfluxDB's exact position bookkeeping (a
//! three-rune unread ring, `\r\n` folded to `\n`, EOF counted once) so that
//! error positions match InfluxDB byte for byte, and the token rules
//! (identifiers, strings, numbers, durations, regexes, operators, comments).
//! Must not: know grammar, compile regexes, or substitute bound parameters.

use crate::error::Pos;
use crate::token::{lookup, Token};

/// Marker rune for end of input (as in InfluxDB, a NUL also ends the input).
pub(crate) const EOF: char = '\0';

/// Rune reader with a small unread ring buffer.
pub(crate) struct Reader<'a> {
    src: std::str::Chars<'a>,
    /// Position of the next rune read from `src`.
    pos: Pos,
    eof_seen: bool,
    buf: [(char, Pos); 3],
    i: usize,
    n: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Reader<'a> {
        Reader {
            src: text.chars(),
            pos: Pos::default(),
            eof_seen: false,
            buf: [(EOF, Pos::default()); 3],
            i: 0,
            n: 0,
        }
    }

    /// Read the next rune and its position.
    pub(crate) fn read(&mut self) -> (char, Pos) {
        if self.n > 0 {
            self.n -= 1;
            return self.curr();
        }
        let mut ch = self.src.next().unwrap_or(EOF);
        if ch == '\r' {
            let mut look = self.src.clone();
            if look.next() == Some('\n') {
                self.src = look;
            }
            ch = '\n';
        }
        self.i = (self.i + 1) % self.buf.len();
        self.buf[self.i] = (ch, self.pos);
        if ch == '\n' {
            self.pos.line += 1;
            self.pos.char = 0;
        } else if !self.eof_seen {
            self.pos.char += 1;
        }
        if ch == EOF {
            self.eof_seen = true;
        }
        self.curr()
    }

    /// Push the last read rune back.
    pub(crate) fn unread(&mut self) {
        self.n += 1;
    }

    /// The last read rune (taking unreads into account).
    pub(crate) fn curr(&self) -> (char, Pos) {
        let len = self.buf.len();
        self.buf[(self.i + len - self.n) % len]
    }
}

/// One scanned token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lexed {
    pub tok: Token,
    pub pos: Pos,
    pub lit: String,
}

fn lexed(tok: Token, pos: Pos, lit: impl Into<String>) -> Lexed {
    Lexed {
        tok,
        pos,
        lit: lit.into(),
    }
}

fn is_ws(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\n'
}

fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

fn is_ident_char(c: char) -> bool {
    is_letter(c) || is_digit(c) || c == '_'
}

/// The scanner.
pub(crate) struct Lexer<'a> {
    pub(crate) r: Reader<'a>,
}

enum StrErr {
    Bad(String),
    Escape(String),
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            r: Reader::new(text),
        }
    }

    /// Scan the next token.
    pub(crate) fn scan(&mut self) -> Lexed {
        let (ch0, pos) = self.r.read();
        if is_ws(ch0) {
            return self.scan_whitespace();
        } else if is_letter(ch0) || ch0 == '_' {
            self.r.unread();
            return self.scan_ident(true);
        } else if is_digit(ch0) {
            return self.scan_number();
        }
        match ch0 {
            EOF => lexed(Token::Eof, pos, ""),
            '"' => {
                self.r.unread();
                self.scan_ident(true)
            }
            '\'' => self.scan_string(),
            '.' => {
                let (ch1, _) = self.r.read();
                self.r.unread();
                if is_digit(ch1) {
                    return self.scan_number();
                }
                lexed(Token::Dot, pos, "")
            }
            '$' => {
                let t = self.scan_ident(false);
                if t.tok != Token::Ident {
                    return lexed(t.tok, pos, format!("${}", t.lit));
                }
                lexed(Token::BoundParam, pos, format!("${}", t.lit))
            }
            '+' => lexed(Token::Add, pos, ""),
            '-' => {
                let (ch1, _) = self.r.read();
                if ch1 == '-' {
                    self.skip_until_newline();
                    return lexed(Token::Comment, pos, "");
                }
                self.r.unread();
                lexed(Token::Sub, pos, "")
            }
            '*' => lexed(Token::Mul, pos, ""),
            '/' => {
                let (ch1, _) = self.r.read();
                if ch1 == '*' {
                    if !self.skip_until_end_comment() {
                        return lexed(Token::Illegal, pos, "");
                    }
                    return lexed(Token::Comment, pos, "");
                }
                self.r.unread();
                lexed(Token::Div, pos, "")
            }
            '%' => lexed(Token::Mod, pos, ""),
            '&' => lexed(Token::BitAnd, pos, ""),
            '|' => lexed(Token::BitOr, pos, ""),
            '^' => lexed(Token::BitXor, pos, ""),
            '=' => {
                if self.r.read().0 == '~' {
                    return lexed(Token::EqRegex, pos, "");
                }
                self.r.unread();
                lexed(Token::Eq, pos, "")
            }
            '!' => {
                let (ch1, _) = self.r.read();
                if ch1 == '=' {
                    return lexed(Token::Neq, pos, "");
                } else if ch1 == '~' {
                    return lexed(Token::NeqRegex, pos, "");
                }
                self.r.unread();
                lexed(Token::Illegal, pos, "!")
            }
            '>' => {
                if self.r.read().0 == '=' {
                    return lexed(Token::Gte, pos, "");
                }
                self.r.unread();
                lexed(Token::Gt, pos, "")
            }
            '<' => {
                let (ch1, _) = self.r.read();
                if ch1 == '=' {
                    return lexed(Token::Lte, pos, "");
                } else if ch1 == '>' {
                    return lexed(Token::Neq, pos, "");
                }
                self.r.unread();
                lexed(Token::Lt, pos, "")
            }
            '(' => lexed(Token::LParen, pos, ""),
            ')' => lexed(Token::RParen, pos, ""),
            ',' => lexed(Token::Comma, pos, ""),
            ';' => lexed(Token::Semicolon, pos, ""),
            ':' => {
                if self.r.read().0 == ':' {
                    return lexed(Token::DoubleColon, pos, "");
                }
                self.r.unread();
                lexed(Token::Colon, pos, "")
            }
            c => lexed(Token::Illegal, pos, c.to_string()),
        }
    }

    fn scan_whitespace(&mut self) -> Lexed {
        let (ch, pos) = self.r.curr();
        let mut lit = String::new();
        lit.push(ch);
        loop {
            let (ch, _) = self.r.read();
            if ch == EOF {
                break;
            } else if !is_ws(ch) {
                self.r.unread();
                break;
            }
            lit.push(ch);
        }
        lexed(Token::Ws, pos, lit)
    }

    fn skip_until_newline(&mut self) {
        loop {
            let (ch, _) = self.r.read();
            if ch == '\n' || ch == EOF {
                return;
            }
        }
    }

    /// Skip to the end of a block comment; false when the input ends first.
    fn skip_until_end_comment(&mut self) -> bool {
        loop {
            let (ch1, _) = self.r.read();
            if ch1 == '*' {
                loop {
                    let (ch2, _) = self.r.read();
                    if ch2 == '/' {
                        return true;
                    } else if ch2 == '*' {
                        continue;
                    } else if ch2 == EOF {
                        return false;
                    }
                    break;
                }
            } else if ch1 == EOF {
                return false;
            }
        }
    }

    fn scan_ident(&mut self, lookup_kw: bool) -> Lexed {
        let (_, pos) = self.r.read();
        self.r.unread();
        let mut lit = String::new();
        loop {
            let (ch, _) = self.r.read();
            if ch == EOF {
                break;
            } else if ch == '"' {
                let t = self.scan_string();
                if t.tok == Token::BadString || t.tok == Token::BadEscape {
                    return t;
                }
                return lexed(Token::Ident, pos, t.lit);
            } else if is_ident_char(ch) {
                self.r.unread();
                self.scan_bare_ident(&mut lit);
            } else {
                self.r.unread();
                break;
            }
        }
        if lookup_kw {
            let tok = lookup(&lit);
            if tok != Token::Ident {
                return lexed(tok, pos, "");
            }
        }
        lexed(Token::Ident, pos, lit)
    }

    fn scan_bare_ident(&mut self, out: &mut String) {
        loop {
            let (ch, _) = self.r.read();
            if ch == EOF {
                break;
            } else if !is_ident_char(ch) {
                self.r.unread();
                break;
            }
            out.push(ch);
        }
    }

    /// Scan a quoted string; the opening quote is the last rune read.
    fn scan_string(&mut self) -> Lexed {
        self.r.unread();
        let (_, pos) = self.r.curr();
        match self.read_quoted() {
            Ok(s) => lexed(Token::Str, pos, s),
            Err(StrErr::Bad(lit)) => lexed(Token::BadString, pos, lit),
            Err(StrErr::Escape(lit)) => {
                let (_, pos) = self.r.curr();
                lexed(Token::BadEscape, pos, lit)
            }
        }
    }

    fn read_quoted(&mut self) -> Result<String, StrErr> {
        let (ending, _) = self.r.read();
        if ending == EOF {
            return Err(StrErr::Bad(String::new()));
        }
        let mut buf = String::new();
        loop {
            let (ch0, _) = self.r.read();
            if ch0 == ending {
                return Ok(buf);
            } else if ch0 == EOF || ch0 == '\n' {
                return Err(StrErr::Bad(buf));
            } else if ch0 == '\\' {
                let (ch1, _) = self.r.read();
                match ch1 {
                    'n' => buf.push('\n'),
                    '\\' => buf.push('\\'),
                    '"' => buf.push('"'),
                    '\'' => buf.push('\''),
                    _ => {
                        let mut lit = String::from('\\');
                        if ch1 != EOF {
                            lit.push(ch1);
                        }
                        return Err(StrErr::Escape(lit));
                    }
                }
            } else {
                buf.push(ch0);
            }
        }
    }

    /// Scan a `/regex/` (the parser calls this only where a regex may appear).
    /// Only `\/` is an escape; other backslashes pass through to the regex.
    pub(crate) fn scan_regex(&mut self) -> Lexed {
        let (_, pos) = self.r.curr();
        let (ch, _) = self.r.read();
        if ch != '/' {
            return lexed(Token::BadRegex, pos, "");
        }
        let mut buf = String::new();
        loop {
            let (ch0, _) = self.r.read();
            if ch0 == '/' {
                return lexed(Token::Regex, pos, buf);
            } else if ch0 == EOF || ch0 == '\n' {
                return lexed(Token::BadRegex, pos, "");
            } else if ch0 == '\\' {
                let (ch1, _) = self.r.read();
                if ch1 == EOF {
                    return lexed(Token::BadRegex, pos, "");
                }
                if ch1 == '/' {
                    buf.push('/');
                } else {
                    self.r.unread();
                    buf.push('\\');
                }
            } else {
                buf.push(ch0);
            }
        }
    }

    fn scan_digits(&mut self, out: &mut String) {
        loop {
            let (ch, _) = self.r.read();
            if !is_digit(ch) {
                self.r.unread();
                break;
            }
            out.push(ch);
        }
    }

    fn scan_number(&mut self) -> Lexed {
        let mut buf = String::new();
        let (ch, pos) = self.r.curr();
        if ch == '.' {
            let (ch1, _) = self.r.read();
            self.r.unread();
            if !is_digit(ch1) {
                return lexed(Token::Illegal, pos, ".");
            }
            self.r.unread();
        } else {
            self.r.unread();
        }
        self.scan_digits(&mut buf);
        let mut is_decimal = false;
        let (ch0, _) = self.r.read();
        if ch0 == '.' {
            is_decimal = true;
            let (ch1, _) = self.r.read();
            if is_digit(ch1) {
                buf.push(ch0);
                buf.push(ch1);
                self.scan_digits(&mut buf);
            } else {
                self.r.unread();
            }
        } else {
            self.r.unread();
        }
        if is_decimal {
            return lexed(Token::Number, pos, buf);
        }
        let (ch0, _) = self.r.read();
        if is_letter(ch0) || ch0 == 'µ' {
            buf.push(ch0);
            loop {
                let (ch1, _) = self.r.read();
                if !is_letter(ch1) && ch1 != 'µ' {
                    self.r.unread();
                    break;
                }
                buf.push(ch1);
            }
            loop {
                let (c, _) = self.r.read();
                if is_letter(c) || c == 'µ' || is_digit(c) {
                    buf.push(c);
                } else {
                    self.r.unread();
                    break;
                }
            }
            return lexed(Token::DurationVal, pos, buf);
        }
        self.r.unread();
        lexed(Token::Integer, pos, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<(Token, String)> {
        let mut l = Lexer::new(s);
        let mut out = vec![];
        loop {
            let t = l.scan();
            if t.tok == Token::Eof {
                break;
            }
            if t.tok != Token::Ws {
                out.push((t.tok, t.lit));
            }
        }
        out
    }

    #[test]
    fn scans_literals() {
        assert_eq!(
            toks(r#"SELECT "my \"q\"" , 'it\'s' 10 1.5 .5 10s 1h30m 3µ"#),
            vec![
                (Token::Select, "".into()),
                (Token::Ident, "my \"q\"".into()),
                (Token::Comma, "".into()),
                (Token::Str, "it's".into()),
                (Token::Integer, "10".into()),
                (Token::Number, "1.5".into()),
                (Token::Number, ".5".into()),
                (Token::DurationVal, "10s".into()),
                (Token::DurationVal, "1h30m".into()),
                (Token::DurationVal, "3µ".into()),
            ]
        );
    }

    #[test]
    fn scans_operators_and_comments() {
        let t: Vec<Token> = toks("a =~ != <> <= >= :: : -- c\n /* x */ $p + - * / % & | ^")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(
            t,
            vec![
                Token::Ident,
                Token::EqRegex,
                Token::Neq,
                Token::Neq,
                Token::Lte,
                Token::Gte,
                Token::DoubleColon,
                Token::Colon,
                Token::Comment,
                Token::Comment,
                Token::BoundParam,
                Token::Add,
                Token::Sub,
                Token::Mul,
                Token::Div,
                Token::Mod,
                Token::BitAnd,
                Token::BitOr,
                Token::BitXor,
            ]
        );
    }

    #[test]
    fn scans_regex_on_demand() {
        let mut l = Lexer::new(r"/cp\/u.*\d/");
        let t = l.scan_regex();
        assert_eq!(t.tok, Token::Regex);
        assert_eq!(t.lit, r"cp/u.*\d");
    }

    #[test]
    fn duration_like_number_is_duration_token() {
        assert_eq!(toks("0xdb0"), vec![(Token::DurationVal, "0xdb0".into())]);
    }
}
