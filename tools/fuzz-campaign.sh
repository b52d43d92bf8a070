#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS (default 120) one after another, single job,
# with the limits of docs/fuzzing.md, and prints one summary line per target from
# libFuzzer's final stats. Logs go to fuzz/logs/<target>.log, crashes to
# fuzz/artifacts/<target>/. Needs `cargo install cargo-fuzz` and a nightly toolchain.
# Usage: tools/fuzz-campaign.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${1:-120}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(device_toml system_toml pim_toml npu_arch hf_config scalesim_cfg
             scalesim_topology validation_csv sweep_spec)
fi
[ -d fuzz/corpus ] || tools/fuzz-seeds.sh
mkdir -p fuzz/logs
printf '%-18s %5s %10s %7s %6s %6s %6s %s\n' target secs execs exec/s cov ft corpus artifacts
for t in "${targets[@]}"; do
    log="fuzz/logs/$t.log"
    mkdir -p "fuzz/corpus/$t"
    cargo +nightly fuzz run --fuzz-dir fuzz "$t" -- -max_total_time="$secs" \
        -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1
    # The last stats line (#N DONE/pulse/NEW ... cov: ft: corp: exec/s:).
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    rate=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    corp=$(find "fuzz/corpus/$t" -type f | wc -l)
    arts=$(find "fuzz/artifacts/$t" -type f 2>/dev/null | wc -l)
    printf '%-18s %5s %10s %7s %6s %6s %6s %s\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "$corp" "$arts"
done
