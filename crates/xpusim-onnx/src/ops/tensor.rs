//! Data-movement operators (ONNX operator spec: Transpose, Concat, Split, Slice, Gather,
//! GatherElements, GatherND, Expand, Tile, Pad, Resize/Upsample, DepthToSpace, TopK, …).
//! Small known tensors are folded; the rest lower to `Op::data_movement`.

use xpusim_ir::Op;

use crate::error::{NResult, NodeErr};
use crate::import::Importer;
use crate::lower::dm;
use crate::node::Node;
use crate::value::{broadcast, elem, fold_nary, norm_axis, Val, MAX_FOLD_ELEMS};

/// Row-major selection: output axis `a` takes input indices `idx[a]`.
fn select(shape: &[u64], data: &[f64], idx: &[Vec<u64>]) -> Option<Vec<f64>> {
    let n: u64 = idx
        .iter()
        .fold(1u64, |a, v| a.saturating_mul(v.len() as u64));
    if n > MAX_FOLD_ELEMS || idx.len() != shape.len() {
        return None;
    }
    let mut strides = vec![1u64; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1].saturating_mul(shape[i + 1]);
    }
    let mut out = Vec::with_capacity(n as usize);
    let mut pos = vec![0usize; idx.len()];
    if idx.iter().any(|v| v.is_empty()) {
        return Some(out);
    }
    loop {
        let off: u64 = pos
            .iter()
            .enumerate()
            .map(|(a, &p)| idx[a][p] * strides[a])
            .sum();
        out.push(*data.get(off as usize)?);
        let mut a = idx.len();
        loop {
            if a == 0 {
                return Some(out);
            }
            a -= 1;
            pos[a] += 1;
            if pos[a] < idx[a].len() {
                break;
            }
            pos[a] = 0;
        }
    }
}

fn full(shape: &[u64]) -> Vec<Vec<u64>> {
    shape
        .iter()
        .map(|&d| (0..d.min(MAX_FOLD_ELEMS)).collect())
        .collect()
}

fn moved(im: &mut Importer<'_>, n: &Node<'_>, out: &Val) -> NResult<()> {
    if out.data.is_none() {
        let f = n.op().to_ascii_lowercase();
        dm(im, n, &f, out.elems_sat(), out.elem)?;
    }
    Ok(())
}

/// `Transpose` (default `perm` reverses the axes).
pub(crate) fn transpose(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let r = x.rank();
    let perm: Vec<usize> = match n.aints("perm") {
        Some(p) => p.iter().map(|&a| norm_axis(a, r)).collect::<NResult<_>>()?,
        None => (0..r).rev().collect(),
    };
    let mut sorted = perm.clone();
    sorted.sort_unstable();
    if sorted != (0..r).collect::<Vec<_>>() {
        return Err(NodeErr::attr(
            "perm",
            format!("{perm:?} is not a permutation of rank {r}"),
        ));
    }
    let shape: Vec<u64> = perm.iter().map(|&p| x.shape[p]).collect();
    let mut out = Val::new(shape, x.elem);
    out.quant = x.quant;
    if let Some(d) = &x.data {
        // out[i0..] = in[j] with j[perm[a]] = i[a]: iterate output, gather input.
        let mut strides = vec![1u64; r];
        for i in (0..r.saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * x.shape[i + 1];
        }
        let n_out = out.elems_sat();
        let mut res = Vec::with_capacity(n_out as usize);
        let mut pos = vec![0u64; r];
        for _ in 0..n_out {
            let off: u64 = (0..r).map(|a| pos[a] * strides[perm[a]]).sum();
            res.push(d.get(off as usize).copied().unwrap_or(0.0));
            for a in (0..r).rev() {
                pos[a] += 1;
                if pos[a] < out.shape[a] {
                    break;
                }
                pos[a] = 0;
            }
        }
        out.data = Some(res);
    }
    moved(im, n, &out)?;
    Ok(vec![out])
}

