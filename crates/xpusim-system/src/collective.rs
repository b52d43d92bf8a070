//! Collectives that know the topology: `time = α₀ + α·steps + bytes_on_the_busiest_link / β`.
//!
//! `bytes` is always the full buffer of one device (NCCL's convention: the all-reduce
//! buffer, the all-gather *output*, the reduce-scatter *input*, the all-to-all send buffer).
//! A group of `g` devices occupies consecutive ranks (tensor parallelism innermost, as in
//! Megatron-LM), so a group of at most `devices_per_node` stays inside one node.
//!
//! Algorithms (Thakur, Rabenseifner & Gropp, "Optimization of collective communication
//! operations in MPICH", IJHPCA 2005; NCCL's own cost model, NVIDIA/nccl
//! `src/graph/tuning.cc`, whose structure — base latency + steps × per-hop latency +
//! bytes / bus bandwidth — is followed here):
//! - **switch** (NVSwitch): ring over the per-device port bandwidth: all-reduce moves
//!   `2(g−1)/g·S` in `2(g−1)` steps, all-gather / reduce-scatter half of that, all-to-all
//!   `(g−1)/g·S` in one step (all peers at once through the switch).
//! - **mesh** (Infinity Fabric, one link per peer): the direct algorithm sends `S/g` to every
//!   peer at once over its own link (one step per phase), or a ring over single links;
//!   the faster is taken. A group of `g` uses only `g−1` of a device's links, so small groups
//!   see a fraction of the node's bandwidth.
//! - **torus** (TPU ICI): rings along each dimension the group spans, reduce-scatter
//!   dimension by dimension on a shrinking buffer then all-gather back; a dimension with
//!   wraparound runs two counter-rotating rings (2× link bandwidth), one without runs a
//!   ring folded onto the line (1×). All-to-all is bounded by the dimension's bisection.
//! - **across nodes**: NCCL's ring (one ring per NIC, each crossing every node boundary once,
//!   so a node moves the ring's bytes over all its NICs together) or NCCL's double binary tree (Sanders, Speck & Träff 2009; NCCL 2.4): chain in
//!   the node, `2·log2(N)` network hops, `2S` over the node's NICs. As NCCL does, the faster
//!   algorithm for the size is chosen: the tree for small buffers over many nodes, rings for
//!   large buffers.
//!
//! `β` is the link bandwidth times the system's cited `bus_efficiency` (1 when absent).

use serde::Serialize;
use xpusim_ir::CollectiveKind;

use crate::SystemError;
use xpusim_hw::{ScaleUp, SystemSpec, TopologyKind};

/// Time of one collective and how it was run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectiveCost {
    pub time_s: f64,
    /// Latency part (α terms) of `time_s`.
    pub latency_s: f64,
    /// Bytes one device sends over the links (for link energy).
    pub wire_bytes: f64,
    pub algorithm: String,
}

impl CollectiveCost {
    fn new(lat_s: f64, wire_bytes: f64, bw_bps: f64, algorithm: String) -> CollectiveCost {
        CollectiveCost {
            time_s: lat_s + wire_bytes / bw_bps,
            latency_s: lat_s,
            wire_bytes,
            algorithm,
        }
    }

    fn none() -> CollectiveCost {
        CollectiveCost {
            time_s: 0.0,
            latency_s: 0.0,
            wire_bytes: 0.0,
            algorithm: "single device: no communication".into(),
        }
    }
}

fn us(v: f64) -> f64 {
    v * 1e-6
}

/// (bytes fraction of S, latency steps) of a ring over `g` members.
fn ring_shape(kind: CollectiveKind, g: f64) -> (f64, f64) {
    match kind {
        CollectiveKind::AllReduce => (2.0 * (g - 1.0) / g, 2.0 * (g - 1.0)),
        CollectiveKind::AllGather | CollectiveKind::ReduceScatter => ((g - 1.0) / g, g - 1.0),
        CollectiveKind::AllToAll => ((g - 1.0) / g, 1.0),
    }
}

