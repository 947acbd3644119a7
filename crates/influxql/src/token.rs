//! Lexical tokens of InfluxQL and the keyword table.
//!
//! Owns: the `Token` enum, its display names (used verbatim in parse errors),
//! keyword lookup and operator precedence. Must not: scan text.

use crate::ast::BinaryOp;

macro_rules! keywords {
    ($($variant:ident => $text:literal),* $(,)?) => {
        /// One InfluxQL token kind.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Token {
            Illegal,
            Eof,
            Ws,
            Comment,
            Ident,
            BoundParam,
            Number,
            Integer,
            DurationVal,
            Str,
            BadString,
            BadEscape,
            True,
            False,
            Regex,
            BadRegex,
            Add,
            Sub,
            Mul,
            Div,
            Mod,
            BitAnd,
            BitOr,
            BitXor,
            And,
            Or,
            In,
            Eq,
            Neq,
            EqRegex,
            NeqRegex,
            Lt,
            Lte,
            Gt,
            Gte,
            LParen,
            RParen,
            Comma,
            Colon,
            DoubleColon,
            Semicolon,
            Dot,
            $($variant,)*
        }

        /// Keyword for an identifier text (ASCII case-insensitive), if any.
        fn keyword_upper(upper: &[u8]) -> Option<Token> {
            match upper {
                $($text => Some(Token::$variant),)*
                b"AND" => Some(Token::And),
                b"OR" => Some(Token::Or),
                b"IN" => Some(Token::In),
                b"TRUE" => Some(Token::True),
                b"FALSE" => Some(Token::False),
                _ => None,
            }
        }

        impl Token {
            /// The name InfluxDB prints for this token in parse errors.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Token::$variant => match std::str::from_utf8($text) { Ok(s) => s, Err(_) => "" },)*
                    Token::Illegal => "ILLEGAL",
                    Token::Eof => "EOF",
                    Token::Ws => "WS",
                    Token::Comment => "",
                    Token::Ident => "IDENT",
                    Token::BoundParam => "",
                    Token::Number => "NUMBER",
                    Token::Integer => "",
                    Token::DurationVal => "DURATIONVAL",
                    Token::Str => "STRING",
                    Token::BadString => "BADSTRING",
                    Token::BadEscape => "BADESCAPE",
                    Token::True => "TRUE",
                    Token::False => "FALSE",
                    Token::Regex => "REGEX",
                    Token::BadRegex => "",
                    Token::Add => "+",
                    Token::Sub => "-",
                    Token::Mul => "*",
                    Token::Div => "/",
                    Token::Mod => "%",
                    Token::BitAnd => "&",
                    Token::BitOr => "|",
                    Token::BitXor => "^",
                    Token::And => "AND",
                    Token::Or => "OR",
                    Token::In => "IN",
                    Token::Eq => "=",
                    Token::Neq => "!=",
                    Token::EqRegex => "=~",
                    Token::NeqRegex => "!~",
                    Token::Lt => "<",
                    Token::Lte => "<=",
                    Token::Gt => ">",
                    Token::Gte => ">=",
                    Token::LParen => "(",
                    Token::RParen => ")",
                    Token::Comma => ",",
                    Token::Colon => ":",
                    Token::DoubleColon => "::",
                    Token::Semicolon => ";",
                    Token::Dot => ".",
                }
            }
        }
    };
}

