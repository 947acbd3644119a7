//! Throughput of the column codecs on TSBS-like blocks of 1000 values:
//! timestamps every 10 s in ns (regular and jittered), random-walk floats
//! clamped to [0, 100] (full precision and 2 decimals), random-walk
//! integers. Prints bytes/value for each data set before timing.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const N: usize = 1000;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }
}

fn walk(seed: u64) -> Vec<f64> {
    let mut r = Rng(seed);
    let mut x = 58.1317132304976;
    (0..N)
        .map(|_| {
            x = (x + r.normal()).clamp(0.0, 100.0);
            x
        })
        .collect()
}

fn datasets() -> (Vec<(&'static str, Vec<i64>)>, Vec<(&'static str, Vec<f64>)>) {
    let start = 1_451_606_400_000_000_000i64;
    let regular: Vec<i64> = (0..N as i64).map(|i| start + i * 10_000_000_000).collect();
    let mut r = Rng(99);
    let jittered: Vec<i64> = (0..N as i64)
        .map(|i| start + i * 10_000_000_000 + (r.next() % 1_000_000) as i64)
        .collect();
    let mut r = Rng(7);
    let mut x = 1_000_000i64;
    let ints: Vec<i64> = (0..N)
        .map(|_| {
            x += (r.next() % 2001) as i64 - 1000;
            x
        })
        .collect();
    let full = walk(42);
    let dec2: Vec<f64> = walk(43)
        .iter()
        .map(|v| (v * 100.0).round() / 100.0)
        .collect();
    // A full-precision gauge that changes every 4th sample: XOR territory.
    let w = walk(44);
    let steps: Vec<f64> = (0..N).map(|i| w[i / 4 * 4]).collect();
    (
        vec![
            ("ts_regular", regular),
            ("ts_jitter_ns", jittered),
            ("int_walk", ints),
        ],
        vec![
            ("float_full", full),
            ("float_2dec", dec2),
            ("float_steps", steps),
        ],
    )
}

fn bench(c: &mut Criterion) {
    let (ints, floats) = datasets();
    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Elements(N as u64));
    for (name, v) in &ints {
        let mut enc = Vec::new();
        codec::encode_timestamps(v, &mut enc);
        println!(
            "{name}: {:.3} bytes/value (header {})",
            enc.len() as f64 / N as f64,
            enc[0]
        );
        g.bench_with_input(BenchmarkId::new("encode", name), v, |b, v| {
            let mut out = Vec::with_capacity(16 * N);
            b.iter(|| {
                out.clear();
                codec::encode_timestamps(black_box(v), &mut out);
            })
        });
        g.bench_with_input(BenchmarkId::new("decode", name), &enc, |b, enc| {
            let mut out = Vec::with_capacity(N);
            b.iter(|| {
                out.clear();
                codec::decode_timestamps(black_box(enc), &mut out).unwrap();
            })
        });
    }
    for (name, v) in &floats {
        let mut enc = Vec::new();
        codec::encode_floats(v, &mut enc);
        println!(
            "{name}: {:.3} bytes/value (header {})",
            enc.len() as f64 / N as f64,
            enc[0]
        );
        g.bench_with_input(BenchmarkId::new("encode", name), v, |b, v| {
            let mut out = Vec::with_capacity(16 * N);
            b.iter(|| {
                out.clear();
                codec::encode_floats(black_box(v), &mut out);
            })
        });
        g.bench_with_input(BenchmarkId::new("decode", name), &enc, |b, enc| {
            let mut out = Vec::with_capacity(N);
            b.iter(|| {
                out.clear();
                codec::decode_floats(black_box(enc), &mut out).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(1)).sample_size(20);
    targets = bench
}
criterion_main!(benches);
