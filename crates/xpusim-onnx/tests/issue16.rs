//! Issue #16: inputs that used to import into nonsense (no work, a loop costed once, an
//! empty recurrence, a sequence that lost its split) are now errors naming where, or are
//! costed exactly.

mod common;

use common::build::*;
use xpusim_onnx::proto::*;
use xpusim_onnx::{import_bytes, OnnxOptions};

fn err(b: &[u8]) -> String {
    match import_bytes("t.onnx", b, &OnnxOptions::default()) {
        Ok(imp) => panic!("imported: {:?}", imp.op_types),
        Err(e) => e.to_string(),
    }
}

#[test]
fn empty_graph_is_an_error_naming_the_file() {
    let b = model(graph(
        vec![],
        vec![],
        vec![v("x", &[2, 4])],
        vec![v("x", &[2, 4])],
    ));
    let e = err(&b);
    assert!(e.starts_with("t.onnx:"), "{e}");
    assert!(e.contains("no operators to cost"), "{e}");

    // Only shape arithmetic on a constant: folded at session creation, nothing to cost.
    let b = model(graph(
        vec![node("Shape", &["c"], &["s"], vec![])],
        vec![ints("c", &[1, 2, 3])],
        vec![],
        vec![v("s", &[1])],
    ));
    assert!(err(&b).contains("no operators to cost"));
}

#[test]
fn zero_sized_input_is_an_error_naming_input_and_axis() {
    let b = model(graph(
        vec![node("MatMul", &["x", "w"], &["y"], vec![])],
        vec![weight("w", &[16, 8])],
        vec![vi("x", F32, &[D::P("batch"), D::V(16)])],
        vec![v("y", &[0, 8])],
    ));
    let mut o = OnnxOptions::default();
    o.add_dim_arg("batch=0").unwrap();
    let e = import_bytes("t.onnx", &b, &o).unwrap_err().to_string();
    assert!(
        e.contains("t.onnx") && e.contains("`x`") && e.contains("axis 0"),
        "{e}"
    );
    let b = model(graph(
        vec![node("Relu", &["x"], &["y"], vec![])],
        vec![],
        vec![v("x", &[3, 0])],
        vec![v("y", &[3, 0])],
    ));
    let e = err(&b);
    assert!(e.contains("`x`") && e.contains("axis 1"), "{e}");
}

#[test]
fn empty_intermediate_slice_is_allowed_when_other_work_remains() {
    // x[4,8] → Slice(axis 0, 2..2) is empty; the MatMul on x still has work.
    let b = model(graph(
        vec![
            node("Slice", &["x", "st", "en", "ax"], &["e"], vec![]),
            node("MatMul", &["x", "w"], &["y"], vec![]),
        ],
        vec![
            ints("st", &[2]),
            ints("en", &[2]),
            ints("ax", &[0]),
            weight("w", &[8, 8]),
        ],
        vec![v("x", &[4, 8])],
        vec![v("y", &[4, 8])],
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.shapes["e"], vec![0, 8]);
    assert_eq!(imp.graph.totals().macs, 4 * 8 * 8);
}

fn loop_model(m: Option<i64>, m_is_input: bool) -> Vec<u8> {
    let body = graph(
        vec![
            node("MatMul", &["h", "w"], &["h2"], vec![]),
            node("Identity", &["c"], &["c2"], vec![]),
        ],
        vec![],
        vec![vi("i", I64, &[]), vi("c", 9, &[]), v("h", &[2, 4])],
        vec![vi("c2", 9, &[]), v("h2", &[2, 4])],
    );
    let mut inits = vec![weight("w", &[4, 4])];
    let mut ins = vec![v("x", &[2, 4])];
    let m_name = match (m, m_is_input) {
        (Some(m), false) => {
            inits.push(TensorProto {
                name: "m".into(),
                data_type: I64,
                int64_data: vec![m],
                ..Default::default()
            });
            "m"
        }
        (_, true) => {
            ins.push(vi("m", I64, &[]));
            "m"
        }
        (None, false) => "",
    };
    model(graph(
        vec![node(
            "Loop",
            &[m_name, "", "x"],
            &["hf"],
            vec![agraph("body", body)],
        )],
        inits,
        ins,
        vec![v("hf", &[2, 4])],
    ))
}

#[test]
fn constant_loop_trip_count_is_read_exactly_and_overflow_is_an_error() {
    // 2^40 iterations of a 32-MAC body: 2^45 MACs, within the IR's work bound.
    let imp = import_bytes(
        "t.onnx",
        &loop_model(Some(1 << 40), false),
        &OnnxOptions::default(),
    )
    .unwrap();
    assert_eq!(imp.graph.ops[0].repeat, 1 << 40);
    assert_eq!(imp.graph.totals().macs, (1u64 << 40) * 2 * 4 * 4);
    assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);

    // 2^62 iterations: was "not known" and costed once; now an error naming the node.
    let e = err(&loop_model(Some(1 << 62), false));
    assert!(e.contains("node `Loop_hf` (Loop)"), "{e}");
    assert!(e.contains("4611686018427387904 iterations"), "{e}");

    let e = err(&loop_model(Some(-3), false));
    assert!(e.contains("Loop_hf") && e.contains("non-negative"), "{e}");
}

#[test]
fn unknown_loop_trip_count_is_costed_once_with_a_warning_naming_the_node() {
    for b in [loop_model(None, true), loop_model(None, false)] {
        let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
        assert_eq!(imp.graph.totals().macs, 2 * 4 * 4);
        assert!(
            imp.warnings
                .iter()
                .any(|w| w.contains("Loop_hf") && w.contains("costing one iteration")),
            "{:?}",
            imp.warnings
        );
    }
}

#[test]
fn recurrent_hidden_size_zero_is_an_error_naming_node_and_field() {
    let rnn = |op: &str, gates: i64, h_attr: Option<i64>, h_r: i64| {
        let mut attrs = vec![];
        if let Some(h) = h_attr {
            attrs.push(ai("hidden_size", h));
        }
        model(graph(
            vec![node(op, &["x", "w", "r"], &["y"], attrs)],
            vec![
                weight("w", &[1, gates * h_r.max(1), 10]),
                weight("r", &[1, gates * h_r.max(1), h_r]),
            ],
            vec![v("x", &[7, 3, 10])],
            vec![v("y", &[7, 1, 3, 0])],
        ))
    };
    for (op, g) in [("LSTM", 4), ("GRU", 3), ("RNN", 1)] {
        let e = err(&rnn(op, g, Some(0), 20));
        assert!(
            e.contains(&format!("({op})")) && e.contains("`hidden_size`"),
            "{e}"
        );
        let e = err(&rnn(op, g, None, 0));
        assert!(
            e.contains(&format!("({op})")) && e.contains("hidden size read from R"),
            "{e}"
        );
    }
}