/// Latencies and bandwidth share of one transfer protocol (NCCL's LL / LL128 / Simple).
#[derive(Debug, Clone, PartialEq)]
struct Proto {
    name: String,
    base_s: f64,
    /// Base latency of a collective that crosses nodes.
    net_base_s: f64,
    hop_s: f64,
    net_hop_s: f64,
    /// Scale-up bandwidth per device (switch) or per link (mesh, torus), B/s.
    bw_up: f64,
    /// Scale-out bandwidth per node, B/s.
    b_node: f64,
}

/// The protocols the system lists, or one implied by the top-level latencies.
fn protocols(sys: &SystemSpec) -> Vec<Proto> {
    let net = sys.scale_out.as_ref();
    let b_node = net
        .map(|n| n.bandwidth_gbps * 1e9 * n.bus_efficiency.unwrap_or(1.0))
        .unwrap_or(0.0);
    let net_hop = net.map(|n| n.latency_us).unwrap_or(0.0);
    let net_base = net.map(|n| n.base_latency_us).unwrap_or(0.0);
    // One device per node: no scale-up hop, and no scale-up port to limit a transfer.
    let Some(su) = &sys.scale_up else {
        return vec![Proto {
            name: String::new(),
            base_s: us(net_base),
            net_base_s: us(net_base),
            hop_s: 0.0,
            net_hop_s: us(net_hop),
            bw_up: f64::INFINITY,
            b_node,
        }];
    };
    if su.protocols.is_empty() {
        return vec![Proto {
            name: String::new(),
            base_s: us(su.base_latency_us),
            net_base_s: us(su.base_latency_us.max(net_base)),
            hop_s: us(su.latency_us),
            net_hop_s: us(net_hop),
            bw_up: up_bw(sys),
            b_node,
        }];
    }
    su.protocols
        .iter()
        .map(|p| Proto {
            name: format!(", {}", p.name),
            base_s: us(p.base_latency_us),
            net_base_s: us(p.base_latency_us),
            hop_s: us(p.latency_us),
            net_hop_s: us(p.net_latency_us.unwrap_or(net_hop)),
            bw_up: up_bw(sys) * p.bandwidth_fraction,
            b_node: b_node * p.bandwidth_fraction,
        })
        .collect()
}

/// Cost of `kind` over `group` consecutive devices with `bytes` per device: the fastest
/// (algorithm, protocol) pair, as NCCL's tuner picks it.
pub fn collective(
    sys: &SystemSpec,
    kind: CollectiveKind,
    bytes: u64,
    group: u64,
) -> Result<CollectiveCost, SystemError> {
    let mut best: Option<CollectiveCost> = None;
    for p in protocols(sys) {
        let mut c = with_protocol(sys, kind, bytes, group, &p)?;
        c.algorithm.push_str(&p.name);
        if best.as_ref().is_none_or(|b| c.time_s < b.time_s) {
            best = Some(c);
        }
    }
    Ok(best.unwrap_or_else(CollectiveCost::none))
}

