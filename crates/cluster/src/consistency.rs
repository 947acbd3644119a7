//! The consistency tally of one shard write: given the requested level and
//! the owners' answers as they arrive, whether the write has succeeded,
//! can no longer succeed, or must wait — exactly as InfluxDB Enterprise
//! counts (any/one → 1, quorum → n/2+1, all → n; a hinted-handoff enqueue
//! counts only for `any`).
//!
//! Pure: no clock, no I/O. The points writer feeds it answers and the
//! deadline's expiry.

use crate::points_writer::Consistency;

/// One owner's answer to a shard write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerOutcome {
    /// The points are durable on the owner.
    Written,
    /// Durable except `dropped` points refused for `reason` (field type
    /// conflict, a limit): never retried.
    Partial { reason: String, dropped: usize },
    /// Not written, but parked durably in this node's hinted-handoff queue
    /// for the owner.
    Queued { error: String },
    /// Not written and not queued.
    Failed { error: String },
}

/// Where a shard write stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not decided yet: more answers are needed.
    Pending,
    /// The level is met.
    Met,
    /// The level can no longer be met (every remaining answer together
    /// would not be enough).
    Unreachable,
}

/// The tally for one shard.
#[derive(Debug, Clone)]
pub struct Tally {
    level: Consistency,
    owners: usize,
    written: usize,
    queued: usize,
    answered: usize,
    partial: Option<(String, usize)>,
    first_error: Option<String>,
}

impl Tally {
    pub fn new(level: Consistency, owners: usize) -> Tally {
        Tally {
            level,
            owners,
            written: 0,
            queued: 0,
            answered: 0,
            partial: None,
            first_error: None,
        }
    }

    /// How many written copies the level needs.
    pub fn required(&self) -> usize {
        match self.level {
            Consistency::Any | Consistency::One => 1,
            Consistency::Quorum => self.owners / 2 + 1,
            Consistency::All => self.owners,
        }
        .min(self.owners)
    }

    fn counted(&self) -> usize {
        match self.level {
            Consistency::Any => self.written + self.queued,
            _ => self.written,
        }
    }

    pub fn record(&mut self, outcome: OwnerOutcome) -> Verdict {
        self.answered += 1;
        match outcome {
            OwnerOutcome::Written => self.written += 1,
            OwnerOutcome::Partial { reason, dropped } => {
                self.written += 1;
                let p = self.partial.get_or_insert((reason, 0));
                p.1 = p.1.max(dropped);
            }
            OwnerOutcome::Queued { error } => {
                self.queued += 1;
                self.first_error.get_or_insert(error);
            }
            OwnerOutcome::Failed { error } => {
                self.first_error.get_or_insert(error);
            }
        }
        self.verdict()
    }

    pub fn verdict(&self) -> Verdict {
        let required = self.required();
        if self.owners == 0 {
            return Verdict::Unreachable;
        }
        if self.counted() >= required {
            return Verdict::Met;
        }
        let remaining = self.owners - self.answered;
        if self.counted() + remaining < required {
            Verdict::Unreachable
        } else {
            Verdict::Pending
        }
    }

    /// The points refused by an owner as a partial write, if any: the
    /// answer to the client carries them even when the level is met.
    pub fn partial(&self) -> Option<&(String, usize)> {
        self.partial.as_ref()
    }

    /// The error to answer when the level is not met: `timeout` when the
    /// deadline passed with answers missing, `partial write` when some but
    /// not enough owners wrote, `write failed: <first error>` otherwise —
    /// Enterprise's texts.
    pub fn failure(&self, timed_out: bool) -> ShardWriteFailure {
        if timed_out && self.answered < self.owners {
            ShardWriteFailure::Timeout
        } else if self.written > 0 {
            ShardWriteFailure::Partial
        } else {
            ShardWriteFailure::Failed(
                self.first_error
                    .clone()
                    .unwrap_or_else(|| "no owner answered".to_string()),
            )
        }
    }
}

