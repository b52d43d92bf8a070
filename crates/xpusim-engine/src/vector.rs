//! Ops on vector units and memory: elementwise, norms, softmax, reductions, gathers, data
//! movement, selective scans, unknown operators; and collectives.

use xpusim_hw::DeviceSpec;
use xpusim_ir::{Op, Role};

use crate::contraction::level_traffic;
use crate::cost::{Bound, OpCost};

/// `max(vector FLOPs / vector rate, bytes / bandwidth of the level they live in) + launch`.
///
/// Activations a previous op just wrote stay in a write-back chip-level cache (GPU L2,
/// NPU global buffer) when they fit in half of it, so small activation tensors are served
/// at that level's bandwidth; weights, KV cache and large activations stream from off-chip.
pub fn cost(op: &Op, dev: &DeviceSpec) -> OpCost {
    let compute = op.vector_flops() as f64 / dev.vector_flops(op.compute_dtype);
    let act: u64 = op
        .operands
        .iter()
        .filter(|o| matches!(o.role, Role::Input | Role::Output))
        .map(|o| o.bytes())
        .sum();
    let resident: u64 = op
        .operands
        .iter()
        .filter(|o| matches!(o.role, Role::Weight | Role::KvCache))
        .map(|o| o.bytes())
        .sum();
    let off = dev.offchip();
    let mut traffic = Vec::new();
    match dev.chip_buffer() {
        Some(cb) if act <= cb.capacity_bytes / 2 => {
            traffic.push(level_traffic(dev, &cb.name, act));
            traffic.push(level_traffic(dev, &off.name, resident));
        }
        _ => traffic.push(level_traffic(dev, &off.name, act + resident)),
    }
    let overhead = dev.overhead.launch_us * 1e-6 + off.latency_ns * 1e-9;
    OpCost::new(compute, traffic, overhead, "vector".into())
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
