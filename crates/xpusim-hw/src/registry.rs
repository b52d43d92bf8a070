//! The one registry of built-in hardware: devices, systems and PIM memories, embedded in
//! the binary. Every `--hw` (and `--system`) takes a preset name, an alias or a file path of
//! any kind, resolved here; an unknown name gets one "did you mean" over every kind.
//!
//! Files are told apart by their top-level keys: a system names a `device` and a `count`,
//! a PIM memory has an `organization`, a device has a `matrix` engine.

use std::path::Path;

use crate::{DeviceSpec, HwError, PimSpec, System, SystemSpec};

/// (file name, TOML text) of every built-in device.
pub const DEVICES: &[(&str, &str)] = &[
    ("a100-80gb.toml", include_str!("../presets/a100-80gb.toml")),
    (
        "a100-sxm4-40gb.toml",
        include_str!("../presets/a100-sxm4-40gb.toml"),
    ),
    ("a30.toml", include_str!("../presets/a30.toml")),
    ("h100-sxm.toml", include_str!("../presets/h100-sxm.toml")),
    ("h200.toml", include_str!("../presets/h200.toml")),
    ("h800.toml", include_str!("../presets/h800.toml")),
    ("b200.toml", include_str!("../presets/b200.toml")),
    ("gb200.toml", include_str!("../presets/gb200.toml")),
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
    ("a100-hbm3.toml", include_str!("../presets/a100-hbm3.toml")),
    (
        "a100-hbm3-160gb.toml",
        include_str!("../presets/a100-hbm3-160gb.toml"),
    ),
    (
        "xformer-asic.toml",
        include_str!("../presets/xformer-asic.toml"),
    ),
];

/// (file name, TOML text) of every built-in system.
pub const SYSTEMS: &[(&str, &str)] = &[
    (
        "dgx-a100.toml",
        include_str!("../presets/systems/dgx-a100.toml"),
    ),
    (
        "dgx-h100.toml",
        include_str!("../presets/systems/dgx-h100.toml"),
    ),
    (
        "hgx-h200.toml",
        include_str!("../presets/systems/hgx-h200.toml"),
    ),
    (
        "tpu-v5e-8.toml",
        include_str!("../presets/systems/tpu-v5e-8.toml"),
    ),
    (
        "mi300x-8.toml",
        include_str!("../presets/systems/mi300x-8.toml"),
    ),
    (
        "dgx-a100-attacc.toml",
        include_str!("../presets/systems/dgx-a100-attacc.toml"),
    ),
    (
        "dgx-a100-attacc-bg.toml",
        include_str!("../presets/systems/dgx-a100-attacc-bg.toml"),
    ),
    (
        "dgx-a100-hbm3-2x.toml",
        include_str!("../presets/systems/dgx-a100-hbm3-2x.toml"),
    ),
    (
        "npu-neupims.toml",
        include_str!("../presets/systems/npu-neupims.toml"),
    ),
    (
        "hgx-h800.toml",
        include_str!("../presets/systems/hgx-h800.toml"),
    ),
    ("dgx-2.toml", include_str!("../presets/systems/dgx-2.toml")),
    (
        "tpu-v4-pod.toml",
        include_str!("../presets/systems/tpu-v4-pod.toml"),
    ),
    (
        "jean-zay-a100.toml",
        include_str!("../presets/systems/jean-zay-a100.toml"),
    ),
    (
        "gb200-nvl72.toml",
        include_str!("../presets/systems/gb200-nvl72.toml"),
    ),
];

/// (file name, TOML text) of every built-in PIM memory.
pub const PIMS: &[(&str, &str)] = &[
    (
        "hbm-pim-aquabolt.toml",
        include_str!("../presets/pim/hbm-pim-aquabolt.toml"),
    ),
    (
        "gddr6-aim.toml",
        include_str!("../presets/pim/gddr6-aim.toml"),
    ),
    (
        "attacc-bank.toml",
        include_str!("../presets/pim/attacc-bank.toml"),
    ),
    (
        "attacc-bg.toml",
        include_str!("../presets/pim/attacc-bg.toml"),
    ),
    (
        "upmem-dimm.toml",
        include_str!("../presets/pim/upmem-dimm.toml"),
    ),
    (
        "neupims-hbm2.toml",
        include_str!("../presets/pim/neupims-hbm2.toml"),
    ),
];

/// What a preset or file describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Device,
    System,
    Pim,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Device => "device",
            Kind::System => "system",
            Kind::Pim => "PIM memory",
        }
    }
}

