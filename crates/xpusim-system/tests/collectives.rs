//! Collective invariants: monotone in bytes, never slower with more bandwidth, free for one
//! device, and topology effects (mesh groups use only their own links).

use proptest::prelude::*;
use std::sync::OnceLock;
use xpusim_ir::CollectiveKind;

use xpusim_system::{collective, find_system, SystemSpec};

/// Every preset's spec, parsed once for all property cases.
fn specs() -> &'static [SystemSpec] {
    static S: OnceLock<Vec<SystemSpec>> = OnceLock::new();
    S.get_or_init(|| {
        xpusim_hw::registry::systems()
            .unwrap()
            .into_iter()
            .map(|s| s.spec)
            .collect()
    })
}

const KINDS: [CollectiveKind; 4] = [
    CollectiveKind::AllReduce,
    CollectiveKind::AllGather,
    CollectiveKind::ReduceScatter,
    CollectiveKind::AllToAll,
];

fn groups(count: u64) -> Vec<u64> {
    [1, 2, 4, 8, 16, 32]
        .into_iter()
        .filter(|g| *g <= count)
        .collect()
}

// `sys_i` is taken modulo the number of presets, so its range covers every system preset.
proptest! {
    #[test]
    fn monotone_in_bytes(sys_i in 0usize..64, k in 0usize..4, gi in 0usize..4, a in 1u64..1u64 << 34, b in 1u64..1u64 << 34) {
        let all = specs();
        let sys = &all[sys_i % all.len()];
        let gs = groups(sys.count);
        let g = gs[gi % gs.len()];
        let (lo, hi) = (a.min(b), a.max(b));
        let t_lo = collective(sys, KINDS[k], lo, g).unwrap().time_s;
        let t_hi = collective(sys, KINDS[k], hi, g).unwrap().time_s;
        prop_assert!(t_lo <= t_hi, "{} {:?} g={g}: {lo} B {t_lo} s > {hi} B {t_hi} s", sys.name, KINDS[k]);
    }

    #[test]
    fn more_bandwidth_never_slower(sys_i in 0usize..64, k in 0usize..4, gi in 0usize..4, bytes in 1u64..1u64 << 34, up in 1.0f64..8.0, out in 1.0f64..8.0) {
        let all = specs();
        let sys = all[sys_i % all.len()].clone();
        let gs = groups(sys.count);
        let g = gs[gi % gs.len()];
        let mut fast = sys.clone();
        if let Some(u) = fast.scale_up.as_mut() { u.bandwidth_gbps *= up; }
        if let Some(o) = fast.scale_out.as_mut() { o.bandwidth_gbps *= out; }
        let t = collective(&sys, KINDS[k], bytes, g).unwrap().time_s;
        let tf = collective(&fast, KINDS[k], bytes, g).unwrap().time_s;
        prop_assert!(tf <= t * (1.0 + 1e-12), "{} {:?}: {tf} > {t}", sys.name, KINDS[k]);
    }
}

#[test]
fn one_device_is_free_and_ring_matches_formula() {
    let s = find_system("dgx-a100").unwrap().spec;
    assert_eq!(
        collective(&s, CollectiveKind::AllReduce, 1 << 20, 1)
            .unwrap()
            .time_s,
        0.0
    );
    // Ring all-reduce of 400 MB over 4 GPUs: 2·3/4 of the buffer at 300 GB/s × 0.78, with
    // NCCL's Simple protocol latencies (8.4 µs + 6 steps × 3.4 µs).
    let bytes = 400_000_000u64;
    let c = collective(&s, CollectiveKind::AllReduce, bytes, 4).unwrap();
    let bw = 300e9 * 0.78;
    let expect = 1.5 * bytes as f64 / bw + (8.4 + 6.0 * 3.4) * 1e-6;
    assert!((c.time_s - expect).abs() < 1e-9, "{} vs {expect}", c.time_s);
    assert!(c.algorithm.ends_with("Simple"), "{}", c.algorithm);
    // 64 KB: the low-latency protocol wins despite its quarter bandwidth.
    let small = collective(&s, CollectiveKind::AllReduce, 1 << 16, 4).unwrap();
    let expect = 1.5 * 65536.0 / (bw * 0.25) + (3.6 + 6.0 * 0.47) * 1e-6;
    assert!(
        (small.time_s - expect).abs() < 1e-12,
        "{} vs {expect}",
        small.time_s
    );
    assert!(small.algorithm.ends_with("LL"), "{}", small.algorithm);
}

