//! Bank-level timing and energy of the ops PIM runs: GEMV / small-batch GEMM, decode
//! attention (a GEMV over K for the scores and one over V for the context), embedding
//! gathers.
//!
//! **Streaming** (AttAcc §5.1; Newton, He et al. MICRO 2020 §III; HBM-PIM, Lee et al.
//! ISCA 2021 §4). A weight matrix is spread evenly over every processing unit (PU) of the
//! stacks it lives on. Each PU reads its share one `atom_bytes` column access every
//! `mac_interval_cycles` (the all-bank MAC command interval, which also carries the power
//! limit: AttAcc stretches nCCDAB from 4 to 6 cycles for it). A row of `a = row/atom`
//! columns costs the bank `c_row = max(tRCD + a·interval, tRAS) + tRP` cycles when it serves
//! the PU alone. A PU fed by `g = banks/units` banks reads them in turn and hides one
//! bank's precharge and activation behind the others' reads, so one row takes
//! `max(a·interval, c_row / g)` cycles. Per-bank activations (not all-bank) are further
//! limited by tFAW: at most 4 per pseudo-channel per window, so a row period is at least
//! `units·tFAW / 4`. All-bank ACTs are one command and exempt (their power is what the
//! stretched interval pays for).
//!
//! **Compute**: MACs of a PU / (`macs_per_cycle` · PU clock); the PU pipelines MACs with
//! column reads, so the in-memory phase takes `max(stream, compute)`.
//!
//! **I/O and reduction**: the input vectors are written over the stack interface before the
//! MACs (broadcast to every pseudo-channel for a shared weight, to the head's own
//! pseudo-channels for attention), the outputs read back after; when the reduction
//! dimension is split over PUs the partial sums are added in the bank-group / buffer die
//! (AttAcc §4.2), moving `split·outputs` partials over the pseudo-channel bus.
//!
//! **Energy** (AttAcc src/config.py after O'Connor et al. MICRO 2017): every streamed bit
//! pays activation + cell read and the wires from the bank up to the PU's level; inputs,
//! outputs and partials pay the wires between the PU's level and the off-chip I/O;
//! MACs pay `mac_pj`. A per-stack power budget, where given, is a floor on time:
//! `t ≥ E_dyn / (stacks · budget_w)`.

use serde::Serialize;

use xpusim_hw::{PimSpec, PuLevel};

/// A matrix–vector product on PIM: `batch` input vectors of length `cols` times a
/// `rows × cols` matrix stored in the PIM memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gemv {
    pub rows: u64,
    pub cols: u64,
    pub batch: u64,
    pub elem_bytes: u64,
    /// Distinct inputs: 1 for a shared weight (every pseudo-channel needs the whole
    /// input, broadcast), `requests × kv_heads` for attention, where each block of
    /// `rows / input_sets` rows has its own input vectors.
    pub input_sets: u64,
}

/// Time and energy of one PIM op, with the parts that make it up.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PimCost {
    pub time_s: f64,
    pub energy_j: f64,
    pub stream_s: f64,
    pub compute_s: f64,
    pub io_s: f64,
    pub reduce_s: f64,
    pub softmax_s: f64,
    pub overhead_s: f64,
    /// Bytes read from the DRAM arrays by the PUs.
    pub internal_bytes: u64,
    /// Bytes across the stack interfaces (inputs, outputs).
    pub io_bytes: u64,
    /// Softmax elements left for the host (attention on a device without a softmax unit).
    pub host_softmax_elems: u64,
}

impl PimCost {
    fn add(&mut self, o: &PimCost) {
        self.time_s += o.time_s;
        self.energy_j += o.energy_j;
        self.stream_s += o.stream_s;
        self.compute_s += o.compute_s;
        self.io_s += o.io_s;
        self.reduce_s += o.reduce_s;
        self.softmax_s += o.softmax_s;
        self.overhead_s += o.overhead_s;
        self.internal_bytes += o.internal_bytes;
        self.io_bytes += o.io_bytes;
        self.host_softmax_elems += o.host_softmax_elems;
    }
}

