//! Pointwise operators (ONNX operator spec: Add, Sub, Mul, Div, Pow, Max, Min, Sum, Mean,
//! Equal, Less, Greater, And, Or, Where, Cast, Clip, Relu, Sigmoid, Tanh, Erf, Gelu, …) with
//! multidirectional broadcasting and constant folding of small tensors.

use crate::error::{NResult, NodeErr};
use crate::import::Importer;
use crate::lower::ew;
use crate::node::Node;
use crate::value::{broadcast, elem, fold_nary, Val};

/// FLOPs per output element of a unary op (one per add/mul/compare; transcendental ≈ 4).
fn unary_flops(op: &str) -> Option<u64> {
    Some(match op {
        "Relu" | "Neg" | "Abs" | "Floor" | "Ceil" | "Round" | "Sign" | "Not" | "IsNaN"
        | "IsInf" | "Identity" | "Reciprocal" | "LeakyRelu" | "ThresholdedRelu" | "Clip" => 1,
        "HardSigmoid" | "Sqrt" | "Shrink" => 2,
        "HardSwish" | "Elu" | "Selu" | "Celu" => 3,
        "Exp" | "Log" | "Sin" | "Cos" | "Tan" | "Erf" | "Tanh" | "Sigmoid" | "Softsign"
        | "Softplus" | "Asin" | "Acos" | "Atan" | "Sinh" | "Cosh" | "Asinh" | "Acosh" | "Atanh" => {
            4
        }
        "Mish" | "QuickGelu" => 6,
        "Gelu" | "FastGelu" | "BiasGelu" => 8,
        _ => return None,
    })
}

fn binary_fn(op: &str, int: bool) -> Option<fn(f64, f64) -> f64> {
    Some(match op {
        "Add" | "Sum" => |a, b| a + b,
        "Sub" => |a, b| a - b,
        "Mul" => |a, b| a * b,
        "Div" if int => |a, b| if b == 0.0 { 0.0 } else { (a / b).trunc() },
        "Div" => |a, b| a / b,
        "Pow" => f64::powf,
        "Max" => f64::max,
        "Min" => f64::min,
        "Mod" => |a, b| {
            if b == 0.0 {
                0.0
            } else {
                a - (a / b).floor() * b
            }
        },
        "Equal" => |a, b| (a == b) as u8 as f64,
        "Less" => |a, b| (a < b) as u8 as f64,
        "Greater" => |a, b| (a > b) as u8 as f64,
        "LessOrEqual" => |a, b| (a <= b) as u8 as f64,
        "GreaterOrEqual" => |a, b| (a >= b) as u8 as f64,
        "And" => |a, b| (a != 0.0 && b != 0.0) as u8 as f64,
        "Or" => |a, b| (a != 0.0 || b != 0.0) as u8 as f64,
        "Xor" => |a, b| ((a != 0.0) != (b != 0.0)) as u8 as f64,
        "PRelu" => |a, b| if a < 0.0 { a * b } else { a },
        "BitShift" => |a, _| a,
        _ => return None,
    })
}

fn is_compare(op: &str) -> bool {
    matches!(
        op,
        "Equal" | "Less" | "Greater" | "LessOrEqual" | "GreaterOrEqual" | "And" | "Or" | "Xor"
    )
}

pub(crate) fn is_binary(op: &str) -> bool {
    binary_fn(op, false).is_some() || op == "Mean"
}

pub(crate) fn is_unary(op: &str) -> bool {
    unary_flops(op).is_some()
}

/// Binary and variadic broadcasting ops.
pub(crate) fn binary(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let ins: Vec<&Val> = n.ins.iter().flatten().collect();
    if ins.is_empty() {
        return Err(NodeErr::msg("no inputs"));
    }
    let shapes: Vec<&[u64]> = ins.iter().map(|v| v.shape.as_slice()).collect();
    let shape = broadcast(&shapes)?;
    let el_in = ins[0].elem;
    let el = if is_compare(n.op()) {
        elem::BOOL
    } else {
        el_in
    };
    let int = elem::is_int(el_in);
    let mut out = Val::new(shape, el);
    let f = binary_fn(n.op(), int).unwrap_or(|a, b| a + b);
    let mean = n.op() == "Mean";
    let k = ins.len() as f64;
    out.data = fold_nary(&ins, &out.shape, |a| {
        let mut acc = a[0];
        for &b in &a[1..] {
            acc = f(acc, b);
        }
        if mean {
            acc / k
        } else if int && !is_compare(n.op()) {
            acc.trunc()
        } else {
            acc
        }
    });
    if out.data.is_none() {
        let fl = (ins.len() as u64).saturating_sub(1).max(1);
        let func = n.op().to_ascii_lowercase();
        ew(im, n, &func, &out, ins.len() as u64, fl)?;
    }
    Ok(vec![out])
}

