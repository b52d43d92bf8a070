//! Time to price one training step and to search the layouts of a cluster. Targets (issue
//! #13): one layout of a 405B model on 16k devices in < 5 ms; a search over ≥ 1,000
//! layouts in < 5 s on 2 cores (`cargo bench -p xpusim-train`; run with
//! `RAYON_NUM_THREADS=2` for the CI machine's cores).

use xpusim_ir::{DType, Graph, Phase, Precision};
use xpusim_models::{build, Workload};
use xpusim_target::Target;
use xpusim_train::{search, step, Rank, Recompute, TrainError, TrainLayout};

fn main() {
    divan::main();
}

fn builder(model: &'static str) -> impl Fn(u64, u64) -> Result<Graph, TrainError> + Sync {
    move |mb, s| {
        let w =
            Workload::new(Phase::Train, mb, s, 0).with_precision(Precision::uniform(DType::Bf16));
        build(model, &w).map_err(|e| TrainError::Build(e.to_string()))
    }
}

fn target(name: &str, devices: u64) -> Target {
    let mut t = Target::load(name).expect("preset");
    if let xpusim_hw::Hardware::System(s) = &mut t.hw {
        s.spec.count = devices;
    }
    t
}

#[divan::bench(args = ["llama-2-7b", "gpt3-175b", "mixtral-8x7b", "deepseek-v3"])]
fn one_step(bencher: divan::Bencher, model: &str) {
    let model: &'static str = match model {
        "llama-2-7b" => "llama-2-7b",
        "gpt3-175b" => "gpt3-175b",
        "mixtral-8x7b" => "mixtral-8x7b",
        _ => "deepseek-v3",
    };
    let b = builder(model);
    let t = target("dgx-h100", 1024);
    let l = TrainLayout {
        tp: 8,
        pp: 8,
        dp: 16,
        sp: true,
        micro_batch: 1,
        global_batch: 1024,
        recompute: Recompute::Selective,
        ..Default::default()
    };
    bencher.bench(|| step(&b, 2048, &t, divan::black_box(&l)).expect("step"));
}

/// Llama 3.1 405B at 8k tokens on 16,384 H100s, tp 8 × pp 16 × dp 128, 16 micro-batches.
fn llama_405b_16k(bencher: divan::Bencher, l: TrainLayout) {
    let b = builder("llama-3.1-405b");
    let t = target("dgx-h100", 16384);
    let l = TrainLayout {
        tp: 8,
        pp: 16,
        dp: 128,
        sp: true,
        micro_batch: 1,
        global_batch: 2048,
        ..l
    };
    bencher.bench(|| step(&b, 8192, &t, divan::black_box(&l)).expect("step"));
}

#[divan::bench]
fn llama_405b_on_16k_h100s(bencher: divan::Bencher) {
    llama_405b_16k(bencher, TrainLayout::default());
}

/// The same job in the layout Meta ran (Dubey et al. 2024, §3.3.2): 8 one-layer chunks per
/// rank with the embedding and the loss each taking a chunk, 16 micro-batches through 128
/// virtual stages — the heaviest schedule simulation the validated rows ask for.
#[divan::bench]
fn llama_405b_on_16k_h100s_interleaved(bencher: divan::Bencher) {
    llama_405b_16k(
        bencher,
        TrainLayout {
            schedule: xpusim_train::Schedule::Interleaved(8),
            embedding_in_split: true,
            loss_in_split: true,
            ..Default::default()
        },
    );
}

/// Llama-3-70B at 8k tokens on 64, 32, 16 and 8 H100s (`--rank cost`): 3,500 layouts.
#[divan::bench(sample_count = 3)]
fn search_llama_70b_up_to_64_h100s(bencher: divan::Bencher) {
    let b = builder("llama-3-70b");
    let t = target("dgx-h100", 64);
    bencher.bench(|| {
        let base = TrainLayout {
            global_batch: 1024,
            ..Default::default()
        };
        let all = search(&b, 8192, &t, &[64, 32, 16, 8], &base, Rank::Time).expect("search");
        assert!(all.len() >= 1000, "{} layouts", all.len());
        all
    });
}
