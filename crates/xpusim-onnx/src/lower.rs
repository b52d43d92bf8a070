//! Small helpers that build IR ops for a node (names derive from the node's name).

use xpusim_ir::{Op, Operand, Role};

use crate::error::NResult;
use crate::import::Importer;
use crate::node::Node;
use crate::value::Val;

/// A pointwise op over `out` with `inputs` activation inputs (ONNX operators whose
/// semantics are elementwise with multidirectional broadcasting).
pub(crate) fn ew(
    im: &mut Importer<'_>,
    n: &Node<'_>,
    func: &str,
    out: &Val,
    inputs: u64,
    flops: u64,
) -> NResult<()> {
    let e = out.elems_sat();
    if e == 0 {
        return Ok(());
    }
    let dt = im.prec(out.elem).act;
    im.emit(
        n.op(),
        Op::elementwise(&n.name, func, e, inputs.max(1), flops, dt),
    )
}

/// A copy-like op moving `elems` elements of type `el`.
pub(crate) fn dm(
    im: &mut Importer<'_>,
    n: &Node<'_>,
    func: &str,
    elems: u64,
    el: i32,
) -> NResult<()> {
    if elems == 0 {
        return Ok(());
    }
    let dt = im.prec(el).act;
    im.emit(n.op(), Op::data_movement(&n.name, func, elems, dt))
}

/// A reduction or pooling reading `in_elems` and writing `out_elems`.
pub(crate) fn red(
    im: &mut Importer<'_>,
    n: &Node<'_>,
    func: &str,
    in_elems: u64,
    out_elems: u64,
    el: i32,
) -> NResult<()> {
    if in_elems == 0 || out_elems == 0 {
        return Ok(());
    }
    let dt = im.prec(el).act;
    im.emit(n.op(), Op::reduce(&n.name, func, in_elems, out_elems, dt))
}

/// An operator without a lowering rule: memory-bound over its present inputs and outputs.
pub(crate) fn unknown(im: &mut Importer<'_>, n: &Node<'_>, outs: &[Val]) -> NResult<()> {
    let mut operands = Vec::new();
    for (i, v) in n.ins.iter().enumerate() {
        if let Some(v) = v {
            let role = if v.konst { Role::Weight } else { Role::Input };
            operands.push(Operand {
                tensor: n.in_name(i).to_string(),
                role,
                shape: v.shape.clone(),
                dtype: v.dtype(),
                group: 0,
            });
        }
    }
    for (i, v) in outs.iter().enumerate() {
        operands.push(Operand {
            tensor: n.out_name(i).to_string(),
            role: Role::Output,
            shape: v.shape.clone(),
            dtype: v.dtype(),
            group: 0,
        });
    }
    let dt = operands
        .first()
        .map(|o| o.dtype)
        .unwrap_or(xpusim_ir::DType::Fp32);
    im.emit(n.op(), Ok(Op::unknown(&n.name, n.op(), operands, dt)))
}