/// Energy of one bit from the cell array to a PU at `level`, pJ.
pub fn cell_to_pu_pj_per_bit(s: &PimSpec) -> f64 {
    let e = &s.energy;
    let base = e.activate_pj_per_bit + e.cell_pj_per_bit;
    match s.processing.level {
        PuLevel::Bank => base,
        PuLevel::BankGroup => base + e.bank_to_bank_group_pj_per_bit,
        PuLevel::BufferDie => {
            base + e.bank_to_bank_group_pj_per_bit + e.bank_group_to_buffer_pj_per_bit
        }
    }
}

/// Energy of one bit between a PU at `level` and the off-chip I/O, pJ.
pub fn pu_to_host_pj_per_bit(s: &PimSpec) -> f64 {
    let e = &s.energy;
    let up = match s.processing.level {
        PuLevel::Bank => e.bank_to_bank_group_pj_per_bit + e.bank_group_to_buffer_pj_per_bit,
        PuLevel::BankGroup => e.bank_group_to_buffer_pj_per_bit,
        PuLevel::BufferDie => 0.0,
    };
    up + e.offchip_pj_per_bit
}

/// Command-clock cycles one PU needs per full row it streams.
pub fn row_cycles(s: &PimSpec) -> f64 {
    let t = &s.timing;
    let p = &s.processing;
    let atoms = (s.organization.row_bytes / s.organization.atom_bytes) as f64;
    let read = atoms * p.mac_interval_cycles as f64;
    let alone = (t.t_rcd as f64 + read).max(t.t_ras as f64) + t.t_rp as f64;
    let banks_per_unit = (s.organization.banks / p.units).max(1) as f64;
    let mut row = read.max(alone / banks_per_unit);
    if !p.all_bank_activate {
        row = row.max(p.units as f64 * t.t_faw as f64 / 4.0);
    }
    row
}

/// Sustained internal read bandwidth of `stacks` stacks in PIM mode, bytes/s.
pub fn internal_bandwidth_bps(s: &PimSpec, stacks: u64) -> f64 {
    let units = (s.units_per_stack() * stacks) as f64;
    units * s.organization.row_bytes as f64 / (row_cycles(s) * s.tck_s())
}

/// GEMV (or small-batch GEMM) on `stacks` stacks. With at least as many rows as PUs each PU
/// owns whole rows; with fewer, each row's reduction may be split over `split` PUs (a power
/// of two, at most one atom per PU) at the price of `split` partial sums per output. The
/// split with the least time is taken, so adding PUs never slows a GEMV down.
pub fn gemv(s: &PimSpec, stacks: u64, g: &Gemv) -> PimCost {
    let units = s.units_per_stack() * stacks.max(1);
    let rows = g.rows.max(1);
    let col_atoms = (g.cols * g.elem_bytes)
        .div_ceil(s.organization.atom_bytes)
        .max(1);
    let max_split = if rows >= units {
        1
    } else {
        (units / rows).min(col_atoms).max(1)
    };
    let mut best = gemv_split(s, stacks, g, 1);
    let mut split = 2;
    while split <= max_split {
        let c = gemv_split(s, stacks, g, split);
        if c.time_s < best.time_s {
            best = c;
        }
        split *= 2;
    }
    best
}

