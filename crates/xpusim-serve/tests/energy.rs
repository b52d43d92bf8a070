//! One energy accounting for `serve` and `run` (issue #15): a serving run's energy is its
//! devices' dynamic energy by part, their static power over the whole makespan and their
//! share of the host's power, each its own line, summing to the total; the host share per
//! device is the one `run --system` charges.

use xpusim_ir::{DType, Precision};
use xpusim_serve::{
    poisson, serve, Report, SchedulerConfig, Slo, StepOptions, TargetStepModel, TokenDist,
};
use xpusim_target::{evaluate, Layout, Parallelism, Target};

fn bf16() -> Precision {
    Precision::uniform(DType::Bf16)
}

fn run(m: &TargetStepModel) -> Report {
    let reqs = poisson(2.0, 100, TokenDist::Fixed(512), TokenDist::Fixed(64), 3).unwrap();
    serve(m, &reqs, &SchedulerConfig::default(), &Slo::default(), None).unwrap()
}

fn assert_sums(r: &Report) {
    let m = &r.metrics;
    let e = &m.energy_breakdown;
    let total = e.total_j();
    assert!(
        (total - m.energy_j).abs() <= 1e-9 * m.energy_j,
        "parts {total} vs energy_j {}",
        m.energy_j
    );
    assert!(e.compute_j > 0.0 && e.idle_j > 0.0, "{e:?}");
    assert!(e.memory_j.values().sum::<f64>() > 0.0, "{e:?}");
    assert!((m.mean_power_w - m.energy_j / m.makespan_s).abs() <= 1e-9 * m.mean_power_w);
}

#[test]
fn a_device_has_no_host_line_and_its_parts_sum() {
    let cfg = xpusim_models::zoo::transformer_config("llama-2-7b").unwrap();
    let dev = xpusim_hw::load_device("h100-sxm").unwrap();
    let m = TargetStepModel::on_device(cfg, dev, StepOptions::new(bf16(), 2048)).unwrap();
    let r = run(&m);
    assert_sums(&r);
    assert_eq!(r.metrics.energy_breakdown.node_j, 0.0);
    // HBM traffic is named after the device's level.
    assert!(r.metrics.energy_breakdown.memory_j.contains_key("hbm3"));
}

#[test]
fn a_system_replica_carries_the_host_share_run_charges() {
    let cfg = xpusim_models::zoo::transformer_config("llama-2-13b").unwrap();
    let m =
        TargetStepModel::load_system(cfg, "dgx-h100", 2, StepOptions::new(bf16(), 2048)).unwrap();
    let r = run(&m);
    assert_sums(&r);
    let sys = xpusim_hw::load_system("dgx-h100").unwrap();
    let t = Target::system(sys.clone());
    // Host power per device-second, from serve ...
    let e = &r.metrics.energy_breakdown;
    let serve_w = e.node_j / r.metrics.makespan_s / 2.0;
    assert!(serve_w > 0.0);
    assert!((serve_w - t.node_overhead_w(1)).abs() <= 1e-9 * serve_w);
    // ... and from run on the same system, one 2-way replica per pair of devices.
    let g = xpusim_models::build(
        "llama-2-13b",
        &xpusim_models::Workload::new(xpusim_ir::Phase::Decode, 8, 1, 512),
    )
    .unwrap();
    let mut t = Target::system(sys);
    t.layout = Layout::Fixed(Parallelism {
        tp: 2,
        dp: 4,
        ..Parallelism::default()
    });
    let c = evaluate(&g, &t).unwrap();
    let run_w = c.energy_breakdown.node_j / c.latency_s / c.devices as f64;
    assert!(
        (run_w - serve_w).abs() <= 1e-9 * run_w,
        "run {run_w} W vs serve {serve_w} W"
    );
}
