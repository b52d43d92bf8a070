//! Hand-built ONNX graphs exercising options, errors, folding and lowering rules.

use prost::Message;
use xpusim_ir::{DType, OpKind, Precision};
use xpusim_onnx::proto::*;
use xpusim_onnx::{import_bytes, OnnxError, OnnxOptions};

const F32: i32 = 1;
const I64: i32 = 7;

enum D {
    V(i64),
    P(&'static str),
}

fn vi(name: &str, elem: i32, dims: &[D]) -> ValueInfoProto {
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

fn v(name: &str, dims: &[i64]) -> ValueInfoProto {
    let d: Vec<D> = dims.iter().map(|&x| D::V(x)).collect();
    vi(name, F32, &d)
}

fn node(op: &str, ins: &[&str], outs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: ins.iter().map(|s| s.to_string()).collect(),
        output: outs.iter().map(|s| s.to_string()).collect(),
        name: format!("{op}_{}", outs.first().copied().unwrap_or("")),
        op_type: op.into(),
        attribute: attrs,
        domain: String::new(),
    }
}

fn ai(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i,
        r#type: 2,
        ..Default::default()
    }
}

fn aints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        ints: ints.to_vec(),
        r#type: 7,
        ..Default::default()
    }
}

fn astr(name: &str, s: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        s: s.as_bytes().to_vec(),
        r#type: 3,
        ..Default::default()
    }
}

fn agraph(name: &str, g: GraphProto) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        g: Some(g),
        r#type: 5,
        ..Default::default()
    }
}

/// A stripped (external-data) float weight.
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

fn ints(name: &str, vals: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: vec![vals.len() as i64],
        data_type: I64,
        int64_data: vals.to_vec(),
        ..Default::default()
    }
}

