//! How an iteration's cost is put together from per-kernel terms, shared by the
//! single-device and the tensor-parallel step models.

use xpusim_ir::Role;

use crate::grid::{Cost, Memo};
use crate::step::{EnergyParts, IterationShape, StepCost};
use crate::ServeError;

/// What a hardware backend must price; every value is a [`Cost`] (time, then energy by
/// part) for the whole replica.
pub(crate) trait Backend {
    /// (body, LM head) of a pass with `rows` token rows: the body is every op but attention
    /// and the LM head (collectives included); the head is the LM head over `rows` rows.
    fn pass(&self, rows: u64) -> Result<(Cost, Cost), ServeError>;
    /// All layers' attention for `batch` sequences of `q` queries over `kv` keys (causal).
    fn attention(&self, batch: u64, q: u64, kv: u64, role: Role) -> Result<Cost, ServeError>;
}

/// Memo tables of the four terms.
#[derive(Debug, Default)]
pub(crate) struct Memoised {
    body: Memo,
    head: Memo,
    decode_attn: Memo,
    prefill_attn: Memo,
}

/// Sequences and their mean cached context, rounded to the nearest position.
fn decode_mean(ctx: &[u64]) -> (u64, u64) {
    let n = ctx.len() as u64;
    let sum: u64 = ctx.iter().sum();
    (n, (sum + n / 2) / n.max(1))
}

fn prefill<B: Backend>(b: &B, tokens: u64, prior: u64) -> Result<Cost, ServeError> {
    // Earlier chunks' K/V come from the cache; a whole prompt's K/V are fresh activations.
    let role = if prior > 0 {
        Role::KvCache
    } else {
        Role::Input
    };
    let q = tokens.max(1);
    b.attention(1, q, prior + q, role)
}

fn total(parts: impl IntoIterator<Item = Cost>) -> StepCost {
    let mut sum: Cost = [0.0; 1 + crate::step::PARTS];
    for p in parts {
        for (s, x) in sum.iter_mut().zip(p) {
            *s += x;
        }
    }
    StepCost::new(sum[0], EnergyParts::from_array(&sum[1..]))
}

impl Memoised {
    pub fn points(&self) -> usize {
        self.body.len() + self.head.len() + self.decode_attn.len() + self.prefill_attn.len()
    }

    /// Body + head (exact per token count) + decode attention at the mean context (with `q`
    /// queries per sequence under speculative decoding) and each
    /// prefill chunk's attention (bilinear on the grid).
    pub fn step<B: Backend>(&self, b: &B, it: &IterationShape<'_>) -> Result<StepCost, ServeError> {
        let t = it.tokens();
        if t == 0 {
            return Ok(StepCost::default());
        }
        let mut parts = Vec::with_capacity(3 + it.prefill.len());
        parts.push(self.body.exact(t, |x| Ok::<_, ServeError>(b.pass(x)?.0))?);
        parts.push(
            self.head
                .exact(it.logits().max(1), |x| Ok::<_, ServeError>(b.pass(x)?.1))?,
        );
        if !it.decode_contexts.is_empty() {
            let (n, l) = decode_mean(it.decode_contexts);
            parts.push(
                self.decode_attn
                    .get2(n, l, |n, l| b.attention(n.max(1), 1, l + 1, Role::KvCache))?,
            );
        }
        for c in it.prefill {
            parts.push(
                self.prefill_attn
                    .get2(c.tokens, c.prior, |q, p| prefill(b, q, p))?,
            );
        }
        Ok(total(parts))
    }

    /// The same composition with every term evaluated directly.
    pub fn step_exact<B: Backend>(
        &self,
        b: &B,
        it: &IterationShape<'_>,
    ) -> Result<StepCost, ServeError> {
        let t = it.tokens();
        if t == 0 {
            return Ok(StepCost::default());
        }
        let mut parts = vec![b.pass(t)?.0, b.pass(it.logits().max(1))?.1];
        if !it.decode_contexts.is_empty() {
            let (n, l) = decode_mean(it.decode_contexts);
            let q = it.decode_tokens.max(1);
            parts.push(b.attention(n, q, l + q, Role::KvCache)?);
        }
        for c in it.prefill {
            parts.push(prefill(b, c.tokens, c.prior)?);
        }
        Ok(total(parts))
    }
}
