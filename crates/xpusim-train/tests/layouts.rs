//! The layout options published runs needed, beyond the degrees: the pipeline cut with
//! the embedding and loss as layers, hybrid sharding, synchronised BatchNorm, tensor-parallel
//! communication overlap, and how deep the search interleaves.

mod common;

use common::{builder, close, layout, target};
use xpusim_train::*;

/// Counting the embedding and the loss as layers in the pipeline cut (Megatron-Core's
/// `--account-for-*-in-pipeline-split`, Llama 3) moves layers between chunks but no work
/// in or out of the step, and allows as many chunks as layers plus those two.
#[test]
fn the_pipeline_split_moves_layers_not_flops() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 16);
    let base = TrainLayout {
        schedule: Schedule::Interleaved(2),
        ..layout(4, 4, 1, 1, 16)
    };
    let mut split = base;
    split.set_pipeline_split("embedding+loss").unwrap();
    let plain = step(&b, 1024, &t, &base).unwrap();
    let moved = step(&b, 1024, &t, &split).unwrap();
    assert!(close(moved.hardware_flops, plain.hardware_flops, 1e-9));
    assert_eq!(moved.model_flops, plain.model_flops);
    // 32 layers on 2 stages of 17 chunks: 34 chunks, one too many for the layers alone.
    let many = TrainLayout {
        schedule: Schedule::Interleaved(17),
        ..layout(4, 2, 1, 1, 16)
    };
    let e = step(&b, 1024, &target("dgx-a100", 8), &many)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("34 pipeline chunks") && e.contains("32 layer"),
        "{e}"
    );
    let mut many_split = many;
    many_split.set_pipeline_split("embedding+loss").unwrap();
    assert!(step(&b, 1024, &target("dgx-a100", 8), &many_split).is_ok());
}

