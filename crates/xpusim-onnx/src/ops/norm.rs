//! Normalisations, softmax and reductions (ONNX operator spec: BatchNormalization,
//! InstanceNormalization, GroupNormalization, LayerNormalization, Softmax, LogSoftmax,
//! Reduce*, ArgMax/ArgMin, CumSum).

use xpusim_ir::{NormKind, Op};

use crate::error::{NResult, NodeErr};
use crate::import::Importer;
use crate::lower::{ew, red};
use crate::node::Node;
use crate::value::{elem, norm_axis, Val};

fn emit_norm(
    im: &mut Importer<'_>,
    n: &Node<'_>,
    kind: NormKind,
    rows: u64,
    cols: u64,
    el: i32,
) -> NResult<()> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let dt = im.prec(el).act;
    im.emit(n.op(), Op::norm(&n.name, kind, rows, cols, dt))
}

/// BatchNormalization (inference form: per-channel scale and shift), InstanceNormalization
/// and GroupNormalization (statistics per sample × group).
pub(crate) fn channel_norm(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    if x.rank() < 2 {
        return Err(NodeErr::msg("expects an input of rank ≥ 2"));
    }
    let e = x.elems_sat();
    let (nb, c) = (x.shape[0], x.shape[1]);
    let sp = e / (nb * c).max(1);
    match n.op() {
        "BatchNormalization" => emit_norm(im, n, NormKind::BatchNorm, e / c.max(1), c, x.elem)?,
        "InstanceNormalization" => emit_norm(im, n, NormKind::GroupNorm, nb * c, sp, x.elem)?,
        _ => {
            let g = n.ai("num_groups", 1).clamp(1, 1 << 32) as u64;
            if c % g != 0 {
                return Err(NodeErr::attr(
                    "num_groups",
                    format!("{g} does not divide {c} channels"),
                ));
            }
            emit_norm(im, n, NormKind::GroupNorm, nb * g, c / g * sp, x.elem)?
        }
    }
    let mut outs = vec![Val::new(x.shape.clone(), x.elem)];
    if n.op() == "BatchNormalization" {
        for _ in 1..n.p.output.len() {
            outs.push(Val::new(vec![c], x.elem));
        }
    }
    Ok(outs)
}

/// LayerNormalization-17 (and SimplifiedLayerNormalization / RMSNormalization): statistics
/// over `shape[axis:]`; Mean and InvStdDev have shape `shape[:axis] + [1]*`.
pub(crate) fn layer_norm(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let axis = if x.rank() == 0 {
        0
    } else {
        norm_axis(n.ai("axis", -1), x.rank())?
    };
    let rows: u64 = x.shape[..axis]
        .iter()
        .fold(1u64, |a, &d| a.saturating_mul(d));
    let cols: u64 = x.shape[axis..]
        .iter()
        .fold(1u64, |a, &d| a.saturating_mul(d));
    let kind = if n.op().contains("Simplified") || n.op() == "RMSNormalization" {
        NormKind::RmsNorm
    } else {
        NormKind::LayerNorm
    };
    emit_norm(im, n, kind, rows, cols, x.elem)?;
    let mut stat = x.shape[..axis].to_vec();
    stat.extend(std::iter::repeat_n(1, x.rank() - axis));
    let stat_el = if x.elem == elem::FLOAT16 || x.elem == elem::BFLOAT16 {
        elem::FLOAT
    } else {
        x.elem
    };
    Ok(vec![
        Val::new(x.shape.clone(), x.elem),
        Val::new(stat.clone(), stat_el),
        Val::new(stat, stat_el),
    ])
}

/// Softmax / LogSoftmax / Hardmax: opset ≥ 13 normalises along `axis` (default −1);
/// earlier opsets flatten `shape[axis:]` (default axis 1).
pub(crate) fn softmax(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let e = x.elems_sat();
    if x.rank() > 0 && e > 0 {
        let (def, flat) = if n.opset >= 13 {
            (-1, false)
        } else {
            (1, true)
        };
        let axis = norm_axis(n.ai("axis", def), x.rank())?;
        let cols: u64 = if flat {
            x.shape[axis..]
                .iter()
                .fold(1u64, |a, &d| a.saturating_mul(d))
        } else {
            x.shape[axis]
        };
        let dt = im.prec(x.elem).act;
        im.emit(n.op(), Op::softmax(&n.name, e / cols.max(1), cols, dt))?;
    }
    Ok(vec![Val::new(x.shape.clone(), x.elem)])
}

/// Reduce* (axes attribute, or input for ReduceSum-13 and all reductions since opset 18),
/// `keepdims`, `noop_with_empty_axes`; ArgMax/ArgMin (single `axis`, int64 output).
pub(crate) fn reduce(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let r = x.rank();
    let arg = n.op().starts_with("Arg");
    let axes_in = n.op() == "ReduceSum" && n.opset >= 13 || n.opset >= 18;
    let axes = if arg {
        Some(vec![n.ai("axis", 0)])
    } else if axes_in {
        n.const_ints(1)?.filter(|a| !a.is_empty())
    } else {
        n.aints("axes")
    };
    let keep = n.ai("keepdims", 1) != 0;
    let axes: Vec<usize> = match axes {
        Some(a) => a.iter().map(|&a| norm_axis(a, r)).collect::<NResult<_>>()?,
        None if n.ai("noop_with_empty_axes", 0) != 0 => {
            return Ok(vec![crate::ops::shape::view(x, x.shape.clone())]);
        }
        None => (0..r).collect(),
    };
    let mut shape = Vec::new();
    for (i, &d) in x.shape.iter().enumerate() {
        if axes.contains(&i) {
            if keep {
                shape.push(1);
            }
        } else {
            shape.push(d);
        }
    }
    let el = if arg { elem::INT64 } else { x.elem };
    let mut out = Val::new(shape, el);
    if let (Some(d), true) = (&x.data, out.elems_sat() == 1 && !arg) {
        let v = match n.op() {
            "ReduceProd" => Some(d.iter().product()),
            "ReduceSum" => Some(d.iter().sum()),
            "ReduceMax" => d.iter().copied().reduce(f64::max),
            "ReduceMin" => d.iter().copied().reduce(f64::min),
            "ReduceMean" if !d.is_empty() => Some(d.iter().sum::<f64>() / d.len() as f64),
            _ => None,
        };
        out.data = v.map(|v| vec![v]);
    }
    if out.data.is_none() {
        let f = n.op().to_ascii_lowercase();
        red(im, n, &f, x.elems_sat(), out.elems_sat(), x.elem)?;
    }
    Ok(vec![out])
}

/// CumSum, Trilu, LRN and other same-shape ops that are not plain pointwise math.
pub(crate) fn same_shape(im: &mut Importer<'_>, n: &Node<'_>, flops: u64) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let out = Val::new(x.shape.clone(), x.elem);
    let f = n.op().to_ascii_lowercase();
    ew(im, n, &f, &out, 1, flops)?;
    Ok(vec![out])
}
