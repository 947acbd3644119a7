//! EXPLAIN and EXPLAIN ANALYZE answers in InfluxDB 1.x's layout: the plan
//! lines (`EXPRESSION: ...`, `NUMBER OF SHARDS: ...`) and the analyze tree
//! (`└── select`, `├── execution_time: ...`). The numbers are Tidemark's own
//! (its files, blocks and timings).
//!
//! Owns: the text layout. Must not: gather the numbers (see
//! [`crate::select::explain`]).

use crate::select::{IteratorPlan, ShardPlan};
use models::FieldType;
use std::time::Duration;

/// EXPLAIN's rows: one block of lines per iterator, blank lines between;
/// a single empty line when nothing would be read.
pub fn plan_lines(iters: &[IteratorPlan]) -> Vec<String> {
    if iters.is_empty() {
        return vec![String::new()];
    }
    let mut lines = Vec::new();
    for (i, it) in iters.iter().enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        lines.push(format!(
            "EXPRESSION: {}",
            it.expr.as_deref().unwrap_or("<nil>")
        ));
        if !it.aux.is_empty() {
            lines.push(format!("AUXILIARY FIELDS: {}", it.aux.join(", ")));
        }
        let sum = |f: &dyn Fn(&ShardPlan) -> u64| it.shards.iter().map(f).sum::<u64>();
        let stat = |f: &dyn Fn(&crate::storage::ReadStats) -> u64| {
            sum(&|s: &ShardPlan| s.stats.iter().map(|(_, st)| f(st)).sum())
        };
        lines.push(format!("NUMBER OF SHARDS: {}", it.shards.len()));
        lines.push(format!("NUMBER OF SERIES: {}", sum(&|s| s.series)));
        lines.push(format!("CACHED VALUES: {}", stat(&|st| st.cached)));
        lines.push(format!("NUMBER OF FILES: {}", stat(&|st| st.files)));
        lines.push(format!("NUMBER OF BLOCKS: {}", stat(&|st| st.blocks)));
        lines.push(format!("SIZE OF BLOCKS: {}", stat(&|st| st.block_bytes)));
    }
    lines
}

/// A labelled tree node.
struct Node {
    label: String,
    children: Vec<Node>,
}

impl Node {
    fn new(label: impl Into<String>) -> Node {
        Node {
            label: label.into(),
            children: Vec::new(),
        }
    }

    fn with(mut self, child: Node) -> Node {
        self.children.push(child);
        self
    }

    fn leaf(self, label: impl Into<String>) -> Node {
        self.with(Node::new(label))
    }

    fn render(&self, prefix: &str, out: &mut Vec<String>) {
        for (i, c) in self.children.iter().enumerate() {
            let last = i + 1 == self.children.len();
            out.push(format!(
                "{prefix}{}{}",
                if last { "└── " } else { "├── " },
                c.label
            ));
            // InfluxDB continues a branch with two no-break spaces.
            c.render(
                &format!("{prefix}{}", if last { "    " } else { "│\u{a0}\u{a0} " }),
                out,
            );
        }
    }
}

fn labels(pairs: &[(&str, String)]) -> Node {
    pairs
        .iter()
        .fold(Node::new("labels"), |n, (k, v)| n.leaf(format!("{k}: {v}")))
}

/// EXPLAIN ANALYZE's rows: the statement's times, then per iterator and
/// shard the cursors it opened and the blocks it read, by type.
pub fn analyze_tree(
    statement: &str,
    iters: &[IteratorPlan],
    planning: Duration,
    execution: Duration,
) -> Vec<String> {
    let d = models::go_duration::format;
    let mut cursor =
        Node::new("build_cursor").with(labels(&[("statement", statement.to_string())]));
    for it in iters {
        let label = match &it.expr {
            Some(e) => ("expr", e.clone()),
            None => ("auxiliary_fields", it.aux.join(", ")),
        };
        let mut scanner = Node::new("iterator_scanner").with(labels(&[label]));
        for s in &it.shards {
            let mut l = Vec::new();
            if let Some(c) = &s.cond {
                l.push(("cond", c.clone()));
            }
            l.push(("measurement", s.measurement.clone()));
            l.push(("shard_id", s.shard_id.to_string()));
            let mut node = Node::new("create_iterator")
                .with(labels(&l))
                .leaf(format!("cursors_ref: {}", s.cursors_ref))
                .leaf(format!("cursors_aux: {}", s.cursors_aux))
                .leaf(format!("cursors_cond: {}", s.cursors_cond));
            for (t, name) in [
                (FieldType::Float, "float"),
                (FieldType::Integer, "integer"),
                (FieldType::Unsigned, "unsigned"),
                (FieldType::String, "string"),
                (FieldType::Boolean, "boolean"),
            ] {
                let st = s
                    .stats
                    .iter()
                    .find(|(k, _)| *k == t)
                    .map(|(_, st)| *st)
                    .unwrap_or_default();
                node = node
                    .leaf(format!("{name}_blocks_decoded: {}", st.blocks))
                    .leaf(format!("{name}_blocks_size_bytes: {}", st.block_bytes));
            }
            node = node.leaf(format!("planning_time: {}", d(s.planning)));
            scanner = scanner.with(node);
        }
        cursor = cursor.with(scanner);
    }
    let root = Node::new(".").with(
        Node::new("select")
            .leaf(format!("execution_time: {}", d(execution)))
            .leaf(format!("planning_time: {}", d(planning)))
            .leaf(format!("total_time: {}", d(planning + execution)))
            .with(cursor),
    );
    let mut out = vec![root.label.clone()];
    root.render("", &mut out);
    out.push(String::new());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_draw_like_influxdb() {
        let it = IteratorPlan {
            expr: Some("mean(usage::float)".into()),
            aux: vec![],
            shards: vec![ShardPlan {
                shard_id: 15,
                measurement: "cpu".into(),
                cond: Some("host::tag = 'a'".into()),
                series: 1,
                cursors_ref: 1,
                cursors_aux: 0,
                cursors_cond: 0,
                stats: vec![],
                planning: Duration::from_micros(137),
            }],
        };
        let lines = analyze_tree(
            "SELECT mean(usage::float) FROM db.autogen.cpu",
            &[it],
            Duration::from_micros(238),
            Duration::from_micros(25),
        );
        assert_eq!(lines[0], ".");
        assert_eq!(lines[1], "└── select");
        assert_eq!(lines[2], "    ├── execution_time: 25µs");
        assert_eq!(lines[5], "    └── build_cursor");
        assert_eq!(lines[6], "        ├── labels");
        assert_eq!(
            lines[7],
            "        │\u{a0}\u{a0} └── statement: SELECT mean(usage::float) FROM db.autogen.cpu"
        );
        assert_eq!(lines[8], "        └── iterator_scanner");
        assert_eq!(lines[12], "                ├── labels");
        assert_eq!(
            lines[13],
            "                │\u{a0}\u{a0} ├── cond: host::tag = 'a'"
        );
        let n = lines.len();
        assert_eq!(lines[n - 2], "                └── planning_time: 137µs");
        assert_eq!(lines[n - 1], "");
    }

    #[test]
    fn an_empty_plan_is_one_blank_line() {
        assert_eq!(plan_lines(&[]), vec![String::new()]);
    }
}