#[test]
fn mesh_pairs_use_one_link_switch_pairs_use_the_port() {
    // MI300X: a pair talks over one 64 GB/s link; eight devices over seven at once.
    let Ok(m) = find_system("mi300x-8") else {
        eprintln!("skipped: mi300x device preset not available");
        return;
    };
    let s = 1u64 << 30;
    let t2 = collective(&m.spec, CollectiveKind::AllReduce, s, 2)
        .unwrap()
        .time_s;
    let t8 = collective(&m.spec, CollectiveKind::AllReduce, s, 8)
        .unwrap()
        .time_s;
    assert!(
        t2 > 2.0 * t8,
        "pair {t2} s should be far slower than 8-way {t8} s on a mesh"
    );
}

#[test]
fn multi_node_needs_whole_nodes() {
    let mut s = find_system("dgx-h100").unwrap().spec;
    s.count = 32;
    assert!(collective(&s, CollectiveKind::AllReduce, 1 << 20, 12).is_err());
    let small = collective(&s, CollectiveKind::AllReduce, 1 << 10, 32).unwrap();
    let large = collective(&s, CollectiveKind::AllReduce, 1 << 32, 32).unwrap();
    assert!(small.algorithm.contains("tree"), "{}", small.algorithm);
    assert!(large.algorithm.contains("ring"), "{}", large.algorithm);
}

#[test]
fn torus_rings_per_dimension() {
    let Ok(sys) = find_system("tpu-v5e-8") else {
        eprintln!("skipped: tpu-v5e device preset not available");
        return;
    };
    let mut s = sys.spec;
    let bytes = 1u64 << 30;
    // 4 chips: one ring along the 4-long dimension at one 50 GB/s link (no wraparound).
    let c4 = collective(&s, CollectiveKind::AllReduce, bytes, 4).unwrap();
    assert!(c4.algorithm.contains("[4]"), "{}", c4.algorithm);
    let bw = 50e9;
    let expect_bw = 1.5 * bytes as f64 / bw;
    assert!((c4.time_s - c4.latency_s - expect_bw).abs() < 1e-9 * expect_bw);
    // 8 chips: reduce-scatter along 4, then along 2 on a quarter of the buffer.
    let c8 = collective(&s, CollectiveKind::AllReduce, bytes, 8).unwrap();
    let expect8 = expect_bw + 1.0 * (bytes as f64 / 4.0) / bw;
    assert!((c8.time_s - c8.latency_s - expect8).abs() < 1e-9 * expect8);
    // Wraparound links double the ring bandwidth of the 4-long dimension.
    if let Some(u) = s.scale_up.as_mut() {
        u.wraparound = true;
    }
    let w4 = collective(&s, CollectiveKind::AllReduce, bytes, 4).unwrap();
    assert!((w4.time_s - w4.latency_s - expect_bw / 2.0).abs() < 1e-9 * expect_bw);
}

