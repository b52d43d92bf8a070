//! Sweep speed. Target (issue #17): a 1,000,000-point era-suite sweep in < 10 min on 2 cores,
//! i.e. ≥ 1,700 points/s, ≤ 1.2 ms of one core per point (14 workloads → < 85 µs per
//! (model, device)). `point_era_suite` times one point on one thread as a sweep runs it
//! (the tile-search memo warm: the bench's 64 points share 16 geometries);
//! `point_era_suite_unmemoised` the same with the memo off; `run_64_points` a whole run
//! (parallel evaluation, journal appends, results, Parquet, Pareto) per point.

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

#[divan::bench(sample_count = 20)]
fn point_era_suite_unmemoised(bencher: divan::Bencher) {
    let s = spec();
    let ev = Evaluator::new(&s).expect("evaluator");
    let mut i = 0u64;
    xpusim_engine::tile_memo::set_enabled(false);
    bencher.bench_local(|| {
        i = (i + 1) % s.points();
        divan::black_box(ev.eval(i))
    });
    xpusim_engine::tile_memo::set_enabled(true);
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
