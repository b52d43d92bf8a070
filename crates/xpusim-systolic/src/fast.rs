//! The double-buffered memory replay of `memory.rs`, event-skipping and exact.
//!
//! `simulate_layer_replay` walks every demand line through the
//! three buffers, testing every address: `O(addresses)`, about 10⁹ for GPT-2 small's GEMMs.
//! Most of that work decides nothing: a read that hits, a write that neither fills the
//! buffer nor triggers a drain, changes no timing. This module visits only the lines where
//! something happens and jumps over the rest in `O(1)` or `O(log lines)`:
//!
//! - **CALC read buffers** (`read_buffer_estimate_bw.py`). The estimator's 50-set window is an
//!   *epoch*: it holds the first `K = 50 * floor(size / 100)` distinct addresses fetched since
//!   it began, and the fetch after the `K`-th starts a new, empty epoch. An address hits iff it
//!   was read earlier in the current epoch. When each fold reads a *block* of distinct
//!   addresses and different blocks are disjoint (below), a block's history is two numbers:
//!   the epoch of its last read and the position in it from which that read was in that
//!   epoch. A fold then costs `O(1)`: the block's old part misses, its recent part hits,
//!   unless the epoch fills on the way, after which everything left misses.
//! - **USER read buffers** (`read_buffer.py`). Each address sits in exactly one prefetch set,
//!   `rank / ceil(size / 100)`, where `rank` is its position in the prefetch order, computed
//!   in closed form ([`Operand::rank`]). The skewed operand's demand walks the same
//!   anti-diagonals as its prefetch roll-out, so within a fold its set ids never decrease; the
//!   first line that leaves the resident window is found by binary search on the set of each
//!   line's last element. The stationary operand's lines are ascending rank runs, screened
//!   whole. Only lines with a miss are serviced address by address, with SCALE-Sim's own
//!   arithmetic.
//! - **Write buffer** (`write_buffer.py`). Writes per line are a skewed trapezoid with a
//!   closed-form prefix sum, and between events the buffer only counts: the next event is the
//!   write that brings `free` below the active half (a drain, when the last drain is over) or
//!   to zero (a stall, while it is draining). That write's line is found by binary search;
//!   pending lines are run-length encoded, keeping the partial lines a forced flush leaves
//!   (SCALE-Sim counts all but the last line of a drain as full).
//!
//! The block structure holds when the ifmap operand matrix has no repeated and no `-1`
//! element: windows that do not overlap and fit the ifmap ([`eligible`]; every GEMM, every
//! 1x1 or non-overlapping convolution). Other layers use the line-by-line replay. The
//! property test `tests/replay_equivalence.rs` checks this module against that replay.

use std::collections::VecDeque;

use crate::compute::{Fold, Geometry};
use crate::config::{ArrayConfig, BandwidthMode, Dataflow};
use crate::stream::skew_cols;
use xpusim_scalesim::Layer;

/// Whether every ifmap operand element `(pixel, window index)` is a valid address and no two
/// are the same: windows fit the ifmap and do not overlap (or there is one window along that
/// axis, as in a GEMM, where the single window spans the whole `K` row).
pub(crate) fn eligible(layer: &Layer) -> bool {
    let (oh, ow) = (layer.ofmap_h(), layer.ofmap_w());
    let fits = |o: u64, s: u64, f: u64, size: u64| {
        (o - 1)
            .checked_mul(s)
            .and_then(|x| x.checked_add(f))
            .is_some_and(|x| x <= size)
    };
    (oh == 1 || layer.stride_h >= layer.filter_h)
        && (ow == 1 || layer.stride_w >= layer.filter_w)
        && fits(oh, layer.stride_h, layer.filter_h, layer.ifmap_h)
        && fits(ow, layer.stride_w, layer.filter_w, layer.ifmap_w)
}

/// `Σ_{c=0}^{k-1} max(0, z - c)`.
#[inline]
fn ramp(z: i128, k: i128) -> i128 {
    let m = z.clamp(0, k.max(0));
    m * z - m * (m - 1) / 2
}

/// Cells `(r, c)` with `0 <= r < h`, `c0 <= c < c1`, `r + c < d`.
#[inline]
fn below_diagonal(h: i128, c0: i128, c1: i128, d: i128) -> i128 {
    let w = c1 - c0;
    if w <= 0 || h <= 0 {
        return 0;
    }
    ramp(d - c0, w) - ramp(d - c0 - h, w)
}

