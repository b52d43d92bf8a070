//! Variable-length inputs without padding: a distribution of sequence lengths packed into
//! one pass, as benchmark harnesses run encoders and prefill (MLPerf BERT's and
//! FasterTransformer's "remove padding" / TensorRT's variable-sequence-length mode; the
//! flash-attn `flash_attn_varlen_func` interface, whose `cu_seqlens` concatenate every
//! sequence of the batch into one token axis).
//!
//! [`SeqDist`] is the distribution (`len:count` pairs); [`Graph::pack_varlen`] lowers it from
//! a builder of padded graphs: every op whose size is linear in the token count (GEMMs,
//! norms, elementwise ops, embeddings, per-sequence heads) runs once over the packed tokens
//! (its one token dimension summed over the lengths), and every op that mixes positions
//! within a sequence (attention, scans, recurrences, the score kernels of unfused attention)
//! runs once per distinct length with that length's count as its batch — quadratic in each
//! length, never in the longest. Fused attention (forward) ops of one layer form a varlen group
//! ([`VarlenMember`]) that the engine prices as one kernel launch over one grid.
//!
//! Invariants (tests beside this file and `tests/varlen.rs`):
//! - FLOPs and MACs equal the sum of separate runs at each length (its count as batch);
//! - a one-length distribution gives the padded graph at that length, op for op;
//! - packing never has more FLOPs than padding every sequence to the longest.

use std::path::Path;

use serde::Serialize;
use thiserror::Error;

use crate::{Graph, IrError, Op, OpKind, Operand, Role};

/// What is wrong with a distribution, or with the graphs built for it.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VarlenError {
    #[error("sequence-length distribution is empty; give `len:count` pairs, e.g. `128:4,384:2`")]
    Empty,
    #[error("sequence-length distribution{at}: `{token}`: {msg}")]
    Parse {
        /// ` (line N)` for a file, empty inline.
        at: String,
        token: String,
        msg: String,
    },
    #[error("sequence length {len} exceeds the model's {max} positions")]
    TooLong { len: u64, max: u64 },
    #[error("sequence-length distribution: {what} overflows")]
    Overflow { what: String },
    #[error("variable-length packing: the graphs built at lengths {a} and {b} differ at {what}; the model's structure depends on the length, so it cannot be packed")]
    Mismatch { a: u64, b: u64, what: String },
    #[error("variable-length packing applies to encoders and prefill, not to a {phase} graph")]
    Phase { phase: String },
    #[error("model `{model}` has no sequence length to vary (its graph is the same at every length); --seq-dist applies to sequence models")]
    NoSequence { model: String },
    #[error("cannot read sequence-length file `{path}`: {msg}")]
    Read { path: String, msg: String },
    #[error(transparent)]
    Ir(#[from] IrError),
}

/// A distribution of sequence lengths: `(len, count)` bins, sorted by length, one per
/// length (a length listed twice has its counts added).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeqDist {
    bins: Vec<(u64, u64)>,
}

/// The largest count of sequences or tokens a distribution may hold: the IR's element
/// bound, so every op sized from it stays checkable.
const MAX_TOTAL: u64 = crate::MAX_ELEMS;

impl SeqDist {
    /// A distribution from `(len, count)` pairs; lengths and counts at least 1, totals
    /// within the IR's element bound.
    pub fn new(pairs: &[(u64, u64)]) -> Result<SeqDist, VarlenError> {
        if pairs.is_empty() {
            return Err(VarlenError::Empty);
        }
        let mut bins: Vec<(u64, u64)> = Vec::with_capacity(pairs.len());
        for &(len, count) in pairs {
            let token = format!("{len}:{count}");
            let bad = |msg: &str| VarlenError::Parse {
                at: String::new(),
                token: token.clone(),
                msg: msg.to_string(),
            };
            if len == 0 {
                return Err(bad("a sequence length must be at least 1"));
            }
            if count == 0 {
                return Err(bad("a count must be at least 1"));
            }
            match bins.iter_mut().find(|(l, _)| *l == len) {
                Some((_, c)) => {
                    *c = c.checked_add(count).ok_or_else(|| VarlenError::Overflow {
                        what: format!("the count of length {len}"),
                    })?
                }
                None => bins.push((len, count)),
            }
        }
        bins.sort_unstable();
        let d = SeqDist { bins };
        for (what, v) in [
            ("the number of sequences", d.checked_sequences()),
            ("the packed token count", d.checked_packed()),
            ("the padded token count", d.checked_padded()),
        ] {
            match v {
                Some(v) if v <= MAX_TOTAL => {}
                _ => {
                    return Err(VarlenError::Overflow {
                        what: format!("{what} (limit {MAX_TOTAL})"),
                    })
                }
            }
        }
        Ok(d)
    }

