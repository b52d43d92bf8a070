//! TensorRT-LLM's scheduling choices beside vLLM's: a request's whole KV cache claimed at
//! admission (`GUARANTEED_NO_EVICT`) and prompts run whole (no chunked context).

mod common;

use common::Affine;
use xpusim_serve::{poisson, simulate, Admission, Request, SchedulerConfig, StepModel, TokenDist};

fn fixed(n: usize, input: u64, output: u64) -> Vec<Request> {
    poisson(
        f64::INFINITY,
        n,
        TokenDist::Fixed(input),
        TokenDist::Fixed(output),
        0,
    )
    .unwrap()
}

fn reserve() -> SchedulerConfig {
    SchedulerConfig {
        admission: Admission::Reserve,
        ..SchedulerConfig::default()
    }
}

#[test]
fn reserving_never_preempts_and_runs_as_many_as_whole_requests_fit() {
    // A pool of 4 000 tokens; each request peaks at 300 + 200 − 1 = 499 tokens (32 blocks of
    // 16, 512 tokens): on demand the pool overflows and preempts, reserved it never does.
    let m = Affine::new(4_000);
    let r = fixed(100, 300, 200);
    let lazy = simulate(&m, &r, &SchedulerConfig::default()).unwrap();
    assert!(lazy.preemptions > 0);
    let o = simulate(&m, &r, &reserve()).unwrap();
    assert_eq!(o.preemptions, 0);
    assert!(o.records.iter().all(|x| x.preemptions == 0));
    assert_eq!(o.sampled_tokens, 100 * 200);
    // At most floor(4 000 / 512) = 7 requests hold blocks at once, and the pool is never
    // over-committed.
    let whole = 32 * 16 * m.kv_bytes_per_token();
    assert!(o.peak_kv_bytes <= 7 * whole, "{}", o.peak_kv_bytes);
    assert!(
        o.peak_kv_bytes >= 6 * whole,
        "the pool is used: {}",
        o.peak_kv_bytes
    );
    assert!(o.kv_samples.iter().all(|s| s.1 <= o.kv_capacity_bytes));
}

#[test]
fn reserving_with_room_for_everyone_changes_nothing() {
    let m = Affine::new(10_000_000);
    let r = fixed(50, 200, 100);
    let a = simulate(&m, &r, &SchedulerConfig::default()).unwrap();
    let b = simulate(&m, &r, &reserve()).unwrap();
    assert_eq!(a.iterations, b.iterations);
    assert_eq!(a.end_s, b.end_s);
}

#[test]
fn unchunked_prompts_run_whole_in_one_iteration() {
    // 1 000-token prompts under a 2 048-token budget: chunked, the third prompt is split
    // (48 tokens ride along with two whole ones); unchunked it waits for the next iteration.
    let m = Affine::new(10_000_000);
    let r = fixed(3, 1_000, 2);
    let chunked = simulate(&m, &r, &SchedulerConfig::default()).unwrap();
    let cfg = SchedulerConfig {
        chunked_prefill: false,
        ..SchedulerConfig::default()
    };
    let whole = simulate(&m, &r, &cfg).unwrap();
    assert_eq!(whole.prefill_tokens, 3_000);
    // The first iteration's length says what it ran: the affine model prices its tokens and
    // each prompt piece's attention context (tokens²/2).
    let iteration = |tokens: f64, ctx: f64| m.fixed_s + m.per_token_s * tokens + m.per_ctx_s * ctx;
    let two_whole = iteration(2_000.0, 2.0 * 500_000.0);
    let with_piece = iteration(2_048.0, 2.0 * 500_000.0 + 48.0 * 48.0 / 2.0);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(whole.records[0].first_token_s, two_whole));
    assert!(close(chunked.records[0].first_token_s, with_piece));
    // Unchunked, the third prompt waits for the next iteration and runs there whole.
    assert!(whole.records[2].first_token_s > whole.records[1].first_token_s);
}

#[test]
fn an_unchunked_prompt_longer_than_an_iteration_is_an_error_naming_it() {
    let m = Affine::new(10_000_000);
    let r = fixed(2, 3_000, 10);
    let cfg = SchedulerConfig {
        chunked_prefill: false,
        admission: Admission::Reserve,
        ..SchedulerConfig::default()
    };
    let e = simulate(&m, &r, &cfg).unwrap_err().to_string();
    assert!(
        e.contains("request 0") && e.contains("3000-token prompt"),
        "{e}"
    );
    assert!(e.contains("2048"), "{e}");
    // On demand a preempted request recomputes what it generated too, so its longest
    // prompt is input + output − 1.
    let r = fixed(1, 2_040, 10);
    let cfg = SchedulerConfig {
        chunked_prefill: false,
        ..SchedulerConfig::default()
    };
    let e = simulate(&m, &r, &cfg).unwrap_err().to_string();
    assert!(e.contains("2049-token prompt"), "{e}");
}

#[test]
fn admission_names_parse_and_unknown_ones_are_errors() {
    assert_eq!(Admission::parse("reserve").unwrap(), Admission::Reserve);
    assert_eq!(Admission::parse("No-Evict").unwrap(), Admission::Reserve);
    assert_eq!(Admission::parse("vllm").unwrap(), Admission::OnDemand);
    assert!(Admission::parse("fifo")
        .unwrap_err()
        .to_string()
        .contains("`fifo`"));
}