/// Cells of the same rectangle on diagonal `d` with a row above `r` (rolled out first).
#[inline]
fn on_diagonal_after(h: i128, c0: i128, c1: i128, r: i128, d: i128) -> i128 {
    if c1 <= c0 || h <= 0 {
        return 0;
    }
    let lo = (r + 1).max(d - c1 + 1);
    let hi = (h - 1).min(d - c0);
    (hi - lo + 1).max(0)
}

/// How one read operand's demand lines map onto its prefetch matrix
/// (`systolic_compute_*.py`, `create_*_demand_mat` and `create_*_prefetch_mat`).
#[derive(Debug, Clone, Copy)]
enum Role {
    /// Streamed, skewed operand. Line `l` of a fold with index `fidx` (row or column fold)
    /// using `used` array lines holds columns `c` of base rows `l - c - base`, `base <= l - c
    /// < base + t`; in the prefetch matrix (`folds * t` rows of `n`, rolled out along
    /// anti-diagonals) that is row `fidx * t + l - c - base`, column `c`.
    Skewed { base: u64, by_row_fold: bool },
    /// Stationary operand on the fold's first `r` lines, flipped: line `l` is window index
    /// `fr * r + r - 1 - l`, columns `0..cols_used`; prefetch matrix `col_folds * w` rows of
    /// `n`, row order, row `fc * w + fr * r + r - 1 - l`.
    Stationary,
}

/// One read operand: its role and its prefetch matrix.
#[derive(Debug, Clone, Copy)]
struct Operand {
    role: Role,
    /// Array rows `R` (the stationary operand's line count).
    r: u64,
    /// Rows of the prefetch matrix per fold (`t` skewed, `w` stationary).
    rows_per_fold: u64,
    /// Columns of the prefetch matrix.
    n: u64,
    /// Folds stacked in the prefetch matrix.
    folds: u64,
    /// Valid columns of the last fold (`used(...)` in `get_prefetch_matrices`).
    last_used: u64,
}

impl Operand {
    fn skewed(g: &Geometry, base: u64, by_row_fold: bool) -> Operand {
        let (n, folds, extent) = if by_row_fold {
            (g.rows, g.row_folds, g.sr)
        } else {
            (g.cols, g.col_folds, g.sc)
        };
        Operand {
            role: Role::Skewed { base, by_row_fold },
            r: g.rows,
            rows_per_fold: g.t,
            n,
            folds,
            last_used: extent - (folds - 1) * n,
        }
    }

    fn stationary(g: &Geometry) -> Operand {
        Operand {
            role: Role::Stationary,
            r: g.rows,
            rows_per_fold: g.window,
            n: g.cols,
            folds: g.col_folds,
            last_used: g.sc - (g.col_folds - 1) * g.cols,
        }
    }

    /// The (ifmap, filter) operands of a dataflow.
    fn pair(g: &Geometry) -> (Operand, Operand) {
        match g.dataflow {
            Dataflow::Os => (Operand::skewed(g, 0, true), Operand::skewed(g, 0, false)),
            Dataflow::Ws => (Operand::skewed(g, g.rows, true), Operand::stationary(g)),
            Dataflow::Is => (Operand::stationary(g), Operand::skewed(g, g.rows, true)),
        }
    }

    /// Elements of the prefetch matrix, `-1` padding included (`num_elems`).
    fn matrix_elems(&self) -> u64 {
        self.folds * self.rows_per_fold * self.n
    }

    /// Valid elements of the prefetch matrix.
    fn valid_elems(&self) -> u64 {
        (self.folds - 1) * self.rows_per_fold * self.n + self.rows_per_fold * self.last_used
    }

    /// `(fold index, array lines used)` of the skewed operand in fold `f`.
    #[inline]
    fn skew_sel(by_row_fold: bool, f: &Fold) -> (u64, u64) {
        if by_row_fold {
            (f.fr, f.rows_used)
        } else {
            (f.fc, f.cols_used)
        }
    }

    /// The demand lines of fold `f` that hold this operand.
    fn lines(&self, f: &Fold) -> std::ops::Range<u64> {
        match self.role {
            Role::Skewed { base, by_row_fold } => {
                let (_, used) = Operand::skew_sel(by_row_fold, f);
                base..base + self.rows_per_fold + used - 1
            }
            Role::Stationary => self.r - f.rows_used..self.r,
        }
    }

