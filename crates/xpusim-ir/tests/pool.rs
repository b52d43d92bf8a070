//! `Op::pool`: a pooling window's arithmetic counts every window tap, its input crosses
//! memory once.

use xpusim_ir::{DType, Op, Role};

#[test]
fn a_pool_reads_its_input_once_and_compares_every_tap() {
    // ResNet's stem max pool on one 64 × 112 × 112 map: 3 × 3 windows at stride 2.
    let (input, out) = (64 * 112 * 112, 64 * 56 * 56);
    let pool = Op::pool("mp", "max", input, out, 9, DType::Fp16).unwrap();
    let windowed = Op::reduce("mp", "max", out * 9, out, DType::Fp16).unwrap();
    assert_eq!(pool.flops(), windowed.flops());
    assert_eq!(pool.bytes_by_role(Role::Input), 2 * input);
    assert_eq!(pool.bytes_by_role(Role::Output), 2 * out);
    assert!(pool.bytes_by_role(Role::Input) < windowed.bytes_by_role(Role::Input));
    let e = Op::pool("mp", "max", input, u64::MAX, 9, DType::Fp16).unwrap_err();
    assert!(e.to_string().contains("mp"), "{e}");
}
