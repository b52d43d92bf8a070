//! Invariants of the training step model: the breakdown adds up, parallelism and
//! recomputation move time and memory the way their papers say, and a layout that does
//! not fit names the change that does.

mod common;

use common::{builder, close, layout, target};
use xpusim_ir::{DType, Phase, Precision};
use xpusim_models::{build, Workload};
use xpusim_target::Target;
use xpusim_train::*;

#[test]
fn the_breakdown_adds_up_to_the_step() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 64);
    for l in [
        layout(8, 1, 8, 1, 64),
        TrainLayout {
            sp: true,
            recompute: Recompute::Full,
            ..layout(4, 4, 4, 1, 64)
        },
        TrainLayout {
            schedule: Schedule::Interleaved(2),
            zero: 0,
            ..layout(2, 4, 8, 2, 128)
        },
        TrainLayout {
            zero: 3,
            overlap_dp: false,
            ..layout(1, 1, 64, 1, 64)
        },
        TrainLayout {
            zero: 2,
            shard_group: Some(8),
            ..layout(2, 2, 16, 1, 64)
        },
        TrainLayout {
            zero: 3,
            shard_group: Some(8),
            overlap_dp: false,
            ..layout(1, 1, 64, 1, 64)
        },
    ] {
        let c = step(&b, 1024, &t, &l).unwrap();
        assert!(
            close(c.breakdown.total_s(), c.step_time_s, 1e-9),
            "{l}: {:?} vs {}",
            c.breakdown,
            c.step_time_s
        );
        assert!(c.mfu > 0.05 && c.mfu < 1.0, "{l}: MFU {}", c.mfu);
        assert!(c.hfu >= c.mfu * 0.999, "{l}");
        assert!(c.energy_per_step_j > 0.0);
    }
}

/// Model FLOPs are the 6·N·T + attention convention: for Llama-2-7B at 4096 tokens the
/// matmul parameters' 6NT plus causal attention's 6·L·s²·h/2... within the vector work.
#[test]
fn model_flops_are_six_n_t_plus_attention() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 8);
    let c = step(&b, 4096, &t, &layout(8, 1, 1, 1, 1)).unwrap();
    let (l, h, s, v) = (32.0, 4096.0, 4096.0, 32000.0);
    // Parameters in matmuls: the layers' 4h² attention + 3·h·11008 FFN, and the LM head.
    let n = l * (4.0 * h * h + 3.0 * h * 11008.0) + h * v;
    // Causal attention: QKᵀ and PV, 2 FLOPs per MAC, forward (1) + backward (2) = 3×,
    // on s(s+1)/2 pairs per head.
    let attn = 3.0 * 2.0 * 2.0 * l * h * s * (s + 1.0) / 2.0;
    let expect = 6.0 * n * s + attn;
    assert!(
        close(c.model_flops as f64, expect, 0.01),
        "{:e} vs {expect:e}",
        c.model_flops
    );
}

/// One stage, one replica: the step is the micro-batches back to back plus the optimizer.
#[test]
fn gradient_accumulation_scales_the_compute() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 8);
    let one = step(&b, 1024, &t, &layout(8, 1, 1, 1, 1)).unwrap();
    let four = step(&b, 1024, &t, &layout(8, 1, 1, 1, 4)).unwrap();
    let body = |c: &TrainCost| c.step_time_s - c.breakdown.optimizer_s;
    assert!(close(body(&four), 4.0 * body(&one), 1e-9));
    assert_eq!(four.microbatches, 4);
    assert_eq!(four.breakdown.pipeline_bubble_s, 0.0);
}

