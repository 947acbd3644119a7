//! Crate-level tests: grammar and error tables against InfluxDB 1.6 texts,
//! the owned layer, and proptest round trips through `to_line`.

use models::{FieldValue, Point, Precision};
use proptest::prelude::*;

use crate::*;

fn errs(body: &str) -> Vec<String> {
    lines(body.as_bytes())
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .collect()
}

fn one(body: &str) -> Line<'_> {
    let mut it = lines(body.as_bytes());
    let l = it.next().expect("a line").expect("valid");
    assert!(it.next().is_none());
    l
}

#[test]
fn error_table() {
    let cases: &[(&str, &str)] = &[
        ("cpu", "missing fields"),
        ("cpu ", "invalid field format"),
        (",cpu value=1", "missing measurement"),
        ("cpu,host=a", "missing fields"),
        ("cpu, value=1", "missing tag key"),
        ("cpu,=a value=1", "missing tag key"),
        ("cpu,host value=1", "missing tag value"),
        ("cpu,host= value=1", "missing tag value"),
        ("cpu,host=a=b value=1", "invalid tag format"),
        // InfluxDB: a byte after a backslash is escaped, even after `\\`.
        ("cpu,a=x\\\\,b=y value=1", "invalid tag format"),
        ("cpu,host=a,host=b value=1", "duplicate tags"),
        ("cpu,b=1,a=1,b=2 value=1", "duplicate tags"),
        ("cpu =1", "missing field key"),
        ("cpu a=1,=2", "missing field key"),
        ("cpu value=", "missing field value"),
        ("cpu value=,x=1", "missing field value"),
        ("cpu value= 1", "missing field value"),
        ("cpu value=1,b", "invalid field format"),
        ("m f=\"blah\"=123,r 1531703600000000000", "invalid value: field-key=r"),
        ("cpu value", "invalid field format"),
        ("cpu value=\"abc", "unbalanced quotes"),
        ("cpu value=1.1.1", "invalid number"),
        ("cpu value=NaN", "invalid number"),
        ("cpu value=-Inf", "invalid number"),
        ("cpu value=Inf", "invalid boolean"),
        ("cpu value=+Inf", "invalid boolean"),
        ("cpu value=yes", "invalid boolean"),
        ("cpu value=1e", "invalid float"),
        ("cpu value=1x", "invalid number"),
        ("cpu value=1 12a", "bad timestamp"),
        ("cpu value=1 1.5", "bad timestamp"),
        ("cpu value=1 1 2", "point is invalid"),
        (
            "cpu value=1 99999999999999999999",
            "strconv.ParseInt: parsing \"99999999999999999999\": value out of range",
        ),
        ("cpu value=1 -", "strconv.ParseInt: parsing \"-\": invalid syntax"),
        (
            "cpu value=9223372036854775808i",
            "unable to parse integer 9223372036854775808: strconv.ParseInt: parsing \"9223372036854775808\": value out of range",
        ),
        ("cpu value=-1u", "invalid number"),
        ("cpu,host=server01 value=NaN 13257g500000000", "invalid number"),
    ];
    for (line, reason) in cases {
        assert_eq!(
            errs(line),
            vec![format!("unable to parse '{line}': {reason}")],
            "line {line:?}"
        );
    }
}

#[test]
fn max_key_length() {
    let long = "a".repeat(65_530);
    let line = format!("{long},t=1 v=1");
    assert_eq!(
        errs(&line),
        vec![format!(
            "unable to parse '{line}': max key length exceeded: 65534 > 65535"
        )]
        .into_iter()
        .map(|_| format!("unable to parse '{line}': max key length exceeded: 65539 > 65535"))
        .collect::<Vec<_>>()
    );
    let longer = format!("{}x v=1", "a".repeat(65_535));
    assert_eq!(
        errs(&longer),
        vec![format!(
            "unable to parse '{longer}': max key length exceeded: 65536 > 65535"
        )]
    );
}

