//! `xpusim train`: step time, MFU, memory per device, energy and the cost of training a
//! model on a device or a system under a parallel layout (or the fastest one that fits).

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;
use xpusim_ir::{DType, Graph, Phase};
use xpusim_target::Target;
use xpusim_train::{Rank, Recompute, Schedule, TrainCost, TrainError, TrainLayout, TrainRun};
use xpusim_workload::Request;

use crate::args::Format;
use crate::format;

/// Training tokens per parameter when no budget is given: the compute-optimal ratio of
/// Hoffmann et al. 2022 ("Chinchilla", Table 3: about 20 tokens per parameter).
const CHINCHILLA_TOKENS_PER_PARAM: f64 = 20.0;

/// Samples per optimizer step when none is given: Llama 2's 4 M-token batch of 4096-token
/// sequences (Touvron et al. 2023, §2.2).
const DEFAULT_GLOBAL_BATCH: u64 = 1024;

/// Decimal gigabytes, as every other xpusim output gives bytes.
const GB: f64 = 1e9;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Model: a zoo name (`xpusim list models`), a Hugging Face config.json or an ONNX file.
    #[arg(long)]
    pub model: String,
    /// Device or system (preset name or TOML path; `--system` is the same option).
    #[arg(long, visible_alias = "system", default_value = "dgx-h100")]
    pub hw: String,
    /// Nodes of the system to train on (devices = nodes × devices per node); default: the
    /// system's own count.
    #[arg(long)]
    pub nodes: Option<u64>,
    /// Cap every device's power at this many watts (as `nvidia-smi -pl` does; between the
    /// device's idle power and its TDP): ops whose dynamic power would exceed the cap run
    /// their cores at a lower clock and voltage until they fit. Default: the device file's `power_cap_w`, else TDP.
    #[arg(long)]
    pub power_cap_w: Option<f64>,
    /// The framework around the kernels (`xpusim list runtimes`, or a runtime TOML): the
    /// host time to issue each kernel, unless the profile replays graphs (e.g.
    /// `pytorch-eager`). Default: none (device time alone).
    #[arg(long)]
    pub runtime: Option<String>,
    /// Tensor-parallel degree. Without --tp/--pp/--dp/--cp the fastest layout that fits is
    /// searched.
    #[arg(long)]
    pub tp: Option<u64>,
    /// Pipeline stages.
    #[arg(long)]
    pub pp: Option<u64>,
    /// Data-parallel replicas (default: the devices left by tp·pp·cp).
    #[arg(long)]
    pub dp: Option<u64>,
    /// Context-parallel degree (each sequence split over this many devices).
    #[arg(long)]
    pub cp: Option<u64>,
    /// Expert-parallel degree for MoE models: the experts spread over this many
    /// data-parallel ranks (divides dp·cp), tokens exchanged by all-to-all.
    #[arg(long, default_value_t = 1)]
    pub ep: u64,
    /// Megatron-LM sequence parallelism inside the tensor-parallel group.
    #[arg(long)]
    pub sp: bool,
    /// Samples per micro-batch.
    #[arg(long, default_value_t = 1)]
    pub micro_batch: u64,
    /// Samples per optimizer step over all replicas.
    #[arg(long, default_value_t = DEFAULT_GLOBAL_BATCH)]
    pub global_batch: u64,
    /// Tokens per sample (default: the model's sequence length).
    #[arg(long)]
    pub seq: Option<u64>,
    /// Number format of the forward and backward (bf16, fp16, fp8, fp32, or fp8-linear: FP8
    /// GEMMs in the linear layers and 16 bits elsewhere, as Transformer Engine trains; default:
    /// the chip's 16-bit format). Weights stay 16-bit with FP32 master weights and gradients.
    #[arg(long)]
    pub precision: Option<String>,
    /// ZeRO stage: 0 (DDP), 1 (distributed optimizer), 2 (+ gradients), 3 (+ parameters,
    /// FSDP).
    #[arg(long, default_value_t = 1)]
    pub zero: u8,
    /// Activation recomputation: none, selective or full.
    #[arg(long, default_value = "none")]
    pub recompute: String,
    /// Pipeline schedule: 1f1b, gpipe, interleaved:V (V model chunks per stage) or dualpipe
    /// (DeepSeek-V3: micro-batches from both ends, two stages per device, a forward overlapped
    /// with a backward to hide their communication)
    #[arg(long, default_value = "1f1b")]
    pub schedule: String,
    /// Attention as three kernels writing the scores to memory (QKᵀ, softmax, PV), as
    /// Megatron-LM ran it before FlashAttention (its 2021–22 published runs).
    #[arg(long)]
    pub unfused_attention: bool,
    /// Cross-entropy as Megatron-LM's default runs it: the logits cast to FP32 and max,
    /// subtract, exp, sum and divide as their own kernels, the FP32 softmax stored for the
    /// backward (without `--cross-entropy-loss-fusion`). Default: one fused loss kernel.
    #[arg(long)]
    pub unfused_loss: bool,
    /// Hidden and attention dropout, as GPT-style Megatron-LM runs train (default rates 0.1):
    /// their kernels, and their masks stored for the backward.
    #[arg(long)]
    pub dropout: bool,
    /// Do not overlap the data-parallel gradient reduction with the backward.
    #[arg(long)]
    pub no_overlap_dp: bool,
    /// What the layers are cut into pipeline chunks with: `layers` alone (the embedding joins
    /// the first chunk, the head and loss the last), or `embedding`, `loss` or
    /// `embedding+loss` each counted as a layer, as Megatron-Core's
    /// `--account-for-embedding-in-pipeline-split` / `--account-for-loss-in-pipeline-split`
    /// and Llama 3's pipeline balance them.
    #[arg(long, default_value = "layers")]
    pub pipeline_split: String,
    /// Hybrid sharding: ZeRO partitions its state over groups of this many data-parallel
    /// ranks and the groups all-reduce their gradient shards once a step (PyTorch FSDP
    /// HYBRID_SHARD; PaLM's sharding inside each pod). Default: the whole data-parallel group.
    /// A degree of the layout given: `--search` ignores it, as it does --tp/--pp/--dp.
    #[arg(long)]
    pub shard_group: Option<u64>,
    /// Synchronised BatchNorm: each BatchNorm's statistics reduced over groups of this many
    /// data-parallel ranks, forward and backward (PyTorch SyncBatchNorm; MLPerf ResNet-50's
    /// BN_GROUP). Default: each device normalises over its own micro-batch.
    #[arg(long)]
    pub bn_group: Option<u64>,
    /// Overlap the tensor-parallel all-gathers and reduce-scatters with their GEMMs
    /// (Megatron-Core --tp-comm-overlap, Transformer Engine userbuffers); needs --sp.
    #[arg(long)]
    pub tp_comm_overlap: bool,
    /// Pipeline sends: `on` runs them beside compute (Megatron-Core
    /// --overlap-p2p-communication, Llama 3's asynchronous sends), `off` holds each device
    /// until its send is done (Megatron-LM before Megatron-Core, DeepSpeed's pipeline
    /// engine). Default: Megatron-Core's rule, on under the interleaved schedule only.
    #[arg(long, value_parser = ["on", "off"])]
    pub p2p_overlap: Option<String>,
    /// Megatron-LM's scatter-gather of pipeline sends (--scatter-gather-tensors-in-pipeline):
    /// without --sp each tensor-parallel rank sends 1/tp of the activation and the receivers
    /// all-gather it.
    #[arg(long)]
    pub p2p_scatter_gather: bool,
    /// Context parallelism: `ring` (Transformer Engine's ring of cp steps, Megatron-Core's
    /// and NeMo's default) or `allgather` (K and V gathered first, one kernel over the local
    /// queries: Llama 3, Megatron-Core --cp-comm-type all_gather).
    #[arg(long, value_parser = ["ring", "allgather"], default_value = "ring")]
    pub cp_comm: String,
    /// Format the gradients accumulate and reduce over data-parallel replicas in (fp32,
    /// bf16 or fp16): 16 bits halves the reduction (Megatron-Core grad_reduce_in_fp32=False,
    /// Megatron-LM FP16 runs). Default: FP32.
    #[arg(long, value_parser = ["fp32", "bf16", "fp16"])]
    pub grad_dtype: Option<String>,
    /// Tokens to train on, for time and cost (default: 20 per parameter, Chinchilla).
    #[arg(long)]
    pub tokens: Option<f64>,
    /// Search the fastest layout that fits even when some degrees are given (they are then
    /// ignored), and list the best ones.
    #[arg(long)]
    pub search: bool,
    /// Layouts to list with --search.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// What the search minimises: `time` (step time on all the devices) or `cost` (dollars
    /// per token at the system's rental price, else the devices' TCO per hour; the search
    /// then also tries 1/2, 1/4 and 1/8 of the devices).
    #[arg(long, default_value = "time")]
    pub rank: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    step: &'a TrainCost,
    run: TrainRun,
    energy_usd: f64,
    /// Owning the devices for the run: their total cost of ownership per hour (price or
    /// manufacturing cost with margin, energy at the step's power, hosting; cited defaults in
    /// data/cost.toml) × device-hours. Devices only: host CPUs and the network are not priced.
    #[serde(skip_serializing_if = "Option::is_none")]
    tco: Option<Ownership>,
    /// With --search: every layout tried, best first (the rows `--format csv` prints).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ranking: Vec<RankRow>,
}

