//! What one design point computes: physical scaling, node changes, cost, objectives.

use std::path::Path;

use xpusim_cost::{builtin, chip_cost, CostOverrides};
use xpusim_sweep::{Evaluator, SweepSpec};

const SPEC: &str = r#"
base = "h100-sxm"
scaling = "physical"
[[axis]]
path = "cores"
values = [66, 132]
[[axis]]
path = "process_node_nm"
values = [4, 7]
[[workload]]
model = "resnet-50"
batch = 32
"#;

#[test]
fn the_base_point_reproduces_the_base_device() {
    let s = SweepSpec::parse("p.toml", SPEC, Path::new(".")).unwrap();
    let ev = Evaluator::new(&s).unwrap();
    let cols = ev.metric_columns();
    let col = |name: &str| cols.iter().position(|c| c == name).unwrap();
    let base = ev.eval(2); // cores = 132, 4 nm: the H100 itself
    assert_eq!(base.axes, vec!["132", "4"]);
    assert_eq!(base.status, "ok");
    assert_eq!(base.metrics[col("die_area_mm2")], 814.0);
    let want = chip_cost(&s.base, builtin().unwrap(), &CostOverrides::default()).unwrap();
    assert_eq!(base.metrics[col("chip_cost_usd")], want.total_usd);
    let g = s.workloads[0].build(s.base.natural_dtype).unwrap();
    let direct =
        xpusim_target::evaluate(&g, &xpusim_target::Target::device(s.base.clone())).unwrap();
    assert_eq!(
        base.metrics[col("resnet-50:inference:b32:throughput_per_s")],
        direct.throughput_per_s
    );
    // The geometric mean of one value is that value, up to exp(ln x) rounding.
    let gm = base.metrics[col("throughput_geomean_per_s")];
    assert!((gm / direct.throughput_per_s - 1.0).abs() < 1e-12);

    // Half the SMs: half the peak, a smaller die, lower throughput on a compute-heavy CNN.
    let half = ev.eval(0);
    assert!(half.metrics[col("die_area_mm2")] < 814.0);
    assert!(half.metrics[col("throughput_geomean_per_s")] < direct.throughput_per_s);
    // The same design at 7 nm: bigger die, more energy per sample.
    let old = ev.eval(3);
    assert!(old.metrics[col("die_area_mm2")] > 1.5 * 814.0);
    assert!(old.metrics[col("energy_geomean_j")] > base.metrics[col("energy_geomean_j")]);
}

#[test]
fn a_base_without_die_area_still_has_a_performance_front() {
    let src = r#"
base = "tpu-v5e"
scaling = "physical"
objectives = ["throughput", "energy"]
[[axis]]
path = "cores"
values = [4, 8, 16]
[[workload]]
model = "bert-base"
"#;
    let s = SweepSpec::parse("n.toml", src, Path::new(".")).unwrap();
    let dir = std::env::temp_dir().join(format!("xpusim-sweep-noarea-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let r = xpusim_sweep::run(&s, &xpusim_sweep::RunOptions::new(&dir)).unwrap();
    assert_eq!(
        r.failed_points, 3,
        "every point says it could not be costed"
    );
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert!(
        csv.contains("cost: device `tpu-v5e` has no `die_area_mm2`"),
        "{csv}"
    );
    assert!(!r.pareto.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

proptest::proptest! {
    // Each case parses a spec (schema checks per axis value); 32 cases cover the shapes.
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
    #[test]
    fn point_indices_and_coordinates_are_a_bijection(a in 1usize..5, b in 1usize..5, c in 1usize..5) {
        let list = |n: usize| (0..n).map(|i| (64 + i).to_string()).collect::<Vec<_>>().join(", ");
        let src = format!(
            "base = \"h100-sxm\"\n[[axis]]\npath = \"cores\"\nvalues = [{}]\n[[axis]]\npath = \"clock_ghz\"\nvalues = [{}]\n[[axis]]\npath = \"memory[2].bandwidth_gbps\"\nvalues = [{}]\n[[workload]]\nmodel = \"resnet-50\"\n",
            list(a), list(b), list(c)
        );
        let s = SweepSpec::parse("b.toml", &src, Path::new(".")).unwrap();
        proptest::prop_assert_eq!(s.points(), (a * b * c) as u64);
        let mut seen = std::collections::HashSet::new();
        for i in 0..s.points() {
            let k = s.coords(i);
            proptest::prop_assert!(k[0] < a && k[1] < b && k[2] < c);
            proptest::prop_assert!(seen.insert(k.clone()));
            // Last axis fastest.
            proptest::prop_assert_eq!(k[2], (i % c as u64) as usize);
        }
    }
}