/// `Concat` along `axis`.
pub(crate) fn concat(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let ins: Vec<&Val> = n.ins.iter().flatten().collect();
    let first = ins.first().ok_or_else(|| NodeErr::msg("no inputs"))?;
    let r = first.rank();
    let axis = norm_axis(n.ai("axis", 0), r)?;
    let mut shape = first.shape.clone();
    if r == 0 {
        return Err(NodeErr::msg("Concat of scalars"));
    }
    shape[axis] = 0;
    for v in &ins {
        if v.rank() != r
            || v.shape
                .iter()
                .enumerate()
                .any(|(i, &d)| i != axis && d != first.shape[i])
        {
            return Err(NodeErr::msg(format!(
                "Concat inputs {:?} disagree outside axis {axis}",
                ins.iter().map(|v| &v.shape).collect::<Vec<_>>()
            )));
        }
        shape[axis] += v.shape[axis];
    }
    let mut out = Val::new(shape, first.elem);
    if ins.iter().all(|v| v.data.is_some()) && out.elems_sat() <= MAX_FOLD_ELEMS {
        let outer: u64 = out.shape[..axis]
            .iter()
            .fold(1u64, |a, &d| a.saturating_mul(d));
        let mut res = Vec::new();
        for o in 0..outer {
            for v in &ins {
                let blk: u64 = v.shape[axis..]
                    .iter()
                    .fold(1u64, |a, &d| a.saturating_mul(d));
                if let Some(d) = &v.data {
                    let s = (o * blk) as usize;
                    res.extend_from_slice(d.get(s..s + blk as usize).unwrap_or(&[]));
                }
            }
        }
        if res.len() as u64 == out.elems_sat() {
            out.data = Some(res);
        }
    }
    moved(im, n, &out)?;
    Ok(vec![out])
}

/// `Split` (split sizes from the input since opset 13, attribute before; `num_outputs`
/// since opset 18; else equal parts).
pub(crate) fn split(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let axis = norm_axis(n.ai("axis", 0), x.rank())?;
    let dim = *x
        .shape
        .get(axis)
        .ok_or_else(|| NodeErr::msg("Split of a scalar"))?;
    let nout = n.p.output.len().max(1) as u64;
    let sizes: Vec<u64> = match if n.opset >= 13 {
        n.const_ints(1)?
    } else {
        n.aints("split")
    } {
        Some(s) => s.iter().map(|&v| v.max(0) as u64).collect(),
        None => {
            let k = n.ai("num_outputs", nout as i64).clamp(1, 1 << 16) as u64;
            let part = dim.div_ceil(k);
            (0..k)
                .map(|i| part.min(dim.saturating_sub(i * part)))
                .collect()
        }
    };
    if sizes.iter().sum::<u64>() != dim {
        return Err(NodeErr::msg(format!(
            "split sizes {sizes:?} do not sum to {dim}"
        )));
    }
    let mut outs = Vec::new();
    let mut start = 0;
    for &s in &sizes {
        let mut shape = x.shape.clone();
        shape[axis] = s;
        let mut v = Val::new(shape, x.elem);
        if let Some(d) = &x.data {
            let mut idx = full(&x.shape);
            idx[axis] = (start..start + s).collect();
            v.data = select(&x.shape, d, &idx);
        }
        start += s;
        outs.push(v);
    }
    if outs.iter().any(|v| v.data.is_none()) {
        dm(im, n, "split", x.elems_sat(), x.elem)?;
    }
    Ok(outs)
}

