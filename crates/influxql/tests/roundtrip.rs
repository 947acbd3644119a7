//! Property tests: generated queries parse, print, and reparse to an equal AST
//! (the printed text is a fixed point); arbitrary input never panics.

#![allow(clippy::unwrap_used)]

use influxql::{parse_expr, parse_query};
use proptest::prelude::*;

fn ident() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "cpu",
        "value",
        "host",
        "\"my field\"",
        "\"select\"",
        "_x",
        "a1",
        "\"a.b\"",
        "Time",
        "\"with \\\"quote\\\"\"",
    ])
    .prop_map(str::to_string)
}

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..100_000).prop_map(|i| i.to_string()),
        (0u32..100_000, 1u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
        "[a-z ']{0,6}".prop_map(|s| format!("'{}'", s.replace('\'', "\\'"))),
        prop::sample::select(vec!["10m", "1h30m", "5s", "100ms", "7u", "3d", "2w", "1ns"])
            .prop_map(str::to_string),
        prop::sample::select(vec!["true", "FALSE"]).prop_map(str::to_string),
        Just("now()".to_string()),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![ident(), literal()];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec!["+", "-", "*", "/", "%", "&", "|", "^"]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            (
                prop::sample::select(vec!["mean", "MAX", "derivative", "top"]),
                prop::collection::vec(inner, 1..3)
            )
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
        ]
    })
}

fn condition() -> impl Strategy<Value = String> {
    let cmp = prop_oneof![
        (
            expr(),
            prop::sample::select(vec!["=", "!=", "<>", "<", "<=", ">", ">="]),
            expr()
        )
            .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        (
            ident(),
            prop::sample::select(vec!["=~", "!~"]),
            "\\^?[a-z]{1,5}(\\.\\*)?\\$?"
        )
            .prop_map(|(a, op, re)| format!("{a} {op} /{re}/")),
    ];
    cmp.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec!["AND", "or"]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

fn select() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((expr(), prop::option::of(ident())), 1..4),
        prop::sample::select(vec![
            "cpu",
            "db.rp.cpu",
            "db..cpu",
            "/c.*/",
            "rp./m/",
            "\"a b\", mem",
        ]),
        prop::option::of(condition()),
        prop::option::of(prop::sample::select(vec![
            "GROUP BY time(10m)",
            "GROUP BY time(1h, 5m), host",
            "GROUP BY *",
            "GROUP BY /h/",
        ])),
        prop::option::of(prop::sample::select(vec![
            "fill(none)",
            "fill(0)",
            "fill(2.5)",
            "fill(previous)",
            "fill(linear)",
        ])),
        prop::option::of(prop::sample::select(vec![
            "ORDER BY time DESC",
            "ORDER BY DESC",
            "ORDER BY time ASC",
        ])),
        prop::option::of((1u32..100, 0u32..5)),
    )
        .prop_map(|(fields, from, cond, group, fill, order, limit)| {
            let fields: Vec<String> = fields
                .into_iter()
                .map(|(e, a)| match a {
                    Some(a) => format!("{e} AS {a}"),
                    None => e,
                })
                .collect();
            let mut q = format!("SELECT {} FROM {from}", fields.join(", "));
            if let Some(c) = cond {
                q.push_str(&format!(" WHERE {c}"));
            }
            if let Some(g) = group {
                q.push_str(&format!(" {g}"));
            }
            if let Some(f) = fill {
                q.push_str(&format!(" {f}"));
            }
            if let Some(o) = order {
                q.push_str(&format!(" {o}"));
            }
            if let Some((l, o)) = limit {
                q.push_str(&format!(" LIMIT {l} OFFSET {o} SLIMIT {l} SOFFSET {o}"));
            }
            q
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn select_round_trips(q in select()) {
        let ast = parse_query(&q).map_err(|e| TestCaseError::fail(format!("{q}: {e}")))?;
        let printed = ast.to_string();
        let again = parse_query(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        prop_assert_eq!(&again, &ast, "{} -> {}", q, printed);
        prop_assert_eq!(again.to_string(), printed);
    }

    #[test]
    fn subquery_round_trips(inner in select(), cond in condition()) {
        let q = format!("SELECT max(value) FROM ({inner}) WHERE {cond}");
        let ast = parse_query(&q).map_err(|e| TestCaseError::fail(format!("{q}: {e}")))?;
        let printed = ast.to_string();
        prop_assert_eq!(parse_query(&printed).unwrap(), ast);
    }

    #[test]
    fn expr_round_trips(e in condition()) {
        let ast = parse_expr(&e).map_err(|err| TestCaseError::fail(format!("{e}: {err}")))?;
        let printed = ast.to_string();
        prop_assert_eq!(parse_expr(&printed).unwrap(), ast);
    }

    #[test]
    fn arbitrary_input_never_panics(s in "\\PC{0,80}") {
        let _ = parse_query(&s);
    }

    #[test]
    fn keyword_soup_never_panics(words in prop::collection::vec(prop::sample::select(vec![
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "SHOW", "CREATE", "DROP", "TAG", "KEYS", "VALUES",
        "WITH", "KEY", "=", "=~", "/x/", "(", ")", ",", ";", "*", "::", ":", ".", "1h", "10", "1.5",
        "'s'", "\"q\"", "cpu", "time", "now()", "INTO", "ON", "LIMIT", "fill(", "tz(", "$p", "--",
        "/*", "*/", "DATABASE", "RETENTION", "POLICY", "CONTINUOUS", "QUERY", "BEGIN", "END",
    ]), 0..20)) {
        let _ = parse_query(&words.join(" "));
    }
}
