//! Time to price one training step and to search the layouts of a cluster (target: a
//! step of any zoo model under 10 ms, so a search over hundreds of layouts takes well
//! under a second; measured about 0.3–1 ms per step, 120 ms per search of 64 H100s).

use xpusim_ir::{DType, Graph, Phase, Precision};
use xpusim_models::{build, Workload};
use xpusim_target::Target;
use xpusim_train::{search, step, Recompute, TrainError, TrainLayout};

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

#[divan::bench(sample_count = 3)]
fn search_64_h100s_llama_70b(bencher: divan::Bencher) {
    let b = builder("llama-2-70b");
    let t = target("dgx-h100", 64);
    bencher.bench(|| search(&b, 4096, &t, 64, 512).expect("search"));
}
