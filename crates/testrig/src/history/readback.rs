//! Reading every point of some measurements back through `/query`
//! (`SELECT * FROM m GROUP BY *`, nanosecond epochs, chunked), as
//! [`Observed`] points for the checker. Every row is kept: a point returned
//! twice must show up twice.

use crate::http::HttpClient;
use crate::{Error, Result};
use serde_json::Value;
use std::fmt;

/// One (series, field, time, value) cell returned by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub series: String,
    pub field: String,
    pub time: i64,
    pub value: Value,
}

impl Observed {
    /// Same identity as [`super::Point::key`].
    pub fn key(&self) -> (String, String, i64) {
        (self.series.clone(), self.field.clone(), self.time)
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}={} {}",
            self.series, self.field, self.value, self.time
        )
    }
}

/// Reads every point of `measurements` in `db`.
pub fn read_back(client: &HttpClient, db: &str, measurements: &[String]) -> Result<Vec<Observed>> {
    let mut out = Vec::new();
    for m in measurements {
        let q = format!("SELECT * FROM {} GROUP BY *", quote_ident(m));
        let reply = client.query(Some(db), &q, "epoch=ns&chunked=true&chunk_size=10000")?;
        let url = format!("{}/query ({q})", client.base());
        if reply.status != 200 {
            return Err(Error::BadResponse {
                url,
                message: format!("status {}: {}", reply.status, reply.body),
            });
        }
        parse_into(&reply.body, &mut out).map_err(|message| Error::BadResponse { url, message })?;
    }
    Ok(out)
}

/// Parses a (possibly chunked: several JSON documents) `/query` response.
fn parse_into(body: &str, out: &mut Vec<Observed>) -> std::result::Result<(), String> {
    for doc in serde_json::Deserializer::from_str(body).into_iter::<Value>() {
        let doc = doc.map_err(|e| format!("bad JSON ({e}): {body}"))?;
        if let Some(e) = doc.get("error") {
            return Err(format!("error: {e}"));
        }
        for result in doc["results"].as_array().into_iter().flatten() {
            if let Some(e) = result.get("error") {
                return Err(format!("error: {e}"));
            }
            for s in result["series"].as_array().into_iter().flatten() {
                parse_series(s, out)?;
            }
        }
    }
    Ok(())
}

fn parse_series(s: &Value, out: &mut Vec<Observed>) -> std::result::Result<(), String> {
    let name = s["name"].as_str().ok_or("series without name")?;
    let mut tags: Vec<(String, String)> = s["tags"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .filter(|(_, v)| !v.is_empty())
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    let series = models::series_key(name, &tags);
    let columns: Vec<&str> = s["columns"]
        .as_array()
        .ok_or("series without columns")?
        .iter()
        .map(|c| c.as_str().unwrap_or_default())
        .collect();
    let time_col = columns
        .iter()
        .position(|c| *c == "time")
        .ok_or("no time column")?;
    for row in s["values"].as_array().into_iter().flatten() {
        let row = row.as_array().ok_or("row is not an array")?;
        let time = row
            .get(time_col)
            .and_then(Value::as_i64)
            .ok_or("time is not an integer (epoch=ns expected)")?;
        for (i, col) in columns.iter().enumerate() {
            match row.get(i) {
                Some(v) if i != time_col && !v.is_null() => out.push(Observed {
                    series: series.clone(),
                    field: (*col).to_string(),
                    time,
                    value: v.clone(),
                }),
                _ => {}
            }
        }
    }
    Ok(())
}

/// `"name"` with `"` and `\` escaped, as InfluxQL identifiers.
fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_chunked_group_by_star() {
        let body = concat!(
            r#"{"results":[{"statement_id":0,"series":[{"name":"m","tags":{"host":"a","zone":""},"columns":["time","v","w"],"values":[[1,10,null],[2,11,5]]}],"partial":true}]}"#,
            "\n",
            r#"{"results":[{"statement_id":0,"series":[{"name":"m","tags":{"host":"b","zone":"z"},"columns":["time","v","w"],"values":[[2,12,null],[2,12,null]]}]}]}"#,
            "\n"
        );
        let mut out = Vec::new();
        parse_into(body, &mut out).unwrap();
        let flat: Vec<String> = out.iter().map(|o| o.to_string()).collect();
        assert_eq!(
            flat,
            vec![
                "m,host=a v=10 1",
                "m,host=a v=11 2",
                "m,host=a w=5 2",
                "m,host=b,zone=z v=12 2",
                "m,host=b,zone=z v=12 2",
            ]
        );
        assert_eq!(out[0].value, json!(10));
    }

    #[test]
    fn statement_errors_are_errors() {
        let mut out = Vec::new();
        let e = parse_into(
            r#"{"results":[{"statement_id":0,"error":"database not found: x"}]}"#,
            &mut out,
        )
        .unwrap_err();
        assert!(e.contains("database not found"), "{e}");
    }

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
