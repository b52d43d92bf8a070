#!/usr/bin/env bash
# Copies the real inputs of every parser into fuzz/corpus/<target>/ as the seed corpora of
# the fuzz targets (docs/fuzzing.md). Idempotent; the corpora are not committed.
# The shared SCALE-Sim files are read from ${XPUSIM_SHARED:-../shared}/scalesim and
# skipped with a message when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${XPUSIM_SHARED:-../shared}"
c=fuzz/corpus
mkdir -p "$c"/{device_toml,system_toml,pim_toml,npu_arch,hf_config,scalesim_cfg,scalesim_topology,validation_csv,sweep_spec,seq_dist}

p=crates/xpusim-hw/presets
cp "$p"/*.toml "$c"/device_toml/
cp "$p"/systems/*.toml "$c"/system_toml/
cp "$p"/pim/*.toml "$c"/pim_toml/
# Devices with an [array] section (the NPU view), and the PIM devices' own [pim].
grep -l '^\[array\]' "$p"/*.toml | xargs -I{} cp {} "$c"/npu_arch/
cp crates/xpusim-hf/tests/fixtures/*.json "$c"/hf_config/
cp examples/sweeps/*.toml "$c"/sweep_spec/
cp examples/seq-dist/*.csv "$c"/seq_dist/

# Validation CSVs: the header and the first rows of each (vidur.csv alone is ~1 MB; long
# seeds slow every execution without adding coverage).
for f in data/validation/*.csv; do
    head -n 40 "$f" > "$c/validation_csv/$(basename "$f")"
done

if [ -d "$shared/scalesim" ]; then
    cp "$shared"/scalesim/configs/*.cfg "$c"/scalesim_cfg/
    cp "$shared"/scalesim/topologies/*.csv "$c"/scalesim_topology/
else
    echo "fuzz-seeds: $shared/scalesim absent: SCALE-Sim corpora start empty" >&2
fi
for d in "$c"/*/; do
    echo "$(basename "$d"): $(find "$d" -type f | wc -l) files"
done
