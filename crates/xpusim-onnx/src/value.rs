//! Tensor values flowing through shape inference: shape, element type and, for small
//! tensors computable at import time, their contents (for constant folding).

use xpusim_ir::DType;

use crate::error::{NResult, NodeErr};
use crate::proto::{TensorProto, DATA_LOCATION_EXTERNAL};

/// `TensorProto.DataType` values (onnx.proto, `enum DataType`).
pub mod elem {
    pub const FLOAT: i32 = 1;
    pub const UINT8: i32 = 2;
    pub const INT8: i32 = 3;
    pub const UINT16: i32 = 4;
    pub const INT16: i32 = 5;
    pub const INT32: i32 = 6;
    pub const INT64: i32 = 7;
    pub const STRING: i32 = 8;
    pub const BOOL: i32 = 9;
    pub const FLOAT16: i32 = 10;
    pub const DOUBLE: i32 = 11;
    pub const UINT32: i32 = 12;
    pub const UINT64: i32 = 13;
    pub const BFLOAT16: i32 = 16;
    pub const UINT4: i32 = 21;
    pub const INT4: i32 = 22;

    /// True for integer and boolean types (folded arithmetic truncates).
    pub fn is_int(t: i32) -> bool {
        matches!(
            t,
            UINT8 | INT8 | UINT16 | INT16 | INT32 | INT64 | BOOL | UINT32 | UINT64 | UINT4 | INT4
        )
    }
}

/// Largest tensor whose contents are kept for constant folding.
pub const MAX_FOLD_ELEMS: u64 = 1 << 16;

/// One tensor as seen by shape inference.
#[derive(Debug, Clone, PartialEq)]
pub struct Val {
    pub shape: Vec<u64>,
    pub elem: i32,
    /// Contents, row-major, when known at import time and small.
    pub data: Option<Vec<f64>>,
    /// True when the value does not depend on any graph input (initializers, Constant
    /// nodes and what is computed from them only): an inference runtime folds it once.
    pub konst: bool,
    /// True for the output of a DequantizeLinear of an 8-bit tensor (QDQ pattern).
    pub quant: bool,
    /// A symbolic dimension that no `--dim`/`--input` bound (the first one found).
    pub sym: Option<String>,
    /// For a sequence value (ONNX `seq(tensor)`, produced by `SplitToSequence`,
    /// `SequenceConstruct`, …): its elements in order, each with its own shape. `shape` is
    /// then empty and `elem` the elements' type. `None` for a tensor.
    pub seq: Option<Vec<Val>>,
}

impl Val {
    pub fn new(shape: Vec<u64>, elem: i32) -> Val {
        Val {
            shape,
            elem,
            data: None,
            konst: false,
            quant: false,
            sym: None,
            seq: None,
        }
    }

    /// A sequence of `elems` whose elements have type `elem` (used when it is empty).
    pub fn sequence(elems: Vec<Val>, elem: i32) -> Val {
        let mut v = Val::new(Vec::new(), elems.first().map(|e| e.elem).unwrap_or(elem));
        v.konst = elems.iter().all(|e| e.konst);
        v.seq = Some(elems);
        v
    }

    pub fn with_data(shape: Vec<u64>, elem: i32, data: Vec<f64>) -> Val {
        let mut v = Val::new(shape, elem);
        if (data.len() as u64) == v.elems_sat() && data.len() as u64 <= MAX_FOLD_ELEMS {
            v.data = Some(data);
        }
        v.konst = true;
        v
    }