/// Data-parallel groups: inside a node a strided group costs what a consecutive one does;
/// across nodes it is monotone in bytes and group size, never slower with more network
/// bandwidth, and bounded below by the bytes over one device's NIC share.
#[test]
fn spread_groups_run_hierarchically_across_nodes() {
    use xpusim_system::collective_spread;
    let mut s = find_system("dgx-h100").unwrap().spec;
    s.count = 64 * s.devices_per_node;
    let (ar, bytes) = (CollectiveKind::AllReduce, 1u64 << 30);
    assert_eq!(
        collective_spread(&s, ar, bytes, 4, 2).unwrap().time_s,
        collective(&s, ar, bytes, 4).unwrap().time_s
    );
    let t = |g: u64, stride: u64, b: u64, sys: &SystemSpec| {
        collective_spread(sys, ar, b, g, stride).unwrap().time_s
    };
    assert!(t(64, 8, bytes, &s) > t(32, 8, bytes, &s));
    assert!(t(64, 8, bytes, &s) > t(64, 8, bytes / 2, &s));
    let mut fast = s.clone();
    if let Some(o) = fast.scale_out.as_mut() {
        o.bandwidth_gbps *= 2.0;
    }
    assert!(t(64, 8, bytes, &fast) < t(64, 8, bytes, &s));
    // One member per node: each device drives its own NIC share of the node's bandwidth.
    let out = s.scale_out.as_ref().unwrap();
    let share = out.bandwidth_gbps * 1e9 * out.bus_efficiency.unwrap_or(1.0) / 8.0;
    let floor = 2.0 * 63.0 / 64.0 * bytes as f64 / share;
    assert!(
        t(64, 8, bytes, &s) >= floor * 0.999,
        "{} vs {floor}",
        t(64, 8, bytes, &s)
    );
    assert_eq!(t(1, 8, bytes, &s), 0.0);
    assert!(collective_spread(&s, ar, bytes, 128, 8).is_err());
}

/// GB200 NVL72: 72 GPUs in one NVLink domain. A 64-GPU all-reduce there is one ring over
/// the NVLink switch (NCCL's formula on the preset's own numbers); the same 64 GPUs as DGX
/// H100 nodes of 8, or as the same Blackwell GPUs in nodes of 8 with the rack's one NIC per
/// GPU, cross InfiniBand and are slower once the buffer is bandwidth-bound.
///
/// Below that the model favours the nodes of 8: a ring of 64 on one switch pays 126 hops of
/// NCCL's NVLink latency, while 8 nodes run NCCL's double binary tree (a chain of 7 in the
/// node and 3 network hops each way). NVLink SHARP (NVLS), NCCL's in-switch all-reduce for
/// such domains, is not modelled, so the crossover found here is an artefact of the model,
/// not a property of the rack (the model has NVL72 ahead at 4-8 MiB, behind at 16-64 MiB,
/// level at 128 MiB and ahead from 256 MiB); the test pins that NVL72 is ahead for every
/// size from 256 MiB.
#[test]
fn nvl72_keeps_a_64_gpu_all_reduce_on_nvlink() {
    let nvl = find_system("gb200-nvl72").unwrap().spec;
    let up = nvl.scale_up.clone().unwrap();
    let net = nvl.scale_out.clone().unwrap();
    let mut h100 = find_system("dgx-h100").unwrap().spec;
    h100.count = 64;
    let h100_net = h100.scale_out.as_ref().unwrap().name.clone();
    // The same GPUs and NVLink, but a scale-up domain of 8 and 8 NICs per node.
    let mut eights = nvl.clone();
    eights.devices_per_node = 8;
    if let Some(o) = eights.scale_out.as_mut() {
        o.bandwidth_gbps = net.bandwidth_gbps / nvl.devices_per_node as f64 * 8.0;
    }
    let ar = CollectiveKind::AllReduce;
    let g = 64u64;
    let gf = g as f64;
    let mut nvl_wins = Vec::new();
    for bytes in (16..=34).map(|e| 1u64 << e) {
        let s = bytes as f64;
        let c = collective(&nvl, ar, bytes, g).unwrap();
        assert!(
            c.algorithm.contains(&up.name) && !c.algorithm.contains(&net.name),
            "{}",
            c.algorithm
        );
        // Ring: 2(g−1)/g of the buffer over one 900 GB/s port (at NCCL's bus efficiency),
        // 2(g−1) hops, in the faster protocol.
        let bus_bps = up.bandwidth_gbps * 1e9 * up.bus_efficiency.unwrap_or(1.0);
        let expect = up
            .protocols
            .iter()
            .map(|p| {
                (p.base_latency_us + 2.0 * (gf - 1.0) * p.latency_us) * 1e-6
                    + 2.0 * (gf - 1.0) / gf * s / (bus_bps * p.bandwidth_fraction)
            })
            .fold(f64::INFINITY, f64::min);
        assert!(
            (c.time_s - expect).abs() <= 1e-9 * expect,
            "{bytes} B: {} s vs {expect} s",
            c.time_s
        );
        let h = collective(&h100, ar, bytes, g).unwrap();
        assert!(h.algorithm.contains(&h100_net), "{}", h.algorithm);
        let e = collective(&eights, ar, bytes, g).unwrap();
        assert!(e.algorithm.contains(&net.name), "{}", e.algorithm);
        // Same GPUs: the InfiniBand nodes and the H100 nodes agree on who wins, except where
        // NVL72 is within a few percent of either (the crossover).
        let close = |x: f64| (c.time_s / x - 1.0).abs() < 0.03;
        if !close(h.time_s) && !close(e.time_s) {
            assert_eq!(c.time_s < h.time_s, c.time_s < e.time_s, "{bytes} B");
        }
        nvl_wins.push((bytes, c.time_s < h.time_s));
        // Large buffers: the NVLink port (900 GB/s at NCCL's bus efficiency) against a node's
        // NIC share of the ring (400 GB/s for 8 GPUs): the ratio of the two bandwidths.
        if bytes >= 1 << 32 {
            let ratio = e.time_s / c.time_s;
            let per_node = net.bandwidth_gbps / nvl.devices_per_node as f64 * 8.0;
            let bw_ratio = up.bandwidth_gbps * up.bus_efficiency.unwrap_or(1.0) / per_node;
            assert!(
                (ratio / bw_ratio - 1.0).abs() < 0.05,
                "{ratio} vs {bw_ratio}"
            );
        }
    }
    // From some size on NVL72 always wins; the model's last loss is below 256 MiB.
    let last_loss = nvl_wins.iter().rev().find(|w| !w.1).map_or(0, |w| w.0);
    assert!(
        last_loss < 1 << 28,
        "NVL72 slower at {last_loss} B: {nvl_wins:?}"
    );
}