fn with_protocol(
    sys: &SystemSpec,
    kind: CollectiveKind,
    bytes: u64,
    group: u64,
    p: &Proto,
) -> Result<CollectiveCost, SystemError> {
    if group <= 1 || bytes == 0 {
        return Ok(CollectiveCost::none());
    }
    if group > sys.count {
        return Err(SystemError::Layout {
            layout: format!("group of {group}"),
            msg: format!("{} has only {} devices", sys.name, sys.count),
        });
    }
    let s = bytes as f64;
    let dpn = sys.devices_per_node;
    if group <= dpn {
        return Ok(intra(sys, kind, s, group, p));
    }
    if !group.is_multiple_of(dpn) {
        return Err(SystemError::Layout {
            layout: format!("group of {group}"),
            msg: format!("a collective spanning nodes must cover whole nodes of {dpn} devices"),
        });
    }
    let Some(net) = &sys.scale_out else {
        return Err(SystemError::Layout {
            layout: format!("group of {group}"),
            msg: format!("{} has no scale-out network", sys.name),
        });
    };
    let nodes = (group / dpn) as f64;
    let d = dpn as f64;
    let (b_node, base, hop_n, hop, b_up) = (p.b_node, p.net_base_s, p.net_hop_s, p.hop_s, p.bw_up);
    Ok(match kind {
        CollectiveKind::AllReduce => {
            // NCCL's ring across nodes: d channels, each a ring through all g GPUs that
            // crosses each node boundary once, so every GPU moves 2(g−1)/g·S over its
            // scale-up port and every node 2(g−1)/g·S over its NICs.
            let g = group as f64;
            let (f, steps) = ring_shape(kind, g);
            let inter_steps = 2.0 * (nodes - 1.0);
            let ring = CollectiveCost::new(
                base + (steps - inter_steps) * hop + inter_steps * hop_n,
                f * s,
                b_node.min(b_up),
                format!("ring over {group} devices, {nodes} nodes ({})", net.name),
            );
            // Double binary tree: chain inside the node, log2(N) network hops each way.
            let tree_lat = base + 2.0 * ((d - 1.0) * hop + nodes.log2().ceil() * hop_n);
            let tree = CollectiveCost::new(
                tree_lat,
                2.0 * s,
                b_node.min(b_up),
                format!("double binary tree over {} nodes ({})", nodes, net.name),
            );
            if tree.time_s < ring.time_s {
                tree
            } else {
                ring
            }
        }
        CollectiveKind::AllGather | CollectiveKind::ReduceScatter => {
            let g = group as f64;
            let (f, _) = ring_shape(kind, g);
            let steps = (d - 1.0) * nodes;
            let lat = base + steps * hop + (nodes - 1.0) * hop_n;
            // Each of the d channels carries S/d across the node boundary at b_node/d.
            CollectiveCost::new(
                lat,
                f * s,
                b_node.min(b_up),
                format!("ring over {group} devices, {nodes} nodes ({})", net.name),
            )
        }
        CollectiveKind::AllToAll => {
            let g = group as f64;
            // The off-node part (g−d)/g·S of every GPU leaves through its NIC share b_node/d.
            let off = (g - d) / g * s;
            let on = (d - 1.0) / g * s;
            let t_off = CollectiveCost::new(base + hop_n, off, b_node / d, net.name.clone());
            let t_on = on / b_up;
            let mut c = t_off;
            c.time_s = c.time_s.max(c.latency_s + t_on);
            c.wire_bytes += on;
            c.algorithm = format!("direct all-to-all over {nodes} nodes ({})", net.name);
            c
        }
    })
}

/// Effective per-device (switch) or per-link (mesh, torus) bandwidth of the scale-up links.
fn up_bw(sys: &SystemSpec) -> f64 {
    match &sys.scale_up {
        Some(su) => su.bandwidth_gbps * 1e9 * su.bus_efficiency.unwrap_or(1.0),
        None => f64::INFINITY,
    }
}