/// One searched layout: its step, throughput, utilisation, memory, energy and what
/// training on the token budget would take.
#[derive(Serialize)]
struct RankRow {
    model: String,
    hardware: String,
    devices: u64,
    layout: String,
    step_time_s: f64,
    tokens_per_s: f64,
    mfu: f64,
    hfu: f64,
    tflops_per_device: f64,
    memory_per_device_bytes: u64,
    fits: bool,
    energy_per_step_j: f64,
    avg_power_w: f64,
    train_tokens: f64,
    train_days: f64,
    device_hours: f64,
    rental_usd: Option<f64>,
    energy_usd: f64,
}

impl RankRow {
    fn new(x: &TrainCost, tokens: f64) -> Result<RankRow> {
        let r = x.run(tokens);
        Ok(RankRow {
            model: x.model.clone(),
            hardware: x.hardware.clone(),
            devices: x.devices,
            layout: x.layout.to_string(),
            step_time_s: x.step_time_s,
            tokens_per_s: x.tokens_per_s,
            mfu: x.mfu,
            hfu: x.hfu,
            tflops_per_device: x.tflops_per_device,
            memory_per_device_bytes: x.memory.total_bytes,
            fits: x.fits,
            energy_per_step_j: x.energy_per_step_j,
            avg_power_w: x.power_w_per_device,
            train_tokens: r.tokens,
            train_days: r.time_s / SECONDS_PER_DAY,
            device_hours: r.device_hours,
            rental_usd: r.rental_usd,
            energy_usd: energy_usd(r.energy_kwh)?,
        })
    }
}

