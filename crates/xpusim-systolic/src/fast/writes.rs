//! The ofmap write buffer by events: per-line write counts in closed form ([`WriteShape`])
//! and the drains and stalls they cause ([`WriteEvents`]).

use std::collections::VecDeque;

use crate::compute::{Fold, Geometry};
use crate::config::Dataflow;

use super::ramp;

/// Ofmap writes per line of a fold: a skewed block, base rows `[lo, hi)` over `n` columns.
#[derive(Debug, Clone, Copy)]
pub(super) struct WriteShape {
    pub(super) lo: u64,
    pub(super) hi: u64,
    pub(super) n: u64,
}

impl WriteShape {
    pub(super) fn new(g: &Geometry, f: &Fold) -> WriteShape {
        let (r, t) = (g.rows, g.t);
        let (lo, hi) = match g.dataflow {
            // T-1 empty rows, then the R x C block flipped (valid rows at the bottom).
            Dataflow::Os => (t - 1 + r - f.rows_used, t - 1 + r),
            // 2R-1 empty rows, then T rows of outputs.
            Dataflow::Ws | Dataflow::Is => (2 * r - 1, 2 * r - 1 + t),
        };
        WriteShape {
            lo,
            hi,
            n: f.cols_used,
        }
    }

    /// Writes on lines `[0, l)`.
    #[inline]
    pub(super) fn prefix(&self, l: u64) -> u64 {
        let y = l as i128 - self.lo as i128;
        let h = (self.hi - self.lo) as i128;
        let n = self.n as i128;
        (ramp(y, n) - ramp(y - h, n)).max(0) as u64
    }

    #[inline]
    pub(super) fn count(&self, l: u64) -> u64 {
        self.prefix(l + 1) - self.prefix(l)
    }

    /// The smallest `x` in `[a, b)` with `prefix(x + 1) >= target` (it exists).
    pub(super) fn line_of(&self, a: u64, b: u64, target: u64) -> u64 {
        let (mut lo, mut hi) = (a, b - 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.prefix(mid + 1) >= target {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }
}

/// The ofmap write buffer by events (see `memory::WriteBuffer`).
pub(super) struct WriteEvents {
    pub(super) active: i64,
    pub(super) drain_lines: u64,
    pub(super) bw: u64,
    pub(super) free: i64,
    pub(super) fill: u64,
    /// Pending lines, run-length encoded: `(lines, fill of each)`.
    pub(super) pending: VecDeque<(u64, u64)>,
    pub(super) pending_lines: u64,
    pub(super) drain_end: i64,
    pub(super) accesses: u64,
}

impl WriteEvents {
    pub(super) fn new(size_elems: u64, bw: u64) -> WriteEvents {
        let bw = bw.max(1);
        let active = size_elems.div_ceil(2);
        WriteEvents {
            active: active as i64,
            drain_lines: (size_elems - active).div_ceil(bw),
            bw,
            free: size_elems as i64,
            fill: 0,
            pending: VecDeque::new(),
            pending_lines: 0,
            drain_end: 0,
            accesses: 0,
        }
    }

    pub(super) fn push_lines(&mut self, count: u64, fill: u64) {
        match self.pending.back_mut() {
            Some(back) if back.1 == fill => back.0 += count,
            _ => self.pending.push_back((count, fill)),
        }
        self.pending_lines += count;
    }

    /// `k` writes with no event among them.
    #[inline]
    pub(super) fn apply(&mut self, k: u64) {
        self.free -= k as i64;
        let total = self.fill + k;
        self.fill = total % self.bw;
        if total >= self.bw {
            self.push_lines(total / self.bw, self.bw);
        }
    }

    pub(super) fn flush(&mut self) {
        if self.fill != 0 {
            let fill = self.fill;
            self.fill = 0;
            self.push_lines(1, fill);
        }
    }

    /// `empty_drain_buf`: up to `drain_lines` lines; all but the last count as full.
    pub(super) fn drain(&mut self, start: i64) -> i64 {
        let n = self.drain_lines.min(self.pending_lines);
        if n == 0 {
            return start;
        }
        let (mut left, mut last) = (n, 0);
        while left > 0 {
            let Some(front) = self.pending.front_mut() else {
                break;
            };
            let take = front.0.min(left);
            front.0 -= take;
            left -= take;
            last = front.1;
            if front.0 == 0 {
                self.pending.pop_front();
            }
        }
        self.pending_lines -= n;
        let data = (n - 1) * self.bw + last;
        self.accesses += data;
        self.free += data as i64;
        start + n as i64 - 1
    }

    /// Writes before the next event: a stall while draining, else a drain.
    #[inline]
    pub(super) fn quiet_writes(&self, draining: bool) -> u64 {
        if draining {
            // The write that leaves `free <= 0` stalls.
            self.free.max(1) as u64
        } else {
            // The write that leaves `free < active` drains.
            (self.free - self.active + 1).max(1) as u64
        }
    }

    /// `count` writes issued at `cycle` (`service_writes`); returns the service cycle.
    pub(super) fn service_line(&mut self, mut count: u64, cycle: i64) -> i64 {
        let mut current = cycle;
        while count > 0 {
            let draining = current < self.drain_end;
            let k = self.quiet_writes(draining);
            if k > count {
                self.apply(count);
                break;
            }
            self.apply(k);
            count -= k;
            if draining {
                current = self.drain_end;
            } else {
                self.flush();
                self.drain_end = self.drain(current);
            }
        }
        current
    }

    /// Lines `[a, b)` of a fold whose line `l` issues at `g0 + l + stalls`, with no read
    /// stall among them: jumps to each event's line. Write stalls are added to `stalls`.
    pub(super) fn lines(&mut self, w: &WriteShape, g0: i64, mut a: u64, b: u64, stalls: &mut i64) {
        while a < b {
            let cycle = g0 + a as i64 + *stalls;
            let draining = cycle < self.drain_end;
            let limit = if draining {
                b.min(a + (self.drain_end - cycle) as u64)
            } else {
                b
            };
            let k = self.quiet_writes(draining);
            let pa = w.prefix(a);
            let writes = w.prefix(limit) - pa;
            if writes < k {
                self.apply(writes);
                a = limit;
                continue;
            }
            let x = w.line_of(a, limit, pa + k);
            self.apply(w.prefix(x) - pa);
            let cx = g0 + x as i64 + *stalls;
            let out = self.service_line(w.count(x), cx);
            *stalls += out - cx;
            a = x + 1;
        }
    }

    /// `empty_all_buffers` after the last line.
    pub(super) fn finish(&mut self, mut cycle: i64) {
        self.flush();
        while self.pending_lines > 0 {
            let before = self.pending_lines;
            self.drain_end = self.drain(cycle);
            cycle = self.drain_end + 1;
            if self.pending_lines >= before {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::skew_cols;

    #[test]
    pub(super) fn write_prefix_matches_counts() {
        let w = WriteShape { lo: 3, hi: 9, n: 4 };
        let mut sum = 0;
        for l in 0..20 {
            assert_eq!(w.prefix(l), sum);
            sum += skew_cols(l, 3, 9, 4).count() as u64;
        }
    }
}
