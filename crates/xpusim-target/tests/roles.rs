//! Roles, not names, drive parallelism: graphs from every frontend (a torch.onnx dynamo
//! export, a Hugging Face config, the zoo) split every projection over tensor parallelism
//! like the zoo does, and no sharding or placement code matches op names.

use std::path::{Path, PathBuf};

use xpusim_hw::find_system;
use xpusim_ir::{DType, Graph, OpKind, OpRole, Phase};
use xpusim_target::{evaluate, Layout, Parallelism, Target};
use xpusim_workload::Request;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Matmul FLOPs of the projections (column, row, LM head) of the whole model, and of one
/// device of `dgx-h100` at `--tp 8`.
fn projection_flops(g: &Graph) -> (u64, u64) {
    let proj = |r: OpRole| matches!(r, OpRole::Column(_) | OpRole::Row(_) | OpRole::LmHead);
    let total: u64 = g
        .ops
        .iter()
        .filter(|o| matches!(o.kind, OpKind::Matmul(_)) && proj(o.role))
        .map(|o| o.flops() * o.repeat)
        .sum();
    let mut t = Target::system(find_system("dgx-h100").unwrap());
    t.layout = Layout::Fixed(Parallelism::tp(8));
    let c = evaluate(g, &t).unwrap();
    let per_device: u64 = c
        .ops
        .iter()
        .filter(|o| o.kind == "matmul" && proj(o.role))
        .map(|o| o.flops)
        .sum();
    (total, per_device)
}

/// Every weight matmul inside the layer stack is a column or row projection, and the
/// projections split 8 ways: per-device FLOPs = total / 8 within 1 %.
fn splits_eight_ways(label: &str, g: &Graph) {
    let in_stack: Vec<_> = g
        .ops
        .iter()
        .filter(|o| {
            o.layer.is_some()
                && matches!(o.kind, OpKind::Matmul(m) if !m.rhs_batched)
                && o.operands.iter().any(|x| x.role == xpusim_ir::Role::Weight)
        })
        .collect();
    assert!(!in_stack.is_empty(), "{label}: no projections found");
    for o in &in_stack {
        assert!(
            matches!(o.role, OpRole::Column(_) | OpRole::Row(_)),
            "{label}: `{}` is {:?}",
            o.name,
            o.role
        );
    }
    let (total, per_device) = projection_flops(g);
    let ratio = per_device as f64 * 8.0 / total as f64;
    assert!(
        (ratio - 1.0).abs() <= 0.01,
        "{label}: per-device projection FLOPs {per_device} × 8 vs {total} ({ratio})"
    );
}

#[test]
fn a_torch_dynamo_gpt2_splits_every_projection_eight_ways() {
    let onnx = repo().join("crates/xpusim-onnx/tests/data/gpt2_medium_prefill.onnx");
    let g = Request::new(onnx.to_str().unwrap())
        .graph(DType::Bf16)
        .unwrap();
    assert_eq!(g.layer_count(), 24);
    splits_eight_ways("gpt2-medium (dynamo)", &g);
    let kv = repo().join("crates/xpusim-onnx/tests/data/gpt2_medium_kv.onnx");
    let r = Request {
        dims: vec!["batch=8".into(), "past=1024".into(), "total=1025".into()],
        ..Request::new(kv.to_str().unwrap())
    };
    splits_eight_ways(
        "gpt2-medium decode (dynamo)",
        &r.graph(DType::Bf16).unwrap(),
    );
}

#[test]
fn a_hugging_face_llama_config_splits_every_projection_eight_ways() {
    let cfg = repo().join("crates/xpusim-hf/tests/fixtures/llama-2-7b.json");
    for phase in [Phase::Prefill, Phase::Decode] {
        let r = Request {
            phase: Some(phase),
            batch: Some(8),
            ..Request::new(cfg.to_str().unwrap())
        };
        splits_eight_ways(
            &format!("llama-2-7b config {phase:?}"),
            &r.graph(DType::Bf16).unwrap(),
        );
    }
    let zoo = Request {
        phase: Some(Phase::Decode),
        batch: Some(8),
        ..Request::new("llama-2-7b")
    };
    splits_eight_ways("llama-2-7b zoo", &zoo.graph(DType::Bf16).unwrap());
}

/// The crates that shard, place, pipeline, serve and train may read names only as labels: a
/// regression guard over their sources for name matching.
#[test]
fn no_sharding_or_placement_code_matches_op_names() {
    let mut hits = Vec::new();
    for krate in [
        "xpusim-system",
        "xpusim-pim",
        "xpusim-serve",
        "xpusim-target",
        "xpusim-train",
    ] {
        let dir = repo().join("crates").join(krate).join("src");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            for (i, line) in src.lines().enumerate() {
                let l = line.replace(' ', "");
                let on_name = [
                    "name.contains(",
                    "name.starts_with(",
                    "name.ends_with(",
                    "name.strip_suffix(",
                    "name.strip_prefix(",
                    "name==\"",
                    "tail==",
                    "tensor.ends_with(",
                ];
                if on_name.iter().any(|p| l.contains(p)) {
                    hits.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "name matching in sharding/placement code:\n{}",
        hits.join("\n")
    );
}
