use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use super::*;

#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.borrow_mut())).unwrap()
    }
}

fn shell() -> (CommandLine, Sink) {
    let sink = Sink::default();
    let cl = CommandLine::new(&Options::default(), Box::new(sink.clone()));
    (cl, sink)
}

#[test]
fn database_and_rp_parsing() {
    assert_eq!(
        parse_database_and_rp("foo"),
        Some(("foo".into(), "".into()))
    );
    assert_eq!(
        parse_database_and_rp(" foo.bar "),
        Some(("foo".into(), "bar".into()))
    );
    assert_eq!(
        parse_database_and_rp(r#""my.db"."rp 1""#),
        Some(("my.db".into(), "rp 1".into()))
    );
    assert_eq!(
        parse_database_and_rp("foo bar"),
        Some(("foo bar".into(), "".into()))
    );
    assert_eq!(parse_database_and_rp("a.b.c"), None);
}

#[test]
fn insert_targets() {
    assert_eq!(
        parse_insert("insert cpu v=1", "db", "rp"),
        Ok(("db".into(), "rp".into(), " cpu v=1"))
    );
    assert_eq!(
        parse_insert("INSERT INTO x.y cpu v=1", "db", ""),
        Ok(("x".into(), "y".into(), "cpu v=1"))
    );
    assert_eq!(
        parse_insert(r#"insert into "x"."y" cpu v=1"#, "", ""),
        Ok(("x".into(), "y".into(), "cpu v=1"))
    );
    assert_eq!(
        parse_insert("insert into autogen cpu v=1", "db", ""),
        Ok(("db".into(), "autogen".into(), "cpu v=1"))
    );
}

#[test]
fn connection_strings() {
    assert_eq!(parse_connection_string("h:1"), Ok(("h".into(), 1)));
    assert_eq!(parse_connection_string("h"), Ok(("h".into(), 8086)));
    assert_eq!(parse_connection_string("[::1]:9"), Ok(("::1".into(), 9)));
    assert_eq!(
        parse_connection_string("h:abc"),
        Err(
            "invalid port number \"h:abc\": strconv.Atoi: parsing \"abc\": invalid syntax\n".into()
        )
    );
}

#[test]
fn settings_commands_and_messages() {
    let (mut cl, out) = shell();
    cl.parse_command("precision S", None).unwrap();
    assert_eq!(cl.precision, "s");
    cl.parse_command("precision rfc3339", None).unwrap();
    assert_eq!(cl.precision, "");
    cl.parse_command("precision xx", None).unwrap();
    assert_eq!(
        out.take(),
        "Unknown precision \"xx\". Please use rfc3339, h, m, s, ms, u or ns.\n"
    );
    cl.parse_command("format csv", None).unwrap();
    cl.parse_command("consistency quorum", None).unwrap();
    cl.parse_command("pretty", None).unwrap();
    cl.parse_command("chunked", None).unwrap();
    cl.parse_command("chunk size 7", None).unwrap();
    assert_eq!(
        out.take(),
        "Pretty print enabled\nchunked reponses disabled\nchunk size set to 7\n"
    );
    cl.parse_command("settings", None).unwrap();
    assert_eq!(
        out.take(),
        "Setting           Value\n--------          --------\nHost              localhost:8086\nUsername          \nDatabase          \nRetentionPolicy   \nPretty            true\nFormat            csv\nWrite Consistency quorum\nChunked           false\nChunk Size        7\n\n"
    );
}

#[test]
fn clear_and_node_and_blank() {
    let (mut cl, out) = shell();
    cl.database = "d".into();
    cl.parse_command("clear db", None).unwrap();
    assert_eq!(cl.database, "");
    cl.parse_command("clear nope", None).unwrap();
    let text = out.take();
    assert!(
        text.starts_with("database context cleared\ninvalid command \"nope\".\nPossible commands")
    );
    cl.parse_command("node 3", None).unwrap();
    assert_eq!(cl.node_id, 3);
    cl.parse_command("node x", None).unwrap();
    assert_eq!(
        out.take(),
        "Unable to parse node id from x. Must be an integer or 'clear'.\n"
    );
    assert!(matches!(
        cl.parse_command("   ", None),
        Err(CommandError::Blank)
    ));
    cl.parse_command("exit", None).unwrap();
    assert!(cl.quit);
}

#[test]
fn auth_with_arguments_sets_credentials() {
    let (mut cl, _out) = shell();
    cl.parse_command("auth bob secret", None).unwrap();
    assert_eq!(
        (cl.username.as_str(), cl.password.as_str()),
        ("bob", "secret")
    );
}

#[test]
fn unreachable_server_reports_go_style_error() {
    let (mut cl, _out) = shell();
    cl.port = 1;
    cl.host = "127.0.0.1".into();
    let e = cl.connect("").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Get \"http://127.0.0.1:1/ping\": dial tcp 127.0.0.1:1: connect: connection refused"
    );
}
