//! Statement dispatch (InfluxDB's keyword parse tree, with its exact
//! "expected" lists) and every non-SELECT statement.
//!
//! Must not: check names against the catalog (e.g. `invalid name`,
//! `retention policy duration must be at least 1h0m0s` are meta-store errors).

use super::select::TargetRequirement;
use super::{unexpected, PResult, Parser};
use crate::ast::*;
use crate::error::ParseError;
use crate::token::Token;

const TOP: &[&str] = &[
    "SELECT", "DELETE", "SHOW", "CREATE", "DROP", "EXPLAIN", "GRANT", "REVOKE", "ALTER", "SET",
    "KILL",
];
const SHOW: &[&str] = &[
    "CONTINUOUS",
    "DATABASES",
    "DIAGNOSTICS",
    "FIELD",
    "GRANTS",
    "MEASUREMENT",
    "MEASUREMENTS",
    "QUERIES",
    "RETENTION",
    "SERIES",
    "SHARD",
    "SHARDS",
    "STATS",
    "SUBSCRIPTIONS",
    "TAG",
    "USERS",
];
const CREATE: &[&str] = &[
    "CONTINUOUS",
    "DATABASE",
    "USER",
    "RETENTION",
    "SUBSCRIPTION",
];
const DROP: &[&str] = &[
    "CONTINUOUS",
    "DATABASE",
    "MEASUREMENT",
    "RETENTION",
    "SERIES",
    "SHARD",
    "SUBSCRIPTION",
    "USER",
];

/// Parse one statement by walking the keyword tree.
pub(super) fn dispatch(p: &mut Parser<'_>) -> PResult<Statement> {
    let t = p.scan_ws();
    match t.tok {
        Token::Select => Ok(Statement::Select(Box::new(
            p.parse_select(TargetRequirement::NotRequired)?,
        ))),
        Token::Delete => p.parse_delete(),
        Token::Show => dispatch_show(p),
        Token::Create => dispatch_create(p),
        Token::Drop => dispatch_drop(p),
        Token::Explain => p.parse_explain(),
        Token::Grant => p.parse_grant(),
        Token::Revoke => p.parse_revoke(),
        Token::Alter => {
            p.expect_in(Token::Retention, &["RETENTION"])?;
            p.expect_in(Token::Policy, &["POLICY"])?;
            p.parse_alter_rp()
        }
        Token::Set => {
            p.expect_in(Token::Password, &["PASSWORD"])?;
            p.expect_in(Token::For, &["FOR"])?;
            p.parse_set_password()
        }
        Token::Kill => {
            p.expect_in(Token::Query, &["QUERY"])?;
            p.parse_kill_query()
        }
        _ => Err(unexpected(&t, TOP)),
    }
}

fn dispatch_show(p: &mut Parser<'_>) -> PResult<Statement> {
    let t = p.scan_ws();
    match t.tok {
        Token::Continuous => {
            p.expect_in(Token::Queries, &["QUERIES"])?;
            Ok(Statement::ShowContinuousQueries)
        }
        Token::Databases => Ok(Statement::ShowDatabases),
        Token::Diagnostics => Ok(Statement::ShowDiagnostics {
            module: p.parse_for_module()?,
        }),
        Token::Field => {
            let t = p.scan_ws();
            match t.tok {
                Token::Key => p.parse_show_key_cardinality(CardinalityKind::FieldKey),
                Token::Keys => p.parse_show_field_keys(),
                _ => Err(unexpected(&t, &["KEY", "KEYS"])),
            }
        }
        Token::Grants => {
            p.expect_in(Token::For, &["FOR"])?;
            Ok(Statement::ShowGrants {
                user: p.parse_ident()?,
            })
        }
        Token::Measurement => {
            let t = p.scan_ws();
            match t.tok {
                Token::Exact => p.parse_show_measurement_cardinality(true),
                Token::Cardinality => p.parse_show_measurement_cardinality(false),
                _ => Err(unexpected(&t, &["EXACT", "CARDINALITY"])),
            }
        }
        Token::Measurements => p.parse_show_measurements(),
        Token::Queries => Ok(Statement::ShowQueries),
        Token::Retention => {
            p.expect_in(Token::Policies, &["POLICIES"])?;
            let database = if p.accept(Token::On) {
                Some(p.parse_ident()?)
            } else {
                None
            };
            Ok(Statement::ShowRetentionPolicies { database })
        }
        Token::Series => p.parse_show_series(),
        Token::Shard => {
            p.expect_in(Token::Groups, &["GROUPS"])?;
            Ok(Statement::ShowShardGroups)
        }
        Token::Shards => Ok(Statement::ShowShards),
        Token::Stats => Ok(Statement::ShowStats {
            module: p.parse_for_module()?,
        }),
        Token::Subscriptions => Ok(Statement::ShowSubscriptions),
        Token::Tag => {
            let t = p.scan_ws();
            match t.tok {
                Token::Key => p.parse_show_key_cardinality(CardinalityKind::TagKey),
                Token::Keys => p.parse_show_tag_keys(),
                Token::Values => p.parse_show_tag_values(),
                _ => Err(unexpected(&t, &["KEY", "KEYS", "VALUES"])),
            }
        }
        Token::Users => Ok(Statement::ShowUsers),
        _ => Err(unexpected(&t, SHOW)),
    }
}

