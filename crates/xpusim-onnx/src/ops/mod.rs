//! Per-operator shape inference, constant folding and lowering.

mod contrib;
mod conv;
mod elementwise;
mod linalg;
mod norm;
mod rnn;
mod sequence;
pub(crate) mod shape;
mod tensor;

use crate::error::{NResult, NodeErr, OnnxError};
use crate::import::{Env, Importer};
use crate::lower;
use crate::node::Node;
use crate::value::{elem, Val};

/// Infers the outputs of `n`, emitting its IR ops.
pub(crate) fn infer(im: &mut Importer<'_>, n: &Node<'_>, env: &Env) -> NResult<Vec<Val>> {
    let op = n.op();
    match op {
        "Shape" => shape::shape(n),
        "Size" => shape::size(n),
        "Constant" => shape::constant(n),
        "ConstantOfShape" => shape::constant_of_shape(n),
        "Range" => shape::range(n),
        "Reshape" => shape::reshape(n),
        "Flatten" => shape::flatten(n),
        "Squeeze" => shape::squeeze(n),
        "Unsqueeze" => shape::unsqueeze(n),
        "Identity" | "Dropout" | "StopGradient" => {
            let x = n.x(0)?;
            if x.seq.is_some() {
                // Identity of a sequence (opset ≥ 14) passes the sequence on.
                return Ok(vec![x.clone()]);
            }
            let mut v = shape::view(x, x.shape.clone());
            v.konst = x.konst;
            Ok(vec![v.clone(), Val::new(x.shape.clone(), elem::BOOL)])
        }
        "Cast" | "CastLike" => elementwise::cast(im, n),
        "Where" => elementwise::where_(im, n),
        "Transpose" => tensor::transpose(im, n),
        "Concat" => tensor::concat(im, n),
        "Split" => tensor::split(im, n),
        "Slice" => tensor::slice(im, n),
        "Gather" => tensor::gather(im, n),
        "GatherElements" => tensor::like_input(im, n, 1),
        "GatherND" => tensor::gather_nd(im, n),
        "ScatterND" | "ScatterElements" | "Scatter" => tensor::like_input(im, n, 0),
        "Expand" => tensor::expand(im, n),
        "Tile" => tensor::tile(im, n),
        "Pad" => tensor::pad(im, n),
        "Resize" | "Upsample" => tensor::resize(im, n),
        "DepthToSpace" | "SpaceToDepth" => tensor::depth_space(im, n),
        "TopK" => tensor::topk(im, n),
        "OneHot" => tensor::onehot(im, n),
        "NonZero" => nonzero(im, n),
        "Conv" | "ConvTranspose" | "ConvInteger" | "QLinearConv" => conv::conv(im, n),
        "MaxPool" | "AveragePool" | "LpPool" => conv::pool(im, n),
        "GlobalAveragePool" | "GlobalMaxPool" | "GlobalLpPool" => conv::global_pool(im, n),
        "BatchNormalization" | "InstanceNormalization" | "GroupNormalization" => {
            norm::channel_norm(im, n)
        }
        "LayerNormalization" | "SimplifiedLayerNormalization" | "RMSNormalization" => {
            norm::layer_norm(im, n)
        }
        "Softmax" | "LogSoftmax" | "Hardmax" => norm::softmax(im, n),
        "ArgMax" | "ArgMin" => norm::reduce(im, n),
        o if o.starts_with("Reduce") => norm::reduce(im, n),
        "CumSum" | "Trilu" | "LpNormalization" | "MeanVarianceNormalization" => {
            norm::same_shape(im, n, 2)
        }
        "LRN" => {
            let size = n.ai("size", 1).clamp(1, 1 << 16) as u64;
            norm::same_shape(im, n, size + 2)
        }
        "MatMul" | "MatMulInteger" | "QLinearMatMul" => linalg::matmul(im, n),
        "Gemm" => linalg::gemm(im, n),
        "Einsum" => linalg::einsum(im, n),
        "QuantizeLinear" | "DequantizeLinear" => linalg::qdq(im, n),
        "DynamicQuantizeLinear" => linalg::dyn_quant(im, n),
        "LSTM" | "GRU" | "RNN" | "DynamicQuantizeLSTM" => rnn::recurrent(im, n),
        "Attention" => contrib::attention(im, n),
        "SkipLayerNormalization" | "SkipSimplifiedLayerNormalization" => contrib::skip_ln(im, n),
        "EmbedLayerNormalization" => contrib::embed_ln(im, n),
        "MultiHeadAttention" | "GroupQueryAttention" => contrib::mha(im, n),
        "MatMulNBits" => contrib::matmul_nbits(im, n),
        "RotaryEmbedding" => norm::same_shape(im, n, 3),
        "BiasAdd" => elementwise::binary(im, n),
        "SplitToSequence" => sequence::split_to_sequence(im, n),
        "SequenceAt" => sequence::sequence_at(n),
        "SequenceConstruct" => sequence::construct(n),
        "SequenceEmpty" => sequence::empty(n),
        "SequenceInsert" => sequence::insert(n),
        "SequenceErase" => sequence::erase(n),
        "SequenceLength" => sequence::length(n),
        "ConcatFromSequence" => sequence::concat_from_sequence(im, n),
        "If" => crate::control::if_(im, n, env),
        "Loop" => crate::control::loop_(im, n, env),
        "Scan" => crate::control::scan(im, n, env),
        o if elementwise::is_binary(o) => elementwise::binary(im, n),
        o if elementwise::is_unary(o) => elementwise::unary(im, n),
        _ => unknown(im, n),
    }
}

/// NonZero: `[rank, count]`; the count is data-dependent unless the input is folded, and
/// is then bounded by the element count.
fn nonzero(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let r = x.rank() as u64;
    if let Some(d) = &x.data {
        let mut idx = Vec::new();
        let nz: Vec<usize> = (0..d.len()).filter(|&i| d[i] != 0.0).collect();
        let mut strides = vec![1usize; x.rank()];
        for i in (0..x.rank().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * x.shape[i + 1] as usize;
        }
        for (a, &s) in strides.iter().enumerate() {
            for &i in &nz {
                idx.push(((i / s) % x.shape[a].max(1) as usize) as f64);
            }
        }
        return Ok(vec![Val::with_data(
            vec![r, nz.len() as u64],
            elem::INT64,
            idx,
        )]);
    }
    im.warn(
        n,
        "output size is data-dependent; assuming every element is non-zero",
    );
    let out = Val::new(vec![r, x.elems_sat()], elem::INT64);
    lower::red(
        im,
        n,
        "nonzero",
        x.elems_sat(),
        out.elems_sat().max(1),
        x.elem,
    )?;
    Ok(vec![out])
}

/// An operator without a rule: outputs take the first input's shape (a guess, reported),
/// and the node is costed as memory-bound. Strict mode makes it an error.
fn unknown(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    if im.opts.strict {
        return Err(NodeErr::Inner(Box::new(OnnxError::Unsupported {
            file: im.file.clone(),
            node: n.name.clone(),
            op_type: n.op().to_string(),
        })));
    }
    let proto = n.ins.iter().flatten().next().cloned();
    let outs: Vec<Val> =
        n.p.output
            .iter()
            .map(|_| match &proto {
                Some(v) => Val::new(v.shape.clone(), v.elem),
                None => Val::new(vec![], elem::FLOAT),
            })
            .collect();
    im.warn(n, "no lowering rule; costed as memory-bound Unknown, output shapes copied from the first input");
    lower::unknown(im, n, &outs)?;
    Ok(outs)
}
