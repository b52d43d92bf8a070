//! Winograd convolution: the fast algorithm cuDNN (`CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD`,
//! `…_WINOGRAD_NONFUSED`) and other conv libraries run for 3 × 3, stride-1 layers, priced
//! as the kernels it launches so that a library's choice of the fastest algorithm
//! (`cudnnFindConvolutionForwardAlgorithm`) can be followed.
//!
//! `F(m × m, 3 × 3)` (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
//! CVPR 2016) cuts the output into `m × m` tiles; each tile's `α × α` input window
//! (`α = m + 2`) is transformed (`Bᵀ d B`), the filters once (`G g Gᵀ`), the two are
//! multiplied point by point — for each of the `α²` points a `tiles × C` by `C × K` GEMM,
//! `α² / (9 m²)` of the direct convolution's multiplies (0.44 for `m = 2`, 0.25 for
//! `m = 4`) — and the products transformed back (`Aᵀ M A`). Unfused, as here, each step is
//! a kernel and the transformed tensors (`α² / m²` times the input and output) pass through
//! memory; the GEMM is priced by the contraction model like any other, the transforms as
//! vector ops whose FLOPs are counted from the transform matrices below.
//!
//! Only where the direct convolution runs on the vector units (no matrix engine for the
//! format, or one no faster — FP32 on V100, T4, P100, TITAN Xp): there the multiplies are
//! what the transform saves. Where a matrix engine runs the direct convolution, its
//! transforms and their traffic on the vector units cost more than the multiplies they
//! save, and FP16 Winograd's transforms lose accuracy (Lavin & Gray §5); the libraries run
//! implicit GEMM there — DeepBench's V100 and T4 FP16 training sheets (cuDNN 7.6) record
//! an implicit-GEMM algorithm for every layer, their FP32 sheets Winograd for 30 of 94.
//!
//! The op's FLOPs stay the direct convolution's (model FLOPs); its time, traffic and
//! energy are those of the kernels that ran.

use xpusim_hw::DeviceSpec;
use xpusim_ir::{ConvSpec, MatmulSpec, Names, Op, Role};

use crate::cost::{merge, OpCost};
use crate::EngineError;

/// One `F(m × m, 3 × 3)` variant: the output tile `m` and its transform matrices, row
/// major (Lavin & Gray 2016, §4.1 for `m = 2`, §4.2 for `m = 4`; the same as the `wincnn`
/// generator's output for points 0, ±1, ±2, ∞).
struct Variant {
    m: u64,
    /// `Bᵀ`, α × α.
    bt: &'static [&'static [f64]],
    /// `G`, α × 3.
    g: &'static [&'static [f64]],
    /// `Aᵀ`, m × α.
    at: &'static [&'static [f64]],
}

const F2X3: Variant = Variant {
    m: 2,
    bt: &[
        &[1.0, 0.0, -1.0, 0.0],
        &[0.0, 1.0, 1.0, 0.0],
        &[0.0, -1.0, 1.0, 0.0],
        &[0.0, 1.0, 0.0, -1.0],
    ],
    g: &[
        &[1.0, 0.0, 0.0],
        &[0.5, 0.5, 0.5],
        &[0.5, -0.5, 0.5],
        &[0.0, 0.0, 1.0],
    ],
    at: &[&[1.0, 1.0, 1.0, 0.0], &[0.0, 1.0, -1.0, -1.0]],
};

