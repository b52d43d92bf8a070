//! Checked size arithmetic for user-controlled dimensions.

use crate::IrError;

/// Largest element count any single tensor or op may have (2^50 ≈ 1.1e15).
///
/// Keeping every count below 2^50 leaves 2^14 of headroom so that per-op totals
/// (elements × bytes, MACs × 2, × repeat counts of a few thousand layers) stay inside u64
/// without re-checking at every use. No real model approaches it: a 1 T-parameter model
/// with a 1 M-token batch is ~2^40 elements per tensor.
pub const MAX_ELEMS: u64 = 1 << 50;

/// Product of `dims`, or an error naming `op` and `what` if any is 0 or the product exceeds
/// [`MAX_ELEMS`].
pub fn checked_product(op: &str, what: &str, dims: &[u64]) -> Result<u64, IrError> {
    bounded_product(op, what, dims, MAX_ELEMS)
}

fn bounded_product(op: &str, what: &str, dims: &[u64], max: u64) -> Result<u64, IrError> {
    let mut p: u64 = 1;
    for &d in dims {
        if d == 0 {
            return Err(IrError::ZeroDim {
                op: op.to_string(),
                dim: what.to_string(),
            });
        }
        p = p
            .checked_mul(d)
            .filter(|&v| v <= max)
            .ok_or_else(|| IrError::Overflow {
                op: op.to_string(),
                what: what.to_string(),
                dims: dims.to_vec(),
                max,
            })?;
    }
    Ok(p)
}

/// Largest total of one op over all its `repeat` instances (MACs, vector FLOPs or bytes ×
/// `repeat`, checked by [`crate::Op::times`]): 2^56 ≈ 7.2e16.
///
/// One instance stays within [`MAX_ELEMS`]; a stack of identical layers may go further: a
/// training micro-batch of 16 × 8192 tokens through Llama-3-70B's 80 layers is
/// 80 × 131 072 · 8192 · 57 344 ≈ 4.9e15 gate/up MACs (2^52.1), and Llama-3.1-405B's
/// 126 layers at the same micro-batch 2.9e16 (2^54.7). With every per-op total below 2^56,
/// an op's FLOPs (2 per MAC plus vector FLOPs of at most a few per MAC) stay below 2^59, so
/// the products `flops() × repeat` and `bytes × repeat` callers form never overflow `u64`;
/// sums over many ops are the caller's to saturate ([`crate::Graph::totals`] does). Work
/// beyond one micro-batch (a 16 M-token global batch: 10^20 FLOPs per op) is for the
/// composition to count in `f64` or `u128`, never by building a larger graph.
pub const MAX_WORK: u64 = 1 << 56;

/// Product of `dims` bounded by [`MAX_WORK`] instead of [`MAX_ELEMS`].
pub fn checked_work(op: &str, what: &str, dims: &[u64]) -> Result<u64, IrError> {
    bounded_product(op, what, dims, MAX_WORK)
}

/// `a * b` with the same bound as [`checked_product`].
pub fn checked_mul(op: &str, what: &str, a: u64, b: u64) -> Result<u64, IrError> {
    checked_product(op, what, &[a, b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_overflow_are_errors() {
        assert!(matches!(
            checked_product("x", "m", &[3, 0]),
            Err(IrError::ZeroDim { .. })
        ));
        assert!(matches!(
            checked_product("x", "m", &[1 << 40, 1 << 40]),
            Err(IrError::Overflow { .. })
        ));
        assert_eq!(checked_product("x", "m", &[2, 3, 7]).unwrap(), 42);
        // A repeated stack may exceed one tensor's bound, not MAX_WORK.
        assert!(checked_work("x", "w", &[80, 1 << 52]).is_err());
        assert_eq!(checked_work("x", "w", &[8, 1 << 52]).unwrap(), 1 << 55);
        assert!(matches!(
            checked_work("x", "w", &[0, 3]),
            Err(IrError::ZeroDim { .. })
        ));
    }
}
