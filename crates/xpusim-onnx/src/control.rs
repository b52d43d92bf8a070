//! Control flow with subgraphs (ONNX operator spec: If, Loop, Scan).
//!
//! * `If`: the branch selected by a folded condition is costed; with a run-time condition
//!   both are imported and the more expensive one (MACs, then FLOPs) is kept, with a warning.
//! * `Loop`: the body is costed once and its ops repeat `M` times (trip count folded).
//! * `Scan`: the body is costed once per scanned element.

use xpusim_ir::{Op, Weight};

use crate::error::{NResult, NodeErr};
use crate::import::{Env, Importer};
use crate::node::Node;
use crate::proto::GraphProto;
use crate::value::{elem, Val};

/// Imported ops, op types and weights of one subgraph run.
struct Piece {
    ops: Vec<Op>,
    types: Vec<String>,
    weights: Vec<Weight>,
    outs: Vec<Val>,
}

fn cost(ops: &[Op]) -> (u64, u64) {
    ops.iter().fold((0, 0), |(m, f), o| {
        (
            m.saturating_add(o.macs().saturating_mul(o.repeat)),
            f.saturating_add(
                o.flops()
                    .saturating_add(o.bytes_total())
                    .saturating_mul(o.repeat),
            ),
        )
    })
}

/// Runs `g` with `env` plus `bound` body inputs and returns what it emitted and its outputs.
fn run_body(im: &mut Importer<'_>, g: &GraphProto, env: &Env, bound: Vec<Val>) -> NResult<Piece> {
    let mut sub = env.clone();
    for (vi, v) in g.input.iter().zip(bound) {
        sub.insert(vi.name.clone(), v);
    }
    let (om, wm) = (im.graph.ops.len(), im.graph.weights.len());
    im.depth += 1;
    let r = im.run_graph(g, &mut sub);
    im.depth -= 1;
    if let Err(e) = r {
        im.graph.ops.truncate(om);
        im.op_types.truncate(om);
        im.graph.weights.truncate(wm);
        return Err(NodeErr::Inner(Box::new(e)));
    }
    let outs = g
        .output
        .iter()
        .map(|o| {
            sub.get(&o.name).cloned().ok_or_else(|| {
                NodeErr::msg(format!("subgraph output `{}` is not produced", o.name))
            })
        })
        .collect::<NResult<Vec<_>>>()?;
    Ok(Piece {
        ops: im.graph.ops.split_off(om),
        types: im.op_types.split_off(om),
        weights: im.graph.weights.split_off(wm),
        outs,
    })
}

fn keep(im: &mut Importer<'_>, p: Piece) -> Vec<Val> {
    im.graph.ops.extend(p.ops);
    im.op_types.extend(p.types);
    im.graph.weights.extend(p.weights);
    p.outs
}

/// `If(cond)` with `then_branch` / `else_branch`.
pub(crate) fn if_(im: &mut Importer<'_>, n: &Node<'_>, env: &Env) -> NResult<Vec<Val>> {
    let c = n.x(0)?.scalar();
    let tb = n.agraph("then_branch")?;
    let eb = n.agraph("else_branch")?;
    if let Some(c) = c {
        let p = run_body(im, if c != 0.0 { tb } else { eb }, env, vec![])?;
        return Ok(keep(im, p));
    }
    let t = run_body(im, tb, env, vec![]);
    let e = run_body(im, eb, env, vec![]);
    let (t, e) = match (t, e) {
        (Ok(t), Ok(e)) => (t, e),
        (Err(err), Err(_)) => return Err(err),
        (Ok(p), Err(err)) | (Err(err), Ok(p)) => {
            let msg = match &err {
                NodeErr::Inner(e) => e.to_string(),
                other => format!("{other:?}"),
            };
            im.warn(
                n,
                format!(
                    "condition `{}` is only known at run time and one branch cannot run at these input shapes ({msg}); costing the other branch",
                    n.in_name(0)
                ),
            );
            return Ok(keep(im, p));
        }
    };
    let (ct, ce) = (cost(&t.ops), cost(&e.ops));
    let (which, p) = if ct >= ce { ("then", t) } else { ("else", e) };
    im.warn(
        n,
        format!(
            "condition `{}` is only known at run time; costing the more expensive `{which}` branch ({} vs {} MACs)",
            n.in_name(0),
            ct.0.max(ce.0),
            ct.0.min(ce.0)
        ),
    );
    Ok(keep(im, p))
}

/// Multiplies every op's repeat count by `times` (trip count or scan length). The product
/// is checked, never wrapped: a repeat whose work does not fit the IR (`Op::times`, 2^56)
/// is an error naming the loop node, its trip count and the op.
fn repeat(p: &mut Piece, times: u64) -> NResult<()> {
    for op in p.ops.iter_mut() {
        let r = op.repeat.checked_mul(times).ok_or_else(|| {
            NodeErr::msg(format!(
                "{times} iterations × op `{}` repeated {} times overflows a 64-bit repeat count",
                op.name, op.repeat
            ))
        })?;
        *op = op.clone().times(r).map_err(|e| {
            NodeErr::msg(format!(
                "{times} iterations of op `{}` are more work than the simulator represents: {e}",
                op.name
            ))
        })?;
    }
    Ok(())
}

