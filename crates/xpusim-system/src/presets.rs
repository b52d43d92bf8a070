//! Systems embedded in the binary; `--system` takes a preset name, an alias or a file path.

use std::path::Path;

use crate::{System, SystemError, SystemSpec};

/// (file name, TOML text) of every built-in system whose device preset exists.
pub const PRESETS: &[(&str, &str)] = &[
    ("dgx-a100.toml", include_str!("../presets/dgx-a100.toml")),
    ("dgx-h100.toml", include_str!("../presets/dgx-h100.toml")),
    ("hgx-h200.toml", include_str!("../presets/hgx-h200.toml")),
    ("tpu-v5e-8.toml", include_str!("../presets/tpu-v5e-8.toml")),
    ("mi300x-8.toml", include_str!("../presets/mi300x-8.toml")),
];

/// Names of all presets, in catalogue order.
pub fn preset_names() -> Vec<String> {
    PRESETS
        .iter()
        .filter_map(|(f, src)| SystemSpec::from_toml(f, src).ok().map(|s| s.name))
        .collect()
}

/// Every preset with its device resolved.
pub fn presets() -> Result<Vec<System>, SystemError> {
    PRESETS
        .iter()
        .map(|(f, src)| System::from_toml(&format!("preset {f}"), src, None))
        .collect()
}

/// Looks up a preset by name or alias (case-insensitive).
pub fn find_system(name: &str) -> Result<System, SystemError> {
    let want = name.trim().to_ascii_lowercase();
    let mut all = Vec::new();
    for (file, src) in PRESETS {
        let file = format!("preset {file}");
        let s = SystemSpec::from_toml(&file, src)?;
        if s.name == want || s.aliases.iter().any(|a| a.eq_ignore_ascii_case(&want)) {
            return System::from_toml(&file, src, None);
        }
        all.push(s.name.clone());
        all.extend(s.aliases.iter().cloned());
    }
    Err(SystemError::Unknown {
        name: name.to_string(),
        suggestions: xpusim_hw::close_names(&want, &all),
    })
}

/// A preset name/alias, or a path to a system TOML file (its `device` path, if any, is
/// relative to the file).
pub fn load_system(name_or_path: &str) -> Result<System, SystemError> {
    let p = Path::new(name_or_path);
    if name_or_path.ends_with(".toml") || p.is_file() {
        let src = std::fs::read_to_string(p).map_err(|e| SystemError::Io {
            file: name_or_path.to_string(),
            msg: e.to_string(),
        })?;
        return System::from_toml(name_or_path, &src, p.parent());
    }
    find_system(name_or_path)
}
