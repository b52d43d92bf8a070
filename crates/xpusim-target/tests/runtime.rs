//! A runtime profile around the kernels (`--runtime`): the host's kernel issue overlaps the
//! device and shows only where kernels are shorter than their issue; a replayed graph is
//! issued once; an engine step adds its host work; idle devices burn static power meanwhile.

use xpusim_hw::{load_runtime, RuntimeSpec};
use xpusim_ir::{Graph, Phase};
use xpusim_models::{build, Workload};
use xpusim_target::{evaluate, runtime::kernels, ModelCost, Target};

fn run(g: &Graph, hw: &str, rt: Option<RuntimeSpec>) -> ModelCost {
    let mut t = Target::load(hw).unwrap();
    t.runtime = rt;
    evaluate(g, &t).unwrap()
}

fn rt(name: &str) -> Option<RuntimeSpec> {
    Some(load_runtime(name).unwrap())
}

#[test]
fn a_runtime_never_makes_a_pass_faster() {
    for (model, phase, batch) in [
        ("llama-2-7b", Phase::Decode, 1),
        ("llama-2-7b", Phase::Prefill, 4),
        ("bert-base", Phase::Inference, 1),
        ("resnet-50", Phase::Inference, 8),
    ] {
        let g = build(model, &Workload::new(phase, batch, 128, 128)).unwrap();
        for hw in ["a100-80gb", "h100-sxm", "dgx-h100"] {
            let bare = run(&g, hw, None);
            assert!(bare.runtime.is_none());
            for name in ["pytorch-eager", "cuda-graphs", "sarathi-vllm"] {
                let c = run(&g, hw, rt(name));
                let r = c.runtime.as_ref().unwrap();
                assert!(c.latency_s >= bare.latency_s, "{model} {hw} {name}");
                // What the runtime adds is exactly its report's exposed issue and step work
                // (one device, one micro-batch).
                let added = c.latency_s - bare.latency_s;
                assert!(
                    (added - r.added_s()).abs() <= 1e-9 * c.latency_s,
                    "{model} {hw} {name}: {added} vs {}",
                    r.added_s()
                );
                assert!(
                    r.exposed_issue_s <= r.issue_s + 1e-15,
                    "{model} {hw} {name}"
                );
            }
        }
    }
}

#[test]
fn short_kernels_wait_for_eager_issue_and_graphs_remove_it() {
    // BERT-base at batch 1 on an H100: every kernel is a few µs, far below 13 µs of issue.
    let g = build("bert-base", &Workload::new(Phase::Inference, 1, 128, 0)).unwrap();
    let bare = run(&g, "h100-sxm", None);
    let eager = run(&g, "h100-sxm", rt("pytorch-eager"));
    let graphs = run(&g, "h100-sxm", rt("cuda-graphs"));
    let r = eager.runtime.as_ref().unwrap();
    let kernels_in_graph: u64 = g.ops.iter().map(|o| kernels(o) * o.repeat).sum();
    assert_eq!(r.kernels, kernels_in_graph);
    assert!((r.issue_s - kernels_in_graph as f64 * 13.35e-6).abs() < 1e-12);
    // Host-bound: the pass takes the issue time plus what the last kernel still runs.
    assert!(
        eager.latency_s >= r.issue_s,
        "{} < {}",
        eager.latency_s,
        r.issue_s
    );
    assert!(eager.latency_s > 1.5 * bare.latency_s);
    assert!(graphs.latency_s < eager.latency_s);
    let gr = graphs.runtime.as_ref().unwrap();
    assert!(gr.graph && gr.kernels == 1);
    assert!((graphs.latency_s - bare.latency_s - 13.35e-6).abs() < 1e-9);
    // Waiting devices burn static power: more energy, all of it static.
    let more = eager.energy_j - bare.energy_j;
    let more_idle = eager.energy_breakdown.idle_j - bare.energy_breakdown.idle_j;
    assert!(more > 0.0 && (more - more_idle).abs() < 1e-9 * eager.energy_j);
}

