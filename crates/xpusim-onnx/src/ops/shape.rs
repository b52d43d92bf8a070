//! Shape-only and constant-producing operators, folded at import time (ONNX operator spec:
//! Shape, Size, Constant, ConstantOfShape, Range, Reshape, Flatten, Squeeze, Unsqueeze).
//! They emit no IR ops: a runtime computes them on the host or makes them views.

use crate::error::{NResult, NodeErr};
use crate::node::Node;
use crate::value::{elem, norm_axis, tensor_val, Val, MAX_FOLD_ELEMS};

/// `Shape` (Shape-15: optional `start`/`end` attributes, clamped like Slice).
pub(crate) fn shape(n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let r = x.rank() as i64;
    let clamp = |v: i64| if v < 0 { (v + r).max(0) } else { v.min(r) } as usize;
    let s = clamp(n.ai("start", 0));
    let e = clamp(n.ai("end", r));
    let dims: Vec<f64> = x.shape[s.min(e)..e].iter().map(|&d| d as f64).collect();
    Ok(vec![Val::with_data(
        vec![dims.len() as u64],
        elem::INT64,
        dims,
    )])
}

pub(crate) fn size(n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    Ok(vec![Val::with_data(
        vec![],
        elem::INT64,
        vec![x.elems_sat() as f64],
    )])
}

/// `Constant`: `value` tensor or one of `value_float(s)` / `value_int(s)`.
pub(crate) fn constant(n: &Node<'_>) -> NResult<Vec<Val>> {
    if let Some(t) = n.attr("value").and_then(|a| a.t.as_ref()) {
        return Ok(vec![tensor_val(t)?]);
    }
    if let Some(a) = n.attr("value_float") {
        return Ok(vec![Val::with_data(vec![], elem::FLOAT, vec![a.f as f64])]);
    }
    if let Some(a) = n.attr("value_int") {
        return Ok(vec![Val::with_data(vec![], elem::INT64, vec![a.i as f64])]);
    }
    if let Some(a) = n.attr("value_floats") {
        let d: Vec<f64> = a.floats.iter().map(|&x| x as f64).collect();
        return Ok(vec![Val::with_data(vec![d.len() as u64], elem::FLOAT, d)]);
    }
    if let Some(a) = n.attr("value_ints") {
        let d: Vec<f64> = a.ints.iter().map(|&x| x as f64).collect();
        return Ok(vec![Val::with_data(vec![d.len() as u64], elem::INT64, d)]);
    }
    Err(NodeErr::attr(
        "value",
        "Constant without a supported value attribute",
    ))
}

fn to_dims(v: &[i64], what: &str) -> NResult<Vec<u64>> {
    v.iter()
        .map(|&d| {
            u64::try_from(d).map_err(|_| NodeErr::msg(format!("{what}: negative dimension {d}")))
        })
        .collect()
}

/// `ConstantOfShape`: a tensor of shape `input` filled with `value` (default float 0).
/// Large outputs are weight placeholders in stripped models and cost nothing.
pub(crate) fn constant_of_shape(n: &Node<'_>) -> NResult<Vec<Val>> {
    let dims = n.const_ints(0)?.unwrap_or_default();
    let shape = to_dims(&dims, "shape")?;
    let (el, fill) = match n.attr("value").and_then(|a| a.t.as_ref()) {
        Some(t) => {
            let v = tensor_val(t)?;
            (
                v.elem,
                v.data.and_then(|d| d.first().copied()).unwrap_or(0.0),
            )
        }
        None => (elem::FLOAT, 0.0),
    };
    let mut out = Val::new(shape, el);
    let e = out.elems_sat();
    if e <= MAX_FOLD_ELEMS {
        out.data = Some(vec![fill; e as usize]);
    }
    Ok(vec![out])
}

/// `Range(start, limit, delta)`: `max(ceil((limit − start)/delta), 0)` elements.
pub(crate) fn range(n: &Node<'_>) -> NResult<Vec<Val>> {
    let el = n.x(0)?.elem;
    let get = |i: usize| -> NResult<f64> {
        n.x(i)?.scalar().ok_or_else(|| {
            NodeErr::msg(format!(
                "Range input `{}` must be known at import time",
                n.in_name(i)
            ))
        })
    };
    let (s, l, d) = (get(0)?, get(1)?, get(2)?);
    if d == 0.0 || !d.is_finite() {
        return Err(NodeErr::msg("Range delta must be a non-zero finite number"));
    }
    let cnt = ((l - s) / d).ceil().max(0.0);
    if cnt > 1e15 {
        return Err(NodeErr::msg("Range has too many elements"));
    }
    let cnt = cnt as u64;
    let data: Vec<f64> = if cnt <= MAX_FOLD_ELEMS {
        (0..cnt).map(|i| s + i as f64 * d).collect()
    } else {
        Vec::new()
    };
    let mut out = Val::with_data(vec![cnt], el, data);
    out.konst = false;
    Ok(vec![out])
}

