//! Parallelism roles and layer indices inferred from graph structure: GPT-2 medium and a
//! GQA Llama exported by `torch.onnx.export(dynamo=True)` (tests/data, made by
//! tools/onnx-fixtures/export_fixtures.py), the shared transformer models, and the
//! shared CNN/RNN models that must get no roles at all.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use prost::Message;
use xpusim_ir::{Block, Op, OpKind, OpRole, Role};
use xpusim_onnx::proto::ModelProto;
use xpusim_onnx::{import_bytes, import_file, Import, OnnxOptions};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn opts(dims: &[(&str, u64)]) -> OnnxOptions {
    let mut o = OnnxOptions::default();
    for (k, v) in dims {
        o.dims.insert(k.to_string(), *v);
    }
    o
}

fn fixture(name: &str, dims: &[(&str, u64)]) -> Import {
    import_file(&data(name), &opts(dims)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The shared model directory; absent, a skip (printed), except under CI where it fails.
fn shared() -> Option<PathBuf> {
    let d = common::models_dir();
    if d.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared/models is missing under CI"
        );
        println!("skipped: ../shared/models not found");
    }
    d
}

fn shared_model(dir: &Path, file: &str) -> Import {
    let e = common::manifest(dir)
        .into_iter()
        .find(|e| e.file == file)
        .unwrap_or_else(|| panic!("{file} not in manifest"));
    let o = OnnxOptions {
        inputs: e.inputs.clone(),
        ..Default::default()
    };
    import_file(&dir.join(file), &o).unwrap_or_else(|err| panic!("{file}: {err}"))
}

/// A linear layer: an activation times a 2-D weight.
fn is_proj(op: &Op) -> bool {
    matches!(&op.kind, OpKind::Matmul(s) if !s.rhs_batched)
        && op.operands.get(1).is_some_and(|o| o.role == Role::Weight)
}

/// Role label and layer → op count, printed for the report.
fn summary(imp: &Import) -> BTreeMap<(String, Option<u32>), usize> {
    let mut m = BTreeMap::new();
    for op in &imp.graph.ops {
        *m.entry((op.role.label(), op.layer)).or_default() += 1;
    }
    m
}

fn print_summary(name: &str, imp: &Import) {
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for ((label, _), n) in summary(imp) {
        *per.entry(label).or_default() += n;
    }
    let layers: BTreeSet<u32> = imp.graph.ops.iter().filter_map(|o| o.layer).collect();
    println!("{name}: {} layers, {per:?}", layers.len());
}

struct Expect {
    layers: u32,
    /// Column projections per layer in attention (1 fused QKV or 3 Q/K/V) and the MLP.
    col_attn: usize,
    col_mlp: usize,
    /// KV-cache appends per layer.
    kv: usize,
    /// Vocabulary rows of the token embedding, if the graph has one.
    vocab: Option<u64>,
    lm_head: bool,
    /// Projections of a head after the stack (pooling, classifier): no block, replicated.
    head_projs: usize,
}

fn count(imp: &Import, role: OpRole, layer: Option<u32>) -> usize {
    imp.graph
        .ops
        .iter()
        .filter(|o| o.role == role && o.layer == layer)
        .count()
}

