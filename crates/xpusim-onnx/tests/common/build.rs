//! Builders for hand-made ONNX graphs (tests only).
#![allow(dead_code)]

use prost::Message;
use xpusim_onnx::proto::*;
use xpusim_onnx::{import_bytes, OnnxOptions};

pub const F32: i32 = 1;
pub const I64: i32 = 7;

pub enum D {
    V(i64),
    P(&'static str),
}

pub fn vi(name: &str, elem: i32, dims: &[D]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                D::V(v) => DimValue::DimValue(*v),
                D::P(p) => DimValue::DimParam(p.to_string()),
            }),
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: elem,
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}

pub fn v(name: &str, dims: &[i64]) -> ValueInfoProto {
    let d: Vec<D> = dims.iter().map(|&x| D::V(x)).collect();
    vi(name, F32, &d)
}

pub fn node(op: &str, ins: &[&str], outs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: ins.iter().map(|s| s.to_string()).collect(),
        output: outs.iter().map(|s| s.to_string()).collect(),
        name: format!("{op}_{}", outs.first().copied().unwrap_or("")),
        op_type: op.into(),
        attribute: attrs,
        domain: String::new(),
    }
}

pub fn ai(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i,
        r#type: 2,
        ..Default::default()
    }
}

pub fn aints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        ints: ints.to_vec(),
        r#type: 7,
        ..Default::default()
    }
}

pub fn astr(name: &str, s: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        s: s.as_bytes().to_vec(),
        r#type: 3,
        ..Default::default()
    }
}

pub fn agraph(name: &str, g: GraphProto) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        g: Some(g),
        r#type: 5,
        ..Default::default()
    }
}

/// A stripped (external-data) float weight.
pub fn weight(name: &str, dims: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: F32,
        data_location: DATA_LOCATION_EXTERNAL,
        external_data: vec![StringStringEntryProto {
            key: "location".into(),
            value: "w.bin".into(),
        }],
        ..Default::default()
    }
}

pub fn ints(name: &str, vals: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: vec![vals.len() as i64],
        data_type: I64,
        int64_data: vals.to_vec(),
        ..Default::default()
    }
}

pub fn graph(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    ins: Vec<ValueInfoProto>,
    outs: Vec<ValueInfoProto>,
) -> GraphProto {
    GraphProto {
        node: nodes,
        name: "g".into(),
        initializer: inits,
        input: ins,
        output: outs,
        value_info: vec![],
    }
}

pub fn model(g: GraphProto) -> Vec<u8> {
    ModelProto {
        ir_version: 8,
        producer_name: "test".into(),
        producer_version: String::new(),
        graph: Some(g),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        metadata_props: vec![],
    }
    .encode_to_vec()
}

pub fn macs(b: &[u8], o: &OnnxOptions) -> u64 {
    import_bytes("t.onnx", b, o)
        .expect("import")
        .graph
        .totals()
        .macs
}
