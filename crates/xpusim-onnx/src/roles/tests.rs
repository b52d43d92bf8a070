//! Role inference on hand-built graphs: one rule per test.

use prost::Message;
use xpusim_ir::{Block, OpRole};

use crate::proto::*;
use crate::{import_bytes, OnnxOptions};

const F32: i32 = 1;
const I64: i32 = 7;

fn vi(name: &str, elem: i32, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| Dimension {
            value: Some(DimValue::DimValue(d)),
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

fn node(op: &str, ins: &[&str], out: &str) -> NodeProto {
    NodeProto {
        input: ins.iter().map(|s| s.to_string()).collect(),
        output: vec![out.to_string()],
        // Misleading names: the rules must not read them.
        name: format!("lm_head.q_proj.{out}"),
        op_type: op.into(),
        attribute: vec![],
        domain: String::new(),
    }
}

fn weight(name: &str, dims: &[i64]) -> TensorProto {
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

/// Imports a graph over input `x` [4, 16] (plus `extra` inputs) and returns each op's
/// ONNX type, role and layer.
fn roles(
    nodes: Vec<NodeProto>,
    weights: &[(&str, &[i64])],
    extra: Vec<ValueInfoProto>,
    out: &str,
) -> Vec<(String, OpRole, Option<u32>)> {
    let mut input = vec![vi("x", F32, &[4, 16])];
    input.extend(extra);
    let g = GraphProto {
        node: nodes,
        name: "g".into(),
        initializer: weights
            .iter()
            .map(|(n, d)| weight(n, d))
            .chain([TensorProto {
                name: "axis".into(),
                data_type: I64,
                int64_data: vec![0],
                ..Default::default()
            }])
            .collect(),
        input,
        output: vec![vi(out, F32, &[])],
        value_info: vec![],
    };
    let m = ModelProto {
        ir_version: 8,
        producer_name: "test".into(),
        producer_version: String::new(),
        graph: Some(g),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        metadata_props: vec![],
    };
    let imp = import_bytes("t.onnx", &m.encode_to_vec(), &OnnxOptions::default()).unwrap();
    imp.op_types
        .into_iter()
        .zip(&imp.graph.ops)
        .map(|(t, o)| (t, o.role, o.layer))
        .collect()
}

/// `LN → MatMul → Add(bias) → Relu → MatMul → Add(bias) → Add(x)`, optionally without
/// the residual add.
fn mlp(residual: bool) -> Vec<(String, OpRole, Option<u32>)> {
    let mut nodes = vec![
        node("LayerNormalization", &["x", "g", "b"], "h"),
        node("MatMul", &["h", "w1"], "u"),
        node("Add", &["u", "b1"], "ub"),
        node("Relu", &["ub"], "a"),
        node("MatMul", &["a", "w2"], "d"),
        node("Add", &["b2", "d"], "db"),
    ];
    if residual {
        nodes.push(node("Add", &["db", "x"], "y"));
    }
    let w: &[(&str, &[i64])] = &[
        ("g", &[16]),
        ("b", &[16]),
        ("w1", &[16, 64]),
        ("b1", &[64]),
        ("w2", &[64, 16]),
        ("b2", &[16]),
    ];
    roles(nodes, w, vec![], if residual { "y" } else { "db" })
}

#[test]
fn a_residual_mlp_is_column_sliced_row() {
    use OpRole::*;
    let r: Vec<(OpRole, Option<u32>)> = mlp(true).into_iter().map(|(_, r, l)| (r, l)).collect();
    let l = Some(0);
    assert_eq!(
        r,
        vec![
            (Replicated, l), // the block's norm
            (Column(Block::Mlp), l),
            (Sliced(Block::Mlp), l), // the column projection's bias
            (Sliced(Block::Mlp), l),
            (Row(Block::Mlp), l),
            (Replicated, l), // the row bias, added after the all-reduce
            (Residual, l),
        ]
    );
}

#[test]
fn two_projections_without_a_residual_are_no_block() {
    assert!(mlp(false)
        .iter()
        .all(|(_, r, l)| *r == OpRole::Replicated && l.is_none()));
}

/// Token and position gathers, one attention block, an optional LM head of width `head`.
/// `pos` builds the position ids: "input" (a graph input) or "cumsum" (from the mask).
fn decoder(head: Option<i64>, pos: &str, pos_rows: i64) -> Vec<(String, OpRole, Option<u32>)> {
    let mut nodes = vec![];
    let pos_ids = if pos == "cumsum" {
        nodes.push(node("CumSum", &["mask", "axis"], "pid"));
        "pid"
    } else {
        "pos_ids"
    };
    nodes.extend([
        node("Gather", &["tok", "ids"], "te"),
        node("Gather", &["pos", pos_ids], "pe"),
        node("Add", &["te", "pe"], "e"),
        node("LayerNormalization", &["e", "g", "b"], "h"),
        node("MatMul", &["h", "wq"], "q"),
        node("MatMul", &["h", "wk"], "k"),
        node("MatMul", &["h", "wv"], "v"),
        node("Transpose", &["k"], "kt"),
        node("MatMul", &["q", "kt"], "s"),
        node("Softmax", &["s"], "p"),
        node("MatMul", &["p", "v"], "c"),
        node("MatMul", &["c", "wo"], "o"),
        node("Add", &["e", "o"], "y"),
    ]);
    let mut out = "y";
    if head.is_some() {
        nodes.push(node("MatMul", &["y", "wh"], "logits"));
        out = "logits";
    }
    let hw = [16, head.unwrap_or(1)];
    let w: &[(&str, &[i64])] = &[
        ("tok", &[1000, 16]),
        ("pos", &[pos_rows, 16]),
        ("g", &[16]),
        ("b", &[16]),
        ("wq", &[16, 16]),
        ("wk", &[16, 16]),
        ("wv", &[16, 16]),
        ("wo", &[16, 16]),
        ("wh", &hw),
    ];
    let mut ins = vec![vi("ids", I64, &[4])];
    if pos == "cumsum" {
        ins.push(vi("mask", I64, &[4]));
    } else {
        ins.push(vi("pos_ids", I64, &[4]));
    }
    let mut r = roles(nodes, w, ins, out);
    // The CumSum of the position ids is not part of the comparison.
    r.retain(|(t, _, _)| t != "CumSum");
    r
}

fn gathers(r: &[(String, OpRole, Option<u32>)]) -> Vec<OpRole> {
    r.iter()
        .filter(|(t, _, _)| t == "Gather")
        .map(|(_, r, _)| *r)
        .collect()
}

#[test]
fn unfused_attention_core_splits_by_head() {
    use OpRole::*;
    let r = decoder(Some(1000), "input", 64);
    let roles: Vec<OpRole> = r.iter().map(|(_, r, _)| *r).collect();
    let a = Block::Attention;
    assert_eq!(
        roles,
        vec![
            Embedding,
            Replicated,
            Replicated, // position add: outside the block
            Replicated, // norm
            Column(a),
            Column(a),
            Column(a),
            Sliced(a), // Kᵀ
            Heads(a),
            Heads(a),
            Heads(a),
            Row(a),
            Residual,
            LmHead,
        ]
    );
    let layers: Vec<Option<u32>> = r.iter().map(|(_, _, l)| *l).collect();
    assert_eq!(&layers[..3], &[None, None, None]);
    assert!(layers[3..13].iter().all(|&l| l == Some(0)));
    assert_eq!(layers[13], None);
}

#[test]
fn the_lm_head_width_picks_the_token_table() {
    // A position table with more rows than the vocabulary, indexed by a graph input: only
    // the LM head's width tells them apart.
    let r = decoder(Some(1000), "input", 2048);
    assert_eq!(gathers(&r), vec![OpRole::Embedding, OpRole::Replicated]);
    // Without an LM head the larger table wins, unless its indices are positions built
    // by a CumSum over the mask.
    let r = decoder(None, "input", 64);
    assert_eq!(gathers(&r), vec![OpRole::Embedding, OpRole::Replicated]);
    let r = decoder(None, "cumsum", 2048);
    assert_eq!(gathers(&r), vec![OpRole::Embedding, OpRole::Replicated]);
    // An LM head of another width is not an LM head.
    let r = decoder(Some(999), "input", 64);
    assert!(r.iter().all(|(_, r, _)| *r != OpRole::LmHead));
}

#[test]
fn parallel_attention_and_mlp_share_one_residual_and_layer() {
    use OpRole::*;
    let (a, m) = (Block::Attention, Block::Mlp);
    let nodes = vec![
        node("LayerNormalization", &["x", "g", "b"], "h"),
        node("MatMul", &["h", "wq"], "q"),
        node("MatMul", &["h", "wk"], "k"),
        node("MatMul", &["h", "wv"], "v"),
        node("Transpose", &["k"], "kt"),
        node("MatMul", &["q", "kt"], "s"),
        node("Softmax", &["s"], "p"),
        node("MatMul", &["p", "v"], "c"),
        node("MatMul", &["c", "wo"], "o"),
        node("MatMul", &["h", "w1"], "u"),
        node("Gelu", &["u"], "gu"),
        node("MatMul", &["gu", "w2"], "dn"),
        node("Add", &["o", "dn"], "sum"),
        node("Add", &["sum", "x"], "y"),
    ];
    let w: &[(&str, &[i64])] = &[
        ("g", &[16]),
        ("b", &[16]),
        ("wq", &[16, 16]),
        ("wk", &[16, 16]),
        ("wv", &[16, 16]),
        ("wo", &[16, 16]),
        ("w1", &[16, 64]),
        ("w2", &[64, 16]),
    ];
    let r = roles(nodes, w, vec![], "y");
    let got: Vec<OpRole> = r.iter().map(|(_, r, _)| *r).collect();
    #[rustfmt::skip]
    let want = vec![
        Replicated, Column(a), Column(a), Column(a), Sliced(a), Heads(a), Heads(a), Heads(a),
        Row(a), Column(m), Sliced(m), Row(m), Replicated, Residual,
    ];
    assert_eq!(got, want);
    assert!(r.iter().all(|(_, _, l)| *l == Some(0)));
}