/// Checks the Megatron roles of a stack of `e.layers` attention + MLP layers.
fn check_transformer(name: &str, imp: &Import, e: &Expect) {
    print_summary(name, imp);
    let ops = &imp.graph.ops;
    let projs: Vec<usize> = (0..ops.len()).filter(|&i| is_proj(&ops[i])).collect();
    let heads: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].role == OpRole::LmHead)
        .collect();
    if e.lm_head {
        assert_eq!(heads.len(), 1, "{name}: one LM head");
        assert_eq!(heads[0], *projs.last().unwrap(), "{name}: LM head is last");
        let OpKind::Matmul(s) = &ops[heads[0]].kind else {
            panic!("{name}: LM head is not a matmul")
        };
        assert_eq!(Some(s.n), e.vocab, "{name}: LM head width");
        assert_eq!(ops[heads[0]].layer, None);
    } else {
        assert!(heads.is_empty(), "{name}: no LM head");
    }
    // The last `head_projs` projections (after the last residual) belong to no block.
    let last_res = (0..ops.len()).rfind(|&i| ops[i].role == OpRole::Residual);
    let (stack, tail) = projs.split_at(projs.len() - e.head_projs);
    for &i in tail.iter().filter(|i| !heads.contains(i)) {
        let op = &ops[i];
        assert!(Some(i) > last_res, "{name}: {} inside the stack", op.name);
        assert!(
            op.role == OpRole::Replicated && op.layer.is_none(),
            "{name}: {}",
            op.name
        );
    }
    // Every other projection is a column or row projection of an attention or MLP block.
    let mut split_macs = 0;
    for &i in stack.iter().filter(|i| !heads.contains(i)) {
        let op = &ops[i];
        assert!(
            matches!(
                op.role,
                OpRole::Column(Block::Attention | Block::Mlp)
                    | OpRole::Row(Block::Attention | Block::Mlp)
            ) && op.layer.is_some(),
            "{name}: projection {} is {} in layer {:?}",
            op.name,
            op.role.label(),
            op.layer
        );
        split_macs += op.macs() * op.repeat;
    }
    let col_row: u64 = ops
        .iter()
        .filter(|o| matches!(o.role, OpRole::Column(_) | OpRole::Row(_)))
        .map(|o| o.macs() * o.repeat)
        .sum();
    assert_eq!(col_row, split_macs, "{name}: column + row MACs");
    assert!(ops
        .iter()
        .filter(|o| matches!(o.role, OpRole::Column(_) | OpRole::Row(_)))
        .all(is_proj));
    // Per-layer counts.
    for l in 0..e.layers {
        let c = |r| count(imp, r, Some(l));
        assert_eq!(
            c(OpRole::Column(Block::Attention)),
            e.col_attn,
            "{name} L{l}"
        );
        assert_eq!(c(OpRole::Row(Block::Attention)), 1, "{name} L{l}");
        assert_eq!(c(OpRole::Column(Block::Mlp)), e.col_mlp, "{name} L{l}");
        assert_eq!(c(OpRole::Row(Block::Mlp)), 1, "{name} L{l}");
        assert_eq!(c(OpRole::Residual), 2, "{name} L{l}");
        assert_eq!(c(OpRole::KvAppend(Block::Attention)), e.kv, "{name} L{l}");
    }
    let layers: BTreeSet<u32> = ops.iter().filter_map(|o| o.layer).collect();
    assert_eq!(layers, (0..e.layers).collect(), "{name}: layer indices");
    // Ops of layer l lie after layer l-1's last residual and up to layer l's last one;
    // attention's residual comes before the MLP's.
    let mut prev_end = None;
    for l in 0..e.layers {
        let res: Vec<usize> = (0..ops.len())
            .filter(|&i| ops[i].role == OpRole::Residual && ops[i].layer == Some(l))
            .collect();
        let end = *res.last().unwrap();
        let row_a = (0..ops.len())
            .find(|&i| ops[i].role == OpRole::Row(Block::Attention) && ops[i].layer == Some(l))
            .unwrap();
        let row_m = (0..ops.len())
            .find(|&i| ops[i].role == OpRole::Row(Block::Mlp) && ops[i].layer == Some(l))
            .unwrap();
        assert!(
            row_a < res[0] && res[0] < row_m && row_m < res[1],
            "{name} L{l}"
        );
        for (i, op) in ops.iter().enumerate().filter(|(_, o)| o.layer == Some(l)) {
            assert!(
                !matches!(prev_end, Some(p) if i <= p) && i <= end,
                "{name}: op {} of layer {l} at {i} outside ({prev_end:?}, {end}]",
                op.name
            );
        }
        prev_end = Some(end);
    }
    // The attention core of the stack splits by head.
    for op in &ops[..=last_res.unwrap_or(0)] {
        let core = matches!(op.kind, OpKind::Softmax { .. } | OpKind::Attention(_))
            || (matches!(op.kind, OpKind::Matmul(_)) && !is_proj(op));
        if core {
            assert_eq!(
                op.role,
                OpRole::Heads(Block::Attention),
                "{name}: {}",
                op.name
            );
            assert!(op.layer.is_some(), "{name}: {}", op.name);
        }
    }
    // Exactly one token embedding, gathering from the [vocab, hidden] table.
    let emb: Vec<&Op> = ops.iter().filter(|o| o.role == OpRole::Embedding).collect();
    match e.vocab {
        Some(v) => {
            assert_eq!(emb.len(), 1, "{name}: one token embedding");
            // The operand lists the rows read; the table's own shape is the initializer's.
            let table = emb[0].operands.iter().find(|o| o.role == Role::Weight);
            let rows = table.and_then(|t| imp.shapes.get(&t.tensor)).map(|s| s[0]);
            assert_eq!(rows, Some(v), "{name}: vocab table");
            assert_eq!(emb[0].layer, None);
        }
        None => assert!(emb.is_empty()),
    }
}

