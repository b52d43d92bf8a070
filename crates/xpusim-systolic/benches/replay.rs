//! Memory-replay speed on GPT-2 small's six GEMMs (seq 1024, `benches/gpt2_small_gemms.csv`)
//! on a 32x32 output-stationary array, in SCALE-Sim's CALC mode (256 kB SRAMs) and USER mode
//! (64 kB SRAMs, 10 words/cycle), the configs of `shared/scalesim/configs` copied beside this
//! file so the bench needs nothing outside the repository. Issue #17's target: the full
//! SCALE-Sim-exact report of all six layers in < 50 ms on one core. The `*_line_by_line`
//! benches time the reference replay (`simulate_layer_replay`) on the same work for the ratio.

use std::path::PathBuf;

use xpusim_systolic::{
    load_config, load_topology, simulate_layer, simulate_layer_replay, ArrayConfig, Layer,
};

fn main() {
    divan::main();
}

fn bench_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("benches")
        .join(name)
}

fn setup(cfg: &str) -> (ArrayConfig, Vec<Layer>) {
    let cfg = load_config(bench_file(cfg)).expect("bench config parses");
    let layers = load_topology(bench_file("gpt2_small_gemms.csv")).expect("bench topology parses");
    (cfg, layers)
}

const CALC: &str = "32x32_os_CALC_sram256-256-256.cfg";
const USER: &str = "32x32_os_USER10_sram64-64-64.cfg";

fn run(
    bencher: divan::Bencher,
    cfg: &str,
    sim: fn(&ArrayConfig, &Layer) -> xpusim_systolic::LayerReport,
) {
    let (cfg, layers) = setup(cfg);
    bencher.bench_local(|| {
        layers
            .iter()
            .map(|l| sim(&cfg, l).total_cycles)
            .sum::<u64>()
    });
}

/// The six layers' full reports, CALC mode.
#[divan::bench(sample_count = 10)]
fn gpt2_gemms_calc(bencher: divan::Bencher) {
    run(bencher, CALC, simulate_layer);
}

/// The six layers' full reports, USER mode.
#[divan::bench(sample_count = 10)]
fn gpt2_gemms_user(bencher: divan::Bencher) {
    run(bencher, USER, simulate_layer);
}

/// The same, CALC mode, with the line-by-line reference replay (seconds per iteration).
#[divan::bench(sample_count = 3)]
fn gpt2_gemms_calc_line_by_line(bencher: divan::Bencher) {
    run(bencher, CALC, simulate_layer_replay);
}

/// The same, USER mode, with the line-by-line reference replay.
#[divan::bench(sample_count = 3)]
fn gpt2_gemms_user_line_by_line(bencher: divan::Bencher) {
    run(bencher, USER, simulate_layer_replay);
}