    /// Element count, saturating (shapes are validated when ops are built).
    pub fn elems_sat(&self) -> u64 {
        self.shape.iter().fold(1u64, |a, &d| a.saturating_mul(d))
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Contents as integers (folded shape arithmetic).
    pub fn ints(&self) -> Option<Vec<i64>> {
        self.data
            .as_ref()
            .map(|d| d.iter().map(|&x| f64_to_i64(x)).collect())
    }

    /// The single value of a one-element tensor.
    pub fn scalar(&self) -> Option<f64> {
        match &self.data {
            Some(d) if d.len() == 1 => Some(d[0]),
            _ => None,
        }
    }

    pub fn dtype(&self) -> DType {
        dtype_of(self.elem)
    }
}

/// Largest single dimension accepted (2^40).
pub const MAX_DIM: u64 = 1 << 40;

/// Rejects shapes whose dims or non-zero element product exceed the IR's bounds, so later
/// shape arithmetic cannot overflow.
pub fn check_shape(what: &str, shape: &[u64]) -> NResult<()> {
    let mut p: u64 = 1;
    for &d in shape {
        if d > MAX_DIM {
            return Err(NodeErr::msg(format!(
                "{what}: dimension {d} in {shape:?} is too large"
            )));
        }
        if d > 0 {
            p = p.saturating_mul(d);
        }
    }
    if p > xpusim_ir::MAX_ELEMS || shape.len() > 64 {
        return Err(NodeErr::msg(format!(
            "{what}: shape {shape:?} is too large"
        )));
    }
    Ok(())
}

/// Saturating conversion used for folded integer values (`INT64_MAX` ends in Slice).
pub fn f64_to_i64(x: f64) -> i64 {
    if x.is_nan() {
        0
    } else if x >= 9.2e18 {
        i64::MAX
    } else if x <= -9.2e18 {
        i64::MIN
    } else {
        x as i64
    }
}

/// The IR storage format closest to an ONNX element type. Wider integer types have no IR
/// format and are counted as 32-bit.
pub fn dtype_of(elem: i32) -> DType {
    match elem {
        elem::FLOAT16 => DType::Fp16,
        elem::BFLOAT16 => DType::Bf16,
        elem::INT8 | elem::UINT8 | elem::BOOL => DType::Int8,
        elem::INT4 | elem::UINT4 => DType::Int4,
        17..=20 => DType::Fp8,
        _ => DType::Fp32,
    }
}

/// Shape from `TensorProto.dims`; negative dims are rejected.
pub fn tensor_shape(t: &TensorProto) -> NResult<Vec<u64>> {
    t.dims
        .iter()
        .map(|&d| {
            u64::try_from(d).map_err(|_| {
                NodeErr::msg(format!("tensor `{}` has negative dimension {d}", t.name))
            })
        })
        .collect()
}

/// A `TensorProto` as a value: metadata always, contents only when small and inline.
/// External-data tensors (stripped weights) never have their bytes read.
pub fn tensor_val(t: &TensorProto) -> NResult<Val> {
    let shape = tensor_shape(t)?;
    check_shape(&format!("tensor `{}`", t.name), &shape)?;
    let mut v = Val::new(shape, t.data_type);
    v.konst = true;
    let n = v.elems_sat();
    if t.data_location == DATA_LOCATION_EXTERNAL || n > MAX_FOLD_ELEMS {
        return Ok(v);
    }
    v.data = read_inline(t, n as usize);
    Ok(v)
}

fn read_inline(t: &TensorProto, n: usize) -> Option<Vec<f64>> {
    let d: Vec<f64> = if !t.raw_data.is_empty() {
        decode_raw(&t.raw_data, t.data_type, n)?
    } else if !t.float_data.is_empty() && t.data_type == elem::FLOAT {
        t.float_data.iter().map(|&x| x as f64).collect()
    } else if !t.int64_data.is_empty() {
        t.int64_data.iter().map(|&x| x as f64).collect()
    } else if !t.double_data.is_empty() {
        t.double_data.clone()
    } else if !t.uint64_data.is_empty() {
        t.uint64_data.iter().map(|&x| x as f64).collect()
    } else if !t.int32_data.is_empty() {
        match t.data_type {
            elem::FLOAT16 => t.int32_data.iter().map(|&x| f16(x as u16)).collect(),
            elem::BFLOAT16 => t
                .int32_data
                .iter()
                .map(|&x| f32::from_bits((x as u32) << 16) as f64)
                .collect(),
            _ => t.int32_data.iter().map(|&x| x as f64).collect(),
        }
    } else if n == 0 {
        Vec::new()
    } else {
        return None;
    };
    (d.len() == n).then_some(d)
}

fn decode_raw(raw: &[u8], ty: i32, n: usize) -> Option<Vec<f64>> {
    let w = match ty {
        elem::FLOAT | elem::INT32 | elem::UINT32 => 4,
        elem::INT64 | elem::UINT64 | elem::DOUBLE => 8,
        elem::INT16 | elem::UINT16 | elem::FLOAT16 | elem::BFLOAT16 => 2,
        elem::INT8 | elem::UINT8 | elem::BOOL => 1,
        _ => return None,
    };
    if raw.len() != n.checked_mul(w)? {
        return None;
    }
    Some(
        raw.chunks_exact(w)
            .map(|c| {
                let mut b = [0u8; 8];
                b[..w].copy_from_slice(c);
                match ty {
                    elem::FLOAT => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                    elem::INT32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                    elem::UINT32 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                    elem::INT64 => i64::from_le_bytes(b) as f64,
                    elem::UINT64 => u64::from_le_bytes(b) as f64,
                    elem::DOUBLE => f64::from_le_bytes(b),
                    elem::INT16 => i16::from_le_bytes([b[0], b[1]]) as f64,
                    elem::UINT16 => u16::from_le_bytes([b[0], b[1]]) as f64,
                    elem::FLOAT16 => f16(u16::from_le_bytes([b[0], b[1]])),
                    elem::BFLOAT16 => {
                        f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16) as f64
                    }
                    elem::INT8 => b[0] as i8 as f64,
                    _ => b[0] as f64,
                }
            })
            .collect(),
    )
}

