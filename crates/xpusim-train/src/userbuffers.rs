//! How `tp_overlap` runs the GEMMs it hides the tensor-parallel collectives behind.
//!
//! Megatron-Core's `--tp-comm-overlap` and NeMo's `tp_comm_overlap` hand the
//! sequence-parallel all-gathers and reduce-scatters to Transformer Engine's userbuffers,
//! which overlap each one with its GEMM by changing how that GEMM runs
//! (`transformer_engine/pytorch/module/base.py`, `initialize_ub`, its default method per
//! GEMM and `get_default_config`):
//!
//! - **ring exchange** for the GEMMs that read an all-gathered input (`qkv_fprop`,
//!   `fc1_fprop`, `proj_dgrad`, `fc2_dgrad`): the GEMM runs as `tp` chunk GEMMs, one per
//!   rank's sequence shard, each while the next shard arrives (`num_splits = tp_size`),
//!   its peer copies on the copy engines (`use_ce`, one SM, no SM margin);
//! - **pipeline** for the forward GEMMs whose output is reduce-scattered (`proj_fprop`,
//!   `fc2_fprop`): 4 chunk GEMMs along the rows (`num_splits = 4`), each chunk's output
//!   reduce-scattered by a communication kernel on 16 SMs while the next computes, the GEMM
//!   held off those SMs (`num_sm = 16`, `set_sm_margin = True`);
//! - **bulk** for the backward's column-projection GEMMs (`qkv_dgrad`, `qkv_wgrad`,
//!   `fc1_dgrad`, `fc1_wgrad`): the whole GEMM beside a communication kernel on 16 SMs it
//!   is held off (same defaults).
//!
//! The chunk GEMMs go round-robin onto three compute streams (`_NUM_MAX_UB_STREAMS = 3`;
//! `comm_gemm_overlap.cpp`: `_stream_compute[i % _stream_compute.size()]`), so up to three
//! run at once and share the cores' waves: they are priced as launches of up to three
//! chunks' rows each. Such a launch has a share of the rows, so its waves over the cores
//! quantise on their own and it reads the whole weight again; a GEMM held off SMs runs on
//! the rest. Both are priced by the target's cost model on the launch's shape and on the
//! device with those cores reserved (`xpusim_hw::DeviceSpec::with_reserved_cores`).
//! Stacks that pass their own userbuffers configuration (NeMo's per-model `userbuffers_*`
//! presets, the MLPerf GPT-3 configs' YAML) differ in the SM counts and in whether the GEMM
//! is held off them; these are the library's defaults. Only the layers' linear GEMMs are
//! covered: the output layer is Megatron's own column-parallel linear.

use xpusim_engine::{CostModel, OpCost};
use xpusim_ir::{MatmulSpec, Op, OpKind, Role};
use xpusim_system::shard::{Comm, DeviceGraph, Placement};

use crate::parts::hiding_gemms;
use crate::TrainError;

/// Chunks of a pipelined GEMM–reduce-scatter overlap (TE default `num_splits` for
/// `pipeline`).
pub const PIPELINE_SPLITS: u64 = 4;
/// SMs a pipelined or bulk overlap's communication kernel holds the GEMM off (TE default
/// `num_sm` with `set_sm_margin` for `pipeline` and `bulk`).
pub const COMM_SMS: u64 = 16;
/// Compute streams the chunk GEMMs go round-robin onto (TE `_NUM_MAX_UB_STREAMS`).
pub const COMPUTE_STREAMS: u64 = 3;

/// How userbuffers runs one GEMM, strongest change first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Method {
    RingExchange,
    Pipeline,
    Bulk,
}

/// The method of every GEMM `tp_overlap` hides a tensor-parallel collective behind (the
/// GEMMs [`crate::parts::split`] spends the collectives' time on); `None` elsewhere.
pub(crate) fn plan(dg: &DeviceGraph, backward: bool) -> Vec<Option<Method>> {
    let gemm: Vec<bool> = dg
        .ops
        .iter()
        .map(|p| matches!(p.op.kind, OpKind::Matmul(_)))
        .collect();
    let hides = hiding_gemms(dg, &gemm, backward, true, &|_: &Op| true);
    let mut out: Vec<Option<Method>> = vec![None; dg.ops.len()];
    for (i, targets) in hides.iter().enumerate() {
        let Placement::Comm(what) = dg.ops[i].placement else {
            continue;
        };
        let method = match (what, backward) {
            (Comm::Gather, _) => Method::RingExchange,
            (Comm::Join, false) => Method::Pipeline,
            (Comm::Join | Comm::Regather, true) => Method::Bulk,
            _ => continue,
        };
        // Userbuffers cover the layers' linear modules; the output layer's collectives
        // overlap (where they do) through Megatron's own asynchronous path.
        for &j in targets.iter().filter(|&&j| dg.ops[j].op.layer.is_some()) {
            out[j] = Some(out[j].map_or(method, |m| m.min(method)));
        }
    }
    out
}

