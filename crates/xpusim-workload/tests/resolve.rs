//! The one resolver: every suite workload and every zoo model resolves, files are told
//! apart by their extension, and bad requests are errors that name the model.

use xpusim_ir::{DType, Phase};
use xpusim_workload::{era_suite, load_decoder, training_suite, Request, ERAS, TRAINING_ERAS};

#[test]
fn every_suite_workload_and_zoo_model_resolves() {
    for w in era_suite() {
        let g = w.request().graph(DType::Bf16).unwrap();
        assert!(g.totals().flops > 0, "{}", w.label());
        if let Some(p) = w.phase {
            assert_eq!(g.phase, p, "{}", w.label());
        }
        assert!(ERAS.contains(&w.era), "{}", w.era);
    }
    for era in ERAS {
        assert!(
            era_suite().iter().any(|w| w.era == *era),
            "no {era} workload"
        );
    }
    // What flip ranks, run can run: every zoo model by name.
    for m in xpusim_models::catalog() {
        let g = Request::new(m.name).graph(DType::Bf16).unwrap();
        assert_eq!(g.name, m.name);
    }
}

#[test]
fn the_training_suite_is_phase_train_in_its_own_eras() {
    for era in TRAINING_ERAS {
        assert!(!ERAS.contains(era), "{era} is also an era of the era suite");
        assert!(
            training_suite().iter().any(|w| w.era == *era),
            "no {era} workload"
        );
    }
    for w in training_suite() {
        assert!(
            w.is_training() && TRAINING_ERAS.contains(&w.era),
            "{}",
            w.label()
        );
        let g = w.request().graph(DType::Bf16).unwrap();
        assert_eq!(g.phase, Phase::Train, "{}", w.label());
        assert_eq!(Some(g.batch), w.batch, "{}", w.label());
        if let Some(s) = w.seq {
            assert_eq!(g.tokens_per_sample, s, "{}", w.label());
        }
    }
    // The era suite (what compare, cost and sweep run) has no training workload.
    assert!(era_suite().iter().all(|w| !w.is_training()));
}

#[test]
fn defaults_and_options_apply() {
    let r = Request {
        phase: Some(Phase::Decode),
        batch: Some(4),
        ..Request::new("gpt3-175b")
    };
    let g = r.graph(DType::Fp16).unwrap();
    assert_eq!((g.batch, g.phase), (4, Phase::Decode));
    // GPT-3's 2048 learned positions: the default context stays inside the window.
    assert_eq!(xpusim_workload::default_context("gpt3-175b"), 2047);
    assert_eq!(xpusim_workload::default_context("llama-2-7b"), 2048);
    let fp8 = Request {
        precision: Some("fp8".into()),
        ..r.clone()
    };
    assert!(fp8.graph(DType::Bf16).unwrap().totals().weight_bytes < g.totals().weight_bytes);
}

#[test]
fn bad_requests_name_the_model() {
    let e = Request::new("lama-2-7b")
        .graph(DType::Bf16)
        .unwrap_err()
        .to_string();
    assert!(e.contains("llama-2-7b"), "{e}");
    let zero = Request {
        batch: Some(0),
        ..Request::new("resnet-50")
    };
    let e = zero.graph(DType::Bf16).unwrap_err().to_string();
    assert!(e.contains("resnet-50") && e.contains("batch"), "{e}");
    let e = Request::new("missing.onnx")
        .graph(DType::Bf16)
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.onnx"), "{e}");
    let e = Request::new("missing.csv")
        .graph(DType::Bf16)
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.csv"), "{e}");
    let e = load_decoder("resnet-50").unwrap_err().to_string();
    assert!(e.contains("not a decoder"), "{e}");
}
