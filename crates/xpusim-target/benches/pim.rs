//! Speed of the PIM model: one GPT-3 175B decode step on DGX-A100 + AttAcc (per-op
//! placement over the tensor-parallel graph).

use xpusim_hw::{find_system, PimPlacement};
use xpusim_ir::{DType, Phase, Precision};
use xpusim_models::{build, Workload};
use xpusim_target::{evaluate, Layout, Parallelism, Target};

fn main() {
    divan::main();
}

#[divan::bench]
fn gpt3_decode_step_auto(b: divan::Bencher) {
    let sys = find_system("dgx-a100-attacc").expect("preset");
    let w = Workload {
        phase: Phase::Decode,
        batch: 64,
        seq_len: 1,
        context: 2047,
        precision: Precision::uniform(DType::Fp16),
        image_size: None,
    };
    let g = build("gpt3-175b", &w).expect("zoo model");
    let mut t = Target::system(sys);
    t.layout = Layout::Fixed(Parallelism::tp(8));
    t.pim_placement = Some(PimPlacement::Auto);
    b.bench(|| evaluate(divan::black_box(&g), &t).expect("evaluates"));
}