const SECONDS_PER_DAY: f64 = 86_400.0;

#[derive(Serialize, Clone)]
struct Ownership {
    usd_per_device_hour: f64,
    usd: f64,
    /// "list price" or "cost / (1 - margin)".
    price_basis: String,
}

/// The devices' TCO for `run`, when the device has a list price or can be costed. A buyer
/// pays the list price where there is one; otherwise the manufacturing cost with the cost
/// data's cited margin (as `xpusim cost` prices a design).
fn ownership(c: &TrainCost, t: &Target, run: &TrainRun) -> Option<Ownership> {
    let tco = device_tco(t, c.power_w_per_device)?;
    Some(Ownership {
        usd_per_device_hour: tco.usd_per_hour,
        usd: tco.usd_per_hour * run.device_hours,
        price_basis: tco.price_basis,
    })
}

/// One device's TCO (as `xpusim cost` computes it) at `avg_power_w`, when it has a list
/// price or can be costed from its die. The per-hour figure does not depend on the work
/// rate, so a nominal one is passed.
fn device_tco(t: &Target, avg_power_w: f64) -> Option<xpusim_cost::Tco> {
    let d = t.device_spec();
    let data = xpusim_cost::builtin().ok()?;
    let cost_usd = xpusim_cost::chip_cost(d, data, &xpusim_cost::CostOverrides::default())
        .map(|x| x.total_usd)
        .ok();
    if d.price_usd.is_none() && cost_usd.is_none() {
        return None;
    }
    let rate = xpusim_cost::WorkRate {
        samples_per_s: 1.0,
        tokens_per_s: None,
        avg_power_w,
    };
    let p = xpusim_cost::TcoParams::defaults(data);
    xpusim_cost::tco(
        d.price_usd,
        cost_usd.unwrap_or(0.0),
        d.power.tdp_w,
        d.power.idle_w,
        rate,
        &p,
    )
    .ok()
}

