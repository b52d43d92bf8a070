//! Processing in memory behind the one cost interface: [`PimModel`] wraps the cost model of
//! a device (the host) and places each op on the host or on the device's share of PIM
//! stacks.
//!
//! A PIM-capable op (decode attention, a linear layer, an embedding) placed on PIM costs
//! the PIM time plus the link transfer of its activations (inputs and outputs), and its
//! energy is PIM dynamic energy + link energy + the host's idle power while it waits. The
//! KV append of a layer whose attention is on PIM writes the new K and V over the link into
//! the PIM stacks. Nonlinear ops, norms and collectives always stay on the host. Which op
//! is which comes from its [`OpRole`] and layer, never its name.
//!
//! Ops run one after another (no overlap of host and PIM work), except AttAcc's head-level
//! pipelining where the system enables it ([`head_pipeline_saving`]).

use xpusim_engine::{Bound, CostModel, Costed, EngineError, LevelTraffic, OpCost, PimShare};
use xpusim_hw::{DeviceSpec, Pim, PimLink, PimPlacement, PimSpec};
use xpusim_ir::{Block, Op, OpKind, OpRole, Role};

use crate::timing::{self, PimCost};

/// What `auto` placement minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    Time,
    Energy,
}

/// A device's cost model with its share of a system's PIM stacks.
pub struct PimModel {
    host: Box<dyn CostModel>,
    pim: Pim,
    placement: PimPlacement,
    objective: Objective,
}

impl PimModel {
    pub fn new(
        host: Box<dyn CostModel>,
        pim: Pim,
        placement: PimPlacement,
        objective: Objective,
    ) -> PimModel {
        PimModel {
            host,
            pim,
            placement,
            objective,
        }
    }

    pub fn pim(&self) -> &Pim {
        &self.pim
    }

    pub fn placement(&self) -> PimPlacement {
        self.placement
    }

    fn stacks(&self) -> u64 {
        self.pim.stacks_per_device
    }

    fn link(&self) -> &PimLink {
        &self.pim.attach.link
    }
}

fn elem_bytes(op: &Op) -> u64 {
    op.operands
        .iter()
        .find(|o| o.role != Role::Output)
        .map(|o| o.dtype.bytes(1).max(1))
        .unwrap_or(2)
}

/// PIM cost of one instance of `op`, or None when PIM cannot run it.
pub fn pim_cost(op: &Op, pim: &PimSpec, stacks: u64) -> Option<PimCost> {
    match &op.kind {
        OpKind::Attention(a) => Some(timing::attention(
            pim,
            stacks,
            &timing::Attention {
                batch: a.batch,
                heads: a.heads,
                kv_heads: a.kv_heads,
                q_len: a.q_len,
                kv_len: a.kv_len,
                head_dim: a.head_dim.max(a.v_head_dim),
                elem_bytes: elem_bytes(op),
            },
        )),
        OpKind::Matmul(m) if !m.rhs_batched => {
            let weight = op.operands.iter().find(|o| o.role == Role::Weight)?;
            Some(timing::gemv(
                pim,
                stacks,
                &timing::Gemv {
                    rows: m.n,
                    cols: m.k,
                    batch: m.batch * m.m,
                    elem_bytes: weight.dtype.bytes(1).max(1),
                    input_sets: 1,
                },
            ))
        }
        // A gather; its backward scatter-add (and FlashAttention's backward) stay on the
        // device.
        OpKind::Embedding {
            tokens,
            dim,
            pass: xpusim_ir::Pass::Forward,
        } => Some(timing::embedding(
            pim,
            stacks,
            *tokens,
            *dim,
            elem_bytes(op),
        )),
        _ => None,
    }
}

/// Bytes crossing the host–PIM link for one instance of `op` placed on PIM: its
/// activations in and out (the new K and V travel with the KV append).
fn link_bytes(op: &Op) -> u64 {
    op.operands
        .iter()
        .filter(|o| matches!(o.role, Role::Input | Role::Output))
        .map(|o| o.bytes())
        .sum()
}

