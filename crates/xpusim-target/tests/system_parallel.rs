//! Parallelism invariants: TP = 1 is the single-device engine, TP conserves FLOPs, the
//! memory check names its numbers, system TOML errors name file, line and field.

use xpusim_ir::{Graph, Phase};
use xpusim_models::Workload;
mod common;

use common::{on_device, on_system, sys as sys_of};
use xpusim_hw::{find_system, System};
use xpusim_system::{placements, Parallelism};
use xpusim_target::TargetError;

fn llama(name: &str, phase: Phase, batch: u64) -> Graph {
    let seq = if phase == Phase::Prefill { 512 } else { 1 };
    xpusim_models::build(name, &Workload::new(phase, batch, seq, 1024)).unwrap()
}

#[test]
fn tp1_equals_single_device() {
    let sys = find_system("dgx-h100").unwrap();
    for phase in [Phase::Prefill, Phase::Decode] {
        let g = llama("llama-2-7b", phase, 4);
        let single = on_device(&g, &sys.device).unwrap();
        let c = on_system(&g, &sys, &Parallelism::default(), false).unwrap();
        assert_eq!(c.ops.len(), single.ops.len());
        for (a, b) in c.ops.iter().zip(&single.ops) {
            assert_eq!(a.name, b.name);
            assert!(
                (a.time_s - b.time_s).abs() <= 1e-12 * b.time_s.max(1e-9),
                "{}",
                a.name
            );
            assert_eq!(a.flops, b.flops);
        }
        assert!((c.latency_s - single.latency_s).abs() <= 1e-9 * single.latency_s);
        assert_eq!(sys_of(&c).communication_s, 0.0);
    }
}

#[test]
fn tp_conserves_flops_of_split_ops() {
    let sys = find_system("dgx-h100").unwrap();
    for (model, tp) in [("llama-2-70b", 8), ("llama-2-7b", 4), ("mixtral-8x7b", 8)] {
        for phase in [Phase::Prefill, Phase::Decode] {
            let g = llama(model, phase, 8);
            // The single-device engine: the unsplit model need not fit in one device.
            let one = on_device(&g, &sys.device).unwrap();
            let par = Parallelism::tp(tp);
            let many = on_system(&g, &sys, &par, false).unwrap();
            let place = placements(&g, &par).unwrap();
            let mut split = 0u64;
            for (r, (name, p, shards)) in many.ops.iter().zip(&place) {
                assert_eq!(&r.name, name);
                if *shards > 1 {
                    let orig = one.ops.iter().find(|o| &o.name == name).unwrap();
                    assert_eq!(r.flops * shards, orig.flops, "{model} {name} {p:?}");
                    split += 1;
                }
            }
            assert!(split >= 4, "{model}: only {split} ops split");
            // Two all-reduces per layer (attention and FFN) plus the embedding's.
            let ars: u64 = many
                .ops
                .iter()
                .filter(|o| o.name.ends_with("tp_allreduce"))
                .map(|o| o.repeat)
                .sum();
            let layers = g.ops.iter().map(|o| o.repeat).max().unwrap();
            assert_eq!(ars, 2 * layers + 1, "{model}");
            assert!(sys_of(&many).communication_s > 0.0);
        }
    }
}

#[test]
fn tp_speeds_up_decode_and_splits_memory() {
    let sys = find_system("dgx-h100").unwrap();
    let g = llama("llama-2-70b", Phase::Decode, 8);
    let c8 = on_system(&g, &sys, &Parallelism::tp(8), false).unwrap();
    let c4 = on_system(&g, &sys, &Parallelism::tp(4), false).unwrap();
    assert!(c8.latency_s < c4.latency_s);
    assert!(
        sys_of(&c8).weights_per_device_bytes * 2
            <= sys_of(&c4).weights_per_device_bytes + 10_000_000
    );
    let ov = on_system(&g, &sys, &Parallelism::tp(8), true).unwrap();
    assert!(ov.latency_s <= c8.latency_s && sys_of(&ov).hidden_communication_s > 0.0);
}

#[test]
fn does_not_fit_names_the_numbers() {
    let sys = find_system("dgx-a100").unwrap();
    let g = llama("llama-2-70b", Phase::Decode, 1);
    let e = on_system(&g, &sys, &Parallelism::default(), false).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, TargetError::DoesNotFit { .. }), "{msg}");
    assert!(
        msg.contains("does not fit") && msg.contains("GB") && msg.contains("85.90"),
        "{msg}"
    );
    assert!(msg.contains("weights 13"), "{msg}");
}

#[test]
fn pipeline_bubble_and_layout_errors() {
    let sys = find_system("dgx-h100").unwrap();
    let g = llama("llama-2-70b", Phase::Prefill, 1);
    let par = Parallelism {
        tp: 4,
        pp: 2,
        microbatches: 4,
        ..Default::default()
    };
    let c = on_system(&g, &sys, &par, false).unwrap();
    assert!((sys_of(&c).bubble_fraction - 1.0 / 5.0).abs() < 1e-12);
    assert!(sys_of(&c).pipeline_send_s > 0.0 && c.batch == 4);
    let too_many = Parallelism {
        tp: 8,
        pp: 2,
        ..Default::default()
    };
    let e = on_system(&g, &sys, &too_many, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("16 devices") && e.contains("has 8"), "{e}");
    let no_moe = Parallelism {
        tp: 2,
        ep: 2,
        ..Default::default()
    };
    let e = on_system(&g, &sys, &no_moe, false).unwrap_err().to_string();
    assert!(e.contains("mixture-of-experts"), "{e}");
    let cnn = xpusim_models::build("resnet-50", &Workload::new(Phase::Inference, 1, 1, 0)).unwrap();
    let e = on_system(&cnn, &sys, &Parallelism::tp(2), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("tp = 1"), "{e}");
}

