//! What an ONNX file holds, read from its metadata alone (no shape inference, no weights):
//! inputs with their symbolic dimensions and the `--dim`/`--input` flags that bind them,
//! operator counts by kind (subgraphs included), and the data types of inputs and
//! weights. `xpusim inspect` prints it before a user runs the model.

use std::collections::BTreeMap;

use prost::Message;
use serde::Serialize;

use crate::proto::{DimValue, GraphProto, ModelProto, ValueInfoProto};
use crate::OnnxError;

/// One dimension of a declared shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    Fixed(i64),
    /// `dim_param`: bound with `--dim NAME=N`.
    Symbolic(String),
    /// Neither value nor name: only `--input NAME=…` can set it.
    Unknown,
}

/// A graph input or output as declared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorInfo {
    pub name: String,
    /// ONNX element type name (`float`, `int64`, `float16`, …).
    pub dtype: String,
    /// `None` when the file declares no shape.
    pub shape: Option<Vec<Dim>>,
}

/// The summary `xpusim inspect` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    pub file: String,
    pub producer: String,
    /// Operator-set versions by domain (`ai.onnx` for the default one).
    pub opsets: BTreeMap<String, i64>,
    /// Graph inputs that are not initializers (what a caller feeds).
    pub inputs: Vec<TensorInfo>,
    pub outputs: Vec<TensorInfo>,
    /// Every symbolic dimension name, in first-seen order over the inputs.
    pub symbolic_dims: Vec<String>,
    /// Nodes by `op_type` (prefixed by their domain when not the default one), subgraphs
    /// of `If`/`Loop`/`Scan` included.
    pub ops: BTreeMap<String, usize>,
    /// Node count, subgraphs included.
    pub nodes: usize,
    /// Initializers (weights) by element type: (tensors, elements).
    pub weights_by_dtype: BTreeMap<String, (usize, u64)>,
    /// `QuantizeLinear`/`DequantizeLinear` (QDQ) or integer ops present: the file carries
    /// its own quantization.
    pub quantized: bool,
    /// Flags binding every input's free dimension: `--dim NAME=N` per symbolic name and
    /// `--input NAME=…` for inputs with unnamed dimensions (`N` marks each to choose).
    pub bind: Vec<String>,
}

/// The ONNX `TensorProto.DataType` name of `code` (onnx.proto; `?` for an unknown code).
pub fn dtype_name(code: i32) -> &'static str {
    match code {
        1 => "float",
        2 => "uint8",
        3 => "int8",
        4 => "uint16",
        5 => "int16",
        6 => "int32",
        7 => "int64",
        8 => "string",
        9 => "bool",
        10 => "float16",
        11 => "double",
        12 => "uint32",
        13 => "uint64",
        14 => "complex64",
        15 => "complex128",
        16 => "bfloat16",
        17 => "float8e4m3fn",
        18 => "float8e4m3fnuz",
        19 => "float8e5m2",
        20 => "float8e5m2fnuz",
        21 => "uint4",
        22 => "int4",
        23 => "float4e2m1",
        _ => "?",
    }
}

fn tensor_info(v: &ValueInfoProto) -> TensorInfo {
    let t = v.r#type.as_ref().and_then(|t| t.tensor_type.as_ref());
    TensorInfo {
        name: v.name.clone(),
        dtype: t.map_or("?", |t| dtype_name(t.elem_type)).to_string(),
        shape: t.and_then(|t| t.shape.as_ref()).map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(DimValue::DimValue(v)) if *v >= 0 => Dim::Fixed(*v),
                    Some(DimValue::DimParam(p)) if !p.is_empty() => Dim::Symbolic(p.clone()),
                    _ => Dim::Unknown,
                })
                .collect()
        }),
    }
}

/// Counts nodes by kind over `g` and its subgraphs, at most `depth` levels down (a
/// malicious file could nest without end).
fn count_ops(g: &GraphProto, ops: &mut BTreeMap<String, usize>, nodes: &mut usize, depth: u32) {
    for n in &g.node {
        *nodes += 1;
        let key = match n.domain.as_str() {
            "" | "ai.onnx" => n.op_type.clone(),
            d => format!("{d}.{}", n.op_type),
        };
        *ops.entry(key).or_default() += 1;
        if depth == 0 {
            continue;
        }
        for a in &n.attribute {
            for sub in a.g.iter().chain(&a.graphs) {
                count_ops(sub, ops, nodes, depth - 1);
            }
        }
    }
}

/// Subgraph nesting [`inspect_bytes`] follows; real exports nest two or three levels.
const MAX_SUBGRAPH_DEPTH: u32 = 16;