/// A collective inside one node over `g` consecutive devices.
fn intra(sys: &SystemSpec, kind: CollectiveKind, s: f64, g: u64, p: &Proto) -> CollectiveCost {
    // Validation requires a scale-up domain for nodes of more than one device.
    let Some(su) = &sys.scale_up else {
        return CollectiveCost::none();
    };
    let (base, hop, bw) = (p.base_s, p.hop_s, p.bw_up);
    let gf = g as f64;
    let (f, steps) = ring_shape(kind, gf);
    let shape = if kind == CollectiveKind::AllToAll {
        "direct all-to-all"
    } else {
        "ring"
    };
    let ring = CollectiveCost::new(
        base + steps * hop,
        f * s,
        bw,
        format!("{shape} over {g} ({})", su.name),
    );
    match su.kind {
        TopologyKind::Switch => ring,
        TopologyKind::Mesh => {
            // Direct: one phase (two for all-reduce), each sending S/g to g−1 peers at once.
            let phases = if kind == CollectiveKind::AllReduce {
                2.0
            } else {
                1.0
            };
            let direct = CollectiveCost::new(
                base + phases * hop,
                f * s,
                bw * (gf - 1.0),
                format!("direct over {} links ({})", g - 1, su.name),
            );
            if direct.time_s < ring.time_s {
                direct
            } else {
                ring
            }
        }
        TopologyKind::Torus => torus(sys, kind, s, g, p).unwrap_or(ring),
    }
}