/// Two racks: a 72-GPU group stays in its rack's NVLink domain, a 144-GPU group crosses
/// the racks' NICs, and a data-parallel pair one rack apart gets one NIC's share each.
#[test]
fn nvl72_racks_cross_scale_out_only_beyond_72() {
    use xpusim_system::collective_spread;
    let mut s = find_system("gb200-nvl72").unwrap().spec;
    s.count = 2 * s.devices_per_node;
    let (up, net) = (
        s.scale_up.clone().unwrap().name,
        s.scale_out.clone().unwrap(),
    );
    let (ar, bytes) = (CollectiveKind::AllReduce, 1u64 << 30);
    let in_rack = collective(&s, ar, bytes, 72).unwrap();
    assert!(in_rack.algorithm.contains(&up), "{}", in_rack.algorithm);
    let both = collective(&s, ar, bytes, 144).unwrap();
    assert!(both.algorithm.contains(&net.name), "{}", both.algorithm);
    assert!(both.time_s > in_rack.time_s);
    // dp = 2 across the racks (stride 72), one member per rack: a ring of 2 moves
    // 2(2−1)/2 = 1 buffer over each GPU's own NIC (the rack's bandwidth / 72).
    let pair = collective_spread(&s, ar, bytes, 2, 72).unwrap();
    let share = net.bandwidth_gbps * 1e9 / s.devices_per_node as f64;
    let floor = bytes as f64 / share;
    assert!(pair.time_s >= floor * 0.999, "{} vs {floor}", pair.time_s);
    assert!(pair.algorithm.contains(&net.name), "{}", pair.algorithm);
}
