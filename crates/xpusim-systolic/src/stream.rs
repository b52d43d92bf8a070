//! The address streams SCALE-Sim feeds its memory model, generated lazily.
//!
//! SCALE-Sim materialises skewed demand matrices (`systolic_compute_*.py`,
//! `create_*_demand_mat`, `skew_matrix`) and prefetch matrices (`create_*_prefetch_mat`) as
//! numpy arrays. Here each demand line is produced on demand, and only its valid addresses
//! (not SCALE-Sim's `-1` padding) in the same left-to-right order, which is all the buffers
//! look at. Addresses are relative to the operand's base offset, which does not change any
//! count.

use crate::compute::{Fold, Geometry};
use crate::config::Dataflow;
use xpusim_scalesim::Layer;

/// Operand address arithmetic (`operand_matrix.py`, `calc_ifmap_elem_addr`,
/// `calc_filter_elem_addr`).
#[derive(Debug, Clone)]
pub struct Addressing {
    ifmap_h: u32,
    ifmap_w: u32,
    window: u32,
    pix_row: Vec<u32>,
    pix_col: Vec<u32>,
    pix_off: Vec<u32>,
    win_row: Vec<u32>,
    win_col: Vec<u32>,
    win_off: Vec<u32>,
    /// Number of distinct ifmap addresses (`H * W * C`).
    pub ifmap_space: usize,
    /// Number of distinct filter addresses (`W * N`).
    pub filter_space: usize,
}

impl Addressing {
    /// Precomputes per-pixel and per-window-element offsets.
    pub fn new(layer: &Layer) -> Addressing {
        let (w_in, ch) = (layer.ifmap_w, layer.channels);
        let ew = layer.ofmap_w();
        let mut pix_row = Vec::new();
        let mut pix_col = Vec::new();
        let mut pix_off = Vec::new();
        for p in 0..layer.ofmap_pixels() {
            let (orow, ocol) = (p / ew, p % ew);
            let (ir, ic) = (orow * layer.stride_h, ocol * layer.stride_w);
            pix_row.push(ir as u32);
            pix_col.push(ic as u32);
            pix_off.push(((ir * w_in + ic) * ch) as u32);
        }
        let mut win_row = Vec::new();
        let mut win_col = Vec::new();
        let mut win_off = Vec::new();
        for j in 0..layer.window() {
            let (cr, k) = (j / (layer.filter_w * ch), j % (layer.filter_w * ch));
            let (cc, cch) = (k / ch, k % ch);
            win_row.push(cr as u32);
            win_col.push(cc as u32);
            win_off.push(((cr * w_in + cc) * ch + cch) as u32);
        }
        Addressing {
            ifmap_h: layer.ifmap_h as u32,
            ifmap_w: layer.ifmap_w as u32,
            window: layer.window() as u32,
            pix_row,
            pix_col,
            pix_off,
            win_row,
            win_col,
            win_off,
            ifmap_space: (layer.ifmap_h * layer.ifmap_w * layer.channels) as usize,
            filter_space: (layer.window() * layer.num_filters) as usize,
        }
    }

    /// Ifmap operand element `(pixel, window index)`, or `None` where SCALE-Sim writes `-1`
    /// (the window runs past the ifmap edge because of the ceil output size).
    #[inline]
    pub fn ifmap(&self, p: usize, j: usize) -> Option<u32> {
        let valid = self.pix_row[p] + self.win_row[j] < self.ifmap_h
            && self.pix_col[p] + self.win_col[j] < self.ifmap_w;
        valid.then(|| self.pix_off[p] + self.win_off[j])
    }

    /// Filter operand element `(window index, filter)`: `n * W + j`.
    #[inline]
    pub fn filter(&self, j: usize, n: usize) -> u32 {
        n as u32 * self.window + j as u32
    }
}

/// Columns `c` in `[0, n)` for which skewed line `l` hits base rows `[lo, hi)`:
/// `skew_matrix` puts base row `b` of column `c` on line `b + c`.
#[inline]
pub(crate) fn skew_cols(l: u64, lo: u64, hi: u64, n: u64) -> std::ops::Range<u64> {
    if l < lo || n == 0 {
        return 0..0;
    }
    let first = (l + 1).saturating_sub(hi);
    let last = (l - lo).min(n - 1);
    if first > last {
        0..0
    } else {
        first..last + 1
    }
}

/// Demand-line generator for one layer on one array.
pub struct Demand<'a> {
    g: &'a Geometry,
    a: &'a Addressing,
}