/// Sizes of the torus dimensions a group of `g` consecutive ranks spans (last dimension
/// varies fastest), or None when `g` does not factor onto them.
fn span(dims: &[u64], g: u64) -> Option<Vec<u64>> {
    let mut rem = g;
    let mut out = Vec::new();
    for &k in dims.iter().rev() {
        if rem == 1 {
            break;
        }
        let s = gcd(rem, k);
        if s != k && s != rem {
            return None;
        }
        if s > 1 {
            out.push(s);
        }
        rem /= s;
    }
    (rem == 1).then_some(out)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn torus(
    sys: &SystemSpec,
    kind: CollectiveKind,
    s: f64,
    g: u64,
    p: &Proto,
) -> Option<CollectiveCost> {
    let su = sys.scale_up.as_ref()?;
    let used = span(&su.dims, g)?;
    let link = p.bw_up;
    let mut c = CollectiveCost {
        time_s: p.base_s,
        latency_s: p.base_s,
        wire_bytes: 0.0,
        algorithm: format!("rings along torus dims {:?} ({})", used, su.name),
    };
    let mut buf = s;
    for &k in &used {
        let kf = k as f64;
        let rings = if su.wraparound && k > 2 { 2.0 } else { 1.0 };
        let (mut f, steps) = ring_shape(kind, kf);
        if kind == CollectiveKind::AllToAll {
            // Bisection bound: (k/2)² messages of buf/k cross the middle link(s).
            f = f.max(kf / (4.0 * rings));
            f *= rings;
        }
        let lat = steps * p.hop_s;
        c.time_s += lat + f * buf / (link * rings);
        c.latency_s += lat;
        c.wire_bytes += f * buf;
        // Reduce-scatter shrinks the buffer before the next dimension; all-gather grows it
        // back in reverse at the same cost, which the all-reduce shape already counts.
        if matches!(
            kind,
            CollectiveKind::AllReduce | CollectiveKind::ReduceScatter
        ) {
            buf /= kf;
        }
    }
    Some(c)
}

/// A collective over `group` devices `stride` ranks apart — a data-parallel group, whose
/// members sit in different tensor/pipeline blocks — while every other such group runs the
/// same collective at once (all devices of a node take part, each in its own group).
///
/// Members in one node (`group · stride ≤ devices_per_node`) use the scale-up fabric as a
/// consecutive group would (exact on a switch; an approximation on a mesh or torus, where a
/// strided group uses other links). Across nodes it runs hierarchically, as NCCL does for
/// groups spanning nodes with several members per node: reduce-scatter among the `k`
/// members of a node, a ring across the `N` nodes on `S/k`, all-gather back in the node.
/// Each device's share of its node's scale-out bandwidth is `b_node / devices_per_node`,
/// since every device of the node is in some group at once (rail-optimised clusters give
/// each GPU its own NIC: DGX H100 8 × 400 Gb/s).
pub fn collective_spread(
    sys: &SystemSpec,
    kind: CollectiveKind,
    bytes: u64,
    group: u64,
    stride: u64,
) -> Result<CollectiveCost, SystemError> {
    let dpn = sys.devices_per_node.max(1);
    if group <= 1 || bytes == 0 {
        return Ok(CollectiveCost::none());
    }
    if stride <= 1 || group.saturating_mul(stride) <= dpn {
        return collective(sys, kind, bytes, group);
    }
    let layout = |msg: String| SystemError::Layout {
        layout: format!("group of {group} devices {stride} apart"),
        msg,
    };
    if group.saturating_mul(stride) > sys.count {
        return Err(layout(format!(
            "{} has only {} devices",
            sys.name, sys.count
        )));
    }
    let Some(net) = &sys.scale_out else {
        return Err(layout(format!("{} has no scale-out network", sys.name)));
    };
    // Members per node, and nodes the group spans.
    let k = (dpn / stride).clamp(1, group);
    let nodes = group.div_ceil(k);
    let s = bytes as f64;
    let mut best: Option<CollectiveCost> = None;
    for p in protocols(sys) {
        let share = p.b_node / dpn as f64;
        let (f, steps) = ring_shape(kind, nodes as f64);
        let inter_bytes = match kind {
            // All-to-all: every member exchanges (g − k)/g of its buffer off the node.
            CollectiveKind::AllToAll => s * (group - k) as f64 / group as f64,
            _ => f * s / k as f64,
        };
        let mut c = CollectiveCost::new(
            p.net_base_s + steps * p.net_hop_s,
            inter_bytes,
            share,
            format!(
                "hierarchical over {nodes} nodes × {k} ({}{})",
                net.name, p.name
            ),
        );
        if k > 1 && kind != CollectiveKind::AllToAll {
            // Reduce-scatter in the node before, all-gather after (all-reduce); one of them
            // for reduce-scatter / all-gather.
            let phases = if kind == CollectiveKind::AllReduce {
                2.0
            } else {
                1.0
            };
            let intra_kind = CollectiveKind::ReduceScatter;
            let i = with_protocol(sys, intra_kind, bytes, k, &p)?;
            c.time_s += phases * i.time_s;
            c.latency_s += phases * i.latency_s;
            c.wire_bytes += phases * i.wire_bytes;
        }
        if best.as_ref().is_none_or(|b| c.time_s < b.time_s) {
            best = Some(c);
        }
    }
    Ok(best.unwrap_or_else(CollectiveCost::none))
}

/// One device sending `bytes` to the device `distance` ranks away (pipeline stages).
pub fn send(sys: &SystemSpec, bytes: u64, distance: u64) -> CollectiveCost {
    if bytes == 0 || distance == 0 {
        return CollectiveCost::none();
    }
    let s = bytes as f64;
    let up = |su: &ScaleUp| {
        CollectiveCost::new(
            us(su.base_latency_us + su.latency_us),
            s,
            up_bw(sys),
            format!("send over {}", su.name),
        )
    };
    if let Some(su) = sys
        .scale_up
        .as_ref()
        .filter(|_| distance < sys.devices_per_node)
    {
        return up(su);
    }
    match &sys.scale_out {
        Some(net) => CollectiveCost::new(
            us(net.base_latency_us + net.latency_us),
            s,
            net.bandwidth_gbps * 1e9 * net.bus_efficiency.unwrap_or(1.0)
                / sys.devices_per_node as f64,
            format!("send over {}", net.name),
        ),
        None => match &sys.scale_up {
            Some(su) => up(su),
            // One device and no network: nothing to send to.
            None => CollectiveCost::none(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_factors_groups_onto_dims() {
        assert_eq!(span(&[2, 4], 4), Some(vec![4]));
        assert_eq!(span(&[2, 4], 8), Some(vec![4, 2]));
        assert_eq!(span(&[2, 4], 2), Some(vec![2]));
        assert_eq!(span(&[4, 4], 8), Some(vec![4, 2]));
        assert_eq!(span(&[2, 3], 4), None);
    }
}
