//! The prose of the validation pages: what each page compares, the protocol, why rows miss
//! and how each shipped dataset was made. Static text, kept apart from the code that renders
//! the tables ([`crate::render`]).

/// What the training page compares (static text, before the tables).
pub(crate) const TRAINING_INTRO_MD: &str = "Each row of `data/validation/training.csv` is one number a published training run \
reported (its `source` column cites it; `docs/training-sources.md` says how each source counts). Each is \
predicted from one optimizer step that `xpusim-train` prices (`xpusim_train::step`) on the row's system, its \
device count set to the row's `devices`, under the layout the row states. Nothing was fitted to these rows \
and no engine constant was changed for them: every row is held out. Error = (predicted − measured) / \
measured; the categories are the sources.\n\n";

/// How training rows are read, what each FLOP metric is compared with, and what the step model
/// leaves out (static text, after the tables).
pub(crate) const TRAINING_MD: &str = "
## How a row is predicted

- `parallelism` keys: `tp`, `pp`, `dp`, `cp`, `ep`, `sp=on|off`, `zero=0..3`, \
`recompute=none|selective|full`, `schedule=1f1b|gpipe|interleaved:V|dualpipe`, `micro` (samples per micro-batch), \
`overlap_dp=on|off`, `split=embedding|loss|embedding+loss` (those parts counted as a layer each when the layers \
are cut into pipeline chunks, Megatron-Core's `--account-for-*-in-pipeline-split`), `shard=N` (hybrid sharding: \
ZeRO state partitioned over groups of N data-parallel ranks, the groups all-reducing their gradient shards once a \
step), `bn_group=N` (each BatchNorm's statistics all-reduced over groups of N data-parallel ranks, forward and \
backward), `tp_overlap=on|off` (sequence-parallel all-gathers and reduce-scatters run under their GEMMs, \
Megatron-Core's `--tp-comm-overlap`), `p2p_overlap=on|off` (pipeline sends beside compute, or holding their \
device until done; unstated: Megatron-Core's rule, overlapped under the interleaved schedule and blocking \
otherwise), `p2p_scatter=on|off` (Megatron-LM's 2021–22 scatter-gather of pipeline sends: without sequence \
parallelism each tensor-parallel rank sends `1/tp` and the receivers all-gather), `cp_comm=ring|allgather` \
(context parallelism as Transformer Engine's ring of steps, the default, or by gathering K and V first as \
Llama 3 does), `grads=fp32|bf16|fp16` (the \
format gradients accumulate and reduce in; unstated: FP32), `loss=fused|unfused` (`unfused`: cross-entropy as Megatron-LM's \
default `_VocabParallelCrossEntropy` runs it, the logits cast to FP32 and max, subtract, exp, sum and divide as \
their own eager kernels with the FP32 softmax stored for the backward, 52 bytes moved per logit; set for every \
Megatron-LM, Megatron-DeepSpeed and Megatron-Core row, none of which states `--cross-entropy-loss-fusion` or \
`--fp16-lm-cross-entropy`; `xpusim_ir::vocab_loss`). An \
unknown or repeated key is the row's skip reason, naming the row and the key. What a row does not state takes \
the plain meaning, never a tuned one: tp = pp = cp = ep = 1, dp = devices / (tp·pp·cp), no sequence \
parallelism, ZeRO 0, no recomputation, 1F1B, one sample per micro-batch, and the data-parallel reduction \
overlapped with the backward (`overlap_dp=off` where the source's stack reduces after it). The layout must \
occupy exactly the row's devices.
- `batch` is the global batch: a row without one is skipped, never given one. `seq_in` is the sequence length \
(empty: the model's own, e.g. GNMT's 50 tokens). `attention = unfused` builds QKᵀ, softmax and PV as three \
kernels writing the scores, as Megatron-LM and the other stacks before FlashAttention (2022) ran attention; \
it is set for Narayanan 2021, Korthikanti 2022, MT-NLG, BLOOM, OPT and the 2019 BERT rows. Other rows use the \
zoo's fused attention.
- `time_to_train_min` (MLPerf) depends on how many samples the run needed to reach its quality target; \
without that budget (a `train_samples` column) the row is skipped. The ResNet-50 rows carry it from the \
submissions' result logs (`data/validation/mlperf_training.py`), which also give their `samples_per_s` rows. `tokens_counted = source+target` (NVIDIA's \
GNMT) counts both sides of a translation: the zoo's GNMT turns `seq_len` source tokens into `seq_len` target \
tokens.
- A layout that does not fit in our memory model is predicted anyway and flagged with its memory parts: the \
flag is our memory model's verdict, not the run's (every published run here did run).

## What each FLOP metric is compared with

`mfu` and `tflops_per_device` rows name their source's numerator in `flops_convention`; the denominator is \
always the dense 16-bit peak (312 TF A100, 989 TF H100 and H800, 275 TF TPU v4), FP8 runs included.

- `hardware` (Narayanan 2021 Eq. 3, BLOOM's \"hardware TFLOPs\", MT-NLG): our hardware FLOPs per device per \
second (`TrainCost::hardware_flops`): the forward, the backward as built, the recomputed forward and the \
optimizer. With unfused attention this is what Eq. 3 counts (4 passes, every score of the s × s matrix, the \
LM head): on the Narayanan layouts our count is within 0.2 % of Eq. 3. With fused attention it would also \
hold FlashAttention's backward recompute of the scores (2.5× the forward's attention instead of 2×) and only \
the causal half of the scores. An `mfu` row under this convention is HFU.
- `model-noncausal` (Korthikanti 2022, PaLM, DeepSeek-V3's non-causal MFU): 3 × the forward of the model with \
fused attention and every score counted, no recomputation, LM head included: Korthikanti's \
72·B·s·l·h²·(1 + s/6h + V/12lh) and PaLM's 6N + 12·L·H·Q·T per token.
- `model` (Llama 3, DeepSeek-V3's causal MFU): the same with the causal half of the scores \
(`TrainCost::model_flops` of a fused run). Llama 3 does not say how it counts attention; causal is our \
assumption.

Model FLOPs are the model's, whatever the run executed: a run with unfused attention computes every score, \
but its MFU numerator follows its source's convention.

## What the model does not capture

- **Attention as it ran.** The zoo's attention is one fused FlashAttention-style op. The Megatron-LM runs of \
2021–22 (and BLOOM, OPT, the 2019 BERT) materialised the s² scores; their rows use the unfused rewrite, \
whose QKᵀ, softmax and PV kernels are priced by the analytical engine with efficiencies fitted on inference \
kernels — the fused scale-mask-softmax of Megatron at s = 2048 and the head-batched GEMMs are not calibrated. \
PaLM does not say how its attention ran on TPU; its rows keep the fused op.
- **Dropout** is modelled where the row's `dropout` column states a rate (Megatron-LM's and \
Megatron-DeepSpeed's default 0.1, OPT, BERT): a dropout kernel after each block's output projection and on \
an unfused attention's probabilities, with one-byte masks stored for the backward \
(`Graph::insert_dropout`); with it our stored activations reproduce Korthikanti et al.'s Table 2 exactly. \
Where a source does not state its dropout (MT-NLG, Llama 3, DeepSeek-V3) none is modelled.
- **FP8 training.** The MLPerf GPT-3 175B rows (NeMo with Transformer Engine FP8 on 512–3584 H100s) run as \
`fp8-linear`: FP8 GEMMs in the linear layers at the GH100 FP8 efficiency fitted on DeepGEMM's kernels, BF16 \
elsewhere, with the tensor-parallel all-gathers and reduce-scatters overlapped with their GEMMs as the configs \
set (`TP_COMM_OVERLAP=True`: `tp_overlap=on`) and the gradients reduced in BF16 (`grad_sync_dtype: bf16`: \
`grads=bf16`). They are predicted 15–18 % short at every scale (13–16 % while their gradients were reduced \
in FP32, which took the 3584-GPU row from 13 % to 18 %). They were 21–25 % short while the overlapped GEMMs were priced whole on every SM; \
pricing them as Transformer Engine's userbuffers runs them (below) took 8–10 points off. TE's FP8 casts and \
transposes are not priced (under 3 % of a step), so most of what remains is in the FP8 GEMMs themselves: the \
efficiency fitted on DeepGEMM's 2025 kernels is likely above what 2023's cuBLAS FP8 kernels sustained, and no \
source measures the latter.
- **The GEMMs behind tensor-parallel overlap run as userbuffers runs them.** Under `tp_overlap` each GEMM a \
sequence-parallel collective hides behind is priced as Transformer Engine's userbuffers launches it, read \
from TE's defaults (`transformer_engine/pytorch/module/base.py`, `initialize_ub`), not fitted: the GEMMs \
after an all-gather as `tp` chunk GEMMs (ring exchange), the forward GEMMs before a reduce-scatter as 4 \
chunks beside a 16-SM communication kernel (pipeline), the backward's column-projection GEMMs on the SMs \
a 16-SM communication kernel leaves (bulk), the chunks three at a time on TE's three compute streams. \
Each launch has a share of the rows and its own partly filled last wave. It moved every H100 stack that \
runs it toward its measurement: Megatron-Core 13.4 % → 8.6 % MAPE, MLPerf's GPT-3 21–25 % → 13–16 % \
short, NeMo's tensor-parallel rows 18–24 % → 9–17 % (the MBS 2 GPT-3 row from 8 % to 0 %). Two rows move \
away: Megatron-Core's 32B (tp 8, −12 % → −15 %) and the 4608-GPU strong-scaling row (−3 % → −12 %).
- **H100 training runs faster in the model than on the machine.** Two H100 stacks are \
predicted too fast: NeMo's FP8 GPT-3 in MLPerf (15–18 %) \
and NVIDIA's own Megatron-Core weak-scaling table at 1.7B and 7.1B (BF16: 15 % and 17 %; within ±5 % from 16B up \
except 32B), while the A100 Megatron-LM rows of the same code base land within a few percent. \
Megatron's default cross-entropy (`megatron/core/tensor_parallel/cross_entropy.py`: the logits cast to FP32, \
then max, subtract, exp, sum and divide as separate passes over a 4096 × 131,072 tensor, `loss=unfused`) \
takes ~12 ms of each ~113 ms micro-batch at 1.7B, where one fused loss kernel takes under 2 ms; it was read \
from the code, not fitted, and moved the 1.7B row from 31 % to 15 % too fast and the A100 Megatron-LM rows by \
under 2 points. The table's strong-scaling text adds the 177B model at 96 and 4608 GPUs: at 96 GPUs, where 576 \
micro-batches per replica leave a bubble of about 1 % under any schedule, the stack measured MFU 47 % and the \
model predicts 57 %; at 4608 GPUs, where our plain 1F1B over 12 micro-batches idles 29 % of the step, the \
prediction (37 %) falls below the measurement (42 %). The measured drop is 5 points, ours 20: the steady state is \
still too fast in the model by a fifth, and the unstated schedule, taken as plain 1F1B, is likely interleaved \
(which the flat strong scaling suggests; it would shrink the 4608-GPU bubble). What remains at 1.7B and 7.1B is compute in our model (no exposed communication, \
attention at cuDNN's and FlashAttention-3's forward rates and \
FlashAttention-2's backward rate); one named part of it is not modelled: GEMMs with a 2048-wide dimension, which \
Vidur measured at 540–710 TFLOP/s on H100. The row predicted most too slow, 32B (−15 %), is the first \
with tp = 8 and pp = 1: each data-parallel group then has one GPU per node, and the FP32 gradient \
reduce-scatter (Megatron's `--bf16` forces `accumulate_allreduce_grads_in_fp32`) runs over one 400 Gb/s \
NIC per GPU; the model leaves ~0.29 s of it exposed where the measured step has room for ~0.2 s of \
everything beyond compute. Meta's Llama 3 rows were a third stack 23–26 % too fast while they were \
read with `zero=1`; read as its §3.3.2 words it (`zero=2`, gradients sharded and reduce-scattered after every \
micro-batch; a reading made after that error was seen) they are within 1.7 %. Their context-parallel rows \
(131K tokens, cp 16, Meta's all-gather based context parallelism) are 20–21 % too fast: attention is about \
two fifths of those FLOPs, priced as one kernel at FlashAttention-3's rates over the balanced causal span, and \
what Meta's kernels and document masks do at 131K is not stated. MLPerf's GPT-3 submission installs FlashAttention 1.0.5 (its `requirements.txt`) for Transformer \
Engine 0.8's attention; its sm80 kernels on H100 run well below the FlashAttention-3/cuDNN rates the model prices \
attention at; at a 2048-token sequence attention is a few percent of that step.
- **NeMo 24.12's FP8 pretraining table (DGX H100)** adds a fourth H100 stack and single-node FP8 rows. The \
4096-token rows on one and two nodes without tensor parallelism (Llama 2 7B and 13B) are predicted 6–7 % too \
fast; Llama 2 70B (64 GPUs, tp 4) 11 %; the context-parallel 8192-token rows 7 % each (Llama 3 8B, cp 2, tp 1; \
Llama 3 70B, cp 2, tp 4: 24 % and 17 % while context parallelism was priced as one kernel over the balanced \
span, before Transformer Engine's ring was modelled kernel by kernel); GPT-3 175B 11 % at 128 GPUs with micro-batch 1 and 1 % at 512 GPUs with \
micro-batch 2. That last pair has the same tp, pp and VP and 64 micro-batches per replica: the measured \
throughput per GPU rises 15 % from micro-batch 1 to 2; ours rises 5 % (2 % before the userbuffers chunks were \
priced), so something else paid once per micro-batch (its kernels' host issue, the pipeline sends at its 47 \
chunk boundaries each way) costs more on the machine than in the model. Nothing was fitted to these rows.
- **Pipeline sends as the stacks run them.** Megatron-LM before Megatron-Core, Megatron-Core without \
virtual stages and DeepSpeed's pipeline engine hold each device until its send is done (Megatron: \
`batch_isend_irecv`, wait, `torch.cuda.synchronize()` in `p2p_communication.py`); Megatron-Core's interleaved \
schedule (NeMo and MLPerf's GPT-3 set `overlap_p2p_comm`) and Llama 3 (\"asynchronous point-to-point \
communication in PP\", §3.3.2) send beside compute. The blocked time is its own line (`pp_send`). Narayanan \
2021's Table 1 layouts are read from the authors' scripts for it \
(`examples/academic_paper_scripts/sc21/run_table_1.sh`): micro-batches of 16 down to 1, interleaving for \
76B–530B, PyTorch DDP up to 18B and Megatron's local DDP (reducing after the backward) from 39B, with the \
scatter-gather of pipeline sends that code ran. The four pp = 1 rows, run before at the plain micro-batch of \
1, went from 7–12 % too slow to within 4.4 %; the interleaved 76B–530B rows are 6–10 % too fast, with the \
FP16 gradients that code reduces (`grads=fp16`: `--fp16` without `--accumulate-allreduce-grads-in-fp32`; \
4–9 % while they were reduced in FP32). Blocking sends, and DeepSpeed's gradient reduction after the \
pipeline has flushed (`overlap_dp=off`, its pipeline engine's `ReduceGrads`), took BLOOM's rows from 4.6 % \
to 1.7 % and MT-NLG's from 37–43 % to 34–40 %. Nothing was fitted. The gradient format is the stacks' own wherever a source \
states it (`grads=`: FP16 for Megatron-LM's FP16 runs, BF16 for MLPerf's GPT-3 and NeMo's performance \
recipes, `grad_reduce_in_fp32 = False`); each moved its rows away from the measurement (Narayanan 4.4 % → \
5.1 %, MLPerf 12.1 % → 12.8 %, NeMo 10.6 % → 11.1 %): the model prices what ran.
- **Calibration.** The engine's efficiency curves were fitted on inference kernels; attention's backward, \
the optimizer and the loss have none, and the `h800` preset has no calibration curves at all.
- **Topology.** The TPU v4 pod is modelled as an 8 × 16 × 24 mesh without wraparound (PaLM does not state the \
slice shape; only slices with 2A = B = C or 2A = 2B = C are tori) and the pods are joined by the preset's \
data-centre network.
- **Schedules and settings the sources leave unstated** take the plain defaults, so the error of those rows \
holds the unstated setting: Llama 3 no micro-batch, MT-NLG no micro-batch or schedule. MT-NLG's rows are the \
example: at the plain micro-batch of 1 (240, 192 and 160 micro-batches through its 35 stages) they are 34–40 % \
above the measured TFLOP/s; a sensitivity run at 2 samples per micro-batch gives 19–21 % and at 4 gives −6 to \
0 % (the bubble of 60, 48 and 40 micro-batches), but no source states it, so the rows keep 1. PaLM's layout is read \
from its §4 (its rows' note): ZeRO-3 sharding inside each 3072-chip pod with the two pods as replicas \
(`zero=3,shard=256`), full rematerialization and no gradient accumulation; its blocks are built in its \
parallel form (§2: attention and MLP read one norm and one add joins them, so tensor parallelism joins them \
once per layer and pass), which took its rows from 15 % too slow to within 1.4 %. Llama 3's layout is read from its §3.3.2, each reading in the rows' note: its first chunk holds the \
embedding alone and its last the head and loss alone (`split=embedding+loss`), which with 126 layers on 16 ranks \
means 8 one-layer chunks per rank (`interleaved:8`); its tensor parallelism cites the sequence-parallelism paper \
and its 8K sequences train without checkpointing, which fits only with sequence parallelism (`sp=on`); its FSDP \
“shards optimizer states and gradients” and does not reshard the parameters after the forward (PyTorch \
FSDP's `SHARD_GRAD_OP`, `zero=2`: every micro-batch's gradients reduce-scattered in FP32). Those rows first \
read `zero=1` (gradients accumulated whole, reduced once) and were 23–26 % too fast, with stage 1 over 80 GB \
in our memory model; the `zero=2` reading, which fits in 80 GB and puts them within 1.7 %, was made after \
that error was seen (docs/training-sources.md says so), so the large-scale figure above is also given \
without it. \
MT-NLG's full recomputation is read from the source (its TFLOP/s count the recompute pass, and without it the \
layout exceeds 80 GB: Korthikanti et al. 2022, Fig. 1). DeepSeek-V3's rows run its DualPipe schedule as \
`deepseek-ai/DualPipe` programs it (the simulation reproduces the repository's 8-rank, 20-micro-batch figure); an \
overlapped forward and backward take the longer of their compute and their communication, with the 20 of 132 \
SMs DeepSeek gives to communication (report §3.2.2) not taken from the compute, and its recomputation of \
RMSNorm and the MLA up-projections (§3.2.3) not modelled, so the activations exceed 80 GB in our memory model.
- **Outside the step:** data loading and host overheads (NVIDIA's DeepLearningExamples throughputs include \
them), variable sentence lengths (GNMT's bucketed batches against our fixed 50 tokens), BERT's next-sentence head (its \
masked-LM head is built, over every token as DeepLearningExamples ran it) and optimizers other than AdamW (LAMB, LARS), MLPerf's convergence \
and its evaluation passes.
- **Training kernel fusion.** The training forward runs BatchNorm, the residual add and the activation as their \
own kernels (BatchNorm cannot fold into the convolution while it learns), as the eager frameworks of the \
DeepLearningExamples rows do. A runtime that fuses them (`fuse_training_pointwise`, the `mlperf-mxnet` profile \
of NVIDIA's MLPerf ResNet-50: BatchNorm + ReLU and BatchNorm + add + ReLU in one kernel each, forward and \
backward) runs each such chain as one kernel. The MLPerf rows were first predicted without it (14–39 % too \
slow); the profile came from reading that stack's code, not from fitting the rows. At 16 images per GPU \
(3584 GPUs) the config also synchronises every BatchNorm's statistics over GPU pairs (`BN_GROUP=2`, read from \
the config: `bn_group=2`), which took that row's throughput from 21 % too fast to 3.5 %; its time to train \
stays 14 % too fast, with the evaluation passes and the warm-up inside it not priced. The stack trains FP16 \
weights and gradients (`--dtype float16`, FP32 masters in the optimizer) and Horovod all-reduces the \
gradients in FP16 (`grads=fp16`); pricing that halved all-reduce moved the rows at 64–3584 GPUs 0.5–4 \
points further from their measurements (throughput 9–14 % too fast, time to train 17–19 % too short). \
Across the four scales the measured time per iteration grows by about 0.13 ms per image on top of about \
4.3 ms per iteration; the model's are 0.15 ms and about 2 ms: something the stack pays once per \
iteration (Horovod's negotiation, the MXNet executor, DALI) is not modelled, and the per-image cost is \
slightly too high.
";

/// The protocol: the split, the three figures, where each fitted constant comes from
/// (static text, before the tables).
pub(crate) const PROTOCOL_MD: &str = "Each row of the validation files is one published or shipped measurement (its `source` \
column cites it). Error = (predicted − measured) / measured. Skipped rows are listed with their reason and never \
count.

## The protocol

- **Sources and a frozen split.** A *source* is one dataset measured on one device with one library or \
harness (`vidur-a100`: Vidur's CUDA profiles on the A100; `llmcompass-MI210`: LLMCompass's PyTorch sweeps on the \
MI210; `deepbench-TitanXp`; one MLPerf submission; gpt-fast on the A100). Every row names its source in \
column `source_id`, and `data/validation/split.toml` puts each source wholly on one side: **fit** (some \
calibration used rows of it, marked `used_for_calibration=yes`, and the split says what they set) or **test** \
(nothing was set from any of its rows). `xpusim validate` fails on a row whose source is not in the split, on \
a flagged row of a test source, and on a fit source without a flagged row.
- **Three figures per category**, side by side: *in-distribution* — MAPE of the held-out rows of fit sources \
(same dataset, GPU and library as the fit rows, e.g. the Vidur Llama-2-70B rows beside the 7B rows the curves \
were fitted on); *cross-source* — MAPE of the rows of test sources, which is what a newcomer's own \
measurements should expect; *uncalibrated* — the same held-out rows predicted again in the same run with the \
devices' `[[calibration]]` curves dropped (the analytical model with the presets' constants). Fit rows are \
reported apart and never count as held out.
- **Every fitted constant comes from flagged rows or a datasheet.** The calibration curves are what \
`xpusim calibrate` regenerates from the flagged rows (the command is in each curve's `source`; \
`crates/xpusim-validate/tests/protocol.rs` regenerates every shipped curve and fails if one differs). The \
fitted matrix efficiencies come from one rule, `xpusim calibrate FILES --hw NAME --matrix-efficiency`: over the \
device's flagged GEMMs of at least 1 GFLOP, predicted with the curves dropped, the efficiency at which the \
median predicted / measured time is 1, to two decimals (the same test checks the shipped values): `a100-80gb` \
0.79 from its 184 flagged Vidur Llama-2-7B GEMMs (it was 0.85, chosen to balance the Vidur and LLMCompass A100 \
GEMM errors; the LLMCompass A100 row then flagged as its fit row gives 0.97 by this rule and is now held \
out), `mi210` 0.66 from its one flagged LLMCompass GEMM (8192 × 12288 × 12288). The same rule per number \
format (`--dtype fp8`, setting `[matrix] efficiency_by_format`) gives the GH100 presets' FP8 efficiency, 0.60, \
from DeepGEMM's six flagged M = 4096 FP8 GEMMs on the H800; `h100-sxm` and `h200` (the same die, clocks and \
700 W) carry it, so the TensorRT-LLM H200 FP8 rows test it across source, GPU and library. The HBM efficiency of \
`a100-80gb` and `h100-sxm` (0.80) reads the Vidur 7B weight-streaming GEMVs (flagged). Every other constant of \
the presets these rows touch (`h100-sxm` 0.75, `titan-xp`, `v100` and `p100` 0.8 and `t4` 0.6 matrix \
efficiency, peaks, bandwidths, the `dgx-a100` NCCL terms) is a datasheet value, a cited measurement or an \
estimate listed in the preset's `unverified`; none was set from a row here. DeepBench's training rows are all \
held out: no harness floor is fitted to their smallest calls either, so cuBLAS's and cuDNN's per-call cost \
stays in their error.
- **Measurement-setup terms.** LLMCompass timed its vector ops as back-to-back PyTorch eager calls whose \
per-call host dispatch (13 µs softmax, ~50 µs layernorm/GELU on the A100) bounds the time from below. That \
floor belongs to the harness, not the chip: column `harness_floor_us` (the median of each kind's three \
smallest rows, which are flagged and make `llmcompass-A100` a fit source although no device constant or curve \
comes from it) is applied **only in validation**, as predicted = max(device time, floor). Every row carrying \
one says so in its note, and a row whose prediction the floor sets says so beside its number (`flags` in \
`--format json`). The engine never sees it; `xpusim run` on these shapes predicts the device time alone.

";

/// What the power and energy rows compare (static text, before their tables).
pub(crate) const POWER_INTRO_MD: &str = "Rows of `data/validation/power.csv`: MLPerf Inference datacenter **Power** \
submissions, whose analyser measures the whole node at the wall (`scope = wall`) while the timed run \
lasts. Each row is predicted from the same passes as a throughput row, under the per-GPU power limit \
the submission set (`power_cap_w`): power = the devices' energy per pass (dynamic, per byte, static) \
over its time, times the replicas, plus the host, the system file's `node_power.overhead_w` \
(`data/validation/hw/`: the published host CPUs at TDP and a cited power-supply loss, nothing \
else). Every source is a test source: no constant was set from these rows (how the engine's voltage \
scaling under a cap came in after they were first predicted is told below). The last column \
says what each prediction is made of.\n\n";

/// What the power rows show (static text, after their tables).
pub(crate) const POWER_MD: &str = "
**Why the rows miss** (read from the breakdown column; the throughput below is each row's \
measured samples/J × measured wall power):

- **Capped clocks: voltage scaling, and how it came in.** The submissions capped every board \
(195–290 W, below the 250–400 W the same chips draw uncapped). The engine meets a cap by running \
the cores at the highest clock that fits, and energy per core action falls with the clock as \
`f^k` (`power.dvfs_energy_exponent`; the default k = 2 is the CMOS relation: switching energy \
`C·V²` with the voltage scaled with the clock). Capped ResNet-50 throughput is now predicted 3–9 % \
below the measured one (A100 PCIe −5 %, H100 PCIe −3 %, DGX A100 −8.5 %) and samples/J within \
15 %. Disclosure: these rows were first predicted with energy per action held constant under a \
cap (k = 0), which lost 23–39 % of the throughput and put samples/J 27.5 % low; that miss is what \
showed voltage scaling was missing. The exponent was then taken from the physics, not from \
these rows: no other value was tried against them, and nothing else changed.
- **The host dominates the DGX A100 wall power (about −20 %).** Its boards are predicted at 221 \
and 244 W of a 250 and 275 W cap, so at most ~250 W of the miss can be theirs; the host is \
charged 683 W (two EPYC 7742 at TDP and a Platinum power-supply loss), while the measured wall \
less eight boards at their cap leaves at least 1,082 W. The six NVSwitches, nine ConnectX-6 NICs, \
fans and 2 TB of DRAM are not modelled, for want of a cited figure per part. The `dgx-a100` \
preset's own 3,300 W (datasheet maximum less GPU TDP) would over-predict it by 60–66 %.
- **On the PCIe nodes wall power is within 10 % partly by cancellation.** The boards are \
predicted below their caps (ResNet-50: 184 of 195 W, 201 of 215 W; slack where some ops stay \
under the cap) while the host, 632 and 657 W, is above what the measurements leave for it (the \
wall less eight boards at their cap: about 490 and 500 W for ResNet-50); CPUs charged at TDP \
during a GPU-bound run are the likely excess.
- BERT-99 rows are compared on power only: the prediction runs the 384-token padded input the \
harness does not run, and power, an average rate, moves far less with it than energy per sample.

";

/// How the shipped data was made and what each dataset measures (static text).
pub(crate) const DATASETS_MD: &str = "
## The datasets

- `data/validation/vidur.csv`: per-operator CUDA timings of one Llama-2-7B / 70B layer on A100-80GB and \
H100 at TP 1/2/4/8 (microsoft/vidur profiling data, ../shared/calibration/vidur), each op built with the \
IR constructors the zoo uses (QKV/Wo/up/down linears, RMSNorm, RoPE, SiLU·mul, residual add, vocab-parallel \
embedding) on one GPU with TP-sharded weights. Timed like wall time: the smallest ops take 1–5 µs whatever \
their size, a per-kernel floor (launch, scheduling, first-wave fill) that differs by op (add 1–2 µs, RMSNorm \
~3.5 µs), so the launch is inside the timed region. The 7B rows fitted the presets' curves and floors and \
the A100's matrix efficiency; the 70B rows are held out (in-distribution).
- `data/validation/llmcompass.csv`: PyTorch FP16 GEMM sweeps, softmax, layernorm and GELU on A100 and MI210 \
and the per-op times of one GPT-3 175B layer at TP 4 (LLMCompass artifact, ../shared/calibration/llmcompass). \
Rates (elements/s) are re-expressed as latency = elements / rate. The small softmax/layernorm/GELU rows sit \
on the PyTorch eager harness floor (13 µs softmax, ~50 µs layernorm/GELU per call on the A100), a host cost, \
not the chip's: flat over a 30× size range, then rising as max(floor, device time), as back-to-back calls \
whose host dispatch overlaps the GPU give. Column `harness_floor_us` carries it per GPU and op kind (the \
median of that kind's three smallest rows, which are marked `used_for_calibration=yes`; the GPT-3 layer \
rows, timed by the same harness, take their kind's floor); the prediction is max(device time, floor), in validation only. The \
`mi210` preset's matrix efficiency comes from one of its GEMM rows and its vector curve from its 22 softmax rows \
(all marked fit); its layernorm, GELU and other GEMM rows are held out. No A100 GEMM row is fitted. The all-reduce rows run on the `dgx-a100` system preset (xpusim-system).
- `data/validation/deepbench.csv`: Baidu DeepBench's inference-server kernels on the TITAN Xp quoted in its \
README (cuDNN LSTM/GRU forward inference in FP32, INT8 cuBLAS GEMMs): the RNN era's kernels, on the `titan-xp` \
preset.
- `data/validation/deepbench-train.csv`: Baidu DeepBench's published training workbooks \
(results/train/DeepBench_NV_{V100,P100,T4,TitanXp}.xlsx at commit da81ba7, regenerated by \
`data/validation/deepbench_train.py`; every row cites file, sheet and row): 160 cuBLAS GEMMs per GPU and \
precision (FP32 on CUDA cores on all four; FP16 on tensor cores on V100 and T4; transposes are not modelled) \
and the forward column of the cuDNN vanilla-RNN/LSTM/GRU rows (V100 FP32 and FP16, P100 and TITAN Xp FP32; \
the T4 sheets have none), as `skip_input=1` kernels: the benchmark runs cuDNN's skip-input mode, with no \
input projection; and 94 cuDNN forward convolutions per GPU and precision (DeepSpeech, OCR, face recognition, \
vision, ResNet and speaker-ID layers; the forward column, as `conv` kernels lowered to the IR's convolution). One test \
source per GPU (`deepbench-train-V100`, ...): nothing is fitted to them. Times \
are host-timed back-to-back calls (`wall`); the P100 pseudo-FP16 sheet, all-reduce and the backward \
columns are not taken (the script says why). Nearly every row is predicted too fast: the \
large FP16 tensor-core GEMMs land within ~5 % on the presets' estimated matrix efficiencies, while skinny \
GEMMs (N = 16 to 128) ran at well under the off-chip bandwidth the presets assume, the T4's 70 W cap holds \
its FP32 GEMMs near half the CUDA-core peak (more than the power model takes off), and cuDNN spent tens of \
microseconds per recurrent step that the engine's per-step cost does not hold, though it now counts the two \
dependent kernels of each step of cuDNN's standard algorithm, which the benchmark runs (its recurrent GEMM and \
its gates; the RNN rows' error fell by 3–7 points), and runs SIMT GEMMs' tiles in waves, as it ran the \
tensor-core ones. (These rows also showed FP32 \
contractions on all four priced at the full CUDA-core peak — V100 and T4 have no FP32 matrix rate, P100 and \
TITAN Xp list their CUDA-core rate as one: the engine priced the same units twice and the copy without the \
kernel's `matrix.efficiency` won; fixed, the V100, P100 and TITAN Xp FP32 GEMMs over 10 GFLOP are \
now within 15 % per size decade.) The convolutions miss both \
ways, split by the forward algorithm each sheet records: the 108 rows cuDNN ran with Winograd kernels (FP32 \
3 × 3 layers) were predicted 47 % too slow on average while the engine priced every layer as a direct \
convolution; it now prices a 3 × 3, stride-1 layer on the vector units as the faster of that and \
Winograd, as cuDNN's search does, and they are predicted slightly too fast like the rest (FFT convolution \
is not modelled: of the 6 rows cuDNN ran with it, the two not 3 × 3 stay too slow); the 450 implicit-GEMM rows are predicted too fast, 1 × 1 \
and small layers as the skinny GEMMs are. The FP16 sheets' layers with channel counts not a multiple of 8 ran \
padded to one (their benchmark pads them for the tensor cores, so the rows price the padded problem: the \
1-channel DeepSpeech layer ran with 8); those 20 rows are still predicted several times too fast, the \
padded layers having run at about a tenth of the tensor-core rate the preset assumes.
- `data/validation/deepgemm.csv`: DeepSeek's DeepGEMM FP8 GEMM throughputs on an H800 SXM5 (README at \
commit 55ab91f, 2025-03-25, regenerated by `data/validation/deepgemm.py`): 18 dense and 10 grouped (MoE) \
GEMMs of DeepSeek-V3's shapes, M = 64 to 8192, timed as kernel time by the PyTorch profiler \
(`timing = kernel`), on the `h800` preset (no calibration curves). The only FP8 kernel measurements in the \
set. It joined as a test source (dense 20.0 %, grouped 21.2 %, both predicted too fast with the 16-bit \
efficiency 0.75) and became a fit source when its six dense M = 4096 rows (chosen by shape: the large, \
compute-bound GEMMs a sustained efficiency describes) set the FP8 efficiency; the M = 64/128 and grouped rows \
are held out. One efficiency cannot follow both ends: the K = 512 shapes ran at 751 TFLOPS and the \
K = 16384 shape at 1426, a per-tile cost (the BF16 output tile written after a short reduction) the engine \
does not price. DeepGEMM scales its operands per 1 × 128 and 128 × 128 block, writes a BF16 output \
and promotes its partial sums to FP32 every 128 of K; the `gemm` kind prices per-tensor FP8, so each note \
says the rows carry that difference.
- `data/validation/public.csv`: end-to-end published numbers, each with its source: gpt-fast batch-1 \
Llama-2-7B/70B decode on A100-80GB (bf16, int8 and int4 G=32 weight-only, 1–8 GPUs tensor-parallel; \
pytorch-labs/gpt-fast README) and MLPerf Inference Offline ResNet-50 (INT8 TensorRT: H100 and A100 in v3.0, \
8 × T4 in v0.7; mlcommons/inference_results_v*, the `mlperf_log_summary.txt` of each), and TensorRT-LLM's \
static-batch FP8 Llama-2-13B/70B output throughput on one H200 (v0.5 and v0.7a, NVIDIA/TensorRT-LLM \
docs/source/blogs), predicted as `generate` rows (output tokens × batch / total latency, the blogs' own \
definition), and from TensorRT-LLM's performance page (docs/source/performance.md at 138f96d) Llama 2 \
7B/70B first-token latency at batch 1 (v0.5: the `model/llm prefill` rows) and static-batch output \
throughput (v0.6.1) on H100 (FP8) and A100 (FP16), the per-GPU throughput of tensor-parallel runs \
multiplied by their GPUs, and the v0.6a Llama 2 70B row without XQA from its blog. Rows whose release \
decoded with the masked multi-head attention kernel, one thread block per query head (v0.5, v0.6a, and \
multi-head models), run under the `tensorrt-llm-mmha` runtime; the v0.6.1 70B rows, which the page ran \
with `TRTLLM_ENABLE_XQA=1`, and the v0.7a rows keep the packed kernel (docs/runtime.md). Two of those v0.6.1 \
rows, 70B with 2048 output tokens, are 113–117 % too fast under the packed kernel and 23 % under the \
per-query-head one; v0.9 measured the same two configurations 1.85× faster, about what the packed GQA kernels \
gave over the older ones (2.4× on GQA decode, the v0.7a blog), which suggests v0.6.1's experimental XQA did \
not run with the FP8 KV cache these engines used. No source says so, so the rows are not re-read. The same page as \
released with v0.9.0 gives 54 more rows (printed by `data/validation/trtllm_v09.py`, which says what each \
number is): Llama 2 7B/70B and Mixtral 8x7B static-batch throughput and batch-1 first-token latency on H200 \
and H100 (FP8) and A100 (FP16), XQA-era, so under the packed kernel; Mixtral runs in FP16 throughout (FP8 \
for it came with v0.10.0, whose release notes say so). The benchmark feeds every sequence of a batch the same \
tokens and decodes greedily, so a Mixtral decode step routes the whole batch to the same two experts; the \
engine routes uniformly and reads more expert weights than those runs did (the script's docstring). MLPerf \
BERT rows are \
not included: NVIDIA's harness drops the padding of the 384-token SQuAD inputs, and the mean real length the \
measured runs processed is not published with them, so a row would compare different work.
- `data/validation/trt-bert.csv`: the encoder rows. TensorRT's BERT demo latencies (NVIDIA/TensorRT \
demo/BERT README at commit 007c347, TensorRT 8.4.3; regenerated by `data/validation/trt_bert.py`): \
BERT-Base and BERT-Large, sequences of 128 and 384 tokens (padded, fixed-length engines), batches 1 to 128, \
FP16 and INT8 (post-training quantised, with INT8 layernorm and attention plugins), each engine replayed \
from a CUDA graph by the demo's `perf --enable_graph` and compiled with the builder's fusions \
(`runtime = tensorrt`: GELU and the residual adds in the GEMM epilogues), the Average column, on an \
A100 40GB (the `a100-sxm4-40gb` preset: the README does not say SXM or PCIe; both 40GB boards have 1,555 GB/s \
HBM2), an A30 (the `a30` preset: the A100's GA100 die with 56 SMs on a 165 W board, the A100's per-operation \
constants carried over and the board's from its datasheet) and a T4 (the `t4` preset). Three test sources: \
nothing was fitted to them. The 2:4-sparse Megatron tables (sparsity is not modelled) are left out. The \
rows first ran under `cuda-graphs`, with GELU and the residual adds as kernels of their own. Read from the \
demo's `builder.py`, TensorRT fuses GELU into the FC1 GEMM and adds each residual in its SkipLayerNorm \
kernel, so they now run under `tensorrt` (`fuse_gemm_epilogues`: the same bytes and launches). Where that \
is all that matters, the A100 at 128 tokens (attention small, board not power-limited), they went from \
+2..+16 % (MAPE 9.7 %, every row too slow) to −14..+2 % (MAPE 5.6 %). The rest had been right for the wrong reason and now show what else \
is missing: the A100's 384-token rows 9–46 % too fast (attention at head dim 64, as the attention rows \
below show), the A30 (the same die on a 165 W board) 7–44 % and the T4 (70 W) 24–44 %, boards that run \
their tensor cores power-limited. Nothing was fitted; the encoder category rose from 15.0 % to 22.8 %.
- `data/validation/attention.csv`: the attention kernel rows. FlashAttention-3's Fig. 5 (Shah et al. 2024, \
arXiv:2407.08608; the bar labels of `assets/flash3_fp16_fwd.png` in Dao-AILab/flash-attention at 7ef2484, \
typed into `data/validation/flash_attention.py`, which says what each number is): forward attention in FP16 \
on an H100 80GB SXM5, hidden size 2048 in heads of 64, 128 or 256, sequences of 512 to 16k at 16k tokens a \
batch, without and with a causal mask, for FlashAttention-2, the Triton tutorial's FlashAttention-2, cuDNN's \
fused attention and FlashAttention-3: four test sources, one per implementation (nothing fitted). Each row \
is the time the benchmark's FLOP count (4·s²·d·h per sequence, halved under the mask) gives at the published \
TFLOP/s. The engine prices one Hopper-native fused kernel: at head dim 128 it is within 4–6 % of \
cuDNN and FlashAttention-3 on average (FlashAttention-2 and Triton, which do not use Hopper's \
asynchronous warpgroup MMA, are predicted 37–48 % too fast); at head dim 64 every implementation is \
slower than the engine's (cuDNN and FlashAttention-3 predicted 28–35 % too fast): each score also needs one \
exponential on the special function units (`vector.sfu_per_clock`, 16 per SM per clock: 3.9 T/s on H100 \
against 989 TFLOP/s of FP16 matrix work, the FlashAttention-3 paper's §3.1), which weighs twice as much per \
FLOP at head dim 64 as at 128. The engine prices the exponentials on those units and the softmax's other \
FLOPs at the FP32 rate, but on Hopper it overlaps the softmax with the asynchronous MMAs, where the \
exponentials hide; the measurements say they do not hide completely, and by how much is not \
modelled. FlashAttention-3's own head-dimension sweep at 16k tokens (equal FLOPs in each panel) fits \
`T = A + B/d`: A is the MMAs at 94 % of the dense peak and B/d within 7 % of one exponential per score at \
the special function units' rate, added to the MMAs rather than overlapped with them (the fit from head \
dims 64 and 128 predicts 256 within 1 %). These are test rows, so the engine was not refitted to them. At head dim 256 FlashAttention-3 runs up to 76 % of \
peak, 20 % faster than the engine's matrix efficiency allows. These rows showed the 16k-token rows (one \
sequence of 8 heads) predicted 1.5–2.2× too slow for cuDNN and FlashAttention-3: once a head's K and V \
exceeded half the L2 the engine read them from HBM once per query block, while the blocks of a wave \
stream the same keys in step; it now reads them once per wave the head's query blocks span, and those \
rows land with their neighbours (head dim 256: cuDNN 17.6 → 9.5 %, FlashAttention-3 27.9 → 10.7 %). \
The same file holds FlashAttention-2's forward + backward on an A100 80GB SXM4 and an H100 80GB SXM5 (the \
bar labels of `assets/flash2_{a100,h100}_fwd_bwd_benchmark.png` from the FlashAttention-2 release, \
Dao-AILab/flash-attention at 4f285b35; same hidden size, head dims 64 and 128, lengths and masks; the time \
is 3.5× the forward's FLOPs over the published TFLOP/s, the benchmark script's count), kernel rows \
`attention_fwd_bwd` that price the forward and the backward op training builds: two test sources, the first \
rows that time an attention backward. On the A100, FlashAttention-2's own platform, whose warps issue the \
MMAs and the softmax in turn, head dim 128 lands within 8 % and head dim 64 was 26–48 % too fast with the \
softmax priced at the 16-bit vector rate; priced as the kernel runs it (FP32 lanes, exponentials on the \
special function units, both datasheet rates, nothing fitted) head dim 64 is 23 % too fast on average and \
head dim 128 8 %. On the H100 head dim 128 lands within 9 % and head dim 64 is 47 % too fast: FlashAttention-2 \
does not use Hopper's asynchronous MMAs, so its softmax does not overlap them as the engine's Hopper kernel \
assumes (its forward rows above show the same). The head-dim-128 agreement rests on the backward being \
memory-bound in the engine: when a head's Q, dO and FP32 dQ accumulator overflow half the L2 it streams them \
from HBM once per key block. Applying the forward's rule instead (once per wave the head's key blocks span, \
as the blocks of a wave loop over the queries in step) makes the backward compute-bound and these rows 20 % \
(A100) and 39 % (H100) too fast; what FlashAttention-2's backward really spends there — every key block of \
a wave adding into the same dQ block at once, FP32 atomics contending in the L2 — has no published rate, \
so the engine keeps the streaming rule and this note says what it stands in for.
- `data/validation/serving.csv`: serving throughput. TensorRT-LLM's published offline benchmark \
(NVIDIA/TensorRT-LLM docs/source/performance/perf-overview.md at 00f3768, \"Throughput Measurements\"; \
regenerated by `data/validation/trtllm_bench.py`, which says what each number is): total output tokens/s of \
`trtllm-bench throughput` with every request queued at once, for NVIDIA's FP8 checkpoints of Llama 3.1 8B \
(TP 1), Llama 3.3 70B (TP 1 on H200, TP 2 on H100) and Llama 3.1 405B (TP 8) over ten input/output lengths \
from 128/128 to 20000/2000, on DGX H100 and DGX H200: two test sources, nothing fitted. Phase `serve` rows \
run the same requests through the serving simulator under the server settings the benchmark used: \
`max_batch_size` and `max_num_tokens` from trtllm-bench's own heuristic (reproduced in the script), its \
`GUARANTEED_NO_EVICT` admission (a request claims its whole KV cache when admitted, never preempted) and no \
chunked prefill, the KV cache at 0.95 of the memory the model leaves, FP8 linear layers and KV cache \
(`fp8-w8a8`, `kv_precision = fp8`: Model Optimizer's export format), under the `trtllm-pytorch` runtime \
(prompt iterations issued from Python, generation-only ones from CUDA graphs). As first predicted: 7.2 % \
(bias −5.8 %), every row within −17.7..+12.5 % and 56 of the 60 within ±12.5 %; by model and GPU from \
4.8 % (70B, H100) to 10.4 % (8B, H100, all too slow). The KV format was the one setting chosen after a prediction was seen: three rows were first run \
with a 16-bit cache, which the 405B card's wording (\"only the weights and activations of the linear \
operators\") suggests, and came out 19–48 % too slow; the FP8 cache is what Model Optimizer's export writes \
(`kv_cache_quant_algo: FP8` in `hf_quant_config.json`) and what trtllm-bench's `kv_cache_dtype: auto` reads. \
Left out: the B200/GB200 columns (FP4 is not priced), the RTX 6000 Pro tables (no device file) and the \
Llama 4, Qwen3 and DeepSeek tables (not in the zoo). The same page as released with v0.17 (258c754) adds \
230 rows and a third GPU: the benchmark on TensorRT engines, Llama 3.1 8B, 70B (TP 1 to 8) and 405B and \
Mixtral 8x7B (TP 1 to 8) on H200 and H100 in FP8 (the page: the KV cache is FP8 too) and on A100-SXM4-80GB \
in FP16, three test sources; the same settings rule, no runtime profile (engines enqueued from C++; the page \
does not say they replay CUDA graphs). As first predicted: 10.5 % (bias −0.6 %): H200 8.2 % and H100 \
9.8 % (both a little too slow, as the PyTorch-backend rows), A100 14.7 % with a bias of +13.3 %: Llama 3.1 \
8B within 3 %, 70B 11 % and Mixtral 22 % too fast (every A100 Mixtral row, 2.5–35 %). The whole category: \
9.8 % over 290 rows (bias −1.7 %). The same configuration measured on both Hopper boards tests the capacity \
and bandwidth side on its own (same die and clocks; 141 GB at 4.8 TB/s against 80 GB at 3.35 TB/s): over \
the 109 H200/H100 pairs the predicted throughput ratio is within 10 % of the measured one for 88 (median \
5.4 %), from 0.6 (70B on one H200 against two H100s) to 2.3 (70B in FP8 on one board each, which leaves \
the H100 a few GB of cache). Where prompts dominate (128/128, 2048/128) and both boards hold the model with \
room to spare, the H100 runs about as fast as the H200 (ratio 0.99–1.08) and the engine gives the H200 7–15 %: it \
prices more of those iterations as memory-bound than they are. The memory-bound part is the pointwise kernels \
the graph runs as round trips of their own (norms, SwiGLU, RoPE, residual adds: 21 % of a 4,096-token Llama \
3.1 8B prefill on the H100 in the engine, 16 % without its fitted curves, 12 % on the H200), several of which \
TensorRT-LLM fuses; no runtime profile says which, so none is fused here.
- `data/validation/power.csv`: MLPerf Inference datacenter Power submissions (closed, Offline): \
average wall power of the whole node over the timed run (the submission checker's rule: the mean of \
the analyser's samples between the run's `power_begin` and `power_end`) for ResNet-50 and BERT-99, \
and ResNet-50 samples/J (samples/s over that power), each under the per-GPU `power_limit` of the \
submission's MaxQ config (`power_cap_w`): 8 × A100 PCIe 80GB and 8 × H100 PCIe 80GB in Gigabyte \
G482-Z54 nodes (v3.0) and a DGX A100 (v2.1). Regenerated from the results repositories by \
`python3 data/validation/mlperf_power.py --repo v3.0=PATH --repo v2.1=PATH`; each row cites the \
repository, commit and files. The PCIe boards and the three nodes are `data/validation/hw/` files: \
datasheet values, the SXM presets' per-operation constants (same dies), and the host as the \
published CPUs at TDP plus a cited power-supply loss, all fixed before any row was predicted. \
Reported under \"Power and energy\", never in the time and throughput figures.
- `data/validation/training.csv`: published training runs (phase `train`: Megatron-LM and Megatron-Core, NeMo, MT-NLG, PaLM, Llama 3, \
DeepSeek-V3, BLOOM, OPT, MLPerf Training, NVIDIA DeepLearningExamples), each one optimizer step priced by \
`xpusim-train` under the layout the row states. They are reported on their own page, \
[validation-training.md](validation-training.md) (`xpusim validate data/validation/training.csv --format md`), \
not in the tables above.

## Commands and file format

- `xpusim validate FILE... [--format table|json|md] [--uncalibrated] [--split split.toml]` predicts every \
row, and every held-out kernel and model row again without curves (the uncalibrated figure); `--uncalibrated` \
drops the devices' `[[calibration]]` curves from the main prediction too. The split is `split.toml` beside the \
first file unless `--split` names one; rows of the files it covers are labelled `fit` or `test`. \
`--format json` gives `rows` (each with `class` — `kernel`, `model`, `train` or `energy` — `devices`, `split`, \
`source_id`, `error_pct`, `uncalibrated_error_pct`, `flags`; an energy row's flag says what its prediction \
is made of), `classes` (with `energy` when power rows are present) and `categories` (each a statistics object: `n`, `mape_pct` over all held-out rows, \
`in_distribution_n`/`in_distribution_mape_pct`, `cross_source_n`/`cross_source_mape_pct`, \
`uncalibrated_n`/`uncalibrated_mape_pct`, `median_abs_pct`, `max_abs_pct`, `bias_pct`, `fit_n`, \
`fit_mape_pct`, `skipped`), `mape_pct` and `median_abs_pct` by category (`overall`: time and \
throughput rows only), `energy_metrics` (with power rows: a statistics object per power or energy \
metric) and `split` (the file and each source with its side, what was fitted and its statistics). The Vidur per-operator \
comparison for Llama-2-7B/70B alone: `xpusim validate data/validation/vidur.csv`.
- `xpusim calibrate FILE... --hw NAME [--families f1,f2] [--all-rows] [--write dev.toml]` fits curves from the \
kernel rows of one device (only rows marked `used_for_calibration=yes` unless `--all-rows`) and prints the \
`[[calibration]]` tables, or writes a complete device file; `--matrix-efficiency` prints the device's \
`[matrix] efficiency` by the rule above instead, and with `--dtype fp8` that format's entry of \
`[matrix] efficiency_by_format` from the flagged GEMMs the matrix unit runs in it.
- Columns: `id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,value,unit,source` \
plus optional `category`, `timing` (`wall`/`kernel`), `used_for_calibration` (`yes`/`no`), `revised_after_error` (`yes` where the row's reading was changed after its error had been seen; the training page gives its large-scale figure without such rows too), `source_id` (the \
row's source in the split), `note`, \
`harness_floor_us` (a kernel row's per-call harness floor in µs; predicted = max(device time, floor)), \
`runtime` (the software stack the source ran, a runtime preset or TOML: the prediction runs under it, \
e.g. `pytorch-eager`, `cuda-graphs`, `sarathi-vllm`; see `xpusim list runtimes`), `scope` (power and \
energy rows: `board`, the default, the sum of the accelerator boards; `wall`, the whole node at the wall, \
predicted with the hardware system's `node_power.overhead_w` for the host, so `hardware` must be such a \
system), `power_cap_w` (the per-device power limit the run was measured under, W, as `--power-cap-w`: \
applied to the prediction of any metric); a bad `scope` or `power_cap_w`, or a `scope` on a row whose \
metric is not a power or energy metric, is an error naming the file, line, column and row id; other columns \
are ignored. `hardware`: a device or system preset, or a TOML path. `parallelism`: `dp` (replicas) or `tp` \
(one model over `devices`, costed by xpusim-system), or for any row a list such as `tp=2,dp=4` \
(keys `tp`, `pp`, `ep`, `dp` for inference rows, whose product is `devices`; an unstated `dp` is the rest). `workload`: a zoo model, or a kernel \
`gemm|linear:m=,n=,k=[,b=]`, `attention:b=,h=,sq=,skv=,d=,causal=[,kvh=]`, `membw:bytes=`, \
`softmax|layernorm|rmsnorm:rows=,cols=`, `gelu|silu|gelu_mul|silu_mul|add|rope:elems=` (flat) or `:rows=,cols=` (one thread block per row), \
`embedding:tokens=,dim=,vocab=`, `lstm|gru|rnn:hidden=,batch=,steps=[,input=]`, `allreduce|allgather|reducescatter|alltoall:elems=`. `phase`: `kernel`, \
`inference`, `prefill`, `decode`, `generate`. `metric (unit)`: `latency_ms (ms)`, `samples_per_s (samples/s)`, \
`tokens_per_s (tokens/s)`, `ttft_ms (ms)`, `tpot_ms (ms)`, `tflops (TFLOPS)`, `bandwidth_tbps (TB/s)`, and for \
model rows the power and energy metrics `power_w (W)` (average power over the passes), \
`energy_per_sample_j (J/sample)`, `joules_per_token (J/token)` (the tokens the throughput metrics count) \
and `samples_per_j (samples/J)`.
- Curves: `[[calibration]] family = \"matmul|attention|vector|embedding|memory\"`, optional `op` (an \
elementwise function or norm kind), `points = [[size, multiplier], ...]` (size in FLOPs for matmul/attention, \
bytes otherwise; log-interpolated; the multiplier divides the op's work time, never its launch overhead, \
and never takes a contraction past its MACs at the preset's sustained matrix rate — a size-only curve \
recovers the analytical cost's average tile and wave losses at each size, which on shapes priced near that \
rate would overshoot: the H100 curve put training-sized BF16 GEMMs at 800–830 TFLOP/s, above Vidur's \
measured 700–750 and the best shape search on an H100 SXM, 794.5, Bekman's MAMF table), \
optional `fixed_us` (the op's measured per-launch floor, replacing `overhead.launch_us` for ops on the curve; \
`xpusim calibrate` sets it to the median fixed time of the curve's rows within 10× of its smallest size whose \
analytical work is under 10 % of the measured time, and fits the multipliers on the remaining rows), \
optional `row_gbps` (kernels that give each row its own thread block — norms, vLLM's per-token activation \
and rotary kernels — take at least `waves × row bytes / row_gbps`, a wave being 2 blocks per SM; `xpusim \
calibrate` fits one rate per device, with a floor per curve, by a pooled least-squares line through the \
launches of at most a quarter wave of rows; ~10 GB/s per block on A100 and H100), and optional \
`serial_max_rows`/`serial_us_per_row` (PyTorch's small-index gather walks up to 16 indices one by one: \
fitted as a line through the 1–16-token embedding rows).

Regenerate the derived CSVs with `python3 data/validation/from_shared.py`, the curves with the \
`xpusim calibrate` command in each preset's `source`, and this page with the command at the top. \
`crates/xpusim-validate/tests/shipped.rs` fails if the held-out MAPE exceeds `data/validation/bounds.toml`.
";
