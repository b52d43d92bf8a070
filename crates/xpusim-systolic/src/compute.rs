//! Fold geometry and the compute-side report, exactly as SCALE-Sim counts them.
//!
//! SCALE-Sim lowers a layer to three operand matrices (`scalesim/compute/operand_matrix.py`):
//! ifmap `P x W` (P output pixels, W = Fh*Fw*C window), filter `W x N`, ofmap `P x N`. Each
//! dataflow maps two of (P, W, N) onto the array and streams the third in time
//! (`topology_utils.py`, `calc_spatio_temporal_params`):
//!
//! | dataflow | Sr (rows) | Sc (cols) | T (time) |
//! |----------|-----------|-----------|----------|
//! | os       | P         | N         | W        |
//! | ws       | W         | N         | P        |
//! | is       | W         | P         | N        |
//!
//! The work is cut into `ceil(Sr/R) x ceil(Sc/C)` folds, visited column fold outer, row fold
//! inner. Every fold, full or partial, occupies the same number of demand-matrix lines:
//! - os: `T + R + C - 2` (`systolic_compute_os.py`: T ifmap rows, C-1 drain rows, R-1 skew);
//! - ws/is: `T + 2R + C - 2` (`systolic_compute_ws.py`/`_is.py`: R rows to load the
//!   stationary operand, T streaming rows, C-1 drain rows, R-1 skew).
//!
//! SCALE-Sim's stall-free `Total Cycles` is the index of the last demand line, i.e.
//! `folds * lines_per_fold - 1` (`double_buffered_scratchpad_mem.py`,
//! `service_memory_requests`: `total_cycles = max(ofmap_serviced_cycles)`).

use crate::config::Dataflow;
use xpusim_scalesim::Layer;

/// How one layer folds onto one array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Dataflow.
    pub dataflow: Dataflow,
    /// Array rows R.
    pub rows: u64,
    /// Array columns C.
    pub cols: u64,
    /// Output pixels P.
    pub pixels: u64,
    /// Window W.
    pub window: u64,
    /// Filters N.
    pub filters: u64,
    /// Spatial extent mapped on rows.
    pub sr: u64,
    /// Spatial extent mapped on columns.
    pub sc: u64,
    /// Temporal extent.
    pub t: u64,
    /// `ceil(Sr / R)`.
    pub row_folds: u64,
    /// `ceil(Sc / C)`.
    pub col_folds: u64,
    /// Demand-matrix lines per fold.
    pub lines_per_fold: u64,
}

/// One fold: its indices and how much of the array it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fold {
    /// Column-fold index.
    pub fc: u64,
    /// Row-fold index.
    pub fr: u64,
    /// Array rows used.
    pub rows_used: u64,
    /// Array columns used.
    pub cols_used: u64,
}

impl Geometry {
    /// Folds `layer` onto an `rows x cols` array with the given dataflow.
    pub fn new(layer: &Layer, rows: u64, cols: u64, dataflow: Dataflow) -> Geometry {
        let (p, w, n) = (layer.ofmap_pixels(), layer.window(), layer.num_filters);
        let (sr, sc, t) = match dataflow {
            Dataflow::Os => (p, n, w),
            Dataflow::Ws => (w, n, p),
            Dataflow::Is => (w, p, n),
        };
        let lines_per_fold = match dataflow {
            Dataflow::Os => t + rows + cols - 2,
            Dataflow::Ws | Dataflow::Is => t + 2 * rows + cols - 2,
        };
        Geometry {
            dataflow,
            rows,
            cols,
            pixels: p,
            window: w,
            filters: n,
            sr,
            sc,
            t,
            row_folds: sr.div_ceil(rows),
            col_folds: sc.div_ceil(cols),
            lines_per_fold,
        }
    }

    /// Number of folds.
    pub fn num_folds(&self) -> u64 {
        self.row_folds * self.col_folds
    }

    /// Total demand lines of the layer.
    pub fn total_lines(&self) -> u64 {
        self.num_folds() * self.lines_per_fold
    }

    /// Stall-free cycles as SCALE-Sim reports them: index of the last demand line.
    pub fn stall_free_cycles(&self) -> u64 {
        self.total_lines().saturating_sub(1)
    }

