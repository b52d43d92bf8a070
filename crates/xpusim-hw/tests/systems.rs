//! System presets: the GB200 NVL72 rack (one 72-GPU NVLink domain) and its GPU, nodes of
//! any size, and field paths and names across every system preset.

use xpusim_hw::registry::{names, SYSTEMS};
use xpusim_hw::{find_preset, find_system, Kind, System, SystemSpec, TopologyKind};

fn system_src(file: &str) -> &'static str {
    SYSTEMS
        .iter()
        .find(|(f, _)| *f == file)
        .unwrap_or_else(|| panic!("no system preset {file}"))
        .1
}

/// The fields of one row of `../shared/specs/accelerators.csv` by column name, when the
/// shared specs are checked out beside the workspace (they are not part of it).
fn spec_row(hardware: &str) -> Option<Vec<(String, String)>> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/specs/accelerators.csv");
    let text = std::fs::read_to_string(p).ok()?;
    let mut lines = text.lines();
    let head = split_csv(lines.next()?);
    let row = lines
        .map(split_csv)
        .find(|r| r.first().map(String::as_str) == Some(hardware))?;
    Some(head.into_iter().zip(row).collect())
}

/// One CSV line into fields (double quotes group commas; no escaped quotes in this file).
fn split_csv(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The leading number of a csv field ("186 (185 reported by Azure VM)" → 186).
fn num(row: &[(String, String)], col: &str) -> f64 {
    let v = &row.iter().find(|(k, _)| k == col).unwrap().1;
    let lead: String = v
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    lead.parse()
        .unwrap_or_else(|_| panic!("{col}: `{v}` is not a number"))
}

#[test]
fn gb200_is_the_b200_die_at_the_gb200_rows_values() {
    use xpusim_ir::DType::{Bf16, Fp16, Fp8};
    let g = find_preset("gb200").unwrap();
    for alias in ["gb200-gpu", "blackwell-gb200", "GB200"] {
        assert_eq!(find_preset(alias).unwrap().name, "gb200", "{alias}");
    }
    assert!(
        g.calibration.is_empty(),
        "no curves were measured for gb200"
    );
    let gib = (1u64 << 30) as f64;
    if let Some(row) = spec_row("GB200 (per Blackwell GPU in NVL72)") {
        let bf16 = num(&row, "bf16_fp16_dense_tflops");
        assert_eq!(g.matrix.peak_tflops[&Bf16], bf16);
        assert_eq!(g.matrix.peak_tflops[&Fp16], bf16);
        assert_eq!(g.matrix.peak_tflops[&Fp8], num(&row, "fp8_dense_tflops"));
        assert_eq!(g.offchip().bandwidth_gbps, num(&row, "mem_bw_GBps"));
        // Capacities are read as GiB, like every NVIDIA preset.
        assert_eq!(
            g.offchip().capacity_bytes as f64 / gib,
            num(&row, "mem_capacity_GB")
        );
        assert_eq!(g.power.tdp_w, num(&row, "tdp_W"));
    } else {
        eprintln!("accelerators.csv not checked out: GB200 row not compared");
    }
    // NVLink5: 1.8 TB/s bidirectional = 900 GB/s per direction.
    assert_eq!(
        g.interconnect.as_ref().unwrap().bandwidth_gbps,
        1800.0 / 2.0
    );
    // The same die as b200: same SMs, MMA granule and on-chip capacities; the higher peak
    // is all clock (the derivation both presets state), not more work per SM per cycle.
    let b = find_preset("b200").unwrap();
    assert_eq!((g.cores, g.matrix.tile), (b.cores, b.matrix.tile));
    for (lg, lb) in g.memory.iter().zip(&b.memory).take(2) {
        assert_eq!(lg.capacity_bytes, lb.capacity_bytes, "{}", lg.name);
    }
    let per_clk = |d: &xpusim_hw::DeviceSpec| d.matrix.peak_tflops[&Bf16] / d.clock_ghz;
    assert!((per_clk(&g) / per_clk(&b) - 1.0).abs() < 0.01);
    // Every estimate carried over from b200 is declared.
    for f in ["matrix.efficiency", "cores", "overhead.launch_us"] {
        assert!(g.unverified.iter().any(|u| u == f), "{f} not in unverified");
    }
}

#[test]
fn gb200_nvl72_is_one_nvlink_domain_of_72() {
    let s = find_system("gb200-nvl72").unwrap();
    for alias in ["nvl72", "dgx-gb200"] {
        assert_eq!(find_system(alias).unwrap().spec.name, "gb200-nvl72");
    }
    let spec = &s.spec;
    assert_eq!(s.device.name, "gb200");
    assert_eq!(
        (spec.count, spec.devices_per_node, spec.nodes()),
        (72, 72, 1)
    );
    let su = spec.scale_up.as_ref().unwrap();
    assert_eq!(su.kind, TopologyKind::Switch);
    // Per GPU per direction = the device's NVLink; both directions of 72 GPUs = the
    // datasheet's 130 TB/s aggregate.
    assert_eq!(
        su.bandwidth_gbps,
        s.device.interconnect.as_ref().unwrap().bandwidth_gbps
    );
    let aggregate_tbps = 2.0 * su.bandwidth_gbps * spec.count as f64 / 1e3;
    assert!(
        (aggregate_tbps / 130.0 - 1.0).abs() < 0.01,
        "{aggregate_tbps}"
    );
    // One 400 Gb/s NIC per GPU.
    let so = spec.scale_out.as_ref().unwrap();
    let nic_gbps = so.bandwidth_gbps / spec.devices_per_node as f64;
    assert_eq!(nic_gbps, 400.0 / 8.0);
    // Rack power ~120 kW less the GPUs' TDP.
    let overhead = spec.node_power.as_ref().unwrap().overhead_w;
    assert_eq!(
        overhead,
        120e3 - spec.devices_per_node as f64 * s.device.power.tdp_w
    );
    for f in [
        "node_power.overhead_w",
        "scale_up.latency_us",
        "scale_up.protocols",
    ] {
        assert!(spec.unverified.iter().any(|u| u == f), "{f}");
    }
    assert!(spec.sources["scale_up.protocols"].contains("tuning.cc"));
    assert!(spec.price_usd_per_device_hour.is_none());
}

#[test]
fn gb200_nvl72_racks_validate_in_multiples_of_72() {
    let src = system_src("gb200-nvl72.toml");
    let two = src.replacen("\ncount = 72\n", "\ncount = 144\n", 1);
    let s = System::from_toml("two-racks.toml", &two, None).unwrap();
    assert_eq!((s.spec.count, s.spec.nodes()), (144, 2));
    // A partial rack is refused, naming the field.
    let e = SystemSpec::from_toml(
        "x.toml",
        &src.replacen("\ncount = 72\n", "\ncount = 108\n", 1),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("devices_per_node") && e.contains("108"), "{e}");
    // One rack needs no network; two do.
    let cut = src.find("[scale_out]").unwrap();
    let end = src.find("[node_power]").unwrap();
    let no_net = format!("{}{}", &src[..cut], &src[end..]);
    SystemSpec::from_toml("one.toml", &no_net).unwrap();
    let e = SystemSpec::from_toml(
        "two.toml",
        &no_net.replacen("\ncount = 72\n", "\ncount = 144\n", 1),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("scale_out"), "{e}");
}

/// Nothing in the validator bounds the size of a node: switch nodes of 8 to 576 devices
/// (NVLink5's largest domain) validate, over one node and over several.
#[test]
fn switch_nodes_of_any_size_validate() {
    for n in [2u64, 8, 16, 36, 72, 144, 576] {
        for racks in [1u64, 2, 16] {
            let src = format!(
                "name = \"n{n}\"\ndisplay_name = \"x\"\ndevice = \"gb200\"\ncount = {}\n\
                 devices_per_node = {n}\n[scale_up]\nkind = \"switch\"\nname = \"nv\"\n\
                 bandwidth_gbps = 900\nlatency_us = 1\n[scale_out]\nname = \"ib\"\n\
                 bandwidth_gbps = {}\nlatency_us = 2\n",
                n * racks,
                50 * n
            );
            let s = System::from_toml("n.toml", &src, None)
                .unwrap_or_else(|e| panic!("{n} x {racks}: {e}"));
            assert_eq!(s.spec.nodes(), racks);
        }
    }
}

/// Field paths in every system preset's `[sources]` and `unverified` name a field.
#[test]
fn system_sources_and_unverified_name_fields() {
    const TOP: &[&str] = &[
        "name",
        "aliases",
        "display_name",
        "device",
        "count",
        "devices_per_node",
        "scale_up",
        "scale_out",
        "host_link",
        "node_power",
        "price_usd_per_device_hour",
        "pim",
    ];
    for (file, src) in SYSTEMS {
        let s = SystemSpec::from_toml(file, src).unwrap();
        for p in s.unverified.iter().chain(s.sources.keys()) {
            let head = p.split(['.', '[']).next().unwrap();
            assert!(TOP.contains(&head), "{file}: `{p}` is not a field path");
        }
    }
}

/// `--hw` tries devices before systems: no system name or alias may be a device's.
#[test]
fn system_names_do_not_shadow_devices() {
    let devices: Vec<String> = names(Kind::Device)
        .into_iter()
        .flat_map(|(n, a)| std::iter::once(n).chain(a))
        .map(|n| n.to_ascii_lowercase())
        .collect();
    for (n, aliases) in names(Kind::System) {
        for a in std::iter::once(&n).chain(&aliases) {
            assert!(
                !devices.contains(&a.to_ascii_lowercase()),
                "system {n}: `{a}` is also a device name"
            );
        }
    }
}