/// ZeRO stages each divide one more state by the data-parallel group (Rajbhandari et al.
/// 2020, Fig. 1): 2+4+12 bytes per parameter → 2+4+12/N → 2+(4+12)/N → (2+4+12)/N.
#[test]
fn zero_stages_partition_one_more_state_each() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 64);
    let mem: Vec<TrainMemory> = (0..=3)
        .map(|z| {
            let l = TrainLayout {
                zero: z,
                ..layout(1, 1, 64, 1, 64)
            };
            step(&b, 1024, &t, &l).unwrap().memory
        })
        .collect();
    let p = mem[0].weights_bytes as f64 / 2.0;
    assert!(close(mem[0].optimizer_bytes as f64, 12.0 * p, 1e-6));
    assert!(close(mem[1].optimizer_bytes as f64, 12.0 * p / 64.0, 1e-6));
    assert!(close(mem[2].gradients_bytes as f64, 4.0 * p / 64.0, 1e-6));
    assert!(close(mem[3].weights_bytes as f64, 2.0 * p / 64.0, 1e-6));
    for w in mem.windows(2) {
        assert!(w[1].total_bytes < w[0].total_bytes);
    }
    // 6.74 B parameters of Llama-2-7B.
    assert!(close(p, 6.74e9, 0.01), "{p:e}");
}

/// Full recomputation stores one tensor per layer and pays one more forward; selective
/// recomputation of a fused-attention model changes nothing (FlashAttention recomputes
/// the scores already); sequence parallelism divides what the norms and residuals store.
#[test]
fn recomputation_and_sequence_parallelism_trade_memory_for_time() {
    let b = builder("gpt3-175b");
    let t = target("dgx-a100", 64);
    let base = layout(8, 8, 1, 1, 64);
    let run = |l: TrainLayout| step(&b, 2048, &t, &l).unwrap();
    let none = run(base);
    let full = run(TrainLayout {
        recompute: Recompute::Full,
        ..base
    });
    let sel = run(TrainLayout {
        recompute: Recompute::Selective,
        ..base
    });
    let sp = run(TrainLayout { sp: true, ..base });
    assert!(full.memory.activations_bytes * 5 < none.memory.activations_bytes);
    assert!(full.step_time_s > none.step_time_s * 1.15);
    assert!(full.hfu > full.mfu * 1.2);
    assert_eq!(sel.memory.activations_bytes, none.memory.activations_bytes);
    assert!(sp.memory.activations_bytes < none.memory.activations_bytes);
    // Korthikanti et al. 2022, Eq. 1-2: per layer sbh(34 + 5as/h) without and
    // sbh(34/t + 5as/(ht)) ... with SP every stored tensor is split; FlashAttention
    // stores no s² scores, so the ratio of stored bytes approaches t.
    let ratio = none.memory.activations_bytes as f64 / sp.memory.activations_bytes as f64;
    assert!(ratio > 2.0 && ratio <= 8.0, "{ratio}");
}

/// The interleaved schedule shrinks the bubble (Narayanan et al. 2021 §2.2.2).
#[test]
fn interleaving_shrinks_the_bubble() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 32);
    let base = layout(4, 8, 1, 1, 16);
    let one = step(&b, 1024, &t, &base).unwrap();
    let il = step(
        &b,
        1024,
        &t,
        &TrainLayout {
            schedule: Schedule::Interleaved(2),
            ..base
        },
    )
    .unwrap();
    assert!(il.breakdown.pipeline_bubble_s < one.breakdown.pipeline_bubble_s * 0.7);
    assert!(il.step_time_s < one.step_time_s);
}

/// Overlapping the data-parallel reduction with the backward never slows a step, and
/// over the slow network between nodes it hides time.
#[test]
fn overlapping_the_gradient_reduction_hides_it() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 64);
    let l = layout(1, 1, 64, 1, 64);
    let on = step(&b, 1024, &t, &l).unwrap();
    let off = step(
        &b,
        1024,
        &t,
        &TrainLayout {
            overlap_dp: false,
            ..l
        },
    )
    .unwrap();
    let dp = |c: &TrainCost| -> f64 {
        c.breakdown
            .communication_s
            .iter()
            .filter(|(k, _)| k.starts_with("dp_"))
            .map(|(_, v)| v)
            .sum()
    };
    assert!(dp(&off) > 0.0);
    assert!(dp(&on) < dp(&off));
    assert!(on.step_time_s < off.step_time_s);
}

