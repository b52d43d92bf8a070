//! Fused attention, costed as a FlashAttention-2/3 kernel (Dao, 2023; Shah et al., 2024).
//!
//! The score matrix never reaches memory. Each work unit owns a block of `Br` query rows of
//! one KV head — the `heads / kv_heads` query heads sharing that KV head are packed into the
//! rows, as GQA-aware decode kernels do — and streams the KV sequence through the core in
//! blocks. When there are fewer units than cores the KV sequence is split across cores
//! (Flash-Decoding). Traffic: Q and O once; K and V once per query block from the chip
//! buffer (up to its last query's diagonal under a causal mask), and once in total from
//! off-chip memory when the K/V working set of the running units (the heads whose query
//! blocks run side by side) fits in half the chip buffer (otherwise once per wave the head's
//! query blocks span: the blocks of a wave stream the same keys in step).
//!
//! A decode step a runtime runs one query head per thread block ([`Op::per_query_head`])
//! is priced as that kernel instead ([`cost_per_query_head`]).

use xpusim_hw::DeviceSpec;
use xpusim_ir::{AttentionSpec, DType, Op};

use crate::contraction::level_traffic;
use crate::cost::OpCost;
use crate::EngineError;

/// Query rows per block; 128 is the block size of FlashAttention-2/3 kernels on
/// A100/H100 (Dao 2023, §3.3).
const BLOCK_ROWS: u64 = 128;
/// KV positions per inner step.
const BLOCK_COLS: u64 = 128;

pub fn cost(op: &Op, a: &AttentionSpec, dev: &DeviceSpec) -> Result<OpCost, EngineError> {
    if op.per_query_head {
        return Ok(cost_per_query_head(op, a, dev));
    }
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
    let (rate, used) = dev.matrix_flops(op.compute_dtype);
    let core_rate = rate / 2.0 / dev.cores as f64 * dev.matrix.efficiency_for(used);
    // A varlen group (flash-attn's `flash_attn_varlen_func`: the sequences of a packed
    // batch in one grid, located through `cu_seqlens`; TensorRT's fused MHA alike) is one
    // launch whose grid holds every length's blocks, so one length's last partial wave is
    // filled by the next length's blocks: members after the first fill waves fractionally,
    // and the first keeps the grid's one rounded-up wave and its one launch.
    let shares = op.varlen.is_some_and(|m| m.shares_launch());
    let waves = work.div_ceil(dev.cores);
    let wave_units = if shares {
        work as f64 / dev.cores as f64
    } else {
        waves as f64
    };
    let matrix_s = wave_units * unit_macs as f64 / core_rate;
    // Softmax runs on the vector units: beside the MMAs where the matrix unit runs on its
    // own (FlashAttention-3 on Hopper), after them where the same warps issue both
    // (FlashAttention-2).
    let vector_s = softmax_s(op, a, dev);
    let compute = fused_compute(dev, matrix_s, vector_s);

    let q = op.operands.first().map_or(0, |o| o.bytes());
    let k = op.operands.get(1).map_or(0, |o| o.bytes());
    let v = op.operands.get(2).map_or(0, |o| o.bytes());
    let o = op.operands.get(3).map_or(0, |o| o.bytes());
    let off = dev.offchip();
    let mut traffic = Vec::new();
    let streamed = q + o + ((k + v) as f64 * key_blocks_read(a, q_blocks)).ceil() as u64;
    let off_bytes = match dev.chip_buffer() {
        Some(cb) => {
            traffic.push(level_traffic(dev, &cb.name, streamed));
            // The grid runs the query blocks of a head side by side (flash-attn's forward
            // grid is (query blocks, batch, heads)): the running units share the K and V
            // of `cores / query blocks` heads.
            let heads = (a.batch * a.kv_heads).max(1);
            let live = (k + v) / heads * heads.min(dev.cores.div_ceil(q_blocks));
            if live <= cb.capacity_bytes / 2 {
                q + o + k + v
            } else {
                // Too large to stay: the units of a head that run in the same wave still
                // stream its K/V blocks together, in the same order and from the same start
                // (the kernel's loop over key blocks), so each block comes from off-chip
                // once per wave the head's query blocks span, not once per query block.
                // A run of `q_blocks` consecutive units spans 1 + (q_blocks − 1) / cores
                // waves on average; a grid of one wave (KV splits) spans one.
                let spans = if work <= dev.cores {
                    1.0
                } else {
                    1.0 + (q_blocks.max(1) - 1) as f64 / dev.cores.max(1) as f64
                };
                let reads = key_blocks_read(a, q_blocks).min(spans);
                q + o + ((k + v) as f64 * reads).ceil() as u64
            }
        }
        None => streamed,
    };
    traffic.push(level_traffic(dev, &off.name, off_bytes));
    let (overhead, mapping) = if shares {
        // Inside the group's kernel: no launch, no first-byte wait of its own.
        (
            0.0,
            format!(
                "flash varlen: {br} rows x {BLOCK_COLS} kv blocks, {work} units ({splits} kv splits) in the group's grid"
            ),
        )
    } else {
        (
            dev.overhead.launch_us * 1e-6 + off.latency_ns * 1e-9,
            format!(
                "flash{}: {br} rows x {BLOCK_COLS} kv blocks, {work} units ({splits} kv splits), {waves} waves",
                if op.varlen.is_some() { " varlen" } else { "" }
            ),
        )
    };
    Ok(OpCost::new(compute, traffic, overhead, mapping))
}

