//! Speed of the PIM model: one GPT-3 175B decode step on DGX-A100 + AttAcc (per-op
//! placement over the tensor-parallel graph) and the whole `xpusim attacc` sweep.

use xpusim_ir::{DType, Phase, Precision};
use xpusim_models::{build, Workload};
use xpusim_pim::{attacc, evaluate, find_system, Objective, Placement};

fn main() {
    divan::main();
}

#[divan::bench]
fn gpt3_decode_step_auto(b: divan::Bencher) {
    let sys = find_system("dgx-a100-attacc").unwrap();
    let w = Workload {
        phase: Phase::Decode,
        batch: 64,
        seq_len: 1,
        context: 2047,
        precision: Precision::uniform(DType::Fp16),
        image_size: None,
    };
    let g = build("gpt3-175b", &w).unwrap();
    b.bench(|| evaluate(&g, &sys, Placement::Auto, Objective::Time).unwrap());
}

#[divan::bench(sample_count = 10)]
fn attacc_sweep() {
    attacc::sweep("dgx-a100-attacc", attacc::BATCHES).unwrap();
}
