//! Placement on xPU + PIM systems through the one seam: which ops go to PIM, host-only
//! equals the host alone, the KV cache moves to PIM, head pipelining hides time.

mod common;

use common::on_system;
use xpusim_hw::{find_system, PimPlacement, System};
use xpusim_ir::{DType, OpKind, Phase, Precision};
use xpusim_models::{build, Workload};
use xpusim_pim::Objective;
use xpusim_target::{evaluate, Layout, ModelCost, Parallelism, Target};

fn gpt3(phase: Phase, batch: u64, seq_len: u64, context: u64) -> xpusim_ir::Graph {
    let w = Workload {
        phase,
        batch,
        seq_len,
        context,
        precision: Precision::uniform(DType::Fp16),
        image_size: None,
    };
    build("gpt3-175b", &w).unwrap()
}

/// GPT-3 on all 8 devices of `sys` with `placement`, whether or not it fits.
fn placed(g: &xpusim_ir::Graph, sys: &System, placement: PimPlacement, o: Objective) -> ModelCost {
    let mut t = Target::system(sys.clone());
    t.layout = Layout::Fixed(Parallelism::tp(8));
    t.pim_placement = Some(placement);
    t.pim_objective = o;
    evaluate(g, &t).unwrap()
}

fn on_pim(o: &xpusim_target::OpReport) -> bool {
    o.pim_fraction.unwrap_or(0.0) >= 1.0
}

#[test]
fn auto_puts_decode_attention_on_pim_at_large_batch_and_context() {
    let sys = find_system("dgx-a100-attacc").unwrap();
    let g = gpt3(Phase::Decode, 64, 1, 2000);
    for objective in [Objective::Time, Objective::Energy] {
        let c = placed(&g, &sys, PimPlacement::Auto, objective);
        let attn: Vec<_> = c.ops.iter().filter(|o| o.kind == "attention").collect();
        assert!(!attn.is_empty());
        assert!(attn.iter().all(|o| on_pim(o)), "{objective:?}");
        // Norms, activations and collectives never leave the host.
        assert!(c
            .ops
            .iter()
            .filter(|o| ["norm", "collective", "elementwise"].contains(&o.kind.as_str()))
            .all(|o| o.pim_fraction.unwrap_or(0.0) == 0.0));
    }
}

#[test]
fn auto_keeps_large_gemms_on_the_host() {
    let sys = find_system("dgx-a100-attacc").unwrap();
    let g = gpt3(Phase::Prefill, 4, 2048, 0);
    let c = placed(&g, &sys, PimPlacement::Auto, Objective::Time);
    let tp = xpusim_system::shard::shard(&g, &Parallelism::tp(8)).unwrap();
    let mut checked = 0;
    for (op, r) in tp.ops.iter().zip(&c.ops) {
        assert_eq!(op.op.name, r.name);
        if let OpKind::Matmul(m) = &op.op.kind {
            if m.batch * m.m >= 1024 && !m.rhs_batched {
                assert!(!on_pim(r), "{} went to PIM", r.name);
                checked += 1;
            }
        }
    }
    assert!(checked >= 4);
}

#[test]
fn host_only_equals_the_gpus_alone() {
    let sys = find_system("dgx-a100-attacc").unwrap();
    let g = gpt3(Phase::Decode, 8, 1, 1024);
    let c = placed(&g, &sys, PimPlacement::HostOnly, Objective::Time);
    let mut alone = sys.clone();
    alone.pim = None;
    let host = on_system(&g, &alone, &Parallelism::tp(8), false).unwrap();
    assert!((c.latency_s - host.latency_s).abs() <= 1e-12 * host.latency_s);
    assert!(c.ops.iter().all(|o| !on_pim(o)));
    assert_eq!(c.pim.as_ref().unwrap().pim_s, 0.0);
}

#[test]
fn attention_on_pim_moves_the_kv_cache_off_the_gpus() {
    let sys = find_system("dgx-a100-attacc").unwrap();
    let g = gpt3(Phase::Decode, 32, 1, 2047);
    let pim = placed(&g, &sys, PimPlacement::AttentionOnPim, Objective::Time);
    let host = placed(&g, &sys, PimPlacement::HostOnly, Objective::Time);
    let pim_bytes = pim.pim.as_ref().unwrap().pim_bytes;
    assert_eq!(
        pim.memory_required_bytes + pim_bytes,
        host.memory_required_bytes
    );
    assert!(pim_bytes > 0 && pim.latency_s < host.latency_s);
}

