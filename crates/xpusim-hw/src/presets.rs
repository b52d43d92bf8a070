//! Presets embedded in the binary; `--hw` takes a preset name, an alias or a file path.

use std::path::Path;

use crate::{DeviceSpec, HwError};

/// (file name, TOML text) of every built-in device.
pub const PRESETS: &[(&str, &str)] = &[
    ("a100-80gb.toml", include_str!("../presets/a100-80gb.toml")),
    ("h100-sxm.toml", include_str!("../presets/h100-sxm.toml")),
    ("h200.toml", include_str!("../presets/h200.toml")),
    ("b200.toml", include_str!("../presets/b200.toml")),
    ("mi300x.toml", include_str!("../presets/mi300x.toml")),
    ("tpu-v4.toml", include_str!("../presets/tpu-v4.toml")),
    ("tpu-v5e.toml", include_str!("../presets/tpu-v5e.toml")),
    (
        "npu-systolic.toml",
        include_str!("../presets/npu-systolic.toml"),
    ),
    ("p100.toml", include_str!("../presets/p100.toml")),
    ("v100.toml", include_str!("../presets/v100.toml")),
    ("t4.toml", include_str!("../presets/t4.toml")),
    ("tpu-v5p.toml", include_str!("../presets/tpu-v5p.toml")),
    ("tpu-v6e.toml", include_str!("../presets/tpu-v6e.toml")),
    ("gaudi2.toml", include_str!("../presets/gaudi2.toml")),
    ("gaudi3.toml", include_str!("../presets/gaudi3.toml")),
    (
        "rebellions-atom.toml",
        include_str!("../presets/rebellions-atom.toml"),
    ),
    (
        "furiosa-rngd.toml",
        include_str!("../presets/furiosa-rngd.toml"),
    ),
    ("eyeriss.toml", include_str!("../presets/eyeriss.toml")),
    ("groq-lpu.toml", include_str!("../presets/groq-lpu.toml")),
    ("mi250x.toml", include_str!("../presets/mi250x.toml")),
    ("mi210.toml", include_str!("../presets/mi210.toml")),
    ("titan-xp.toml", include_str!("../presets/titan-xp.toml")),
    ("host-cpu.toml", include_str!("../presets/host-cpu.toml")),
    (
        "xformer-asic.toml",
        include_str!("../presets/xformer-asic.toml"),
    ),
];

/// Names of all presets, in catalogue order.
pub fn preset_names() -> Vec<String> {
    PRESETS
        .iter()
        .filter_map(|(f, src)| DeviceSpec::from_toml(f, src).ok().map(|d| d.name))
        .collect()
}

/// Looks up a preset by name or alias (case-insensitive).
pub fn find_preset(name: &str) -> Result<DeviceSpec, HwError> {
    let want = name.trim().to_ascii_lowercase();
    let mut all = Vec::new();
    for (file, src) in PRESETS {
        let d = DeviceSpec::from_toml(&format!("preset {file}"), src)?;
        if d.name == want || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(&want)) {
            return Ok(d);
        }
        all.push(d.name.clone());
        all.extend(d.aliases.iter().cloned());
    }
    Err(HwError::Unknown {
        name: name.to_string(),
        suggestions: close_names(&want, &all),
    })
}

/// Jaro-Winkler similarity above which a known name is offered as "did you mean": high
/// enough that `h100-sx` suggests `h100-sxm` but `tpu` does not list every preset.
const SUGGEST_SIMILARITY: f64 = 0.75;

/// Up to three of `known` closest to `want` (case-insensitive), best first, for "did you
/// mean" messages about presets of any kind (devices, systems, PIM memories).
pub fn close_names(want: &str, known: &[String]) -> Vec<String> {
    let want = want.trim().to_ascii_lowercase();
    let mut scored: Vec<(f64, &String)> = known
        .iter()
        .map(|n| (strsim::jaro_winkler(&want, &n.to_ascii_lowercase()), n))
        .filter(|(s, _)| *s > SUGGEST_SIMILARITY)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, n)| n.clone()).collect()
}

/// A preset name/alias, or a path to a device TOML file.
pub fn load_device(name_or_path: &str) -> Result<DeviceSpec, HwError> {
    let p = Path::new(name_or_path);
    if name_or_path.ends_with(".toml") || p.is_file() {
        let src = std::fs::read_to_string(p).map_err(|e| HwError::Io {
            file: name_or_path.to_string(),
            msg: e.to_string(),
        })?;
        return DeviceSpec::from_toml(name_or_path, &src);
    }
    find_preset(name_or_path)
}
