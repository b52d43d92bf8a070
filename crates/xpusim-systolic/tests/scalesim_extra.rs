//! Cases outside `golden.csv`, checked against SCALE-Sim 3.0.0 run directly (numpy 1.26,
//! `single_layer_sim` on generated `.cfg`/topology files): non-square and 1-wide arrays, tiny
//! SRAMs, different ifmap/filter/ofmap DRAM bandwidths in USER mode, depthwise (`DP`) layers
//! split per channel, strides that overrun the ifmap, and GEMM rows. The first case drains
//! more than 4096 ofmap lines at the end of the layer (a regression for the drain loop).

use std::path::Path;

use xpusim_systolic::{parse_topology, simulate_layer, ArrayConfig, BandwidthMode, Dataflow};

type Case = (
    &'static str, // topology row
    usize,        // layer index after DP expansion
    [u64; 2],     // rows, cols
    &'static str, // dataflow
    &'static str, // CALC or USER
    [u64; 3],     // SRAM kB: ifmap, filter, ofmap
    [u64; 3],     // DRAM words/cycle: ifmap, filter, ofmap (USER only)
    [u64; 8],     // total, stalls, SRAM if/fil/of, DRAM if/fil/of
);

#[rustfmt::skip]
const CASES: &[Case] = &[
    ("G3,25,38,54", 0, [5, 16], "is", "USER", [2, 8, 8], [12, 3, 1],
     [1363, 0, 1350, 4104, 10450, 2064, 2091, 10450]),
    ("L,16,34,5,5,31,51,2", 0, [4, 3], "ws", "USER", [1, 1, 8], [5, 9, 4],
     [1509658, 1110601, 1475600, 39525, 1108128, 7465440, 3217023, 1108131]),
    ("DPx,17,18,3,1,3,8,1", 0, [8, 2], "ws", "USER", [1, 1, 1], [4, 12, 4],
     [1325, 182, 3240, 24, 2160, 5632, 24, 2163]),
    ("G9,30,19,53", 0, [1, 6], "ws", "USER", [8, 3, 3], [6, 11, 3],
     [10587, 2956, 6360, 1007, 30210, 1590, 1276, 30212]),
    ("G81,32,33,57", 0, [4, 2], "is", "USER", [1, 1, 3], [7, 3, 6],
     [13907, 4068, 1824, 30096, 15840, 12950, 41553, 15845]),
    ("L,15,10,4,4,5,18,1", 0, [3, 4], "is", "USER", [1, 2, 3], [1, 11, 2],
     [27386, 12645, 6720, 30240, 40824, 26624, 73414, 40828]),
    ("DPx,18,14,5,3,3,3,2", 1, [8, 6], "os", "USER", [3, 1, 3], [11, 6, 9],
     [188, 0, 840, 315, 266, 847, 90, 168]),
    ("DPx,18,7,1,4,3,6,3", 0, [16, 2], "ws", "CALC", [8, 1, 3], [5, 1, 9],
     [137, 0, 168, 24, 84, 42, 24, 84]),
    ("DPx,14,16,5,3,2,22,4", 0, [8, 6], "os", "CALC", [1, 1, 8], [3, 3, 3],
     [323, 0, 1200, 990, 608, 168, 330, 440]),
    ("L,13,20,2,1,7,3,3", 0, [1, 4], "is", "CALC", [2, 3, 1], [1, 11, 8],
     [979, 0, 560, 420, 1680, 441, 42, 1683]),
    ("L,2,7,2,1,8,2,4", 0, [1, 16], "os", "CALC", [3, 3, 2], [7, 5, 4],
     [92, 0, 48, 96, 57, 32, 32, 6]),
    ("L,17,5,5,5,7,15,1", 0, [8, 4], "os", "CALC", [1, 1, 2], [3, 8, 1],
     [1479, 0, 9100, 5250, 291, 3452, 5250, 195]),
];

#[test]
fn matches_scalesim_beyond_golden() {
    for &(row, idx, [rows, cols], df, mode, kb, bw, want) in CASES {
        let header = if row.starts_with('G') {
            "Layer, M, N, K,"
        } else {
            "Layer, H, W, Fh, Fw, C, N, S,"
        };
        let text = format!("{header}\n{row},\n");
        let layers = parse_topology(&text, Path::new("case.csv"), None).expect("case parses");
        let layer = &layers[idx];
        let df = Dataflow::parse(df).expect("dataflow");
        let mut cfg = ArrayConfig::new(rows, cols, df, kb);
        if mode == "USER" {
            cfg.bandwidth_mode = BandwidthMode::User;
            cfg.ifmap_dram_bandwidth = bw[0];
            cfg.filter_dram_bandwidth = bw[1];
            cfg.bandwidth = vec![bw[2]];
        }
        let r = simulate_layer(&cfg, layer);
        let got = [
            r.total_cycles,
            r.stall_cycles,
            r.sram_ifmap_reads,
            r.sram_filter_reads,
            r.sram_ofmap_writes,
            r.dram_ifmap_reads,
            r.dram_filter_reads,
            r.dram_ofmap_writes,
        ];
        assert_eq!(got, want, "{row} on {rows}x{cols} {df} {mode}");
        assert_eq!(r.cycles + r.stall_cycles, r.total_cycles);
    }
}