/// Single-query attention as the masked multi-head attention kernel runs it
/// ([`xpusim_ir::per_query_head`]): one thread block per (query head, sequence), the
/// `Q·Kᵀ` and `P·V` dot products as FP32 FMAs on the vector units
/// (TensorRT-LLM `decoderMaskedMultiheadAttentionTemplate.h`: `MMHA_USE_FP32_ACCUM_FOR_FMA`),
/// `2·(d + dv)` FLOPs per scored key and query head besides the softmax
/// ([`vector_unit_flops`]). Every query head reads its KV head's K and V from the chip
/// buffer on its own — `heads / kv_heads` times what a packed kernel reads. Off-chip they are read once: the grid runs a sequence's
/// heads side by side (`decoderMaskedMultiheadAttentionLaunch.h`: `dim3 grid{num_heads,
/// batch_size, 1}`, heads fastest), so the blocks of a group stream the same K/V in step
/// and all but the first find it in the chip buffer. vLLM's `paged_attention` kernels map
/// the same way (grid `num_heads × num_seqs × partitions`); profiling them at 64 query and
/// 8 KV heads found over 800 MB moving between L1 and L2 for 64 MB of K and V (vLLM issue
/// #15351). Converting a narrow (FP8, INT8) cache to FP32 costs vector issue slots this
/// does not count.
fn cost_per_query_head(op: &Op, a: &AttentionSpec, dev: &DeviceSpec) -> OpCost {
    let group = (a.heads / a.kv_heads.max(1)).max(1);
    let compute = vector_unit_flops(op) / dev.vector_flops(DType::Fp32);
    let bytes = |i: usize| op.operands.get(i).map_or(0, |o| o.bytes());
    let (q, k, v, o) = (bytes(0), bytes(1), bytes(2), bytes(3));
    let per_head = q + o + (k + v).saturating_mul(group);
    let off = dev.offchip();
    let mut traffic = Vec::new();
    let off_bytes = match dev.chip_buffer() {
        Some(cb) => {
            traffic.push(level_traffic(dev, &cb.name, per_head));
            q + o + k + v
        }
        None => per_head,
    };
    traffic.push(level_traffic(dev, &off.name, off_bytes));
    let overhead = dev.overhead.launch_us * 1e-6 + off.latency_ns * 1e-9;
    let mapping = format!(
        "per query head: {} blocks, {group} query heads read each KV head apart",
        a.batch * a.heads
    );
    OpCost::new(compute, traffic, overhead, mapping)
}

/// FLOPs a per-query-head decode kernel runs on the vector units: its dot products (two
/// per multiply-accumulate) and the softmax.
pub fn vector_unit_flops(op: &Op) -> f64 {
    2.0 * op.macs() as f64 + op.vector_flops() as f64
}

