//! Sequence operators carry each element's shape (issue #16: Mamba exported by PyTorch's
//! dynamo exporter splits `xz` with `SplitToSequence` and a scalar `split`).

mod common;

use common::build::*;
use xpusim_onnx::proto::*;
use xpusim_onnx::{import_bytes, OnnxOptions};

fn scalar(name: &str, v: i64) -> TensorProto {
    TensorProto {
        name: name.into(),
        data_type: I64,
        int64_data: vec![v],
        ..Default::default()
    }
}

/// x[1,3072,16] → SplitToSequence(split = 1536, axis 1) → SequenceAt(`pos`) → depthwise
/// Conv (group 1536, W [1536,1,4], pads 3): Mamba's `in_proj` output split into x and z,
/// then its causal conv1d.
fn mamba_split(pos: i64) -> Vec<u8> {
    model(graph(
        vec![
            node(
                "SplitToSequence",
                &["xz", "split"],
                &["seq"],
                vec![ai("axis", 1)],
            ),
            node("SequenceAt", &["seq", "pos"], &["x"], vec![]),
            node(
                "Conv",
                &["x", "w"],
                &["y"],
                vec![
                    ai("group", 1536),
                    aints("kernel_shape", &[4]),
                    aints("pads", &[3, 3]),
                ],
            ),
        ],
        vec![
            scalar("split", 1536),
            scalar("pos", pos),
            weight("w", &[1536, 1, 4]),
        ],
        vec![v("xz", &[1, 3072, 16])],
        vec![v("y", &[1, 1536, 19])],
    ))
}

#[test]
fn mamba_split_to_sequence_feeds_a_depthwise_conv_its_half() {
    for pos in [0, 1, -1, -2] {
        let imp = import_bytes("t.onnx", &mamba_split(pos), &OnnxOptions::default()).unwrap();
        assert_eq!(imp.shapes["x"], vec![1, 1536, 16]);
        assert_eq!(imp.shapes["y"], vec![1, 1536, 19]);
        // Depthwise: one 4-tap filter per channel over 16 + 3 + 3 − 4 + 1 = 19 outputs.
        assert_eq!(imp.graph.totals().macs, 1536 * 19 * 4);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
    }
    let e = import_bytes("t.onnx", &mamba_split(2), &OnnxOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("SequenceAt") && e.contains("position 2"), "{e}");
}