    /// Parses the inline form `len:count,len:count,...` (spaces allowed around items).
    pub fn parse_inline(s: &str) -> Result<SeqDist, VarlenError> {
        let mut pairs = Vec::new();
        for item in s.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            pairs.push(parse_pair(item, ':', "")?);
        }
        SeqDist::new(&pairs)
    }

    /// Parses the file form: one `len,count` per line; `#` starts a comment, blank lines
    /// are skipped. Errors name the line.
    pub fn parse_lines(text: &str) -> Result<SeqDist, VarlenError> {
        let mut pairs = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let at = format!(" (line {})", i + 1);
            let pair = parse_pair(line, ',', &at)?;
            // Lines are checked one by one so a zero names its line.
            SeqDist::new(&[pair]).map_err(|e| match e {
                VarlenError::Parse { token, msg, .. } => VarlenError::Parse {
                    at: at.clone(),
                    token,
                    msg,
                },
                other => other,
            })?;
            pairs.push(pair);
        }
        SeqDist::new(&pairs)
    }

    /// A command-line value: a path to a file (on disk or in [`crate::memfs`]) in the file
    /// form, else the inline form.
    pub fn from_arg(arg: &str) -> Result<SeqDist, VarlenError> {
        let path = Path::new(arg);
        let is_file = crate::memfs::get(arg).is_some() || path.is_file();
        if !is_file {
            // Not a file and not a list of pairs, but shaped like a path: say so.
            if !arg.contains(':') && (arg.contains('/') || arg.contains('.')) {
                return Err(VarlenError::Read {
                    path: arg.to_string(),
                    msg: "no such file (an inline distribution is `len:count,...`)".into(),
                });
            }
            return SeqDist::parse_inline(arg);
        }
        let text = crate::memfs::read_to_string(path).map_err(|e| VarlenError::Read {
            path: arg.to_string(),
            msg: e.to_string(),
        })?;
        SeqDist::parse_lines(&text).map_err(|e| match e {
            VarlenError::Parse { at, token, msg } => VarlenError::Parse {
                at: format!(" `{arg}`{at}"),
                token,
                msg,
            },
            other => other,
        })
    }

    /// `(len, count)` bins, shortest first.
    pub fn bins(&self) -> &[(u64, u64)] {
        &self.bins
    }

    fn checked_sequences(&self) -> Option<u64> {
        self.bins
            .iter()
            .try_fold(0u64, |a, (_, c)| a.checked_add(*c))
    }

    fn checked_packed(&self) -> Option<u64> {
        self.bins
            .iter()
            .try_fold(0u64, |a, (l, c)| a.checked_add(l.checked_mul(*c)?))
    }

    fn checked_padded(&self) -> Option<u64> {
        self.checked_sequences()?.checked_mul(self.max_len())
    }

    /// Sequences in the pass.
    pub fn sequences(&self) -> u64 {
        // Checked against MAX_TOTAL in `new`.
        self.bins.iter().map(|(_, c)| c).sum()
    }

    /// Tokens actually computed: `Σ count · len`.
    pub fn packed_tokens(&self) -> u64 {
        self.bins.iter().map(|(l, c)| l * c).sum()
    }

    /// The longest length (what a padded harness pads every sequence to).
    pub fn max_len(&self) -> u64 {
        self.bins.last().map_or(0, |(l, _)| *l)
    }

    /// Tokens of the padded pass: every sequence at the longest length.
    pub fn padded_tokens(&self) -> u64 {
        self.sequences() * self.max_len()
    }

    /// Errors when a length exceeds `max` (the model's learned positions).
    pub fn check_max_len(&self, max: u64) -> Result<(), VarlenError> {
        match self.bins.iter().find(|(l, _)| *l > max) {
            Some(&(len, _)) => Err(VarlenError::TooLong { len, max }),
            None => Ok(()),
        }
    }

    /// The inline form, `len:count,...`, shortest first (parses back to `self`).
    pub fn to_inline(&self) -> String {
        let items: Vec<String> = self.bins.iter().map(|(l, c)| format!("{l}:{c}")).collect();
        items.join(",")
    }

    /// What a report says about the distribution.
    pub fn summary(&self) -> SeqDistSummary {
        let (seqs, packed, padded) = (self.sequences(), self.packed_tokens(), self.padded_tokens());
        SeqDistSummary {
            bins: self.to_inline(),
            sequences: seqs,
            max_len: self.max_len(),
            mean_len: packed as f64 / seqs as f64,
            packed_tokens: packed,
            padded_tokens: padded,
            padding_saved: 1.0 - packed as f64 / padded as f64,
        }
    }
}