/// How many times the query blocks read K and V between them, in whole K/V: each block
/// reads every key up to its last query's diagonal under a causal mask (the queries follow a
/// prefix of `kv_len − q_len` cached keys), all of them otherwise. At least 1, since the
/// last block sees every key.
fn key_blocks_read(a: &AttentionSpec, q_blocks: u64) -> f64 {
    if !a.causal || a.q_len > a.kv_len {
        return q_blocks as f64;
    }
    let (n, prefix) = (q_blocks.max(1), a.kv_len - a.q_len);
    let per_block = a.q_len.div_ceil(n);
    // Σ over blocks i = 1..n of prefix + min(q_len, i · per_block), in closed form: the
    // first `full` blocks end inside the queries, the rest at their end.
    let full = (a.q_len / per_block).min(n);
    let keys = n * prefix + per_block * full * (full + 1) / 2 + (n - full) * a.q_len;
    keys as f64 / a.kv_len.max(1) as f64
}

/// The softmax side of a fused attention kernel (forward or backward), s. FlashAttention
/// keeps the scores, the running maximum and sum, and the probabilities' gradients in FP32
/// registers (the MMAs accumulate in FP32: Dao 2023, Algorithms 1 and 2), so its vector
/// FLOPs run at the FP32 rate; each pass evaluates one exponential per score (the forward's
/// `exp(S − m)`, the backward's recompute of `P`), which runs on the special-function units
/// where the device has them apart from its lanes — 16 per clock per SM on NVIDIA GPUs
/// since Volta, 3.9 T/s on the H100 against 989 TFLOP/s of FP16 matmul (Shah et al. 2024,
/// FlashAttention-3, §3.1). The lanes and the special-function units are separate pipes the
/// same warps feed, so the slower of the two sets the time.
fn softmax_s(op: &Op, a: &AttentionSpec, dev: &DeviceSpec) -> f64 {
    let flops = op.vector_flops() as f64;
    let fp32 = dev.vector_flops(DType::Fp32);
    match dev.sfu_rate() {
        Some(sfu) => {
            let exps = (a.batch * a.heads) as f64 * a.scored_pairs() as f64;
            ((flops - exps).max(0.0) / fp32).max(exps / sfu)
        }
        None => flops / fp32,
    }
}

/// Compute time of a kernel that interleaves matrix and vector work (see
/// [`xpusim_hw::MatrixEngine::overlaps_vector`]).
fn fused_compute(dev: &DeviceSpec, matrix_s: f64, vector_s: f64) -> f64 {
    if dev.matrix.overlaps_vector {
        matrix_s.max(vector_s)
    } else {
        matrix_s + vector_s
    }
}

/// Bytes per element of the dQ accumulator: FlashAttention-2's backward adds each key
/// block's contribution to dQ atomically in FP32 (`dq_accum`) and converts it at the end.
const DQ_ACCUM_BYTES: u64 = 4;
/// Kernels of one backward: the `D = rowsum(dO∘O)` preprocessing, the main kernel and the
/// dQ conversion (flash-attn's `_flash_attn_backward`: `compute_dot_do_o`, `compute_dq_dk_dv`,
/// `convert_dQ`).
pub const ATTENTION_GRAD_KERNELS: u64 = 3;
const GRAD_LAUNCHES: f64 = ATTENTION_GRAD_KERNELS as f64;

