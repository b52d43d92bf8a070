//! Speed of a whole-system evaluation: Llama-2-70B decode on a DGX H100 with TP = 8.

use xpusim_ir::Phase;
use xpusim_models::Workload;
use xpusim_system::{evaluate, find_system, Options, Parallelism};

fn main() {
    divan::main();
}

#[divan::bench]
fn llama2_70b_decode_dgx_h100_tp8(b: divan::Bencher) {
    let sys = find_system("dgx-h100").expect("preset");
    let g = xpusim_models::build("llama-2-70b", &Workload::new(Phase::Decode, 8, 1, 2048))
        .expect("zoo model");
    let par = Parallelism::tp(8);
    b.bench(|| evaluate(divan::black_box(&g), &sys, &par, &Options::default()).expect("fits"));
}