fn parse_pair(item: &str, sep: char, at: &str) -> Result<(u64, u64), VarlenError> {
    let bad = |msg: String| VarlenError::Parse {
        at: at.to_string(),
        token: item.to_string(),
        msg,
    };
    let Some((l, c)) = item.split_once(sep) else {
        return Err(bad(format!("expected `len{sep}count`")));
    };
    let num = |s: &str, what: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| bad(format!("{what} `{}` is not a whole number", s.trim())))
    };
    Ok((num(l, "length")?, num(c, "count")?))
}

/// The distribution a packed graph was built for, as reports show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeqDistSummary {
    /// The inline form, `len:count,...`.
    pub bins: String,
    pub sequences: u64,
    pub max_len: u64,
    pub mean_len: f64,
    /// Tokens computed, `Σ count · len`.
    pub packed_tokens: u64,
    /// Tokens a padded pass would compute: `sequences · max_len`.
    pub padded_tokens: u64,
    /// `1 − packed / padded`: the share of the padded tokens packing does not compute.
    pub padding_saved: f64,
}

/// One fused-attention op of a varlen group: the ops of one layer's attention, one per
/// distinct length, that a varlen kernel runs as one launch over one grid (flash-attn's
/// `flash_attn_varlen_func` schedules the blocks of every sequence in one grid, indexed
/// through `cu_seqlens`). The first member (`index` 0) carries the launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VarlenMember {
    /// Position in the group; 0 is the member that pays the launch.
    pub index: u32,
    /// Members in the group (distinct lengths).
    pub members: u32,
}

impl VarlenMember {
    /// Runs in the group's kernel launched by an earlier member: no launch of its own.
    pub fn shares_launch(&self) -> bool {
        self.index > 0
    }
}

impl Graph {
    /// The unpadded pass over `dist`: `build(batch, seq)` lowers the model at one length
    /// (a padded graph); the result packs every token-parallel op over `Σ count · len`
    /// tokens and runs each op that mixes positions once per distinct length with its
    /// count as the batch. The builder's own errors pass through.
    pub fn pack_varlen<E, F>(dist: &SeqDist, mut build: F) -> Result<Graph, E>
    where
        E: From<VarlenError>,
        F: FnMut(u64, u64) -> Result<Graph, E>,
    {
        let mut parts = Vec::with_capacity(dist.bins.len());
        for &(len, count) in &dist.bins {
            parts.push((len, build(count, len)?));
        }
        if let Some((len, g)) = parts.first() {
            check_phase(g)?;
            // A model whose graph does not change with the length (a CNN) has no sequence
            // to pack: refuse rather than report its batch as "unpadded".
            let other = if *len > 1 { len - 1 } else { len + 1 };
            if let Ok(o) = build(g.batch, other) {
                if o.ops == g.ops {
                    return Err(VarlenError::NoSequence {
                        model: g.name.clone(),
                    }
                    .into());
                }
            }
        }
        // One more sequence at the first length shows which dimension of each op grows
        // with the batch.
        let probe = match dist.bins.first() {
            Some(&(len, count)) if dist.bins.len() > 1 => Some(build(count + 1, len)?),
            _ => None,
        };
        Ok(pack(dist, parts, probe)?)
    }
}

