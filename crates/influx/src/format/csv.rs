//! `csv` output: a `name,tags,...` header per new series shape, one record
//! per value row, quoting like Go's `encoding/csv`. Pure text rendering.

use super::{result_lines, HeaderTracker};
use crate::response::Response;

/// Whether Go's csv writer would quote this field (separator `,`).
fn needs_quotes(field: &str) -> bool {
    if field.is_empty() {
        return false;
    }
    if field == "\\." {
        return true;
    }
    if field.contains([',', '"', '\r', '\n']) {
        return true;
    }
    field.chars().next().is_some_and(char::is_whitespace)
}

fn write_record(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if needs_quotes(f) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push('\n');
}

/// Renders a response the way `format csv` does.
pub fn render(resp: &Response) -> String {
    let mut out = String::new();
    let mut tracker = HeaderTracker::default();
    for result in &resp.results {
        let suppress = tracker.suppress(result);
        for line in result_lines(result, true, suppress) {
            let fields: Vec<&str> = line.split('\t').collect();
            write_record(&mut out, &fields);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_rules() {
        let mut s = String::new();
        write_record(&mut s, &["a", "b,c", "say \"hi\"", " lead", "", "\\."]);
        assert_eq!(s, "a,\"b,c\",\"say \"\"hi\"\"\",\" lead\",,\"\\.\"\n");
    }
}