#[test]
fn head_pipelining_hides_part_of_the_shorter_of_attention_and_projections() {
    let mut sys = find_system("dgx-a100-attacc").unwrap();
    let g = gpt3(Phase::Decode, 64, 1, 2047);
    let on = placed(&g, &sys, PimPlacement::AttentionOnPim, Objective::Time);
    if let Some(p) = sys.pim.as_mut() {
        p.attach.head_pipelining = false;
    }
    let off = placed(&g, &sys, PimPlacement::AttentionOnPim, Objective::Time);
    let (pon, poff) = (on.pim.as_ref().unwrap(), off.pim.as_ref().unwrap());
    assert_eq!(poff.overlap_s, 0.0);
    assert!(pon.overlap_s > 0.0 && pon.overlap_s < pon.pim_s + pon.link_s);
    assert!((off.latency_s - on.latency_s - pon.overlap_s).abs() < 1e-12);
    assert!(on.energy_j < off.energy_j);
}

#[test]
fn inconsistent_systems_are_errors() {
    let src = "name = \"x\"\ndisplay_name = \"x\"\ndevice = \"a100-hbm3\"\ncount = 3\ndevices_per_node = 1\n[pim]\ndevice = \"attacc-bank\"\nmodules = 1\nplacement = \"auto\"\n[pim.link]\nbandwidth_gbps = 1\nlatency_us = 0\nenergy_pj_per_byte = 1\n[scale_out]\nname = \"ib\"\nbandwidth_gbps = 1\nlatency_us = 1\n";
    let e = System::from_toml("s.toml", src, None)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("s.toml:8: field `pim.modules`"), "{e}");
    let no_link = src.replace("count = 3", "count = 1").replace(
        "[pim.link]\nbandwidth_gbps = 1\nlatency_us = 0\nenergy_pj_per_byte = 1\n",
        "",
    );
    let e = System::from_toml("s.toml", &no_link, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("s.toml") && e.contains("link"), "{e}");
    let bad = src.replace("device = \"attacc-bank\"", "device = \"attacc-bnk\"");
    let e = System::from_toml("s.toml", &bad, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("field `pim`") && e.contains("attacc-bank"),
        "{e}"
    );
}

/// A device whose own HBM stacks compute (HBM-PIM beside a GPU): the `[pim]` section of a
/// device file. The link is the memory level itself and what PIM holds stays within the
/// device's capacity.
fn a100_with_hbm_pim(extra: &str) -> String {
    let base = xpusim_hw::registry::DEVICES
        .iter()
        .find(|(f, _)| *f == "a100-80gb.toml")
        .unwrap()
        .1;
    format!(
        "{base}\n[pim]\nmemory = \"hbm2e\"\ndevice = \"hbm-pim-aquabolt\"\nstacks = 5\nplacement = \"attention-on-pim\"\n{extra}"
    )
}

#[test]
fn a_device_with_pim_in_its_own_memory() {
    let src = a100_with_hbm_pim("");
    let dev = xpusim_hw::DeviceSpec::from_toml("a100-pim.toml", &src).unwrap();
    let t = Target::device(dev.clone());
    let pim = t.pim().unwrap();
    assert!(pim.in_device_memory);
    assert_eq!(pim.stacks_per_device, 5);
    let level = dev.offchip();
    assert_eq!(
        pim.attach.link.bandwidth_gbps,
        level.bandwidth_gbps * level.efficiency
    );
    let w =
        Workload::new(Phase::Decode, 8, 1, 2048).with_precision(Precision::uniform(DType::Bf16));
    let g = build("llama-2-7b", &w).unwrap();
    let c = evaluate(&g, &t).unwrap();
    let attn: Vec<_> = c.ops.iter().filter(|o| o.kind == "attention").collect();
    assert!(attn.iter().all(|o| on_pim(o)));
    let plain = evaluate(
        &g,
        &Target::device(xpusim_hw::find_preset("a100-80gb").unwrap()),
    )
    .unwrap();
    // The KV cache moved into PIM stacks that are the device's memory: nothing freed.
    assert_eq!(c.memory_required_bytes, plain.memory_required_bytes);
    let p = c.pim.as_ref().unwrap();
    assert!(p.pim_bytes > 0 && p.pim_capacity_bytes == 5 * 6442450944);
    // A system may not attach PIM modules to such a device as well.
    let bad_level = src.replace("memory = \"hbm2e\"", "memory = \"l2\"");
    let e = xpusim_hw::DeviceSpec::from_toml("a100-pim.toml", &bad_level)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a100-pim.toml:") && e.contains("pim.memory"),
        "{e}"
    );
    let too_many = src.replace("stacks = 5", "stacks = 40");
    let e = xpusim_hw::DeviceSpec::from_toml("a100-pim.toml", &too_many)
        .unwrap_err()
        .to_string();
    assert!(e.contains("pim.stacks") && e.contains("hbm2e"), "{e}");
}
