//! Power caps (issue #15): under a cap no op's dynamic power exceeds `cap − idle` (in the
//! analytical model: a calibration curve, measured at TDP, rescales the capped time by its
//! factor), a lower cap never makes an op faster, and a cap at TDP changes nothing.

use xpusim_engine::cost_op;
use xpusim_hw::{find_preset, DeviceSpec};

fn capped(dev: &DeviceSpec, cap_w: Option<f64>) -> DeviceSpec {
    let mut d = dev.clone();
    d.power_cap_w = cap_w;
    d.calibration.clear();
    d
}

#[test]
fn ops_stay_within_the_cap_and_slow_down_monotonically() {
    let mut checked = 0usize;
    let mut slowed = 0usize;
    for name in ["h100-sxm", "a100-80gb", "mi300x", "tpu-v5p"] {
        let dev = find_preset(name).expect("preset");
        let tdp = dev.power.tdp_w;
        let idle = dev.power.idle_w;
        let caps = [
            None,
            Some(tdp),
            Some(0.7 * tdp),
            Some(idle + 0.3 * (tdp - idle)),
        ];
        for m in xpusim_models::catalog() {
            let phase = m.phases[0];
            let g = xpusim_models::build(m.name, &m.workload(phase)).expect("zoo model builds");
            for op in &g.ops {
                let mut last_time = 0.0;
                for (i, cap) in caps.iter().enumerate() {
                    let d = capped(&dev, *cap);
                    let c = cost_op(op, &d).expect("costs");
                    let limit = d.power_limit_w() - idle;
                    let dynamic_w = (c.energy_j - c.idle_energy_j) / c.time_s;
                    assert!(
                        dynamic_w <= limit * (1.0 + 1e-9),
                        "{} on {name} capped at {cap:?}: {dynamic_w} W dynamic > {limit} W",
                        op.name
                    );
                    if i == 1 {
                        // A cap at TDP is no cap.
                        assert_eq!(c.time_s, last_time, "{} on {name}", op.name);
                    }
                    assert!(
                        c.time_s >= last_time,
                        "{} on {name}: faster under a lower cap",
                        op.name
                    );
                    if i > 1 && c.time_s > last_time {
                        slowed += 1;
                    }
                    last_time = c.time_s;
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 1000 && slowed > 50,
        "checked {checked}, slowed {slowed}"
    );
}

#[test]
fn a_cap_outside_idle_to_tdp_is_an_error_naming_the_field() {
    let src = xpusim_hw::registry::source("h100-sxm").expect("preset").1;
    for cap in ["900.0", "50.0", "nan"] {
        // A top-level key, before the first table.
        let text = format!("power_cap_w = {cap}\n{src}");
        let e = DeviceSpec::from_toml("capped.toml", &text).expect_err(cap);
        let msg = e.to_string();
        assert!(
            msg.contains("power_cap_w") && msg.contains("at most tdp_w"),
            "{msg}"
        );
    }
    let text = format!("power_cap_w = 350.0\n{src}");
    let d = DeviceSpec::from_toml("capped.toml", &text).expect("a cap of 350 W loads");
    assert_eq!(d.power_limit_w(), 350.0);
}

#[test]
fn a_system_caps_its_devices() {
    let src = xpusim_hw::registry::source("dgx-h100").expect("preset").1;
    let text = format!("power_cap_w = 400.0\n{src}");
    let s = xpusim_hw::System::from_toml("capped.toml", &text, None).expect("loads");
    assert_eq!(s.device.power_cap_w, Some(400.0));
    let text = format!("power_cap_w = 800.0\n{src}");
    let e = xpusim_hw::System::from_toml("capped.toml", &text, None).expect_err("above TDP");
    assert!(e.to_string().contains("power_cap_w"), "{e}");
}

/// With voltage scaled with the clock (the default), capping a compute-bound op saves its
/// dynamic energy, as measured power-capping studies find (McDonald et al. 2022: 150 W of
/// 250 W on V100s cut training energy 13.7 %); with `dvfs_energy_exponent = 0` a cap can
/// only stretch the op, so it costs more time and saves no dynamic energy (beyond what a
/// different tile choice under the cap moves).
#[test]
fn a_cap_saves_dynamic_energy_only_with_voltage_scaling() {
    let dev = find_preset("h100-sxm").expect("preset");
    let bf16 = xpusim_ir::Precision::uniform(xpusim_ir::DType::Bf16);
    let op = xpusim_ir::Op::linear("gemm", 8192, 8192, 8192, "w", bf16).expect("a GEMM");
    let dynamic = |c: &xpusim_engine::OpCost| c.energy_j - c.idle_energy_j;
    let free = cost_op(&op, &capped(&dev, None)).expect("costs");
    let mut fixed = capped(&dev, Some(350.0));
    fixed.power.dvfs_energy_exponent = Some(0.0);
    let fixed = cost_op(&op, &fixed).expect("costs");
    let scaled = cost_op(&op, &capped(&dev, Some(350.0))).expect("costs");
    assert!(scaled.time_s > free.time_s && scaled.time_s < fixed.time_s);
    assert!(
        dynamic(&scaled) < 0.8 * dynamic(&free),
        "{scaled:?} vs {free:?}"
    );
    // Energy per action fixed: only a different tile choice under the cap can move it.
    assert!(
        dynamic(&fixed) > 0.97 * dynamic(&free),
        "{} J capped vs {} J",
        dynamic(&fixed),
        dynamic(&free)
    );
}

#[test]
fn a_bad_dvfs_exponent_is_an_error_naming_the_field() {
    let src = xpusim_hw::registry::source("h100-sxm").expect("preset").1;
    let text = src.replacen(
        "idle_w = 100",
        "idle_w = 100\ndvfs_energy_exponent = -1.0",
        1,
    );
    assert_ne!(text, src, "the preset's [power] table has idle_w = 100");
    let e = DeviceSpec::from_toml("bad.toml", &text).expect_err("negative exponent");
    assert!(e.to_string().contains("dvfs_energy_exponent"), "{e}");
}
