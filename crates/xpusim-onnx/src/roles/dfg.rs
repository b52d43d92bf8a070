//! The dataflow graph role inference walks: top-level ONNX nodes joined by the tensors
//! that carry activations, with the IR ops each node was lowered to.

use std::collections::{HashMap, HashSet, VecDeque};

use xpusim_ir::{Graph, OpKind, Role};

use crate::import::Env;
use crate::proto::GraphProto;

/// Most nodes one walk visits; a walk that would visit more gives up (no role), which
/// keeps inference linear-ish on huge or corrupt graphs.
pub(crate) const WALK_CAP: usize = 1 << 14;

pub(crate) struct Dfg<'a> {
    pub g: &'a GraphProto,
    env: &'a Env,
    /// IR op indices each node emitted.
    pub ops: Vec<std::ops::Range<usize>>,
    producer: HashMap<&'a str, usize>,
    consumers: HashMap<&'a str, Vec<usize>>,
    inputs: HashSet<&'a str>,
    proj: Vec<bool>,
}

impl<'a> Dfg<'a> {
    /// `ends[i]`: the IR op count after top-level node `i` was imported.
    pub fn new(g: &'a GraphProto, env: &'a Env, graph: &Graph, ends: &[usize]) -> Dfg<'a> {
        let mut ops = Vec::with_capacity(g.node.len());
        let mut start = 0;
        for i in 0..g.node.len() {
            let end = ends
                .get(i)
                .copied()
                .unwrap_or(start)
                .clamp(start, graph.ops.len());
            ops.push(start..end);
            start = end;
        }
        let mut producer = HashMap::new();
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in g.node.iter().enumerate() {
            for o in n.output.iter().filter(|o| !o.is_empty()) {
                producer.entry(o.as_str()).or_insert(i);
            }
            for t in n.input.iter().filter(|t| !t.is_empty()) {
                let c = consumers.entry(t.as_str()).or_default();
                if c.last() != Some(&i) {
                    c.push(i);
                }
            }
        }
        let inputs = g.input.iter().map(|v| v.name.as_str()).collect();
        let mut d = Dfg {
            g,
            env,
            ops,
            producer,
            consumers,
            inputs,
            proj: Vec::new(),
        };
        d.proj = (0..g.node.len())
            .map(|i| !d.control(i) && d.weight_matmuls(graph, i).next().is_some())
            .collect();
        d
    }

    pub fn len(&self) -> usize {
        self.g.node.len()
    }

    pub fn op_type(&self, n: usize) -> &'a str {
        self.g.node.get(n).map(|p| p.op_type.as_str()).unwrap_or("")
    }

    fn control(&self, n: usize) -> bool {
        matches!(self.op_type(n), "If" | "Loop" | "Scan")
    }

    /// A tensor computed at run time from graph inputs (not a weight, not a folded shape).
    pub fn act(&self, t: &str) -> bool {
        !t.is_empty()
            && self
                .env
                .get(t)
                .is_some_and(|v| !v.konst && v.data.is_none())
    }

    pub fn is_graph_input(&self, t: &str) -> bool {
        self.inputs.contains(t) && self.act(t)
    }

    pub fn shape(&self, t: &str) -> Option<&'a [u64]> {
        self.env.get(t).map(|v| v.shape.as_slice())
    }

    /// Input `i` of node `n` (empty when absent).
    pub fn input(&self, n: usize, i: usize) -> &'a str {
        self.g
            .node
            .get(n)
            .and_then(|p| p.input.get(i))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The activation inputs of `n`.
    pub fn act_inputs(&self, n: usize) -> Vec<&'a str> {
        let mut v: Vec<&str> = Vec::new();
        for t in self
            .g
            .node
            .get(n)
            .map(|p| p.input.as_slice())
            .unwrap_or(&[])
        {
            if self.act(t) && !v.contains(&t.as_str()) {
                v.push(t);
            }
        }
        v
    }

    pub fn act_outputs(&self, n: usize) -> Vec<&'a str> {
        let outs = self
            .g
            .node
            .get(n)
            .map(|p| p.output.as_slice())
            .unwrap_or(&[]);
        outs.iter()
            .filter(|t| self.act(t))
            .map(String::as_str)
            .collect()
    }

    pub fn producer(&self, t: &str) -> Option<usize> {
        self.producer.get(t).copied()
    }

    /// Nodes reading activation `t` that do run-time work (emit ops or produce activations).
    pub fn consumers(&self, t: &str) -> Vec<usize> {
        if !self.act(t) {
            return Vec::new();
        }
        let c = self.consumers.get(t).map(Vec::as_slice).unwrap_or(&[]);
        c.iter().copied().filter(|&c| self.live(c)).collect()
    }

    /// Runs at inference time: emits IR ops or computes an activation.
    pub fn live(&self, n: usize) -> bool {
        self.ops.get(n).is_some_and(|r| !r.is_empty()) || !self.act_outputs(n).is_empty()
    }

    /// Live nodes reading any activation output of `n`.
    pub fn succ(&self, n: usize) -> Vec<usize> {
        let mut v = Vec::new();
        for t in self.act_outputs(n) {
            for c in self.consumers(t) {
                if !v.contains(&c) {
                    v.push(c);
                }
            }
        }
        v
    }

    /// Producers of the activation inputs of `n`.
    pub fn pred(&self, n: usize) -> Vec<usize> {
        let mut v = Vec::new();
        for t in self.act_inputs(n) {
            if let Some(p) = self.producer(t) {
                if p != n && !v.contains(&p) {
                    v.push(p);
                }
            }
        }
        v
    }

    /// A projection: lowered to a matmul of an activation by a 2-D weight.
    pub fn is_proj(&self, n: usize) -> bool {
        self.proj.get(n).copied().unwrap_or(false)
    }

    /// The IR ops of `n` that multiply by a 2-D weight.
    pub fn weight_matmuls<'g>(
        &self,
        graph: &'g Graph,
        n: usize,
    ) -> impl Iterator<Item = usize> + 'g {
        let r = self.ops.get(n).cloned().unwrap_or(0..0);
        r.filter(move |&i| graph.ops.get(i).is_some_and(is_weight_matmul))
    }

    /// Follows `t` back through copies and reshapes (one activation input each) while
    /// `ok` accepts the node, at most `steps` nodes; returns the tensor reached.
    pub fn back_through(&self, mut t: &'a str, steps: usize, ok: impl Fn(&str) -> bool) -> &'a str {
        for _ in 0..steps {
            let Some(p) = self.producer(t) else { break };
            let ins = self.act_inputs(p);
            if ins.len() != 1 || !ok(self.op_type(p)) {
                break;
            }
            t = ins[0];
        }
        t
    }

    /// Nodes reachable backwards from the producers of `start` over activation edges,
    /// not entering projections nor `stop` nodes (those are reported in the second set).
    /// `None` when the walk exceeds [`WALK_CAP`].
    pub fn back_closure(
        &self,
        start: &[&str],
        stop: &dyn Fn(usize) -> bool,
    ) -> Option<(Vec<usize>, Vec<usize>)> {
        let mut seen = HashSet::new();
        let mut inside = Vec::new();
        let mut touched = Vec::new();
        let mut q: VecDeque<usize> = start.iter().filter_map(|t| self.producer(t)).collect();
        while let Some(n) = q.pop_front() {
            if !seen.insert(n) {
                continue;
            }
            if seen.len() > WALK_CAP {
                return None;
            }
            if self.is_proj(n) || stop(n) {
                touched.push(n);
                continue;
            }
            inside.push(n);
            q.extend(self.pred(n));
        }
        Some((inside, touched))
    }
}

/// A linear layer: activation × 2-D weight.
pub(crate) fn is_weight_matmul(op: &xpusim_ir::Op) -> bool {
    matches!(&op.kind, OpKind::Matmul(s) if !s.rhs_batched)
        && op.operands.get(1).is_some_and(|o| o.role == Role::Weight)
}

/// A matmul of two activations (attention scores Q·Kᵀ and P·V).
pub(crate) fn is_act_matmul(op: &xpusim_ir::Op) -> bool {
    matches!(&op.kind, OpKind::Matmul(_))
        && op.operands.get(1).is_some_and(|o| o.role != Role::Weight)
}
