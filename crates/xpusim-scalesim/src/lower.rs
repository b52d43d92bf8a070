//! SCALE-Sim topology rows lowered to IR ops, so a topology CSV runs on any chip.
//!
//! SCALE-Sim convolutions have batch 1 and no padding, with output size
//! `ceil((H − F + s) / s)` (`scalesim/topology_utils.py`). ONNX/PyTorch output size is
//! `floor((H + pad − F) / s) + 1`, so the lowering adds the smallest bottom/right padding
//! that makes the two equal: `pad = (s − (H − F) mod s) mod s`. MAC counts then agree with
//! SCALE-Sim's `num_macs` exactly. A GEMM row `M, N, K` becomes a linear layer of `M` tokens,
//! reduction `K` and `N` outputs.

use crate::{Layer, LayerKind};
use xpusim_ir::{ConvSpec, Graph, IrError, Op, Phase, Precision};

/// Bottom/right padding that turns ONNX's floor rule into SCALE-Sim's ceil rule.
fn ceil_pad(extent: u64, filter: u64, stride: u64) -> u64 {
    let span = extent.saturating_sub(filter);
    (stride - span % stride) % stride
}

/// One topology layer as an IR op (a conv or a linear layer).
pub fn layer_op(layer: &Layer, p: Precision) -> Result<Op, IrError> {
    match layer.kind {
        LayerKind::Gemm { m, n, k } => {
            Op::linear(&layer.name, m, k, n, &format!("{}.w", layer.name), p)
        }
        LayerKind::Conv => {
            let spec = ConvSpec {
                n: 1,
                c: layer.channels,
                h: layer.ifmap_h,
                w: layer.ifmap_w,
                k: layer.num_filters,
                r: layer.filter_h,
                s: layer.filter_w,
                stride: (layer.stride_h.max(1), layer.stride_w.max(1)),
                pad: (
                    0,
                    0,
                    ceil_pad(layer.ifmap_h, layer.filter_h, layer.stride_h.max(1)),
                    ceil_pad(layer.ifmap_w, layer.filter_w, layer.stride_w.max(1)),
                ),
                dilation: (1, 1),
                groups: 1,
                transposed: false,
            };
            Op::conv(&layer.name, spec, &format!("{}.w", layer.name), p)
        }
    }
}

/// A whole topology as a batch-1 inference graph named `name`, weights declared per layer.
pub fn topology_graph(name: &str, layers: &[Layer], p: Precision) -> Result<Graph, IrError> {
    let mut g = Graph::new(name, Phase::Inference, 1, 1);
    for l in layers {
        let op = layer_op(l, p)?;
        let w = &op.operands[1];
        g.weight(&w.tensor, &w.shape, w.dtype, 1)?;
        g.push(op);
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xpusim_ir::DType;

    #[test]
    fn conv_macs_match_scalesim_ceil_rule() {
        // 7x7 input, 2x2 filter, stride 2: SCALE-Sim ofmap is ceil((7-2+2)/2) = 4 per side.
        let l = Layer::conv("c", 7, 7, 2, 2, 3, 5, 2).expect("valid");
        let op = layer_op(&l, Precision::uniform(DType::Int8)).expect("lowers");
        assert_eq!(op.macs(), l.num_macs());
        assert_eq!(op.operands[2].shape, vec![1, 5, 4, 4]);
    }

    #[test]
    fn gemm_row_is_a_linear_layer() {
        let l = Layer::gemm("g", 128, 64, 256).expect("valid");
        let op = layer_op(&l, Precision::uniform(DType::Bf16)).expect("lowers");
        assert_eq!(op.macs(), 128 * 64 * 256);
        assert_eq!(op.operands[1].shape, vec![256, 64]);
    }
}
