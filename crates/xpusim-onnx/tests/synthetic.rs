//! Hand-built ONNX graphs: options, errors, warnings and control flow.

mod common;

use common::build::*;
use xpusim_onnx::proto::*;
use xpusim_onnx::{import_bytes, OnnxError, OnnxOptions};
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
