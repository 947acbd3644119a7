//! `influx-bench`: TSBS devops cpu-only load and query benchmark.

fn main() {}