fn graph(
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

fn model(g: GraphProto) -> Vec<u8> {
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

fn macs(b: &[u8], o: &OnnxOptions) -> u64 {
    import_bytes("t.onnx", b, o)
        .expect("import")
        .graph
        .totals()
        .macs
}

/// x[batch, 16] · W[16, 8]
fn linear_model(decl_out: &[i64]) -> Vec<u8> {
    model(graph(
        vec![node("MatMul", &["x", "w"], &["y"], vec![])],
        vec![weight("w", &[16, 8])],
        vec![vi("x", F32, &[D::P("batch"), D::V(16)])],
        vec![v("y", decl_out)],
    ))
}

#[test]
fn symbolic_dims_bind_or_error_naming_node_and_input() {
    let b = linear_model(&[4, 8]);
    let err = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap_err();
    assert!(
        matches!(&err, OnnxError::UnresolvedDim { node, input, dim, .. }
        if node == "MatMul_y" && input == "x" && dim == "batch"),
        "{err}"
    );
    assert!(err.to_string().starts_with("t.onnx: node `MatMul_y`"));
    let mut o = OnnxOptions::default();
    o.dims.insert("batch".into(), 4);
    let imp = import_bytes("t.onnx", &b, &o).unwrap();
    assert_eq!(imp.graph.totals().macs, 4 * 16 * 8);
    assert_eq!(imp.graph.totals().params, 16 * 8);
    assert_eq!(imp.graph.batch, 4);
    assert_eq!(imp.shapes["y"], vec![4, 8]);
    assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
    let mut o = OnnxOptions::default();
    o.inputs.insert("x".into(), vec![2, 3, 16]);
    let imp = import_bytes("t.onnx", &b, &o).unwrap();
    assert_eq!(imp.shapes["y"], vec![2, 3, 8]);
    assert_eq!(imp.graph.totals().macs, 6 * 16 * 8);
}

#[test]
fn declared_output_shape_mismatch_is_a_warning_and_inference_wins() {
    let b = linear_model(&[1, 99]);
    let mut o = OnnxOptions::default();
    o.dims.insert("batch".into(), 1);
    let imp = import_bytes("t.onnx", &b, &o).unwrap();
    assert_eq!(imp.shapes["y"], vec![1, 8]);
    assert!(
        imp.warnings
            .iter()
            .any(|w| w.contains("`y`") && w.contains("inferred")),
        "{:?}",
        imp.warnings
    );
}

#[test]
fn unknown_ops_are_listed_or_rejected_in_strict_mode() {
    let b = model(graph(
        vec![
            node("FancyOp", &["x"], &["a"], vec![]),
            node("FancyOp", &["a"], &["y"], vec![]),
        ],
        vec![],
        vec![v("x", &[2, 3])],
        vec![v("y", &[2, 3])],
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.graph.unknown_ops(), vec![("FancyOp".to_string(), 2)]);
    let strict = OnnxOptions {
        strict: true,
        ..Default::default()
    };
    let err = import_bytes("t.onnx", &b, &strict).unwrap_err();
    assert!(
        matches!(&err, OnnxError::Unsupported { node, op_type, .. } if node == "FancyOp_a" && op_type == "FancyOp"),
        "{err}"
    );
}

#[test]
fn shape_chain_folds_into_reshape_and_costs_nothing() {
    // x[2,3,4] → Shape → Gather(0) → Unsqueeze → Concat([-1]) → Reshape → MatMul
    let b = model(graph(
        vec![
            node("Shape", &["x"], &["s"], vec![]),
            node("Gather", &["s", "zero"], &["b"], vec![ai("axis", 0)]),
            node("Unsqueeze", &["b", "zero1"], &["b1"], vec![]),
            node("Concat", &["b1", "minus1"], &["shp"], vec![ai("axis", 0)]),
            node("Reshape", &["x", "shp"], &["x2"], vec![]),
            node("MatMul", &["x2", "w"], &["y"], vec![]),
        ],
        vec![
            TensorProto {
                name: "zero".into(),
                data_type: I64,
                int64_data: vec![0],
                ..Default::default()
            },
            ints("zero1", &[0]),
            ints("minus1", &[-1]),
            weight("w", &[12, 5]),
        ],
        vec![v("x", &[2, 3, 4])],
        vec![v("y", &[2, 5])],
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.shapes["x2"], vec![2, 12]);
    assert_eq!(imp.graph.ops.len(), 1, "{:?}", imp.op_types);
    assert_eq!(imp.graph.totals().macs, 2 * 12 * 5);
}

#[test]
fn einsum_conv_transpose_depthwise_and_same_padding() {
    let e = model(graph(
        vec![node(
            "Einsum",
            &["a", "b"],
            &["c"],
            vec![astr("equation", "bij,bjk->bik")],
        )],
        vec![],
        vec![v("a", &[3, 4, 5]), v("b", &[3, 5, 6])],
        vec![v("c", &[3, 4, 6])],
    ));
    assert_eq!(macs(&e, &OnnxOptions::default()), 3 * 4 * 5 * 6);

    let ct = model(graph(
        vec![node(
            "ConvTranspose",
            &["x", "w"],
            &["y"],
            vec![aints("strides", &[2, 2]), aints("pads", &[1, 1, 1, 1])],
        )],
        vec![weight("w", &[8, 4, 4, 4])],
        vec![v("x", &[1, 8, 10, 10])],
        vec![v("y", &[1, 4, 20, 20])],
    ));
    let imp = import_bytes("t.onnx", &ct, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.shapes["y"], vec![1, 4, 20, 20]);
    assert_eq!(imp.graph.totals().macs, 8 * 10 * 10 * 4 * 16);

    let dw = model(graph(
        vec![node(
            "Conv",
            &["x", "w"],
            &["y"],
            vec![
                ai("group", 32),
                astr("auto_pad", "SAME_UPPER"),
                aints("strides", &[2, 2]),
            ],
        )],
        vec![weight("w", &[32, 1, 3, 3])],
        vec![v("x", &[1, 32, 15, 15])],
        vec![v("y", &[1, 32, 8, 8])],
    ));
    let imp = import_bytes("t.onnx", &dw, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.shapes["y"], vec![1, 32, 8, 8]);
    assert_eq!(imp.graph.totals().macs, 32 * 8 * 8 * 9);
}

#[test]
fn recurrent_ops_keep_their_structure() {
    let b = model(graph(
        vec![node(
            "LSTM",
            &["x", "w", "r"],
            &["y", "yh", "yc"],
            vec![ai("hidden_size", 20), astr("direction", "bidirectional")],
        )],
        vec![weight("w", &[2, 80, 10]), weight("r", &[2, 80, 20])],
        vec![v("x", &[7, 3, 10])],
        vec![v("y", &[7, 2, 3, 20])],
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.shapes["y"], vec![7, 2, 3, 20]);
    assert_eq!(imp.shapes["yc"], vec![2, 3, 20]);
    assert!(matches!(imp.graph.ops[0].kind, OpKind::Recurrent(_)));
    assert_eq!(imp.graph.totals().macs, 7 * 3 * 2 * 4 * 20 * 30);
}

#[test]
fn loop_repeats_its_body_and_if_folds_its_condition() {
    let body = graph(
        vec![
            node("MatMul", &["h", "w"], &["h2"], vec![]),
            node("Identity", &["c"], &["c2"], vec![]),
        ],
        vec![],
        vec![vi("i", I64, &[]), vi("c", 9, &[]), v("h", &[2, 4])],
        vec![vi("c2", 9, &[]), v("h2", &[2, 4]), v("h2", &[2, 4])],
    );
    let b = model(graph(
        vec![node(
            "Loop",
            &["m", "", "x"],
            &["hf", "hs"],
            vec![agraph("body", body)],
        )],
        vec![
            TensorProto {
                name: "m".into(),
                data_type: I64,
                int64_data: vec![5],
                ..Default::default()
            },
            weight("w", &[4, 4]),
        ],
        vec![v("x", &[2, 4])],
        vec![v("hf", &[2, 4]), v("hs", &[5, 2, 4])],
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.shapes["hs"], vec![5, 2, 4]);
    assert_eq!(imp.graph.totals().macs, 5 * 2 * 4 * 4);

    let small = graph(
        vec![node("MatMul", &["x", "w"], &["o1"], vec![])],
        vec![],
        vec![],
        vec![v("o1", &[2, 4])],
    );
    let big = graph(
        vec![
            node("MatMul", &["x", "w"], &["t"], vec![]),
            node("MatMul", &["t", "w"], &["o2"], vec![]),
        ],
        vec![],
        vec![],
        vec![v("o2", &[2, 4])],
    );
    // Shape(x) = [2,4], product 8 == 8 folds to true → the then branch (two matmuls).
    let b = model(graph(
        vec![
            node("Shape", &["x"], &["s"], vec![]),
            node("ReduceProd", &["s"], &["p"], vec![ai("keepdims", 0)]),
            node("Equal", &["p", "eight"], &["c"], vec![]),
            node(
                "If",
                &["c"],
                &["y"],
                vec![agraph("then_branch", big), agraph("else_branch", small)],
            ),
        ],
        vec![ints("eight", &[8]), weight("w", &[4, 4])],
        vec![v("x", &[2, 4])],
        vec![v("y", &[2, 4])],
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.graph.totals().macs, 2 * 2 * 4 * 4);
    assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
}

#[test]
fn if_with_runtime_condition_costs_the_expensive_branch_and_warns() {
    let small = graph(
        vec![node("MatMul", &["x", "w"], &["o1"], vec![])],
        vec![],
        vec![],
        vec![v("o1", &[2, 4])],
    );
    let big = graph(
        vec![
            node("MatMul", &["x", "w"], &["t"], vec![]),
            node("MatMul", &["t", "w"], &["o2"], vec![]),
        ],
        vec![],
        vec![],
        vec![v("o2", &[2, 4])],
    );
    let b = model(graph(
        vec![node(
            "If",
            &["rt"],
            &["y"],
            vec![agraph("then_branch", small), agraph("else_branch", big)],
        )],
        vec![weight("w", &[4, 4])],
        vec![v("x", &[2, 4]), vi("rt", 9, &[])],
        vec![v("y", &[2, 4])],
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.graph.totals().macs, 2 * 2 * 4 * 4);
    assert!(
        imp.warnings.iter().any(|w| w.contains("`else` branch")),
        "{:?}",
        imp.warnings
    );
}

#[test]
fn bad_attribute_is_a_one_line_error_with_file_and_node() {
    let b = model(graph(
        vec![node(
            "Conv",
            &["x", "w"],
            &["y"],
            vec![aints("strides", &[0, 1])],
        )],
        vec![weight("w", &[4, 3, 3, 3])],
        vec![v("x", &[1, 3, 8, 8])],
        vec![v("y", &[1, 4, 6, 6])],
    ));
    let err = import_bytes("m.onnx", &b, &OnnxOptions::default()).unwrap_err();
    let s = err.to_string();
    assert!(matches!(err, OnnxError::BadAttribute { .. }), "{s}");
    assert!(
        s.starts_with("m.onnx: node `Conv_y` (Conv): bad attribute `strides`") && !s.contains('\n'),
        "{s}"
    );
    let err = import_bytes("m.onnx", &[0x0a, 0xff, 0x01], &OnnxOptions::default()).unwrap_err();
    assert!(matches!(err, OnnxError::Decode { .. }), "{err}");
}

#[test]
fn dynamic_quantization_lowers_to_int8_and_precision_overrides() {
    let b = model(graph(
        vec![
            node("DynamicQuantizeLinear", &["x"], &["q", "s", "z"], vec![]),
            node("MatMulInteger", &["q", "wq", "z", "wz"], &["y"], vec![]),
        ],
        vec![
            TensorProto {
                name: "wq".into(),
                dims: vec![16, 8],
                data_type: 3,
                data_location: DATA_LOCATION_EXTERNAL,
                ..Default::default()
            },
            TensorProto {
                name: "wz".into(),
                data_type: 3,
                int32_data: vec![0],
                ..Default::default()
            },
        ],
        vec![v("x", &[4, 16])],
        vec![vi("y", 6, &[D::V(4), D::V(8)])],
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    let mm = imp
        .graph
        .ops
        .iter()
        .find(|o| matches!(o.kind, OpKind::Matmul(_)))
        .unwrap();
    assert_eq!(mm.compute_dtype, DType::Int8);
    assert_eq!(mm.macs(), 4 * 16 * 8);
    assert_eq!(
        imp.graph
            .weights
            .iter()
            .find(|w| w.name == "wq")
            .unwrap()
            .dtype,
        DType::Int8
    );
    let o = OnnxOptions {
        precision: Some(Precision::uniform(DType::Bf16)),
        ..Default::default()
    };
    let imp = import_bytes("t.onnx", &b, &o).unwrap();
    let mm = imp
        .graph
        .ops
        .iter()
        .find(|o| matches!(o.kind, OpKind::Matmul(_)))
        .unwrap();
    assert_eq!(mm.compute_dtype, DType::Bf16);
}

#[test]
fn llm_contrib_ops_group_query_attention_and_matmul_nbits() {
    let mut gqa = node(
        "GroupQueryAttention",
        &["qkv", "", "", "pk", "pv"],
        &["o", "k2", "v2"],
        vec![ai("num_heads", 8), ai("kv_num_heads", 2)],
    );
    gqa.domain = "com.microsoft".into();
    let mut nb = node(
        "MatMulNBits",
        &["o", "wq", "ws"],
        &["y"],
        vec![
            ai("K", 128),
            ai("N", 64),
            ai("bits", 4),
            ai("block_size", 32),
        ],
    );
    nb.domain = "com.microsoft".into();
    let b = model(graph(
        vec![gqa, nb],
        vec![
            TensorProto {
                name: "wq".into(),
                dims: vec![64, 4, 16],
                data_type: 2,
                data_location: DATA_LOCATION_EXTERNAL,
                ..Default::default()
            },
            weight("ws", &[64, 4]),
        ],
        vec![
            v("qkv", &[1, 1, 192]),
            v("pk", &[1, 2, 10, 16]),
            v("pv", &[1, 2, 10, 16]),
        ],
        vec![v("y", &[1, 1, 64])],
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.shapes["o"], vec![1, 1, 128]);
    assert_eq!(imp.shapes["k2"], vec![1, 2, 11, 16]);
    let OpKind::Attention(a) = &imp.graph.ops[0].kind else {
        panic!("{:?}", imp.graph.ops[0].kind)
    };
    assert_eq!(
        (a.heads, a.kv_heads, a.q_len, a.kv_len, a.head_dim),
        (8, 2, 1, 11, 16)
    );
    let mm = &imp.graph.ops[1];
    assert_eq!(mm.macs(), 128 * 64);
    assert_eq!(mm.operands[1].dtype, DType::Int4);
}

#[test]
fn cli_style_dim_and_input_arguments() {
    let mut o = OnnxOptions::default();
    o.add_dim_arg("batch=4").unwrap();
    o.add_input_arg("x=2x3x16").unwrap();
    o.add_input_arg("sr=").unwrap();
    assert_eq!(o.dims["batch"], 4);
    assert_eq!(o.inputs["x"], vec![2, 3, 16]);
    assert!(o.inputs["sr"].is_empty());
    assert!(o.add_dim_arg("batch").is_err());
    assert!(o.add_input_arg("x=2xfoo").is_err());
}

#[test]
fn malformed_einsum_equations_are_errors_not_panics() {
    for eq in [
        "...a...,b->",
        "a.b,bc",
        "ab,bc->a...c..",
        "",
        "abc,bc->ac",
        "ab,bc->z",
        "ab->",
        "…,ab",
    ] {
        let b = model(graph(
            vec![node(
                "Einsum",
                &["a", "b"],
                &["c"],
                vec![astr("equation", eq)],
            )],
            vec![],
            vec![v("a", &[3, 4]), v("b", &[4, 5])],
            vec![v("c", &[3, 5])],
        ));
        let r = import_bytes("t.onnx", &b, &OnnxOptions::default());
        assert!(r.is_err(), "`{eq}` accepted");
    }
    let b = model(graph(
        vec![node(
            "Einsum",
            &["a", "b"],
            &["c"],
            vec![astr("equation", "...k,kn")],
        )],
        vec![],
        vec![v("a", &[2, 3, 4]), v("b", &[4, 5])],
        vec![v("c", &[2, 3, 5])],
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.shapes["c"], vec![2, 3, 5]);
    assert_eq!(imp.graph.totals().macs, 2 * 3 * 4 * 5);
}
