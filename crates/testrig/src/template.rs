//! `{{name}}` placeholder substitution for config files and command lines.
//! Owns only the syntax; which names exist is decided by the caller's lookup
//! (see `node` and `cluster` for the names they provide). An unknown name is
//! an error, never silently left in the output.

use crate::{Error, Result};

/// Replaces every `{{name}}` in `template` with `lookup(name)` (the name is
/// trimmed). Single braces pass through untouched, so TOML inline tables work.
pub fn render(template: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| Error::Template(format!("unclosed '{{{{' in {:?}", clip(rest))))?;
        let name = after[..end].trim();
        let value = lookup(name)
            .ok_or_else(|| Error::Template(format!("unknown placeholder {{{{{name}}}}}")))?;
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "port.http" => Some("8086".into()),
            "dir" => Some("/tmp/x".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_and_keeps_single_braces() {
        let s = render(
            "a = { b = 1 }\nbind = \"127.0.0.1:{{ port.http }}\"\ndir = \"{{dir}}\"",
            &vars,
        )
        .unwrap();
        assert_eq!(
            s,
            "a = { b = 1 }\nbind = \"127.0.0.1:8086\"\ndir = \"/tmp/x\""
        );
    }

    #[test]
    fn unknown_and_unclosed_are_errors() {
        let e = render("{{nope}}", &vars).unwrap_err();
        assert!(e.to_string().contains("{{nope}}"), "{e}");
        assert!(render("x {{dir", &vars).is_err());
    }
}