/// `Slice` (attributes before opset 10; `starts, ends, axes, steps` inputs after), with the
/// clamping rules of the operator spec.
pub(crate) fn slice(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let r = x.rank();
    let (starts, ends, axes, steps) = if n.opset < 10 {
        (
            n.aints("starts").unwrap_or_default(),
            n.aints("ends").unwrap_or_default(),
            n.aints("axes"),
            None,
        )
    } else {
        (
            n.const_ints(1)?.unwrap_or_default(),
            n.const_ints(2)?.unwrap_or_default(),
            n.const_ints(3)?,
            n.const_ints(4)?,
        )
    };
    let axes: Vec<i64> = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    if ends.len() != starts.len() || axes.len() != starts.len() {
        return Err(NodeErr::msg("starts, ends and axes must have equal length"));
    }
    let mut idx: Vec<(i64, i64, i64)> = x.shape.iter().map(|&d| (0, d as i64, 1)).collect();
    for (k, &a) in axes.iter().enumerate() {
        let a = norm_axis(a, r)?;
        let d = x.shape[a] as i64;
        let step = steps
            .as_ref()
            .and_then(|s| s.get(k).copied())
            .unwrap_or(1)
            .clamp(-(1 << 41), 1 << 41);
        if step == 0 {
            return Err(NodeErr::msg("Slice step 0"));
        }
        let fix = |v: i64, lo: i64, hi: i64| {
            let v = if v < 0 { v.saturating_add(d) } else { v };
            v.clamp(lo, hi)
        };
        let (s, e) = if step > 0 {
            (fix(starts[k], 0, d), fix(ends[k], 0, d))
        } else {
            (fix(starts[k], 0, d - 1), fix(ends[k], -1, d - 1))
        };
        idx[a] = (s, e, step);
    }
    let lists: Vec<Vec<u64>> = idx
        .iter()
        .map(|&(s, e, st)| {
            let cnt = if st > 0 {
                (e - s).max(0).div_euclid(1).saturating_add(st - 1) / st
            } else {
                (s - e).max(0).saturating_add(-st - 1) / -st
            };
            (0..cnt.min(MAX_FOLD_ELEMS as i64 + 1))
                .map(|i| (s + i * st) as u64)
                .collect()
        })
        .collect();
    let shape: Vec<u64> = idx
        .iter()
        .map(|&(s, e, st)| {
            if st > 0 {
                ((e - s).max(0) + st - 1) / st
            } else {
                ((s - e).max(0) + (-st) - 1) / -st
            }
        })
        .map(|c| c as u64)
        .collect();
    let mut out = Val::new(shape, x.elem);
    if let Some(d) = &x.data {
        out.data = select(&x.shape, d, &lists);
    }
    moved(im, n, &out)?;
    Ok(vec![out])
}

/// `Gather`: `data.shape[:axis] + indices.shape + data.shape[axis+1:]`. A gather from a
/// constant 2-D table is an embedding lookup.
pub(crate) fn gather(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let (x, ind) = (n.x(0)?, n.x(1)?);
    let axis = norm_axis(n.ai("axis", 0), x.rank())?;
    if x.rank() == 0 {
        return Err(NodeErr::msg("Gather from a scalar"));
    }
    let mut shape = x.shape[..axis].to_vec();
    shape.extend_from_slice(&ind.shape);
    shape.extend_from_slice(&x.shape[axis + 1..]);
    let mut out = Val::new(shape, x.elem);
    out.quant = x.quant;
    if let (Some(d), Some(ix)) = (&x.data, ind.ints()) {
        let dim = x.shape[axis] as i64;
        let ixs: Option<Vec<u64>> = ix
            .iter()
            .map(|&i| {
                let j = if i < 0 { i + dim } else { i };
                (0..dim).contains(&j).then_some(j as u64)
            })
            .collect();
        if let Some(ixs) = ixs {
            let mut idx = full(&x.shape);
            idx[axis] = ixs;
            out.data = select(&x.shape, d, &idx);
        }
    }
    if out.data.is_none() {
        if x.konst && x.rank() == 2 && axis == 0 {
            let p = im.prec(x.elem);
            let tokens = ind.elems_sat();
            if tokens > 0 {
                im.emit(
                    n.op(),
                    Op::embedding(&n.name, tokens, x.shape[0], x.shape[1], n.in_name(0), p),
                )?;
            }
        } else {
            dm(im, n, "gather", out.elems_sat(), out.elem)?;
        }
    }
    Ok(vec![out])
}

