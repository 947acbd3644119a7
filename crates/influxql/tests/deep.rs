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
