//! Mapping-search speed. Target: a whole ResNet-50 on a two-level-hierarchy NPU
//! (`furiosa-rngd`: per-core scratchpad + HBM) in under 10 ms.

use xpusim_ir::{DType, Phase, Precision};
use xpusim_npu::{map_graph, NpuArch, Objective};

fn main() {
    divan::main();
}

fn model(name: &str) -> xpusim_ir::Graph {
    let wl = xpusim_models::Workload {
        phase: Phase::Inference,
        batch: 1,
        seq_len: 128,
        context: 0,
        precision: Precision::uniform(DType::Bf16),
        image_size: None,
    };
    xpusim_models::build(name, &wl).expect("zoo model builds")
}

#[divan::bench(args = ["furiosa-rngd", "eyeriss", "tpu-v4"])]
fn resnet50(bencher: divan::Bencher, arch: &str) {
    let g = model("resnet-50");
    let a = NpuArch::load(arch).expect("preset");
    bencher.bench(|| map_graph(divan::black_box(&g), &a, Objective::Edp).expect("maps"));
}

#[divan::bench]
fn bert_base_rngd(bencher: divan::Bencher) {
    let g = model("bert-base");
    let a = NpuArch::load("furiosa-rngd").expect("preset");
    bencher.bench(|| map_graph(divan::black_box(&g), &a, Objective::Edp).expect("maps"));
}
