//! A model on one device through the one seam: FLOPs do not depend on the device, SRAM-only
//! chips run what fits from SRAM, fusion and missing generality show up in the model's time.

use xpusim_engine::cost_op;
use xpusim_engine::fallback::coverage;
use xpusim_hw::{find_preset, DeviceSpec};
use xpusim_ir::{DType, Graph, Phase, Precision};
use xpusim_models::{build, build_unfused, Workload};
use xpusim_target::{evaluate, ModelCost, Target};

fn ev(g: &Graph, d: &DeviceSpec) -> Result<ModelCost, xpusim_target::TargetError> {
    evaluate(g, &Target::device(d.clone()))
}

#[test]
fn model_flops_do_not_depend_on_the_device() {
    use xpusim_models::{build, catalog, Workload};
    let devs: Vec<_> = xpusim_hw::preset_names()
        .iter()
        .map(|n| find_preset(n).unwrap())
        .collect();
    for m in catalog() {
        for &phase in m.phases {
            let w = Workload::new(phase, 2, m.default_seq_len.min(512), 256);
            let g = build(m.name, &w).unwrap();
            let flops: Vec<u64> = devs.iter().map(|d| ev(&g, d).unwrap().flops).collect();
            assert!(
                flops.iter().all(|&f| f == g.totals().flops),
                "{} {phase:?}",
                m.name
            );
        }
    }
}

#[test]
fn sram_only_chips_run_models_that_fit_from_sram() {
    use xpusim_ir::Phase;
    use xpusim_models::{build, Workload};
    let groq = find_preset("groq-lpu").unwrap();
    let p = Precision::uniform(DType::Fp16);
    let small = build(
        "resnet-50",
        &Workload::new(Phase::Inference, 1, 1, 0).with_precision(p),
    )
    .unwrap();
    let c = ev(&small, &groq).unwrap();
    assert!(c.fits_in_memory);
    assert!(c
        .ops
        .iter()
        .all(|o| !o.traffic_bytes.contains_key("host-dram-pcie")));
    assert_eq!(c.memory_capacity_bytes, groq.memory[0].capacity_bytes);
    // A model larger than the SRAM streams from the host over PCIe instead.
    let big = build(
        "llama-2-7b",
        &Workload::new(Phase::Decode, 1, 1, 128).with_precision(p),
    )
    .unwrap();
    let c = ev(&big, &groq).unwrap();
    assert_eq!(c.bound.label(), "memory:host-dram-pcie");
}

#[test]
fn epilogues_cost_no_launch_and_fusion_speeds_a_cnn_up() {
    let dev = find_preset("a100-80gb").unwrap();
    let w = Workload::new(Phase::Inference, 256, 1, 0);
    let fused = build("resnet-50", &w).unwrap();
    for op in fused.ops.iter().filter(|o| o.epilogue) {
        let c = cost_op(op, &dev).unwrap();
        assert_eq!(c.overhead_s, 0.0, "{}", op.name);
        // A BatchNorm or ReLU moves nothing; a residual add reads its other branch.
        let expected = op.operands.iter().map(|o| o.bytes()).sum::<u64>();
        let moved: u64 = c.traffic.iter().map(|t| t.bytes).max().unwrap_or(0);
        assert!(moved <= expected, "{}: {moved} > {expected}", op.name);
    }
    let t_fused = ev(&fused, &dev).unwrap().latency_s;
    let t_plain = ev(&build_unfused("resnet-50", &w).unwrap(), &dev)
        .unwrap()
        .latency_s;
    // The unfused graph writes and re-reads every feature map three or four times.
    assert!(t_plain > 1.5 * t_fused, "{t_plain} vs {t_fused}");
}

