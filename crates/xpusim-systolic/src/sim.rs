//! Per-layer simulation: compute geometry plus the memory replay.

use serde::Serialize;

use crate::compute::{compute_report, Geometry};
use crate::config::{ArrayConfig, BandwidthMode};
use crate::memory::{EstimateReadBuffer, UserReadBuffer, WriteBuffer};
use crate::stream::{prefetch_matrices, Addressing, Demand};
use xpusim_scalesim::Layer;

/// What SCALE-Sim reports for one layer (COMPUTE_REPORT and DETAILED_ACCESS_REPORT columns).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerReport {
    /// Layer name.
    pub name: String,
    /// Stall-free cycles as SCALE-Sim counts them: `Total Cycles` minus `Stall Cycles`. This
    /// equals the closed form `folds * lines_per_fold - 1` ([`Geometry::stall_free_cycles`],
    /// what [`simulate_compute`] reports) on every golden and property-test case.
    ///
    /// [`Geometry::stall_free_cycles`]: crate::Geometry::stall_free_cycles
    pub cycles: u64,
    /// `Total Cycles`: stall-free cycles plus stalls.
    pub total_cycles: u64,
    /// `Stall Cycles` (non-zero only in USER mode).
    pub stall_cycles: u64,
    /// `Overall Util %`: MACs / (total cycles x PEs).
    pub utilization_pct: f64,
    /// `Mapping Efficiency %`.
    pub mapping_efficiency_pct: f64,
    /// `Compute Util %`.
    pub compute_util_pct: f64,
    /// `SRAM IFMAP Reads`.
    pub sram_ifmap_reads: u64,
    /// `SRAM Filter Reads`.
    pub sram_filter_reads: u64,
    /// `SRAM OFMAP Writes`.
    pub sram_ofmap_writes: u64,
    /// `DRAM IFMAP Reads`.
    pub dram_ifmap_reads: u64,
    /// `DRAM Filter Reads`.
    pub dram_filter_reads: u64,
    /// `DRAM OFMAP Writes`.
    pub dram_ofmap_writes: u64,
    /// Multiply-accumulates of the layer.
    pub num_macs: u64,
}

/// Array dimensions with zero treated as one, so a hand-built config cannot divide by zero.
fn dims(cfg: &ArrayConfig) -> (u64, u64) {
    (cfg.array_rows.max(1), cfg.array_cols.max(1))
}

/// The compute-only report (cycles, utilisation, SRAM traffic; no DRAM replay). Cheap:
/// O(folds). DRAM fields are zero and `total_cycles` equals `cycles`.
pub fn simulate_compute(cfg: &ArrayConfig, layer: &Layer) -> LayerReport {
    if layer.validate().is_err() {
        return empty(layer);
    }
    let (rows, cols) = dims(cfg);
    let g = Geometry::new(layer, rows, cols, cfg.dataflow);
    let c = compute_report(&g);
    finish(cfg, layer, &c, c.cycles, 0, [0, 0, 0])
}

fn empty(layer: &Layer) -> LayerReport {
    LayerReport {
        name: layer.name.clone(),
        cycles: 0,
        total_cycles: 0,
        stall_cycles: 0,
        utilization_pct: 0.0,
        mapping_efficiency_pct: 0.0,
        compute_util_pct: 0.0,
        sram_ifmap_reads: 0,
        sram_filter_reads: 0,
        sram_ofmap_writes: 0,
        dram_ifmap_reads: 0,
        dram_filter_reads: 0,
        dram_ofmap_writes: 0,
        num_macs: 0,
    }
}

fn finish(
    cfg: &ArrayConfig,
    layer: &Layer,
    c: &crate::compute::ComputeReport,
    total: u64,
    stalls: u64,
    dram: [u64; 3],
) -> LayerReport {
    let (rows, cols) = dims(cfg);
    let macs = layer.num_macs();
    // single_layer_sim.py: overall_util = num_compute * 100 / (total_cycles * num_mac_unit).
    let utilization_pct = if total == 0 {
        0.0
    } else {
        (macs as f64 * 100.0) / (total as f64 * (rows * cols) as f64)
    };
    LayerReport {
        name: layer.name.clone(),
        cycles: c.cycles,
        total_cycles: total,
        stall_cycles: stalls,
        utilization_pct,
        mapping_efficiency_pct: c.mapping_efficiency_pct,
        compute_util_pct: c.compute_util_pct,
        sram_ifmap_reads: c.sram_ifmap_reads,
        sram_filter_reads: c.sram_filter_reads,
        sram_ofmap_writes: c.sram_ofmap_writes,
        dram_ifmap_reads: dram[0],
        dram_filter_reads: dram[1],
        dram_ofmap_writes: dram[2],
        num_macs: macs,
    }
}

enum ReadBuf {
    Estimate(EstimateReadBuffer),
    User(UserReadBuffer),
}

impl ReadBuf {
    /// Returns the lateness beyond the hit latency.
    #[inline]
    fn service(&mut self, addrs: &[u32], cycle: i64) -> i64 {
        match self {
            ReadBuf::Estimate(b) => {
                b.service(addrs);
                0
            }
            ReadBuf::User(b) => b.service(addrs, cycle) - cycle - 1,
        }
    }

