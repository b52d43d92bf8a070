//! Ops on vector units and memory: elementwise, norms, softmax, reductions, gathers, data
//! movement, selective scans, unknown operators; and collectives.

use xpusim_hw::DeviceSpec;
use xpusim_ir::{Op, Role};

use crate::contraction::level_traffic;
use crate::cost::{Bound, OpCost};

/// `max(vector FLOPs / vector rate, bytes / bandwidth of the level they live in) + launch`.
///
/// Activations a previous op just wrote stay in a write-back chip-level cache (GPU L2,
/// NPU global buffer): all of them while they fit in half of it, none once they fill it,
/// and a linearly falling share in between ([`chip_hit_share`]); the rest, weights, KV
/// cache and weight gradients stream from off-chip.
pub fn cost(op: &Op, dev: &DeviceSpec) -> OpCost {
    let compute = op.vector_flops() as f64 / dev.vector_flops(op.compute_dtype);
    let act: u64 = op
        .operands
        .iter()
        .filter(|o| matches!(o.role, Role::Input | Role::Output))
        .map(|o| o.bytes())
        .sum();
    // Parameters, the KV cache and parameter gradients (written once, parameter-sized,
    // kept for the optimizer) live off-chip.
    let resident: u64 = op
        .operands
        .iter()
        .filter(|o| matches!(o.role, Role::Weight | Role::KvCache | Role::Grad))
        .map(|o| o.bytes())
        .sum();
    let off = dev.offchip();
    let mut traffic = Vec::new();
    // A gather is set by its scattered table reads, not by where its output lands: Vidur's
    // A100 embeddings stream ~0.3 TB/s alike at 4,096 wide (33 MB out, L2-sized) and
    // 8,192 wide (67 MB), so its output is charged off-chip like its table rows.
    let gather = matches!(op.kind, xpusim_ir::OpKind::Embedding { .. });
    let share = match dev.chip_buffer() {
        Some(cb) if !gather => chip_hit_share(act, cb.capacity_bytes),
        _ => 0.0,
    };
    match dev.chip_buffer() {
        Some(cb) if share > 0.0 => {
            // Every activation byte passes the cache; only the misses go off-chip.
            let hit = (act as f64 * share).round() as u64;
            traffic.push(level_traffic(dev, &cb.name, act));
            traffic.push(level_traffic(dev, &off.name, act - hit + resident));
        }
        _ => traffic.push(level_traffic(dev, &off.name, act + resident)),
    }
    // An epilogue runs inside its producer's kernel: no launch, no first-byte wait.
    let (overhead, unit) = if op.epilogue {
        (0.0, "epilogue")
    } else {
        (
            dev.overhead.launch_us * 1e-6 + off.latency_ns * 1e-9,
            "vector",
        )
    };
    OpCost::new(compute, traffic, overhead, unit.into())
}

/// Share of `act_bytes` of activations served from a chip-level cache of `capacity_bytes`:
/// 1 up to half the capacity, falling linearly to 0 at the full capacity. A hard cut at
/// one size would make a 5 % larger tensor 2–3× slower; measured GPU kernels change
/// smoothly there (Vidur, A100 40 MB L2: residual adds of 19 MB and 25 MB stream at 1.9
/// and 2.1–2.5 TB/s, above the 2.04 TB/s HBM peak, so part of the larger one still hits),
/// as set conflicts and the two L2 partitions of A100/H100 make the cache's edge gradual.
pub fn chip_hit_share(act_bytes: u64, capacity_bytes: u64) -> f64 {
    if capacity_bytes == 0 {
        return 0.0;
    }
    let fill = act_bytes as f64 / capacity_bytes as f64;
    (2.0 - 2.0 * fill).clamp(0.0, 1.0)
}

/// Ring collectives over the device's scale-up link (Thakur et al., IJHPCA 2005):
/// all-reduce moves `2(g−1)/g` of the buffer per device in `2(g−1)` latency steps;
/// all-gather and reduce-scatter half of that; all-to-all `(g−1)/g` in one step.
pub fn collective(op: &Op, bytes: u64, group: u64, dev: &DeviceSpec) -> OpCost {
    use xpusim_ir::{CollectiveKind as K, OpKind};
    let OpKind::Collective { kind, .. } = &op.kind else {
        return OpCost::new(0.0, vec![], 0.0, String::new());
    };
    let Some(link) = dev.interconnect.as_ref().filter(|_| group > 1) else {
        return OpCost::new(0.0, vec![], 0.0, "single device: no communication".into());
    };
    let g = group as f64;
    let (frac, steps) = match kind {
        K::AllReduce => (2.0 * (g - 1.0) / g, 2.0 * (g - 1.0)),
        K::AllGather | K::ReduceScatter => ((g - 1.0) / g, g - 1.0),
        K::AllToAll => ((g - 1.0) / g, 1.0),
    };
    let wire = frac * bytes as f64 / (link.bandwidth_gbps * 1e9);
    let mut c = OpCost::new(
        0.0,
        vec![],
        steps * link.latency_us * 1e-6,
        format!("ring over {}", link.name),
    );
    c.compute_s = wire;
    c.finish();
    c.bound = if wire >= c.overhead_s {
        Bound::Network
    } else {
        Bound::Overhead
    };
    c
}

#[cfg(test)]
mod tests {
    use super::chip_hit_share;

    #[test]
    fn cache_share_falls_linearly_from_half_to_full() {
        let c = 40 << 20;
        assert_eq!(chip_hit_share(c / 4, c), 1.0);
        assert_eq!(chip_hit_share(c / 2, c), 1.0);
        assert!((chip_hit_share(3 * c / 4, c) - 0.5).abs() < 1e-9);
        assert_eq!(chip_hit_share(c, c), 0.0);
        assert_eq!(chip_hit_share(2 * c, c), 0.0);
        assert_eq!(chip_hit_share(1, 0), 0.0);
    }
}
