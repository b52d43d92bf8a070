//! A contraction's loop nest seen as SCALE-Sim's three operand matrices, without op names.
//!
//! Every loop dimension of a two-input nest falls in one of four groups, decided only by
//! which operands index it:
//! - `W` (window): reduction dims;
//! - `P` (pixels): output dims the first input uses and the second does not;
//! - `N` (filters): output dims the second input uses and the first does not;
//! - `G` (groups/batch): output dims both inputs use (batched matmul, grouped conv).
//!
//! The array then sees a batched `P x W` by `W x N` matmul, exactly SCALE-Sim's im2col view
//! (`xpusim_systolic::compute`), while DRAM/SRAM footprints are still computed on the real
//! dims (per-axis distinct indices, `axis_footprint`), so convolution halos, strides and
//! input reuse are exact.

use xpusim_ir::{LoopNest, Op};

use crate::error::MapperError;

pub const G: usize = 0;
pub const P: usize = 1;
pub const W: usize = 2;
pub const N: usize = 3;
pub const GROUP_NAMES: [&str; 4] = ["G", "P", "W", "N"];

/// Which groups each operand (A = first input, B = second input, O = output) uses.
pub const USES: [[bool; 4]; 3] = [
    [true, true, true, false],
    [true, false, true, true],
    [true, true, false, true],
];

/// Distinct indices `Σ c·x_d` (`0 ≤ x_d < tile[d]`) of one tensor axis.
///
/// [`xpusim_ir::OperandAccess::footprint`] takes the whole range `Σ c·(t − 1) + 1`, an upper
/// bound that counts the skipped rows of a strided window (a 1×1 stride-2 convolution
/// would read its whole input). Here terms are added in increasing coefficient: a term
/// whose coefficient reaches past the span of the indices so far adds disjoint copies
/// (count × t, the strided case); otherwise the copies overlap and a contiguous set stays
/// contiguous (the sliding-window case). Exact for the conv and matmul nests the IR
/// builds; an upper bound otherwise.
fn axis_footprint(terms: &[(usize, u64)], tile: &[u64]) -> u64 {
    // Axes have a handful of terms; a fixed buffer keeps this allocation-free (hot path).
    let mut buf = [(0u64, 0u64); 8];
    let mut len = 0;
    for &(d, c) in terms {
        let n = tile.get(d).copied().unwrap_or(1).max(1);
        if n > 1 && len < buf.len() {
            buf[len] = (c, n);
            len += 1;
        }
    }
    let t = &mut buf[..len];
    t.sort_unstable();
    let (mut count, mut span) = (1u64, 1u64);
    for &(c, n) in t.iter() {
        let new_span = c * (n - 1) + span;
        count = if c >= span {
            count * n
        } else if count == span {
            new_span
        } else {
            (count * n).min(new_span)
        };
        span = new_span;
    }
    count
}

/// One contraction ready for mapping.
#[derive(Debug, Clone)]
pub struct Problem {
    pub op: String,
    /// Extent of each group (product of its dims).
    pub ext: [u64; 4],
    /// Dims of each group, innermost first, as (dim index, size).
    groups: [Vec<(usize, u64)>; 4],
    nest: LoopNest,
    /// Operand indices in `nest.operands` of A, B, O.
    ids: [usize; 3],
    /// Bytes per element of A, B, O.
    pub elem_bytes: [f64; 3],
    /// Times the nest runs (op repeat × sequential steps).
    pub repeat: u64,
    pub macs: u64,
}

impl Problem {
    /// The problems of `op` (one per contraction; none for non-contraction ops).
    pub fn from_op(op: &Op) -> Result<Vec<Problem>, MapperError> {
        op.contractions()
            .into_iter()
            .map(|c| {
                Problem::new(
                    &op.name,
                    c.nest,
                    op,
                    op.repeat.max(1) * c.sequential_steps.max(1),
                )
            })
            .collect()
    }

