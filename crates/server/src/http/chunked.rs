//! `chunked=true` answers: turns the executor's fragments into JSON lines
//! of at most `chunk_size` rows with InfluxDB's `partial` flags — a series
//! continuing in the next line is `"partial": true`, and so is every line
//! but the last of a statement. Lines leave as soon as they are full, so a
//! streamed statement never holds more than a chunk and a slice in memory.
//!
//! Owns: chunk boundaries and flags. Must not: execute or do I/O (lines go
//! to a callback).

use query::result::{Series, StatementResult, TimeFormat};
use query::Fragment;

/// Cuts fragments into lines.
pub struct Chunker<F: FnMut(Vec<u8>) -> bool> {
    size: usize,
    tf: TimeFormat,
    pretty: bool,
    /// Receives each encoded line; false stops the query.
    out: F,
    /// The series being filled, with its statement: rows are held back
    /// until more than a chunk is known, so the last line of a series is
    /// never a full one marked partial.
    current: Option<(usize, Series)>,
}

impl<F: FnMut(Vec<u8>) -> bool> Chunker<F> {
    pub fn new(size: usize, tf: TimeFormat, pretty: bool, out: F) -> Self {
        Chunker {
            size: size.max(1),
            tf,
            pretty,
            out,
            current: None,
        }
    }

    /// Takes one fragment; false when the receiver went away.
    pub fn push(&mut self, f: Fragment) -> bool {
        let Fragment { result, done } = f;
        let id = result.statement_id;
        if result.error.is_some() {
            // What was streamed stays; the error closes the statement.
            if let Some((sid, s)) = self.current.take() {
                if !s.values.is_empty() && !self.line(sid, s, true, vec![], true) {
                    return false;
                }
            }
            return self.send(result);
        }
        let n = result.series.len();
        let mut messages = Some(result.messages);
        for (k, s) in result.series.into_iter().enumerate() {
            let last = k + 1 == n;
            let same = matches!(&self.current, Some((sid, c))
                if *sid == id && c.name == s.name && c.tags == s.tags && c.columns == s.columns);
            if same {
                if let Some((_, c)) = self.current.as_mut() {
                    c.values.extend(s.values);
                }
            } else {
                if !self.finish_current(false, &mut None) {
                    return false;
                }
                self.current = Some((id, s));
            }
            if !self.flush_full() {
                return false;
            }
            if !last || done {
                let stmt_done = last && done;
                let mut m = if stmt_done { messages.take() } else { None };
                if !self.finish_current(stmt_done, &mut m) {
                    return false;
                }
            }
        }
        if done && n == 0 {
            // Nothing (more) to show: the statement still answers once.
            if self.current.is_some() {
                let mut m = messages.take();
                return self.finish_current(true, &mut m);
            }
            return self.send(StatementResult {
                statement_id: id,
                messages: messages.take().unwrap_or_default(),
                ..Default::default()
            });
        }
        true
    }

    /// Sends full chunks while more than a chunk is buffered.
    fn flush_full(&mut self) -> bool {
        loop {
            let Some((sid, c)) = self.current.as_mut() else {
                return true;
            };
            if c.values.len() <= self.size {
                return true;
            }
            let rest = c.values.split_off(self.size);
            let full = Series {
                values: std::mem::replace(&mut c.values, rest),
                ..head_of(c)
            };
            let sid = *sid;
            if !self.line(sid, full, true, vec![], true) {
                return false;
            }
        }
    }

    /// Sends the buffered series as its last line.
    fn finish_current(
        &mut self,
        stmt_done: bool,
        messages: &mut Option<Vec<query::result::Message>>,
    ) -> bool {
        let Some((sid, s)) = self.current.take() else {
            return true;
        };
        self.line(
            sid,
            s,
            false,
            messages.take().unwrap_or_default(),
            !stmt_done,
        )
    }

    fn line(
        &mut self,
        id: usize,
        mut s: Series,
        series_partial: bool,
        messages: Vec<query::result::Message>,
        partial: bool,
    ) -> bool {
        s.partial = series_partial;
        self.send(StatementResult {
            statement_id: id,
            series: vec![s],
            messages,
            error: None,
            partial,
        })
    }