/// Whether an op mixes positions within a sequence, so it cannot run over packed tokens.
fn sequence_local(kind: &OpKind) -> bool {
    matches!(
        kind,
        OpKind::Attention(_) | OpKind::AttentionGrad(_) | OpKind::Recurrent(_) | OpKind::Scan(_)
    )
}

/// The scalar sizes of an op's kind, in a fixed order, for comparing instances.
fn scalars(kind: &OpKind) -> Vec<u64> {
    match kind {
        OpKind::Matmul(m) => vec![m.batch, m.m, m.n, m.k],
        OpKind::Conv(c) => vec![c.n, c.c, c.h, c.w, c.k, c.r, c.s],
        OpKind::Embedding { tokens, dim, .. } => vec![*tokens, *dim],
        OpKind::Elementwise {
            elems,
            flops_per_elem,
            ..
        } => vec![*elems, *flops_per_elem],
        OpKind::Norm { rows, cols, .. }
        | OpKind::Softmax { rows, cols, .. }
        | OpKind::Loss { rows, cols, .. } => vec![*rows, *cols],
        OpKind::Reduce { in_elems, .. } => vec![*in_elems],
        OpKind::Collective { bytes, group, .. } => vec![*bytes, *group],
        // Sequence-local kinds never merge; data movement and unknown ops are their operands.
        OpKind::Attention(_)
        | OpKind::AttentionGrad(_)
        | OpKind::Recurrent(_)
        | OpKind::Scan(_)
        | OpKind::DataMovement { .. }
        | OpKind::Unknown { .. } => vec![],
    }
}

/// `kind` with its scalar at `at` replaced by `v` (same order as [`scalars`]).
fn with_scalar(kind: &OpKind, at: usize, v: u64) -> OpKind {
    let mut k = kind.clone();
    match &mut k {
        OpKind::Matmul(m) => *[&mut m.batch, &mut m.m, &mut m.n, &mut m.k][at] = v,
        OpKind::Conv(c) => {
            *[
                &mut c.n, &mut c.c, &mut c.h, &mut c.w, &mut c.k, &mut c.r, &mut c.s,
            ][at] = v
        }
        OpKind::Embedding { tokens, dim, .. } => *[tokens, dim][at] = v,
        OpKind::Elementwise {
            elems,
            flops_per_elem,
            ..
        } => *[elems, flops_per_elem][at] = v,
        OpKind::Norm { rows, cols, .. }
        | OpKind::Softmax { rows, cols, .. }
        | OpKind::Loss { rows, cols, .. } => *[rows, cols][at] = v,
        OpKind::Reduce { in_elems, .. } => *in_elems = v,
        OpKind::Collective { bytes, group, .. } => *[bytes, group][at] = v,
        _ => {}
    }
    k
}

/// Positions where the instances' values differ.
fn differing(rows: &[Vec<u64>]) -> Vec<usize> {
    let first = &rows[0];
    (0..first.len())
        .filter(|&i| rows.iter().any(|r| r.get(i) != first.get(i)))
        .collect()
}

