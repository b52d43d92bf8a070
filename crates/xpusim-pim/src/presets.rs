//! Embedded PIM device presets and the host device variants the system presets use.

use xpusim_hw::DeviceSpec;

use crate::{close_names, PimError, PimSpec};

/// PIM presets: (file, TOML).
pub const PIM_PRESETS: &[(&str, &str)] = &[
    (
        "hbm-pim-aquabolt.toml",
        include_str!("../presets/hbm-pim-aquabolt.toml"),
    ),
    ("gddr6-aim.toml", include_str!("../presets/gddr6-aim.toml")),
    (
        "attacc-bank.toml",
        include_str!("../presets/attacc-bank.toml"),
    ),
    ("attacc-bg.toml", include_str!("../presets/attacc-bg.toml")),
    (
        "upmem-dimm.toml",
        include_str!("../presets/upmem-dimm.toml"),
    ),
    (
        "neupims-hbm2.toml",
        include_str!("../presets/neupims-hbm2.toml"),
    ),
];

/// Host device variants not in xpusim-hw (A100 with HBM3, AttAcc's baseline).
pub const HOST_PRESETS: &[(&str, &str)] = &[
    (
        "a100-hbm3.toml",
        include_str!("../presets/devices/a100-hbm3.toml"),
    ),
    (
        "a100-hbm3-160gb.toml",
        include_str!("../presets/devices/a100-hbm3-160gb.toml"),
    ),
];

/// Every embedded PIM preset, parsed.
pub fn pim_presets() -> Result<Vec<PimSpec>, PimError> {
    PIM_PRESETS
        .iter()
        .map(|(f, s)| PimSpec::from_toml(f, s))
        .collect()
}

pub fn pim_names() -> Vec<String> {
    PIM_PRESETS
        .iter()
        .map(|(f, _)| f.trim_end_matches(".toml").to_string())
        .collect()
}

/// A PIM preset by name or alias, or a TOML file path.
pub fn load_pim(name_or_path: &str) -> Result<PimSpec, PimError> {
    for (f, src) in PIM_PRESETS {
        let spec = PimSpec::from_toml(f, src)?;
        if spec.name == name_or_path || spec.aliases.iter().any(|a| a == name_or_path) {
            return Ok(spec);
        }
    }
    if name_or_path.ends_with(".toml") {
        let src = std::fs::read_to_string(name_or_path).map_err(|e| PimError::Io {
            file: name_or_path.to_string(),
            msg: e.to_string(),
        })?;
        return PimSpec::from_toml(name_or_path, &src);
    }
    Err(PimError::Unknown {
        what: "PIM device",
        name: name_or_path.to_string(),
        suggestions: close_names(name_or_path, &pim_names()),
    })
}

/// A host device: this crate's variants first, then xpusim-hw presets or a path.
pub fn load_host(name_or_path: &str) -> Result<DeviceSpec, PimError> {
    for (f, src) in HOST_PRESETS {
        if f.trim_end_matches(".toml") == name_or_path {
            return Ok(DeviceSpec::from_toml(f, src)?);
        }
    }
    Ok(xpusim_hw::load_device(name_or_path)?)
}
