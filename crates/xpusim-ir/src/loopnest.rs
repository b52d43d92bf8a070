//! Einsum-like loop nests: what the engine tiles.
//!
//! A loop nest is a set of named loop dimensions and, for each operand, how its axes are
//! indexed by those dimensions. An axis index is an affine sum `Σ coef·dim`, which covers
//! plain matmuls (`a[m,k]`), sliding windows (`x[p·stride + r·dilation]`) and grouped
//! channels (`w[g·Cg + c]`). The engine only needs [`OperandAccess::footprint`]: how many
//! distinct elements of an operand a tile of the iteration space touches.

use serde::Serialize;

/// One loop of the nest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoopDim {
    pub name: &'static str,
    pub size: u64,
    /// True when the dimension does not index the output (it is summed over).
    pub reduction: bool,
}

/// How one operand is indexed: one entry per tensor axis, each a list of `(dim, coef)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperandAccess {
    /// Index into [`crate::Op::operands`].
    pub operand: usize,
    pub axes: Vec<Vec<(usize, u64)>>,
    pub is_output: bool,
}

impl OperandAccess {
    /// Distinct elements touched by an iteration tile with per-dim extents `tile`.
    ///
    /// For an affine axis `Σ c_i·d_i` with extents `t_i` the touched range is
    /// `Σ c_i·(t_i − 1) + 1`, and no more than `Π t_i` distinct indices exist; the smaller
    /// of the two is exact for dense windows (stride ≤ window) and for strides larger than
    /// the window (a 1×1 stride-2 convolution reads a quarter of its input, not all of it).
    pub fn footprint(&self, tile: &[u64]) -> u64 {
        self.axes
            .iter()
            .map(|terms| {
                let range = terms
                    .iter()
                    .map(|&(d, c)| c * (tile[d].max(1) - 1))
                    .sum::<u64>()
                    + 1;
                let points: u64 = terms.iter().map(|&(d, _)| tile[d].max(1)).product();
                range.min(points)
            })
            .product()
    }

    /// True when dimension `d` appears in any axis of this operand.
    pub fn uses(&self, d: usize) -> bool {
        self.axes.iter().any(|a| a.iter().any(|&(x, _)| x == d))
    }
}

/// A perfect loop nest with its operand accesses. MACs = product of all dim sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoopNest {
    pub dims: Vec<LoopDim>,
    pub operands: Vec<OperandAccess>,
}

impl LoopNest {
    pub fn sizes(&self) -> Vec<u64> {
        self.dims.iter().map(|d| d.size).collect()
    }

    pub fn macs(&self) -> u64 {
        self.dims.iter().map(|d| d.size).product()
    }

    pub fn output(&self) -> Option<&OperandAccess> {
        self.operands.iter().find(|o| o.is_output)
    }

    pub fn inputs(&self) -> impl Iterator<Item = &OperandAccess> {
        self.operands.iter().filter(|o| !o.is_output)
    }
}

/// A contraction to cost: a loop nest that runs `sequential_steps` times with a true data
/// dependence between steps (recurrent layers), so steps cannot be merged into one big
/// GEMM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contraction {
    pub nest: LoopNest,
    pub sequential_steps: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(stride: u64, dil: u64) -> OperandAccess {
        OperandAccess {
            operand: 0,
            axes: vec![vec![(0, stride), (1, dil)]],
            is_output: false,
        }
    }

    #[test]
    fn footprints_of_sliding_windows() {
        // 3-tap window, stride 1: t + 2 rows.
        assert_eq!(window(1, 1).footprint(&[10, 3]), 12);
        // 3-tap window, stride 2: 2t + 1 rows.
        assert_eq!(window(2, 1).footprint(&[10, 3]), 21);
        // 1-tap window, stride 2: only t rows are read, not 2t − 1.
        assert_eq!(window(2, 1).footprint(&[10, 1]), 10);
    }
}