/// Context parallelism splits the sequence: each device's attention work is 1/cp of the
/// whole and K/V move between the devices.
#[test]
fn context_parallelism_splits_the_sequence() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 16);
    let one = step(&b, 8192, &t, &layout(8, 1, 1, 1, 1)).unwrap();
    let cp = step(
        &b,
        8192,
        &t,
        &TrainLayout {
            cp: 2,
            ..layout(8, 1, 1, 1, 1)
        },
    )
    .unwrap();
    assert!(close(cp.model_flops as f64, one.model_flops as f64, 0.01));
    assert!(cp.breakdown.communication_s.contains_key("cp_allgather"));
    assert!(cp.step_time_s < one.step_time_s);
    assert!(cp.memory.activations_bytes < one.memory.activations_bytes);
}

/// Transformer Engine's ring (the default) runs a device's attention as `cp` kernels, a
/// causal one over its own chunks and `cp − 1` unmasked ones over the halves of the
/// received K/V blocks it sees, with `cp − 1` output merges; gathering K and V first (Llama
/// 3) runs one kernel over the same pairs. The same FLOPs (the merges aside) and the same
/// K/V traffic; the ring's causal and smaller kernels take longer.
#[test]
fn context_parallel_ring_and_allgather_score_the_same_pairs() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 16);
    let ring_l = TrainLayout {
        cp: 4,
        ..layout(4, 1, 1, 1, 1)
    };
    let gathered_l = TrainLayout {
        cp_allgather: true,
        ..ring_l
    };
    let ring = step(&b, 8192, &t, &ring_l).unwrap();
    let gathered = step(&b, 8192, &t, &gathered_l).unwrap();
    assert!(close(
        ring.model_flops as f64,
        gathered.model_flops as f64,
        0.002
    ));
    let cp_comm = |c: &TrainCost| c.breakdown.communication_s.get("cp_allgather").copied();
    assert!(cp_comm(&ring).is_some_and(|s| s > 0.0));
    assert_eq!(cp_comm(&ring), cp_comm(&gathered));
    assert!(ring.breakdown.compute_s > gathered.breakdown.compute_s);
    assert!(gathered_l.to_string().contains("cp_comm=allgather"));
    assert!(!ring_l.to_string().contains("cp_comm"));
}

/// A layout that does not fit is an error naming the bytes and a change that fits.
#[test]
fn a_layout_that_does_not_fit_names_the_change_that_does() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 8);
    let l = TrainLayout {
        zero: 0,
        ..layout(1, 1, 8, 8, 64)
    };
    let e = train(&b, 4096, &t, &l).unwrap_err().to_string();
    assert!(e.contains("does not fit"), "{e}");
    assert!(e.contains(" GB"), "{e}");
    assert!(e.contains("smallest change that fits: --"), "{e}");
}

#[test]
fn bad_layouts_are_errors() {
    let b = builder("llama-2-7b");
    let t = target("dgx-a100", 8);
    for (l, what) in [
        (layout(8, 1, 2, 1, 16), "devices"),
        (layout(1, 1, 8, 3, 16), "multiple"),
        (
            TrainLayout {
                sp: true,
                ..layout(1, 1, 8, 1, 8)
            },
            "tp > 1",
        ),
    ] {
        let e = step(&b, 1024, &t, &l).unwrap_err().to_string();
        assert!(e.contains(what), "{l}: {e}");
    }
    // More pipeline stages than the 32 layers.
    let e = step(&b, 1024, &target("dgx-a100", 64), &layout(1, 64, 1, 1, 64))
        .unwrap_err()
        .to_string();
    assert!(e.contains("layer"), "{e}");
    let dev = Target::load("a100-80gb").unwrap();
    assert!(step(&b, 1024, &dev, &layout(2, 1, 1, 1, 1)).is_err());
    assert!(step(&b, 1024, &dev, &layout(1, 1, 1, 1, 1)).is_ok());
}

