//! Mapper behaviour: presets load, objectives are honoured, capacities are enforced and a
//! scratchpad too small for the smallest legal tile is a clear error.

use xpusim_ir::{DType, Op, Phase, Precision};
use xpusim_npu::{map_graph, map_problem, MapperError, NpuArch, Objective, Problem, PRESETS};

fn resnet50() -> xpusim_ir::Graph {
    let wl = xpusim_models::Workload {
        phase: Phase::Inference,
        batch: 1,
        seq_len: 1,
        context: 0,
        precision: Precision::uniform(DType::Bf16),
        image_size: None,
    };
    xpusim_models::build("resnet-50", &wl).expect("resnet-50 builds")
}

#[test]
fn every_preset_loads_has_sources_and_a_positive_area() {
    for (name, _) in PRESETS {
        let a = NpuArch::load(name).expect("preset parses");
        assert_eq!(a.name, name);
        assert!(!a.sources.is_empty(), "{name} cites sources");
        let area = a.area(DType::Bf16);
        assert!(area.chip_mm2 > 0.0, "{name}");
        assert!(a.leakage_w() > 0.0, "{name}");
        for i in 0..a.memory.len() {
            let c = a.level_cost(i);
            assert!(c.read_pj_per_byte > 0.0, "{name} level {i}");
        }
    }
}

#[test]
fn unknown_arch_names_the_presets() {
    let e = NpuArch::load("tpu-v9").expect_err("unknown").to_string();
    assert!(e.contains("tpu-v9") && e.contains("rngd-like"), "{e}");
}

#[test]
fn bad_arch_toml_names_the_field() {
    let text = PRESETS[2]
        .1
        .replace("capacity_bytes = 33554432", "capacity_bytes = 0");
    let e = NpuArch::parse(&text, "x.toml")
        .expect_err("invalid")
        .to_string();
    assert!(e.contains("x.toml") && e.contains("capacity_bytes"), "{e}");
    let text = PRESETS[2].1.replace("rows = 128", "rowz = 128");
    let e = NpuArch::parse(&text, "y.toml")
        .expect_err("invalid")
        .to_string();
    assert!(e.contains("y.toml") && e.contains("rowz"), "{e}");
}

#[test]
fn objectives_trade_latency_for_energy() {
    let arch = NpuArch::load("atom-like").expect("preset");
    let g = resnet50();
    let lat = map_graph(&g, &arch, Objective::Latency).expect("maps");
    let en = map_graph(&g, &arch, Objective::Energy).expect("maps");
    let edp = map_graph(&g, &arch, Objective::Edp).expect("maps");
    for ((l, e), d) in lat.ops.iter().zip(&en.ops).zip(&edp.ops) {
        assert!(l.latency_cycles <= e.latency_cycles, "{}", l.op);
        assert!(
            e.energy.total_pj <= l.energy.total_pj * (1.0 + 1e-12),
            "{}",
            l.op
        );
        let p = |m: &xpusim_npu::OpMapping| m.latency_cycles as f64 * m.energy.total_pj;
        assert!(p(d) <= p(l) * (1.0 + 1e-12) && p(d) <= p(e) * (1.0 + 1e-12));
    }
    assert!(lat.latency_s > 0.0 && lat.energy_j > 0.0);
}

#[test]
fn chosen_tiles_fit_double_buffered_and_macs_are_conserved() {
    for (name, _) in PRESETS {
        let arch = NpuArch::load(name).expect("preset");
        let g = resnet50();
        let m = map_graph(&g, &arch, Objective::Edp).expect("maps");
        let macs: u64 = m.ops.iter().map(|o| o.macs * o.repeat).sum();
        assert_eq!(macs, g.totals().macs, "{name}");
        for o in &m.ops {
            assert!(o.utilization <= 1.0 + 1e-9, "{name} {}", o.op);
            for (i, l) in o.levels.iter().enumerate() {
                assert!(
                    l.used_bytes <= arch.memory[i].capacity_bytes,
                    "{name} {}",
                    o.op
                );
            }
        }
    }
}

#[test]
fn a_scratchpad_smaller_than_the_smallest_tile_is_a_clear_error() {
    let text = PRESETS[2]
        .1
        .replace("capacity_bytes = 33554432", "capacity_bytes = 4096");
    let arch = NpuArch::parse(&text, "tiny.toml").expect("valid");
    let op = Op::linear("proj", 512, 512, 512, "w", Precision::uniform(DType::Bf16)).expect("op");
    let pb = &Problem::from_op(&op).expect("problem")[0];
    let e = map_problem(pb, &arch, DType::Bf16, Objective::Latency).expect_err("too small");
    match &e {
        MapperError::TileDoesNotFit {
            op,
            level,
            capacity_bytes,
            need_bytes,
        } => {
            assert_eq!(op, "proj");
            assert_eq!(level, "pe-sram");
            assert_eq!(*capacity_bytes, 4096);
            assert!(*need_bytes > 4096);
        }
        other => panic!("wrong error {other:?}"),
    }
    let s = e.to_string();
    assert!(
        s.contains("proj") && s.contains("pe-sram") && s.contains("4096"),
        "{s}"
    );
}

#[test]
fn layer_pipelines_use_at_most_one_stage_per_core() {
    let arch = NpuArch::load("tpu-v4-like").expect("preset");
    let g = resnet50();
    let p = xpusim_npu::map_pipelined(&g, &arch, Objective::Latency).expect("maps");
    assert!(!p.stages.is_empty() && p.stages.len() as u64 <= arch.cores);
    assert_eq!(p.stages.iter().map(|s| s.ops).sum::<usize>(), p.ops.len());
    assert!(p.interval_cycles <= p.fill_latency_cycles);
    assert!(p.samples_per_s > 0.0 && p.energy_per_sample_j > 0.0);
    // Slowest stage is at least the total work spread evenly over the cores.
    assert!(p.interval_cycles * arch.cores >= p.fill_latency_cycles);
}

/// Peak MAC rate of each preset against the published dense 16-bit peak (TF) it cites.
#[test]
fn preset_peaks_match_their_published_figures_within_three_percent() {
    for (name, published_tflops) in [
        ("tpu-v4-like", 275.0),
        ("rngd-like", 256.0),
        ("atom-like", 32.0),
    ] {
        let a = NpuArch::load(name).expect("preset");
        let tflops = (a.array.rows * a.array.cols * a.cores) as f64 * 2.0 * a.clock_ghz * 1e-3;
        let rel = tflops / published_tflops - 1.0;
        assert!(
            rel.abs() < 0.03,
            "{name}: {tflops:.1} TF vs {published_tflops} TF"
        );
    }
}
