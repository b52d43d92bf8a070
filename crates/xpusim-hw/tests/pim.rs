//! PIM memory loading: presets parse, inconsistent organisations are clear errors.

use xpusim_hw::registry::{pims, PIMS};
use xpusim_hw::{load_pim, HwError, PimSpec};

fn attacc_src() -> &'static str {
    PIMS.iter()
        .find(|(f, _)| *f == "attacc-bank.toml")
        .map(|(_, s)| *s)
        .unwrap_or_default()
}

fn err(src: &str) -> String {
    match PimSpec::from_toml("bad.toml", src) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn presets_load_and_resolve_by_alias() {
    let all = pims().unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(load_pim("attacc").unwrap().name, "attacc-bank");
    assert_eq!(load_pim("aquabolt-xl").unwrap().name, "hbm-pim-aquabolt");
    let e = load_pim("attac-bank").unwrap_err().to_string();
    assert!(e.contains("did you mean attacc-bank"), "{e}");
}

#[test]
fn banks_not_divisible_by_bank_groups() {
    let src = attacc_src().replace("bank_groups = 8", "bank_groups = 6");
    let e = err(&src);
    let line = src.lines().position(|l| l.starts_with("banks = ")).unwrap() + 1;
    assert!(
        e.starts_with(&format!("bad.toml:{line}: field `organization.banks`")),
        "{e}"
    );
    assert!(
        e.contains("banks (32) must be divisible by bank_groups (6)"),
        "{e}"
    );
}

#[test]
fn pu_count_above_bank_count() {
    let src = attacc_src().replace("units = 32", "units = 64");
    let e = err(&src);
    assert!(e.contains("field `processing.units`"), "{e}");
    assert!(
        e.contains(
            "64 units per pseudo-channel at bank level exceed the banks per pseudo-channel (32)"
        ),
        "{e}"
    );
}

#[test]
fn bank_group_units_above_bank_groups() {
    let src = attacc_src()
        .replace("level = \"bank\"", "level = \"bank_group\"")
        .replace("units = 32", "units = 16");
    assert!(err(&src).contains("exceed the bank_groups per pseudo-channel (8)"));
}

#[test]
fn other_bad_values_name_their_field() {
    for (from, to, field) in [
        ("t_ras = 45", "t_ras = 10", "timing.t_ras"),
        (
            "row_bytes = 1024",
            "row_bytes = 1000",
            "organization.row_bytes",
        ),
        ("clock_mhz = 1300", "clock_mhz = 0", "timing.clock_mhz"),
        (
            "bandwidth_gbps = 670.4",
            "bandwidth_gbps = -1",
            "io.bandwidth_gbps",
        ),
        ("softmax_gflops = 670.4\n", "", "processing.softmax_gflops"),
    ] {
        let e = err(&attacc_src().replace(from, to));
        assert!(e.contains(&format!("field `{field}`")), "{from}: {e}");
    }
}

#[test]
fn unknown_fields_are_rejected() {
    let src = attacc_src().replace("[io]", "[io]\nbandwith_gbps = 1");
    let e = PimSpec::from_toml("bad.toml", &src).unwrap_err();
    assert!(matches!(e, HwError::Parse { .. }));
    assert!(e.to_string().contains("bandwith_gbps"), "{e}");
}