#[test]
fn grammar_accepts() {
    let l = one("cpu,host=a,region=west value=1,i=-3i,u=7u,b=t,s=\"x y,z=\\\"q\\\"\" -15");
    assert_eq!(l.measurement, "cpu");
    assert_eq!(l.tags.as_slice(), &[("host", "a"), ("region", "west")]);
    assert_eq!(l.timestamp, Some(-15));
    assert_eq!(
        l.fields.as_slice(),
        &[
            ("value", FieldValueRef::Float(1.0)),
            ("i", FieldValueRef::Integer(-3)),
            ("u", FieldValueRef::Unsigned(7)),
            ("b", FieldValueRef::Boolean(true)),
            ("s", FieldValueRef::String("x y,z=\\\"q\\\"")),
        ]
    );
    assert_eq!(unescape_string("x y,z=\\\"q\\\""), "x y,z=\"q\"");
    // Escapes in names; '=' is plain in a measurement.
    let l = one(r"my\ cpu\,1=x,ta\ g=v\,a\=l f\=x\ y=1");
    assert_eq!(l.measurement, r"my\ cpu\,1=x");
    assert_eq!(unescape_measurement(l.measurement), "my cpu,1=x");
    assert_eq!(l.tags.as_slice(), &[(r"ta\ g", r"v\,a\=l")]);
    assert_eq!(l.fields[0].0, r"f\=x\ y");
    assert_eq!(unescape_tag(l.fields[0].0), "f=x y");
    // Tags come back sorted.
    let l = one("cpu,z=1,a=2,m=3 v=1");
    assert_eq!(l.tags.as_slice(), &[("a", "2"), ("m", "3"), ("z", "1")]);
    assert!(!l.tags_were_sorted);
    // A tag value may start with '=' (InfluxDB quirk); its key escapes it.
    // Unsigned values are accepted (InfluxDB 1.6 says `invalid number`).
    let l = one("cpu,host=server01 value=100u 1795565142000000000");
    assert_eq!(l.fields[0].1, FieldValueRef::Unsigned(100));
    let l = one("cpu,a==b v=1");
    assert_eq!(l.tags.as_slice(), &[("a", "=b")]);
    let p = parse_points(b"cpu,a==b v=1", Precision::Nanosecond, 0);
    assert_eq!(p.points[0].key, r"cpu,a=\=b");
    // Booleans and floats in all spellings.
    let l = one("m a=T,b=false,c=FALSE,d=True,e=.5,f=-1.5e10,g=1E3");
    let vals: Vec<_> = l.fields.iter().map(|f| f.1).collect();
    assert_eq!(
        vals,
        vec![
            FieldValueRef::Boolean(true),
            FieldValueRef::Boolean(false),
            FieldValueRef::Boolean(false),
            FieldValueRef::Boolean(true),
            FieldValueRef::Float(0.5),
            FieldValueRef::Float(-1.5e10),
            FieldValueRef::Float(1000.0),
        ]
    );
    // Extra whitespace before fields and timestamp, trailing spaces.
    let l = one("  cpu  v=1  5  ");
    assert_eq!(l.timestamp, Some(5));
    assert_eq!(l.raw, "cpu  v=1  5  ");
}

#[test]
fn body_structure() {
    let body =
        "# comment\n\n   \ncpu v=1 1\r\n  # indented comment\ncpu v=\"multi\nline\" 2\ncpu v=3";
    let got: Vec<_> = lines(body.as_bytes()).map(|r| r.unwrap()).collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].timestamp, Some(1));
    assert_eq!(got[1].fields[0].1, FieldValueRef::String("multi\nline"));
    assert_eq!(got[2].timestamp, None);
    // An escaped newline does not end the line.
    let got: Vec<_> = lines(b"cpu,a=x\\\ny v=1\ncpu v=2").collect();
    assert_eq!(got.len(), 2);
    // Errors do not stop the iteration.
    let got: Vec<_> = lines(b"bad\ncpu v=1\n").collect();
    assert!(got[0].is_err() && got[1].is_ok());
}

#[test]
fn invalid_utf8_is_an_error() {
    let body = b"cpu v=1\ncp\xffu v=1\ncpu v=2";
    let got: Vec<_> = lines(body).collect();
    assert_eq!(got.len(), 3);
    assert!(got[0].is_ok() && got[2].is_ok());
    let e = got[1].as_ref().unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidUtf8);
    assert_eq!(
        e.to_string(),
        "unable to parse 'cp\u{fffd}u v=1': invalid UTF-8"
    );
}