/// Hybrid sharding (PyTorch HSDP, PaLM's pods): the ZeRO state is divided by the shard
/// group, not the whole data-parallel group, the groups all-reduce their gradient shards,
/// and a shard group of all the ranks is plain ZeRO.
#[test]
fn hybrid_sharding_partitions_over_the_shard_group() {
    let b = builder("llama-2-7b");
    let t = target("dgx-h100", 64);
    let base = TrainLayout {
        zero: 3,
        ..layout(1, 1, 64, 1, 64)
    };
    let full = step(&b, 1024, &t, &base).unwrap();
    let same = step(
        &b,
        1024,
        &t,
        &TrainLayout {
            shard_group: Some(64),
            ..base
        },
    )
    .unwrap();
    assert_eq!(same.step_time_s, full.step_time_s);
    assert_eq!(same.memory.total_bytes, full.memory.total_bytes);
    let node = step(
        &b,
        1024,
        &t,
        &TrainLayout {
            shard_group: Some(8),
            ..base
        },
    )
    .unwrap();
    // Eight times the state per device: sharded over 8 instead of 64.
    let ratio = node.memory.optimizer_bytes as f64 / full.memory.optimizer_bytes as f64;
    assert!(close(ratio, 8.0, 1e-3), "{ratio}");
    assert!(node.memory.weights_bytes > full.memory.weights_bytes);
    assert!(node
        .breakdown
        .communication_s
        .contains_key("hsdp_allreduce"));
    assert!(!full
        .breakdown
        .communication_s
        .contains_key("hsdp_allreduce"));
    // ZeRO 1 under hybrid sharding: the optimizer state over the shard group, the gradient
    // shards all-reduced between the groups (exposed when the reduction follows the
    // backward).
    let z1 = TrainLayout {
        zero: 1,
        overlap_dp: false,
        ..base
    };
    let plain1 = step(&b, 1024, &t, &z1).unwrap();
    let node1 = step(
        &b,
        1024,
        &t,
        &TrainLayout {
            shard_group: Some(8),
            ..z1
        },
    )
    .unwrap();
    let r = node1.memory.optimizer_bytes as f64 / plain1.memory.optimizer_bytes as f64;
    assert!(close(r, 8.0, 1e-3), "{r}");
    assert!(node1.breakdown.communication_s["hsdp_allreduce"] > 0.0);
    for (g, zero, want) in [
        (3, 3, "does not divide the dp·cp = 64"),
        (8, 0, "needs ZeRO 1–3"),
    ] {
        let e = step(
            &b,
            1024,
            &t,
            &TrainLayout {
                shard_group: Some(g),
                zero,
                ..base
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(want), "{e}");
    }
}

/// Synchronised BatchNorm (MLPerf ResNet-50's BN_GROUP, PyTorch SyncBatchNorm): each
/// BatchNorm exchanges its statistics forward and backward on the critical path, so the step
/// slows by that communication alone — no FLOPs or memory move — and a model without
/// BatchNorm, or a group that does not divide the data-parallel ranks, is an error.
#[test]
fn a_batchnorm_group_adds_its_exchanges_and_nothing_else() {
    let b = builder("resnet-50");
    let t = target("dgx-h100", 16);
    let base = layout(1, 1, 16, 32, 512);
    let local = step(&b, 224, &t, &base).unwrap();
    let pairs = step(
        &b,
        224,
        &t,
        &TrainLayout {
            bn_group: Some(2),
            ..base
        },
    )
    .unwrap();
    let bn = pairs.breakdown.communication_s["bn_allreduce"];
    assert!(bn > 0.0);
    assert!(close(pairs.step_time_s - local.step_time_s, bn, 1e-6));
    assert_eq!(pairs.hardware_flops, local.hardware_flops);
    assert_eq!(pairs.memory.total_bytes, local.memory.total_bytes);
    assert!(close(pairs.breakdown.total_s(), pairs.step_time_s, 1e-9));
    // Each of ResNet-50's 53 BatchNorms exchanges twice per micro-batch, each exchange at
    // least the collective's fixed latency on NVLink (NCCL's LL base, 3.6 µs).
    let m = 512 / 16 / 32;
    assert!(bn >= 2.0 * 53.0 * m as f64 * 3.6e-6, "{bn}");
    let llama = builder("llama-2-7b");
    let e = step(
        &llama,
        1024,
        &t,
        &TrainLayout {
            bn_group: Some(2),
            ..layout(1, 1, 16, 1, 16)
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("no BatchNorm"), "{e}");
    let e = step(
        &b,
        224,
        &t,
        &TrainLayout {
            bn_group: Some(3),
            ..base
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("BatchNorm group of 3 does not divide"), "{e}");
}

/// The layout search interleaves 2, 4 and 8 chunks per stage where the layers fill them
/// (Llama-2-7B's 32 layers: at pp = 8 up to 4 chunks, at pp = 4 up to 8), and never a
/// depth the layers cannot fill.
#[test]
fn the_search_interleaves_as_deep_as_the_layers_allow() {
    let b = builder("llama-2-7b");
    let t = target("dgx-h100", 16);
    let base = TrainLayout {
        global_batch: 64,
        ..Default::default()
    };
    let all = search(&b, 1024, &t, &[16], &base, Rank::Time).unwrap();
    let chunks = |v: u64| {
        all.iter()
            .filter(|c| c.layout.schedule == Schedule::Interleaved(v))
            .map(|c| c.layout.pp * v)
            .collect::<Vec<_>>()
    };
    for v in [2, 4, 8] {
        assert!(!chunks(v).is_empty(), "no layout interleaves {v} chunks");
        assert!(chunks(v).iter().all(|n| *n <= 32), "{v}: {:?}", chunks(v));
    }
}

/// Tensor-parallel communication overlapped with its GEMMs (Megatron-Core
/// `--tp-comm-overlap`, Transformer Engine's userbuffers): the same FLOPs, the exposed
/// tensor-parallel collectives shrink, the GEMMs they hide behind take longer (run in
/// chunks and held off the communication kernels' SMs), the step still gains at tp 8, and
/// without sequence parallelism it is an error, as in Megatron-Core.
#[test]
fn tp_comm_overlap_hides_collectives_behind_their_gemms() {
    let b = builder("llama-2-7b");
    let t = target("dgx-h100", 8);
    let base = TrainLayout {
        sp: true,
        ..layout(8, 1, 1, 1, 8)
    };
    let plain = step(&b, 4096, &t, &base).unwrap();
    let ov = step(
        &b,
        4096,
        &t,
        &TrainLayout {
            tp_comm_overlap: true,
            ..base
        },
    )
    .unwrap();
    let tp = |c: &TrainCost| -> f64 {
        c.breakdown
            .communication_s
            .iter()
            .filter(|(k, _)| k.starts_with("tp_"))
            .map(|(_, v)| v)
            .sum()
    };
    assert!(tp(&plain) > 0.0);
    assert!(tp(&ov) < 0.5 * tp(&plain), "{} vs {}", tp(&ov), tp(&plain));
    assert!(ov.step_time_s < plain.step_time_s);
    assert_eq!(ov.hardware_flops, plain.hardware_flops);
    assert!(ov.breakdown.compute_s > plain.breakdown.compute_s);
    assert!(close(ov.breakdown.total_s(), ov.step_time_s, 1e-9));
    let e = step(
        &b,
        4096,
        &t,
        &TrainLayout {
            tp_comm_overlap: true,
            sp: false,
            ..base
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("only with sequence parallelism"), "{e}");
}

/// Pipeline sends: under 1F1B they hold their device (Megatron's synchronous
/// point-to-point) and show as their own exposed line; overlapped, they only delay the
/// passes waiting on them. Megatron-LM's scatter-gather sends 1/tp of the activation over
/// the network and all-gathers it inside the node, which is cheaper across nodes.
#[test]
fn pipeline_sends_block_unless_overlapped_and_scatter_gather_shrinks_them() {
    let b = builder("llama-2-7b");
    // tp 8 fills a node, so each of the 4 stage boundaries crosses the network.
    let t = target("dgx-a100", 32);
    let run = |l: TrainLayout| step(&b, 2048, &t, &l).unwrap();
    let base = layout(8, 4, 1, 1, 64);
    assert!(!base.sends_overlap());
    let interleaved = TrainLayout {
        schedule: Schedule::Interleaved(2),
        ..base
    };
    assert!(interleaved.sends_overlap());
    let blocking = run(base);
    let beside = run(TrainLayout {
        p2p_overlap: Some(true),
        ..base
    });
    let sends = |c: &TrainCost| {
        c.breakdown
            .communication_s
            .get("pp_send")
            .copied()
            .unwrap_or(0.0)
    };
    assert!(sends(&blocking) > 0.0);
    assert_eq!(sends(&beside), 0.0);
    assert!(blocking.step_time_s > beside.step_time_s);
    assert_eq!(blocking.hardware_flops, beside.hardware_flops);
    assert!(close(
        blocking.breakdown.total_s(),
        blocking.step_time_s,
        1e-9
    ));
    let scattered = run(TrainLayout {
        p2p_scatter_gather: true,
        ..base
    });
    assert!(sends(&scattered) > 0.0 && sends(&scattered) < 0.5 * sends(&blocking));
    // Under sequence parallelism a rank already holds 1/tp: scatter-gather changes nothing.
    let sp = TrainLayout { sp: true, ..base };
    let a = run(sp);
    let c = run(TrainLayout {
        p2p_scatter_gather: true,
        ..sp
    });
    assert_eq!(a.step_time_s, c.step_time_s);
}

/// Gradients reduced in 16 bits (Megatron-LM FP16 runs, Megatron-Core
/// `grad_reduce_in_fp32=False`) halve the data-parallel reduction's bytes and the gradient
/// buffer, and touch nothing else; formats no stack reduces in are refused.
#[test]
fn sixteen_bit_gradients_halve_the_reduction_and_the_buffer() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 32);
    let with = |g: Option<xpusim_ir::DType>| {
        let l = TrainLayout {
            zero: 0,
            overlap_dp: false,
            grad_dtype: g,
            ..layout(1, 1, 32, 1, 64)
        };
        step(&b, 2048, &t, &l)
    };
    let fp32 = with(None).unwrap();
    let half = with(Some(xpusim_ir::DType::Bf16)).unwrap();
    let ar = |c: &TrainCost| c.breakdown.communication_s["dp_allreduce"];
    assert!(
        ar(&half) < 0.6 * ar(&fp32),
        "{} vs {}",
        ar(&half),
        ar(&fp32)
    );
    assert_eq!(2 * half.memory.gradients_bytes, fp32.memory.gradients_bytes);
    assert_eq!(half.hardware_flops, fp32.hardware_flops);
    assert_eq!(half.breakdown.compute_s, fp32.breakdown.compute_s);
    let e = with(Some(xpusim_ir::DType::Fp8)).unwrap_err().to_string();
    assert!(e.contains("fp32, bf16 or fp16"), "{e}");
}