/// A device or a system: what every command runs a model on. Built once per command and
/// per sweep point, so the size difference of the variants costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Hardware {
    Device(DeviceSpec),
    System(System),
}

impl Hardware {
    pub fn name(&self) -> &str {
        match self {
            Hardware::Device(d) => &d.name,
            Hardware::System(s) => &s.spec.name,
        }
    }

    /// The device (of a system: the one it is built from).
    pub fn device(&self) -> &DeviceSpec {
        match self {
            Hardware::Device(d) => d,
            Hardware::System(s) => &s.device,
        }
    }
}

fn norm(name: &str) -> String {
    name.trim().to_ascii_lowercase()
}

fn list(kind: Kind) -> &'static [(&'static str, &'static str)] {
    match kind {
        Kind::Device => DEVICES,
        Kind::System => SYSTEMS,
        Kind::Pim => PIMS,
    }
}

/// (name, aliases) of an embedded preset file (`None` if it does not parse; a test checks
/// that every preset does).
fn identity(kind: Kind, file: &str, src: &str) -> Option<(String, Vec<String>)> {
    match kind {
        Kind::Device => DeviceSpec::from_toml(file, src)
            .ok()
            .map(|d| (d.name, d.aliases)),
        Kind::System => SystemSpec::from_toml(file, src)
            .ok()
            .map(|s| (s.name, s.aliases)),
        Kind::Pim => PimSpec::from_toml(file, src)
            .ok()
            .map(|p| (p.name, p.aliases)),
    }
}

/// (name, aliases) of every preset of `kind`, in catalogue order.
pub fn names(kind: Kind) -> Vec<(String, Vec<String>)> {
    list(kind)
        .iter()
        .filter_map(|(f, src)| identity(kind, f, src))
        .collect()
}

/// Names of all presets of `kind`, in catalogue order.
pub fn preset_names_of(kind: Kind) -> Vec<String> {
    names(kind).into_iter().map(|(n, _)| n).collect()
}

/// Names of all device presets, in catalogue order.
pub fn preset_names() -> Vec<String> {
    preset_names_of(Kind::Device)
}

/// The embedded file of the preset `name` (or alias) of `kind`.
fn embedded(kind: Kind, name: &str) -> Option<(&'static str, &'static str)> {
    let want = norm(name);
    list(kind).iter().copied().find(|(f, src)| {
        identity(kind, f, src)
            .is_some_and(|(n, a)| n == want || a.iter().any(|a| a.eq_ignore_ascii_case(&want)))
    })
}

/// "Unknown hardware" with suggestions from every kind of preset.
fn unknown(name: &str) -> HwError {
    let mut all = Vec::new();
    for k in [Kind::Device, Kind::System, Kind::Pim] {
        for (n, a) in names(k) {
            all.push(n);
            all.extend(a);
        }
    }
    HwError::Unknown {
        name: name.to_string(),
        suggestions: close_names(name, &all),
    }
}

/// Looks up a device preset by name or alias (case-insensitive).
pub fn find_preset(name: &str) -> Result<DeviceSpec, HwError> {
    match embedded(Kind::Device, name) {
        Some((f, src)) => DeviceSpec::from_toml(&format!("preset {f}"), src),
        None => Err(unknown(name)),
    }
}

/// Looks up a system preset by name or alias.
pub fn find_system(name: &str) -> Result<System, HwError> {
    match embedded(Kind::System, name) {
        Some((f, src)) => System::from_toml(&format!("preset {f}"), src, None),
        None => Err(unknown(name)),
    }
}

/// Looks up a PIM memory preset by name or alias.
pub fn find_pim(name: &str) -> Result<PimSpec, HwError> {
    match embedded(Kind::Pim, name) {
        Some((f, src)) => PimSpec::from_toml(&format!("preset {f}"), src),
        None => Err(unknown(name)),
    }
}

/// Every system preset, resolved.
pub fn systems() -> Result<Vec<System>, HwError> {
    SYSTEMS
        .iter()
        .map(|(f, src)| System::from_toml(&format!("preset {f}"), src, None))
        .collect()
}

/// Every PIM memory preset.
pub fn pims() -> Result<Vec<PimSpec>, HwError> {
    PIMS.iter()
        .map(|(f, src)| PimSpec::from_toml(&format!("preset {f}"), src))
        .collect()
}