#[test]
fn parse_points_owned() {
    let body =
        b"cpu,host=b,az=x\\ y v=1,s=\"a\\\"b\" 10\ncpu v=2\nmem,x=1 v=1 9223372036854775807\nbad\n";
    let p = parse_points(body, Precision::Second, 42);
    assert_eq!(p.points.len(), 2);
    let a = &p.points[0];
    assert_eq!(a.measurement, "cpu");
    assert_eq!(
        a.tags,
        vec![
            ("az".to_string(), "x y".to_string()),
            ("host".to_string(), "b".to_string())
        ]
    );
    assert_eq!(a.key, models::series_key(&a.measurement, &a.tags));
    assert_eq!(a.key, r"cpu,az=x\ y,host=b");
    assert_eq!(a.time, 10_000_000_000);
    assert_eq!(a.fields[1].1, FieldValue::String("a\"b".into()));
    // No timestamp: now, truncated to the precision (1 s here).
    assert_eq!(p.points[1].time, 0);
    assert_eq!(
        p.errors,
        vec![
            "unable to parse 'mem,x=1 v=1 9223372036854775807': time outside range -9223372036854775806 - 9223372036854775806".to_string(),
            "unable to parse 'bad': missing fields".to_string(),
        ]
    );
    let p = parse_points(b"cpu v=2", Precision::Millisecond, 1_234_567_891);
    assert_eq!(p.points[0].time, 1_234_000_000);
    let p = parse_points(b"cpu v=2", Precision::Nanosecond, 1_234_567_891);
    assert_eq!(p.points[0].time, 1_234_567_891);
    // Nanosecond range edges.
    let p = parse_points(b"m v=1 9223372036854775806\nm v=1 9223372036854775807\nm v=1 -9223372036854775806\nm v=1 -9223372036854775807", Precision::Nanosecond, 0);
    assert_eq!(p.points.len(), 2);
    assert_eq!(p.errors.len(), 2);
    // Many repeated fields stay linear and keep first positions.
    let mut body = String::from("m ");
    for i in 0..20_000 {
        body.push_str(&format!("f{}={i},", i % 3));
    }
    body.pop();
    let p = parse_points(body.as_bytes(), Precision::Nanosecond, 0);
    assert_eq!(
        p.points[0].fields,
        vec![
            ("f0".to_string(), FieldValue::Float(19_998.0)),
            ("f1".to_string(), FieldValue::Float(19_999.0)),
            ("f2".to_string(), FieldValue::Float(19_997.0)),
        ]
    );
    assert_eq!(p.error_text(), None);
    let p = parse_points(b"a\nb", Precision::Nanosecond, 0);
    assert_eq!(
        p.error_text().as_deref(),
        Some("unable to parse 'a': missing fields\nunable to parse 'b': missing fields")
    );
    // Duplicate fields: last wins.
    let p = parse_points(b"m a=1,b=2,a=3", Precision::Nanosecond, 0);
    assert_eq!(
        p.points[0].fields,
        vec![
            ("a".to_string(), FieldValue::Float(3.0)),
            ("b".to_string(), FieldValue::Float(2.0))
        ]
    );
}

#[test]
fn to_line_renders() {
    let p = Point::new(
        "my cpu,x".into(),
        vec![("h o=st".into(), "a,b".into())],
        vec![
            ("f 1".into(), FieldValue::Float(1.0)),
            ("i".into(), FieldValue::Integer(-2)),
            ("u".into(), FieldValue::Unsigned(3)),
            ("b".into(), FieldValue::Boolean(false)),
            ("s".into(), FieldValue::String("q\"\\".into())),
        ],
        7,
    );
    assert_eq!(
        to_line(&p),
        r#"my\ cpu\,x,h\ o\=st=a\,b f\ 1=1.0,i=-2i,u=3u,b=false,s="q\"\\" 7"#
    );
}

fn name() -> impl Strategy<Value = String> {
    // No backslashes (a trailing one cannot be expressed in 1.x line
    // protocol), no newlines; first char neither '#' nor whitespace.
    "[a-zA-Z0-9_é][a-zA-Z0-9 ,=\"_.é-]{0,8}"
}

/// Measurement and tag names may also hold backslashes, but not at the end
/// nor before `\`, `,`, `=` or space: InfluxDB's line splitter and key
/// scanner disagree on those (see `to_line`).
fn name_with_backslash() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_é]([a-zA-Z0-9 ,=\"_.é\\\\-]{0,8}[a-zA-Z0-9_.é=, ])?".prop_filter(
        "backslash before a special",
        |s| {
            let b = s.as_bytes();
            !b.windows(2)
                .any(|w| w[0] == b'\\' && matches!(w[1], b'\\' | b',' | b'=' | b' '))
        },
    )
}

fn field_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(FieldValue::Float),
        any::<i64>().prop_map(FieldValue::Integer),
        any::<u64>().prop_map(FieldValue::Unsigned),
        any::<bool>().prop_map(FieldValue::Boolean),
        "[ -~\n\u{e9}]{0,12}".prop_map(FieldValue::String),
    ]
}