/// Why a shard write did not meet its consistency level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardWriteFailure {
    Timeout,
    Partial,
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use Consistency::*;

    fn written() -> OwnerOutcome {
        OwnerOutcome::Written
    }
    fn queued() -> OwnerOutcome {
        OwnerOutcome::Queued {
            error: "node 2 unreachable".into(),
        }
    }
    fn failed() -> OwnerOutcome {
        OwnerOutcome::Failed {
            error: "node 2 unreachable".into(),
        }
    }

    #[test]
    fn required_copies_follow_the_level() {
        for (level, n, want) in [
            (Any, 3, 1),
            (One, 3, 1),
            (Quorum, 1, 1),
            (Quorum, 2, 2),
            (Quorum, 3, 2),
            (Quorum, 4, 3),
            (Quorum, 5, 3),
            (All, 3, 3),
        ] {
            assert_eq!(Tally::new(level, n).required(), want, "{level:?} of {n}");
        }
    }

    #[test]
    fn a_hinted_handoff_enqueue_counts_only_for_any() {
        let mut t = Tally::new(Any, 2);
        assert_eq!(t.record(queued()), Verdict::Met);
        let mut t = Tally::new(One, 2);
        assert_eq!(t.record(queued()), Verdict::Pending);
        assert_eq!(t.record(queued()), Verdict::Unreachable);
        assert_eq!(
            t.failure(false),
            ShardWriteFailure::Failed("node 2 unreachable".into())
        );
    }

    #[test]
    fn one_succeeds_on_the_first_written_copy() {
        let mut t = Tally::new(One, 2);
        assert_eq!(t.record(failed()), Verdict::Pending);
        assert_eq!(t.record(written()), Verdict::Met);
    }

    #[test]
    fn quorum_and_all_report_partial_or_timeout() {
        let mut t = Tally::new(Quorum, 3);
        assert_eq!(t.record(written()), Verdict::Pending);
        assert_eq!(t.record(failed()), Verdict::Pending);
        assert_eq!(t.record(failed()), Verdict::Unreachable);
        assert_eq!(t.failure(false), ShardWriteFailure::Partial);

        let mut t = Tally::new(All, 2);
        assert_eq!(t.record(written()), Verdict::Pending);
        // The other owner never answers within the deadline.
        assert_eq!(t.failure(true), ShardWriteFailure::Timeout);
        assert_eq!(t.record(queued()), Verdict::Unreachable);
        assert_eq!(t.failure(false), ShardWriteFailure::Partial);
    }

    #[test]
    fn a_partial_copy_counts_as_written_and_is_reported() {
        let mut t = Tally::new(All, 2);
        t.record(OwnerOutcome::Partial {
            reason: "field type conflict".into(),
            dropped: 3,
        });
        assert_eq!(
            t.record(OwnerOutcome::Partial {
                reason: "field type conflict".into(),
                dropped: 3,
            }),
            Verdict::Met
        );
        assert_eq!(t.partial(), Some(&("field type conflict".to_string(), 3)));
    }

    #[test]
    fn verdicts_never_flip_back_once_decided() {
        // Exhaustive over owners 1..=4 and every answer sequence.
        let outcomes = [written(), queued(), failed()];
        for level in [Any, One, Quorum, All] {
            for n in 1..=4usize {
                let total = 3usize.pow(n as u32);
                for mut code in 0..total {
                    let mut t = Tally::new(level, n);
                    let mut decided: Option<Verdict> = None;
                    for _ in 0..n {
                        let v = t.record(outcomes[code % 3].clone());
                        code /= 3;
                        if let Some(d) = &decided {
                            assert_eq!(&v, d, "{level:?} n={n}");
                        } else if v != Verdict::Pending {
                            decided = Some(v);
                        }
                    }
                    assert!(decided.is_some(), "undecided after all answers");
                }
            }
        }
    }
}