/// More scale-out bandwidth never slows a step.
#[test]
fn more_network_bandwidth_is_never_slower() {
    let b = builder("llama-2-7b");
    let l = TrainLayout {
        overlap_dp: false,
        ..layout(8, 2, 4, 1, 32)
    };
    let mut last = f64::INFINITY;
    for f in [0.25, 1.0, 4.0] {
        let mut t = target("dgx-a100", 64);
        if let xpusim_hw::Hardware::System(s) = &mut t.hw {
            if let Some(n) = s.spec.scale_out.as_mut() {
                n.bandwidth_gbps *= f;
            }
        }
        let c = step(&b, 1024, &t, &l).unwrap();
        assert!(
            c.step_time_s <= last * (1.0 + 1e-12),
            "{f}: {}",
            c.step_time_s
        );
        last = c.step_time_s;
    }
}

/// Every era trains: a CNN, an RNN, an encoder, a MoE and an SSM on one device or a node.
#[test]
fn every_era_trains() {
    for (m, seq, tp) in [
        ("resnet-50", 1, 1),
        ("gnmt-v2", 50, 1),
        ("bert-large", 512, 1),
        ("mixtral-8x7b", 1024, 8),
        ("mamba-2.8b", 1024, 1),
    ] {
        let b = builder(m);
        let t = target("dgx-a100", 8);
        let l = layout(tp, 1, 8 / tp, 1, 8 / tp * 2);
        let c = step(&b, seq, &t, &l).unwrap_or_else(|e| panic!("{m}: {e}"));
        assert!(
            c.step_time_s > 0.0 && c.mfu > 0.0 && c.mfu < 1.0,
            "{m}: {}",
            c.mfu
        );
    }
}

/// With attention as three kernels (Megatron-LM before FlashAttention) the s² scores are
/// stored for the backward, and selective recomputation (Korthikanti et al. 2022, §5)
/// drops them for the attention core's forward run again in backward.
#[test]
fn selective_recomputation_drops_the_unfused_scores() {
    let b = builder("gpt3-175b");
    let t = target("dgx-a100", 64);
    let base = TrainLayout {
        sp: true,
        unfused_attention: true,
        dropout: true,
        ..layout(8, 8, 1, 1, 64)
    };
    let none = step(&b, 2048, &t, &base).unwrap();
    let sel = step(
        &b,
        2048,
        &t,
        &TrainLayout {
            recompute: Recompute::Selective,
            ..base
        },
    )
    .unwrap();
    // Korthikanti et al. Table 2 (per layer, with sequence parallelism): sbh(34/t + 5as/(ht))
    // without recomputation, sbh·34/t with selective — the 5as/h term is the scores'.
    let (s, h, a) = (2048.0, 12288.0, 96.0);
    let ratio = (34.0 + 5.0 * a * s / h) / 34.0;
    let ours = none.memory.activations_bytes as f64 / sel.memory.activations_bytes as f64;
    assert!(close(ours, ratio, 0.01), "{ours} vs {ratio}");
    assert!(sel.breakdown.recompute_s > 0.0);
    assert!(sel.step_time_s > none.step_time_s);
    assert!(sel.fits, "{:?}", sel.memory);
}

