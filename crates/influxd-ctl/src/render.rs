//! Text layout of `influxd-ctl show` and `show-shards`, after InfluxDB
//! Enterprise's: section titles underlined with `=`, tab-separated columns.
//! Pure functions of the meta node's JSON answers.

use serde_json::Value;

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Labels as Enterprise prints them (JSON, `{}` when none).
fn labels(v: &Value) -> String {
    match v {
        Value::Object(_) => v.to_string(),
        _ => "{}".to_string(),
    }
}

/// `show`: Data Nodes, Meta Nodes and Raft Status, in Enterprise 1.12's
/// layout (data nodes with their HTTP address, labels and `Passive`).
pub fn show(v: &Value) -> String {
    let mut o = String::new();
    o.push_str("Data Nodes\n==========\nID\tTCP Address\tHTTP Address\tVersion\tLabels\tPassive\n");
    for n in v["data"].as_array().into_iter().flatten() {
        o.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            s(&n["id"]),
            s(&n["tcpAddr"]),
            s(&n["httpAddr"]),
            s(&n["version"]),
            labels(&n["labels"]),
            n["passive"].as_bool().unwrap_or(false)
        ));
    }
    o.push_str("\nMeta Nodes\n==========\nID\tRaft Address\tHTTP Address\tVersion\tLabels\n");
    for n in v["meta"].as_array().into_iter().flatten() {
        o.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            s(&n["id"]),
            s(&n["raftAddr"]),
            s(&n["addr"]),
            s(&n["version"]),
            labels(&n["labels"])
        ));
    }
    let leader = s(&v["leader"]);
    let peers: Vec<String> = v["peers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(s)
        .filter(|p| *p != leader)
        .map(|p| format!("{p:?}"))
        .collect();
    o.push_str("\nRaft Status\n==========\n");
    o.push_str(&format!(
        "Leader\t{leader}\nPeers\t[{}]\n",
        peers.join(", ")
    ));
    o
}

/// RFC3339 (UTC, seconds) of nanoseconds since the epoch.
pub fn rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// `show-shards`.
pub fn show_shards(v: &Value) -> String {
    let mut o = String::from(
        "Shards\n==========\nID\tDatabase\tRetention Policy\tDesired Replicas\tShard Group\tStart\tEnd\tExpires\tOwners\n",
    );
    for sh in v.as_array().into_iter().flatten() {
        let owners: Vec<String> = sh["owners"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|ow| format!("{{{} {}}}", s(&ow["id"]), s(&ow["tcpAddr"])))
            .collect();
        let ts = |k: &str| rfc3339(sh[k].as_i64().unwrap_or(0));
        // An infinite retention policy never expires: blank.
        let expires = match sh["expireTime"].as_i64() {
            Some(t) if t != 0 => rfc3339(t),
            _ => String::new(),
        };
        let end = match sh["truncatedAt"].as_i64() {
            Some(t) if t != 0 => rfc3339(t),
            _ => ts("endTime"),
        };
        o.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t[{}]\n",
            s(&sh["id"]),
            s(&sh["database"]),
            s(&sh["retentionPolicy"]),
            s(&sh["replicaN"]),
            s(&sh["shardGroupId"]),
            ts("startTime"),
            end,
            expires,
            owners.join(" ")
        ));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn show_layout() {
        let v = json!({
            "data": [{"id": 4, "tcpAddr": "data1:8088", "httpAddr": "data1:8086", "version": "0.1.0"},
                     {"id": 5, "tcpAddr": "data2:8088", "httpAddr": "data2:8086", "version": "0.1.0", "passive": true}],
            "meta": [{"id": 1, "addr": "meta1:8091", "raftAddr": "meta1:8089", "version": "0.1.0"},
                     {"id": 2, "addr": "meta2:8091", "raftAddr": "meta2:8089", "version": "0.1.0"}],
            "leader": "meta1:8089",
            "peers": ["meta1:8089", "meta2:8089"],
        });
        assert_eq!(
            show(&v),
            "Data Nodes\n==========\nID\tTCP Address\tHTTP Address\tVersion\tLabels\tPassive\n\
             4\tdata1:8088\tdata1:8086\t0.1.0\t{}\tfalse\n\
             5\tdata2:8088\tdata2:8086\t0.1.0\t{}\ttrue\n\n\
             Meta Nodes\n==========\nID\tRaft Address\tHTTP Address\tVersion\tLabels\n\
             1\tmeta1:8089\tmeta1:8091\t0.1.0\t{}\n2\tmeta2:8089\tmeta2:8091\t0.1.0\t{}\n\n\
             Raft Status\n==========\nLeader\tmeta1:8089\nPeers\t[\"meta2:8089\"]\n"
        );
    }

    #[test]
    fn shards_layout_and_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(-1_000_000_000), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(1_485_453_600_000_000_000), "2017-01-26T18:00:00Z");
        let v = json!([{"id": 21, "database": "telegraf", "retentionPolicy": "autogen", "replicaN": 2,
            "shardGroupId": 1, "startTime": 1_485_453_600_000_000_000_i64, "endTime": 1_485_475_200_000_000_000_i64,
            "expireTime": 0, "truncatedAt": 0,
            "owners": [{"id": 4, "tcpAddr": "d1:8088"}, {"id": 5, "tcpAddr": "d2:8088"}]}]);
        let text = show_shards(&v);
        assert!(text.ends_with(
            "21\ttelegraf\tautogen\t2\t1\t2017-01-26T18:00:00Z\t2017-01-27T00:00:00Z\t\t[{4 d1:8088} {5 d2:8088}]\n"
        ), "{text}");
    }
}
