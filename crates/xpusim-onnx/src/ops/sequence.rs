//! Sequence operators (ONNX operator spec: SplitToSequence, SequenceAt, SequenceConstruct,
//! SequenceEmpty, SequenceInsert, SequenceErase, SequenceLength, ConcatFromSequence).
//!
//! A sequence is a [`Val`] whose `seq` holds each element's value, so an element taken out
//! with `SequenceAt` has its own shape. Without this, Mamba as exported by PyTorch's dynamo
//! exporter (`SplitToSequence` with a scalar `split`, then `SequenceAt`) passed the unsplit
//! tensor on, and the depthwise `Conv` after it saw twice its channels.
//!
//! Building, indexing and measuring a sequence moves no data (runtimes hold the element
//! tensors by reference); splitting into one and concatenating out of one copy every
//! element, like `Split` and `Concat`.

use crate::error::{NResult, NodeErr};
use crate::import::Importer;
use crate::lower::dm;
use crate::node::Node;
use crate::value::{elem, norm_axis, Val};

/// Most elements a sequence may have: an import-time bound so a size-1 split of a huge
/// axis cannot allocate without limit.
pub const MAX_SEQ_LEN: u64 = 1 << 16;

/// The elements of input `i`, which must be a sequence.
fn elems<'v>(n: &'v Node<'_>, i: usize) -> NResult<&'v Vec<Val>> {
    n.x(i)?.seq.as_ref().ok_or_else(|| {
        NodeErr::msg(format!(
            "input `{}` must be a sequence (from SplitToSequence, SequenceConstruct, …), got a tensor",
            n.in_name(i)
        ))
    })
}

/// An optional `position` input (int64 scalar, negative counts from the back) normalised
/// against a sequence of `len` elements; `insert` allows `len` itself (append). ONNX spec:
/// "Accepted range for 'position' is in [-n, n - 1]" (`[-n, n]` for SequenceInsert).
fn position(n: &Node<'_>, i: usize, len: usize, insert: bool) -> NResult<Option<usize>> {
    let Some(p) = n.const_ints(i)? else {
        return Ok(None);
    };
    let &[p] = p.as_slice() else {
        return Err(NodeErr::msg(format!(
            "position `{}` has {} values; expected a scalar",
            n.in_name(i),
            p.len()
        )));
    };
    let l = len as i64;
    let hi = if insert { l } else { l - 1 };
    let q = if p < 0 { p.saturating_add(l) } else { p };
    if q < 0 || q > hi {
        return Err(NodeErr::msg(format!(
            "position {p} is out of range for a sequence of {len} elements (expected [{}, {hi}])",
            -l
        )));
    }
    Ok(Some(q as usize))
}

/// `SplitToSequence(input, split?)`, attributes `axis` (0) and `keepdims` (1). Spec: a
/// scalar `split` gives chunks of that size, "the last chunk alone may be smaller"; a 1-D
/// `split` gives the listed sizes, which must sum to the axis; without `split` the chunks
/// have size 1 and `keepdims = 0` removes the axis ("If input 'split' is specified, this
/// attribute is ignored").
pub(crate) fn split_to_sequence(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let axis = norm_axis(n.ai("axis", 0), x.rank())?;
    let dim = x.shape[axis];
    let split = n.opt(1);
    let sizes: Vec<u64> = match split {
        None => {
            if dim > MAX_SEQ_LEN {
                return Err(NodeErr::msg(format!(
                    "splitting axis {axis} of {:?} into size-1 chunks gives {dim} elements; at most {MAX_SEQ_LEN} are supported",
                    x.shape
                )));
            }
            vec![1; dim as usize]
        }
        Some(s) => {
            let vals = n.const_ints(1)?.unwrap_or_default();
            if vals.iter().any(|&v| v < 0) {
                return Err(NodeErr::msg(format!(
                    "split `{}` = {vals:?} has a negative size",
                    n.in_name(1)
                )));
            }
            if s.rank() == 0 {
                let &[c] = vals.as_slice() else {
                    return Err(NodeErr::msg(format!(
                        "scalar split `{}` has no value",
                        n.in_name(1)
                    )));
                };
                let c = c as u64;
                if c == 0 {
                    return Err(NodeErr::msg(format!(
                        "scalar split `{}` is 0; expected a chunk size of at least 1",
                        n.in_name(1)
                    )));
                }
                let k = dim.div_ceil(c);
                if k > MAX_SEQ_LEN {
                    return Err(NodeErr::msg(format!(
                        "split {c} of axis {axis} ({dim}) gives {k} elements; at most {MAX_SEQ_LEN} are supported"
                    )));
                }
                (0..k).map(|i| c.min(dim - i * c)).collect()
            } else if s.rank() == 1 {
                let sizes: Vec<u64> = vals.iter().map(|&v| v as u64).collect();
                if sizes.iter().fold(0u64, |a, &b| a.saturating_add(b)) != dim {
                    return Err(NodeErr::msg(format!(
                        "split sizes {sizes:?} do not sum to axis {axis} of {:?}",
                        x.shape
                    )));
                }
                sizes
            } else {
                return Err(NodeErr::msg(format!(
                    "split `{}` has shape {:?}; expected a scalar or a 1-D tensor",
                    n.in_name(1),
                    s.shape
                )));
            }
        }
    };
    let squeeze = split.is_none() && n.ai("keepdims", 1) == 0;
    let parts: Vec<Val> = sizes
        .iter()
        .map(|&s| {
            let mut shape = x.shape.clone();
            if squeeze {
                shape.remove(axis);
            } else {
                shape[axis] = s;
            }
            let mut v = Val::new(shape, x.elem);
            v.quant = x.quant;
            v.konst = x.konst;
            v
        })
        .collect();
    dm(im, n, "split", x.elems_sat(), x.elem)?;
    Ok(vec![Val::sequence(parts, x.elem)])
}