/// Expert parallelism over data-parallel ranks (Megatron-Core; DeepSeek-V3's EP64): the
/// experts' state divides by `ep`, tokens cross by all-to-all, and the same FLOPs run
/// faster, each device's experts now reading their weights once for `ep`× the tokens
/// (Mixtral at 1,024 tokens: 256 rows per expert, near the H100's ridge already, 2,048
/// under ep = 8).
#[test]
fn expert_parallelism_spreads_the_experts_over_data_parallel_ranks() {
    let b = builder("mixtral-8x7b");
    let t = target("dgx-h100", 16);
    let base = TrainLayout {
        zero: 0,
        ..layout(2, 1, 8, 1, 16)
    };
    let one = step(&b, 1024, &t, &base).unwrap();
    let ep = step(&b, 1024, &t, &TrainLayout { ep: 8, ..base }).unwrap();
    assert!(ep.breakdown.communication_s.contains_key("ep_alltoall"));
    assert!(
        ep.breakdown.compute_s < one.breakdown.compute_s,
        "{} vs {}",
        ep.breakdown.compute_s,
        one.breakdown.compute_s
    );
    assert!(
        ep.breakdown.compute_s > 0.5 * one.breakdown.compute_s,
        "{} vs {}",
        ep.breakdown.compute_s,
        one.breakdown.compute_s
    );
    // Mixtral: ~45 B of its 46.7 B parameters are experts; ZeRO 0 keeps 18 B per parameter.
    assert!(ep.memory.weights_bytes * 4 < one.memory.weights_bytes);
    assert!(ep.memory.optimizer_bytes * 4 < one.memory.optimizer_bytes);
    // ep must divide the data-parallel ranks and the experts, and the model must have them.
    assert!(step(&b, 1024, &t, &TrainLayout { ep: 3, ..base }).is_err());
    let e = step(
        &b,
        1024,
        &target("dgx-h100", 32),
        &TrainLayout {
            ep: 16,
            dp: 16,
            global_batch: 32,
            ..base
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("8 routed experts do not divide over ep = 16"),
        "{e}"
    );
    let dense = builder("llama-2-7b");
    assert!(step(&dense, 1024, &t, &TrainLayout { ep: 8, ..base }).is_err());
}

/// DeepSeek-V3 (MLA, shared and routed experts) builds, differentiates and trains with
/// its published layout: PP16 × EP64 × DP128 on 2048 H800s (DeepSeek-V3 report §3.2).
#[test]
fn deepseek_v3_trains_with_its_published_layout() {
    let b = builder("deepseek-v3");
    let t = target("hgx-h800", 2048);
    let l = TrainLayout {
        ep: 64,
        ..layout(1, 16, 128, 1, 15360)
    };
    let c = step(&b, 4096, &t, &l).unwrap();
    assert!(c.mfu > 0.05 && c.mfu < 1.0, "{}", c.mfu);
    // 671 B parameters, about 14 B dense: spread over 16 stages and, the experts, 64 ranks.
    let params = c.memory.weights_bytes as f64 / 2.0;
    assert!(params > 0.5e9 && params < 4e9, "{params:e}");
}

/// Stored activations against Korthikanti et al. 2022 (§4, Table 2): per layer, with
/// tensor parallelism `t`, `sbh(10 + 24/t + 5as/(ht))` bytes, and `sbh(34/t + 5as/(ht))`
/// with sequence parallelism, for 16-bit activations, unfused attention and dropout on the
/// attention probabilities and block outputs; the graph's saved tensors reproduce their
/// derivation term by term (within 1%). The GPT-3 175B 1F1B stage 0 holds `pp`
/// micro-batches of 12 layers.
#[test]
fn stored_activations_match_korthikanti_table_2() {
    let t = target("dgx-a100", 64);
    let (s, bsz, h, a, tp) = (2048.0, 1.0, 12288.0, 96.0, 8.0);
    let sbh = s * bsz * h;
    for (sp, published) in [
        (false, sbh * (10.0 + 24.0 / tp + 5.0 * a * s / (h * tp))),
        (true, sbh * (34.0 / tp + 5.0 * a * s / (h * tp))),
    ] {
        let l = TrainLayout {
            sp,
            dropout: true,
            unfused_attention: true,
            ..layout(8, 8, 1, 1, 64)
        };
        let c = step(&builder("gpt3-175b"), 2048, &t, &l).unwrap();
        let per_layer = c.memory.activations_bytes as f64 / 8.0 / 12.0;
        assert!(
            close(per_layer, published, 0.01),
            "sp {sp}: {per_layer:e} vs {published:e}"
        );
    }
}

/// No size limit stops a real run: a 405B model's 16 M-token step (2048 × 8192) has about
/// 4·10^19 model FLOPs, beyond `u64`, counted exactly from one micro-batch's graph.
#[test]
fn a_16m_token_step_of_a_405b_model_is_counted_exactly() {
    let b = builder("llama-3.1-405b");
    let t = target("dgx-h100", 16384);
    let l = TrainLayout {
        sp: true,
        ..layout(8, 16, 128, 1, 2048)
    };
    let c = step(&b, 8192, &t, &l).unwrap();
    let one = b(1, 8192).unwrap().totals().flops as u128;
    assert_eq!(c.model_flops, 3 * one * 2048);
    assert!(c.model_flops > u64::MAX as u128);
    assert_eq!(c.tokens_per_step, 2048 * 8192);
}

/// A runtime profile's eager issue shows where a layer's kernels are shorter than their
/// issue, as its own breakdown line; a replayed graph issues nothing (issue #15 part 2).
#[test]
fn eager_issue_is_its_own_line_and_graphs_remove_it() {
    let g = |rt: Option<&str>| {
        let mut t = Target::load("h100-sxm").unwrap();
        t.runtime = rt.map(|r| xpusim_hw::load_runtime(r).unwrap());
        step(&builder("bert-base"), 128, &t, &layout(1, 1, 1, 1, 1)).unwrap()
    };
    let (bare, eager, graphs) = (g(None), g(Some("pytorch-eager")), g(Some("cuda-graphs")));
    assert_eq!(bare.breakdown.host_issue_s, 0.0);
    assert!(eager.breakdown.host_issue_s > 0.0);
    assert!(close(eager.breakdown.total_s(), eager.step_time_s, 1e-9));
    assert!(eager.step_time_s > bare.step_time_s);
    assert_eq!(graphs.breakdown.host_issue_s, 0.0);
    assert!(close(graphs.step_time_s, bare.step_time_s, 1e-12));
}

/// A stack with fused training kernels (`mlperf-mxnet`) runs ResNet-50's BatchNorm, add and
/// ReLU chains as one kernel each: the same arithmetic, fewer bytes, a shorter step; a
/// transformer, whose pointwise ops sit between contractions and row norms, barely changes.
#[test]
fn fused_training_kernels_move_fewer_bytes_for_the_same_flops() {
    let g = |model: &'static str, rt: &str, seq: u64| {
        let mut t = Target::load("h100-sxm").unwrap();
        t.runtime = Some(xpusim_hw::load_runtime(rt).unwrap());
        step(&builder(model), seq, &t, &layout(1, 1, 1, 64, 64)).unwrap()
    };
    let (plain, fused) = (
        g("resnet-50", "cuda-graphs", 1),
        g("resnet-50", "mlperf-mxnet", 1),
    );
    assert_eq!(plain.hardware_flops, fused.hardware_flops);
    assert!(
        fused.step_time_s < 0.85 * plain.step_time_s,
        "{} vs {}",
        fused.step_time_s,
        plain.step_time_s
    );
    let (bp, bf) = (
        g("bert-base", "cuda-graphs", 128),
        g("bert-base", "mlperf-mxnet", 128),
    );
    assert_eq!(bp.hardware_flops, bf.hardware_flops);
    assert!(bf.step_time_s <= bp.step_time_s);
}