fn dispatch_create(p: &mut Parser<'_>) -> PResult<Statement> {
    let t = p.scan_ws();
    match t.tok {
        Token::Continuous => {
            p.expect_in(Token::Query, &["QUERY"])?;
            p.parse_create_cq()
        }
        Token::Database => p.parse_create_database(),
        Token::User => p.parse_create_user(),
        Token::Retention => {
            p.expect_in(Token::Policy, &["POLICY"])?;
            p.parse_create_rp()
        }
        Token::Subscription => p.parse_create_subscription(),
        _ => Err(unexpected(&t, CREATE)),
    }
}

fn dispatch_drop(p: &mut Parser<'_>) -> PResult<Statement> {
    let t = p.scan_ws();
    match t.tok {
        Token::Continuous => {
            p.expect_in(Token::Query, &["QUERY"])?;
            let name = p.parse_ident()?;
            p.expect(Token::On)?;
            Ok(Statement::DropContinuousQuery {
                name,
                database: p.parse_ident()?,
            })
        }
        Token::Database => Ok(Statement::DropDatabase {
            name: p.parse_ident()?,
        }),
        Token::Measurement => Ok(Statement::DropMeasurement {
            name: p.parse_ident()?,
        }),
        Token::Retention => {
            p.expect_in(Token::Policy, &["POLICY"])?;
            let name = p.parse_ident()?;
            p.expect(Token::On)?;
            Ok(Statement::DropRetentionPolicy {
                name,
                database: p.parse_ident()?,
            })
        }
        Token::Series => p.parse_drop_series(),
        Token::Shard => Ok(Statement::DropShard {
            id: p.parse_uint64()?,
        }),
        Token::Subscription => {
            let (name, database, retention_policy) = p.parse_name_on_db_rp()?;
            Ok(Statement::DropSubscription {
                name,
                database,
                retention_policy,
            })
        }
        Token::User => Ok(Statement::DropUser {
            name: p.parse_ident()?,
        }),
        _ => Err(unexpected(&t, DROP)),
    }
}