/// FlashAttention-2's backward (Dao 2023, §3.2 and Algorithm 2), tiled like the forward.
///
/// The kernel parallelises over the key sequence: a work unit owns a block of
/// [`BLOCK_COLS`] keys of one query head, keeps K_j and V_j (and the dK_j, dV_j
/// accumulators) on chip and loops over the query blocks that see it — all of them, or the
/// causal share. Per (query block, key block) it recomputes `S = QKᵀ` and `P` from the saved
/// log-sum-exp (the recompute that lets the forward store no score matrix), and computes
/// `dV += Pᵀ·dO`, `dP = dO·Vᵀ`, `dS = P∘(dP − D)`, `dK += dSᵀ·Q` and `dQ += dS·K`: five
/// matmuls, each padded to the matrix tile. Traffic: K, V once per unit (once off-chip);
/// Q, dO, the row statistics and the FP32 dQ accumulator (read and written) once per key
/// block a query block visits, or once in total from off-chip when their working set for
/// the running units (the heads whose key blocks run side by side) fits in half the chip
/// buffer; dK, dV written per query head and, under
/// GQA, summed over the group afterwards (flash-attn 2's `dk_expanded`); the preprocessing
/// reads O and dO, the conversion the accumulator.
pub fn cost_grad(op: &Op, a: &AttentionSpec, dev: &DeviceSpec) -> Result<OpCost, EngineError> {
    let [gm, gn, gk] = dev.matrix.tile;
    let bc = a.kv_len.clamp(1, BLOCK_COLS);
    let kv_blocks = a.kv_len.div_ceil(bc);
    let units = a.batch * a.heads * kv_blocks;
    // Average queries per key after causal masking (masked blocks are skipped).
    let q_eff = a.scored_pairs().div_ceil(a.kv_len.max(1)).max(1);
    let pad = |x: u64, g: u64| x.div_ceil(g) * g;
    let (d, dv) = (a.head_dim, a.v_head_dim);
    // S and dP: (q × d)·(d × bc), (q × dv)·(dv × bc); dV and dK: (bc × q)·(q × dv | d);
    // dQ: (q × bc)·(bc × d).
    let unit_macs = pad(q_eff, gm) * pad(bc, gn) * (pad(d, gk) + pad(dv, gk))
        + pad(bc, gm) * (pad(dv, gn) + pad(d, gn)) * pad(q_eff, gk)
        + pad(q_eff, gm) * pad(d, gn) * pad(bc, gk);
    let (rate, used) = dev.matrix_flops(op.compute_dtype);
    let core_rate = rate / 2.0 / dev.cores as f64 * dev.matrix.efficiency_for(used);
    let waves = units.div_ceil(dev.cores);
    let matrix_s = waves as f64 * unit_macs as f64 / core_rate;
    let vector_s = softmax_s(op, a, dev);
    let compute = fused_compute(dev, matrix_s, vector_s);

    let bytes = |i: usize| op.operands.get(i).map_or(0, |o| o.bytes());
    let (q, k, v, o, d_o, lse) = (bytes(0), bytes(1), bytes(2), bytes(3), bytes(4), bytes(5));
    let (dq, dk, dv_b) = (bytes(6), bytes(7), bytes(8));
    let dq_accum = op.operands.get(6).map_or(0, |x| x.elems()) * DQ_ACCUM_BYTES;
    let group = (a.heads / a.kv_heads.max(1)).max(1);
    // dK, dV per query head, then (GQA) read back and summed into the KV heads.
    let kv_grads = if group > 1 {
        (dk + dv_b) * (2 * group + 1)
    } else {
        dk + dv_b
    };
    // Q side, per visit: Q, dO, log-sum-exp and D, and the accumulator read and written.
    let per_visit = q + d_o + 2 * lse + 2 * dq_accum;
    let visit = a.scored_pairs() as f64 / (a.q_len * a.kv_len).max(1) as f64;
    let q_streamed = (per_visit as f64 * kv_blocks as f64 * visit).ceil() as u64;
    // Preprocessing (O, dO in; D out) and conversion (accumulator in, dQ out).
    let around = o + d_o + lse + dq_accum + dq;
    let off = dev.offchip();
    let mut traffic = Vec::new();
    let chip_bytes = (k + v) * group + kv_grads + q_streamed + around;
    let off_bytes = match dev.chip_buffer() {
        Some(cb) => {
            traffic.push(level_traffic(dev, &cb.name, chip_bytes));
            // The grid runs the key blocks of a head side by side (flash-attn's backward
            // grid is (key blocks, batch·heads)): the running units share the Q side of
            // `cores / key blocks` heads.
            let heads = (a.batch * a.heads).max(1);
            let live = per_visit / heads * heads.min(dev.cores.div_ceil(kv_blocks));
            let q_side = if live <= cb.capacity_bytes / 2 {
                per_visit
            } else {
                q_streamed
            };
            k + v + kv_grads + q_side + around
        }
        None => chip_bytes,
    };
    traffic.push(level_traffic(dev, &off.name, off_bytes));
    let overhead = GRAD_LAUNCHES * (dev.overhead.launch_us * 1e-6 + off.latency_ns * 1e-9);
    let mapping =
        format!("flash bwd: {bc} kv x {q_eff} q rows per unit, {units} units, {waves} waves");
    Ok(OpCost::new(compute, traffic, overhead, mapping))
}
