//! Weight-only quantisation groups: scales and zero points travel with the weights.

use xpusim_ir::{DType, Op, Precision, Role};

#[test]
fn grouped_int4_weights_carry_their_scales() {
    let p = Precision::parse("w4a16g32", DType::Bf16).unwrap();
    let op = Op::linear("l", 1, 4096, 4096, "w", p).unwrap();
    let w = op.operands.iter().find(|o| o.role == Role::Weight).unwrap();
    // 4 bits per weight plus a 16-bit scale and zero per 32: 5 bits.
    assert_eq!(w.bytes(), 4096 * 4096 * 5 / 8);
    let plain = Precision::parse("w4a16", DType::Bf16).unwrap();
    let op = Op::linear("l", 1, 4096, 4096, "w", plain).unwrap();
    assert_eq!(op.operands[1].bytes(), 4096 * 4096 / 2);
    // Groups never apply to 16-bit weights.
    let mut bf = Precision::uniform(DType::Bf16);
    bf.weight_group = 32;
    let op = Op::linear("l", 1, 64, 64, "w", bf).unwrap();
    assert!(op.operands.iter().all(|o| o.group == 0));
}