/// One instance per length of an op that is linear in its one token dimension: the op over
/// the packed tokens, that dimension summed over the lengths. `probe` is the op built with
/// one more sequence at the first length: the scalar (and operand dimension) that differs
/// from the first instance is the op's batch-linear one, summed when the lengths do not
/// tell it (a per-sequence op, such as a pooler over one token per sequence, is the same at
/// every length of equal count). `None` when the op is not linear in one dimension (more
/// than one scalar differs, or the lengths and the batch change different ones: an
/// unfused attention's `[batch·heads, len, len]` score GEMM): it then runs per length.
fn merge_linear(ops: &[&Op], probe: &Op, g: &Graph) -> Result<Option<Op>, VarlenError> {
    let kinds: Vec<Vec<u64>> = ops.iter().map(|o| scalars(&o.kind)).collect();
    let diff = differing(&kinds);
    let by_batch = differing(&[kinds[0].clone(), scalars(&probe.kind)]);
    let at = match (diff.as_slice(), by_batch.as_slice()) {
        ([], []) => None,
        ([], [b]) => Some(*b),
        ([d], [b]) if d == b => Some(*d),
        // Depends on the length alone (a position bias per distinct length): one per length,
        // summed.
        ([d], []) => Some(*d),
        _ => return Ok(None),
    };
    let mut out = ops[0].clone();
    if let Some(at) = at {
        let sum = checked_sum(ops[0], kinds.iter().map(|k| k[at]))?;
        out.kind = with_scalar(&out.kind, at, sum);
    }
    for (j, operand) in out.operands.iter_mut().enumerate() {
        let shapes: Vec<Vec<u64>> = ops.iter().map(|o| o.operands[j].shape.clone()).collect();
        let by_batch = probe
            .operands
            .get(j)
            .map(|p| differing(&[shapes[0].clone(), p.shape.clone()]))
            .unwrap_or_default();
        let dims = differing(&shapes);
        let dim = match (dims.as_slice(), by_batch.as_slice()) {
            ([], []) => continue,
            ([], [b]) => *b,
            ([d], _) => *d,
            _ => {
                // A layout that changes in more than one dimension: its elements, flat,
                // summed — bytes are what the costing reads from an operand.
                let total = checked_sum(
                    ops[0],
                    ops.iter()
                        .map(|o| o.operands[j].shape.iter().product::<u64>()),
                )?;
                operand.shape = vec![total];
                continue;
            }
        };
        let sum = checked_sum(
            ops[0],
            shapes.iter().map(|s| s.get(dim).copied().unwrap_or(1)),
        )?;
        if let Some(x) = operand.shape.get_mut(dim) {
            *x = sum;
        }
        clamp_to_weight(operand, dim, g);
    }
    Ok(Some(out))
}

/// A gathered weight (an embedding table read row by row) reads at most the rows it has.
fn clamp_to_weight(operand: &mut Operand, d: usize, g: &Graph) {
    if operand.role != Role::Weight {
        return;
    }
    if let Some(w) = g.weights.iter().find(|w| w.name == operand.tensor) {
        if let Some(&rows) = w.shape.get(d) {
            operand.shape[d] = operand.shape[d].min(rows);
        }
    }
}

fn checked_sum(op: &Op, vals: impl Iterator<Item = u64>) -> Result<u64, VarlenError> {
    let mut total = 0u64;
    for v in vals {
        total = total.checked_add(v).ok_or_else(|| {
            VarlenError::Ir(IrError::Overflow {
                op: op.name.clone(),
                what: "packed token dimension".into(),
                dims: vec![],
                max: crate::MAX_ELEMS,
            })
        })?;
    }
    crate::checked_product(&op.name, "packed token dimension", &[total])?;
    Ok(total)
}

fn check_phase(g: &Graph) -> Result<(), VarlenError> {
    match g.phase {
        crate::Phase::Inference | crate::Phase::Prefill => Ok(()),
        p => Err(VarlenError::Phase {
            phase: p.name().to_string(),
        }),
    }
}