#[test]
fn coverage_shows_missing_generality() {
    let asic = find_preset("xformer-asic").unwrap();
    let h100 = find_preset("h100-sxm").unwrap();
    let w = |name: &str| {
        let info = xpusim_models::find(name).unwrap();
        build(
            name,
            &Workload::new(info.phases[0], 1, info.default_seq_len.min(512), 256),
        )
        .unwrap()
    };
    let resnet = w("resnet-50");
    let bert = w("bert-base");
    let cov = coverage(&resnet, &asic);
    assert!(cov.native_flops_frac() < 0.1, "{cov:?}");
    assert!(cov.host_flops_by_family.contains_key("conv"));
    assert_eq!(coverage(&resnet, &h100).native_flops_frac(), 1.0);
    assert_eq!(coverage(&bert, &asic).native_flops_frac(), 1.0);
    // The price shows up in the numbers: ResNet-50 is slower on the ASIC than on an H100
    // although its matrix peak is 1.5x higher.
    let t_asic = ev(&resnet, &asic).unwrap().latency_s;
    let t_h100 = ev(&resnet, &h100).unwrap().latency_s;
    assert!(t_asic > 2.0 * t_h100, "{t_asic} vs {t_h100}");
}

/// A device with an `[array]` section is priced by the NPU mapping search: through the one
/// seam its contractions take exactly the mapping search's own time and dynamic energy.
#[test]
fn an_array_device_gives_the_mapping_search_answer() {
    use xpusim_npu::{map_graph, NpuArch, Objective};
    for name in ["tpu-v4", "furiosa-rngd", "rebellions-atom", "eyeriss"] {
        let dev = find_preset(name).unwrap();
        let w = Workload::new(Phase::Inference, 1, 1, 0)
            .with_precision(Precision::uniform(dev.natural_dtype));
        let g = build("resnet-50", &w).unwrap();
        let arch = NpuArch::from_device(&dev).unwrap();
        let m = map_graph(&g, &arch, Objective::Edp).unwrap();
        let c = ev(&g, &dev).unwrap();
        assert!(
            c.cost_model.starts_with("mapping search"),
            "{}",
            c.cost_model
        );
        let hz = arch.clock_ghz * 1e9;
        let mut checked = 0;
        for mapped in &m.ops {
            let r = c.ops.iter().find(|o| o.name == mapped.op).unwrap();
            let t = (mapped.latency_cycles * mapped.repeat) as f64 / hz;
            assert!(
                (r.time_s - t).abs() <= 1e-9 * t,
                "{name} {}: {} vs {t}",
                r.name,
                r.time_s
            );
            let e = &mapped.energy;
            let dynamic = (e.total_pj - e.leakage_pj) * mapped.repeat as f64 * 1e-12;
            let static_j = dev.power.idle_w * r.time_s;
            assert!(
                (r.energy_j - static_j - dynamic).abs() <= 1e-6 * r.energy_j,
                "{name} {}: {} vs {dynamic} + {static_j}",
                r.name,
                r.energy_j
            );
            checked += 1;
        }
        assert!(checked >= 20, "{name}: {checked} ops");
    }
}

/// The per-op energies (each op's dynamic energy and the device's static power over its
/// time) add up to the pass's energy, whose breakdown by part adds up too, on devices
/// priced by the analytical engine, through host fallback, and by the mapping search.
#[test]
fn op_energies_and_the_breakdown_add_up_to_the_pass() {
    for (model, hw) in [
        ("llama-2-7b", "h100-sxm"),
        ("resnet-50", "xformer-asic"),
        ("mobilenet-v2", "tpu-v4"),
        ("bert-base", "groq-lpu"),
    ] {
        let dev = find_preset(hw).unwrap();
        let w = Workload::new(Phase::Inference, 2, 128, 0)
            .with_precision(Precision::uniform(dev.natural_dtype));
        let info = xpusim_models::find(model).unwrap();
        let w = Workload {
            phase: info.phases[0],
            ..w
        };
        let c = ev(&build(model, &w).unwrap(), &dev).unwrap();
        let ops: f64 = c.ops.iter().map(|o| o.energy_j).sum();
        assert!(
            (ops - c.energy_j).abs() <= 1e-9 * c.energy_j,
            "{model} on {hw}: ops {ops} vs pass {}",
            c.energy_j
        );
        let parts = c.energy_breakdown.total_j();
        assert!(
            (parts - c.energy_j).abs() <= 1e-9 * c.energy_j,
            "{model} on {hw}"
        );
        assert!(c.energy_breakdown.idle_j > 0.0 && c.energy_breakdown.compute_j > 0.0);
    }
}
