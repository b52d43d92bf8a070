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

/// Largest work of one op — MACs of one instance, and MACs, vector FLOPs or bytes over all
/// its `repeat` instances (checked by the constructors and [`crate::Op::times`]):
/// 2^61 ≈ 2.3e18.
///
/// Tensors stay within [`MAX_ELEMS`]; the work between them may go far further: a 70B
/// prefill of 4096 sequences × 8192 tokens is 2.8e15 MACs in one QKV projection, and its
/// gate/up projections over 80 layers 2.5e17 (2^57.8). With every per-op total below 2^61,
/// an op's FLOPs (2 per MAC plus vector FLOPs, which never exceed its MACs by more than
/// the few per element of the elementwise ops) stay below 3·2^61 < 2^63, so the products
/// `flops() × repeat` and `bytes × repeat` callers form never overflow `u64`; sums over
/// many ops are the caller's to saturate ([`crate::Graph::totals`] does). Work beyond that
/// (a 405B model on a 16 M-token global batch: 1.5e19 MACs in one projection) is for the
/// composition to count over micro-batches in `f64` or `u128`, never by building a larger
/// graph.
pub const MAX_WORK: u64 = 1 << 61;

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
        assert!(checked_work("x", "w", &[1024, 1 << 52]).is_err());
        assert_eq!(checked_work("x", "w", &[80, 1 << 52]).unwrap(), 80 << 52);
        assert!(matches!(
            checked_work("x", "w", &[0, 3]),
            Err(IrError::ZeroDim { .. })
        ));
    }
}

#[cfg(test)]
mod work_tests {
    use crate::DType::Bf16;
    use crate::{MatmulSpec, Names, Op, Role};

    /// Issue #16: a 70B prefill of 4096 × 8192 tokens was refused (2.8e15 MACs in one
    /// projection, above the one-tensor bound); its tensors are within MAX_ELEMS and its
    /// MACs within MAX_WORK, so it is built and counted exactly.
    #[test]
    fn work_beyond_one_tensor_bound_is_counted_exactly() {
        let tokens: u64 = 4096 * 8192;
        let spec = MatmulSpec {
            batch: 1,
            m: tokens,
            n: 10_240,
            k: 8_192,
            rhs_batched: false,
        };
        let n = Names {
            lhs: "x",
            rhs: "w",
            out: "y",
        };
        let op = Op::matmul("qkv", spec, n, Role::Weight, Bf16, Bf16, Bf16)
            .unwrap()
            .times(80)
            .unwrap();
        assert_eq!(op.macs(), tokens * 10_240 * 8_192);
        assert_eq!(op.flops() * op.repeat, 2 * 80 * tokens * 10_240 * 8_192);
        // A tensor beyond MAX_ELEMS is still refused, naming it.
        let huge = MatmulSpec { m: 1 << 40, ..spec };
        let e = Op::matmul("qkv", huge, n, Role::Weight, Bf16, Bf16, Bf16).unwrap_err();
        assert!(e.to_string().contains("lhs"), "{e}");
    }
}
