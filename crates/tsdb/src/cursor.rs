//! `BlockCursor`: the iterator a read returns. When the sources of a read
//! (data-file blocks, frozen snapshot, active cache) do not overlap in time —
//! the common case — blocks are decoded lazily one at a time as the caller
//! iterates; otherwise everything is merged up front (newest source wins).
//! Owns no locking: the shard hands it an immutable view of the sources.

use std::collections::VecDeque;
use std::sync::Arc;

use models::{Block, FieldType, TimeRange};

use crate::block::{chunk, merge_parts, remove_ranges, trim_to_range};
use crate::error::Result;
use crate::tsm::{BlockMeta, TsmFile};

/// One source of values of a read, in priority order (oldest first).
pub(crate) enum Source {
    File {
        file: Arc<TsmFile>,
        meta: BlockMeta,
        tombs: Arc<[(i64, i64)]>,
    },
    Mem(Block),
}

impl Source {
    fn bounds(&self) -> (i64, i64) {
        match self {
            Source::File { meta, .. } => (meta.min, meta.max),
            Source::Mem(b) => (
                b.times.first().copied().unwrap_or(i64::MAX),
                b.times.last().copied().unwrap_or(i64::MIN),
            ),
        }
    }
}

/// The values of one field of one series over a time range: ascending time,
/// no duplicate timestamps, blocks of at most [`crate::MAX_BLOCK_VALUES`] values.
pub struct BlockCursor {
    typ: FieldType,
    range: TimeRange,
    queue: VecDeque<Source>,
    ready: VecDeque<Block>,
}

fn load(typ: FieldType, range: TimeRange, s: Source) -> Result<Block> {
    match s {
        Source::File { file, meta, tombs } => {
            let mut b = file.read_block(typ, &meta)?;
            trim_to_range(&mut b, range.min, range.max);
            remove_ranges(&mut b, &tombs);
            Ok(b)
        }
        Source::Mem(b) => Ok(b),
    }
}

impl BlockCursor {
    pub(crate) fn empty() -> Self {
        BlockCursor {
            typ: FieldType::Float,
            range: TimeRange::ALL,
            queue: VecDeque::new(),
            ready: VecDeque::new(),
        }
    }

    /// Builds a cursor over `sources` (given oldest first).
    pub(crate) fn new(typ: FieldType, range: TimeRange, sources: Vec<Source>) -> Result<Self> {
        let mut sources: Vec<Source> = sources
            .into_iter()
            .filter(|s| !matches!(s, Source::Mem(b) if b.times.is_empty()))
            .collect();
        let mut sorted: Vec<usize> = (0..sources.len()).collect();
        sorted.sort_by_key(|&i| sources[i].bounds().0);
        let disjoint = sorted
            .windows(2)
            .all(|w| sources[w[0]].bounds().1 < sources[w[1]].bounds().0);
        let mut c = BlockCursor {
            typ,
            range,
            queue: VecDeque::new(),
            ready: VecDeque::new(),
        };
        if disjoint {
            let mut slots: Vec<Option<Source>> = sources.drain(..).map(Some).collect();
            c.queue = sorted.into_iter().filter_map(|i| slots[i].take()).collect();
        } else {
            let mut parts = Vec::with_capacity(sources.len());
            for s in sources {
                parts.push(load(typ, range, s)?);
            }
            c.ready = chunk(merge_parts(typ, parts)).into();
        }
        Ok(c)
    }
}

impl Iterator for BlockCursor {
    type Item = Result<Block>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(b) = self.ready.pop_front() {
                return Some(Ok(b));
            }
            let s = self.queue.pop_front()?;
            match load(self.typ, self.range, s) {
                Ok(b) => self.ready = chunk(b).into(),
                Err(e) => {
                    self.queue.clear();
                    return Some(Err(e));
                }
            }
        }
    }
}
