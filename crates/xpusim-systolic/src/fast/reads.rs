//! The two read-buffer models by blocks and events: CALC mode's estimate epochs
//! ([`EstimateBlocks`]) and USER mode's prefetch sets ([`UserSets`]).

use crate::compute::Fold;

use super::operand::{Operand, Role};

/// CALC-mode read buffer by blocks (see the module doc and `memory::EstimateReadBuffer`).
pub(super) struct EstimateBlocks {
    pub(super) op: Operand,
    /// Fetches per epoch (`50 * items_per_set`); `u64::MAX` when sets never fill.
    pub(super) capacity: u64,
    /// Fetches in the current epoch (`< capacity`).
    pub(super) in_epoch: u64,
    pub(super) epoch: u64,
    pub(super) fetched: u64,
    /// Per skewed block: `(epoch + 1, p)`: positions `p..` of its last read were fetched or
    /// hit in that epoch; `(0, _)`: never read.
    pub(super) seen: Vec<(u64, u64)>,
}

impl EstimateBlocks {
    pub(super) fn new(op: Operand, size_elems: u64) -> EstimateBlocks {
        let per_set = size_elems / 100;
        let capacity = if per_set == 0 {
            u64::MAX
        } else {
            per_set.saturating_mul(50)
        };
        let blocks = match op.role {
            Role::Skewed { .. } => op.folds as usize,
            Role::Stationary => 0,
        };
        EstimateBlocks {
            op,
            capacity,
            in_epoch: 0,
            epoch: 0,
            fetched: 0,
            seen: vec![(0, 0); blocks],
        }
    }

    pub(super) fn read_fold(&mut self, f: &Fold) {
        let (id, n) = self.op.block(f);
        // Positions before `hit_from` miss, the rest hit unless the epoch fills first.
        let hit_from = match id.and_then(|i| self.seen.get(i as usize)) {
            Some(&(e, p)) if e == self.epoch + 1 => p,
            _ => n,
        };
        let room = self.capacity - self.in_epoch;
        let record = if hit_from < room {
            self.in_epoch += hit_from;
            self.fetched += hit_from;
            (self.epoch + 1, 0)
        } else {
            // The `room`-th miss closes the epoch; nothing after it is resident any more.
            self.fetched += n;
            let rest = n - room;
            self.epoch += 1 + rest / self.capacity;
            self.in_epoch = rest % self.capacity;
            (self.epoch + 1, n - self.in_epoch)
        };
        if let Some(s) = id.and_then(|i| self.seen.get_mut(i as usize)) {
            *s = record;
        }
    }
}

/// USER-mode read buffer over closed-form set ids (see `memory::UserReadBuffer`).
pub(super) struct UserSets {
    pub(super) op: Operand,
    pub(super) per_set: u64,
    pub(super) num_sets: u64,
    pub(super) active_sets: u64,
    pub(super) prefetch_sets: u64,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) last_prefetch: i64,
    pub(super) accesses: u64,
    pub(super) bw: u64,
    pub(super) prefetch_lines: u64,
}

impl UserSets {
    pub(super) fn new(op: Operand, size_elems: u64, bw: u64) -> UserSets {
        let bw = bw.max(1);
        let per_set = size_elems.div_ceil(100).max(1);
        let active_size = size_elems.div_ceil(2);
        let prefetch_size = size_elems - active_size;
        let num_sets = op.valid_elems() / per_set + 1;
        let active_sets = num_sets.min(active_size.div_ceil(per_set));
        let prefetch_sets = (num_sets - active_sets).min(prefetch_size.div_ceil(per_set));
        // prefetch_active_buffer before the first line (cycle 0).
        let first = active_size.div_ceil(bw).min(op.matrix_elems().div_ceil(bw));
        UserSets {
            op,
            per_set,
            num_sets,
            active_sets,
            prefetch_sets,
            start: 0,
            end: active_sets,
            last_prefetch: -1,
            accesses: first * bw,
            bw,
            prefetch_lines: prefetch_size.div_ceil(bw),
        }
    }

    #[inline]
    pub(super) fn set(&self, f: &Fold, l: u64, c: u64) -> u64 {
        self.op.rank(f, l, c) / self.per_set
    }

    /// `read_buffer.py` `check_hit` for a single set id.
    #[inline]
    pub(super) fn resident(&self, s: u64) -> bool {
        if self.start < self.end {
            self.start <= s && s < self.end
        } else {
            s >= self.start || s < self.end
        }
    }

    /// Whether every set in `[a, b]` is resident.
    #[inline]
    pub(super) fn all_resident(&self, a: u64, b: u64) -> bool {
        if self.start < self.end {
            self.start <= a && b < self.end
        } else {
            self.start == self.end || b < self.end || a >= self.start
        }
    }

    /// The first line at or after `from` of fold `f` that may miss, if any.
    pub(super) fn next_event(&self, f: &Fold, from: u64) -> Option<u64> {
        let lines = self.op.lines(f);
        let a = from.max(lines.start);
        if a >= lines.end {
            return None;
        }
        match self.op.role {
            Role::Skewed { .. } => {
                // Set ids never decrease along a fold's skewed demand (same anti-diagonals as
                // the prefetch roll-out), so the window is left at most at both ends.
                let s0 = self.set(f, a, self.op.cols(f, a).start);
                if !self.resident(s0) {
                    return Some(a);
                }
                if self.start == self.end || (self.start > self.end && s0 >= self.start) {
                    return None;
                }
                let last_set = |l: u64| self.set(f, l, self.op.cols(f, l).end - 1);
                let (mut lo, mut hi) = (a, lines.end);
                if last_set(hi - 1) < self.end {
                    return None;
                }
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if last_set(mid) >= self.end {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                Some(lo)
            }
            Role::Stationary => (a..lines.end).find(|&l| {
                let cols = self.op.cols(f, l);
                !self.all_resident(self.set(f, l, cols.start), self.set(f, l, cols.end - 1))
            }),
        }
    }

    pub(super) fn new_prefetch(&mut self) {
        self.start = (self.start + self.prefetch_sets) % self.num_sets;
        self.end = (self.start + self.active_sets) % self.num_sets;
        self.accesses += self.prefetch_lines * self.bw;
        self.last_prefetch += self.prefetch_lines as i64 + 1;
    }

    /// Services line `l` of fold `f` at `cycle` address by address (`service_reads`); returns
    /// the lateness beyond the one-cycle hit latency.
    pub(super) fn service_line(&mut self, f: &Fold, l: u64, cycle: i64) -> i64 {
        let lines = self.op.lines(f);
        if !lines.contains(&l) {
            return 0;
        }
        let mut offset: i64 = 1;
        let cols = self.op.cols(f, l);
        // A line is a run of consecutive valid cells of one anti-diagonal (skewed) or one row
        // (stationary) of the prefetch matrix, so its ranks are consecutive.
        let first = self.op.rank(f, l, cols.start);
        for rank in first..first + (cols.end - cols.start) {
            let s = rank / self.per_set;
            let mut guard = self.num_sets + 2;
            while !self.resident(s) && guard > 0 {
                guard -= 1;
                self.new_prefetch();
                let potential = self.last_prefetch - (cycle + offset);
                offset += potential;
                if potential > 0 {
                    offset += potential;
                }
            }
        }
        offset - 1
    }
}
