//! Mapper behaviour: presets load, objectives are honoured, capacities are enforced and a
//! scratchpad too small for the smallest legal tile is a clear error.

use xpusim_ir::{DType, Op, Phase, Precision};
use xpusim_npu::{map_graph, map_problem, MapperError, NpuArch, Objective, Problem};

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

/// The device presets with an `[array]` section (they replaced the `-like` descriptions).
const ARRAY_DEVICES: [&str; 5] = [
    "tpu-v4",
    "rebellions-atom",
    "furiosa-rngd",
    "eyeriss",
    "npu-systolic",
];

fn device_toml(name: &str) -> String {
    let path = format!(
        "{}/../xpusim-hw/presets/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_array_device_converts_with_a_positive_area_and_leakage() {
    let mut listed = xpusim_npu::array_devices();
    listed.sort();
    let mut want = ARRAY_DEVICES.to_vec();
    want.sort();
    assert_eq!(listed, want);
    for name in ARRAY_DEVICES {
        let a = NpuArch::load(name).expect("device converts");
        assert_eq!(a.name, name);
        let area = a.area(DType::Bf16);
        assert!(area.chip_mm2 > 0.0, "{name}");
        assert!(a.leakage_w() > 0.0, "{name}");
        for i in 0..a.memory.len() {
            let c = a.level_cost(i);
            assert!(c.read_pj_per_byte > 0.0, "{name} level {i}");
            assert!(
                a.memory[i].bandwidth_bytes_per_cycle > 0.0,
                "{name} level {i}"
            );
        }
    }
}

/// The mapper's view of tpu-v4 is what the preset states: 2 TensorCores × 4 MXUs of
/// 128 × 128, 16 MiB VMEM per TensorCore split over its MXUs, the sustained aggregate
/// bandwidths per instance and per cycle of 1.05 GHz, the per-byte energies.
#[test]
fn tpu_v4_gives_the_mapper_the_numbers_its_preset_states() {
    let dev = xpusim_hw::find_preset("tpu-v4").expect("preset");
    let a = NpuArch::from_device(&dev).expect("has an [array]");
    assert_eq!(a.cores, 8, "2 TensorCores x 4 MXUs");
    assert_eq!((a.array.rows, a.array.cols), (128, 128));
    assert_eq!(a.array.dataflows, vec![xpusim_npu::Dataflow::Ws]);
    assert_eq!(a.clock_ghz, 1.05);
    let names: Vec<&str> = a.memory.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["vmem", "cmem", "hbm2"]);
    let close = |x: f64, y: f64| (x / y - 1.0).abs() < 1e-9;
    // VMEM: 16 MiB per TensorCore -> 4 MiB per MXU; 17.2 TB/s x 0.9 over 8 MXUs.
    assert_eq!(a.memory[0].capacity_bytes, 4 << 20);
    assert!(close(
        a.memory[0].bandwidth_bytes_per_cycle,
        17200e9 * 0.9 / 1.05e9 / 8.0
    ));
    // CMEM: one shared 128 MiB instance at 3 TB/s x 0.9.
    assert_eq!(a.memory[1].capacity_bytes, 128 << 20);
    assert!(close(
        a.memory[1].bandwidth_bytes_per_cycle,
        3000e9 * 0.9 / 1.05e9
    ));
    // HBM2: 32 GiB at 1.2 TB/s x 0.9, 31 pJ/B.
    assert_eq!(a.memory[2].capacity_bytes, 32 << 30);
    assert!(close(
        a.memory[2].bandwidth_bytes_per_cycle,
        1200e9 * 0.9 / 1.05e9
    ));
    assert_eq!(a.memory[2].read_pj_per_byte, 31.0);
    assert_eq!(a.memory[0].read_pj_per_byte, 1.5);
    assert_eq!(a.memory[1].write_pj_per_byte, 5.0);
    // Per-array logic leakage: 1600 mW per TensorCore over 4 MXUs.
    assert!(close(a.core_leakage_mw, 400.0));
    assert_eq!(a.mac_pj(DType::Bf16), 0.32);
    assert_eq!(a.array.reg_energy_pj_per_byte, 0.016);
    // Peak: every PE busy every cycle.
    let tflops = (a.cores * a.array.rows * a.array.cols) as f64 * 2.0 * a.clock_ghz * 1e-3;
    assert!((tflops / 275.0 - 1.0).abs() < 0.002, "{tflops}");
}