#[test]
fn expert_parallel_adds_all_to_all() {
    let sys = find_system("dgx-h100").unwrap();
    let g = llama("mixtral-8x7b", Phase::Decode, 16);
    let par = Parallelism {
        tp: 8,
        ep: 8,
        ..Default::default()
    };
    let c = on_system(&g, &sys, &par, false).unwrap();
    assert!(c.ops.iter().any(|o| o.name.ends_with("ep_dispatch")));
    assert!(c.ops.iter().any(|o| o.name.ends_with("ep_combine")));
}

#[test]
fn system_toml_errors_name_file_line_field() {
    let src = "name = \"x\"\ndisplay_name = \"X\"\ndevice = \"h100-sxm\"\ncount = 8\ndevices_per_node = 8\n\n[scale_up]\nkind = \"switch\"\nname = \"nv\"\nbandwidth_gbps = -3\nlatency_us = 1\n";
    let e = System::from_toml("bad.toml", src, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("bad.toml:10: field `scale_up.bandwidth_gbps`"),
        "{e}"
    );
    let uncited = src.replace("-3", "300\nbus_efficiency = 0.8");
    let e = System::from_toml("bad.toml", &uncited, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("scale_up.bus_efficiency") && e.contains("citation"),
        "{e}"
    );
    let unknown = src.replace("-3", "300\nspeed = 1");
    let e = System::from_toml("bad.toml", &unknown, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.toml") && e.contains("speed"), "{e}");
    let torus = src
        .replace("\"switch\"", "\"torus\"")
        .replace("-3", "50\ndims = [2, 3]");
    let e = System::from_toml("t.toml", &torus, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("scale_up.dims") && e.contains("(6)"), "{e}");
    let dev = src.replace("h100-sxm", "h100-sxn").replace("-3", "300");
    let e = System::from_toml("d.toml", &dev, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("d.toml") && e.contains("h100-sxm"), "{e}");
}

#[test]
fn every_preset_loads() {
    let names = xpusim_hw::registry::preset_names_of(xpusim_hw::Kind::System);
    assert_eq!(names.len(), xpusim_hw::registry::SYSTEMS.len());
    for n in names {
        let s = find_system(&n).unwrap();
        // Multi-device systems, or one device with PIM attached (npu-neupims).
        assert!(s.spec.count >= 8 || s.pim.is_some(), "{n}");
    }
    let e = find_system("dgx-h10").unwrap_err().to_string();
    assert!(e.contains("did you mean"), "{e}");
}

#[test]
fn data_parallel_adds_throughput_and_idle_power_counts_every_device() {
    let sys = find_system("dgx-h100").unwrap();
    let g = llama("llama-2-7b", Phase::Decode, 8);
    let one = on_system(&g, &sys, &Parallelism::tp(2), false).unwrap();
    let four = Parallelism {
        tp: 2,
        dp: 4,
        ..Default::default()
    };
    let dp = on_system(&g, &sys, &four, false).unwrap();
    assert!((dp.latency_s - one.latency_s).abs() < 1e-12);
    assert!((dp.throughput_per_s / one.throughput_per_s - 4.0).abs() < 1e-9);
    let idle = sys.device.power.idle_w * sys.spec.count as f64 * one.latency_s;
    assert!(one.energy_j > idle, "{} J ≤ idle {idle} J", one.energy_j);
    assert!(dp.energy_j > one.energy_j);
}

#[test]
fn pipeline_stage_holds_its_share_of_the_weights() {
    let sys = find_system("dgx-h100").unwrap();
    let g = llama("llama-2-70b", Phase::Decode, 8);
    let tp8 = on_system(&g, &sys, &Parallelism::tp(8), false).unwrap();
    let pp = Parallelism {
        tp: 4,
        pp: 2,
        ..Default::default()
    };
    let c = on_system(&g, &sys, &pp, false).unwrap();
    // 80 layers over 2 stages at tp 4 hold as much as 80 layers at tp 8, give or take the
    // embedding / head and the replicated norms.
    let (a, b) = (
        sys_of(&c).weights_per_device_bytes as f64,
        sys_of(&tp8).weights_per_device_bytes as f64,
    );
    assert!((a / b - 1.0).abs() < 0.02, "{a} vs {b}");
}

/// Sharding reads roles, never names: renaming every op leaves the per-device graph's
/// work and its collectives unchanged.
#[test]
fn sharding_ignores_op_names() {
    let sys = find_system("dgx-h100").unwrap();
    for model in ["llama-2-70b", "mixtral-8x7b", "mamba-2.8b"] {
        let g = llama(model, Phase::Decode, 8);
        let mut anon = g.clone();
        for (i, op) in anon.ops.iter_mut().enumerate() {
            op.name = format!("op{i}");
        }
        let par = Parallelism::tp(8);
        let a = on_system(&g, &sys, &par, false).unwrap();
        let b = on_system(&anon, &sys, &par, false).unwrap();
        assert_eq!(a.flops, b.flops, "{model}");
        assert_eq!(a.ops.len(), b.ops.len(), "{model}");
        assert!(
            (a.latency_s - b.latency_s).abs() <= 1e-12 * a.latency_s,
            "{model}"
        );
        assert_eq!(
            sys_of(&a).weights_per_device_bytes,
            sys_of(&b).weights_per_device_bytes
        );
    }
}