fn schedule(s: &str) -> Result<Schedule> {
    Schedule::parse(s).map_err(|e| anyhow::anyhow!("--schedule: {e}"))
}

pub fn main(a: &TrainArgs) -> Result<()> {
    let mut t = Target::load(&a.hw)?;
    if let Some(w) = a.power_cap_w {
        t.set_power_cap(w)?;
    }
    if let Some(r) = &a.runtime {
        t.runtime = Some(xpusim_hw::load_runtime(r)?);
    }
    if let Some(n) = a.nodes {
        match &mut t.hw {
            xpusim_hw::Hardware::System(s) => {
                if n == 0 {
                    bail!("--nodes must be at least 1");
                }
                s.spec.count = n * s.spec.devices_per_node;
            }
            xpusim_hw::Hardware::Device(_) => bail!(
                "--nodes needs a system, but `{}` is one device (see `xpusim list systems`)",
                a.hw
            ),
        }
    }
    let natural = t.natural_dtype();
    let base = Request {
        model: a.model.clone(),
        phase: Some(Phase::Train),
        precision: a.precision.clone(),
        ..Default::default()
    };
    let onnx = a.model.to_ascii_lowercase().ends_with(".onnx");
    let precision = base.precision(natural)?;
    // The sequence: given, or the model's own (one build at batch 1 tells).
    let probe = base
        .graph_at(precision)
        .with_context(|| format!("model `{}`", a.model))?;
    let seq = a.seq.unwrap_or(probe.tokens_per_sample).max(1);
    let build = |mb: u64, s: u64| -> Result<Graph, TrainError> {
        let mut r = base.clone();
        if onnx {
            if mb != 1 {
                return Err(TrainError::Build(
                    "an ONNX file fixes its batch: train it with --micro-batch 1".into(),
                ));
            }
        } else {
            r.batch = Some(mb);
            r.seq = Some(s);
        }
        r.graph_at(precision)
            .map_err(|e| TrainError::Build(format!("model `{}`: {e}", a.model)))
    };
    // Parsed before any search so that a misspelt option is an error, not ignored.
    let sched = schedule(&a.schedule)?;
    let recompute = Recompute::parse(&a.recompute)?;
    let devices = t.count();
    let given = a.tp.is_some() || a.pp.is_some() || a.dp.is_some() || a.cp.is_some();
    let tokens_for = |c: &TrainCost| {
        a.tokens
            .unwrap_or(CHINCHILLA_TOKENS_PER_PARAM * c.params as f64)
    };
    if a.search || !given {
        let (rank, counts) = match a.rank.as_str() {
            "time" => (Rank::Time, vec![devices]),
            "cost" => {
                let usd = device_hour_usd(&t).with_context(|| {
                    format!(
                        "--rank cost needs a price: `{}` has no price_usd_per_device_hour and \
                         its device no price or die area to cost",
                        t.name()
                    )
                })?;
                let counts = [1, 2, 4, 8]
                    .iter()
                    .filter(|&&f| devices.is_multiple_of(f))
                    .map(|f| devices / f)
                    .collect();
                (
                    Rank::Cost {
                        usd_per_device_hour: usd,
                    },
                    counts,
                )
            }
            r => bail!("--rank {r}: expected time or cost"),
        };
        let mut base = TrainLayout {
            global_batch: a.global_batch,
            overlap_dp: !a.no_overlap_dp,
            unfused_attention: a.unfused_attention,
            unfused_loss: a.unfused_loss,
            dropout: a.dropout,
            ..Default::default()
        };
        base.set_pipeline_split(&a.pipeline_split)?;
        base.bn_group = a.bn_group;
        base.tp_comm_overlap = a.tp_comm_overlap;
        base.p2p_overlap = a.p2p_overlap.as_deref().map(|v| v == "on");
        base.p2p_scatter_gather = a.p2p_scatter_gather;
        base.cp_allgather = a.cp_comm == "allgather";
        base.grad_dtype = grad_dtype(a)?;
        let all = xpusim_train::search(&build, seq, &t, &counts, &base, rank)?;
        let best = all
            .iter()
            .find(|c| c.fits)
            .with_context(|| fit_error(&all, &t, devices))?;
        return print(a, best, &all, &t, tokens_for(best), rank);
    }
    let tp = a.tp.unwrap_or(1);
    let pp = a.pp.unwrap_or(1);
    let cp = a.cp.unwrap_or(1);
    let dp = match a.dp {
        Some(d) if d * tp * pp * cp != devices => bail!(
            "dp·tp·pp·cp = {d}·{tp}·{pp}·{cp} = {} but `{}` has {devices} devices: set --nodes, or \
             leave out --dp to use them all",
            d * tp * pp * cp,
            t.name()
        ),
        Some(d) => d,
        None => {
            let per = tp * pp * cp;
            if per == 0 || !devices.is_multiple_of(per) {
                bail!(
                    "tp·pp·cp = {per} does not divide the {devices} devices of `{}`",
                    a.hw
                );
            }
            devices / per
        }
    };
    let mut layout = TrainLayout {
        tp,
        pp,
        dp,
        ep: a.ep,
        cp,
        sp: a.sp,
        schedule: sched,
        micro_batch: a.micro_batch,
        global_batch: a.global_batch,
        zero: a.zero,
        recompute,
        overlap_dp: !a.no_overlap_dp,
        unfused_attention: a.unfused_attention,
        unfused_loss: a.unfused_loss,
        dropout: a.dropout,
        ..TrainLayout::default()
    };
    layout.set_pipeline_split(&a.pipeline_split)?;
    layout.shard_group = a.shard_group;
    layout.bn_group = a.bn_group;
    layout.tp_comm_overlap = a.tp_comm_overlap;
    layout.p2p_overlap = a.p2p_overlap.as_deref().map(|v| v == "on");
    layout.p2p_scatter_gather = a.p2p_scatter_gather;
    layout.cp_allgather = a.cp_comm == "allgather";
    layout.grad_dtype = grad_dtype(a)?;
    let c = xpusim_train::train(&build, seq, &t, &layout)
        .with_context(|| format!("training `{}` on {}", a.model, t.name()))?;
    print(a, &c, &[], &t, tokens_for(&c), Rank::Time)
}

