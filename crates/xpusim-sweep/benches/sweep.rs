//! Sweep speed. Target: 10 000 points over the era suite in < 1 min on 2 cores, i.e.
//! ≤ 12 ms of one core per point (13 workloads → < 0.9 ms per (model, device)).
//! `point_era_suite` times one point on one thread; `run_64_points` a whole run (parallel
//! evaluation, journal appends, results, Parquet, Pareto) per point.

use std::path::Path;

use xpusim_sweep::{run, Evaluator, RunOptions, SweepSpec};

fn main() {
    divan::main();
}

const SPEC: &str = r#"
base = "h100-sxm"
scaling = "physical"
[[axis]]
path = "cores"
values = [66, 99, 132, 165]
[[axis]]
path = "memory[2].bandwidth_gbps"
from = 2000
to = 8000
steps = 4
[[axis]]
path = "memory[1].capacity_bytes"
values = [25165824, 52428800, 104857600, 209715200]
"#;

fn spec() -> SweepSpec {
    SweepSpec::parse("bench.toml", SPEC, Path::new(".")).expect("bench spec parses")
}

#[divan::bench(sample_count = 20)]
fn point_era_suite(bencher: divan::Bencher) {
    let s = spec();
    let ev = Evaluator::new(&s).expect("evaluator");
    let mut i = 0u64;
    bencher.bench_local(|| {
        i = (i + 1) % s.points();
        divan::black_box(ev.eval(i))
    });
}

#[divan::bench(sample_count = 3)]
fn run_64_points(bencher: divan::Bencher) {
    let s = spec();
    bencher
        .counter(divan::counter::ItemsCount::new(s.points()))
        .bench_local(|| {
            let dir =
                std::env::temp_dir().join(format!("xpusim-sweep-bench-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let r = run(&s, &RunOptions::new(&dir)).expect("sweep runs");
            assert!(r.finished && r.failed_points == 0);
            std::fs::remove_dir_all(&dir).ok();
        });
}
