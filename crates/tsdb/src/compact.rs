//! Compaction: plans which data files of a shard to merge and merges them.
//!
//! Levels: a snapshot writes a level-1 file; 4–8 adjacent files of level L
//! (1 ≤ L ≤ 3) merge into one file of level L+1; when a shard has been cold
//! for `compact_full_write_cold_duration`, all its files (if more than one,
//! or any with tombstones) merge into one level-4 file. Merging deduplicates
//! (newer generations win) and drops tombstoned values.
//!
//! The output covers the union of its inputs' generation ranges; it is
//! written to a temporary file, fsynced, renamed and the directory fsynced
//! before the inputs are removed, so a crash at any point leaves either the
//! inputs or the output (inputs are then discarded on open as superseded).
//! Tombstones added to inputs during the merge are carried over to the output
//! before it is published. Owns no file format.

use std::sync::Arc;

use crate::block::{chunk, merge_parts, remove_ranges};
use crate::error::Result;
use crate::shard::Shard;
use crate::tombstone::{path_for, Tombstones};
use crate::tsm::{PublishError, TsmFile, TsmWriter};
use crate::vfs;

const MIN_RUN: usize = 4;
const MAX_RUN: usize = 8;
const FULL_LEVEL: u32 = 4;

/// Picks the inputs and output level of the next compaction, if any.
pub(crate) fn plan(files: &[Arc<TsmFile>], full: bool) -> Option<(Vec<Arc<TsmFile>>, u32)> {
    if full {
        if files.len() > 1 || files.iter().any(|f| !f.tombstones.is_empty()) {
            return Some((files.to_vec(), FULL_LEVEL));
        }
        return None;
    }
    for level in 1..FULL_LEVEL {
        let mut run: Vec<Arc<TsmFile>> = Vec::new();
        for f in files {
            if f.level == level {
                run.push(f.clone());
                if run.len() == MAX_RUN {
                    break;
                }
            } else if run.len() >= MIN_RUN {
                break;
            } else {
                run.clear();
            }
        }
        if run.len() >= MIN_RUN {
            return Some((run, level + 1));
        }
    }
    None
}

/// Runs one compaction step on `shard` if one is due. Returns whether it did.
pub(crate) fn compact(shard: &Shard, full: bool) -> Result<bool> {
    let Some(_guard) = shard.compaction_lock.try_lock() else {
        return Ok(false);
    };
    if shard.is_closed() || shard.unavailable().is_some() {
        return Ok(false);
    }
    let files = shard.state.read().files.clone();
    let Some((inputs, level)) = plan(&files, full) else {
        return Ok(false);
    };
    merge(shard, &inputs, level)?;
    Ok(true)
}

fn merge(shard: &Shard, inputs: &[Arc<TsmFile>], level: u32) -> Result<()> {
    let min_gen = inputs.iter().map(|f| f.min_gen).min().unwrap_or(0);
    let max_gen = inputs.iter().map(|f| f.max_gen).max().unwrap_or(0);
    let tomb_counts: Vec<usize> = inputs.iter().map(|f| f.tombstones.count()).collect();
    let mut keys: Vec<(u64, u32, models::FieldType)> = inputs
        .iter()
        .flat_map(|f| f.keys().iter().map(|e| (e.series, e.field, e.typ)))
        .collect();
    keys.sort_unstable_by_key(|k| (k.0, k.1));
    keys.dedup_by_key(|k| (k.0, k.1));
    let version = inputs.iter().map(|f| f.version).max().unwrap_or(0) + 1;
    let mut w = TsmWriter::create(shard.vfs.clone(), &shard.dir, min_gen, max_gen, version)?;
    let res = (|| -> Result<()> {
        for &(series, field, typ) in &keys {
            let mut parts = Vec::new();
            for f in inputs {
                let Some(e) = f.entry(series, field) else {
                    continue;
                };
                if e.typ != typ {
                    continue;
                }
                let tombs = f.tombstones.ranges(series);
                for m in &e.blocks {
                    if tombs.iter().any(|&(a, b)| a <= m.min && m.max <= b) {
                        continue;
                    }
                    let mut b = f.read_block(typ, m)?;
                    remove_ranges(&mut b, &tombs);
                    parts.push(b);
                }
            }
            for blk in chunk(merge_parts(typ, parts)) {
                w.write_block(series, field, &blk)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = res {
        w.abort();
        return Err(e);
    }
    let empty = w.key_count() == 0;
    let pending = w.finish(level)?;
    {
        let mut st = shard.state.write();
        let still_there = inputs
            .iter()
            .all(|i| st.files.iter().any(|f| Arc::ptr_eq(f, i)));
        if !still_there || shard.is_closed() {
            pending.abort();
            return Ok(());
        }
        let tomb_path = path_for(pending.final_path());
        let _ = shard.vfs.remove_file(&tomb_path);
        let late: Vec<_> = inputs
            .iter()
            .zip(&tomb_counts)
            .flat_map(|(f, &n)| f.tombstones.since(n))
            .collect();
        if !late.is_empty() {
            let t = Tombstones::open(shard.vfs.clone(), &tomb_path)?;
            for (ids, a, b) in &late {
                t.add(ids, *a, *b)?;
            }
        }
        let path = match pending.publish() {
            Ok(p) => p,
            Err(PublishError { error, in_place }) => {
                // In place but maybe not durable: the next open loads the
                // output or the inputs, so later deletes would have to reach
                // both. Stop writes until a restart decides.
                if in_place {
                    shard.poison("compaction", &error);
                }
                return Err(error);
            }
        };
        let mut out: Vec<Arc<TsmFile>> = Vec::with_capacity(st.files.len());
        let mut placed = false;
        let output = if empty && late.is_empty() {
            // everything was deleted: the empty file stays on disk, where it
            // supersedes the inputs, until their removal is durable (below)
            None
        } else {
            match TsmFile::open(&shard.vfs, &path) {
                Ok(f) => Some(Arc::new(f)),
                Err(e) => {
                    shard.poison("compaction", &e);
                    return Err(e);
                }
            }
        };
        for f in st.files.iter() {
            if inputs.iter().any(|i| Arc::ptr_eq(f, i)) {
                if !placed {
                    if let Some(o) = &output {
                        out.push(o.clone());
                    }
                    placed = true;
                }
            } else {
                out.push(f.clone());
            }
        }
        st.files = Arc::new(out);
        drop(st);
        for f in inputs {
            shard.vfs.remove_file(&f.path)?;
            vfs::remove_if_present(&*shard.vfs, f.tombstones.path())?;
        }
        shard.vfs.sync_dir(&shard.dir)?;
        if output.is_none() {
            // Only now: removals may reach the disk in any order, and an
            // input back without its tombstones and without the output
            // superseding it would bring deleted values back.
            shard.vfs.remove_file(&path)?;
            shard.vfs.sync_dir(&shard.dir)?;
        }
    }
    shard.count_compaction();
    Ok(())
}