impl Parser<'_> {
    /// Expect `tok`; on mismatch report the parse-tree level's key list.
    fn expect_in(&mut self, tok: Token, keys: &[&str]) -> PResult<()> {
        let t = self.scan_ws();
        if t.tok != tok {
            return Err(unexpected(&t, keys));
        }
        Ok(())
    }

    fn parse_for_module(&mut self) -> PResult<Option<String>> {
        if self.accept(Token::For) {
            return self.parse_string().map(Some);
        }
        Ok(None)
    }

    fn parse_optional_on(&mut self) -> PResult<Option<String>> {
        if self.accept(Token::On) {
            return self.parse_ident().map(Some);
        }
        Ok(None)
    }

    fn parse_optional_from(&mut self) -> PResult<Vec<Source>> {
        if self.accept(Token::From) {
            return self.parse_sources(false);
        }
        Ok(Vec::new())
    }

    fn parse_delete(&mut self) -> PResult<Statement> {
        let t = self.scan_ws();
        let mut s = DeleteStatement::default();
        if t.tok == Token::From {
            s.sources = self.parse_sources(false)?;
            if measurements(&s.sources).any(|m| !m.database.is_empty()) {
                return Err(ParseError::msg(
                    "database not supported",
                    Default::default(),
                ));
            }
        } else {
            self.unscan();
        }
        s.condition = self.parse_condition()?;
        if s.condition.is_none() && s.sources.is_empty() {
            return Err(unexpected(&t, &["FROM", "WHERE"]));
        }
        Ok(Statement::Delete(s))
    }

    fn parse_drop_series(&mut self) -> PResult<Statement> {
        let t = self.scan_ws();
        let mut s = DropSeriesStatement::default();
        if t.tok == Token::From {
            s.sources = self.parse_sources(false)?;
            let mut err = None;
            for m in measurements(&s.sources) {
                if !m.database.is_empty() {
                    err = Some("database not supported");
                }
                if !m.retention_policy.is_empty() {
                    err = Some("retention policy not supported");
                }
            }
            if let Some(e) = err {
                return Err(ParseError::msg(e, Default::default()));
            }
        } else {
            self.unscan();
        }
        s.condition = self.parse_condition()?;
        if s.condition.is_none() && s.sources.is_empty() {
            return Err(unexpected(&t, &["FROM", "WHERE"]));
        }
        Ok(Statement::DropSeries(s))
    }

    fn parse_show_series(&mut self) -> PResult<Statement> {
        let exact = self.accept(Token::Exact);
        if self.accept(Token::Cardinality) {
            return self.parse_cardinality_tail(CardinalityKind::Series, exact);
        }
        let mut s = ShowSeriesStatement {
            database: self.parse_optional_on()?,
            ..Default::default()
        };
        s.sources = self.parse_optional_from()?;
        s.condition = self.parse_condition()?;
        s.sort_fields = self.parse_order_by()?;
        s.limit = self.parse_optional_token_and_int(Token::Limit)?;
        s.offset = self.parse_optional_token_and_int(Token::Offset)?;
        Ok(Statement::ShowSeries(s))
    }

    fn parse_show_measurement_cardinality(&mut self, exact: bool) -> PResult<Statement> {
        if exact {
            self.expect(Token::Cardinality)?;
        }
        self.parse_cardinality_tail(CardinalityKind::Measurement, exact)
    }

    /// `SHOW TAG KEY` / `SHOW FIELD KEY` `[EXACT] CARDINALITY ...`
    fn parse_show_key_cardinality(&mut self, kind: CardinalityKind) -> PResult<Statement> {
        let exact = self.accept(Token::Exact);
        let t = self.scan_ws();
        if t.tok != Token::Cardinality {
            let expected: &[&str] = if exact {
                &["CARDINALITY"]
            } else {
                &["EXACT", "CARDINALITY"]
            };
            return Err(unexpected(&t, expected));
        }
        self.parse_cardinality_tail(kind, exact)
    }

    /// Everything after `CARDINALITY`.
    fn parse_cardinality_tail(&mut self, kind: CardinalityKind, exact: bool) -> PResult<Statement> {
        let database = self.parse_optional_on()?;
        let sources = self.parse_optional_from()?;
        let kind = match kind {
            CardinalityKind::TagValues(_) => CardinalityKind::TagValues(self.parse_tag_key_expr()?),
            k => k,
        };
        let condition = self.parse_condition()?;
        let dimensions = self.parse_dimensions()?;
        let limit = self.parse_optional_token_and_int(Token::Limit)?;
        let offset = self.parse_optional_token_and_int(Token::Offset)?;
        Ok(Statement::ShowCardinality(ShowCardinalityStatement {
            kind,
            exact,
            database,
            sources,
            condition,
            dimensions,
            limit,
            offset,
        }))
    }

    fn parse_show_measurements(&mut self) -> PResult<Statement> {
        let mut s = ShowMeasurementsStatement::default();
        if self.accept(Token::On) {
            let t = self.scan_ws();
            match t.tok {
                Token::Ident => s.database = Some(t.lit),
                Token::Mul => s.wildcard_database = true,
                _ => return Err(unexpected(&t, &["identifier or *"])),
            }
            if self.accept(Token::Dot) {
                let t = self.scan_ws();
                match t.tok {
                    Token::Ident => s.retention_policy = Some(t.lit),
                    Token::Mul => s.wildcard_retention_policy = true,
                    _ => return Err(unexpected(&t, &["identifier or *"])),
                }
            }
        }
        if self.accept(Token::With) {
            self.parse_tokens(&[Token::Measurement])?;
            let t = self.scan_ws();
            match t.tok {
                Token::Eq | Token::EqRegex => match self.parse_source(false)? {
                    Source::Measurement(m) => s.source = Some(m),
                    Source::SubQuery(_) => {}
                },
                _ => return Err(unexpected(&t, &["=", "=~"])),
            }
        }
        s.condition = self.parse_condition()?;
        s.sort_fields = self.parse_order_by()?;
        s.limit = self.parse_optional_token_and_int(Token::Limit)?;
        s.offset = self.parse_optional_token_and_int(Token::Offset)?;
        Ok(Statement::ShowMeasurements(s))
    }

    fn parse_show_tag_keys(&mut self) -> PResult<Statement> {
        let mut s = ShowTagKeysStatement {
            database: self.parse_optional_on()?,
            ..Default::default()
        };
        s.sources = self.parse_optional_from()?;
        if self.accept(Token::With) {
            self.unscan();
            s.tag_key = Some(self.parse_tag_key_expr()?);
        }
        s.condition = self.parse_condition()?;
        s.sort_fields = self.parse_order_by()?;
        s.limit = self.parse_optional_token_and_int(Token::Limit)?;
        s.offset = self.parse_optional_token_and_int(Token::Offset)?;
        s.slimit = self.parse_optional_token_and_int(Token::Slimit)?;
        s.soffset = self.parse_optional_token_and_int(Token::Soffset)?;
        Ok(Statement::ShowTagKeys(s))
    }

    fn parse_show_tag_values(&mut self) -> PResult<Statement> {
        let t = self.scan_ws();
        let dummy = || CardinalityKind::TagValues(TagKeyFilter::In(Vec::new()));
        match t.tok {
            Token::Exact => {
                self.expect(Token::Cardinality)?;
                return self.parse_cardinality_tail(dummy(), true);
            }
            Token::Cardinality => return self.parse_cardinality_tail(dummy(), false),
            _ => self.unscan(),
        }
        let database = self.parse_optional_on()?;
        let sources = self.parse_optional_from()?;
        let tag_key = self.parse_tag_key_expr()?;
        let condition = self.parse_condition()?;
        let sort_fields = self.parse_order_by()?;
        let limit = self.parse_optional_token_and_int(Token::Limit)?;
        let offset = self.parse_optional_token_and_int(Token::Offset)?;
        Ok(Statement::ShowTagValues(ShowTagValuesStatement {
            database,
            sources,
            tag_key,
            condition,
            sort_fields,
            limit,
            offset,
        }))
    }

    /// `WITH KEY = k | != k | IN (a, b) | =~ /re/ | !~ /re/`
    fn parse_tag_key_expr(&mut self) -> PResult<TagKeyFilter> {
        self.parse_tokens(&[Token::With, Token::Key])?;
        let t = self.scan_ws();
        match t.tok {
            Token::In => {
                let t = self.scan_ws();
                if t.tok != Token::LParen {
                    return Err(unexpected(&t, &["("]));
                }
                let keys = self.parse_ident_list()?;
                let t = self.scan_ws();
                if t.tok != Token::RParen {
                    return Err(unexpected(&t, &[")"]));
                }
                Ok(TagKeyFilter::In(keys))
            }
            Token::Eq => Ok(TagKeyFilter::Eq(self.parse_ident()?)),
            Token::Neq => Ok(TagKeyFilter::Neq(self.parse_ident()?)),
            Token::EqRegex | Token::NeqRegex => match self.parse_regex()? {
                Some(r) if t.tok == Token::EqRegex => Ok(TagKeyFilter::EqRegex(r)),
                Some(r) => Ok(TagKeyFilter::NeqRegex(r)),
                None => {
                    let t = self.scan_ws();
                    Err(unexpected(&t, &["regex"]))
                }
            },
            _ => Err(unexpected(&t, &["IN", "=", "=~"])),
        }
    }

    fn parse_show_field_keys(&mut self) -> PResult<Statement> {
        let mut s = ShowFieldKeysStatement::default();
        if self.accept(Token::On) {
            // InfluxDB ignores an error here; a bad name surfaces at the next token.
            s.database = self.parse_ident().ok();
        }
        s.sources = self.parse_optional_from()?;
        s.sort_fields = self.parse_order_by()?;
        s.limit = self.parse_optional_token_and_int(Token::Limit)?;
        s.offset = self.parse_optional_token_and_int(Token::Offset)?;
        Ok(Statement::ShowFieldKeys(s))
    }

    fn parse_create_database(&mut self) -> PResult<Statement> {
        let mut s = CreateDatabaseStatement {
            name: self.parse_ident()?,
            ..Default::default()
        };
        if self.accept(Token::With) {
            let t = self.scan_ws();
            if !matches!(
                t.tok,
                Token::Duration | Token::Name | Token::Replication | Token::Shard
            ) {
                return Err(unexpected(
                    &t,
                    &["DURATION", "NAME", "REPLICATION", "SHARD"],
                ));
            }
            self.unscan();
            s.retention_policy_create = true;
            if self.accept(Token::Duration) {
                s.retention_policy_duration = Some(self.parse_duration()?);
            }
            if self.accept(Token::Replication) {
                s.retention_policy_replication = Some(self.parse_int(1, i32::MAX as i64)? as u32);
            }
            if self.accept(Token::Shard) {
                let t = self.scan_ws();
                if t.tok != Token::Duration {
                    return Err(unexpected(&t, &["DURATION"]));
                }
                s.retention_policy_shard_group_duration = self.parse_duration()?;
            }
            if self.accept(Token::Name) {
                s.retention_policy_name = Some(self.parse_ident()?);
            }
        }
        Ok(Statement::CreateDatabase(s))
    }

    /// `SHARD DURATION <d>` after SHARD was consumed; INF is rejected.
    fn parse_shard_duration(&mut self) -> PResult<i64> {
        let t = self.scan_ws();
        if t.tok != Token::Duration {
            return Err(unexpected(&t, &["DURATION"]));
        }
        let t = self.scan_ws();
        if t.tok == Token::Inf {
            return Err(ParseError::msg(
                "invalid duration INF for shard duration",
                t.pos,
            ));
        }
        self.unscan();
        self.parse_duration()
    }

    fn parse_create_rp(&mut self) -> PResult<Statement> {
        let mut s = CreateRetentionPolicyStatement {
            name: self.parse_ident()?,
            ..Default::default()
        };
        self.expect(Token::On)?;
        s.database = self.parse_ident()?;
        self.expect(Token::Duration)?;
        s.duration = self.parse_duration()?;
        self.expect(Token::Replication)?;
        s.replication = self.parse_int(1, i32::MAX as i64)? as u32;
        if self.accept(Token::Shard) {
            s.shard_group_duration = self.parse_shard_duration()?;
        }
        s.default = self.accept(Token::Default);
        Ok(Statement::CreateRetentionPolicy(s))
    }

    fn parse_alter_rp(&mut self) -> PResult<Statement> {
        let mut s = AlterRetentionPolicyStatement::default();
        let t = self.scan_ws();
        match t.tok {
            Token::Default => s.name = "default".into(),
            Token::Ident => s.name = t.lit,
            _ => return Err(unexpected(&t, &["identifier"])),
        }
        self.expect(Token::On)?;
        s.database = self.parse_ident()?;
        let mut found: Vec<Token> = Vec::new();
        loop {
            let t = self.scan_ws();
            if found.contains(&t.tok) {
                return Err(ParseError::msg(
                    format!("found duplicate {} option", t.tok.as_str()),
                    t.pos,
                ));
            }
            match t.tok {
                Token::Duration => s.duration = Some(self.parse_duration()?),
                Token::Replication => {
                    s.replication = Some(self.parse_int(1, i32::MAX as i64)? as u32)
                }
                Token::Shard => s.shard_group_duration = Some(self.parse_shard_duration()?),
                Token::Default => s.default = true,
                _ => {
                    if found.is_empty() {
                        return Err(unexpected(
                            &t,
                            &["DURATION", "REPLICATION", "SHARD", "DEFAULT"],
                        ));
                    }
                    self.unscan();
                    break;
                }
            }
            found.push(t.tok);
        }
        Ok(Statement::AlterRetentionPolicy(s))
    }

    fn parse_create_user(&mut self) -> PResult<Statement> {
        let name = self.parse_ident()?;
        self.parse_tokens(&[Token::With, Token::Password])?;
        let password = self.parse_string()?;
        if !self.accept(Token::With) {
            return Ok(Statement::CreateUser {
                name,
                password,
                admin: false,
            });
        }
        self.parse_tokens(&[Token::All, Token::Privileges])?;
        Ok(Statement::CreateUser {
            name,
            password,
            admin: true,
        })
    }

    fn parse_set_password(&mut self) -> PResult<Statement> {
        let name = self.parse_ident()?;
        let t = self.scan_ws();
        if t.tok != Token::Eq {
            return Err(unexpected(&t, &["="]));
        }
        Ok(Statement::SetPassword {
            name,
            password: self.parse_string()?,
        })
    }

    fn parse_privilege(&mut self) -> PResult<Privilege> {
        let t = self.scan_ws();
        match t.tok {
            Token::Read => Ok(Privilege::Read),
            Token::Write => Ok(Privilege::Write),
            Token::All => {
                if self.scan_ws().tok != Token::Privileges {
                    self.unscan();
                }
                Ok(Privilege::All)
            }
            _ => Err(unexpected(&t, &["READ", "WRITE", "ALL [PRIVILEGES]"])),
        }
    }

    fn parse_grant(&mut self) -> PResult<Statement> {
        let privilege = self.parse_privilege()?;
        let t = self.scan_ws();
        if t.tok == Token::On {
            let database = self.parse_ident()?;
            self.expect(Token::To)?;
            return Ok(Statement::Grant {
                privilege,
                database,
                user: self.parse_ident()?,
            });
        } else if t.tok == Token::To {
            if privilege != Privilege::All {
                return Err(unexpected(&t, &["ON"]));
            }
            return Ok(Statement::GrantAdmin {
                user: self.parse_ident()?,
            });
        }
        if privilege == Privilege::All {
            return Err(unexpected(&t, &["ON", "TO"]));
        }
        Err(unexpected(&t, &["ON"]))
    }

    fn parse_revoke(&mut self) -> PResult<Statement> {
        let privilege = self.parse_privilege()?;
        let t = self.scan_ws();
        if t.tok == Token::On {
            let database = self.parse_ident()?;
            self.expect(Token::From)?;
            return Ok(Statement::Revoke {
                privilege,
                database,
                user: self.parse_ident()?,
            });
        } else if t.tok == Token::From {
            if privilege != Privilege::All {
                return Err(unexpected(&t, &["ON"]));
            }
            return Ok(Statement::RevokeAdmin {
                user: self.parse_ident()?,
            });
        }
        if privilege == Privilege::All {
            return Err(unexpected(&t, &["ON", "FROM"]));
        }
        Err(unexpected(&t, &["ON"]))
    }

    fn parse_create_cq(&mut self) -> PResult<Statement> {
        let name = self.parse_ident()?;
        self.expect(Token::On)?;
        let database = self.parse_ident()?;
        let (mut every, mut for_) = (0, 0);
        if self.accept(Token::Resample) {
            (every, for_) = self.parse_resample()?;
        }
        self.parse_tokens(&[Token::Begin, Token::Select])?;
        let source = self.parse_select(TargetRequirement::Required)?;
        if !crate::analyze::is_raw_query(&source) {
            let interval = crate::analyze::group_by_interval(&source);
            if !matches!(interval, Ok(d) if d != 0) {
                self.unscan();
                self.unscan();
                let t = self.scan_ws();
                let mut expected = vec!["GROUP BY time(...)".to_string()];
                if let Err(e) = interval {
                    expected.push(e);
                }
                let refs: Vec<&str> = expected.iter().map(String::as_str).collect();
                return Err(unexpected(&t, &refs));
            }
        }
        self.expect(Token::End)?;
        let interval = crate::analyze::group_by_interval(&source).map_err(ParseError::plain)?;
        if for_ != 0 {
            let mut interval = interval;
            if every != 0 && every > interval {
                interval = every;
            }
            if interval > for_ {
                return Err(ParseError::plain(format!(
                    "FOR duration must be >= GROUP BY time duration: must be a minimum of {}, got {}",
                    crate::duration::format_duration(interval),
                    crate::duration::format_duration(for_)
                )));
            }
        }
        Ok(Statement::CreateContinuousQuery(
            CreateContinuousQueryStatement {
                name,
                database,
                source: Box::new(source),
                resample_every: every,
                resample_for: for_,
            },
        ))
    }

    fn parse_resample(&mut self) -> PResult<(i64, i64)> {
        let mut every = 0;
        let mut for_ = 0;
        for (kw, slot) in [(Token::Every, &mut every), (Token::For, &mut for_)] {
            if self.accept(kw) {
                let t = self.scan_ws();
                if t.tok != Token::DurationVal {
                    return Err(unexpected(&t, &["duration"]));
                }
                *slot = crate::duration::parse_duration(&t.lit)
                    .map_err(|e| ParseError::msg(e, t.pos))?;
            }
        }
        if every == 0 && for_ == 0 {
            let t = self.scan_ws();
            return Err(unexpected(&t, &["EVERY", "FOR"]));
        }
        Ok((every, for_))
    }

    /// `name ON db.rp` (subscriptions).
    fn parse_name_on_db_rp(&mut self) -> PResult<(String, String, String)> {
        let name = self.parse_ident()?;
        self.expect(Token::On)?;
        let db = self.parse_ident()?;
        let t = self.scan();
        if t.tok != Token::Dot {
            return Err(unexpected(&t, &["."]));
        }
        Ok((name, db, self.parse_ident()?))
    }

    fn parse_create_subscription(&mut self) -> PResult<Statement> {
        let (name, database, retention_policy) = self.parse_name_on_db_rp()?;
        self.expect(Token::Destinations)?;
        let t = self.scan_ws();
        let mode = match t.tok {
            Token::All => "ALL",
            Token::Any => "ANY",
            _ => return Err(unexpected(&t, &["ALL", "ANY"])),
        };
        let destinations = self.parse_string_list()?;
        Ok(Statement::CreateSubscription(CreateSubscriptionStatement {
            name,
            database,
            retention_policy,
            mode: mode.into(),
            destinations,
        }))
    }

    fn parse_explain(&mut self) -> PResult<Statement> {
        let analyze = self.accept(Token::Analyze);
        let t = self.scan_ws();
        if t.tok != Token::Select {
            return Err(unexpected(&t, &["SELECT"]));
        }
        let s = self.parse_select(TargetRequirement::NotRequired)?;
        Ok(Statement::Explain(ExplainStatement {
            statement: Box::new(s),
            analyze,
        }))
    }

    fn parse_kill_query(&mut self) -> PResult<Statement> {
        let id = self.parse_uint64()?;
        let host = if self.accept(Token::On) {
            Some(self.parse_ident()?)
        } else {
            None
        };
        Ok(Statement::KillQuery { id, host })
    }
}

/// The measurement sources among `sources`.
fn measurements(sources: &[Source]) -> impl Iterator<Item = &Measurement> {
    sources.iter().filter_map(|s| match s {
        Source::Measurement(m) => Some(m),
        Source::SubQuery(_) => None,
    })
}