fn link_s(link: &PimLink, bytes: u64) -> f64 {
    bytes as f64 / (link.bandwidth_gbps * 1e9) + link.latency_us * 1e-6
}

/// An op run wholly on PIM: its cost with the link traffic shown as a level, PIM and link
/// energy as PIM energy, and the host's static power while it waits.
fn on_pim(
    time_s: f64,
    pim_j: f64,
    host_j: [f64; 2],
    link: (u64, f64),
    host: &DeviceSpec,
) -> OpCost {
    let mut c = OpCost {
        compute_s: 0.0,
        traffic: vec![LevelTraffic {
            level: "pim-link".into(),
            bytes: link.0,
            time_s: link.1,
            energy_j: 0.0,
        }],
        overhead_s: 0.0,
        time_s,
        energy_j: 0.0,
        compute_energy_j: host_j[0],
        pim_energy_j: pim_j,
        idle_energy_j: host.power.idle_w * time_s,
        bound: Bound::Memory("pim".into()),
        mapping: String::new(),
        pim: None,
    };
    if host_j[1] > 0.0 {
        c.traffic.push(LevelTraffic {
            level: "host".into(),
            bytes: 0,
            time_s: 0.0,
            energy_j: host_j[1],
        });
    }
    c.sum_energy();
    c
}

impl PimModel {
    /// The op's cost if placed on PIM (one instance): PIM + link + host softmax + host idle.
    fn alternative(&self, op: &Op, pc: &PimCost) -> Result<OpCost, EngineError> {
        let host = self.host.device();
        let link = self.link();
        let lb = link_bytes(op);
        let ls = link_s(link, lb);
        let mut t = pc.time_s + ls;
        let pim_j = pc.energy_j + lb as f64 * link.energy_pj_per_byte * 1e-12;
        let mut host_j = [0.0; 2];
        if pc.host_softmax_elems > 0 {
            let cols = match &op.kind {
                OpKind::Attention(a) => a.kv_len.max(1),
                _ => 1,
            };
            let sm = Op::softmax(
                &format!("{}.softmax", op.name),
                pc.host_softmax_elems / cols,
                cols,
                op.compute_dtype,
            )
            .map_err(|e| EngineError::Model {
                op: op.name.clone(),
                model: self.label(),
                msg: e.to_string(),
            })?;
            let sc = self.host.cost_op(&sm)?;
            t += sc.time_s;
            host_j = [sc.compute_energy_j, sc.memory_energy_j()];
        }
        let mut c = on_pim(t, pim_j, host_j, (lb, ls), host);
        c.mapping = format!(
            "on PIM {} ({} stacks): stream {:.3} ms, link {:.3} ms",
            self.pim.spec.name,
            self.stacks(),
            pc.stream_s * 1e3,
            ls * 1e3
        );
        Ok(c)
    }

    /// The PIM alternative of `op`, when PIM can run it under this placement.
    fn pim_option(&self, op: &Op) -> Result<Option<OpCost>, EngineError> {
        let capable = match self.placement {
            PimPlacement::HostOnly => false,
            PimPlacement::AttentionOnPim => matches!(op.kind, OpKind::Attention(_)),
            PimPlacement::Auto => true,
        };
        if !capable {
            return Ok(None);
        }
        match pim_cost(op, &self.pim.spec, self.stacks()) {
            Some(pc) => Ok(Some(self.alternative(op, &pc)?)),
            None => Ok(None),
        }
    }

    fn prefers_pim(&self, host: &OpCost, alt: &OpCost) -> bool {
        match self.placement {
            PimPlacement::AttentionOnPim => alt.time_s.is_finite(),
            _ => match self.objective {
                Objective::Time => alt.time_s < host.time_s,
                Objective::Energy => alt.energy_j < host.energy_j,
            },
        }
    }

