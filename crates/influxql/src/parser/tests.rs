//! Table-driven parser tests: every statement kind parses and prints back to
//! the canonical text (which parses to an equal AST), and error texts and
//! positions match InfluxDB.

use super::*;
use crate::ast::*;

/// Parse `q`, check the printed form equals `want` and reparses to the same AST.
fn check(q: &str, want: &str) {
    let s = match parse_statement(q) {
        Ok(s) => s,
        Err(e) => panic!("{q}: {e}"),
    };
    let printed = s.unredacted().to_string();
    assert_eq!(printed, want, "canonical text of {q}");
    let again = parse_statement(&printed).unwrap_or_else(|e| panic!("reparse {printed}: {e}"));
    assert_eq!(again, s, "round trip of {q}");
}

fn err(q: &str) -> String {
    match parse_query(q) {
        Ok(s) => panic!("{q}: expected error, got {s}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn select_statements() {
    let cases = [
        ("SELECT * FROM cpu", "SELECT * FROM cpu"),
        (
            "select mean(value) as m, max(\"v\") from \"db\".\"rp\".cpu where time > now() - 1h and host = 'a' group by time(10m, 1m), host fill(none) order by time desc limit 10 offset 2 slimit 3 soffset 4 tz('UTC')",
            "SELECT mean(value) AS m, max(v) FROM db.rp.cpu WHERE time > now() - 1h AND host = 'a' GROUP BY time(10m, 1m), host fill(none) ORDER BY time DESC LIMIT 10 OFFSET 2 SLIMIT 3 SOFFSET 4 tz('UTC')",
        ),
        (
            "SELECT *::field, *::tag, value::float, n::integer, s::string, b::boolean, host::tag, f::field FROM cpu",
            "SELECT *::field, *::tag, value::float, n::integer, s::string, b::boolean, host::tag, f::field FROM cpu",
        ),
        (
            "SELECT value INTO \"db\".\"rp\".:MEASUREMENT FROM /cpu.*/",
            "SELECT value INTO db.rp.:MEASUREMENT FROM /cpu.*/",
        ),
        ("SELECT value INTO other FROM cpu", "SELECT value INTO other FROM cpu"),
        ("SELECT value FROM db..cpu", "SELECT value FROM db..cpu"),
        ("SELECT value FROM rp./cpu/, db.rp./m/", "SELECT value FROM rp./cpu/, db.rp./m/"),
        (
            "SELECT max(value) FROM (SELECT mean(value) AS value FROM cpu GROUP BY time(1m))",
            "SELECT max(value) FROM (SELECT mean(value) AS value FROM cpu GROUP BY time(1m))",
        ),
        ("SELECT a + b * 2 - c / 4 FROM m", "SELECT a + b * 2 - c / 4 FROM m"),
        ("SELECT (a + b) * 2 FROM m", "SELECT (a + b) * 2 FROM m"),
        ("SELECT a % 2, a & 1, a | 1, a ^ 1 FROM m", "SELECT a % 2, a & 1, a | 1, a ^ 1 FROM m"),
        ("SELECT count(distinct value) FROM m", "SELECT count(DISTINCT value) FROM m"),
        ("SELECT DISTINCT(value) FROM m", "SELECT distinct(value) FROM m"),
        (
            "SELECT value FROM m WHERE host =~ /^server[0-9]$/ AND region !~ /us\\/west/",
            "SELECT value FROM m WHERE host =~ /^server[0-9]$/ AND region !~ /us\\/west/",
        ),
        ("SELECT -value, -1.5, -(a), -2 FROM m", "SELECT -1 * value, -1.500, -1 * (a), -2 FROM m"),
        ("SELECT 0.1234567 FROM m", "SELECT 0.1234567 FROM m"),
        ("SELECT 18446744073709551615 FROM m", "SELECT 18446744073709551615 FROM m"),
        ("SELECT mean(v) FROM m GROUP BY time(1h) fill(0)", "SELECT mean(v) FROM m GROUP BY time(1h) fill(0)"),
        ("SELECT mean(v) FROM m GROUP BY time(1h) fill(-1.5)", "SELECT mean(v) FROM m GROUP BY time(1h) fill(-1.500)"),
        ("SELECT mean(v) FROM m GROUP BY time(1h) fill(previous)", "SELECT mean(v) FROM m GROUP BY time(1h) fill(previous)"),
        ("SELECT mean(v) FROM m GROUP BY time(1h) FILL(linear)", "SELECT mean(v) FROM m GROUP BY time(1h) fill(linear)"),
        ("SELECT mean(v) FROM m GROUP BY time(1h) fill(null)", "SELECT mean(v) FROM m GROUP BY time(1h)"),
        ("SELECT v FROM m GROUP BY *", "SELECT v FROM m GROUP BY *"),
        ("SELECT v FROM m GROUP BY /ho/, region", "SELECT v FROM m GROUP BY /ho/, region"),
        ("SELECT v FROM m ORDER BY DESC", "SELECT v FROM m ORDER BY DESC"),
        ("SELECT v FROM m ORDER BY time ASC", "SELECT v FROM m ORDER BY time ASC"),
        (
            "SELECT value -- comment\nFROM cpu WHERE /* block */ a = 1",
            "SELECT value FROM cpu WHERE a = 1",
        ),
        ("SELECT \"select\", \"in-bytes\" FROM cpu", "SELECT \"select\", \"in-bytes\" FROM cpu"),
        ("SELECT v FROM m WHERE s = 'it\\'s\\n'", "SELECT v FROM m WHERE s = 'it\\'s\\n'"),
        ("SELECT v FROM m WHERE t > 1h30m", "SELECT v FROM m WHERE t > 90m"),
        ("SELECT v FROM m WHERE b = true OR b = FALSE", "SELECT v FROM m WHERE b = true OR b = false"),
        ("SELECT v FROM m WHERE a <> 1", "SELECT v FROM m WHERE a != 1"),
        ("SELECT top(v, host, 3), percentile(v, 95.5) FROM m", "SELECT top(v, host, 3), percentile(v, 95.500) FROM m"),
        ("SELECT v FROM \"my.db\".\"autogen\".\"cpu load\"", "SELECT v FROM \"my.db\".autogen.\"cpu load\""),
        ("SELECT /^v/ FROM m", "SELECT /^v/ FROM m"),
    ];
    for (q, want) in cases {
        check(q, want);
    }
}

#[test]
fn select_ast_shape() {
    let Statement::Select(s) =
        parse_statement("SELECT a + b * 2 FROM m WHERE time >= 10 LIMIT 5").unwrap()
    else {
        panic!("not a select")
    };
    assert_eq!(
        s.fields[0].expr,
        Expr::binary(
            Expr::VarRef(VarRef::new("a")),
            BinaryOp::Add,
            Expr::binary(
                Expr::VarRef(VarRef::new("b")),
                BinaryOp::Mul,
                Expr::Integer(2)
            ),
        )
    );
    assert_eq!(s.limit, 5);
    assert_eq!(
        s.sources,
        vec![Source::Measurement(Measurement {
            name: "m".into(),
            ..Default::default()
        })]
    );
    let Statement::Select(s) =
        parse_statement("SELECT v INTO \"rp\".:MEASUREMENT FROM db.rp./x/").unwrap()
    else {
        panic!("not a select")
    };
    let t = s.target.unwrap().measurement;
    assert_eq!((t.retention_policy.as_str(), t.name.as_str()), ("rp", ""));
    let Source::Measurement(m) = &s.sources[0] else {
        panic!("subquery")
    };
    assert_eq!(
        (m.database.as_str(), m.retention_policy.as_str()),
        ("db", "rp")
    );
    assert_eq!(m.regex.as_ref().map(|r| r.as_str()), Some("x"));
}

#[test]
fn other_statements() {
    let same = [
        "EXPLAIN SELECT * FROM m",
        "EXPLAIN ANALYZE SELECT * FROM m",
        "DELETE FROM cpu WHERE time < '2000-01-01T00:00:00Z'",
        "DELETE WHERE host = 'a'",
        "DELETE FROM /c.*/",
        "SHOW DATABASES",
        "SHOW MEASUREMENTS ON db0 WITH MEASUREMENT =~ /c.*/ WHERE host = 'a' LIMIT 5 OFFSET 1",
        "SHOW MEASUREMENTS WITH MEASUREMENT = cpu",
        "SHOW MEASUREMENTS ON *.*",
        "SHOW MEASUREMENTS ON db0.rp0",
        "SHOW SERIES ON db0 FROM cpu WHERE a = 'b' LIMIT 1",
        "SHOW TAG KEYS ON db FROM cpu WITH KEY IN (a, b) WHERE x = 'y' LIMIT 1 OFFSET 2 SLIMIT 3 SOFFSET 4",
        "SHOW TAG VALUES FROM cpu WITH KEY = host",
        "SHOW TAG VALUES WITH KEY != host",
        "SHOW TAG VALUES WITH KEY !~ /h/ WHERE a = 'b' LIMIT 3",
        "SHOW TAG VALUES ON db FROM cpu WITH KEY IN (host, region)",
        "SHOW FIELD KEYS ON db FROM cpu",
        "SHOW FIELD KEYS",
        "SHOW RETENTION POLICIES ON db0",
        "SHOW RETENTION POLICIES",
        "SHOW USERS",
        "SHOW GRANTS FOR bob",
        "SHOW CONTINUOUS QUERIES",
        "SHOW SUBSCRIPTIONS",
        "SHOW SHARDS",
        "SHOW SHARD GROUPS",
        "SHOW QUERIES",
        "SHOW STATS",
        "SHOW STATS FOR 'httpd'",
        "SHOW DIAGNOSTICS FOR 'build'",
        "SHOW MEASUREMENT EXACT CARDINALITY ON db",
        "SHOW MEASUREMENT CARDINALITY",
        "SHOW SERIES CARDINALITY FROM cpu WHERE a = 'b' GROUP BY host LIMIT 1",
        "SHOW SERIES EXACT CARDINALITY",
        "SHOW TAG KEY CARDINALITY",
        "SHOW TAG KEY EXACT CARDINALITY FROM cpu",
        "SHOW TAG VALUES EXACT CARDINALITY WITH KEY = host",
        "SHOW TAG VALUES CARDINALITY FROM cpu WITH KEY =~ /h/ WHERE a = 'b'",
        "SHOW FIELD KEY CARDINALITY ON db",
        "SHOW FIELD KEY EXACT CARDINALITY",
        "CREATE DATABASE db",
        "CREATE DATABASE db WITH DURATION 1d REPLICATION 2 SHARD DURATION 1h NAME rp",
        "CREATE DATABASE db WITH NAME rp",
        "DROP DATABASE db",
        "CREATE RETENTION POLICY rp ON db DURATION 1h REPLICATION 1 SHARD DURATION 30m DEFAULT",
        "CREATE RETENTION POLICY rp ON db DURATION 0s REPLICATION 1",
        "ALTER RETENTION POLICY rp ON db DURATION 2h REPLICATION 2 SHARD DURATION 1h DEFAULT",
        "ALTER RETENTION POLICY \"default\" ON db DEFAULT",
        "DROP RETENTION POLICY rp ON db",
        "CREATE USER admin WITH PASSWORD 'p@ss' WITH ALL PRIVILEGES",
        "CREATE USER bob WITH PASSWORD 'x'",
        "DROP USER bob",
        "SET PASSWORD FOR bob = 'x'",
        "GRANT READ ON db TO bob",
        "GRANT ALL PRIVILEGES ON db TO bob",
        "GRANT ALL PRIVILEGES TO bob",
        "REVOKE WRITE ON db FROM bob",
        "REVOKE ALL PRIVILEGES FROM bob",
        "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(v) INTO m2 FROM m GROUP BY time(10m) END",
        "CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 1m FOR 1h BEGIN SELECT mean(v) INTO m2 FROM m GROUP BY time(10m) END",
        "CREATE CONTINUOUS QUERY cq ON db RESAMPLE FOR 1h BEGIN SELECT v INTO m2 FROM m END",
        "DROP CONTINUOUS QUERY cq ON db",
        "CREATE SUBSCRIPTION s ON db.rp DESTINATIONS ANY 'udp://a:1', 'udp://b:2'",
        "DROP SUBSCRIPTION s ON db.rp",
        "DROP MEASUREMENT cpu",
        "DROP SERIES FROM cpu WHERE host = 'a'",
        "DROP SERIES WHERE host = 'a'",
        "DROP SHARD 12",
        "KILL QUERY 42",
        "KILL QUERY 42 ON \"host:8088\"",
    ];
    for q in same {
        check(q, q);
    }
    let rewritten = [
        (
            "create database db with duration inf",
            "CREATE DATABASE db WITH DURATION 0s",
        ),
        (
            "ALTER RETENTION POLICY rp ON db DURATION INF",
            "ALTER RETENTION POLICY rp ON db DURATION 0s",
        ),
        (
            "ALTER RETENTION POLICY default ON db DEFAULT",
            "ALTER RETENTION POLICY \"default\" ON db DEFAULT",
        ),
        ("GRANT ALL TO bob", "GRANT ALL PRIVILEGES TO bob"),
        (
            "GRANT ALL ON db TO bob",
            "GRANT ALL PRIVILEGES ON db TO bob",
        ),
        ("REVOKE ALL FROM bob", "REVOKE ALL PRIVILEGES FROM bob"),
        ("SHOW MEASUREMENTS ON *", "SHOW MEASUREMENTS ON *"),
        (
            "SHOW TAG VALUES WITH KEY = \"host\"",
            "SHOW TAG VALUES WITH KEY = host",
        ),
    ];
    for (q, want) in rewritten {
        check(q, want);
    }
}

#[test]
fn statement_fields() {
    let s = parse_statement("CREATE DATABASE db WITH DURATION 1d REPLICATION 2 NAME rp").unwrap();
    let Statement::CreateDatabase(c) = s else {
        panic!()
    };
    assert!(c.retention_policy_create);
    assert_eq!(c.retention_policy_duration, Some(86_400_000_000_000));
    assert_eq!(c.retention_policy_replication, Some(2));
    assert_eq!(c.retention_policy_name.as_deref(), Some("rp"));
    let s = parse_statement("SHOW TAG VALUES WITH KEY IN (a, \"b c\")").unwrap();
    let Statement::ShowTagValues(t) = s else {
        panic!()
    };
    assert_eq!(t.tag_key, TagKeyFilter::In(vec!["a".into(), "b c".into()]));
    let s = parse_statement("KILL QUERY 7 ON \"h1\"").unwrap();
    assert_eq!(
        s,
        Statement::KillQuery {
            id: 7,
            host: Some("h1".into())
        }
    );
    let q = parse_query("SELECT a FROM b; SHOW DATABASES;").unwrap();
    assert_eq!(q.statements.len(), 2);
    assert_eq!(q.statements[1], Statement::ShowDatabases);
    assert_eq!(parse_query("  ").unwrap().statements.len(), 0);
}

#[test]
fn errors_match_influxdb() {
    let cases = [
        ("SELECT", "found EOF, expected identifier, string, number, bool at line 1, char 8"),
        ("SELECT * FROM", "found EOF, expected identifier at line 1, char 15"),
        ("SELECT field1 FROM myseries GROUP", "found EOF, expected BY at line 1, char 35"),
        ("SELECT field1 AS", "found EOF, expected identifier at line 1, char 18"),
        ("SELECT field1 FROM 12", "found 12, expected identifier at line 1, char 20"),
        (
            "SELECT 1000000000000000000000000000000000000 FROM myseries",
            "unable to parse integer at line 1, char 8",
        ),
        ("SELECT 10.5h FROM myseries", "found h, expected FROM at line 1, char 12"),
        ("DELETE", "found EOF, expected FROM, WHERE at line 1, char 8"),
        ("DROP SERIES", "found EOF, expected FROM, WHERE at line 1, char 13"),
        ("SHOW CONTINUOUS", "found EOF, expected QUERIES at line 1, char 17"),
        (
            "SHOW FOO",
            "found FOO, expected CONTINUOUS, DATABASES, DIAGNOSTICS, FIELD, GRANTS, MEASUREMENT, MEASUREMENTS, QUERIES, RETENTION, SERIES, SHARD, SHARDS, STATS, SUBSCRIPTIONS, TAG, USERS at line 1, char 6",
        ),
        (
            "FOO",
            "found FOO, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1",
        ),
        (
            "CREATE",
            "found EOF, expected CONTINUOUS, DATABASE, USER, RETENTION, SUBSCRIPTION at line 1, char 8",
        ),
        (
            "DROP",
            "found EOF, expected CONTINUOUS, DATABASE, MEASUREMENT, RETENTION, SERIES, SHARD, SUBSCRIPTION, USER at line 1, char 6",
        ),
        (
            "ALTER RETENTION POLICY policy1 ON testdb",
            "found EOF, expected DURATION, REPLICATION, SHARD, DEFAULT at line 1, char 42",
        ),
        (
            "ALTER RETENTION POLICY policy1 ON testdb REPLICATION 1 REPLICATION 2",
            "found duplicate REPLICATION option at line 1, char 56",
        ),
        (
            "CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION 0",
            "invalid value 0: must be 1 <= n <= 2147483647 at line 1, char 67",
        ),
        (
            "CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION 1 SHARD DURATION INF",
            "invalid duration INF for shard duration at line 1, char 84",
        ),
        ("GRANT", "found EOF, expected READ, WRITE, ALL [PRIVILEGES] at line 1, char 7"),
        ("GRANT BOGUS", "found BOGUS, expected READ, WRITE, ALL [PRIVILEGES] at line 1, char 7"),
        ("GRANT READ TO jdoe", "found TO, expected ON at line 1, char 12"),
        ("REVOKE ALL PRIVILEGES jdoe", "found jdoe, expected ON, FROM at line 1, char 23"),
        (
            "SELECT value > 2 FROM cpu",
            "invalid operator > in SELECT clause at line 1, char 8; operator is intended for WHERE clause",
        ),
        ("SELECT value FROM cpu fill(foo)", "expected number argument in fill()"),
        ("SELECT value FROM cpu fill(1, 2)", "fill requires an argument, e.g.: 0, null, none, previous, linear"),
        ("SELECT value FROM cpu ORDER BY value", "only ORDER BY time supported at this time"),
        ("SELECT value FROM cpu tz(1)", "expected string argument in tz()"),
        ("SELECT value FROM cpu LIMIT -1", "found -, expected integer at line 1, char 29"),
        ("SELECT * FROM cpu WHERE a = 1 garbage", "found garbage, expected ; at line 1, char 31"),
        ("SELECT $x FROM cpu", "missing parameter: x"),
        // InfluxDB quirk kept on purpose: a block comment right after a
        // measurement name is taken for a regex position.
        ("SELECT v FROM cpu /* c */", "found  , expected regex at line 1, char 18"),
        ("SELECT value FROM cpu WHERE a = 1h1x", "invalid duration"),
        ("CREATE DATABASE 0xdb0", "found 0xdb0, expected identifier at line 1, char 17"),
        ("CREATE DATABASE db0 WITH DURATION xyz", "found xyz, expected duration at line 1, char 35"),
        ("CREATE DATABASE db0 WITH REPLICATION xyz", "found xyz, expected integer at line 1, char 38"),
        ("CREATE DATABASE db0 WITH NAME", "found EOF, expected identifier at line 1, char 31"),
        (
            "CREATE DATABASE db0 WITH",
            "found EOF, expected DURATION, NAME, REPLICATION, SHARD at line 1, char 26",
        ),
        ("CREATE USER 0xBAD WITH PASSWORD pwd1337", "found 0xBAD, expected identifier at line 1, char 13"),
        ("CREATE USER WITH PASSWORD pwd1337", "found WITH, expected identifier at line 1, char 13"),
        ("CREATE USER jdoe", "found EOF, expected WITH at line 1, char 18"),
        ("SELECT * FROM cpu WHERE a =~ /(/", "error parsing regexp: missing closing ): `(` at line 1, char 29"),
        ("SELECT * FROM cpu WHERE a =~ /x", "bad regex:  at line 1, char 29"),
        ("SELECT * FROM cpu WHERE a =~ /*x/", "error parsing regexp: missing argument to repetition operator: `*` at line 1, char 29"),
        ("SELECT * FROM cpu WHERE a =~ /a\\q/", "error parsing regexp: invalid escape sequence: `\\q` at line 1, char 29"),
        ("SELECT * FROM cpu WHERE a =~ /[a/", "error parsing regexp: missing closing ]: `[a` at line 1, char 29"),
        ("SELECT a.b.c.d FROM m", "too many segments in \"a\".\"b\".\"c\".d at line 1, char 1"),
        ("SELECT v FROM m GROUP BY time(1h) fill(", "found EOF, expected identifier, string, number, bool at line 1, char 41"),
        ("SELECT *::foo FROM m", "found foo, expected field, tag at line 1, char 11"),
        (
            "SELECT v::foo FROM m",
            "found foo, expected float, integer, unsigned, string, boolean, field, tag at line 1, char 11",
        ),
        ("SELECT -'a' FROM m", "found a, expected identifier, number, duration, ( at line 1, char 8"),
        ("DELETE FROM db.rp.cpu", "database not supported at line 1, char 1"),
        ("DROP SERIES FROM rp.cpu", "retention policy not supported at line 1, char 1"),
        ("SHOW TAG VALUES", "found EOF, expected WITH at line 1, char 17"),
        ("SHOW TAG VALUES WITH KEY", "found EOF, expected IN, =, =~ at line 1, char 26"),
        ("SHOW TAG KEY FOO", "found FOO, expected EXACT, CARDINALITY at line 1, char 14"),
        ("SHOW MEASUREMENTS ON 1", "found 1, expected identifier or * at line 1, char 22"),
        ("CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT v FROM m END", "found FROM, expected INTO at line 1, char 49"),
        (
            "CREATE CONTINUOUS QUERY cq ON db RESAMPLE BEGIN SELECT v INTO x FROM m END",
            "found BEGIN, expected EVERY, FOR at line 1, char 43",
        ),
        (
            "CREATE CONTINUOUS QUERY cq ON db RESAMPLE FOR 1m BEGIN SELECT mean(v) INTO x FROM m GROUP BY time(1h) END",
            "FOR duration must be >= GROUP BY time duration: must be a minimum of 1h, got 1m",
        ),
        ("CREATE SUBSCRIPTION s ON db.rp DESTINATIONS SOME 'x'", "found SOME, expected ALL, ANY at line 1, char 45"),
        ("KILL QUERY x", "found x, expected integer at line 1, char 12"),
        ("SET PASSWORD FOR bob 'x'", "found x, expected = at line 1, char 21"),
        ("SELECT 'unterminated FROM m", "found unterminated FROM m, expected identifier, string, number, bool at line 1, char 7"),
        ("SELECT v FROM m WHERE a = 'bad\\q'", "found \\q, expected identifier, string, number, bool at line 1, char 32"),
    ];
    for (q, want) in cases {
        assert_eq!(err(q), want, "error of {q}");
    }
}

#[test]
fn bound_parameters() {
    let mut p = HashMap::new();
    p.insert("host".to_string(), Param::String("a".into()));
    p.insert("n".to_string(), Param::Integer(5));
    p.insert("f".to_string(), Param::Float(2.5));
    p.insert("m".to_string(), Param::Identifier("cpu load".into()));
    p.insert("re".to_string(), Param::Regex("^s".into()));
    p.insert("d".to_string(), Param::Duration(3_600_000_000_000));
    p.insert("b".to_string(), Param::Bool(true));
    p.insert(
        "bad".to_string(),
        Param::Error("identifier must be a string value".into()),
    );
    let q = parse_query_with_params(
        "SELECT v FROM $m WHERE host = $host AND n > $n AND f < $f AND s =~ $re AND time > now() - $d AND ok = $b",
        &p,
    )
    .unwrap();
    assert_eq!(
        q.to_string(),
        "SELECT v FROM \"cpu load\" WHERE host = 'a' AND n > 5 AND f < 2.500 AND s =~ /^s/ AND time > now() - 1h AND ok = true"
    );
    assert_eq!(
        parse_query_with_params("SELECT v FROM m WHERE a = $bad", &p)
            .unwrap_err()
            .to_string(),
        "identifier must be a string value"
    );
    assert_eq!(
        parse_query_with_params("SELECT v FROM m LIMIT $neg", &{
            let mut p = HashMap::new();
            p.insert("neg".to_string(), Param::Integer(-1));
            p
        })
        .unwrap_err()
        .to_string(),
        "LIMIT must be >= 0 at line 1, char 23"
    );
    assert_eq!(
        parse_query_with_params("SELECT v FROM m WHERE a = $nope", &p)
            .unwrap_err()
            .to_string(),
        "missing parameter: nope"
    );
}

#[test]
fn keywords_and_identifiers_quote_when_needed() {
    assert_eq!(quote_ident("cpu"), "cpu");
    assert_eq!(quote_ident("select"), "\"select\"");
    assert_eq!(quote_ident("1x"), "\"1x\"");
    assert_eq!(quote_ident("a\"b"), "\"a\\\"b\"");
    assert_eq!(quote_ident(""), "\"\"");
    assert_eq!(quote_ident_segments(&["db", "", "m"]), "\"db\"..m");
    assert_eq!(quote_string("it's"), "'it\\'s'");
}

#[test]
fn fuzz_empty_measurement_name_prints_quoted() {
    // Found by the influxql_parse_query fuzz target: `FROM ""` parsed but
    // printed as `FROM ` (as InfluxDB 1.x prints it), which does not parse.
    check(
        r#"SELECT sum(value) FROM "" WHERE time > 0"#,
        r#"SELECT sum(value) FROM "" WHERE time > 0"#,
    );
    check(r#"SELECT * FROM db.rp."""#, r#"SELECT * FROM db.rp."""#);
    check(r#"DELETE FROM """#, r#"DELETE FROM """#);
    check(
        "SELECT * INTO db.rp.:MEASUREMENT FROM /cpu.*/",
        "SELECT * INTO db.rp.:MEASUREMENT FROM /cpu.*/",
    );
}

/// InfluxDB's tree construction (insert `op rhs` by descending the right
/// spine while the operator there binds looser), kept as the reference the
/// parser's chain builder must reproduce.
fn reference_insert(slot: &mut Expr, op: BinaryOp, rhs: Expr) {
    match slot {
        Expr::Binary(b) if b.op.precedence() < op.precedence() => {
            reference_insert(&mut b.rhs, op, rhs)
        }
        _ => {
            let lhs = std::mem::replace(slot, Expr::Nil);
            *slot = Expr::binary(lhs, op, rhs);
        }
    }
}

#[test]
fn m5_short_chains_keep_influxdb_tree_shape() {
    use BinaryOp::*;
    let ops = [
        Add, Sub, Mul, Div, Mod, BitAnd, BitOr, BitXor, And, Or, Eq, Neq, Lt, Lte, Gt, Gte,
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % n
    };
    for _ in 0..2_000 {
        let len = 1 + next(40);
        let leaf = |i: usize| Expr::VarRef(VarRef::new(format!("v{i}")));
        let mut text = "v0".to_string();
        let mut want = leaf(0);
        for i in 1..len {
            let op = ops[next(ops.len())];
            text.push_str(&format!(" {} v{i}", op.as_str()));
            reference_insert(&mut want, op, leaf(i));
        }
        assert_eq!(parse_expr(&text).unwrap(), want, "{text}");
    }
}

#[test]
fn m5_long_and_or_runs_are_balanced_and_print_flat() {
    fn depth(e: &Expr) -> usize {
        match e {
            Expr::Binary(b) => 1 + depth(&b.lhs).max(depth(&b.rhs)),
            Expr::Paren(i) => 1 + depth(i),
            _ => 1,
        }
    }
    let terms: Vec<String> = (0..1000)
        .map(|i| format!("host = 'h{i}' AND v > {i}"))
        .collect();
    let text = terms.join(" OR ");
    let e = parse_expr(&text).unwrap();
    // 1000 OR terms balanced (10 levels), each an AND of two comparisons.
    assert_eq!(depth(&e), 10 + 2 + 1);
    assert_eq!(e.to_string(), text);
    assert_eq!(parse_expr(&e.to_string()).unwrap(), e);
    // Parentheses the user wrote stay.
    let text = format!("({}) AND x = 1", terms[..100].join(" OR "));
    assert_eq!(parse_expr(&text).unwrap().to_string(), text);
}

#[test]
fn m5_deep_arithmetic_is_refused_not_built() {
    let text = vec!["v"; MAX_EXPR_DEPTH + 2].join(" + ");
    let e = parse_query(&format!("SELECT {text} FROM m"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "expression nested too deeply (limit 512) at line 1, char 8"
    );
    let text = vec!["v"; MAX_EXPR_DEPTH].join(" + ");
    assert!(parse_query(&format!("SELECT {text} FROM m")).is_ok());
}

#[test]
fn h3_subquery_nesting_is_limited() {
    let nest = |n: usize| {
        format!(
            "SELECT v FROM {}m{}",
            "(SELECT v FROM ".repeat(n),
            ")".repeat(n)
        )
    };
    assert!(parse_query(&nest(MAX_SUBQUERY_DEPTH)).is_ok());
    let e = parse_query(&nest(MAX_SUBQUERY_DEPTH + 1))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "subqueries nested too deeply (limit 32) at line 1, char {}",
            15 + 15 * MAX_SUBQUERY_DEPTH
        )
    );
    // The count restarts with every statement and every sibling source.
    let two = format!("{}; {}", nest(MAX_SUBQUERY_DEPTH), nest(MAX_SUBQUERY_DEPTH));
    assert!(parse_query(&two).is_ok());
    let siblings = format!(
        "SELECT v FROM {}, {}",
        &nest(MAX_SUBQUERY_DEPTH - 1)["SELECT v FROM ".len()..],
        &nest(MAX_SUBQUERY_DEPTH - 1)["SELECT v FROM ".len()..]
    );
    assert!(parse_query(&siblings).is_ok(), "{siblings}");
}

#[test]
fn h4_passwords_are_redacted_as_influxdb_prints_them() {
    let q = parse_query(
        "CREATE USER admin WITH PASSWORD 's3cret' WITH ALL PRIVILEGES; SET PASSWORD FOR \"b b\" = 'x\\'y'; CREATE USER c WITH PASSWORD 'z'",
    )
    .unwrap();
    assert_eq!(
        q.to_string(),
        "CREATE USER admin WITH PASSWORD [REDACTED] WITH ALL PRIVILEGES;\nSET PASSWORD FOR \"b b\" = [REDACTED];\nCREATE USER c WITH PASSWORD [REDACTED]"
    );
    assert!(!format!("{}", q.statements[1]).contains('x'));
    // The explicit unredacted text parses back to the same statements.
    let text = q.unredacted().to_string();
    assert!(text.contains("'s3cret'"), "{text}");
    assert_eq!(parse_query(&text).unwrap(), q);
    // Other statements print the same either way.
    let s = parse_statement("DROP USER bob").unwrap();
    assert_eq!(s.unredacted().to_string(), s.to_string());
}