/// `costs` with every planned GEMM priced as userbuffers runs it: its chunks on `model`'s
/// device (ring exchange) or on `held_off`'s, the same device with [`COMM_SMS`] cores
/// reserved (pipeline, bulk).
pub(crate) fn reprice(
    dg: &DeviceGraph,
    mut costs: Vec<OpCost>,
    plan: &[Option<Method>],
    tp: u64,
    model: &dyn CostModel,
    held_off: &dyn CostModel,
) -> Result<Vec<OpCost>, TrainError> {
    for (i, m) in plan.iter().enumerate() {
        let Some(m) = m else { continue };
        let (splits, on) = match m {
            Method::RingExchange => (tp, model),
            Method::Pipeline => (PIPELINE_SPLITS, held_off),
            Method::Bulk => (1, held_off),
        };
        let op = &dg.ops[i].op;
        let mut parts = Vec::new();
        for (rows, count) in launches(op, splits) {
            let priced = on.cost_ops(&[&with_rows(op, rows)])?;
            parts.extend(priced.ops.first().map(|c| c.repeated(count)));
        }
        if let Some(slot) = costs.get_mut(i).filter(|_| !parts.is_empty()) {
            *slot = OpCost::back_to_back(parts);
        }
    }
    Ok(costs)
}

/// The launches a GEMM split into `splits` chunks along its rows runs as, (rows, how
/// many): groups of up to [`COMPUTE_STREAMS`] chunks at once. One launch of every row
/// where the GEMM is not split: one chunk, or a batched GEMM whose right operand has its
/// own batch axis (attention, experts), which stays whole.
fn launches(op: &Op, splits: u64) -> Vec<(u64, u64)> {
    let total = match op.kind {
        OpKind::Matmul(m) if !m.rhs_batched => m.batch * m.m,
        _ => return vec![(0, 1)],
    };
    let n = splits.clamp(1, total.max(1));
    if n == 1 {
        return vec![(0, 1)];
    }
    // Chunk boundaries as TE cuts them (`m_chunk = m / num_splits`), here exact so that
    // every row is in one launch; consecutive launches of equal rows are counted together.
    let at_once = COMPUTE_STREAMS.min(n);
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut start = 0;
    while start < n {
        let end = (start + at_once).min(n);
        // In u128: rows × chunk index cannot wrap.
        let at = |c: u64| (total as u128 * c as u128 / n as u128) as u64;
        let rows = at(end) - at(start);
        match out.last_mut() {
            Some((r, count)) if *r == rows => *count += 1,
            _ => out.push((rows, 1)),
        }
        start = end;
    }
    out
}