/// `Reshape` (Reshape-14): 0 copies the input dim (unless `allowzero`), −1 is inferred.
pub(crate) fn reshape(n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let spec = if n.opset < 5 {
        n.aints("shape").unwrap_or_default()
    } else {
        n.const_ints(1)?.unwrap_or_default()
    };
    let allowzero = n.ai("allowzero", 0) != 0;
    let mut out = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (i, &d) in spec.iter().enumerate() {
        match d {
            0 if !allowzero => out.push(*x.shape.get(i).ok_or_else(|| {
                NodeErr::msg(format!("shape {spec:?}: 0 at axis {i} beyond input rank"))
            })?),
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            d if d >= 0 => out.push(d as u64),
            _ => return Err(NodeErr::msg(format!("invalid target shape {spec:?}"))),
        }
    }
    let total = x.elems_sat();
    let known: u64 = out.iter().fold(1u64, |a, &d| a.saturating_mul(d));
    if let Some(i) = infer {
        if known == 0 || total % known != 0 {
            return Err(NodeErr::msg(format!(
                "cannot reshape {:?} to {spec:?}",
                x.shape
            )));
        }
        out[i] = total / known;
    } else if known != total {
        return Err(NodeErr::msg(format!(
            "cannot reshape {:?} ({total} elements) to {out:?}",
            x.shape
        )));
    }
    Ok(vec![view(x, out)])
}

/// Same contents under a new shape.
pub(crate) fn view(x: &Val, shape: Vec<u64>) -> Val {
    let mut v = Val::new(shape, x.elem);
    v.data = x.data.clone();
    v.quant = x.quant;
    v
}

/// `Flatten`: `[prod(shape[:axis]), prod(shape[axis:])]`.
pub(crate) fn flatten(n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let r = x.rank();
    let a = n.ai("axis", 1);
    let a = if a < 0 { a + r as i64 } else { a };
    if a < 0 || a as usize > r {
        return Err(NodeErr::attr(
            "axis",
            format!("{a} out of range for rank {r}"),
        ));
    }
    let a = a as usize;
    let p = |s: &[u64]| s.iter().product::<u64>();
    Ok(vec![view(x, vec![p(&x.shape[..a]), p(&x.shape[a..])])])
}

fn axes_of(n: &Node<'_>, input: usize) -> NResult<Option<Vec<i64>>> {
    if n.opset >= 13 {
        n.const_ints(input)
    } else {
        Ok(n.aints("axes"))
    }
}

/// `Squeeze` (axes attribute before opset 13, input after); no axes drops all 1s.
pub(crate) fn squeeze(n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let r = x.rank();
    let axes = match axes_of(n, 1)? {
        Some(a) => a
            .iter()
            .map(|&a| norm_axis(a, r))
            .collect::<NResult<Vec<_>>>()?,
        None => (0..r).filter(|&i| x.shape[i] == 1).collect(),
    };
    let shape = (0..r)
        .filter(|i| !axes.contains(i))
        .map(|i| x.shape[i])
        .collect();
    Ok(vec![view(x, shape)])
}

/// `Unsqueeze`: inserts 1s at `axes` of the output rank.
pub(crate) fn unsqueeze(n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let axes = axes_of(n, 1)?.ok_or_else(|| NodeErr::attr("axes", "missing"))?;
    let r = x.rank() + axes.len();
    let mut axes = axes
        .iter()
        .map(|&a| norm_axis(a, r))
        .collect::<NResult<Vec<_>>>()?;
    axes.sort_unstable();
    axes.dedup();
    let mut it = x.shape.iter();
    let shape = (0..r)
        .map(|i| {
            if axes.contains(&i) {
                1
            } else {
                it.next().copied().unwrap_or(1)
            }
        })
        .collect();
    Ok(vec![view(x, shape)])
}
