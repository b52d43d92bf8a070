//! A varlen attention group (flash-attn's `flash_attn_varlen_func`: every length of a packed
//! batch in one grid through `cu_seqlens`) is one launch: the members after the first pay no
//! launch and fill the grid's waves fractionally, so the group never costs more than the
//! lengths launched one by one, and at least the work of the largest wave count.

use xpusim_engine::cost_op;
use xpusim_hw::find_preset;
use xpusim_ir::{AttentionSpec, DType, Op, Precision, Role, VarlenMember};

fn op(len: u64, count: u64, member: Option<VarlenMember>) -> Op {
    let spec = AttentionSpec {
        batch: count,
        heads: 16,
        kv_heads: 16,
        q_len: len,
        kv_len: len,
        head_dim: 64,
        v_head_dim: 64,
        causal: false,
    };
    let mut op = Op::attention("sdpa", spec, Role::Input, Precision::uniform(DType::Fp16))
        .expect("valid attention");
    op.varlen = member;
    op
}

#[test]
fn a_group_is_one_launch_and_never_slower_than_separate_launches() {
    let lengths = [(96, 3), (160, 5), (384, 2)];
    let members = lengths.len() as u32;
    for name in ["a100-80gb", "h100-sxm"] {
        let dev = find_preset(name).unwrap();
        let (mut alone, mut grouped) = (0.0, 0.0);
        for (i, &(len, count)) in lengths.iter().enumerate() {
            let a = cost_op(&op(len, count, None), &dev).unwrap();
            let m = VarlenMember {
                index: i as u32,
                members,
            };
            let g = cost_op(&op(len, count, Some(m)), &dev).unwrap();
            if i == 0 {
                // The first member is the kernel: launch and rounded-up waves as alone.
                assert_eq!(g.time_s, a.time_s, "{name}");
                assert!(g.overhead_s > 0.0);
            } else {
                assert_eq!(g.overhead_s, 0.0, "{name}: member {i} launches");
                assert!(g.time_s <= a.time_s, "{name}: member {i}");
            }
            alone += a.time_s;
            grouped += g.time_s;
        }
        assert!(grouped < alone, "{name}: {grouped} vs {alone}");
    }
}