    /// Element columns of line `l` (in `self.lines(f)`), in demand order.
    #[inline]
    fn cols(&self, f: &Fold, l: u64) -> std::ops::Range<u64> {
        match self.role {
            Role::Skewed { base, by_row_fold } => {
                let (_, used) = Operand::skew_sel(by_row_fold, f);
                skew_cols(l, base, base + self.rows_per_fold, used)
            }
            Role::Stationary => 0..f.cols_used,
        }
    }

    /// Position in the prefetch order of element column `c` of line `l` of fold `f`.
    #[inline]
    fn rank(&self, f: &Fold, l: u64, c: u64) -> u64 {
        let t = self.rows_per_fold;
        match self.role {
            Role::Skewed { base, by_row_fold } => {
                let (fidx, _) = Operand::skew_sel(by_row_fold, f);
                let row = fidx * t + (l - c - base);
                self.diagonal_rank(row, c)
            }
            Role::Stationary => {
                let row = f.fc * t + f.fr * self.r + (self.r - 1 - l);
                let full_rows = (self.folds - 1) * t;
                if row < full_rows {
                    row * self.n + c
                } else {
                    full_rows * self.n + (row - full_rows) * self.last_used + c
                }
            }
        }
    }

    /// Valid elements rolled out before `(row, col)` along anti-diagonals, lower rows first
    /// (`create_*_prefetch_mat`, "Fixing ISSUE #15, #16"). The valid cells are the rectangle
    /// `[0, folds*t) x [0, last_used)` plus `[0, (folds-1)*t) x [last_used, n)`.
    fn diagonal_rank(&self, row: u64, col: u64) -> u64 {
        let (r, d) = (row as i128, (row + col) as i128);
        let t = self.rows_per_fold as i128;
        let folds = self.folds as i128;
        let (u, n) = (self.last_used as i128, self.n as i128);
        let (h1, h2) = (folds * t, (folds - 1) * t);
        let rank = below_diagonal(h1, 0, u, d)
            + on_diagonal_after(h1, 0, u, r, d)
            + below_diagonal(h2, u, n, d)
            + on_diagonal_after(h2, u, n, r, d);
        rank.max(0) as u64
    }

    /// The estimator block of fold `f`: `(block id, addresses)`. A skewed operand's fold reads
    /// the block of its row (or column) fold, the same sequence whenever it recurs; a
    /// stationary block is read by one fold only (id `None`).
    fn block(&self, f: &Fold) -> (Option<u64>, u64) {
        match self.role {
            Role::Skewed { by_row_fold, .. } => {
                let (fidx, used) = Operand::skew_sel(by_row_fold, f);
                (Some(fidx), used * self.rows_per_fold)
            }
            Role::Stationary => (None, f.rows_used * f.cols_used),
        }
    }
}

/// CALC-mode read buffer by blocks (see the module doc and `memory::EstimateReadBuffer`).
struct EstimateBlocks {
    op: Operand,
    /// Fetches per epoch (`50 * items_per_set`); `u64::MAX` when sets never fill.
    capacity: u64,
    /// Fetches in the current epoch (`< capacity`).
    in_epoch: u64,
    epoch: u64,
    fetched: u64,
    /// Per skewed block: `(epoch + 1, p)`: positions `p..` of its last read were fetched or
    /// hit in that epoch; `(0, _)`: never read.
    seen: Vec<(u64, u64)>,
}

