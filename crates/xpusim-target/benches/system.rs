//! Speed of a whole-system evaluation: Llama-2-70B decode on a DGX H100 with TP = 8.

use xpusim_hw::find_system;
use xpusim_ir::Phase;
use xpusim_models::Workload;
use xpusim_target::{evaluate, Layout, Parallelism, Target};

fn main() {
    divan::main();
}

#[divan::bench]
fn llama2_70b_decode_dgx_h100_tp8(b: divan::Bencher) {
    let sys = find_system("dgx-h100").expect("preset");
    let g = xpusim_models::build("llama-2-70b", &Workload::new(Phase::Decode, 8, 1, 2048))
        .expect("zoo model");
    let mut t = Target::system(sys);
    t.layout = Layout::Fixed(Parallelism::tp(8));
    b.bench(|| evaluate(divan::black_box(&g), &t).expect("evaluates"));
}