/// The constant trip count `M` of a `Loop` (ONNX operator spec, Loop: "M: A maximum trip-count
/// for the loop specified at runtime. Optional. Pass empty string to skip.", an int64 scalar);
/// `None` when it is absent or only known at run time.
///
/// Read as an exact integer: a folded value is an `f64`, and every integer the IR can
/// repeat (≤ 2^56 work) is exact in it; 2^62 must be read as 2^62, not "unknown" (it was,
/// and the body was then costed once). A negative count runs no iteration (the reference
/// implementation's `for i in range(M)`), but it is almost surely an export bug, so it is an
/// error naming the input.
fn loop_trip(n: &Node<'_>) -> NResult<Option<u64>> {
    let Some(m) = n.opt(0) else {
        return Ok(None);
    };
    let Some(x) = m.scalar() else {
        return Ok(None);
    };
    if !x.is_finite() || x.fract() != 0.0 {
        return Err(NodeErr::msg(format!(
            "trip count `{}` is {x}; expected a non-negative int64",
            n.in_name(0)
        )));
    }
    if x < 0.0 {
        return Err(NodeErr::msg(format!(
            "trip count `{}` is {x}; expected a non-negative int64",
            n.in_name(0)
        )));
    }
    // `x` is an integer below 2^64 here (int64 input), so the cast is exact.
    Ok(Some(if x >= u64::MAX as f64 {
        u64::MAX
    } else {
        x as u64
    }))
}

/// `Loop(M, cond, v_initial...)`: body inputs `(iter, cond, carried...)`, outputs
/// `(cond, carried..., scan...)`; scan outputs gain a leading trip-count axis.
pub(crate) fn loop_(im: &mut Importer<'_>, n: &Node<'_>, env: &Env) -> NResult<Vec<Val>> {
    let body = n.agraph("body")?;
    let trip = loop_trip(n)?;
    let trip = match trip {
        Some(t) => t,
        None => {
            let why = if n.opt(0).is_some() {
                format!("trip count `{}` is only known at run time", n.in_name(0))
            } else {
                "no trip count (the loop runs until its condition is false)".to_string()
            };
            im.warn(n, format!("{why}; costing one iteration"));
            1
        }
    };
    let carried: Vec<Val> = n
        .ins
        .iter()
        .skip(2)
        .map(|v| v.clone().unwrap_or_else(|| Val::new(vec![], elem::FLOAT)))
        .collect();
    let mut bound = vec![Val::new(vec![], elem::INT64), Val::new(vec![], elem::BOOL)];
    for v in &carried {
        let mut b = Val::new(v.shape.clone(), v.elem);
        // A carried sequence (e.g. a SequenceEmpty the body SequenceInserts into) stays a
        // sequence, so the body's sequence operators see one.
        b.seq = v.seq.clone();
        bound.push(b);
    }
    let mut p = run_body(im, body, env, bound)?;
    if trip == 0 {
        p.ops.clear();
        p.types.clear();
    }
    repeat(&mut p, trip.max(1))?;
    let nc = carried.len();
    let outs: Vec<Val> = p
        .outs
        .iter()
        .skip(1)
        .enumerate()
        .map(|(i, v)| {
            if i < nc {
                let mut o = Val::new(v.shape.clone(), v.elem);
                o.seq = v.seq.clone();
                o
            } else {
                let mut s = vec![trip];
                s.extend_from_slice(&v.shape);
                Val::new(s, v.elem)
            }
        })
        .collect();
    let grown = carried
        .iter()
        .zip(&outs)
        .any(|(a, b)| a.seq.as_ref().map(Vec::len) != b.seq.as_ref().map(Vec::len));
    if grown && trip != 1 {
        im.warn(
            n,
            "a loop-carried sequence changes length in the body; its length after the loop is taken from one iteration",
        );
    }
    keep(im, Piece { outs: vec![], ..p });
    Ok(outs)
}

/// `Scan` (opset ≥ 9): `N` state inputs then `num_scan_inputs` scanned inputs.
pub(crate) fn scan(im: &mut Importer<'_>, n: &Node<'_>, env: &Env) -> NResult<Vec<Val>> {
    let body = n.agraph("body")?;
    let m = n.ai("num_scan_inputs", 0).clamp(0, 1 << 16) as usize;
    let ins: Vec<Val> = n.ins.iter().flatten().cloned().collect();
    if m == 0 || m > ins.len() {
        return Err(NodeErr::attr(
            "num_scan_inputs",
            format!("{m} does not fit {} inputs", ins.len()),
        ));
    }
    let ns = ins.len() - m;
    let in_axes = n.aints("scan_input_axes").unwrap_or_else(|| vec![0; m]);
    let mut seq = None;
    let mut bound: Vec<Val> = ins[..ns]
        .iter()
        .map(|v| Val::new(v.shape.clone(), v.elem))
        .collect();
    for (j, v) in ins[ns..].iter().enumerate() {
        let ax = crate::value::norm_axis(in_axes.get(j).copied().unwrap_or(0), v.rank())?;
        let len = *v
            .shape
            .get(ax)
            .ok_or_else(|| NodeErr::msg("scan input is a scalar"))?;
        seq.get_or_insert(len);
        let mut s = v.shape.clone();
        s.remove(ax);
        bound.push(Val::new(s, v.elem));
    }
    let seq = seq.unwrap_or(1);
    let mut p = run_body(im, body, env, bound)?;
    repeat(&mut p, seq.max(1))?;
    let out_axes = n.aints("scan_output_axes").unwrap_or_default();
    let outs: Vec<Val> = p
        .outs
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if i < ns {
                Val::new(v.shape.clone(), v.elem)
            } else {
                let mut s = v.shape.clone();
                let a = out_axes.get(i - ns).copied().unwrap_or(0);
                let a = if a < 0 { a + s.len() as i64 + 1 } else { a }.clamp(0, s.len() as i64)
                    as usize;
                s.insert(a, seq);
                Val::new(s, v.elem)
            }
        })
        .collect();
    keep(im, Piece { outs: vec![], ..p });
    Ok(outs)
}