    fn send(&mut self, r: StatementResult) -> bool {
        let line = super::query::encode_json(
            &super::query::Results(std::slice::from_ref(&r), self.tf),
            self.pretty,
        );
        (self.out)(line)
    }
}

/// The series without its rows.
fn head_of(s: &Series) -> Series {
    Series {
        name: s.name.clone(),
        tags: s.tags.clone(),
        columns: s.columns.clone(),
        values: Vec::new(),
        partial: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use query::result::Value;

    fn series(name: &str, rows: std::ops::Range<i64>) -> Series {
        Series {
            name: name.into(),
            columns: vec!["time".into(), "v".into()],
            values: rows
                .map(|i| vec![Value::Time(i), Value::Integer(i)])
                .collect(),
            ..Default::default()
        }
    }

    fn result(id: usize, series: Vec<Series>) -> StatementResult {
        StatementResult {
            statement_id: id,
            series,
            ..Default::default()
        }
    }

    /// The cuts of whole answers, written independently of the Chunker
    /// (the algorithm `chunked=true` used before streaming): pieces of
    /// `size` rows per series, partial unless last.
    fn reference(results: &[StatementResult], size: usize) -> String {
        let tf = TimeFormat::Epoch(models::Precision::Second);
        let mut out = Vec::new();
        for r in results {
            if r.series.is_empty() {
                out.extend(super::super::query::encode_json(
                    &super::super::query::Results(std::slice::from_ref(r), tf),
                    false,
                ));
                continue;
            }
            for (si, s) in r.series.iter().enumerate() {
                let mut start = 0;
                while start < s.values.len().max(1) {
                    let end = (start + size).min(s.values.len());
                    let mut piece = s.clone();
                    piece.values = s.values[start..end].to_vec();
                    piece.partial = end < s.values.len();
                    let last = si + 1 == r.series.len() && !piece.partial;
                    let line = StatementResult {
                        statement_id: r.statement_id,
                        series: vec![piece],
                        messages: if last { r.messages.clone() } else { vec![] },
                        error: None,
                        partial: !last,
                    };
                    out.extend(super::super::query::encode_json(
                        &super::super::query::Results(std::slice::from_ref(&line), tf),
                        false,
                    ));
                    start = end.max(start + 1);
                }
            }
        }
        String::from_utf8(out).unwrap()
    }

    fn run(size: usize, fragments: Vec<Fragment>) -> String {
        let mut out = Vec::new();
        {
            let mut c = Chunker::new(
                size,
                TimeFormat::Epoch(models::Precision::Second),
                false,
                |l| {
                    out.extend(l);
                    true
                },
            );
            for f in fragments {
                assert!(c.push(f));
            }
        }
        String::from_utf8(out).unwrap()
    }

    /// A series streamed in uneven pieces is cut exactly like the whole
    /// answer: same lines, same partial flags, whatever the chunk size.
    #[test]
    fn streamed_pieces_cut_like_the_whole_answer() {
        for size in [1, 2, 3, 7, 10, 100] {
            let whole = vec![
                result(0, vec![series("cpu", 0..10)]),
                result(1, vec![]),
                result(2, vec![series("a", 0..3), series("b", 3..5)]),
            ];
            let expected = reference(&whole, size);
            let f = |r, done| Fragment { result: r, done };
            let streamed = vec![
                f(result(0, vec![series("cpu", 0..1)]), false),
                f(result(0, vec![series("cpu", 1..5)]), false),
                f(result(0, vec![series("cpu", 5..10)]), false),
                f(result(0, vec![]), true),
                f(result(1, vec![]), true),
                f(result(2, vec![series("a", 0..3), series("b", 3..5)]), true),
            ];
            assert_eq!(run(size, streamed), expected, "chunk size {size}");
        }
    }

    #[test]
    fn an_error_after_streamed_rows_closes_the_statement() {
        let f = |r, done| Fragment { result: r, done };
        let text = run(
            2,
            vec![
                f(result(0, vec![series("cpu", 0..3)]), false),
                f(StatementResult::error(0, "query killed"), true),
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[1].contains(r#""partial":true"#), "{text}");
        assert_eq!(
            lines[2],
            r#"{"results":[{"statement_id":0,"error":"query killed"}]}"#
        );
    }
}
