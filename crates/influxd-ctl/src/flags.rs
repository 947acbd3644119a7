//! Go-style flag parsing (`-name value`, `-name=value`, `--name`, bare
//! booleans), stopping at the first non-flag argument. No I/O.

use crate::{CtlError, Result};

/// Flags a command accepts: names taking a value, and boolean names.
pub struct Spec<'a> {
    pub values: &'a [&'a str],
    pub bools: &'a [&'a str],
}

/// Parsed flags plus the remaining positional arguments.
#[derive(Debug, Default)]
pub struct Parsed {
    pub values: Vec<(String, String)>,
    pub bools: Vec<String>,
    pub rest: Vec<String>,
}

impl Parsed {
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, name: &str) -> bool {
        self.bools.iter().any(|b| b == name)
    }
}

/// Parses flags until the first positional argument (or `--`).
pub fn parse(args: &[String], spec: &Spec) -> Result<Parsed> {
    let mut p = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        let Some(stripped) = a.strip_prefix("--").or_else(|| a.strip_prefix('-')) else {
            break;
        };
        if stripped.is_empty() {
            break;
        }
        let (name, inline) = match stripped.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (stripped, None),
        };
        if spec.values.contains(&name) {
            let v = match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    args.get(i).cloned().ok_or_else(|| {
                        CtlError::Usage(format!("flag needs an argument: -{name}"))
                    })?
                }
            };
            p.values.push((name.to_string(), v));
        } else if spec.bools.contains(&name) {
            match inline.as_deref() {
                None | Some("true") | Some("1") => p.bools.push(name.to_string()),
                Some("false") | Some("0") => {}
                Some(v) => {
                    return Err(CtlError::Usage(format!(
                        "invalid boolean value {v:?} for -{name}"
                    )))
                }
            }
        } else if name == "h" || name == "help" {
            return Err(CtlError::Help);
        } else {
            return Err(CtlError::Usage(format!(
                "flag provided but not defined: -{name}"
            )));
        }
        i += 1;
    }
    p.rest = args[i..].to_vec();
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(a: &[&str]) -> Vec<String> {
        a.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_go_flags_until_first_positional() {
        let spec = Spec {
            values: &["bind"],
            bools: &["p", "y"],
        };
        let p = parse(&s(&["-bind", "h:1", "--p", "add-data", "-x"]), &spec).unwrap();
        assert_eq!(p.value("bind"), Some("h:1"));
        assert!(p.flag("p"));
        assert_eq!(p.rest, s(&["add-data", "-x"]));
        let p = parse(&s(&["-bind=h:2"]), &spec).unwrap();
        assert_eq!(p.value("bind"), Some("h:2"));
        assert!(parse(&s(&["-nope"]), &spec).is_err());
        assert!(parse(&s(&["-bind"]), &spec).is_err());
    }
}
