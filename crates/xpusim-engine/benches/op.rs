//! One op on each kind of device: a GPU (H100, MI300X), a TPU, a systolic NPU priced by the
//! analytical engine, an SRAM-only chip (Groq) and a CPU host. The ops are real layers of
//! zoo models: Llama-2-7B prefill's first projection GEMM and its fused attention,
//! ResNet-50's first convolution and Llama-2-7B's first normalisation. `*_unmemoised`
//! turns the tile-search memo off, so its gap to the plain bench is what a sweep over rates
//! saves per contraction.

use xpusim_engine::{cost_op, tile_memo};
use xpusim_hw::find_preset;
use xpusim_ir::{Op, OpKind, Phase};

fn main() {
    divan::main();
}

const DEVICES: [&str; 6] = [
    "h100-sxm",
    "mi300x",
    "tpu-v5p",
    "furiosa-rngd",
    "groq-lpu",
    "host-cpu",
];

/// The first op of `model` (in `phase`) whose kind `pick` accepts.
fn op(model: &str, phase: Phase, pick: fn(&OpKind) -> bool) -> Op {
    let info = xpusim_models::find(model).expect("zoo model");
    let g = xpusim_models::build(info.name, &info.workload(phase)).expect("builds");
    g.ops
        .into_iter()
        .find(|o| pick(&o.kind))
        .expect("the model has such an op")
}

fn bench_op(b: divan::Bencher, dev: &str, o: Op, memo: bool) {
    let d = find_preset(dev).expect("preset");
    tile_memo::set_enabled(memo);
    b.bench_local(|| divan::black_box(cost_op(&o, &d).expect("costs")));
    tile_memo::set_enabled(true);
}

#[divan::bench(args = DEVICES)]
fn matmul(b: divan::Bencher, dev: &str) {
    let o = op("llama-2-7b", Phase::Prefill, |k| {
        matches!(k, OpKind::Matmul(_))
    });
    bench_op(b, dev, o, true);
}

#[divan::bench(args = DEVICES)]
fn matmul_unmemoised(b: divan::Bencher, dev: &str) {
    let o = op("llama-2-7b", Phase::Prefill, |k| {
        matches!(k, OpKind::Matmul(_))
    });
    bench_op(b, dev, o, false);
}

#[divan::bench(args = DEVICES)]
fn conv(b: divan::Bencher, dev: &str) {
    let o = op("resnet-50", Phase::Inference, |k| {
        matches!(k, OpKind::Conv(_))
    });
    bench_op(b, dev, o, true);
}

#[divan::bench(args = DEVICES)]
fn conv_unmemoised(b: divan::Bencher, dev: &str) {
    let o = op("resnet-50", Phase::Inference, |k| {
        matches!(k, OpKind::Conv(_))
    });
    bench_op(b, dev, o, false);
}

#[divan::bench(args = DEVICES)]
fn attention(b: divan::Bencher, dev: &str) {
    let o = op("llama-2-7b", Phase::Prefill, |k| {
        matches!(k, OpKind::Attention(_))
    });
    bench_op(b, dev, o, true);
}

#[divan::bench(args = DEVICES)]
fn norm(b: divan::Bencher, dev: &str) {
    let o = op("llama-2-7b", Phase::Prefill, |k| {
        matches!(k, OpKind::Norm { .. })
    });
    bench_op(b, dev, o, true);
}
