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
    let direct = xpusim_engine::evaluate(&g, &s.base).unwrap();
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