#[test]
fn the_engine_step_adds_its_line_per_sequence() {
    let sarathi = rt("sarathi-vllm").unwrap();
    let step = sarathi.step.unwrap();
    for batch in [1, 8, 64] {
        let g = build("llama-2-7b", &Workload::new(Phase::Decode, batch, 1, 512)).unwrap();
        let c = run(&g, "a100-80gb", Some(sarathi.clone()));
        let want = (step.fixed_us + step.per_sequence_us * batch as f64) * 1e-6;
        assert!(
            (c.runtime.unwrap().step_s - want).abs() < 1e-12,
            "batch {batch}"
        );
    }
    // Tensor parallelism uses the profile's tensor-parallel line.
    let g = build("llama-2-7b", &Workload::new(Phase::Decode, 8, 1, 512)).unwrap();
    let mut t = Target::load("dgx-a100").unwrap();
    t.layout = xpusim_target::Layout::Fixed(xpusim_target::Parallelism::tp(2));
    t.runtime = Some(sarathi.clone());
    let c = evaluate(&g, &t).unwrap();
    let tp = step.tensor_parallel.unwrap();
    let want = (tp.fixed_us + tp.per_sequence_us * 8.0) * 1e-6;
    assert!((c.runtime.unwrap().step_s - want).abs() < 1e-12);
}

#[test]
fn a_profile_from_a_file_is_checked_like_a_preset() {
    let dir = std::env::temp_dir().join(format!("xpusim-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.toml");
    std::fs::write(
        &p,
        "name = \"mine\"\ndescription = \"d\"\nkernel_issue_us = 5\ngraphs = \"decode\"\n\
         [sources]\nkernel_issue_us = \"measured\"\n",
    )
    .unwrap();
    let e = load_runtime(p.to_str().unwrap()).unwrap_err().to_string();
    assert!(
        e.contains("bad.toml") && e.contains("graph_launch_us"),
        "{e}"
    );
}

/// A stack whose decode kernel runs one query head per thread block slows a grouped-query
/// model's decode step (its query heads each read the cache) and leaves its prefill, and a
/// model without grouping, where both kernels read the same bytes, nearly alone; the
/// profile models no host issue, so it adds no host time either.
#[test]
fn a_per_query_head_decode_kernel_slows_grouped_query_decode_only() {
    let rt = rt("tensorrt-llm-mmha");
    for (model, grouped) in [("llama-2-70b", true), ("llama-2-7b", false)] {
        for phase in [Phase::Decode, Phase::Prefill] {
            let g = build(model, &Workload::new(phase, 64, 512, 2048)).unwrap();
            let bare = run(&g, "h200", None);
            let c = run(&g, "h200", rt.clone());
            assert_eq!(c.runtime.as_ref().unwrap().added_s(), 0.0, "{model}");
            let ratio = c.latency_s / bare.latency_s;
            if grouped && phase == Phase::Decode {
                assert!(ratio > 1.2, "{model} {phase:?}: {ratio}");
            } else {
                assert!((ratio - 1.0).abs() < 0.02, "{model} {phase:?}: {ratio}");
            }
        }
    }
}

#[test]
fn a_profile_that_replays_graphs_must_price_host_issue() {
    let src = "name = \"x\"\ndescription = \"d\"\ngraphs = \"all\"\ngraph_launch_us = 5\n\
               [sources]\ngraphs = \"s\"\n";
    let e = RuntimeSpec::from_toml("x.toml", src)
        .unwrap_err()
        .to_string();
    assert!(e.contains("x.toml") && e.contains("kernel_issue_us"), "{e}");
}

/// TensorRT's fusions (`fuse_gemm_epilogues`) take BERT's GELU and residual-add kernels off
/// an inference pass: it is the fused graph replayed as `cuda-graphs` replays the unfused
/// one (the profiles differ in nothing else), faster, with 37 fewer kernels (per layer the
/// GELU and two residual adds, and the pooler's tanh) and the same FLOPs.
#[test]
fn tensorrt_runs_the_pointwise_ops_in_the_gemm_epilogues() {
    let g = build("bert-base", &Workload::new(Phase::Inference, 8, 128, 0)).unwrap();
    let graphs = run(&g, "a100-80gb", rt("cuda-graphs"));
    let trt = run(&g, "a100-80gb", rt("tensorrt"));
    let mut fused = g.clone();
    fused.fuse_matmul_epilogues();
    let count = |g: &Graph| g.ops.iter().map(|o| kernels(o) * o.repeat).sum::<u64>();
    assert_eq!(count(&g) - count(&fused), 3 * 12 + 1);
    let by_hand = run(&fused, "a100-80gb", rt("cuda-graphs"));
    assert!((trt.latency_s - by_hand.latency_s).abs() <= 1e-12 * trt.latency_s);
    assert!(trt.latency_s < graphs.latency_s);
    assert_eq!(trt.flops, graphs.flops);
    // The graph given is not rewritten in place.
    assert!(g.ops.iter().all(|o| !o.epilogue));
}
