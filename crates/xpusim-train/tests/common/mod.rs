//! Helpers the training step tests share.

use xpusim_ir::{DType, Graph, Phase, Precision};
use xpusim_models::{build, Workload};
use xpusim_target::Target;
use xpusim_train::*;

pub fn target(name: &str, devices: u64) -> Target {
    let mut t = Target::load(name).unwrap();
    if let xpusim_hw::Hardware::System(s) = &mut t.hw {
        s.spec.count = devices;
    }
    t
}

pub fn builder(model: &'static str) -> impl Fn(u64, u64) -> Result<Graph, TrainError> + Sync {
    move |mb, s| {
        let w =
            Workload::new(Phase::Train, mb, s, 0).with_precision(Precision::uniform(DType::Bf16));
        build(model, &w).map_err(|e| TrainError::Build(e.to_string()))
    }
}

pub fn layout(tp: u64, pp: u64, dp: u64, micro: u64, global: u64) -> TrainLayout {
    TrainLayout {
        tp,
        pp,
        dp,
        micro_batch: micro,
        global_batch: global,
        ..Default::default()
    }
}

pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a / b - 1.0).abs() < tol
}