fn grad_dtype(a: &TrainArgs) -> Result<Option<DType>> {
    a.grad_dtype
        .as_deref()
        .map(|g| DType::parse(g).with_context(|| format!("--grad-dtype {g}")))
        .transpose()
}

fn fit_error(all: &[TrainCost], t: &Target, devices: u64) -> String {
    let least = all.iter().min_by_key(|c| c.memory.total_bytes);
    match least {
        Some(c) => format!(
            "no layout of {devices} devices of `{}` fits `{}`: the least memory any needs is \
             {:.1} GB per device ({}) of {:.1} GB; add nodes (--nodes)",
            t.name(),
            c.model,
            c.memory.total_bytes as f64 / GB,
            c.layout,
            c.memory.capacity_bytes as f64 / GB
        ),
        None => format!("no layout of {devices} devices of `{}` ran", t.name()),
    }
}

/// What one device-hour costs: the system's rental price, else owning the device (TCO per
/// hour at its TDP, as `xpusim cost` computes it).
fn device_hour_usd(t: &Target) -> Option<f64> {
    if let Some(p) = t
        .system_spec()
        .and_then(|s| s.spec.price_usd_per_device_hour)
    {
        return Some(p);
    }
    device_tco(t, t.device_spec().power.tdp_w).map(|x| x.usd_per_hour)
}