/// FP8 as Transformer Engine trains (`fp8-linear`: FP8 GEMMs in the linear layers, BF16
/// elsewhere) lands between all-BF16 and all-FP8, with the model's FLOPs unchanged.
#[test]
fn fp8_linear_sits_between_bf16_and_fp8() {
    let at = |p: &str| {
        let precision = Precision::parse(p, DType::Bf16).unwrap();
        let b = move |mb: u64, s: u64| {
            let w = Workload::new(Phase::Train, mb, s, 0).with_precision(precision);
            build("llama-2-7b", &w).map_err(|e| TrainError::Build(e.to_string()))
        };
        step(&b, 2048, &target("dgx-h100", 8), &layout(1, 1, 8, 1, 64)).unwrap()
    };
    let (bf16, lin, fp8) = (at("bf16"), at("fp8-linear"), at("fp8"));
    assert!(fp8.step_time_s < lin.step_time_s && lin.step_time_s < bf16.step_time_s);
    assert_eq!(lin.model_flops, bf16.model_flops);
}

/// One energy accounting with `run` and `serve`: the step's energy by part (arithmetic,
/// memory levels, links, static power, the nodes' overhead) sums to its total, and the
/// devices' average power leaves the nodes' share out.
#[test]
fn the_energy_parts_add_up_to_the_step() {
    let b = builder("llama-2-7b");
    let t = target("dgx-h100", 16);
    let c = step(&b, 1024, &t, &layout(8, 1, 2, 1, 64)).unwrap();
    let e = &c.energy_parts;
    assert!(close(e.total_j(), c.energy_per_step_j, 1e-12));
    assert!(e.compute_j > 0.0 && e.idle_j > 0.0 && e.node_j > 0.0);
    assert!(e.memory_j.values().all(|j| *j > 0.0) && !e.memory_j.is_empty());
    let devices_w = (e.total_j() - e.node_j) / c.step_time_s / 16.0;
    assert!(close(devices_w, c.power_w_per_device, 1e-12));
}

