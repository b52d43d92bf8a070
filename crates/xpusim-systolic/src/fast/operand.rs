//! A read operand's demand lines against its prefetch matrix, in closed form: which block
//! a fold reads and each element's rank in the prefetch order.

use crate::compute::{Fold, Geometry};
use crate::config::Dataflow;
use crate::stream::skew_cols;

use super::ramp;

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
pub(super) enum Role {
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
pub(super) struct Operand {
    pub(super) role: Role,
    /// Array rows `R` (the stationary operand's line count).
    pub(super) r: u64,
    /// Rows of the prefetch matrix per fold (`t` skewed, `w` stationary).
    pub(super) rows_per_fold: u64,
    /// Columns of the prefetch matrix.
    pub(super) n: u64,
    /// Folds stacked in the prefetch matrix.
    pub(super) folds: u64,
    /// Valid columns of the last fold (`used(...)` in `get_prefetch_matrices`).
    pub(super) last_used: u64,
}

impl Operand {
    pub(super) fn skewed(g: &Geometry, base: u64, by_row_fold: bool) -> Operand {
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

    pub(super) fn stationary(g: &Geometry) -> Operand {
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
    pub(super) fn pair(g: &Geometry) -> (Operand, Operand) {
        match g.dataflow {
            Dataflow::Os => (Operand::skewed(g, 0, true), Operand::skewed(g, 0, false)),
            Dataflow::Ws => (Operand::skewed(g, g.rows, true), Operand::stationary(g)),
            Dataflow::Is => (Operand::stationary(g), Operand::skewed(g, g.rows, true)),
        }
    }

    /// Elements of the prefetch matrix, `-1` padding included (`num_elems`).
    pub(super) fn matrix_elems(&self) -> u64 {
        self.folds * self.rows_per_fold * self.n
    }

    /// Valid elements of the prefetch matrix.
    pub(super) fn valid_elems(&self) -> u64 {
        (self.folds - 1) * self.rows_per_fold * self.n + self.rows_per_fold * self.last_used
    }

    /// `(fold index, array lines used)` of the skewed operand in fold `f`.
    #[inline]
    pub(super) fn skew_sel(by_row_fold: bool, f: &Fold) -> (u64, u64) {
        if by_row_fold {
            (f.fr, f.rows_used)
        } else {
            (f.fc, f.cols_used)
        }
    }

    /// The demand lines of fold `f` that hold this operand.
    pub(super) fn lines(&self, f: &Fold) -> std::ops::Range<u64> {
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
    pub(super) fn cols(&self, f: &Fold, l: u64) -> std::ops::Range<u64> {
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
    pub(super) fn rank(&self, f: &Fold, l: u64, c: u64) -> u64 {
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
    pub(super) fn diagonal_rank(&self, row: u64, col: u64) -> u64 {
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
    pub(super) fn block(&self, f: &Fold) -> (Option<u64>, u64) {
        match self.role {
            Role::Skewed { by_row_fold, .. } => {
                let (fidx, used) = Operand::skew_sel(by_row_fold, f);
                (Some(fidx), used * self.rows_per_fold)
            }
            Role::Stationary => (None, f.rows_used * f.cols_used),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `diagonal_rank` against an explicit roll-out (`stream.rs`, `roll_out`).
    #[test]
    pub(super) fn diagonal_rank_matches_roll_out() {
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
}