/// Electricity for `kwh` of IT energy at the cost data's price and PUE.
fn energy_usd(kwh: f64) -> Result<f64> {
    let d = xpusim_cost::builtin()?;
    Ok(kwh * d.tco.pue * d.tco.usd_per_kwh)
}

fn print(
    a: &TrainArgs,
    c: &TrainCost,
    all: &[TrainCost],
    t: &Target,
    tokens: f64,
    rank: Rank,
) -> Result<()> {
    let run = c.run(tokens);
    let e_usd = energy_usd(run.energy_kwh)?;
    let own = ownership(c, t, &run);
    // The chosen layout first, then the rest of the search's ranking.
    let ranking = || {
        std::iter::once(c)
            .chain(all.iter().filter(|x| !std::ptr::eq(*x, c)))
            .map(|x| RankRow::new(x, tokens))
            .collect::<Result<Vec<_>>>()
    };
    match a.format {
        Format::Json => {
            let r = Report {
                step: c,
                run,
                energy_usd: e_usd,
                tco: own,
                ranking: if all.is_empty() {
                    Vec::new()
                } else {
                    ranking()?
                },
            };
            outln!("{}", serde_json::to_string_pretty(&r)?);
        }
        Format::Csv => {
            outln!("model,hardware,devices,layout,step_time_s,tokens_per_s,mfu,hfu,tflops_per_device,memory_per_device_bytes,fits,energy_per_step_j,avg_power_w,train_tokens,train_days,device_hours,rental_usd,energy_usd");
            for r in ranking()? {
                outln!(
                    "{},{},{},{},{:e},{:e},{:.4},{:.4},{:.1},{},{},{:e},{:.0},{:e},{:.2},{:e},{},{:.0}",
                    format::csv(&r.model),
                    format::csv(&r.hardware),
                    r.devices,
                    format::csv(&r.layout),
                    r.step_time_s,
                    r.tokens_per_s,
                    r.mfu,
                    r.hfu,
                    r.tflops_per_device,
                    r.memory_per_device_bytes,
                    r.fits,
                    r.energy_per_step_j,
                    r.avg_power_w,
                    r.train_tokens,
                    r.train_days,
                    r.device_hours,
                    r.rental_usd.map(|u| format!("{u:.0}")).unwrap_or_default(),
                    r.energy_usd,
                );
            }
        }
        Format::Table => {
            let money = Money {
                run: &run,
                energy_usd: e_usd,
                own: own.as_ref(),
            };
            print_table(c, all, t, &money, a.top, rank)
        }
    }
    Ok(())
}

fn gb(b: u64) -> String {
    format!("{:.1} GB", b as f64 / GB)
}

/// What training on the token budget costs, for the table.
struct Money<'a> {
    run: &'a TrainRun,
    energy_usd: f64,
    own: Option<&'a Ownership>,
}