/// Unary ops (extra inputs such as Clip's min/max or FastGelu's bias are broadcast).
pub(crate) fn unary(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let extra: Vec<&Val> = n.ins.iter().skip(1).flatten().collect();
    let mut shapes: Vec<&[u64]> = vec![&x.shape];
    if matches!(n.op(), "FastGelu" | "BiasGelu") {
        shapes.extend(extra.iter().map(|v| v.shape.as_slice()));
    }
    let mut out = Val::new(broadcast(&shapes)?, x.elem);
    if matches!(n.op(), "IsNaN" | "IsInf" | "Not") {
        out.elem = elem::BOOL;
    }
    let op = n.op();
    let (lo, hi) = clip_bounds(n)?;
    let f: Option<fn(f64) -> f64> = match op {
        "Identity" | "Clip" => Some(|a| a),
        "Neg" => Some(|a| -a),
        "Abs" => Some(f64::abs),
        "Floor" => Some(f64::floor),
        "Ceil" => Some(f64::ceil),
        "Round" => Some(f64::round),
        "Sqrt" => Some(f64::sqrt),
        "Exp" => Some(f64::exp),
        "Log" => Some(f64::ln),
        "Relu" => Some(|a| a.max(0.0)),
        "Not" => Some(|a| (a == 0.0) as u8 as f64),
        "Sign" => Some(|a| {
            if a > 0.0 {
                1.0
            } else if a < 0.0 {
                -1.0
            } else {
                0.0
            }
        }),
        "Reciprocal" => Some(|a| 1.0 / a),
        _ => None,
    };
    if let Some(f) = f {
        if x.data.is_some() && extra.iter().all(|v| v.data.is_some()) {
            out.data = fold_nary(&[x], &out.shape, |a| f(a[0]).clamp(lo, hi));
        }
    }
    if out.data.is_none() {
        let fl = unary_flops(op).unwrap_or(1);
        let func = op.to_ascii_lowercase();
        let nin = if matches!(op, "FastGelu" | "BiasGelu") {
            1 + extra.len() as u64
        } else {
            1
        };
        ew(im, n, &func, &out, nin, fl)?;
    }
    Ok(vec![out])
}

fn clip_bounds(n: &Node<'_>) -> NResult<(f64, f64)> {
    if n.op() != "Clip" {
        return Ok((f64::NEG_INFINITY, f64::INFINITY));
    }
    if n.opset < 11 {
        return Ok((n.af("min", f32::MIN) as f64, n.af("max", f32::MAX) as f64));
    }
    let lo = n
        .opt(1)
        .and_then(|v| v.scalar())
        .unwrap_or(f64::NEG_INFINITY);
    let hi = n.opt(2).and_then(|v| v.scalar()).unwrap_or(f64::INFINITY);
    Ok((lo, hi.max(lo)))
}

/// `Where(cond, X, Y)` (ONNX Where-16): broadcast of all three.
pub(crate) fn where_(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let (c, a, b) = (n.x(0)?, n.x(1)?, n.x(2)?);
    let shape = broadcast(&[&c.shape, &a.shape, &b.shape])?;
    let mut out = Val::new(shape, a.elem);
    out.data = fold_nary(&[c, a, b], &out.shape, |v| {
        if v[0] != 0.0 {
            v[1]
        } else {
            v[2]
        }
    });
    if out.data.is_none() {
        ew(im, n, "where", &out, 3, 1)?;
    }
    Ok(vec![out])
}

/// `Cast` / `CastLike`: same shape, new element type; folded values are converted.
pub(crate) fn cast(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let to = if n.op() == "CastLike" {
        n.x(1)?.elem
    } else {
        n.ai("to", elem::FLOAT as i64) as i32
    };
    let mut out = Val::new(x.shape.clone(), to);
    out.data = x.data.as_ref().map(|d| {
        d.iter()
            .map(|&v| {
                if to == elem::BOOL {
                    (v != 0.0) as u8 as f64
                } else if elem::is_int(to) {
                    v.trunc()
                } else {
                    v
                }
            })
            .collect()
    });
    if out.data.is_none() && x.elem != to {
        ew(im, n, "cast", &out, 1, 0)?;
    }
    Ok(vec![out])
}