/// Element shapes after `nodes` on x[2,5,3], read from `SequenceAt(i)` outputs `e0`, `e1`, …
fn shapes_of(nodes: Vec<NodeProto>, inits: Vec<TensorProto>, outs: &[&str]) -> Vec<Vec<u64>> {
    let b = model(graph(
        nodes,
        inits,
        vec![v("x", &[2, 5, 3])],
        outs.iter().map(|o| v(o, &[])).collect(),
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    outs.iter().map(|o| imp.shapes[*o].clone()).collect()
}

#[test]
fn split_to_sequence_forms_and_the_other_sequence_ops() {
    let at = |i: i64, out: &str| node("SequenceAt", &["s", &format!("p{i}")], &[out], vec![]);
    let ps = || {
        (-3..3)
            .map(|i| scalar(&format!("p{i}"), i))
            .collect::<Vec<_>>()
    };
    // Scalar split 2 of 5: chunks 2, 2, 1 (the last is the remainder).
    let mut inits = ps();
    inits.push(scalar("two", 2));
    let got = shapes_of(
        vec![
            node(
                "SplitToSequence",
                &["x", "two"],
                &["s"],
                vec![ai("axis", 1)],
            ),
            at(0, "a"),
            at(2, "b"),
            at(-3, "c"),
            node("SequenceLength", &["s"], &["n"], vec![]),
        ],
        inits,
        &["a", "b", "c", "n"],
    );
    assert_eq!(
        got,
        vec![vec![2, 2, 3], vec![2, 1, 3], vec![2, 2, 3], vec![]]
    );

    // 1-D split [1, 4]; ConcatFromSequence back along axis 1 and stacked on a new axis 0.
    let mut inits = ps();
    inits.push(ints("sizes", &[1, 4]));
    let got = shapes_of(
        vec![
            node(
                "SplitToSequence",
                &["x", "sizes"],
                &["s"],
                vec![ai("axis", -2)],
            ),
            at(1, "a"),
            node("ConcatFromSequence", &["s"], &["cat"], vec![ai("axis", 1)]),
        ],
        inits,
        &["a", "cat"],
    );
    assert_eq!(got, vec![vec![2, 4, 3], vec![2, 5, 3]]);

    // No split: size-1 chunks, axis removed with keepdims 0; stacked back → the input.
    let got = shapes_of(
        vec![
            node(
                "SplitToSequence",
                &["x"],
                &["s"],
                vec![ai("axis", 1), ai("keepdims", 0)],
            ),
            at(-1, "a"),
            node(
                "ConcatFromSequence",
                &["s"],
                &["st"],
                vec![ai("axis", 1), ai("new_axis", 1)],
            ),
        ],
        ps(),
        &["a", "st"],
    );
    assert_eq!(got, vec![vec![2, 3], vec![2, 5, 3]]);

    // Construct / Insert / Erase / Length.
    let mut inits = ps();
    inits.push(weight("w", &[3, 7]));
    let got = shapes_of(
        vec![
            node("MatMul", &["x", "w"], &["xw"], vec![]),
            node("SequenceConstruct", &["x", "xw"], &["s0"], vec![]),
            node("SequenceInsert", &["s0", "x", "p0"], &["s1"], vec![]),
            node("SequenceErase", &["s1", "p-3"], &["s"], vec![]),
            at(-1, "last"),
            at(0, "first"),
            node("SequenceLength", &["s"], &["n"], vec![]),
        ],
        inits,
        &["last", "first", "n"],
    );
    assert_eq!(got, vec![vec![2, 5, 7], vec![2, 5, 3], vec![]]);
}

#[test]
fn sequence_errors_name_the_node() {
    let b = model(graph(
        vec![node("SequenceAt", &["x", "p"], &["y"], vec![])],
        vec![scalar("p", 0)],
        vec![v("x", &[2, 3])],
        vec![v("y", &[2, 3])],
    ));
    let e = import_bytes("t.onnx", &b, &OnnxOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("SequenceAt_y") && e.contains("must be a sequence"),
        "{e}"
    );

    let b = model(graph(
        vec![node(
            "SplitToSequence",
            &["x", "sizes"],
            &["s"],
            vec![ai("axis", 0)],
        )],
        vec![ints("sizes", &[1, 3])],
        vec![v("x", &[2, 3])],
        vec![v("s", &[])],
    ));
    let e = import_bytes("t.onnx", &b, &OnnxOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("SplitToSequence_s") && e.contains("do not sum"),
        "{e}"
    );
}

#[test]
fn loop_carried_sequence_stays_a_sequence() {
    // SequenceEmpty → Loop(3) { SequenceInsert(s, h·W) } → ConcatFromSequence.
    let body = graph(
        vec![
            node("MatMul", &["h", "w"], &["h2"], vec![]),
            node("SequenceInsert", &["s", "h2"], &["s2"], vec![]),
            node("Identity", &["c"], &["c2"], vec![]),
        ],
        vec![],
        vec![vi("i", I64, &[]), vi("c", 9, &[]), v("s", &[])],
        vec![vi("c2", 9, &[]), v("s2", &[])],
    );
    let b = model(graph(
        vec![
            node("SequenceEmpty", &[], &["s0"], vec![]),
            node(
                "Loop",
                &["m", "", "s0"],
                &["sf"],
                vec![agraph("body", body)],
            ),
            node("ConcatFromSequence", &["sf"], &["y"], vec![ai("axis", 0)]),
        ],
        vec![scalar("m", 3), weight("w", &[4, 4])],
        vec![v("h", &[2, 4])],
        vec![v("y", &[2, 4])],
    ));
    let imp = import_bytes("t.onnx", &b, &OnnxOptions::default()).unwrap();
    assert_eq!(imp.graph.totals().macs, 3 * 2 * 4 * 4);
    assert!(
        imp.warnings.iter().any(|w| w.contains("one iteration")),
        "{:?}",
        imp.warnings
    );
}
