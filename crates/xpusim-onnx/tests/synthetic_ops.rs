//! Hand-built ONNX graphs: folding and lowering rules of individual operators.

mod common;

use common::build::*;
use xpusim_ir::{DType, OpKind, Precision};
use xpusim_onnx::proto::*;
use xpusim_onnx::{import_bytes, OnnxOptions};

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
