//! Deep expressions: long OR chains (Grafana-style) parse, print and drop on a
//! 2 MiB thread stack (tokio's default), and pathological nesting is refused
//! instead of overflowing the stack.

#![allow(clippy::unwrap_used)]

use influxql::parse_query;

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn long_or_chain() {
    on_small_stack(|| {
        let terms: Vec<String> = (0..N).map(|i| format!("host = 'h{i}'")).collect();
        let q = format!("SELECT v FROM m WHERE {}", terms.join(" OR "));
        let ast = parse_query(&q).unwrap();
        let text = ast.to_string();
        assert_eq!(text, q);
        drop(ast);
    });
}

const N: usize = 10_000;

#[test]
fn nesting_is_bounded() {
    on_small_stack(|| {
        let q = format!("SELECT {}v{} FROM m", "(".repeat(100), ")".repeat(100));
        let ast = parse_query(&q).unwrap();
        assert_eq!(ast.to_string(), q);
        let q = format!("SELECT {}v{} FROM m", "abs(".repeat(100), ")".repeat(100));
        assert!(parse_query(&q).is_ok());
        let q = format!(
            "SELECT {}v{} FROM m",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let e = parse_query(&q).unwrap_err().to_string();
        assert!(
            e.starts_with("expression nested too deeply (limit 256)"),
            "{e}"
        );
        let q = format!("SELECT {}1 FROM m", "-".repeat(100_000));
        assert!(parse_query(&q).is_err());
        let terms: Vec<String> = (0..15_000).map(|i| format!("a = {i}")).collect();
        let q = format!("SELECT v FROM m WHERE {}", terms.join(" OR "));
        let e = parse_query(&q).unwrap_err().to_string();
        assert!(
            e.starts_with("too many operators in statement (limit 20000)"),
            "{e}"
        );
    });
}

/// The deepest statement the parser accepts: 32 nested subqueries around
/// an expression 512 levels deep (255 parentheses around an arithmetic
/// chain) and a 9,000-term condition.
fn deepest_accepted() -> String {
    let inner_expr = format!(
        "{}{}{}",
        "(".repeat(255),
        vec!["v"; 512 - 256].join(" + "),
        ")".repeat(255)
    );
    // 9,000 terms: with the chain above, just under the operator cap.
    let terms: Vec<String> = (0..9_000).map(|i| format!("host = 'h{i}'")).collect();
    let mut q = format!(
        "SELECT {inner_expr} AS v FROM m WHERE {}",
        terms.join(" OR ")
    );
    for _ in 0..32 {
        q = format!("SELECT v FROM ({q})");
    }
    q
}

#[test]
fn h3_m5_deepest_accepted_statement_fits_a_small_stack() {
    on_small_stack(|| {
        let q = deepest_accepted();
        let ast = parse_query(&q).unwrap();
        let text = ast.to_string();
        assert_eq!(text, q);
        let copy = ast.clone();
        assert_eq!(copy, ast);
        assert!(!format!("{ast:?}").is_empty());
        drop(copy);
        drop(ast);
        // One level more of either kind is refused.
        let e = parse_query(&format!("SELECT v FROM ({q})")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("subqueries nested too deeply (limit 32)"),
            "{e}"
        );
        let deeper = q.replacen("(((", "((((", 1).replacen(")))", "))))", 1);
        assert!(parse_query(&deeper).is_err());
    });
}

#[test]
fn m5_operator_cap_of_arithmetic_is_refused_without_overflow() {
    on_small_stack(|| {
        // 20,000 operators (the cap) of arithmetic: a 20,000-deep chain
        // that is never built.
        let q = format!("SELECT {} FROM m", vec!["v"; 20_001].join(" + "));
        let e = parse_query(&q).unwrap_err().to_string();
        assert!(
            e.starts_with("expression nested too deeply (limit 512)"),
            "{e}"
        );
        // A syntax error after a long chain drops nothing deep either.
        let q = format!("SELECT {} FROM m WHERE (", vec!["v"; 19_000].join(" - "));
        assert!(parse_query(&q).is_err());
        let terms: Vec<String> = (0..19_000).map(|i| format!("a = {i}")).collect();
        let q = format!("SELECT v FROM m WHERE {} AND", terms.join(" OR "));
        assert!(parse_query(&q).is_err());
    });
}
