use xpusim_hw::{find_preset, load_device, preset_names, DeviceSpec, HwError, PRESETS};

#[test]
fn every_preset_parses_validates_and_cites_its_peaks() {
    assert!(!PRESETS.is_empty());
    for (file, src) in PRESETS {
        let d = DeviceSpec::from_toml(file, src).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            d.sources
                .keys()
                .any(|k| k.starts_with("matrix.peak_tflops")),
            "{file}: matrix.peak_tflops has no source"
        );
        assert!(
            d.sources.keys().any(|k| k.starts_with("memory")),
            "{file}: memory uncited"
        );
    }
}

#[test]
fn names_and_aliases_resolve() {
    for n in preset_names() {
        assert_eq!(find_preset(&n).unwrap().name, n);
    }
    assert_eq!(find_preset("H100").unwrap().name, "h100-sxm");
}

#[test]
fn misspelt_name_suggests() {
    let e = find_preset("h100-sx").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("did you mean h100-sxm"), "{msg}");
}

fn h100() -> &'static str {
    PRESETS
        .iter()
        .find(|(f, _)| *f == "h100-sxm.toml")
        .unwrap()
        .1
}

#[test]
fn zero_bandwidth_names_file_line_and_field() {
    let src = h100().replacen("bandwidth_gbps = 5500", "bandwidth_gbps = 0", 1);
    let line = src.lines().position(|l| l == "bandwidth_gbps = 0").unwrap() + 1;
    match DeviceSpec::from_toml("my.toml", &src) {
        Err(HwError::Invalid {
            file,
            line: l,
            field,
            ..
        }) => {
            assert_eq!(file, "my.toml");
            assert_eq!(l, line);
            assert_eq!(field, "memory[1].bandwidth_gbps");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn unknown_and_missing_fields_are_reported_with_line() {
    let src = h100().replacen("cores = 132", "cores = 132\ncoress = 3", 1);
    let msg = DeviceSpec::from_toml("my.toml", &src)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("my.toml") && msg.contains("coress") && msg.contains("line"),
        "{msg}"
    );
    let src = h100().replacen("clock_ghz = 1.83\n", "", 1);
    let msg = DeviceSpec::from_toml("my.toml", &src)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("clock_ghz"), "{msg}");
    let msg = DeviceSpec::from_toml("my.toml", "name = [")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("my.toml") && msg.contains("line 1"), "{msg}");
}

#[test]
fn negative_and_absurd_values_rejected() {
    let src = h100().replacen("clock_ghz = 1.83", "clock_ghz = -1.0", 1);
    assert!(DeviceSpec::from_toml("x", &src).is_err());
    let src = h100().replacen("tdp_w = 700", "tdp_w = 1e300", 1);
    assert!(DeviceSpec::from_toml("x", &src).is_err());
    let src = h100().replacen("efficiency = 0.75", "efficiency = 1.5", 1);
    assert!(DeviceSpec::from_toml("x", &src).is_err());
}

#[test]
fn file_path_loads_like_a_preset() {
    let dir = std::env::temp_dir().join(format!("xpusim-hw-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("chip.toml");
    std::fs::write(&p, h100()).unwrap();
    assert_eq!(load_device(p.to_str().unwrap()).unwrap().name, "h100-sxm");
    assert!(load_device("/nonexistent/chip.toml").is_err());
}