const GPT2_KV_DIMS: &[(&str, u64)] = &[("batch", 2), ("past", 16), ("total", 17)];

fn gpt2(kv: usize) -> Expect {
    Expect {
        layers: 24,
        col_attn: 1,
        col_mlp: 1,
        kv,
        vocab: Some(50257),
        lm_head: true,
        head_projs: 0,
    }
}

#[test]
fn gpt2_medium_prefill_gets_megatron_roles() {
    let imp = fixture("gpt2_medium_prefill.onnx", &[]);
    check_transformer("gpt2_medium_prefill", &imp, &gpt2(0));
    // The position-embedding gather reads a constant range: folded, never an embedding.
    let gathers = imp
        .graph
        .ops
        .iter()
        .filter(|o| matches!(o.kind, OpKind::Embedding { .. }));
    assert_eq!(gathers.count(), 1);
}

#[test]
fn gpt2_medium_kv_appends_keys_and_values_to_the_cache() {
    let imp = fixture("gpt2_medium_kv.onnx", GPT2_KV_DIMS);
    check_transformer("gpt2_medium_kv", &imp, &gpt2(2));
    let kv = imp
        .graph
        .ops
        .iter()
        .filter(|o| matches!(o.role, OpRole::KvAppend(_)));
    assert!(kv.clone().all(|o| o.layer.is_some()));
    assert_eq!(kv.count(), 48);
}

#[test]
fn llama_gqa_gets_gated_mlp_and_separate_qkv_roles() {
    let imp = fixture("llama_gqa_kv.onnx", GPT2_KV_DIMS);
    let e = Expect {
        layers: 4,
        col_attn: 3,
        col_mlp: 2,
        kv: 2,
        vocab: Some(32000),
        lm_head: true,
        head_projs: 0,
    };
    check_transformer("llama_gqa_kv", &imp, &e);
    // GQA: K and V project onto 4 of the 16 heads (a quarter of Q's width).
    let cols: Vec<u64> = imp
        .graph
        .ops
        .iter()
        .filter(|o| o.role == OpRole::Column(Block::Attention) && o.layer == Some(0))
        .map(|o| match &o.kind {
            OpKind::Matmul(s) => s.n,
            _ => 0,
        })
        .collect();
    assert_eq!(cols, vec![1024, 256, 256]);
    // Rotary embedding and the SiLU gate run on the slice.
    assert!(count(&imp, OpRole::Sliced(Block::Attention), Some(0)) >= 12);
    assert!(count(&imp, OpRole::Sliced(Block::Mlp), Some(0)) >= 3);
}

/// Renames every node and tensor to an opaque or misleading name.
fn rename(bytes: &[u8]) -> Vec<u8> {
    let mut m = ModelProto::decode(bytes).unwrap();
    let g = m.graph.as_mut().unwrap();
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    fn fresh(s: &mut String, map: &mut BTreeMap<String, String>) {
        if s.is_empty() {
            return;
        }
        let n = map.len();
        // Misleading on purpose: rules that read names would misfire here.
        let names = [
            "lm_head",
            "attn.q_proj",
            "mlp.down_proj",
            "embed_tokens",
            "ln_f",
        ];
        let v = map
            .entry(s.clone())
            .or_insert_with(|| format!("{}_{n}", names[n % names.len()]));
        *s = v.clone();
    }
    for t in &mut g.initializer {
        fresh(&mut t.name, &mut map);
    }
    for v in g.input.iter_mut().chain(g.output.iter_mut()) {
        fresh(&mut v.name, &mut map);
    }
    let total = g.node.len();
    for (i, n) in g.node.iter_mut().enumerate() {
        for t in n.input.iter_mut().chain(n.output.iter_mut()) {
            fresh(t, &mut map);
        }
        n.name = format!("{}", total - i);
    }
    m.encode_to_vec()
}