fn gemv_split(s: &PimSpec, stacks: u64, g: &Gemv, split: u64) -> PimCost {
    let o = &s.organization;
    let p = &s.processing;
    let stacks = stacks.max(1);
    let units = (s.units_per_stack() * stacks).min(g.rows.max(1) * split);
    let pchs = s.pseudo_channels_per_stack() * stacks;
    let matrix_bytes = g.rows * g.cols * g.elem_bytes;
    let per_unit = matrix_bytes.div_ceil(units).div_ceil(o.atom_bytes) * o.atom_bytes;
    let rows_per_unit = per_unit as f64 / o.row_bytes as f64;
    let stream_s = rows_per_unit * row_cycles(s) * s.tck_s();
    let macs = g.rows * g.cols * g.batch;
    let compute_s = macs.div_ceil(units) as f64 / (p.macs_per_cycle as f64 * p.clock_mhz * 1e6);
    let io_bw = s.io.bandwidth_gbps * 1e9;
    let shared = g.input_sets <= 1;
    let in_bytes = g.input_sets.max(1) * g.batch * g.cols * g.elem_bytes;
    let out_bytes = g.batch * g.rows * g.elem_bytes;
    let per_pch_bw = io_bw / s.pseudo_channels_per_stack() as f64;
    let in_s = if shared {
        in_bytes as f64 / per_pch_bw
    } else {
        in_bytes as f64 / (io_bw * stacks as f64)
    };
    let out_s = out_bytes as f64 / (io_bw * stacks as f64);
    let partial_bytes = if split > 1 { out_bytes * split } else { 0 };
    let reduce_s = partial_bytes as f64 / (per_pch_bw * pchs as f64);
    let overhead_s = (p.mode_switch_ns + p.command_ns) * 1e-9;
    let in_io_bytes = if shared { in_bytes * pchs } else { in_bytes };
    let e = &s.energy;
    let reduce_pj = match p.level {
        PuLevel::Bank => e.bank_to_bank_group_pj_per_bit + e.bank_group_to_buffer_pj_per_bit,
        PuLevel::BankGroup => e.bank_group_to_buffer_pj_per_bit,
        PuLevel::BufferDie => 0.0,
    };
    let energy_j = (matrix_bytes as f64 * 8.0 * cell_to_pu_pj_per_bit(s)
        + (in_io_bytes + out_bytes) as f64 * 8.0 * pu_to_host_pj_per_bit(s)
        + partial_bytes as f64 * 8.0 * reduce_pj
        + macs as f64 * e.mac_pj)
        * 1e-12;
    let mut time_s = in_s + stream_s.max(compute_s) + reduce_s + out_s + overhead_s;
    if let Some(w) = s.power.budget_w {
        time_s = time_s.max(energy_j / (w * stacks as f64));
    }
    PimCost {
        time_s,
        energy_j,
        stream_s,
        compute_s,
        io_s: in_s + out_s,
        reduce_s,
        softmax_s: 0.0,
        overhead_s,
        internal_bytes: matrix_bytes,
        io_bytes: in_bytes + out_bytes,
        host_softmax_elems: 0,
    }
}

/// Decode attention shape on PIM: `batch` requests, `heads` query heads sharing
/// `kv_heads` K/V heads, `q_len` new tokens each over `kv_len` cached positions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attention {
    pub batch: u64,
    pub heads: u64,
    pub kv_heads: u64,
    pub q_len: u64,
    pub kv_len: u64,
    pub head_dim: u64,
    pub elem_bytes: u64,
}

/// Decode attention: scores `q·Kᵀ` (a GEMV over the `kv_len × head_dim` K of every
/// request and KV head, the grouped queries as its batch), softmax on the buffer die or the
/// host, context `p·V` (a GEMV over Vᵀ). Each head's inputs go only to its own
/// pseudo-channels (AttAcc §5.2 maps heads to pseudo-channels), so inputs are not
/// broadcast. Without a softmax unit the scores travel to the host and the probabilities
/// back: that traffic is in `io_s`, the host's softmax itself is left to the caller
/// (`host_softmax_elems`).
pub fn attention(s: &PimSpec, stacks: u64, a: &Attention) -> PimCost {
    let group = (a.heads / a.kv_heads.max(1)).max(1) * a.q_len;
    let kv = a.batch * a.kv_heads;
    let score = gemv(
        s,
        stacks,
        &Gemv {
            rows: kv * a.kv_len,
            cols: a.head_dim,
            batch: group,
            elem_bytes: a.elem_bytes,
            input_sets: kv,
        },
    );
    let context = gemv(
        s,
        stacks,
        &Gemv {
            rows: kv * a.head_dim,
            cols: a.kv_len,
            batch: group,
            elem_bytes: a.elem_bytes,
            input_sets: kv,
        },
    );
    let mut c = score.clone();
    c.add(&context);
    // The context GEMV's input (the probabilities) was charged as I/O above; the scores
    // come out of the score GEMV as its output. With a buffer-die softmax neither leaves
    // the stack: remove their off-chip energy share and time, and add the softmax unit.
    let elems = a.batch * a.heads * a.q_len * a.kv_len;
    let prob_bytes = elems * a.elem_bytes;
    let io_bw = s.io.bandwidth_gbps * 1e9 * stacks.max(1) as f64;
    // max, subtract, exp, sum, divide (xpusim-ir Softmax: 5 FLOPs per element).
    const SOFTMAX_FLOPS_PER_ELEM: f64 = 5.0;
    match s.processing.softmax_gflops {
        Some(g) if s.processing.softmax == xpusim_hw::SoftmaxPlace::BufferDie => {
            let hop = 2.0 * prob_bytes as f64 / io_bw;
            c.io_s -= hop;
            c.time_s -= hop;
            c.energy_j -= 2.0 * prob_bytes as f64 * 8.0 * s.energy.offchip_pj_per_bit * 1e-12;
            c.io_bytes -= 2 * prob_bytes;
            let sm = elems as f64 * SOFTMAX_FLOPS_PER_ELEM / (g * 1e9 * stacks.max(1) as f64);
            c.softmax_s = sm;
            c.time_s += sm;
        }
        _ => c.host_softmax_elems = elems,
    }
    c
}

