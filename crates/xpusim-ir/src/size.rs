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
            .filter(|&v| v <= MAX_ELEMS)
            .ok_or_else(|| IrError::Overflow {
                op: op.to_string(),
                what: what.to_string(),
                dims: dims.to_vec(),
                max: MAX_ELEMS,
            })?;
    }
    Ok(p)
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
    }
}