/// Ops whose output has the shape of one input: GatherElements (indices), ScatterND,
/// ScatterElements, Trilu, CumSum, … (data).
pub(crate) fn like_input(im: &mut Importer<'_>, n: &Node<'_>, i: usize) -> NResult<Vec<Val>> {
    let src = n.x(i)?;
    let el = n.x(0)?.elem;
    let out = Val::new(src.shape.clone(), el);
    moved(im, n, &out)?;
    Ok(vec![out])
}

/// `GatherND` (batch_dims): `indices.shape[:-1] + data.shape[b + indices.shape[-1]:]`.
pub(crate) fn gather_nd(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let (x, ind) = (n.x(0)?, n.x(1)?);
    let b = n.ai("batch_dims", 0).clamp(0, 64) as usize;
    let last = *ind
        .shape
        .last()
        .ok_or_else(|| NodeErr::msg("GatherND indices are a scalar"))? as usize;
    if b + last > x.rank() {
        return Err(NodeErr::msg("GatherND index depth exceeds data rank"));
    }
    let mut shape = ind.shape[..ind.rank() - 1].to_vec();
    shape.extend_from_slice(&x.shape[b + last..]);
    let out = Val::new(shape, x.elem);
    moved(im, n, &out)?;
    Ok(vec![out])
}

/// `Expand`: broadcast of the input with the target shape.
pub(crate) fn expand(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let s = n.const_ints(1)?.unwrap_or_default();
    let s: Vec<u64> = s.iter().map(|&d| d.max(0) as u64).collect();
    let shape = broadcast(&[&x.shape, &s])?;
    let mut out = Val::new(shape, x.elem);
    out.data = fold_nary(&[x], &out.shape, |a| a[0]);
    moved(im, n, &out)?;
    Ok(vec![out])
}

/// `Tile`: `out[i] = in[i] · repeats[i]`.
pub(crate) fn tile(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let reps = n.const_ints(1)?.unwrap_or_default();
    if reps.len() != x.rank() {
        return Err(NodeErr::msg("Tile repeats length differs from input rank"));
    }
    let shape: Vec<u64> = x
        .shape
        .iter()
        .zip(&reps)
        .map(|(&d, &r)| d.saturating_mul(r.max(0) as u64))
        .collect();
    let mut out = Val::new(shape, x.elem);
    if let Some(d) = &x.data {
        let idx: Vec<Vec<u64>> = out
            .shape
            .iter()
            .zip(&x.shape)
            .map(|(&o, &i)| (0..o.min(MAX_FOLD_ELEMS)).map(|k| k % i.max(1)).collect())
            .collect();
        out.data = select(&x.shape, d, &idx);
    }
    moved(im, n, &out)?;
    Ok(vec![out])
}

/// `Pad` (`pads` attribute before opset 11, input after; `axes` input since 18).
pub(crate) fn pad(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let r = x.rank();
    let pads = if n.opset < 11 {
        n.aints("pads")
            .or_else(|| n.aints("paddings"))
            .unwrap_or_default()
    } else {
        n.const_ints(1)?.unwrap_or_default()
    };
    let axes: Vec<usize> = match n.const_ints(3)? {
        Some(a) if n.opset >= 18 => a.iter().map(|&a| norm_axis(a, r)).collect::<NResult<_>>()?,
        _ => (0..r).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(NodeErr::msg(format!("pads {pads:?} do not match rank {r}")));
    }
    let mut shape = x.shape.clone();
    let k = axes.len();
    for (j, &a) in axes.iter().enumerate() {
        let v = (shape[a] as i64)
            .saturating_add(pads[j])
            .saturating_add(pads[j + k]);
        shape[a] = u64::try_from(v).map_err(|_| NodeErr::msg("negative padded size"))?;
    }
    let out = Val::new(shape, x.elem);
    moved(im, n, &out)?;
    Ok(vec![out])
}