fn print_table(c: &TrainCost, all: &[TrainCost], t: &Target, m: &Money, top: usize, rank: Rank) {
    let (run, e_usd, own) = (m.run, m.energy_usd, m.own);
    outln!(
        "{} ({:.2} B parameters) training on {} × {} ({}), {} cost model",
        c.model,
        c.params as f64 / 1e9,
        c.devices,
        c.device,
        t.name(),
        c.cost_model
    );
    outln!(
        "layout: {}; {} micro-batches per replica, {} tokens per step",
        c.layout,
        c.microbatches,
        c.tokens_per_step
    );
    let mut tb = format::table();
    tb.set_header(["", "value"]);
    let b = &c.breakdown;
    let mut parts = vec![format!("compute {}", format::time(b.compute_s))];
    if b.recompute_s > 0.0 {
        parts.push(format!("recompute {}", format::time(b.recompute_s)));
    }
    for (k, v) in &b.communication_s {
        parts.push(format!("{k} {}", format::time(*v)));
    }
    if b.pipeline_bubble_s > 0.0 {
        parts.push(format!(
            "pipeline bubble {}",
            format::time(b.pipeline_bubble_s)
        ));
    }
    parts.push(format!("optimizer {}", format::time(b.optimizer_s)));
    tb.add_row(["step time".to_string(), format::time(c.step_time_s)]);
    tb.add_row(["  of which".to_string(), parts.join(", ")]);
    tb.add_row([
        "throughput".to_string(),
        format!(
            "{} tokens/s, {} samples/s",
            format::si(c.tokens_per_s, ""),
            format::si(c.samples_per_s, "")
        ),
    ]);
    tb.add_row([
        "MFU / HFU".to_string(),
        format!(
            "{} / {} ({:.0} model TFLOP/s per device of the {:.0} dense 16-bit peak)",
            format::pct(c.mfu),
            format::pct(c.hfu),
            c.tflops_per_device,
            c.peak_tflops
        ),
    ]);
    let m = &c.memory;
    tb.add_row([
        "memory per device".to_string(),
        format!(
            "{} of {} (stage {}): weights {}, gradients {}, optimizer {}, activations {}, temporary {}",
            gb(m.total_bytes),
            gb(m.capacity_bytes),
            m.stage,
            gb(m.weights_bytes),
            gb(m.gradients_bytes),
            gb(m.optimizer_bytes),
            gb(m.activations_bytes),
            gb(m.temporary_bytes)
        ),
    ]);
    tb.add_row([
        "energy".to_string(),
        format!(
            "{} per step, {:.0} W per device on average",
            format::si(c.energy_per_step_j, "J"),
            c.power_w_per_device
        ),
    ]);
    let rental = run
        .rental_usd
        .map(|u| format!(", ${} rental", format::si(u, "")))
        .unwrap_or_default();
    tb.add_row([
        format!("train on {} tokens", format::si(run.tokens, "")),
        format!(
            "{:.1} days, {} device-hours{rental}, {} MWh (${} electricity)",
            run.time_s / SECONDS_PER_DAY,
            format::si(run.device_hours, ""),
            format::si(run.energy_kwh / 1e3, ""),
            format::si(e_usd, "")
        ),
    ]);
    if let Some(o) = own {
        tb.add_row([
            "  owning the devices".to_string(),
            format!(
                "${} TCO (${:.2} per device-hour: {}, energy, hosting over the cost data's life)",
                format::si(o.usd, ""),
                o.usd_per_device_hour,
                o.price_basis
            ),
        ]);
    }
    outln!("{tb}");
    outln!(
        "{}",
        format::energy_table(&c.energy_parts, c.energy_per_step_j)
    );
    if all.len() > 1 {
        let mut lt = format::table();
        let by_cost = matches!(rank, Rank::Cost { .. });
        let mut head = vec!["layout", "devices", "step", "MFU", "memory/device", "fits"];
        if by_cost {
            head.push("$ per M tokens");
        }
        lt.set_header(head);
        for x in all.iter().take(top) {
            let mut row = vec![
                x.layout.to_string(),
                x.devices.to_string(),
                format::time(x.step_time_s),
                format::pct(x.mfu),
                gb(x.memory.total_bytes),
                if x.fits { "yes" } else { "no" }.to_string(),
            ];
            if by_cost {
                row.push(format!("{:.2}", rank.score(x) * 1e6));
            }
            lt.add_row(row);
        }
        outln!(
            "best layouts by {} of {} searched:",
            if by_cost { "cost" } else { "step time" },
            all.len()
        );
        outln!("{lt}");
    }
}