/// The layout search tries DualPipe where its overlap has expert all-to-alls to hide, and
/// only there.
#[test]
fn the_search_tries_dualpipe_for_expert_parallel_layouts() {
    let b = builder("mixtral-8x7b");
    let t = target("dgx-h100", 64);
    let base = TrainLayout {
        global_batch: 256,
        ..Default::default()
    };
    let all = search(&b, 2048, &t, &[64], &base, Rank::Time).unwrap();
    let dual: Vec<_> = all
        .iter()
        .filter(|c| c.layout.schedule == Schedule::DualPipe)
        .collect();
    assert!(!dual.is_empty());
    assert!(dual.iter().all(|c| c.layout.ep > 1 && c.layout.pp % 2 == 0));
}

/// Megatron-LM's default cross-entropy (`xpusim_ir::vocab_loss`): the logits cast to FP32
/// and run through five more eager kernels, the FP32 softmax stored for the backward. Against
/// the fused loss it stores 2 more bytes per logit of each device's vocabulary slice (4 for
/// the FP32 softmax, where the fused kernel keeps the 16-bit logits), and its 46 more bytes
/// moved per logit take at least their time at the device's peak memory bandwidth.
#[test]
fn megatrons_unfused_loss_stores_the_fp32_softmax_and_moves_46_more_bytes_per_logit() {
    let b = builder("llama-3-8b");
    let t = target("dgx-h100", 8);
    let (tp, seq, vocab) = (2, 2048u64, 128_256u64);
    let fused = layout(tp, 1, 4, 1, 4);
    let unfused = TrainLayout {
        unfused_loss: true,
        ..fused
    };
    let (f, u) = (
        step(&b, seq, &t, &fused).unwrap(),
        step(&b, seq, &t, &unfused).unwrap(),
    );
    let logits = (seq * vocab / tp) as f64;
    let extra = u.memory.activations_bytes as f64 - f.memory.activations_bytes as f64;
    // Beyond the 2 bytes per logit: the per-row max and sum (FP32) the kernels keep.
    assert!(
        extra >= 2.0 * logits && extra <= 2.0 * logits + 16.0 * seq as f64,
        "{extra} bytes more for {logits} logits"
    );
    let peak_bps = t.device_spec().offchip().bandwidth_gbps * 1e9;
    let floor_s = 46.0 * logits / peak_bps;
    assert!(
        u.step_time_s - f.step_time_s >= floor_s,
        "{} s more, the bytes alone take {floor_s} s",
        u.step_time_s - f.step_time_s
    );
    // A model without a cross-entropy loss has no Megatron loss to unfuse.
    let mse = TrainLayout {
        unfused_loss: true,
        ..layout(1, 1, 1, 1, 1)
    };
    let e = step(&builder("sd-1.5-unet"), 77, &target("h100-sxm", 1), &mse).unwrap_err();
    assert!(e.to_string().contains("no cross-entropy"), "{e}");
}