    /// The folds in SCALE-Sim's order (column fold outer, row fold inner).
    pub fn folds(&self) -> impl Iterator<Item = Fold> + '_ {
        (0..self.col_folds).flat_map(move |fc| {
            (0..self.row_folds).map(move |fr| Fold {
                fc,
                fr,
                rows_used: self.rows.min(self.sr - fr * self.rows),
                cols_used: self.cols.min(self.sc - fc * self.cols),
            })
        })
    }

    /// The `cycles_this_fold` SCALE-Sim divides by for compute utilisation: demand rows of the
    /// fold's ofmap (os) or filter (ws) or ifmap (is) matrix plus its width minus one.
    fn util_cycles_per_fold(&self) -> u64 {
        match self.dataflow {
            Dataflow::Os => self.t + self.rows + self.cols - 2,
            Dataflow::Ws | Dataflow::Is => self.t + 2 * self.rows + 2 * self.cols - 3,
        }
    }
}

/// The compute half of SCALE-Sim's report for one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputeReport {
    /// Stall-free cycles (`Total Cycles` in CALC mode).
    pub cycles: u64,
    /// Mean over folds of used MACs / all MACs, in percent (`get_avg_mapping_efficiency`).
    pub mapping_efficiency_pct: f64,
    /// Mean over folds of `used MACs * T / (R * C * cycles_this_fold)`, in percent
    /// (`get_avg_compute_utilization`).
    pub compute_util_pct: f64,
    /// SRAM ifmap reads (`get_ifmap_requests`).
    pub sram_ifmap_reads: u64,
    /// SRAM filter reads (`get_filter_requests`).
    pub sram_filter_reads: u64,
    /// SRAM ofmap writes (`get_ofmap_requests`).
    pub sram_ofmap_writes: u64,
}

/// Computes cycles, utilisation and SRAM traffic for one layer.
///
/// SRAM counts follow the demand-matrix construction: every fold reads the whole operand slice
/// it maps, so the streamed operand is re-read once per fold of the other spatial dimension.
/// For os the ofmap count also includes SCALE-Sim's extra `R + C` per fold
/// (`systolic_compute_os.py`, `create_ofmap_demand_mat`: `ofmap_writes += shape[0] + shape[1]`).
pub fn compute_report(g: &Geometry) -> ComputeReport {
    let (r, c, t) = (g.rows, g.cols, g.t);
    let macs = (r * c) as f64;
    let cyc = g.util_cycles_per_fold() as f64;
    // Σ over folds of rows_used × cols_used = (Σ rows_used) × (Σ cols_used) = sr × sc, so the
    // per-fold sums SCALE-Sim accumulates are closed form: a loop over the folds would take
    // hours on a large layer and a small array (up to 2^48 folds; found by fuzzing).
    let used = g.sr as f64 * g.sc as f64;
    let map_sum = used / macs;
    let util_sum = (used * t as f64) / (macs * cyc);
    let n = g.num_folds().max(1) as f64;
    let (p, w, nf) = (g.pixels, g.window, g.filters);
    let (ifmap, filter, ofmap) = match g.dataflow {
        Dataflow::Os => (
            g.col_folds * p * w,
            g.row_folds * w * nf,
            p * nf + g.num_folds() * (r + c),
        ),
        Dataflow::Ws => (g.col_folds * p * w, w * nf, g.row_folds * p * nf),
        Dataflow::Is => (p * w, g.col_folds * w * nf, g.row_folds * p * nf),
    };
    ComputeReport {
        cycles: g.stall_free_cycles(),
        mapping_efficiency_pct: map_sum / n * 100.0,
        compute_util_pct: util_sum / n * 100.0,
        sram_ifmap_reads: ifmap,
        sram_filter_reads: filter,
        sram_ofmap_writes: ofmap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gemm(m: u64, n: u64, k: u64) -> Layer {
        Layer::gemm("g", m, n, k).expect("valid gemm")
    }

    #[test]
    fn os_gemm_matches_scalesim() {
        // golden.csv: test_mnk_input on 8x8 os -> 34559 cycles.
        let g = Geometry::new(&gemm(128, 64, 256), 8, 8, Dataflow::Os);
        let rep = compute_report(&g);
        assert_eq!(rep.cycles, 34559);
        assert_eq!(rep.sram_ofmap_writes, 10240);
        assert!((rep.compute_util_pct - 94.81481481481492).abs() < 1e-9);
    }

    #[test]
    fn ws_and_is_gemm_match_scalesim() {
        let l = gemm(128, 64, 256);
        let ws = compute_report(&Geometry::new(&l, 8, 8, Dataflow::Ws));
        assert_eq!(ws.cycles, 38399);
        assert_eq!(ws.sram_ofmap_writes, 262144);
        let is = compute_report(&Geometry::new(&l, 8, 8, Dataflow::Is));
        assert_eq!(is.cycles, 44031);
        assert_eq!(is.sram_ifmap_reads, 32768);
    }
}