#[test]
fn roles_do_not_depend_on_names() {
    for (file, dims) in [
        ("gpt2_medium_prefill.onnx", &[][..]),
        ("llama_gqa_kv.onnx", GPT2_KV_DIMS),
        ("gpt2_medium_kv.onnx", GPT2_KV_DIMS),
    ] {
        let bytes = std::fs::read(data(file)).unwrap();
        let a = import_bytes(file, &bytes, &opts(dims)).unwrap();
        let b = import_bytes(file, &rename(&bytes), &opts(dims)).unwrap();
        let roles = |i: &Import| -> Vec<(OpRole, Option<u32>)> {
            i.graph.ops.iter().map(|o| (o.role, o.layer)).collect()
        };
        assert!(roles(&a).iter().any(|(r, _)| *r == OpRole::LmHead));
        assert_eq!(roles(&a), roles(&b), "{file}");
    }
}

#[test]
fn fixtures_are_small_and_weightless() {
    for f in [
        "gpt2_medium_prefill.onnx",
        "gpt2_medium_kv.onnx",
        "llama_gqa_kv.onnx",
    ] {
        let len = std::fs::metadata(data(f)).unwrap().len();
        assert!(len < 2 << 20, "{f}: {len} bytes");
    }
}

#[test]
fn minilm_bert_encoder_gets_three_layers() {
    let Some(dir) = shared() else { return };
    let imp = shared_model(&dir, "minilm_l3_paraphrase_fp32.onnx");
    let e = Expect {
        layers: 3,
        col_attn: 3,
        col_mlp: 1,
        kv: 0,
        vocab: Some(30522),
        lm_head: false,
        head_projs: 0,
    };
    check_transformer("minilm_l3", &imp, &e);
}

#[test]
fn fused_ort_gpt2_gets_what_its_structure_allows() {
    let Some(dir) = shared() else { return };
    let imp = shared_model(&dir, "ort_genai_tiny_gpt2_past_fused.onnx");
    // The packed QKV GEMM inside com.microsoft Attention is the column projection, the
    // fused attention op (with its cache append) is Heads; SkipLayerNormalization's add
    // is the residual.
    let e = Expect {
        layers: 5,
        col_attn: 1,
        col_mlp: 1,
        kv: 0,
        vocab: Some(1000),
        lm_head: true,
        head_projs: 0,
    };
    check_transformer("ort_tiny_gpt2_fused", &imp, &e);
    for l in 0..5 {
        assert_eq!(count(&imp, OpRole::Heads(Block::Attention), Some(l)), 1);
        assert_eq!(count(&imp, OpRole::Sliced(Block::Mlp), Some(l)), 1); // FastGelu
    }
}

#[test]
fn whisper_qdq_encoder_gets_four_layers() {
    let Some(dir) = shared() else { return };
    let imp = shared_model(&dir, "smart_turn_v3_whisper_encoder_qdq.onnx");
    let e = Expect {
        layers: 4,
        col_attn: 3,
        col_mlp: 1,
        kv: 0,
        vocab: None,
        lm_head: false,
        // Attention pooling (two projections around a Tanh) and a three-layer classifier.
        head_projs: 5,
    };
    check_transformer("whisper_qdq", &imp, &e);
}

#[test]
fn cnn_and_rnn_models_stay_replicated() {
    let Some(dir) = shared() else { return };
    let transformers = [
        "minilm_l3_paraphrase_fp32.onnx",
        "ort_genai_tiny_gpt2_past_fused.onnx",
        "smart_turn_v3_whisper_encoder_qdq.onnx",
    ];
    let mut seen = 0;
    for e in common::manifest(&dir) {
        if transformers.contains(&e.file.as_str()) {
            continue;
        }
        let imp = shared_model(&dir, &e.file);
        for op in &imp.graph.ops {
            assert!(
                op.role == OpRole::Replicated && op.layer.is_none(),
                "{}: {} is {} in layer {:?}",
                e.file,
                op.name,
                op.role.label(),
                op.layer
            );
        }
        seen += 1;
    }
    assert!(seen >= 9, "{seen} CNN/RNN models");
}