    fn dram_reads(&self) -> u64 {
        match self {
            ReadBuf::Estimate(b) => b.dram_reads(),
            ReadBuf::User(b) => b.dram_reads(),
        }
    }
}

/// Simulates one layer on one array the way SCALE-Sim 3.0.0 does (`single_layer_sim.py`,
/// `run` and `calc_report_data`): compute geometry in closed form, then the demand through
/// the double-buffered SRAMs. Word size is one byte and half of each SRAM is active, as
/// SCALE-Sim hard-codes. In CALC mode the ifmap/filter DRAM side is the estimator with 10
/// words/cycle and the ofmap drains `ArrayWidth` words/cycle; in USER mode the ifmap and filter
/// use `IfmapSRAMBankBandwidth`/`FilterSRAMBankBandwidth` and the ofmap the first `Bandwidth`.
///
/// The memory replay skips from event to event (`fast/`) whenever the ifmap operand
/// has no repeated or padding element (GEMMs, non-overlapping convolutions), and otherwise
/// walks every line ([`simulate_layer_replay`]); both give the same report.
///
/// A layer that fails [`Layer::validate`] (possible only for a hand-built `Layer`) yields an
/// all-zero report instead of a panic.
pub fn simulate_layer(cfg: &ArrayConfig, layer: &Layer) -> LayerReport {
    simulate(cfg, layer, true)
}

/// [`simulate_layer`] with the line-by-line replay of [`crate::memory`] for every layer: the
/// reference the event-skipping replay is tested against (`tests/replay_equivalence.rs`), and
/// the baseline of `benches/replay.rs`. `O(demand addresses)`.
#[doc(hidden)]
pub fn simulate_layer_replay(cfg: &ArrayConfig, layer: &Layer) -> LayerReport {
    simulate(cfg, layer, false)
}

fn simulate(cfg: &ArrayConfig, layer: &Layer, skip: bool) -> LayerReport {
    if layer.validate().is_err() {
        return empty(layer);
    }
    let (rows, cols) = dims(cfg);
    let g = Geometry::new(layer, rows, cols, cfg.dataflow);
    let c = compute_report(&g);
    let fast = if skip {
        crate::fast::replay(cfg, layer, &g)
    } else {
        None
    };
    let (max_out, stalls, dram) = match fast {
        Some(r) => r,
        None => replay_lines(cfg, layer, &g),
    };
    let total = max_out.max(0) as u64;
    let stall_cycles = stalls.max(0) as u64;
    let mut rep = finish(cfg, layer, &c, total, stall_cycles, dram);
    rep.cycles = total.saturating_sub(stall_cycles);
    rep
}

/// The line-by-line replay: `(total cycles, stall cycles, DRAM traffic)`.
fn replay_lines(cfg: &ArrayConfig, layer: &Layer, g: &Geometry) -> (i64, i64, [u64; 3]) {
    let cols = g.cols;
    let rows = g.rows;
    let a = Addressing::new(layer);
    let kb = |k: u64| k.saturating_mul(1024);
    let (mut ifbuf, mut filbuf, mut ofbuf) = match cfg.bandwidth_mode {
        BandwidthMode::Calc => (
            ReadBuf::Estimate(EstimateReadBuffer::new(
                kb(cfg.ifmap_sram_kb),
                a.ifmap_space,
            )),
            ReadBuf::Estimate(EstimateReadBuffer::new(
                kb(cfg.filter_sram_kb),
                a.filter_space,
            )),
            WriteBuffer::new(kb(cfg.ofmap_sram_kb), cols),
        ),
        BandwidthMode::User => {
            let (pi, pf) = prefetch_matrices(g, &a);
            (
                ReadBuf::User(UserReadBuffer::new(
                    kb(cfg.ifmap_sram_kb),
                    cfg.ifmap_dram_bandwidth,
                    &pi.addrs,
                    pi.num_elems,
                    a.ifmap_space,
                )),
                ReadBuf::User(UserReadBuffer::new(
                    kb(cfg.filter_sram_kb),
                    cfg.filter_dram_bandwidth,
                    &pf.addrs,
                    pf.num_elems,
                    a.filter_space,
                )),
                WriteBuffer::new(kb(cfg.ofmap_sram_kb), cfg.ofmap_dram_bandwidth()),
            )
        }
    };
    let demand = Demand::new(g, &a);
    let mut line = Vec::with_capacity(rows.max(cols) as usize);
    let mut stalls: i64 = 0;
    let mut i: i64 = 0;
    let mut max_out: i64 = 0;
    let mut last_out: i64 = 0;
    for f in g.folds() {
        for l in 0..g.lines_per_fold {
            let cycle = i + stalls;
            line.clear();
            demand.ifmap_line(&f, l, &mut line);
            let s_if = ifbuf.service(&line, cycle);
            line.clear();
            demand.filter_line(&f, l, &mut line);
            let s_fil = filbuf.service(&line, cycle);
            let out = ofbuf.service(demand.ofmap_count(&f, l), cycle);
            let s_of = out - cycle;
            stalls += s_if.max(s_fil).max(s_of);
            max_out = max_out.max(out);
            last_out = out;
            i += 1;
        }
    }
    ofbuf.finish(last_out);
    let dram = [ifbuf.dram_reads(), filbuf.dram_reads(), ofbuf.dram_writes()];
    (max_out, stalls, dram)
}
