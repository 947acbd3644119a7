//! Time zones for `tz('Area/City')`: reads the system's TZif files and
//! answers the UTC offset at an instant; aligns GROUP BY time windows on
//! local time the way InfluxDB does (a window is shifted by a zone change
//! inside it only when the change is shorter than the interval).
//!
//! Owns: offsets and zone-aware window boundaries. Must not: evaluate data.

use crate::error::{Error, Result};

const NS: i64 = 1_000_000_000;

/// Offsets of one zone: `(transition time in s, offset in s after it)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    transitions: Vec<(i64, i32)>,
    /// Offset before the first transition.
    initial: i32,
}

fn be32(b: &[u8], i: usize) -> Option<i32> {
    b.get(i..i + 4)
        .map(|s| i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be64(b: &[u8], i: usize) -> Option<i64> {
    let s = b.get(i..i + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(i64::from_be_bytes(a))
}

impl Zone {
    /// UTC.
    pub fn utc() -> Zone {
        Zone {
            transitions: vec![],
            initial: 0,
        }
    }

    /// Loads a zone by IANA name from the system zoneinfo directory.
    pub fn load(name: &str) -> Result<Zone> {
        let err = || Error::msg(format!("unable to find time zone {name}"));
        if name == "UTC" || name == "Etc/UTC" || name.is_empty() {
            return Ok(Zone::utc());
        }
        if name.contains("..") || name.starts_with('/') {
            return Err(err());
        }
        let dirs = [
            "/usr/share/zoneinfo",
            "/usr/lib/zoneinfo",
            "/usr/share/lib/zoneinfo",
        ];
        let data = dirs
            .iter()
            .find_map(|d| std::fs::read(format!("{d}/{name}")).ok())
            .ok_or_else(err)?;
        Zone::parse(&data).ok_or_else(err)
    }

    /// Parses TZif data (the 64-bit body when present).
    pub fn parse(b: &[u8]) -> Option<Zone> {
        if b.get(0..4)? != b"TZif" {
            return None;
        }
        let counts = |at: usize| -> Option<[usize; 6]> {
            let mut c = [0usize; 6];
            for (k, v) in c.iter_mut().enumerate() {
                *v = be32(b, at + 20 + 4 * k)? as usize;
            }
            Some(c)
        };
        let version = *b.get(4)?;
        let c1 = counts(0)?;
        let v1_len = 44 + c1[3] * 4 + c1[3] + c1[4] * 6 + c1[5] + c1[2] * 8 + c1[1] + c1[0];
        let (base, c, tsize) = if version >= b'2' {
            (v1_len, counts(v1_len)?, 8)
        } else {
            (0, c1, 4)
        };
        let [_isut, _isstd, _leap, timecnt, typecnt, _charcnt] = c;
        let mut p = base + 44;
        let mut times = Vec::with_capacity(timecnt);
        for _ in 0..timecnt {
            times.push(if tsize == 8 {
                be64(b, p)?
            } else {
                be32(b, p)? as i64
            });
            p += tsize;
        }
        let idx: Vec<u8> = b.get(p..p + timecnt)?.to_vec();
        p += timecnt;
        let mut types = Vec::with_capacity(typecnt);
        for _ in 0..typecnt {
            let off = be32(b, p)?;
            let dst = *b.get(p + 4)?;
            types.push((off, dst));
            p += 6;
        }
        let initial = types
            .iter()
            .find(|t| t.1 == 0)
            .or(types.first())
            .map(|t| t.0)?;
        let transitions = times
            .into_iter()
            .zip(idx)
            .filter_map(|(t, i)| types.get(i as usize).map(|ty| (t, ty.0)))
            .collect();
        Some(Zone {
            transitions,
            initial,
        })
    }

    /// UTC offset at `t` (nanoseconds), in nanoseconds.
    pub fn offset(&self, t: i64) -> i64 {
        let s = t.div_euclid(NS);
        let i = self.transitions.partition_point(|(tt, _)| *tt <= s);
        let off = if i == 0 {
            self.initial
        } else {
            self.transitions[i - 1].1
        };
        off as i64 * NS
    }

    /// Start of the window holding `t`.
    /// Saturating at the ends of the representable range (`interval` > 0).
    pub fn window_start(&self, t: i64, interval: i64, offset: i64) -> i64 {
        let zone = self.offset(t.saturating_sub(offset));
        let mut start = super::plan::floor_window(t, interval, offset, zone);
        let o = zone - self.offset(start.saturating_sub(offset));
        if o != 0 && o.abs() < interval {
            start = start.saturating_add(o);
        }
        start
    }

    /// End (exclusive) of the window starting at `start`.
    pub fn window_end(&self, start: i64, interval: i64) -> i64 {
        let end = start.saturating_add(interval);
        let o = self.offset(start) - self.offset(end);
        if o != 0 && o.abs() < interval {
            end.saturating_add(o)
        } else {
            end
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn los_angeles_days_follow_dst() {
        let Ok(z) = Zone::load("America/Los_Angeles") else {
            return; // no zoneinfo on this machine
        };
        let day = 24 * 3600 * NS;
        // 2000-04-02T08:00:00Z is local midnight (-08:00).
        let apr2 = 954_662_400 * NS;
        assert_eq!(z.offset(apr2), -8 * 3600 * NS);
        assert_eq!(z.window_start(apr2 + 3600 * NS, day, 0), apr2);
        // The next day starts 23 hours later, at -07:00.
        assert_eq!(z.window_end(apr2, day), apr2 + 23 * 3600 * NS);
        assert!(Zone::load("Nowhere/Nothing").is_err());
    }
}