fn point() -> impl Strategy<Value = Point> {
    (
        name_with_backslash(),
        proptest::collection::btree_map(name_with_backslash(), name_with_backslash(), 0..5),
        proptest::collection::btree_map(name(), field_value(), 1..5),
        (models::MIN_NANOS..=models::MAX_NANOS),
    )
        .prop_map(|(m, tags, fields, t)| {
            Point::new(
                m,
                tags.into_iter().collect(),
                fields.into_iter().collect(),
                t,
            )
        })
}

proptest! {
    #[test]
    fn round_trip(points in proptest::collection::vec(point(), 1..4)) {
        let mut body = String::new();
        for p in &points {
            write_line(&mut body, p);
            body.push('\n');
        }
        let parsed = parse_points(body.as_bytes(), Precision::Nanosecond, 0);
        prop_assert!(parsed.errors.is_empty(), "{:?}\n{}", parsed.errors, body);
        prop_assert_eq!(&parsed.points, &points);
        for p in &parsed.points {
            prop_assert_eq!(&p.key, &models::series_key(&p.measurement, &p.tags));
        }
    }

    #[test]
    fn key_matches_series_key(line in "[a-c\\\\ ,=]{1,6}(,[a-c\\\\=]{1,4}=[a-c\\\\]{1,4}){0,4} v=1") {
        for p in parse_points(line.as_bytes(), Precision::Nanosecond, 0).points {
            prop_assert_eq!(&p.key, &models::series_key(&p.measurement, &p.tags));
            prop_assert!(p.tags.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }

    #[test]
    fn reparse_of_rendered_points_is_stable(body in prop_oneof![
        "[a-c,= \"\n0-9.eiuTf-]{0,50}",
        "[a-c\"=é]{1,3}(,[a-c\"é]{1,2}=[a-c=\"é]{1,2}){0,3} [a-c\"é]{1,2}=(\"[a-c ,=\n\\\\\"]{0,5}\"|[0-9]{1,3}[iu]?|t|-?[0-9]\\.[0-9]e-?[0-9])(,[ab]=[0-9])? ?(-?[0-9]{1,4})?",
    ]) {
        let first = parse_points(body.as_bytes(), Precision::Nanosecond, 7);
        for p in first.points.iter().filter(|p| !p.measurement.starts_with('#')) {
            let line = to_line(p);
            let again = parse_points(line.as_bytes(), Precision::Nanosecond, 7);
            prop_assert!(again.errors.is_empty(), "{:?} from {:?}", again.errors, line);
            prop_assert_eq!(&again.points, &vec![p.clone()], "{}", line);
        }
    }

    #[test]
    fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_points(&body, Precision::Hour, 0);
    }

    #[test]
    fn never_panics_on_near_valid(body in "[a-c,= \"\\\\\n\t#0-9ei.uT-]{0,60}") {
        let _ = parse_points(body.as_bytes(), Precision::Hour, 0);
    }
}

/// Unescaping cases InfluxDB 1.x's own test-suite documents (behaviour
/// learned from it, expectations restated here).
#[test]
fn unescape_cases_like_influxdb() {
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (r"foo\,bar value=1i", "foo,bar", &[], "value"),
        (
            r"cpu\ load,region=east value=1.0",
            "cpu load",
            &[("region", "east")],
            "value",
        ),
        (
            r"cpu\=load,region=east value=1.0",
            r"cpu\=load",
            &[("region", "east")],
            "value",
        ),
        (
            r"cpu=load,region=east value=1.0",
            "cpu=load",
            &[("region", "east")],
            "value",
        ),
        (
            r"cpu,reg\\=ion=east value=1.0",
            "cpu",
            &[(r"reg\=ion", "east")],
            "value",
        ),
        (r"cpu,\ =east value=1.0", "cpu", &[(" ", "east")], "value"),
        (
            r"cpu,regions=\\ east value=1.0",
            "cpu",
            &[("regions", r"\ east")],
            "value",
        ),
        (
            r"cpu,regions=east\\  value=1.0",
            "cpu",
            &[("regions", r"east\ ")],
            "value",
        ),
        (
            r"cpu,regions=eas\t value=1.0",
            "cpu",
            &[("regions", r"eas\t")],
            "value",
        ),
        (
            r"cpu,regions=\\,\,\=east value=1.0",
            "cpu",
            &[("regions", r"\,,=east")],
            "value",
        ),
        (
            r"cpu,regions=east value\,ms=1.0",
            "cpu",
            &[("regions", "east")],
            "value,ms",
        ),
        (
            r"cpu,regions=east value\ ms=1.0",
            "cpu",
            &[("regions", "east")],
            "value ms",
        ),
        (r"cpu \a=1i", "cpu", &[], r"\a"),
        (
            r"cpu=load,equals\=foo=tag\=value value=1i",
            "cpu=load",
            &[("equals=foo", "tag=value")],
            "value",
        ),
    ];
    for (line, meas, tags, field) in cases {
        let p = parse_points(line.as_bytes(), Precision::Nanosecond, 0);
        assert!(p.errors.is_empty(), "{line}: {:?}", p.errors);
        let pt = &p.points[0];
        assert_eq!(pt.measurement, *meas, "{line}");
        let want: Vec<(String, String)> = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(pt.tags, want, "{line}");
        assert_eq!(pt.fields[0].0, *field, "{line}");
        assert_eq!(
            pt.key,
            models::series_key(&pt.measurement, &pt.tags),
            "{line}"
        );
    }
    // Leading zeros and range edges.
    let p = parse_points(
        b"m a=0009223372036854775807i,b=-0009223372036854775808i,c=00018446744073709551615u,d=0000u",
        Precision::Nanosecond,
        0,
    );
    assert_eq!(
        p.points[0]
            .fields
            .iter()
            .map(|f| f.1.clone())
            .collect::<Vec<_>>(),
        vec![
            FieldValue::Integer(i64::MAX),
            FieldValue::Integer(i64::MIN),
            FieldValue::Unsigned(u64::MAX),
            FieldValue::Unsigned(0)
        ]
    );
    for bad in [
        "m v=--1u",
        "m v=9ie10",
        "m v=9e10i",
        "m v=.1a",
        "m v=0.-1",
        "m v=-e-e-e",
        "m v=42+3",
    ] {
        assert_eq!(
            parse_points(bad.as_bytes(), Precision::Nanosecond, 0)
                .errors
                .len(),
            1,
            "{bad}"
        );
    }
    // Many tags (spills the inline buffers), unsorted.
    let mut line = String::from("m");
    for i in 0..1000 {
        line.push_str(&format!(",t{}=x", i + 1));
    }
    line.push_str(" v=0");
    let p = parse_points(line.as_bytes(), Precision::Nanosecond, 0);
    assert_eq!(p.points[0].tags.len(), 1000);
    assert_eq!(p.points[0].key, models::series_key("m", &p.points[0].tags));
}