/// The GEMM on `rows` of its rows (the tokens of a linear layer's input, output and
/// output gradient; its weight whole); 0: the op as it is.
fn with_rows(op: &Op, rows: u64) -> Op {
    let mut o = op.clone();
    let OpKind::Matmul(m) = op.kind else {
        return o;
    };
    if rows == 0 || m.rhs_batched {
        return o;
    }
    o.kind = OpKind::Matmul(MatmulSpec {
        batch: 1,
        m: rows,
        ..m
    });
    for x in o.operands.iter_mut().filter(|x| x.role != Role::Weight) {
        if let Some(&last) = x.shape.last() {
            x.shape = vec![1, rows, last];
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use xpusim_ir::{DType, Names};

    fn linear(tokens: u64, n: u64, k: u64) -> Op {
        let spec = MatmulSpec {
            batch: 2,
            m: tokens / 2,
            n,
            k,
            rhs_batched: false,
        };
        let names = Names {
            lhs: "x",
            rhs: "w",
            out: "y",
        };
        Op::matmul(
            "fc1",
            spec,
            names,
            Role::Weight,
            DType::Bf16,
            DType::Bf16,
            DType::Bf16,
        )
        .expect("a valid GEMM")
    }

    #[test]
    fn chunks_run_three_at_a_time_and_keep_the_weight() {
        let op = linear(4096, 3072, 1024);
        // Ring exchange over tp 8: two launches of three 512-row chunks, one of two.
        assert_eq!(launches(&op, 8), vec![(1536, 2), (1024, 1)]);
        // Pipelined in 4: three chunks at once, then the fourth.
        assert_eq!(launches(&op, 4), vec![(3072, 1), (1024, 1)]);
        // tp 2: both chunks at once, the whole GEMM.
        assert_eq!(launches(&op, 2), vec![(4096, 1)]);
        assert_eq!(launches(&op, 1), vec![(0, 1)]);
        // Every row is in one launch.
        for s in 1..12 {
            let rows: u64 = launches(&op, s)
                .iter()
                .map(|&(r, n)| if r == 0 { 4096 } else { r * n })
                .sum();
            assert_eq!(rows, 4096, "{s} splits");
        }
        let c = with_rows(&op, 1024);
        let OpKind::Matmul(m) = c.kind else {
            panic!("still a GEMM")
        };
        assert_eq!((m.batch, m.m, m.n, m.k), (1, 1024, 3072, 1024));
        assert_eq!(c.operands[0].shape, vec![1, 1024, 1024]);
        assert_eq!(c.operands[1].shape, vec![1024, 3072]);
        assert_eq!(c.operands[2].shape, vec![1, 1024, 3072]);
        assert_eq!(c.flops() * 4, op.flops());
        assert_eq!(with_rows(&op, 0), op);
    }

    /// On a sharded Llama layer the plan lands on the GEMMs Transformer Engine names:
    /// ring exchange for `qkv_fprop`, `fc1_fprop`, `proj_dgrad`, `fc2_dgrad`; pipeline for
    /// `proj_fprop`, `fc2_fprop`; bulk for the column projections' backward GEMMs
    /// (`qkv_dgrad`, `qkv_wgrad`, `fc1_dgrad`, `fc1_wgrad`).
    #[test]
    fn the_plan_lands_on_te_gemms() {
        use xpusim_ir::{autodiff, Block, OpRole, Phase, Precision};
        use xpusim_models::{build, Workload};
        use xpusim_system::shard::shard;
        use xpusim_system::Parallelism;
        let w =
            Workload::new(Phase::Train, 1, 2048, 0).with_precision(Precision::uniform(DType::Bf16));
        let fwd = build("llama-2-7b", &w).expect("zoo model");
        let bwd = autodiff::backward(&fwd).expect("backward");
        let par = Parallelism {
            tp: 4,
            sp: true,
            ..Default::default()
        };
        // TE's name of a layer GEMM from its parallel role and pass (the names are labels
        // only): a column projection's input gradient splits its output rows like a row
        // projection, and the reverse; a weight gradient writes a parameter gradient.
        let te_name = |op: &Op, backward: bool| -> Option<&'static str> {
            let wgrad = op.operands.iter().any(|x| x.role == Role::Grad);
            Some(match (op.role, backward, wgrad) {
                (OpRole::Column(Block::Attention), false, _) => "qkv_fprop",
                (OpRole::Row(Block::Attention), false, _) => "proj_fprop",
                (OpRole::Column(Block::Mlp), false, _) => "fc1_fprop",
                (OpRole::Row(Block::Mlp), false, _) => "fc2_fprop",
                (OpRole::Column(Block::Attention), true, false) => "proj_dgrad",
                (OpRole::Column(Block::Mlp), true, false) => "fc2_dgrad",
                (OpRole::Row(Block::Attention), true, false) => "qkv_dgrad",
                (OpRole::Row(Block::Mlp), true, false) => "fc1_dgrad",
                (OpRole::Column(_), true, true) => "a wgrad",
                _ => return None,
            })
        };
        for (g, backward) in [(&fwd, false), (&bwd, true)] {
            let dg = shard(g, &par).expect("sharded");
            let plan = plan(&dg, backward);
            let mut seen = Vec::new();
            for (p, m) in dg.ops.iter().zip(&plan) {
                let Some(m) = m else { continue };
                let op = &p.op;
                assert!(op.layer.is_some(), "{}: outside the layer stack", op.name);
                let te = te_name(op, backward)
                    .unwrap_or_else(|| panic!("{}: not a layer's linear GEMM", op.name));
                let want = match te {
                    "qkv_fprop" | "fc1_fprop" | "proj_dgrad" | "fc2_dgrad" => Method::RingExchange,
                    "proj_fprop" | "fc2_fprop" => Method::Pipeline,
                    _ => Method::Bulk,
                };
                assert_eq!(*m, want, "{} ({te})", op.name);
                seen.push(te);
            }
            let expect: &[&str] = if backward {
                &[
                    "proj_dgrad",
                    "fc2_dgrad",
                    "qkv_dgrad",
                    "fc1_dgrad",
                    "a wgrad",
                ]
            } else {
                &["qkv_fprop", "fc1_fprop", "proj_fprop", "fc2_fprop"]
            };
            for te in expect {
                assert!(seen.contains(te), "no {te} in {seen:?}");
            }
            // TE's bulk weight gradients are the column projections' (`qkv_wgrad`,
            // `fc1_wgrad`): two per layer; the row projections' stay outside userbuffers.
            if backward {
                assert_eq!(seen.iter().filter(|t| **t == "a wgrad").count(), 2);
            }
        }
    }
}