impl EstimateBlocks {
    fn new(op: Operand, size_elems: u64) -> EstimateBlocks {
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

    fn read_fold(&mut self, f: &Fold) {
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
struct UserSets {
    op: Operand,
    per_set: u64,
    num_sets: u64,
    active_sets: u64,
    prefetch_sets: u64,
    start: u64,
    end: u64,
    last_prefetch: i64,
    accesses: u64,
    bw: u64,
    prefetch_lines: u64,
}

impl UserSets {
    fn new(op: Operand, size_elems: u64, bw: u64) -> UserSets {
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
    fn set(&self, f: &Fold, l: u64, c: u64) -> u64 {
        self.op.rank(f, l, c) / self.per_set
    }

    /// `read_buffer.py` `check_hit` for a single set id.
    #[inline]
    fn resident(&self, s: u64) -> bool {
        if self.start < self.end {
            self.start <= s && s < self.end
        } else {
            s >= self.start || s < self.end
        }
    }

    /// Whether every set in `[a, b]` is resident.
    #[inline]
    fn all_resident(&self, a: u64, b: u64) -> bool {
        if self.start < self.end {
            self.start <= a && b < self.end
        } else {
            self.start == self.end || b < self.end || a >= self.start
        }
    }

    /// The first line at or after `from` of fold `f` that may miss, if any.
    fn next_event(&self, f: &Fold, from: u64) -> Option<u64> {
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

    fn new_prefetch(&mut self) {
        self.start = (self.start + self.prefetch_sets) % self.num_sets;
        self.end = (self.start + self.active_sets) % self.num_sets;
        self.accesses += self.prefetch_lines * self.bw;
        self.last_prefetch += self.prefetch_lines as i64 + 1;
    }

    /// Services line `l` of fold `f` at `cycle` address by address (`service_reads`); returns
    /// the lateness beyond the one-cycle hit latency.
    fn service_line(&mut self, f: &Fold, l: u64, cycle: i64) -> i64 {
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

/// Ofmap writes per line of a fold: a skewed block, base rows `[lo, hi)` over `n` columns.
#[derive(Debug, Clone, Copy)]
struct WriteShape {
    lo: u64,
    hi: u64,
    n: u64,
}

impl WriteShape {
    fn new(g: &Geometry, f: &Fold) -> WriteShape {
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
    fn prefix(&self, l: u64) -> u64 {
        let y = l as i128 - self.lo as i128;
        let h = (self.hi - self.lo) as i128;
        let n = self.n as i128;
        (ramp(y, n) - ramp(y - h, n)).max(0) as u64
    }

    #[inline]
    fn count(&self, l: u64) -> u64 {
        self.prefix(l + 1) - self.prefix(l)
    }

    /// The smallest `x` in `[a, b)` with `prefix(x + 1) >= target` (it exists).
    fn line_of(&self, a: u64, b: u64, target: u64) -> u64 {
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
struct WriteEvents {
    active: i64,
    drain_lines: u64,
    bw: u64,
    free: i64,
    fill: u64,
    /// Pending lines, run-length encoded: `(lines, fill of each)`.
    pending: VecDeque<(u64, u64)>,
    pending_lines: u64,
    drain_end: i64,
    accesses: u64,
}

impl WriteEvents {
    fn new(size_elems: u64, bw: u64) -> WriteEvents {
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

    fn push_lines(&mut self, count: u64, fill: u64) {
        match self.pending.back_mut() {
            Some(back) if back.1 == fill => back.0 += count,
            _ => self.pending.push_back((count, fill)),
        }
        self.pending_lines += count;
    }

    /// `k` writes with no event among them.
    #[inline]
    fn apply(&mut self, k: u64) {
        self.free -= k as i64;
        let total = self.fill + k;
        self.fill = total % self.bw;
        if total >= self.bw {
            self.push_lines(total / self.bw, self.bw);
        }
    }

    fn flush(&mut self) {
        if self.fill != 0 {
            let fill = self.fill;
            self.fill = 0;
            self.push_lines(1, fill);
        }
    }

    /// `empty_drain_buf`: up to `drain_lines` lines; all but the last count as full.
    fn drain(&mut self, start: i64) -> i64 {
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
    fn quiet_writes(&self, draining: bool) -> u64 {
        if draining {
            // The write that leaves `free <= 0` stalls.
            self.free.max(1) as u64
        } else {
            // The write that leaves `free < active` drains.
            (self.free - self.active + 1).max(1) as u64
        }
    }

    /// `count` writes issued at `cycle` (`service_writes`); returns the service cycle.
    fn service_line(&mut self, mut count: u64, cycle: i64) -> i64 {
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
    fn lines(&mut self, w: &WriteShape, g0: i64, mut a: u64, b: u64, stalls: &mut i64) {
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
    fn finish(&mut self, mut cycle: i64) {
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

enum Reads {
    Calc(EstimateBlocks, EstimateBlocks),
    User(UserSets, UserSets),
}

/// `(total cycles, stall cycles, [dram ifmap reads, dram filter reads, dram ofmap writes])`,
/// or `None` when the layer is not [`eligible`].
pub(crate) fn replay(
    cfg: &ArrayConfig,
    layer: &Layer,
    g: &Geometry,
) -> Option<(i64, i64, [u64; 3])> {
    if !eligible(layer) {
        return None;
    }
    let kb = |k: u64| k.saturating_mul(1024);
    let (ifop, filop) = Operand::pair(g);
    let (mut reads, mut wb) = match cfg.bandwidth_mode {
        BandwidthMode::Calc => (
            Reads::Calc(
                EstimateBlocks::new(ifop, kb(cfg.ifmap_sram_kb)),
                EstimateBlocks::new(filop, kb(cfg.filter_sram_kb)),
            ),
            WriteEvents::new(kb(cfg.ofmap_sram_kb), g.cols),
        ),
        BandwidthMode::User => (
            Reads::User(
                UserSets::new(ifop, kb(cfg.ifmap_sram_kb), cfg.ifmap_dram_bandwidth),
                UserSets::new(filop, kb(cfg.filter_sram_kb), cfg.filter_dram_bandwidth),
            ),
            WriteEvents::new(kb(cfg.ofmap_sram_kb), cfg.ofmap_dram_bandwidth()),
        ),
    };
    let per_fold = g.lines_per_fold;
    let folds = g.num_folds();
    let mut stalls: i64 = 0;
    let mut last_out: i64 = 0;
    for (k, f) in g.folds().enumerate() {
        let g0 = (k as u64 * per_fold) as i64;
        let last_fold = k as u64 + 1 == folds;
        // The layer's last line is serviced on its own: its service cycle is `Total Cycles`.
        let end = if last_fold { per_fold - 1 } else { per_fold };
        let w = WriteShape::new(g, &f);
        match &mut reads {
            Reads::Calc(i, fi) => {
                i.read_fold(&f);
                fi.read_fold(&f);
                wb.lines(&w, g0, 0, end, &mut stalls);
            }
            Reads::User(i, fi) => {
                let mut l = 0;
                loop {
                    let e = match (i.next_event(&f, l), fi.next_event(&f, l)) {
                        (Some(a), Some(b)) => a.min(b),
                        (a, b) => a.or(b).unwrap_or(end),
                    }
                    .min(end);
                    wb.lines(&w, g0, l, e, &mut stalls);
                    if e >= end {
                        break;
                    }
                    let cycle = g0 + e as i64 + stalls;
                    let li = i.service_line(&f, e, cycle);
                    let lf = fi.service_line(&f, e, cycle);
                    let out = wb.service_line(w.count(e), cycle);
                    stalls += li.max(lf).max(out - cycle);
                    l = e + 1;
                }
            }
        }
        if last_fold {
            let e = per_fold - 1;
            let cycle = g0 + e as i64 + stalls;
            let (li, lf) = match &mut reads {
                Reads::Calc(..) => (0, 0),
                Reads::User(i, fi) => (i.service_line(&f, e, cycle), fi.service_line(&f, e, cycle)),
            };
            let out = wb.service_line(w.count(e), cycle);
            stalls += li.max(lf).max(out - cycle);
            last_out = out;
        }
    }
    wb.finish(last_out);
    let (ri, rf) = match &reads {
        Reads::Calc(i, f) => (i.fetched, f.fetched),
        Reads::User(i, f) => (i.accesses, f.accesses),
    };
    Some((last_out, stalls, [ri, rf, wb.accesses]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `diagonal_rank` against an explicit roll-out (`stream.rs`, `roll_out`).
    #[test]
    fn diagonal_rank_matches_roll_out() {
        for (folds, t, n, u) in [
            (1, 1, 1, 1),
            (3, 4, 3, 2),
            (2, 5, 4, 4),
            (4, 2, 5, 1),
            (1, 7, 3, 2),
        ] {
            let op = Operand {
                role: Role::Skewed {
                    base: 0,
                    by_row_fold: true,
                },
                r: n,
                rows_per_fold: t,
                n,
                folds,
                last_used: u,
            };
            let m = folds * t;
            let valid = |row: u64, col: u64| col < if row < (folds - 1) * t { n } else { u };
            let mut k = 0;
            for d in 0..m + n - 1 {
                for row in (0..m).rev() {
                    if row > d || d - row >= n || !valid(row, d - row) {
                        continue;
                    }
                    assert_eq!(
                        op.diagonal_rank(row, d - row),
                        k,
                        "{folds} {t} {n} {u} ({row}, {})",
                        d - row
                    );
                    k += 1;
                }
            }
            assert_eq!(k, op.valid_elems());
        }
    }

    #[test]
    fn write_prefix_matches_counts() {
        let w = WriteShape { lo: 3, hi: 9, n: 4 };
        let mut sum = 0;
        for l in 0..20 {
            assert_eq!(w.prefix(l), sum);
            sum += skew_cols(l, 3, 9, 4).count() as u64;
        }
    }
}