#[test]
fn fuzz_blank_lines_reserve_no_points() {
    // Found with the lineproto_parse_points fuzz target's allocation check:
    // every newline reserved a `Point` (104 bytes), so a 25 MB body of
    // newlines reserved 2.6 GB before parsing a single line.
    let body = vec![b'\n'; 60_000];
    let out = parse_points(&body, Precision::Nanosecond, 0);
    assert!(out.points.is_empty() && out.errors.is_empty());
    assert!(
        out.points.capacity() <= body.len() / 6 + 1,
        "reserved {} points for {} bytes",
        out.points.capacity(),
        body.len()
    );
    let dense = "m f=1\n".repeat(1000);
    let out = parse_points(dense.as_bytes(), Precision::Nanosecond, 0);
    assert_eq!(out.points.len(), 1000);
}

#[test]
fn m6_bad_line_flood_reports_a_bounded_number_of_errors() {
    // 5,000 two-byte bad lines and one good one: the first 1,000 errors in
    // InfluxDB's words, the rest counted.
    let mut body = "a\n".repeat(5_000);
    body.push_str("m v=1 1\n");
    let p = parse_points(body.as_bytes(), Precision::Nanosecond, 0);
    assert_eq!(p.points.len(), 1);
    assert_eq!(p.errors.len(), MAX_REPORTED_LINE_ERRORS + 1);
    assert_eq!(p.errors[0], "unable to parse 'a': missing fields");
    assert_eq!(
        p.errors[MAX_REPORTED_LINE_ERRORS],
        "4000 more lines could not be parsed"
    );
    assert_eq!((p.unreported, p.rejected()), (4_000, 5_000));
    // Up to the limit every line is reported, as InfluxDB does.
    let body = "a\n".repeat(MAX_REPORTED_LINE_ERRORS);
    let p = parse_points(body.as_bytes(), Precision::Nanosecond, 0);
    assert_eq!(p.errors.len(), MAX_REPORTED_LINE_ERRORS);
    assert!(p.errors.iter().all(|e| e.starts_with("unable to parse")));
}
