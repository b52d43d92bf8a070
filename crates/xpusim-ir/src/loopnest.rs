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
    /// `Σ c_i·(t_i − 1) + 1` (exact for the dense, unit-gap accesses we generate; an
    /// upper bound when a stride exceeds the window).
    pub fn footprint(&self, tile: &[u64]) -> u64 {
        self.axes
            .iter()
            .map(|terms| {
                terms
                    .iter()
                    .map(|&(d, c)| c * (tile[d].max(1) - 1))
                    .sum::<u64>()
                    + 1
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
/// GEMM. `weights_resident` marks steps that reuse the same weights every step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contraction {
    pub nest: LoopNest,
    pub sequential_steps: u64,
}
