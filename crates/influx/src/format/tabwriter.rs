//! An elastic-tabstop text aligner with the semantics of Go's
//! `text/tabwriter` as the 1.x CLI configures it (space padding, no flags).
//!
//! Cells are tab-terminated; the text after a line's last tab is not part of a
//! column. A column block is a run of consecutive lines that all have a cell
//! in that column; its width is the widest cell (in characters) plus
//! `padding`, at least `minwidth`. Owns only text layout.

/// Accumulates lines and lays them out on [`TabWriter::finish`].
#[derive(Debug, Default)]
pub struct TabWriter {
    minwidth: usize,
    padding: usize,
    lines: Vec<Vec<String>>,
}

impl TabWriter {
    /// A writer with the given minimum cell width and padding.
    pub fn new(minwidth: usize, padding: usize) -> Self {
        TabWriter {
            minwidth,
            padding,
            lines: Vec::new(),
        }
    }

    /// Adds one line (without its newline); tabs separate cells.
    pub fn line(&mut self, text: &str) {
        self.lines
            .push(text.split('\t').map(str::to_string).collect());
    }

    /// Lays out all lines, each followed by `\n`.
    pub fn finish(self) -> String {
        let mut out = String::new();
        let mut widths = Vec::new();
        self.format(&mut out, &mut widths, 0, self.lines.len());
        out
    }

    fn format(&self, out: &mut String, widths: &mut Vec<usize>, line0: usize, line1: usize) {
        let column = widths.len();
        let mut start = line0;
        let mut this = line0;
        while this < line1 {
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            // A cell exists in this column: print the lines before the block.
            self.write_lines(out, widths, start, this);
            start = this;
            let mut width = self.minwidth;
            while this < line1 && column + 1 < self.lines[this].len() {
                let w = self.lines[this][column].chars().count() + self.padding;
                width = width.max(w);
                this += 1;
            }
            widths.push(width);
            self.format(out, widths, start, this);
            widths.pop();
            start = this;
        }
        self.write_lines(out, widths, start, line1);
    }

    fn write_lines(&self, out: &mut String, widths: &[usize], line0: usize, line1: usize) {
        for line in &self.lines[line0..line1] {
            for (j, cell) in line.iter().enumerate() {
                out.push_str(cell);
                if j < widths.len() {
                    let w = cell.chars().count();
                    for _ in w..widths[j] {
                        out.push(' ');
                    }
                }
            }
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lay(lines: &[&str]) -> String {
        let mut w = TabWriter::new(0, 1);
        for l in lines {
            w.line(l);
        }
        w.finish()
    }

    #[test]
    fn aligns_columns_and_leaves_last_cell_unpadded() {
        assert_eq!(
            lay(&["time\tvalue", "----\t-----", "10\t1"]),
            "time value\n---- -----\n10   1\n"
        );
    }

    #[test]
    fn line_without_tab_ends_the_block() {
        assert_eq!(
            lay(&["a\tb", "long\tc", "name: x", "z\ty"]),
            "a    b\nlong c\nname: x\nz y\n"
        );
    }

    #[test]
    fn empty_last_cell_keeps_padding_of_previous() {
        assert_eq!(lay(&["ab\t\t1\t", "c\td\te\tf"]), "ab   1 \nc  d e f\n");
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(lay(&["é\tx", "ab\ty"]), "é  x\nab y\n");
    }
}