/// `Resize` (10: X, scales; 11+: X, roi, scales, sizes; 18: `axes`) and `Upsample`
/// (7: `scales` attribute; 9: input): `floor(in · scale)` or `sizes`.
pub(crate) fn resize(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let r = x.rank();
    let (scales, sizes) = if n.op() == "Upsample" && n.opset < 9 {
        (
            n.afloats("scales")
                .map(|v| v.iter().map(|&f| f as f64).collect()),
            None,
        )
    } else if n.op() == "Upsample" || n.opset < 11 {
        (n.const_floats(1)?, None)
    } else {
        (n.const_floats(2)?, n.const_ints(3)?)
    };
    let axes: Vec<usize> = match n.aints("axes") {
        Some(a) => a.iter().map(|&a| norm_axis(a, r)).collect::<NResult<_>>()?,
        None => (0..r).collect(),
    };
    let mut shape = x.shape.clone();
    match (sizes, scales) {
        (Some(s), _) if !s.is_empty() => {
            if s.len() != axes.len() {
                return Err(NodeErr::msg("Resize sizes length mismatch"));
            }
            for (&a, &v) in axes.iter().zip(&s) {
                shape[a] = v.max(0) as u64;
            }
        }
        (_, Some(sc)) if !sc.is_empty() => {
            if sc.len() != axes.len() {
                return Err(NodeErr::msg("Resize scales length mismatch"));
            }
            for (&a, &v) in axes.iter().zip(&sc) {
                let o = (x.shape[a] as f64 * v).floor();
                if !(0.0..1e15).contains(&o) {
                    return Err(NodeErr::msg(format!("invalid Resize scale {v}")));
                }
                shape[a] = o as u64;
            }
        }
        _ => return Err(NodeErr::msg("Resize needs scales or sizes")),
    }
    let out = Val::new(shape, x.elem);
    moved(im, n, &out)?;
    Ok(vec![out])
}

/// `DepthToSpace` / `SpaceToDepth` with `blocksize`.
pub(crate) fn depth_space(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let b = n.ai("blocksize", 1).clamp(1, 1 << 20) as u64;
    if x.rank() != 4 {
        return Err(NodeErr::msg("expects a 4-D input"));
    }
    let s = &x.shape;
    let shape = if n.op() == "DepthToSpace" {
        vec![
            s[0],
            s[1] / (b * b),
            s[2].saturating_mul(b),
            s[3].saturating_mul(b),
        ]
    } else {
        vec![s[0], s[1].saturating_mul(b * b), s[2] / b, s[3] / b]
    };
    let out = Val::new(shape, x.elem);
    moved(im, n, &out)?;
    Ok(vec![out])
}

/// `TopK`: values and int64 indices with `k` along `axis`.
pub(crate) fn topk(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let axis = norm_axis(n.ai("axis", -1), x.rank())?;
    let k = if n.opset >= 10 {
        n.const_ints(1)?
            .and_then(|v| v.first().copied())
            .unwrap_or(1)
    } else {
        n.ai("k", 1)
    };
    let mut shape = x.shape.clone();
    if let Some(d) = shape.get_mut(axis) {
        *d = (k.max(0) as u64).min(*d);
    }
    crate::lower::red(
        im,
        n,
        "topk",
        x.elems_sat(),
        Val::new(shape.clone(), 1).elems_sat(),
        x.elem,
    )?;
    Ok(vec![
        Val::new(shape.clone(), x.elem),
        Val::new(shape, elem::INT64),
    ])
}

/// `OneHot(indices, depth, values)`: inserts `depth` at `axis`.
pub(crate) fn onehot(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let ind = n.x(0)?;
    let depth = n
        .x(1)?
        .scalar()
        .ok_or_else(|| NodeErr::msg("OneHot depth must be known at import time"))?;
    let r = ind.rank() + 1;
    let axis = norm_axis(n.ai("axis", -1), r)?;
    let mut shape = ind.shape.clone();
    shape.insert(axis, depth.max(0.0) as u64);
    let out = Val::new(shape, n.x(2)?.elem);
    moved(im, n, &out)?;
    Ok(vec![out])
}
