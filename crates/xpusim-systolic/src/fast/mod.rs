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

mod operand;
mod reads;
mod writes;

use crate::compute::Geometry;
use crate::config::{ArrayConfig, BandwidthMode};
use xpusim_scalesim::Layer;

use operand::Operand;
use reads::{EstimateBlocks, UserSets};
use writes::{WriteEvents, WriteShape};

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
pub(super) fn ramp(z: i128, k: i128) -> i128 {
    let m = z.clamp(0, k.max(0));
    m * z - m * (m - 1) / 2
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