impl<'a> Demand<'a> {
    /// Wraps a geometry and its addressing.
    pub fn new(g: &'a Geometry, a: &'a Addressing) -> Demand<'a> {
        Demand { g, a }
    }

    /// Appends the valid ifmap addresses of line `l` of fold `f` to `out`.
    pub fn ifmap_line(&self, f: &Fold, l: u64, out: &mut Vec<u32>) {
        let (g, a) = (self.g, self.a);
        let (r, c0, t) = (g.rows, g.cols, g.t);
        match g.dataflow {
            // Base: T rows of ifmap^T (window index x pixels), skewed.
            Dataflow::Os => {
                for c in skew_cols(l, 0, t, f.rows_used) {
                    let p = (f.fr * r + c) as usize;
                    out.extend(a.ifmap(p, (l - c) as usize));
                }
            }
            // Base: R empty rows, then T rows of ifmap (pixels x window slice), skewed.
            Dataflow::Ws => {
                for c in skew_cols(l, r, r + t, f.rows_used) {
                    let j = (f.fr * r + c) as usize;
                    out.extend(a.ifmap((l - c - r) as usize, j));
                }
            }
            // Stationary ifmap block, flipped, on the first R lines, no skew.
            Dataflow::Is => {
                if l < r && r - 1 - l < f.rows_used {
                    let j = (f.fr * r + (r - 1 - l)) as usize;
                    for c in 0..f.cols_used {
                        out.extend(a.ifmap((f.fc * c0 + c) as usize, j));
                    }
                }
            }
        }
    }

    /// Appends the filter addresses of line `l` of fold `f` to `out`.
    pub fn filter_line(&self, f: &Fold, l: u64, out: &mut Vec<u32>) {
        let (g, a) = (self.g, self.a);
        let (r, c0, t) = (g.rows, g.cols, g.t);
        match g.dataflow {
            Dataflow::Os => {
                for c in skew_cols(l, 0, t, f.cols_used) {
                    out.push(a.filter((l - c) as usize, (f.fc * c0 + c) as usize));
                }
            }
            // Stationary filter block, flipped, on the first R lines, no skew.
            Dataflow::Ws => {
                if l < r && r - 1 - l < f.rows_used {
                    let j = (f.fr * r + (r - 1 - l)) as usize;
                    for c in 0..f.cols_used {
                        out.push(a.filter(j, (f.fc * c0 + c) as usize));
                    }
                }
            }
            Dataflow::Is => {
                for c in skew_cols(l, r, r + t, f.rows_used) {
                    let j = (f.fr * r + c) as usize;
                    out.push(a.filter(j, (l - c - r) as usize));
                }
            }
        }
    }

    /// Number of ofmap writes on line `l` of fold `f`.
    pub fn ofmap_count(&self, f: &Fold, l: u64) -> u64 {
        let g = self.g;
        let (r, t) = (g.rows, g.t);
        let range = match g.dataflow {
            // T-1 empty rows, then the R x C block flipped (valid rows at the bottom).
            Dataflow::Os => skew_cols(l, t - 1 + r - f.rows_used, t - 1 + r, f.cols_used),
            // 2R-1 empty rows, then T rows of outputs.
            Dataflow::Ws | Dataflow::Is => skew_cols(l, 2 * r - 1, 2 * r - 1 + t, f.cols_used),
        };
        range.end - range.start
    }
}

/// A prefetch matrix flattened as SCALE-Sim hands it to `read_buffer.set_fetch_matrix`: the
/// valid addresses in order and the element count including `-1` padding.
pub struct Prefetch {
    /// Valid addresses in fetch order.
    pub addrs: Vec<u32>,
    /// Elements of the matrix, padding included.
    pub num_elems: u64,
}

/// Rolls an `m x n` matrix out along its anti-diagonals, lower rows first, as
/// `create_*_prefetch_mat` does ("Fixing ISSUE #15, #16"); `diag = false` keeps row order.
fn roll_out(m: u64, n: u64, diag: bool, mut elem: impl FnMut(u64, u64) -> Option<u32>) -> Prefetch {
    let mut addrs = Vec::new();
    if diag {
        for d in 0..(m + n).saturating_sub(1) {
            let max_row = d.min(m - 1);
            let min_row = (d + 1).saturating_sub(n);
            let mut row = max_row;
            loop {
                if row < min_row {
                    break;
                }
                addrs.extend(elem(row, d - row));
                if row == 0 {
                    break;
                }
                row -= 1;
            }
        }
    } else {
        for row in 0..m {
            for col in 0..n {
                addrs.extend(elem(row, col));
            }
        }
    }
    Prefetch {
        addrs,
        num_elems: m * n,
    }
}

/// The ifmap and filter prefetch matrices of USER mode (`get_prefetch_matrices`).
pub fn prefetch_matrices(g: &Geometry, a: &Addressing) -> (Prefetch, Prefetch) {
    let (r, c, t) = (g.rows, g.cols, g.t);
    let used = |idx: u64, size: u64, total: u64| size.min(total - idx * size);
    match g.dataflow {
        Dataflow::Os => {
            // Row folds of ifmap^T (T x R each), stacked; column folds of the filter (T x C).
            let ifm = roll_out(g.row_folds * t, r, true, |row, col| {
                let (fr, j) = (row / t, row % t);
                (col < used(fr, r, g.sr)).then_some(())?;
                a.ifmap((fr * r + col) as usize, j as usize)
            });
            let fil = roll_out(g.col_folds * t, c, true, |row, col| {
                let (fc, j) = (row / t, row % t);
                (col < used(fc, c, g.sc)).then(|| a.filter(j as usize, (fc * c + col) as usize))
            });
            (ifm, fil)
        }
        Dataflow::Ws => {
            let ifm = roll_out(g.row_folds * t, r, true, |row, col| {
                let (fr, p) = (row / t, row % t);
                (col < used(fr, r, g.sr)).then_some(())?;
                a.ifmap(p as usize, (fr * r + col) as usize)
            });
            let w = g.window;
            let fil = roll_out(g.col_folds * w, c, false, |row, col| {
                let (fc, j) = (row / w, row % w);
                (col < used(fc, c, g.sc)).then(|| a.filter(j as usize, (fc * c + col) as usize))
            });
            (ifm, fil)
        }
        Dataflow::Is => {
            let w = g.window;
            let ifm = roll_out(g.col_folds * w, c, false, |row, col| {
                let (fc, j) = (row / w, row % w);
                (col < used(fc, c, g.sc)).then_some(())?;
                a.ifmap((fc * c + col) as usize, j as usize)
            });
            let fil = roll_out(g.row_folds * t, r, true, |row, col| {
                let (fr, n) = (row / t, row % t);
                (col < used(fr, r, g.sr)).then(|| a.filter((fr * r + col) as usize, n as usize))
            });
            (ifm, fil)
        }
    }
}
