//! Throughput of the line-protocol parser on TSBS devops `cpu` lines:
//! the zero-copy `lineproto::lines()` and the owned `lineproto::parse_points()`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

/// Builds `n` TSBS-shaped cpu lines (tags unsorted, as TSBS emits them).
fn tsbs_cpu(n: usize) -> Vec<u8> {
    const REGIONS: [&str; 3] = ["us-east-1", "eu-central-1", "ap-northeast-1"];
    const FIELDS: [&str; 10] = [
        "usage_user",
        "usage_system",
        "usage_idle",
        "usage_nice",
        "usage_iowait",
        "usage_irq",
        "usage_softirq",
        "usage_steal",
        "usage_guest",
        "usage_guest_nice",
    ];
    let mut out = String::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..n {
        let host = i % 1000;
        let region = REGIONS[host % 3];
        out.push_str(&format!(
            "cpu,hostname=host_{host},region={region},datacenter={region}a,rack={},os=Ubuntu16.04LTS,arch=x64,team=NYC,service={},service_version=1,service_environment=production ",
            host % 100,
            host % 20
        ));
        for (j, f) in FIELDS.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let v = (rnd() % 100_000_000_000_000) as f64 / 1_000_000_000_000.0;
            out.push_str(&format!("{f}={v}"));
        }
        out.push_str(&format!(
            " {}\n",
            1_451_606_400_000_000_000i64 + (i as i64) * 10_000_000_000
        ));
    }
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let lines_n = 10_000;
    let body = tsbs_cpu(lines_n);
    let mut g = c.benchmark_group("lineproto_tsbs_cpu");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("lines", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for l in lineproto::lines(black_box(&body)) {
                let l = l.expect("valid");
                n += l.fields.len();
            }
            n
        })
    });
    g.bench_function("parse_points", |b| {
        b.iter(|| {
            let p = lineproto::parse_points(black_box(&body), models::Precision::Nanosecond, 0);
            assert!(p.errors.is_empty());
            p.points.len()
        })
    });
    g.finish();
    eprintln!(
        "body: {} lines, {} bytes ({:.1} bytes/line)",
        lines_n,
        body.len(),
        body.len() as f64 / lines_n as f64
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
