use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "xpusim", version, about = "Any model x any AI chip -> time, throughput, energy", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Tables with every column and no wrapping (by default they fit the terminal and
    /// leave out detail columns, naming them under the table).
    #[arg(long, global = true)]
    pub wide: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Evaluate the era suite (or chosen models) on the built-in chips (or chosen ones).
    Compare(CompareArgs),
    /// Evaluate one model on one chip, with a per-operator breakdown.
    Run(RunArgs),
    /// List built-in models or hardware.
    List(ListArgs),
    /// Predict every row of validation CSVs; per-row error and MAPE per category.
    Validate(crate::validate::ValidateArgs),
    /// Fit a device's efficiency curves from measured kernel rows (TOML snippet or file).
    Calibrate(crate::calibrate::CalibrateArgs),
    /// Simulate an LLM inference server: arrivals, continuous batching, KV cache, SLOs.
    Serve(crate::serve::ServeArgs),
    /// Design-space sweep: axes over a device spec × a workload suite, resumable, Pareto fronts.
    Sweep(crate::sweep::SweepArgs),
    /// Chip manufacturing cost, TCO and $ per million samples/tokens; --node re-costs it.
    Cost(crate::cost::CostArgs),
    /// AttAcc (ASPLOS'24) reproduced: GPT-3 175B decode on DGX-A100 + PIM vs GPU-only.
    Attacc(crate::attacc::AttaccArgs),
    /// Board flip: designs across the era suite and training eras under workload-mix scenarios
    /// and a timeline.
    Flip(crate::flip::FlipArgs),
    /// Training: step time, MFU, memory per device, energy and cost under a parallel layout.
    Train(crate::train::TrainArgs),
    /// What a model holds before you run it: inputs and their symbolic dims (with the
    /// --dim/--input flags that bind them), operators by kind, data types.
    Inspect(crate::inspect::InspectArgs),
    /// Write a static site that runs this engine in the browser (WebAssembly; opens from a
    /// file, no server): a model on targets, a chip editor, the board flip, serving, training.
    Explorer(crate::explorer::ExplorerArgs),
}

impl Default for Command {
    fn default() -> Self {
        Command::Compare(CompareArgs::default())
    }
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum PhaseArg {
    Inference,
    Prefill,
    Decode,
}

/// Workload options shared by every command that builds a model.
#[derive(Args, Debug, Default, Clone)]
pub struct WorkloadArgs {
    /// Number format: fp32|tf32|bf16|fp16|fp8|int8|int4|w8a16|w4a16|fp8-linear|fp8-w8a8,
    /// weight-only schemes optionally grouped (w4a16g32: a 16-bit scale and zero per 32
    /// weights); fp8-linear: FP8 GEMMs in the linear layers, 16-bit elsewhere (Transformer
    /// Engine); fp8-w8a8: the same with the linear weights stored in FP8 (FP8 inference
    /// checkpoints) (default: the chip's natural 16-bit format).
    #[arg(long)]
    pub precision: Option<String>,
    /// Pass to model: inference (CNN/RNN/encoder), prefill or decode (decoders).
    #[arg(long, value_enum)]
    pub phase: Option<PhaseArg>,
    /// Sequences or images per pass (default: the model's).
    #[arg(long)]
    pub batch: Option<u64>,
    /// Prompt / encoder sequence length (default: the model's).
    #[arg(long)]
    pub seq: Option<u64>,
    /// Tokens already in the KV cache for decode (default: 2048).
    #[arg(long)]
    pub context: Option<u64>,
    /// Bind a symbolic ONNX dimension: NAME=VALUE (repeatable).
    #[arg(long = "dim", value_name = "NAME=VALUE")]
    pub dims: Vec<String>,
    /// Set a whole ONNX input shape: NAME=1x3x224x224 (repeatable).
    #[arg(long = "input", value_name = "NAME=SHAPE")]
    pub inputs: Vec<String>,
    /// Unknown ONNX operators are errors instead of memory-bound placeholders.
    #[arg(long)]
    pub strict: bool,
    /// Run every op as its own kernel: no convolution epilogue fusion (BatchNorm, activation
    /// and residual add then make their own round trips through memory).
    #[arg(long)]
    pub no_fusion: bool,
    /// Attention as three kernels writing the scores to memory (QKᵀ, softmax, PV), as
    /// stacks ran it before FlashAttention (Megatron-LM to 2022, eager PyTorch).
    #[arg(long)]
    pub unfused_attention: bool,
    /// Sequence lengths of an unpadded pass (encoders, prefill), as harnesses that remove
    /// padding run them: inline `LEN:COUNT,LEN:COUNT,...` or a file of `len,count` lines
    /// (`#` comments). Token-parallel ops run over the packed tokens, attention per length;
    /// the counts are the batch (replaces --batch and --seq).
    #[arg(long = "seq-dist", value_name = "L:N,...|FILE")]
    pub seq_dist: Option<String>,
}

#[derive(Args, Debug, Default)]
pub struct CompareArgs {
    /// Models (names or paths), comma separated; default: the era suite.
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// Devices or systems (names or TOML paths), comma separated, or `all` (every device
    /// preset); default: the headline chips.
    #[arg(long, value_delimiter = ',')]
    pub hw: Vec<String>,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    #[command(flatten)]
    pub target: crate::target_args::TargetArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Also write a self-contained HTML report (heatmaps and tables) to this file.
    #[arg(long)]
    pub html: Option<String>,
    /// Show every chip relative to this one (a name from --hw, added first when absent):
    /// speed-up = its latency ÷ the chip's, energy gain = its energy per sample ÷ the
    /// chip's, per workload and as a geometric mean.
    #[arg(long)]
    pub baseline: Option<String>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Built-in model name or a model file path.
    #[arg(long)]
    pub model: String,
    /// Device or system: a preset name (`xpusim list hw`, `xpusim list systems`) or a device
    /// or system TOML path. `--system` is the same option.
    #[arg(
        long,
        visible_alias = "system",
        required_unless_present = "arch",
        default_value = "",
        hide_default_value = true
    )]
    pub hw: String,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    #[command(flatten)]
    pub target: crate::target_args::TargetArgs,
    /// Operators to show in the breakdown.
    #[arg(long, default_value_t = 15)]
    pub top: usize,
    /// Also write a self-contained HTML report (roofline, top ops, coverage) to this file.
    #[arg(long)]
    pub html: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Map every contraction with a mapping search instead: `npu`, on the device --hw (or
    /// --arch) names, which needs an [array] section.
    #[arg(long, value_enum)]
    pub mapper: Option<crate::npu_map::MapperKind>,
    /// Device for --mapper npu (the same as --hw there): a preset with an [array] section
    /// (tpu-v4, rebellions-atom, furiosa-rngd, eyeriss, npu-systolic) or a device TOML path
    /// with one.
    #[arg(long)]
    pub arch: Option<String>,
    /// What the NPU mapper (`--mapper npu`) minimises.
    #[arg(long, value_enum, default_value_t)]
    pub objective: crate::npu_map::ObjectiveArg,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    Models,
    Hw,
    /// Multi-device systems, with and without PIM.
    Systems,
    /// PIM memories and the systems that attach them.
    Pim,
    /// Runtime profiles (`--runtime`): the software stack around the kernels.
    Runtimes,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[arg(value_enum)]
    pub what: ListWhat,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