/// `SequenceAt(seq, position)`: the element at `position` (negative from the back). A
/// run-time position is accepted only when every element has the same shape.
pub(crate) fn sequence_at(n: &Node<'_>) -> NResult<Vec<Val>> {
    let s = elems(n, 0)?;
    match n.opt(1).and_then(|p| p.data.as_ref()) {
        Some(_) => {
            let i = position(n, 1, s.len(), false)?
                .ok_or_else(|| NodeErr::msg("missing required input #1 (position)"))?;
            Ok(vec![s[i].clone()])
        }
        None => {
            n.x(1)?;
            let first = s
                .first()
                .ok_or_else(|| NodeErr::msg("SequenceAt of an empty sequence"))?;
            if s.iter().any(|e| e.shape != first.shape) {
                return Err(NodeErr::msg(format!(
                    "position `{}` is only known at run time and the elements' shapes differ ({:?}); cannot tell which is taken",
                    n.in_name(1),
                    s.iter().map(|e| &e.shape).collect::<Vec<_>>()
                )));
            }
            let mut v = Val::new(first.shape.clone(), first.elem);
            v.quant = first.quant;
            Ok(vec![v])
        }
    }
}

/// `SequenceConstruct(inputs...)`: a sequence of its inputs, which share one type.
pub(crate) fn construct(n: &Node<'_>) -> NResult<Vec<Val>> {
    let parts: Vec<Val> = n.ins.iter().flatten().cloned().collect();
    if let Some(p) = parts.iter().find(|p| p.seq.is_some()) {
        return Err(NodeErr::msg(format!(
            "inputs must be tensors; one is a sequence of {} elements",
            p.seq.as_ref().map_or(0, Vec::len)
        )));
    }
    Ok(vec![Val::sequence(parts, elem::FLOAT)])
}

/// `SequenceEmpty`, attribute `dtype` (default float).
pub(crate) fn empty(n: &Node<'_>) -> NResult<Vec<Val>> {
    let el = i32::try_from(n.ai("dtype", elem::FLOAT as i64)).unwrap_or(elem::FLOAT);
    let mut v = Val::sequence(Vec::new(), el);
    v.konst = true;
    Ok(vec![v])
}

/// `SequenceInsert(seq, tensor, position?)`: inserted at `position`, else appended.
pub(crate) fn insert(n: &Node<'_>) -> NResult<Vec<Val>> {
    let mut s = elems(n, 0)?.clone();
    let t = n.x(1)?.clone();
    if t.seq.is_some() {
        return Err(NodeErr::msg("the inserted value must be a tensor"));
    }
    let at = position(n, 2, s.len(), true)?.unwrap_or(s.len());
    if s.len() as u64 >= MAX_SEQ_LEN {
        return Err(NodeErr::msg(format!(
            "sequence would exceed {MAX_SEQ_LEN} elements"
        )));
    }
    s.insert(at, t);
    let el = n.x(0)?.elem;
    Ok(vec![Val::sequence(s, el)])
}

/// `SequenceErase(seq, position?)`: the element at `position` removed, else the last.
pub(crate) fn erase(n: &Node<'_>) -> NResult<Vec<Val>> {
    let mut s = elems(n, 0)?.clone();
    if s.is_empty() {
        return Err(NodeErr::msg("SequenceErase of an empty sequence"));
    }
    let at = position(n, 1, s.len(), false)?.unwrap_or(s.len() - 1);
    s.remove(at);
    let el = n.x(0)?.elem;
    Ok(vec![Val::sequence(s, el)])
}

/// `SequenceLength(seq)`: an int64 scalar, known at import time.
pub(crate) fn length(n: &Node<'_>) -> NResult<Vec<Val>> {
    let len = elems(n, 0)?.len();
    Ok(vec![Val::with_data(vec![], elem::INT64, vec![len as f64])])
}

/// `ConcatFromSequence(seq)`, attributes `axis` and `new_axis` (0): the elements
/// concatenated along `axis`, or stacked along a new `axis` when `new_axis = 1` ("axis"
/// then accepts `[-r-1, r]`).
pub(crate) fn concat_from_sequence(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let s = elems(n, 0)?;
    let first = s
        .first()
        .ok_or_else(|| NodeErr::msg("ConcatFromSequence of an empty sequence"))?;
    let r = first.rank();
    let new_axis = n.ai("new_axis", 0) == 1;
    let axis = norm_axis(n.ai("axis", 0), if new_axis { r + 1 } else { r })?;
    for e in s {
        if e.rank() != r
            || e.shape
                .iter()
                .zip(&first.shape)
                .enumerate()
                .any(|(i, (a, b))| (new_axis || i != axis) && a != b)
        {
            return Err(NodeErr::msg(format!(
                "sequence elements {:?} disagree outside axis {axis}",
                s.iter().map(|e| &e.shape).collect::<Vec<_>>()
            )));
        }
    }
    let mut shape = first.shape.clone();
    if new_axis {
        shape.insert(axis, s.len() as u64);
    } else {
        shape[axis] = s.iter().fold(0u64, |a, e| a.saturating_add(e.shape[axis]));
    }
    let mut out = Val::new(shape, first.elem);
    out.quant = first.quant;
    dm(im, n, "concat", out.elems_sat(), out.elem)?;
    Ok(vec![out])
}