fn pack(
    dist: &SeqDist,
    parts: Vec<(u64, Graph)>,
    probe: Option<Graph>,
) -> Result<Graph, VarlenError> {
    let Some((first_len, first)) = parts.first() else {
        return Err(VarlenError::Empty);
    };
    if !matches!(first.phase, crate::Phase::Inference | crate::Phase::Prefill) {
        return Err(VarlenError::Phase {
            phase: first.phase.name().to_string(),
        });
    }
    let probe_part = probe.map(|g| (*first_len, g));
    for (len, g) in parts[1..].iter().chain(probe_part.as_ref()) {
        let mismatch = |what: String| VarlenError::Mismatch {
            a: *first_len,
            b: *len,
            what,
        };
        if g.ops.len() != first.ops.len() {
            return Err(mismatch(format!(
                "their op counts ({} and {})",
                first.ops.len(),
                g.ops.len()
            )));
        }
        if g.weights != first.weights {
            return Err(mismatch("their parameters".into()));
        }
        for (a, b) in first.ops.iter().zip(&g.ops) {
            if a.name != b.name
                || a.kind.family() != b.kind.family()
                || a.operands.len() != b.operands.len()
                || a.repeat != b.repeat
                || a.role != b.role
                || a.layer != b.layer
                || a.epilogue != b.epilogue
            {
                return Err(mismatch(format!("op `{}` (`{}`)", a.name, b.name)));
            }
        }
    }
    let summary = dist.summary();
    let mut out = Graph::new(
        &first.name,
        first.phase,
        summary.sequences,
        // The mean length, rounded: the exact token count is in `seq_dist`.
        (summary.mean_len.round() as u64).max(1),
    );
    out.weights = first.weights.clone();
    for j in 0..first.ops.len() {
        let ops: Vec<&Op> = parts.iter().map(|(_, g)| &g.ops[j]).collect();
        if parts.len() == 1 {
            out.ops.push(ops[0].clone());
            continue;
        }
        let probe = probe_part.as_ref().map(|(_, g)| &g.ops[j]);
        if let (false, Some(probe)) = (sequence_local(&ops[0].kind), probe) {
            if let Some(op) = merge_linear(&ops, probe, first)? {
                out.ops.push(op);
                continue;
            }
        }
        // One op per distinct length; fused attention ops share one varlen launch.
        let group = matches!(ops[0].kind, OpKind::Attention(_) | OpKind::AttentionGrad(_));
        let members = u32::try_from(ops.len()).unwrap_or(u32::MAX);
        for (i, ((len, _), op)) in parts.iter().zip(&ops).enumerate() {
            let mut op = (*op).clone();
            op.name = format!("{}@len{len}", op.name);
            if group {
                op.varlen = Some(VarlenMember {
                    index: u32::try_from(i).unwrap_or(u32::MAX),
                    members,
                });
            }
            out.ops.push(op);
        }
    }
    out.seq_dist = Some(summary);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_parses_and_merges_duplicates() {
        let d = SeqDist::parse_inline(" 384:2, 128:4 ,128:1").unwrap();
        assert_eq!(d.bins(), &[(128, 5), (384, 2)]);
        assert_eq!(d.sequences(), 7);
        assert_eq!(d.packed_tokens(), 128 * 5 + 384 * 2);
        assert_eq!(d.padded_tokens(), 7 * 384);
        assert_eq!(SeqDist::parse_inline(&d.to_inline()).unwrap(), d);
    }

    #[test]
    fn bad_inline_names_the_token() {
        let e = SeqDist::parse_inline("128:4,abc:2")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`abc:2`") && e.contains("length `abc`"), "{e}");
        let e = SeqDist::parse_inline("128").unwrap_err().to_string();
        assert!(e.contains("`128`") && e.contains("len:count"), "{e}");
        let e = SeqDist::parse_inline("0:4").unwrap_err().to_string();
        assert!(e.contains("at least 1"), "{e}");
        let e = SeqDist::parse_inline("16:0").unwrap_err().to_string();
        assert!(e.contains("count must be at least 1"), "{e}");
        assert_eq!(SeqDist::parse_inline(" , "), Err(VarlenError::Empty));
    }

    #[test]
    fn file_form_names_the_line() {
        let d = SeqDist::parse_lines("# len,count\n128,4\n\n384, 2 # tail\n").unwrap();
        assert_eq!(d.bins(), &[(128, 4), (384, 2)]);
        let e = SeqDist::parse_lines("128,4\n256;3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("(line 2)") && e.contains("`256;3`"), "{e}");
        let e = SeqDist::parse_lines("128,4\n256,0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("(line 2)"), "{e}");
        assert_eq!(SeqDist::parse_lines("# nothing\n"), Err(VarlenError::Empty));
    }

    #[test]
    fn totals_beyond_the_ir_bound_are_errors() {
        let e = SeqDist::new(&[(u64::MAX, 2)]).unwrap_err();
        assert!(matches!(e, VarlenError::Overflow { .. }), "{e}");
        let e = SeqDist::new(&[(1, u64::MAX), (1, 1)]).unwrap_err();
        assert!(matches!(e, VarlenError::Overflow { .. }), "{e}");
    }

    #[test]
    fn too_long_is_an_error() {
        let d = SeqDist::parse_inline("128:1,600:1").unwrap();
        assert_eq!(
            d.check_max_len(512),
            Err(VarlenError::TooLong { len: 600, max: 512 })
        );
        assert!(d.check_max_len(600).is_ok());
    }
}
