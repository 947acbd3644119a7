//! Database-wide series cardinality: how many distinct series, and how many
//! distinct values per measurement and tag key, a database holds over all of
//! its shards on this node. InfluxDB enforces `max-series-per-database` and
//! `max-values-per-tag` per database; each shard's index only knows its own
//! series, so the shards of one database share one [`DatabaseCardinality`].
//!
//! Series and tag values are counted by 64-bit hashes with a reference count
//! (how many shard indexes hold them), so a series present in several shard
//! groups counts once and leaves the count when its last shard drops it. A
//! hash collision (about 1 in 10^7 at a million series) can only make a
//! limit admit one series more, never refuse a series wrongly.
//!
//! Owns the counting and the limit decision; knows nothing of files, and
//! is told about series by the shard indexes (never reads them).

use std::collections::hash_map::{DefaultHasher, Entry};
use std::hash::{Hash, Hasher};

use parking_lot::Mutex;
use rustc_hash::FxHashMap;

/// The cardinality limits checked when a database gains a series
/// (0 = unlimited), as `[data]` names them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CardinalityLimits {
    pub(crate) max_series_per_database: u64,
    pub(crate) max_values_per_tag: u64,
}

/// A series as the counter sees it: the hash of its key and one hash per
/// (measurement, tag key) with the hash of its value.
pub(crate) struct SeriesHashes {
    key: u64,
    tags: Vec<(u64, u64)>,
}