/// A file path (rather than a preset name): it ends in `.toml` or exists.
fn is_file(name_or_path: &str) -> bool {
    name_or_path.ends_with(".toml") || xpusim_ir::memfs::is_file(Path::new(name_or_path))
}

fn read(path: &str) -> Result<String, HwError> {
    xpusim_ir::memfs::read_to_string(Path::new(path)).map_err(|e| HwError::Io {
        file: path.to_string(),
        msg: e.to_string(),
    })
}

/// What a hardware file describes, from its top-level keys.
fn kind_of(file: &str, src: &str) -> Result<Kind, HwError> {
    let t: toml::Table = crate::locate::parse(file, src)?;
    Ok(if t.contains_key("device") && t.contains_key("count") {
        Kind::System
    } else if t.contains_key("organization") {
        Kind::Pim
    } else {
        Kind::Device
    })
}

/// A device preset name/alias, or a path to a device TOML file.
pub fn load_device(name_or_path: &str) -> Result<DeviceSpec, HwError> {
    if is_file(name_or_path) {
        return DeviceSpec::from_toml(name_or_path, &read(name_or_path)?);
    }
    find_preset(name_or_path)
}

/// A system preset name/alias, or a system TOML path (its `device` path, if any, is
/// relative to the file).
pub fn load_system(name_or_path: &str) -> Result<System, HwError> {
    if is_file(name_or_path) {
        let src = read(name_or_path)?;
        return System::from_toml(name_or_path, &src, Path::new(name_or_path).parent());
    }
    find_system(name_or_path)
}

/// A PIM memory preset name/alias, or a PIM TOML path.
pub fn load_pim(name_or_path: &str) -> Result<PimSpec, HwError> {
    if is_file(name_or_path) {
        return PimSpec::from_toml(name_or_path, &read(name_or_path)?);
    }
    find_pim(name_or_path)
}

/// A device or a system, by preset name or alias or from a file of either kind: what
/// every command's `--hw` takes.
pub fn load_hardware(name_or_path: &str) -> Result<Hardware, HwError> {
    if is_file(name_or_path) {
        let src = read(name_or_path)?;
        return match kind_of(name_or_path, &src)? {
            Kind::System => Ok(Hardware::System(System::from_toml(
                name_or_path,
                &src,
                Path::new(name_or_path).parent(),
            )?)),
            Kind::Device => Ok(Hardware::Device(DeviceSpec::from_toml(name_or_path, &src)?)),
            Kind::Pim => Err(HwError::Parse {
                file: name_or_path.to_string(),
                msg: "is a PIM memory, not a device or system: attach it to a system's \
                      devices with a [pim] table"
                    .into(),
            }),
        };
    }
    if let Some((f, src)) = embedded(Kind::Device, name_or_path) {
        return Ok(Hardware::Device(DeviceSpec::from_toml(
            &format!("preset {f}"),
            src,
        )?));
    }
    if let Some((f, src)) = embedded(Kind::System, name_or_path) {
        return Ok(Hardware::System(System::from_toml(
            &format!("preset {f}"),
            src,
            None,
        )?));
    }
    if embedded(Kind::Pim, name_or_path).is_some() {
        return Err(HwError::Parse {
            file: name_or_path.to_string(),
            msg: "is a PIM memory, not a device or system: use a system that attaches it \
                  (`xpusim list systems`), or attach it to one with a [pim] table"
                .into(),
        });
    }
    Err(unknown(name_or_path))
}

/// The TOML text of a device, system or PIM preset (by name or alias) or of a hardware
/// file, with the name its errors give: what a program edits to make a variant (the Python
/// package's `hw_spec`). A system's `device` stays as written (a preset name or a path).
pub fn source(name_or_path: &str) -> Result<(String, String), HwError> {
    if is_file(name_or_path) {
        return Ok((name_or_path.to_string(), read(name_or_path)?));
    }
    for kind in [Kind::Device, Kind::System, Kind::Pim] {
        if let Some((f, src)) = embedded(kind, name_or_path) {
            return Ok((format!("preset {f}"), src.to_string()));
        }
    }
    Err(unknown(name_or_path))
}

/// Up to three of `known` closest to `want` (case-insensitive), best first, for "did you
/// mean" messages about presets of any kind (devices, systems, PIM memories): the one rule
/// of [`xpusim_ir::close_names`].
pub fn close_names(want: &str, known: &[String]) -> Vec<String> {
    xpusim_ir::close_names(want, known.iter().map(|n| (n.as_str(), n.as_str())))
}