    /// The new token's K and V written over the link into the PIM stacks.
    fn kv_append_on_pim(&self, op: &Op) -> OpCost {
        let host = self.host.device();
        let link = self.link();
        let pim = &self.pim.spec;
        let bytes = op.bytes_by_role(Role::Output);
        let ls = link_s(link, bytes);
        let write_s = bytes as f64 / (pim.io.bandwidth_gbps * 1e9 * self.stacks() as f64);
        let path_pj = 8.0
            * (timing::pu_to_host_pj_per_bit(pim) + timing::cell_to_pu_pj_per_bit(pim))
            + link.energy_pj_per_byte;
        let t = write_s + ls;
        let mut c = on_pim(
            t,
            bytes as f64 * path_pj * 1e-12,
            [0.0; 2],
            (bytes, ls),
            host,
        );
        c.mapping = format!("KV written into PIM {}", pim.name);
        c
    }
}

/// An FFN GEMM split between host and PIM (AttAcc's feed-forward-parallel optimisation,
/// attacc_simulator src/system.py `_ff_parallel` with `--ffopt`): the weights are divided
/// in proportion to the two rates so both halves finish together, `t = t_h·t_p / (t_h + t_p)`
/// with the fraction `f = t_h / (t_h + t_p)` on PIM. Dynamic energy is shared in the same
/// proportion, plus the host's idle power over `t`.
fn ffn_split(host: &OpCost, pim: &OpCost, idle_w: f64) -> Option<OpCost> {
    let (th, tp) = (host.time_s, pim.time_s);
    if !(th > 0.0 && tp > 0.0) {
        return None;
    }
    let f = th / (th + tp);
    let t = th * tp / (th + tp);
    let mut c = host.clone();
    c.time_s = t;
    c.compute_s *= 1.0 - f;
    c.compute_energy_j = (1.0 - f) * host.compute_energy_j + f * pim.compute_energy_j;
    for l in &mut c.traffic {
        l.bytes = ((1.0 - f) * l.bytes as f64).round() as u64;
        l.time_s *= 1.0 - f;
        l.energy_j *= 1.0 - f;
    }
    let pim_link = pim.traffic.iter().find(|l| l.level == "pim-link");
    let link = pim_link.map(|l| l.time_s).unwrap_or(0.0);
    if let Some(l) = pim_link {
        c.traffic.push(LevelTraffic {
            level: l.level.clone(),
            bytes: (f * l.bytes as f64).round() as u64,
            time_s: f * l.time_s,
            energy_j: 0.0,
        });
    }
    c.pim_energy_j = f * pim.pim_energy_j;
    c.idle_energy_j = idle_w * t;
    c.sum_energy();
    c.mapping = format!("split: {:.0}% on PIM; host {}", f * 100.0, host.mapping);
    c.pim = Some(PimShare {
        fraction: f,
        pim_time_s: tp,
        link_s: f * link,
        host_time_s: th,
    });
    Some(c)
}

/// Time hidden when attention on PIM is pipelined with the host's QKV generation and output
/// projection over head groups (AttAcc §5.3; attacc_simulator src/system.py `_pipeline`
/// with `pipe` on): with `h` heads per device, a layer's chain of QKV + projection (`F`,
/// host) and attention + KV append (`A`, PIM) takes `max(A, F) + min(A, F) / h` instead of
/// `A + F`, i.e. `min(A, F)·(1 − 1/h)` is saved per layer. All per-op times include every
/// `repeat`.
pub fn head_pipeline_saving(ops: &[&Op], costs: &[OpCost]) -> f64 {
    let total = |o: &Op, c: &OpCost| c.time_s * o.repeat as f64;
    let placed = |c: &OpCost| c.pim.is_some_and(|p| p.fraction >= 1.0);
    let mut saved = 0.0;
    for (op, c) in ops.iter().zip(costs) {
        let (OpKind::Attention(a), true, OpRole::Heads(block)) = (&op.kind, placed(c), op.role)
        else {
            continue;
        };
        // The same layer's ops of this attention block with the given role and side.
        let part = |want: &dyn Fn(OpRole) -> bool, pim: bool| -> f64 {
            ops.iter()
                .zip(costs)
                .filter(|(o, x)| o.layer == op.layer && want(o.role) && placed(x) == pim)
                .map(|(o, x)| total(o, x))
                .sum()
        };
        let attn = total(op, c) + part(&|x| x == OpRole::KvAppend(block), true);
        let fc = part(&|x| x == OpRole::Column(block), false)
            + part(&|x| x == OpRole::Row(block), false);
        let h = a.heads.max(1) as f64;
        saved += attn.min(fc) * (1.0 - 1.0 / h);
    }
    saved
}

