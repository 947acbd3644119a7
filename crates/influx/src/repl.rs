//! The interactive shell: line editing, persistent history in
//! `~/.influx_history`, the welcome text and the `> ` prompt loop.
//!
//! Owns only terminal interaction; every line is handed to
//! [`CommandLine::parse_command`]. It must not interpret commands itself.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use rustyline::error::ReadlineError;
use rustyline::history::MemHistory;
use rustyline::{Config, Editor};

use crate::commands::{CommandError, CommandLine, Prompter, CLIENT_VERSION};

/// Replaces password literals (`WITH PASSWORD '...'`, `SET PASSWORD ... =
/// '...'`) by `[REDACTED]` before a line goes to the history.
pub fn sanitize(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let mut out = String::new();
    let mut pos = 0;
    while let Some(rel) = lower[pos..].find("password") {
        let kw_end = pos + rel + "password".len();
        let Some(q_rel) = line[kw_end..].find('\'') else {
            break;
        };
        let q_start = kw_end + q_rel;
        // Only a quote reached through blanks, `FOR user` and `=` counts.
        let between = &line[kw_end..q_start];
        if between.contains([';', '(', ')']) {
            out.push_str(&line[pos..kw_end]);
            pos = kw_end;
            continue;
        }
        let mut end = q_start + 1;
        let bytes = line.as_bytes();
        while end < bytes.len() {
            if bytes[end] == b'\\' {
                end += 2;
                continue;
            }
            if bytes[end] == b'\'' {
                break;
            }
            end += 1;
        }
        out.push_str(&line[pos..q_start]);
        out.push_str("[REDACTED]");
        pos = (end + 1).min(line.len());
    }
    out.push_str(&line[pos..]);
    out
}

struct EditorPrompter<'a> {
    editor: &'a mut Editor<(), MemHistory>,
    entries: &'a [String],
}

impl Prompter for EditorPrompter<'_> {
    fn prompt(&mut self, prompt: &str) -> Option<String> {
        self.editor.readline(prompt).ok()
    }

    fn password(&mut self, prompt: &str) -> Option<String> {
        rpassword::prompt_password(prompt).ok()
    }

    fn history(&self) -> Vec<String> {
        self.entries.to_vec()
    }
}

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".influx_history"))
}

/// Most history entries kept, like the Go shell's line editor.
const HISTORY_LIMIT: usize = 1000;

/// Writes the history as plain lines (the format the Go shell reads too).
fn save_history(path: &std::path::Path, entries: &[String]) -> std::io::Result<()> {
    let skip = entries.len().saturating_sub(HISTORY_LIMIT);
    let mut text = String::new();
    for e in &entries[skip..] {
        text.push_str(e);
        text.push('\n');
    }
    std::fs::write(path, text)
}

/// Runs the interactive loop until `exit`, `quit` or Ctrl-D.
pub fn run(cl: &mut CommandLine, addr: &str) -> crate::error::Result<()> {
    let config = Config::builder().auto_add_history(false).build();
    let mut editor: Editor<(), MemHistory> = Editor::with_history(config, MemHistory::new())
        .map_err(|e| crate::error::Error::Usage(e.to_string()))?;
    if cl.server_version.is_empty() {
        println!("WARN: Connected to {addr}, but found no server version.");
        println!("Are you sure an InfluxDB server is listening at the given address?");
    } else {
        println!("Connected to {addr} version {}", cl.server_version);
    }
    println!("InfluxDB shell version: {CLIENT_VERSION}");
    // Ctrl-C while a query runs aborts that query, not the shell.
    let interrupted = Arc::new(AtomicBool::new(false));
    if signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted)).is_ok() {
        cl.set_interrupt_flag(interrupted);
    }
    let history = history_path();
    let mut entries: Vec<String> = Vec::new();
    if let Some(p) = &history {
        if let Ok(text) = std::fs::read_to_string(p) {
            for line in text.lines().filter(|l| !l.is_empty()) {
                let _ = editor.add_history_entry(line);
                entries.push(line.to_string());
            }
        }
    }
    loop {
        let line = match editor.readline("> ") {
            Ok(l) => l,
            Err(ReadlineError::Eof) => "exit".to_string(),
            // Ctrl-C at the prompt just drops the line being typed.
            Err(ReadlineError::Interrupted) => continue,
            Err(e) => return Err(crate::error::Error::Usage(e.to_string())),
        };
        let result = {
            let mut p = EditorPrompter {
                editor: &mut editor,
                entries: &entries,
            };
            cl.parse_command(&line, Some(&mut p))
        };
        if !matches!(result, Err(CommandError::Blank)) && !line.trim().starts_with("auth") {
            let clean = sanitize(&line);
            let _ = editor.add_history_entry(clean.as_str());
            entries.push(clean);
            if entries.len() > HISTORY_LIMIT {
                entries.remove(0);
            }
            if let Some(p) = &history {
                if let Err(e) = save_history(p, &entries) {
                    println!("There was an error writing history file: {e}");
                }
            }
        }
        if cl.quit {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            sanitize("create user bob with password 'secret'"),
            "create user bob with password [REDACTED]"
        );
        assert_eq!(
            sanitize("SET PASSWORD FOR bob = 'x\\'y'; show users"),
            "SET PASSWORD FOR bob = [REDACTED]; show users"
        );
        assert_eq!(sanitize("select * from cpu"), "select * from cpu");
    }
}
