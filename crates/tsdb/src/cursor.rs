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

/// The values of one field of one series over a time range: ascending time
/// (or descending, from [`crate::Shard::read_desc`]), no duplicate
/// timestamps, blocks of at most [`crate::MAX_BLOCK_VALUES`] values.
pub struct BlockCursor {
    typ: FieldType,
    range: TimeRange,
    queue: VecDeque<Source>,
    ready: VecDeque<Block>,
    descending: bool,
}

/// Reverses a block in place: descending times with their values.
fn reverse_block(b: &mut Block) {
    use models::Column;
    b.times.reverse();
    match &mut b.values {
        Column::Float(v) => v.reverse(),
        Column::Integer(v) => v.reverse(),
        Column::Unsigned(v) => v.reverse(),
        Column::Boolean(v) => v.reverse(),
        Column::String(v) => v.reverse(),
    }
}

/// Chunks of `b` in the cursor's order.
fn ordered_chunks(b: Block, descending: bool) -> VecDeque<Block> {
    let mut chunks: VecDeque<Block> = chunk(b).into();
    if descending {
        chunks = chunks.into_iter().rev().collect();
    }
    chunks
}

fn load(typ: FieldType, range: TimeRange, s: Source) -> Result<Block> {
    match s {
        Source::File { file, meta, tombs } => {
            let mut b = file.read_block_until(typ, &meta, range.max)?;
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
            descending: false,
        }
    }

    /// Builds a cursor over `sources` (given oldest first).
    pub(crate) fn new(typ: FieldType, range: TimeRange, sources: Vec<Source>) -> Result<Self> {
        Self::build(typ, range, sources, false)
    }

    /// Builds a cursor yielding newest values first: blocks in descending
    /// time order, each block's values descending too. Only the sources the
    /// caller actually reaches are decoded, so `ORDER BY time DESC LIMIT n`
    /// touches the newest blocks alone.
    pub(crate) fn new_descending(
        typ: FieldType,
        range: TimeRange,
        sources: Vec<Source>,
    ) -> Result<Self> {
        Self::build(typ, range, sources, true)
    }

    fn build(
        typ: FieldType,
        range: TimeRange,
        sources: Vec<Source>,
        descending: bool,
    ) -> Result<Self> {
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
            descending,
        };
        if disjoint {
            let mut slots: Vec<Option<Source>> = sources.drain(..).map(Some).collect();
            c.queue = sorted.into_iter().filter_map(|i| slots[i].take()).collect();
            if descending {
                c.queue = c.queue.into_iter().rev().collect();
            }
        } else {
            let mut parts = Vec::with_capacity(sources.len());
            for s in sources {
                parts.push(load(typ, range, s)?);
            }
            c.ready = ordered_chunks(merge_parts(typ, parts), descending);
        }
        Ok(c)
    }
}

impl Iterator for BlockCursor {
    type Item = Result<Block>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(mut b) = self.ready.pop_front() {
                if self.descending {
                    reverse_block(&mut b);
                }
                return Some(Ok(b));
            }
            let s = self.queue.pop_front()?;
            match load(self.typ, self.range, s) {
                Ok(b) => self.ready = ordered_chunks(b, self.descending),
                Err(e) => {
                    self.queue.clear();
                    return Some(Err(e));
                }
            }
        }
    }
}