    fn new(name: &str, nest: LoopNest, op: &Op, repeat: u64) -> Result<Problem, MapperError> {
        let inputs: Vec<usize> = (0..nest.operands.len())
            .filter(|&i| !nest.operands[i].is_output)
            .collect();
        let out = (0..nest.operands.len()).find(|&i| nest.operands[i].is_output);
        let (Some(o), [a, b]) = (out, inputs.as_slice()) else {
            return Err(MapperError::UnsupportedNest {
                op: name.to_string(),
                inputs: inputs.len(),
            });
        };
        let ids = [*a, *b, o];
        let mut groups: [Vec<(usize, u64)>; 4] = Default::default();
        // Innermost first: the nest lists dims outermost first.
        for (d, dim) in nest.dims.iter().enumerate().rev() {
            if dim.size <= 1 {
                continue;
            }
            let ua = nest.operands[*a].uses(d);
            let ub = nest.operands[*b].uses(d);
            let g = if dim.reduction {
                W
            } else if ua && ub {
                G
            } else if ub {
                N
            } else {
                P
            };
            groups[g].push((d, dim.size));
        }
        let ext = [0, 1, 2, 3].map(|g| groups[g].iter().map(|x| x.1).product::<u64>());
        let elem_bytes = ids.map(|i| {
            let operand = nest.operands[i].operand;
            op.operands
                .get(operand)
                .map(|x| x.dtype.bits() as f64 / 8.0)
                .unwrap_or(op.compute_dtype.bits() as f64 / 8.0)
        });
        let macs = nest.macs();
        Ok(Problem {
            op: name.to_string(),
            ext,
            groups,
            nest,
            ids,
            elem_bytes,
            repeat,
            macs,
        })
    }

    /// Distinct elements of operand `x` (0 = A, 1 = B, 2 = O) touched by a group tile.
    pub fn footprint(&self, x: usize, tile: &[u64; 4]) -> u64 {
        let mut dims = [1u64; 16];
        let n = self.nest.dims.len().min(16);
        for (group, &t) in self.groups.iter().zip(tile) {
            // Unflatten the group tile innermost first (a row-major im2col index).
            let mut left = t.max(1);
            for &(d, size) in group {
                if d < n {
                    dims[d] = left.min(size);
                }
                left = left.div_ceil(size);
            }
        }
        self.nest.operands[self.ids[x]]
            .axes
            .iter()
            .map(|terms| axis_footprint(terms, &dims[..n]))
            .product()
    }

    /// Names of the dims in group `g`, outermost first, joined with `·`.
    pub fn group_dims(&self, g: usize) -> String {
        let names: Vec<&str> = self.groups[g]
            .iter()
            .rev()
            .map(|&(d, _)| self.nest.dims[d].name)
            .collect();
        if names.is_empty() {
            "-".to_string()
        } else {
            names.join("·")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xpusim_ir::{ConvSpec, DType, Precision};

    fn conv(h: u64, r: u64, stride: u64, pad: u64) -> Op {
        let spec = ConvSpec {
            n: 1,
            c: 8,
            h,
            w: h,
            k: 4,
            r,
            s: r,
            stride: (stride, stride),
            pad: (pad, pad, pad, pad),
            dilation: (1, 1),
            groups: 1,
            transposed: false,
        };
        Op::conv("c", spec, "w", Precision::uniform(DType::Bf16)).expect("valid")
    }

    #[test]
    fn strided_pointwise_conv_reads_only_touched_inputs() {
        let pb = &Problem::from_op(&conv(56, 1, 2, 0)).expect("problem")[0];
        // 28x28 outputs of a 1x1 stride-2 conv touch 28x28 of the 56x56 input.
        assert_eq!(pb.footprint(0, &pb.ext), 8 * 28 * 28);
    }

    #[test]
    fn sliding_windows_keep_their_halo() {
        let pb = &Problem::from_op(&conv(58, 3, 1, 0)).expect("problem")[0];
        assert_eq!(pb.footprint(0, &pb.ext), 8 * 58 * 58);
        let pb = &Problem::from_op(&conv(57, 3, 2, 0)).expect("problem")[0];
        // 28 outputs, window 3, stride 2: rows 0..=56.
        assert_eq!(pb.footprint(0, &pb.ext), 8 * 57 * 57);
        assert_eq!(pb.footprint(1, &pb.ext), 4 * 8 * 9);
        assert_eq!(pb.footprint(2, &pb.ext), 4 * 28 * 28);
    }
}
