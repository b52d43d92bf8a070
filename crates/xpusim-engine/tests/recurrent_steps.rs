//! A recurrent layer runs as cuDNN's standard RNN algorithm runs it: the input projection of
//! every step as one GEMM, then per step one recurrent GEMM and one kernel of the gates'
//! element-wise work, each waiting for the one before (Appleyard et al. 2016, arXiv:1604.01946).

use xpusim_engine::cost_op;
use xpusim_hw::find_preset;
use xpusim_ir::{DType, Op, Precision, RecurrentCell, RecurrentSpec};

fn lstm(seq_len: u64) -> Op {
    Op::recurrent(
        "lstm",
        RecurrentSpec {
            cell: RecurrentCell::Lstm,
            seq_len,
            batch: 16,
            input_size: 256,
            hidden_size: 256,
            directions: 1,
        },
        Precision::uniform(DType::Fp32),
    )
    .expect("an LSTM")
}

#[test]
fn each_recurrent_step_waits_for_two_dependent_launches() {
    let mut dev = find_preset("v100").expect("preset");
    dev.calibration.clear();
    let launch_s = dev.overhead.launch_us * 1e-6;
    let latency_s = dev.offchip().latency_ns * 1e-9;
    let (short, long) = (lstm(10), lstm(30));
    let (a, b) = (
        cost_op(&short, &dev).expect("costs"),
        cost_op(&long, &dev).expect("costs"),
    );
    // Twenty more steps: twenty more recurrent GEMMs and gate kernels, and as many trips to
    // memory for the new hidden state; the input projection is one kernel either way.
    let per_step = (b.overhead_s - a.overhead_s) / 20.0;
    let expected = 2.0 * launch_s + latency_s;
    assert!(
        (per_step - expected).abs() <= 1e-9 * expected,
        "{per_step:e} s per step, expected {expected:e}"
    );
}