/// IEEE half to f64.
fn f16(h: u16) -> f64 {
    let s = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let e = ((h >> 10) & 0x1f) as i32;
    let m = (h & 0x3ff) as f64;
    s * match e {
        0 => m * 2f64.powi(-24),
        31 => {
            if m == 0.0 {
                f64::INFINITY
            } else {
                f64::NAN
            }
        }
        _ => (1.0 + m / 1024.0) * 2f64.powi(e - 15),
    }
}

/// Multidirectional (numpy) broadcast of shapes (ONNX "Broadcasting in ONNX").
pub fn broadcast(shapes: &[&[u64]]) -> NResult<Vec<u64>> {
    let r = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1u64; r];
    for s in shapes {
        let off = r - s.len();
        for (i, &d) in s.iter().enumerate() {
            let o = &mut out[off + i];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return Err(NodeErr::msg(format!(
                    "shapes {:?} cannot be broadcast together",
                    shapes
                )));
            }
        }
    }
    Ok(out)
}

/// Row-major strides of `shape`, with 0 for broadcast axes when aligned to `out` rank.
pub fn bcast_strides(shape: &[u64], out: &[u64]) -> Vec<u64> {
    let off = out.len() - shape.len().min(out.len());
    let mut strides = vec![0u64; out.len()];
    let mut acc = 1u64;
    for i in (0..shape.len().min(out.len())).rev() {
        strides[off + i] = if shape[i] == 1 { 0 } else { acc };
        acc = acc.saturating_mul(shape[i]);
    }
    strides
}

/// Evaluates `f` elementwise over broadcast inputs whose contents are all known.
pub fn fold_nary(ins: &[&Val], out: &[u64], f: impl Fn(&[f64]) -> f64) -> Option<Vec<f64>> {
    let n: u64 = out.iter().fold(1u64, |a, &d| a.saturating_mul(d));
    if n > MAX_FOLD_ELEMS {
        return None;
    }
    let datas: Vec<&Vec<f64>> = ins.iter().map(|v| v.data.as_ref()).collect::<Option<_>>()?;
    let strides: Vec<Vec<u64>> = ins.iter().map(|v| bcast_strides(&v.shape, out)).collect();
    let mut res = Vec::with_capacity(n as usize);
    let mut idx = vec![0u64; out.len()];
    let mut args = vec![0.0; ins.len()];
    for _ in 0..n {
        for (k, d) in datas.iter().enumerate() {
            let off: u64 = idx.iter().zip(&strides[k]).map(|(a, b)| a * b).sum();
            args[k] = *d.get(off as usize)?;
        }
        res.push(f(&args));
        for ax in (0..out.len()).rev() {
            idx[ax] += 1;
            if idx[ax] < out[ax] {
                break;
            }
            idx[ax] = 0;
        }
    }
    Some(res)
}

/// Normalises a possibly negative axis against `rank` (ONNX accepts `[-r, r-1]`).
pub fn norm_axis(axis: i64, rank: usize) -> NResult<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r {
        return Err(NodeErr::attr(
            "axis",
            format!("axis {axis} out of range for rank {rank}"),
        ));
    }
    Ok(a as usize)
}