keywords! {
    All => b"ALL",
    Alter => b"ALTER",
    Analyze => b"ANALYZE",
    Any => b"ANY",
    As => b"AS",
    Asc => b"ASC",
    Begin => b"BEGIN",
    By => b"BY",
    Cardinality => b"CARDINALITY",
    Create => b"CREATE",
    Continuous => b"CONTINUOUS",
    Database => b"DATABASE",
    Databases => b"DATABASES",
    Default => b"DEFAULT",
    Delete => b"DELETE",
    Desc => b"DESC",
    Destinations => b"DESTINATIONS",
    Diagnostics => b"DIAGNOSTICS",
    Distinct => b"DISTINCT",
    Drop => b"DROP",
    Duration => b"DURATION",
    End => b"END",
    Every => b"EVERY",
    Exact => b"EXACT",
    Explain => b"EXPLAIN",
    Field => b"FIELD",
    For => b"FOR",
    From => b"FROM",
    Grant => b"GRANT",
    Grants => b"GRANTS",
    Group => b"GROUP",
    Groups => b"GROUPS",
    Inf => b"INF",
    Insert => b"INSERT",
    Into => b"INTO",
    Key => b"KEY",
    Keys => b"KEYS",
    Kill => b"KILL",
    Limit => b"LIMIT",
    Measurement => b"MEASUREMENT",
    Measurements => b"MEASUREMENTS",
    Name => b"NAME",
    Offset => b"OFFSET",
    On => b"ON",
    Order => b"ORDER",
    Password => b"PASSWORD",
    Policy => b"POLICY",
    Policies => b"POLICIES",
    Privileges => b"PRIVILEGES",
    Queries => b"QUERIES",
    Query => b"QUERY",
    Read => b"READ",
    Replication => b"REPLICATION",
    Resample => b"RESAMPLE",
    Retention => b"RETENTION",
    Revoke => b"REVOKE",
    Select => b"SELECT",
    Series => b"SERIES",
    Set => b"SET",
    Show => b"SHOW",
    Shard => b"SHARD",
    Shards => b"SHARDS",
    Slimit => b"SLIMIT",
    Soffset => b"SOFFSET",
    Stats => b"STATS",
    Subscription => b"SUBSCRIPTION",
    Subscriptions => b"SUBSCRIPTIONS",
    Tag => b"TAG",
    To => b"TO",
    User => b"USER",
    Users => b"USERS",
    Values => b"VALUES",
    Where => b"WHERE",
    With => b"WITH",
    Write => b"WRITE",
}

/// Returns the keyword token for `ident` (case-insensitive) or `Token::Ident`.
pub fn lookup(ident: &str) -> Token {
    let b = ident.as_bytes();
    if b.len() > 16 || b.len() < 2 {
        return Token::Ident;
    }
    let mut buf = [0u8; 16];
    for (d, s) in buf.iter_mut().zip(b) {
        *d = s.to_ascii_uppercase();
    }
    keyword_upper(&buf[..b.len()]).unwrap_or(Token::Ident)
}

impl Token {
    /// The binary operator this token denotes, if it is one.
    pub fn binary_op(self) -> Option<BinaryOp> {
        Some(match self {
            Token::Add => BinaryOp::Add,
            Token::Sub => BinaryOp::Sub,
            Token::Mul => BinaryOp::Mul,
            Token::Div => BinaryOp::Div,
            Token::Mod => BinaryOp::Mod,
            Token::BitAnd => BinaryOp::BitAnd,
            Token::BitOr => BinaryOp::BitOr,
            Token::BitXor => BinaryOp::BitXor,
            Token::And => BinaryOp::And,
            Token::Or => BinaryOp::Or,
            Token::In => BinaryOp::In,
            Token::Eq => BinaryOp::Eq,
            Token::Neq => BinaryOp::Neq,
            Token::EqRegex => BinaryOp::EqRegex,
            Token::NeqRegex => BinaryOp::NeqRegex,
            Token::Lt => BinaryOp::Lt,
            Token::Lte => BinaryOp::Lte,
            Token::Gt => BinaryOp::Gt,
            Token::Gte => BinaryOp::Gte,
            _ => return None,
        })
    }
}

/// Text of a token for error messages: the literal if non-empty, else the token name.
pub fn tokstr(tok: Token, lit: &str) -> String {
    if !lit.is_empty() {
        lit.to_string()
    } else {
        tok.as_str().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(lookup("select"), Token::Select);
        assert_eq!(lookup("SeLeCt"), Token::Select);
        assert_eq!(lookup("and"), Token::And);
        assert_eq!(lookup("true"), Token::True);
        assert_eq!(lookup("cpu"), Token::Ident);
        assert_eq!(lookup("subscriptions"), Token::Subscriptions);
        assert_eq!(Token::Subscriptions.as_str(), "SUBSCRIPTIONS");
    }
}