fn hash_of(parts: &[&str]) -> u64 {
    // SipHash with fixed keys: stable within the process, and far fewer
    // collisions on structured keys than Fx.
    let mut h = DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

impl SeriesHashes {
    pub(crate) fn new(key: &str, measurement: &str, tags: &[(String, String)]) -> SeriesHashes {
        SeriesHashes {
            key: hash_of(&[key]),
            tags: tags
                .iter()
                .map(|(k, v)| (hash_of(&[measurement, k]), hash_of(&[v])))
                .collect(),
        }
    }
}

#[derive(Default)]
struct Counts {
    /// series key hash → number of shard indexes holding the series.
    series: FxHashMap<u64, u32>,
    /// (measurement, tag key) hash → tag value hash → number of
    /// (shard, series) pairs carrying it.
    tag_values: FxHashMap<u64, FxHashMap<u64, u32>>,
}

impl Counts {
    fn add(&mut self, s: &SeriesHashes) {
        *self.series.entry(s.key).or_default() += 1;
        for (mk, v) in &s.tags {
            *self
                .tag_values
                .entry(*mk)
                .or_default()
                .entry(*v)
                .or_default() += 1;
        }
    }

    fn remove(&mut self, s: &SeriesHashes) {
        if let Entry::Occupied(mut e) = self.series.entry(s.key) {
            *e.get_mut() -= 1;
            if *e.get() == 0 {
                e.remove();
            }
        }
        for (mk, v) in &s.tags {
            if let Entry::Occupied(mut vals) = self.tag_values.entry(*mk) {
                if let Entry::Occupied(mut n) = vals.get_mut().entry(*v) {
                    *n.get_mut() -= 1;
                    if *n.get() == 0 {
                        n.remove();
                    }
                }
                if vals.get().is_empty() {
                    vals.remove();
                }
            }
        }
    }
}

/// The series counts of one database on this node, shared by its shards.
#[derive(Default)]
pub struct DatabaseCardinality {
    counts: Mutex<Counts>,
}

impl DatabaseCardinality {
    /// Distinct series of the database on this node.
    pub fn series(&self) -> u64 {
        self.counts.lock().series.len() as u64
    }

    /// Counts a series a shard index already holds (opening a shard): never
    /// refused, so existing data always opens.
    pub(crate) fn add_existing(&self, s: &SeriesHashes) {
        self.counts.lock().add(s);
    }

    /// Admits a series new to one shard index, or gives InfluxDB's reason
    /// for refusing it. A series the database already has (in another
    /// shard group) is always admitted: it adds nothing to the database.
    pub(crate) fn admit(
        &self,
        s: &SeriesHashes,
        limits: &CardinalityLimits,
        measurement: &str,
        tags: &[(String, String)],
    ) -> Result<(), String> {
        let mut c = self.counts.lock();
        if !c.series.contains_key(&s.key) {
            let max = limits.max_series_per_database;
            if max > 0 && c.series.len() as u64 >= max {
                return Err(format!("max-series-per-database limit exceeded: ({max})"));
            }
            let max = limits.max_values_per_tag;
            if max > 0 {
                for ((mk, v), (k, value)) in s.tags.iter().zip(tags) {
                    let Some(vals) = c.tag_values.get(mk) else {
                        continue;
                    };
                    let n = vals.len() as u64;
                    if n >= max && !vals.contains_key(v) {
                        return Err(format!(
                            "max-values-per-tag limit exceeded ({n}/{max}): measurement={measurement:?} tag={k:?} value={value:?}"
                        ));
                    }
                }
            }
        }
        c.add(s);
        Ok(())
    }

    /// A shard index no longer holds the series (dropped, or its shard
    /// closed or deleted).
    pub(crate) fn release(&self, s: &SeriesHashes) {
        self.counts.lock().remove(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(m: &str, tags: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
        let tags: Vec<(String, String)> = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut key = m.to_string();
        for (k, v) in &tags {
            key.push_str(&format!(",{k}={v}"));
        }
        (key, tags)
    }

    #[test]
    fn a_series_in_several_shards_counts_once_until_its_last_shard_drops_it() {
        let db = DatabaseCardinality::default();
        let limits = CardinalityLimits {
            max_series_per_database: 2,
            max_values_per_tag: 0,
        };
        let (k, t) = series("cpu", &[("host", "a")]);
        let a = SeriesHashes::new(&k, "cpu", &t);
        db.admit(&a, &limits, "cpu", &t).unwrap(); // shard 1
        db.admit(&a, &limits, "cpu", &t).unwrap(); // shard 2, same series
        assert_eq!(db.series(), 1);
        let (k, t) = series("cpu", &[("host", "b")]);
        let b = SeriesHashes::new(&k, "cpu", &t);
        db.admit(&b, &limits, "cpu", &t).unwrap();
        let (k, t) = series("cpu", &[("host", "c")]);
        let c = SeriesHashes::new(&k, "cpu", &t);
        assert_eq!(
            db.admit(&c, &limits, "cpu", &t).unwrap_err(),
            "max-series-per-database limit exceeded: (2)"
        );
        // Still counted by shard 2.
        db.release(&a);
        assert_eq!(db.series(), 2);
        db.release(&a);
        assert_eq!(db.series(), 1);
        db.admit(&c, &limits, "cpu", &t).unwrap();
    }

    #[test]
    fn values_per_tag_are_counted_per_measurement_and_key() {
        let db = DatabaseCardinality::default();
        let limits = CardinalityLimits {
            max_series_per_database: 0,
            max_values_per_tag: 2,
        };
        for (m, host) in [("cpu", "a"), ("cpu", "b"), ("mem", "c"), ("mem", "d")] {
            let (k, t) = series(m, &[("host", host)]);
            db.admit(&SeriesHashes::new(&k, m, &t), &limits, m, &t)
                .unwrap();
        }
        // A known value in a new combination is fine.
        let (k, t) = series("cpu", &[("host", "a"), ("region", "x")]);
        db.admit(&SeriesHashes::new(&k, "cpu", &t), &limits, "cpu", &t)
            .unwrap();
        let (k, t) = series("cpu", &[("host", "z")]);
        assert_eq!(
            db.admit(&SeriesHashes::new(&k, "cpu", &t), &limits, "cpu", &t)
                .unwrap_err(),
            "max-values-per-tag limit exceeded (2/2): measurement=\"cpu\" tag=\"host\" value=\"z\""
        );
    }
}
