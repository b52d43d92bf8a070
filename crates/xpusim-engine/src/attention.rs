//! Fused attention, costed as a FlashAttention-2/3 kernel (Dao, 2023; Shah et al., 2024).
//!
//! The score matrix never reaches memory. Each work unit owns a block of `Br` query rows of
//! one KV head — the `heads / kv_heads` query heads sharing that KV head are packed into the
//! rows, as GQA-aware decode kernels do — and streams the KV sequence through the core in
//! blocks. When there are fewer units than cores the KV sequence is split across cores
//! (Flash-Decoding). Traffic: Q and O once; K and V once per query block from the chip
//! buffer, and once in total from off-chip memory when the K/V working set of the running
//! units fits in half the chip buffer (otherwise once per query block).

use xpusim_hw::DeviceSpec;
use xpusim_ir::{AttentionSpec, Op};

use crate::contraction::level_traffic;
use crate::cost::OpCost;
use crate::EngineError;

/// Query rows per block; 128 is the block size of FlashAttention-2/3 kernels on
/// A100/H100 (Dao 2023, §3.3).
const BLOCK_ROWS: u64 = 128;
/// KV positions per inner step.
const BLOCK_COLS: u64 = 128;

pub fn cost(op: &Op, a: &AttentionSpec, dev: &DeviceSpec) -> Result<OpCost, EngineError> {
    let [gm, gn, gk] = dev.matrix.tile;
    let group = a.heads / a.kv_heads.max(1);
    let rows = a.q_len * group;
    let br = rows.min(BLOCK_ROWS);
    let q_blocks = rows.div_ceil(br);
    // Average keys per query after causal masking (masked blocks are skipped).
    let kv_eff = a.scored_pairs().div_ceil(a.q_len).max(1);
    let units = a.batch * a.kv_heads * q_blocks;
    let splits = (dev.cores / units.max(1)).clamp(1, kv_eff.div_ceil(BLOCK_COLS));
    let work = units * splits;
    let kv_per_unit = kv_eff.div_ceil(splits);
    let pad = |x: u64, g: u64| x.div_ceil(g) * g;
    // S = Q Kᵀ: (br × d) · (d × kv); O = P V: (br × kv) · (kv × dv).
    let unit_macs = pad(br, gm)
        * (pad(kv_per_unit, gn) * pad(a.head_dim, gk)
            + pad(a.v_head_dim, gn) * pad(kv_per_unit, gk));
    let (rate, _) = dev.matrix_flops(op.compute_dtype);
    let core_rate = rate / 2.0 / dev.cores as f64 * dev.matrix.efficiency;
    let waves = work.div_ceil(dev.cores);
    let matrix_s = waves as f64 * unit_macs as f64 / core_rate;
    // Softmax runs on the vector units; FlashAttention-3 overlaps it with the MMAs.
    let vector_s = op.vector_flops() as f64 / dev.vector_flops(op.compute_dtype);
    let compute = matrix_s.max(vector_s);

    let q = op.operands.first().map_or(0, |o| o.bytes());
    let k = op.operands.get(1).map_or(0, |o| o.bytes());
    let v = op.operands.get(2).map_or(0, |o| o.bytes());
    let o = op.operands.get(3).map_or(0, |o| o.bytes());
    let off = dev.offchip();
    let mut traffic = Vec::new();
    let streamed = q + o + (k + v) * q_blocks;
    let off_bytes = match dev.chip_buffer() {
        Some(cb) => {
            traffic.push(level_traffic(dev, &cb.name, streamed));
            let per_head = (k + v) / (a.batch * a.kv_heads).max(1);
            let live = per_head * (a.batch * a.kv_heads).min(dev.cores);
            if live <= cb.capacity_bytes / 2 {
                q + o + k + v
            } else {
                streamed
            }
        }
        None => streamed,
    };
    traffic.push(level_traffic(dev, &off.name, off_bytes));
    let overhead = dev.overhead.launch_us * 1e-6 + off.latency_ns * 1e-9;
    let mapping = format!(
        "flash: {br} rows x {BLOCK_COLS} kv blocks, {work} units ({splits} kv splits), {waves} waves"
    );
    Ok(OpCost::new(compute, traffic, overhead, mapping))
}
