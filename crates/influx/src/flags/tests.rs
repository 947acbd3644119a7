use super::*;

fn p(args: &[&str]) -> Result<Options, FlagError> {
    parse(args.iter().copied())
}

#[test]
fn defaults_match_1x() {
    let o = p(&[]).unwrap();
    assert_eq!(o.host, "localhost");
    assert_eq!(o.port, 8086);
    assert_eq!(o.format, "column");
    assert_eq!(o.precision, "ns");
    assert_eq!(o.consistency, "all");
    assert!(!o.ssl && !o.pretty && !o.import && !o.prompt_password);
}

#[test]
fn single_double_dash_and_equals_forms() {
    let o = p(&[
        "-host",
        "h1",
        "--port=9",
        "-database=db",
        "--format",
        "json",
        "-pretty",
    ])
    .unwrap();
    assert_eq!(
        (o.host.as_str(), o.port, o.database.as_str()),
        ("h1", 9, "db")
    );
    assert_eq!(o.format, "json");
    assert!(o.pretty);
}

#[test]
fn bool_flags_take_no_argument_but_accept_values() {
    let o = p(&["-ssl", "-unsafeSsl=false", "-compressed=T", "-import=1"]).unwrap();
    assert!(o.ssl && !o.unsafe_ssl && o.compressed && o.import);
    assert_eq!(
        p(&["-pretty=maybe"]),
        Err(FlagError::Invalid(
            "invalid boolean value \"maybe\" for -pretty: parse error".into()
        ))
    );
}

#[test]
fn value_flag_consumes_next_arg_even_if_dashed() {
    let o = p(&["-execute", "-x", "-username", "u"]).unwrap();
    assert_eq!(o.execute, "-x");
    assert_eq!(o.username, "u");
}

#[test]
fn errors_match_go_texts_and_codes() {
    let e = p(&["-bogus"]).unwrap_err();
    assert_eq!(e.message(), Some("flag provided but not defined: -bogus"));
    assert_eq!(e.exit_code(), 2);
    let e = p(&["-port", "abc"]).unwrap_err();
    assert_eq!(
        e.message(),
        Some("invalid value \"abc\" for flag -port: parse error")
    );
    let e = p(&["-port", "99999999999999999999"]).unwrap_err();
    assert_eq!(
        e.message(),
        Some("invalid value \"99999999999999999999\" for flag -port: value out of range")
    );
    let e = p(&["-execute"]).unwrap_err();
    assert_eq!(e.message(), Some("flag needs an argument: -execute"));
    let e = p(&["-port", "1", "a", "b"]).unwrap_err();
    assert_eq!(e.message(), Some("unknown arguments: a b"));
    assert_eq!(e.exit_code(), 1);
    assert_eq!(p(&["-help"]), Err(FlagError::Help));
    assert_eq!(p(&["--h"]).unwrap_err().exit_code(), 0);
    assert!(matches!(p(&["---x"]), Err(FlagError::Invalid(m)) if m == "bad flag syntax: ---x"));
}

#[test]
fn double_dash_ends_flags_and_names_are_case_sensitive() {
    assert_eq!(
        p(&["--", "x"]).unwrap_err().message(),
        Some("unknown arguments: x")
    );
    assert!(p(&["-unsafessl"]).is_err());
}

#[test]
fn go_integer_syntax() {
    assert_eq!(p(&["-port", "0x1F"]).unwrap().port, 31);
    assert_eq!(p(&["-port", "010"]).unwrap().port, 8);
    assert_eq!(p(&["-pps", "-5"]).unwrap().pps, -5);
    assert_eq!(p(&["-port", "1_000"]).unwrap_err().exit_code(), 2);
}

#[test]
fn empty_password_flag_means_prompt() {
    assert!(p(&["-password", ""]).unwrap().prompt_password);
    assert!(p(&["--password="]).unwrap().prompt_password);
    assert!(!p(&["-password", "x"]).unwrap().prompt_password);
    assert!(!p(&["-username", "x"]).unwrap().prompt_password);
}

#[test]
fn last_occurrence_wins_and_version_flag() {
    let o = p(&["-port", "1", "-port", "2", "-version"]).unwrap();
    assert_eq!(o.port, 2);
    assert!(o.show_version);
}