/// Embedding lookups: `tokens` gathers of one `row_bytes`-sized vector each. A gather opens
/// one row and reads `dim·elem` bytes at tCCD_S over the pseudo-channel bus; gathers go to
/// different banks of all pseudo-channels in parallel, at most 4 activations per tFAW.
pub fn embedding(s: &PimSpec, stacks: u64, tokens: u64, dim: u64, elem_bytes: u64) -> PimCost {
    let t = &s.timing;
    let stacks = stacks.max(1);
    let pchs = s.pseudo_channels_per_stack() * stacks;
    let bytes = tokens * dim * elem_bytes;
    let atoms = (dim * elem_bytes).div_ceil(s.organization.atom_bytes) as f64;
    let per_pch = tokens.div_ceil(pchs) as f64;
    let per_gather = (atoms * t.t_ccd_s as f64).max(t.t_faw as f64 / 4.0);
    let first = (t.t_rcd + t.t_rp) as f64;
    let stream_s = (first + per_pch * per_gather) * s.tck_s();
    let io_s = bytes as f64 / (s.io.bandwidth_gbps * 1e9 * stacks as f64);
    let overhead_s = s.processing.command_ns * 1e-9;
    let e = &s.energy;
    let path = e.activate_pj_per_bit
        + e.cell_pj_per_bit
        + e.bank_to_bank_group_pj_per_bit
        + e.bank_group_to_buffer_pj_per_bit
        + e.offchip_pj_per_bit;
    PimCost {
        time_s: stream_s + io_s + overhead_s,
        energy_j: bytes as f64 * 8.0 * path * 1e-12,
        stream_s,
        io_s,
        overhead_s,
        internal_bytes: bytes,
        io_bytes: bytes,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attacc_row_period_follows_the_timing_parameters() {
        let s = xpusim_hw::load_pim("attacc-bank").unwrap();
        // 32 atoms per 1 KiB row at nCCDAB = 6, one bank per PU: tRCD + 32·6 + tRP.
        assert_eq!(row_cycles(&s), (19 + 32 * 6 + 19) as f64);
        // Bank-group PUs interleave 4 banks, hiding activations: 32·6 cycles per row,
        // but 8 per-bank ACTs per row period must respect tFAW (8·39/4 = 78 < 192).
        let bg = xpusim_hw::load_pim("attacc-bg").unwrap();
        assert_eq!(row_cycles(&bg), (32 * 6) as f64);
    }

    #[test]
    fn split_reduction_pays_partial_sums() {
        let s = xpusim_hw::load_pim("attacc-bank").unwrap();
        // 16 output rows over 1024 PUs: the reduction is split, partial sums move.
        let c = gemv(
            &s,
            1,
            &Gemv {
                rows: 16,
                cols: 65536,
                batch: 1,
                elem_bytes: 2,
                input_sets: 1,
            },
        );
        assert!(c.reduce_s > 0.0);
        let whole = gemv_split(
            &s,
            1,
            &Gemv {
                rows: 16,
                cols: 65536,
                batch: 1,
                elem_bytes: 2,
                input_sets: 1,
            },
            1,
        );
        assert!(c.time_s < whole.time_s);
    }
}