/// Eyeriss's per-PE spads are its PE registers for the mapper (`register_level`): the
/// mapper tiles at the global buffer and DRAM only.
#[test]
fn eyeriss_spads_become_pe_registers() {
    let a = NpuArch::load("eyeriss").expect("device");
    assert_eq!(a.cores, 1);
    assert_eq!(a.array.reg_bytes_per_pe, 520);
    assert_eq!(a.array.reg_energy_pj_per_byte, 0.5);
    let names: Vec<&str> = a.memory.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["glb", "dram"]);
    assert_eq!(a.memory[0].capacity_bytes, 110_592);
}

#[test]
fn a_device_without_an_array_section_is_named_in_the_error() {
    let e = NpuArch::load("h100-sxm")
        .expect_err("no [array]")
        .to_string();
    assert!(
        e.contains("h100-sxm") && e.contains("[array]") && e.contains("tpu-v4"),
        "{e}"
    );
}

#[test]
fn unknown_and_retired_names_suggest_device_presets() {
    let e = NpuArch::load("tpu-v9").expect_err("unknown").to_string();
    assert!(e.contains("tpu-v9") && e.contains("furiosa-rngd"), "{e}");
    for (old, new) in [
        ("tpu-v4-like", "tpu-v4"),
        ("atom-like", "rebellions-atom"),
        ("rngd-like", "furiosa-rngd"),
        ("eyeriss-like", "eyeriss"),
    ] {
        let e = NpuArch::load(old).expect_err("retired").to_string();
        assert!(e.contains(&format!("did you mean {new}")), "{old}: {e}");
    }
}

#[test]
fn bad_array_values_name_file_line_and_field() {
    let text = device_toml("furiosa-rngd").replace("rows = 128", "rows = 0");
    let e = xpusim_hw::DeviceSpec::from_toml("x.toml", &text)
        .expect_err("invalid")
        .to_string();
    assert!(e.contains("x.toml:") && e.contains("array.rows"), "{e}");
    let text = device_toml("furiosa-rngd").replace("rows = 128", "rowz = 128");
    let e = xpusim_hw::DeviceSpec::from_toml("y.toml", &text)
        .expect_err("invalid")
        .to_string();
    assert!(e.contains("y.toml") && e.contains("rowz"), "{e}");
}

#[test]
fn objectives_trade_latency_for_energy() {
    let arch = NpuArch::load("rebellions-atom").expect("preset");
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
    for name in ARRAY_DEVICES {
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
    let text =
        device_toml("furiosa-rngd").replace("capacity_bytes = 33554432", "capacity_bytes = 4096");
    let dev = xpusim_hw::DeviceSpec::from_toml("tiny.toml", &text).expect("valid");
    let arch = NpuArch::from_device(&dev).expect("has an [array]");
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
    let arch = NpuArch::load("tpu-v4").expect("preset");
    let g = resnet50();
    let p = xpusim_npu::map_pipelined(&g, &arch, Objective::Latency).expect("maps");
    assert!(!p.stages.is_empty() && p.stages.len() as u64 <= arch.cores);
    assert_eq!(p.stages.iter().map(|s| s.ops).sum::<usize>(), p.ops.len());
    assert!(p.interval_cycles <= p.fill_latency_cycles);
    assert!(p.samples_per_s > 0.0 && p.energy_per_sample_j > 0.0);
    // Slowest stage is at least the total work spread evenly over the cores.
    assert!(p.interval_cycles * arch.cores >= p.fill_latency_cycles);
}