/// Summarises the ONNX model in `bytes`; `file` names it in the summary and errors.
pub fn inspect_bytes(file: &str, bytes: &[u8]) -> Result<ModelInfo, OnnxError> {
    let model = ModelProto::decode(bytes).map_err(|e| OnnxError::Decode {
        file: file.to_string(),
        msg: e.to_string(),
    })?;
    let g = model.graph.as_ref().ok_or_else(|| OnnxError::Decode {
        file: file.to_string(),
        msg: "model has no graph".into(),
    })?;
    let weights: std::collections::HashSet<&str> =
        g.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<TensorInfo> = g
        .input
        .iter()
        .filter(|v| !weights.contains(v.name.as_str()))
        .map(tensor_info)
        .collect();
    let outputs = g.output.iter().map(tensor_info).collect();
    let mut symbolic_dims: Vec<String> = Vec::new();
    let mut bind = Vec::new();
    for i in &inputs {
        let Some(shape) = &i.shape else { continue };
        for d in shape {
            if let Dim::Symbolic(p) = d {
                if !symbolic_dims.contains(p) {
                    symbolic_dims.push(p.clone());
                    bind.push(format!("--dim {p}=N"));
                }
            }
        }
        if shape.contains(&Dim::Unknown) {
            let dims: Vec<String> = shape
                .iter()
                .map(|d| match d {
                    Dim::Fixed(v) => v.to_string(),
                    _ => "N".to_string(),
                })
                .collect();
            bind.push(format!("--input {}={}", i.name, dims.join("x")));
        }
    }
    let (mut ops, mut nodes) = (BTreeMap::new(), 0);
    count_ops(g, &mut ops, &mut nodes, MAX_SUBGRAPH_DEPTH);
    let mut weights_by_dtype: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for t in &g.initializer {
        let n = t
            .dims
            .iter()
            .try_fold(1u64, |a, &d| {
                u64::try_from(d).ok().and_then(|d| a.checked_mul(d))
            })
            .unwrap_or(u64::MAX);
        let e = weights_by_dtype
            .entry(dtype_name(t.data_type).to_string())
            .or_default();
        e.0 += 1;
        e.1 = e.1.saturating_add(n);
    }
    let quantized = ops.keys().any(|k| {
        matches!(
            k.as_str(),
            "QuantizeLinear"
                | "DequantizeLinear"
                | "QLinearConv"
                | "QLinearMatMul"
                | "MatMulInteger"
                | "ConvInteger"
                | "DynamicQuantizeLinear"
        ) || k.ends_with(".QLinearConv")
            || k.ends_with(".MatMulIntegerToFloat")
            || k.ends_with(".QAttention")
    });
    let opsets = model
        .opset_import
        .iter()
        .map(|o| {
            let d = if o.domain.is_empty() {
                "ai.onnx"
            } else {
                &o.domain
            };
            (d.to_string(), o.version)
        })
        .collect();
    let producer = format!("{} {}", model.producer_name, model.producer_version)
        .trim()
        .to_string();
    Ok(ModelInfo {
        file: file.to_string(),
        producer,
        opsets,
        inputs,
        outputs,
        symbolic_dims,
        ops,
        nodes,
        weights_by_dtype,
        quantized,
        bind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{
        Dimension, NodeProto, TensorProto, TensorShapeProto, TypeProto, TypeProtoTensor,
    };

    fn input(name: &str, elem: i32, dims: Vec<Option<DimValue>>) -> ValueInfoProto {
        ValueInfoProto {
            name: name.into(),
            r#type: Some(TypeProto {
                tensor_type: Some(TypeProtoTensor {
                    elem_type: elem,
                    shape: Some(TensorShapeProto {
                        dim: dims.into_iter().map(|value| Dimension { value }).collect(),
                    }),
                }),
            }),
        }
    }

    #[test]
    fn inputs_dims_ops_and_types_are_listed_with_their_binding_flags() {
        let g = GraphProto {
            node: vec![
                NodeProto {
                    op_type: "MatMul".into(),
                    ..Default::default()
                },
                NodeProto {
                    op_type: "MatMul".into(),
                    ..Default::default()
                },
                NodeProto {
                    op_type: "DequantizeLinear".into(),
                    ..Default::default()
                },
                NodeProto {
                    op_type: "FusedGemm".into(),
                    domain: "com.microsoft".into(),
                    ..Default::default()
                },
            ],
            initializer: vec![TensorProto {
                name: "w".into(),
                data_type: 3,
                dims: vec![64, 32],
                ..Default::default()
            }],
            input: vec![
                input(
                    "ids",
                    7,
                    vec![
                        Some(DimValue::DimParam("batch".into())),
                        Some(DimValue::DimParam("seq".into())),
                    ],
                ),
                input("img", 1, vec![Some(DimValue::DimValue(1)), None]),
                input("w", 3, vec![]),
            ],
            ..Default::default()
        };
        let m = ModelProto {
            graph: Some(g),
            ..Default::default()
        };
        let info = inspect_bytes("m.onnx", &m.encode_to_vec()).unwrap();
        assert_eq!(info.inputs.len(), 2, "the initializer `w` is not an input");
        assert_eq!(info.inputs[0].dtype, "int64");
        assert_eq!(info.symbolic_dims, ["batch", "seq"]);
        assert_eq!(
            info.bind,
            ["--dim batch=N", "--dim seq=N", "--input img=1xN"]
        );
        assert_eq!(info.ops["MatMul"], 2);
        assert_eq!(info.ops["com.microsoft.FusedGemm"], 1);
        assert_eq!(info.nodes, 4);
        assert_eq!(info.weights_by_dtype["int8"], (1, 2048));
        assert!(info.quantized);
        let e = inspect_bytes("bad.onnx", b"\x0a\xff\xff").unwrap_err();
        assert!(e.to_string().starts_with("bad.onnx:"), "{e}");
    }
}