const F4X3: Variant = Variant {
    m: 4,
    bt: &[
        &[4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
        &[0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
        &[0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
        &[0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
        &[0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
        &[0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
    ],
    g: &[
        &[0.25, 0.0, 0.0],
        &[-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
        &[-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
        &[1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
        &[1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
        &[0.0, 0.0, 1.0],
    ],
    at: &[
        &[1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        &[0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
        &[0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
        &[0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
    ],
};

const VARIANTS: [&Variant; 2] = [&F2X3, &F4X3];

/// FLOPs of multiplying one vector by `mat`: per row, an add for each nonzero after the
/// first and a multiply for each nonzero other than ±1.
fn apply_flops(mat: &[&[f64]]) -> u64 {
    mat.iter()
        .map(|row| {
            let nz = row.iter().filter(|x| **x != 0.0).count() as u64;
            let mul = row.iter().filter(|x| **x != 0.0 && x.abs() != 1.0).count() as u64;
            nz.saturating_sub(1) + mul
        })
        .sum()
}

/// Whether `c` is a layer Winograd `F(m × m, 3 × 3)` computes: a dense 3 × 3 filter, stride
/// 1, no dilation (a stride-1 transposed convolution is the same correlation with the filter
/// flipped, as the data gradient of such a layer is).
fn eligible(c: &ConvSpec) -> bool {
    c.r == 3 && c.s == 3 && c.stride == (1, 1) && c.dilation == (1, 1) && c.groups == 1
}

/// The fastest Winograd variant's cost, or `None` where none applies (see the module doc).
pub(crate) fn cost(op: &Op, c: &ConvSpec, dev: &DeviceSpec) -> Result<Option<OpCost>, EngineError> {
    if !crate::contraction::on_vector_units(op, dev) || !eligible(c) || op.operands.len() < 3 {
        return Ok(None);
    }
    let mut best: Option<OpCost> = None;
    for v in VARIANTS {
        let parts = kernels(op, c, v)?;
        let mut costs = Vec::with_capacity(parts.len());
        for p in &parts {
            costs.push(crate::cost_op(p, dev)?);
        }
        let mut total = merge(costs);
        total.mapping = format!(
            "winograd F({0}x{0},3x3): transforms + {1} GEMMs",
            v.m,
            (v.m + 2).pow(2)
        );
        if best.as_ref().is_none_or(|b| total.time_s < b.time_s) {
            best = Some(total);
        }
    }
    Ok(best)
}

/// The four kernels of unfused `F(m × m, 3 × 3)`: input transform, filter transform, the
/// `α²` GEMMs (one batched GEMM), output transform.
fn kernels(op: &Op, c: &ConvSpec, v: &Variant) -> Result<Vec<Op>, EngineError> {
    let ir = |e: xpusim_ir::IrError| EngineError::Model {
        op: op.name.clone(),
        model: "winograd".into(),
        msg: e.to_string(),
    };
    let (x, w, y) = (&op.operands[0], &op.operands[1], &op.operands[2]);
    let alpha = v.m + 2;
    let a2 = alpha * alpha;
    // The layer's output size: its input for a transposed (data-gradient) layer.
    let (p, q) = c.output_hw();
    let tiles = c.n * p.div_ceil(v.m) * q.div_ceil(v.m);
    let (cin, cout) = (c.c, c.k);
    let name = &op.name;
    let flat = |mut o: xpusim_ir::Operand, elems: u64, role: Role| {
        o.shape = vec![elems];
        o.role = role;
        o
    };
    // Bᵀ d B: α columns, then α rows, per tile and input channel.
    let d_flops = 2 * alpha * apply_flops(v.bt);
    let mut dt = Op::elementwise(
        &format!("{name}.winograd_data"),
        "winograd_transform",
        tiles * cin,
        1,
        d_flops,
        x.dtype,
    )
    .map_err(ir)?;
    dt.operands = vec![
        flat(x.clone(), x.elems(), Role::Input),
        flat(x.clone(), a2 * cin * tiles, Role::Output),
    ];
    // G g Gᵀ: 3 columns, then α rows, per filter.
    let g_flops = (3 + alpha) * apply_flops(v.g);
    let mut gt = Op::elementwise(
        &format!("{name}.winograd_filter"),
        "winograd_transform",
        cin * cout,
        1,
        g_flops,
        w.dtype,
    )
    .map_err(ir)?;
    gt.operands = vec![
        flat(w.clone(), w.elems(), w.role),
        flat(w.clone(), a2 * cin * cout, Role::Output),
    ];
    let data = format!("{name}.winograd_data.out");
    let filt = format!("{name}.winograd_filter.out");
    let prod = format!("{name}.winograd_gemm.out");
    let gemm = Op::matmul(
        &format!("{name}.winograd_gemm"),
        MatmulSpec {
            batch: a2,
            m: tiles,
            n: cout,
            k: cin,
            rhs_batched: true,
        },
        Names {
            lhs: &data,
            rhs: &filt,
            out: &prod,
        },
        Role::Weight,
        x.dtype,
        w.dtype,
        op.compute_dtype,
    )
    .map_err(ir)?;
    // Aᵀ M A: α columns, then m rows, per tile and output channel.
    let o_flops = (alpha + v.m) * apply_flops(v.at);
    let mut ot = Op::elementwise(
        &format!("{name}.winograd_output"),
        "winograd_transform",
        tiles * cout,
        1,
        o_flops,
        y.dtype,
    )
    .map_err(ir)?;
    ot.operands = vec![
        flat(y.clone(), a2 * cout * tiles, Role::Input),
        flat(y.clone(), y.elems(), Role::Output),
    ];
    Ok(vec![dt, gt, gemm, ot])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_flops_come_from_the_matrices() {
        // F(2,3): Bᵀ rows have 2 nonzeros of ±1: one add each.
        assert_eq!(apply_flops(F2X3.bt), 4);
        // Aᵀ: 3 and 3 nonzeros, all ±1.
        assert_eq!(apply_flops(F2X3.at), 4);
        // G: 1, 3 (×½ each), 3 (×½), 1 → 0 + (2+3) + (2+3) + 0.
        assert_eq!(apply_flops(F2X3.g), 10);
    }

    #[test]
    fn the_matrices_reproduce_a_direct_correlation() {
        // y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A must equal the 3 × 3 correlation of d with g.
        for v in VARIANTS {
            let alpha = (v.m + 2) as usize;
            let m = v.m as usize;
            let d: Vec<Vec<f64>> = (0..alpha)
                .map(|i| {
                    (0..alpha)
                        .map(|j| ((i * 7 + j * 3) % 5) as f64 - 2.0)
                        .collect()
                })
                .collect();
            let g = [[1.0, -2.0, 0.5], [0.0, 3.0, 1.0], [-1.0, 2.0, 4.0]];
            let mul = |a: &[Vec<f64>], b: &[Vec<f64>]| -> Vec<Vec<f64>> {
                (0..a.len())
                    .map(|i| {
                        (0..b[0].len())
                            .map(|j| (0..b.len()).map(|k| a[i][k] * b[k][j]).sum())
                            .collect()
                    })
                    .collect()
            };
            let tr = |a: &[Vec<f64>]| -> Vec<Vec<f64>> {
                (0..a[0].len())
                    .map(|j| (0..a.len()).map(|i| a[i][j]).collect())
                    .collect()
            };
            let own =
                |mat: &[&[f64]]| -> Vec<Vec<f64>> { mat.iter().map(|r| r.to_vec()).collect() };
            let (bt, gm, at) = (own(v.bt), own(v.g), own(v.at));
            let gg: Vec<Vec<f64>> = g.iter().map(|r| r.to_vec()).collect();
            let u = mul(&mul(&gm, &gg), &tr(&gm));
            let vv = mul(&mul(&bt, &d), &tr(&bt));
            let had: Vec<Vec<f64>> = (0..alpha)
                .map(|i| (0..alpha).map(|j| u[i][j] * vv[i][j]).collect())
                .collect();
            let y = mul(&mul(&at, &had), &tr(&at));
            for i in 0..m {
                for j in 0..m {
                    let direct: f64 = (0..3)
                        .flat_map(|r| (0..3).map(move |s| (r, s)))
                        .map(|(r, s)| d[i + r][j + s] * g[r][s])
                        .sum();
                    assert!((y[i][j] - direct).abs() < 1e-9, "F({m},3) at ({i},{j})");
                }
            }
        }
    }
}