impl CostModel for PimModel {
    fn device(&self) -> &DeviceSpec {
        self.host.device()
    }

    fn label(&self) -> String {
        format!(
            "{} + PIM {} ({})",
            self.host.label(),
            self.pim.spec.name,
            self.placement.label()
        )
    }

    /// One op alone: where its own cost is lower (a KV append stays on the host, as it
    /// cannot know where its layer's attention runs).
    fn cost_op(&self, op: &Op) -> Result<OpCost, EngineError> {
        let host = self.host.cost_op(op)?;
        Ok(match self.pim_option(op)? {
            Some(alt) => {
                let pim = self.prefers_pim(&host, &alt);
                choose(host, alt, pim)
            }
            None => host,
        })
    }

    fn cost_ops(&self, ops: &[&Op]) -> Result<Costed, EngineError> {
        let mut costs = Vec::with_capacity(ops.len());
        for op in ops {
            costs.push(self.cost_op(op)?);
        }
        let on = |c: &OpCost| c.pim.is_some_and(|p| p.fraction >= 1.0);
        // The new token's K and V are appended where the cache lives.
        for i in 0..ops.len() {
            let OpRole::KvAppend(block) = ops[i].role else {
                continue;
            };
            let attn_on_pim = ops.iter().zip(&costs).any(|(o, c)| {
                matches!(o.kind, OpKind::Attention(_))
                    && o.role == OpRole::Heads(block)
                    && o.layer == ops[i].layer
                    && on(c)
            });
            if attn_on_pim && self.placement != PimPlacement::HostOnly {
                let host_time = costs[i].time_s;
                let mut c = self.kv_append_on_pim(ops[i]);
                c.pim = Some(PimShare {
                    fraction: 1.0,
                    pim_time_s: c.time_s,
                    link_s: c.traffic[0].time_s,
                    host_time_s: host_time,
                });
                costs[i] = c;
            }
        }
        // AttAcc's FFN split: dense-FFN GEMMs left on the host share their work with PIM.
        if self.pim.attach.ffn_split && self.placement != PimPlacement::HostOnly {
            let idle_w = self.host.device().power.idle_w;
            for (op, c) in ops.iter().zip(costs.iter_mut()) {
                let ffn = matches!(
                    op.role,
                    OpRole::Column(Block::Mlp) | OpRole::Row(Block::Mlp)
                ) && matches!(op.kind, OpKind::Matmul(_));
                if !ffn || on(c) {
                    continue;
                }
                if let Some(pc) = pim_cost(op, &self.pim.spec, self.stacks()) {
                    let alt = self.alternative(op, &pc)?;
                    let mut host = c.clone();
                    host.pim = None;
                    if let Some(split) = ffn_split(&host, &alt, idle_w) {
                        *c = split;
                    }
                }
            }
        }
        let overlap_s = if self.pim.attach.head_pipelining {
            head_pipeline_saving(ops, &costs)
        } else {
            0.0
        };
        Ok(Costed {
            ops: costs,
            overlap_s,
        })
    }
}

/// The host or the PIM cost, recording the alternative either way.
fn choose(host: OpCost, alt: OpCost, pim: bool) -> OpCost {
    if pim {
        let link = alt.traffic.first().map(|l| l.time_s).unwrap_or(0.0);
        let mut c = alt;
        c.pim = Some(PimShare {
            fraction: 1.0,
            pim_time_s: c.time_s,
            link_s: link,
            host_time_s: host.time_s,
        });
        c
    } else {
        let mut c = host;
        c.pim = Some(PimShare {
            fraction: 0.0,
            pim_time_s: alt.time_s,
            link_s: 0.0,
            host_time_s: c.time_s,
        });
        c
    }
}
