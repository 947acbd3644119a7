//! `column` output: name/tags header lines, aligned columns with a dashes
//! line, blank lines between results, messages first. Pure text rendering.

use super::tabwriter::TabWriter;
use super::{result_lines, HeaderTracker};
use crate::response::Response;

/// Renders a response the way `format column` does.
pub fn render(resp: &Response) -> String {
    // Messages are written straight to the output while the tab writer
    // buffers, so they come before the whole table (as with the Go CLI).
    let mut messages = String::new();
    let mut tw = TabWriter::new(0, 1);
    let mut tracker = HeaderTracker::default();
    for (i, result) in resp.results.iter().enumerate() {
        for m in &result.messages {
            messages.push_str(&format!("{}: {}.\n", m.level, m.text));
        }
        let suppress = tracker.suppress(result);
        if !suppress && i > 0 {
            tw.line("");
        }
        for line in result_lines(result, false, suppress) {
            tw.line(&line);
        }
    }
    messages + &tw.finish()
}
