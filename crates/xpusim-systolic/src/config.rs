//! SCALE-Sim `.cfg` parsing.
//!
//! SCALE-Sim reads its configuration with Python's `configparser` (`scalesim/scale_config.py`,
//! `read_conf_file`): `[section]` headers, `key = value` or `key : value` pairs split at the
//! first delimiter, case-insensitive keys, whole-line comments starting with `#` or `;`.
//! This module accepts the same syntax and reads the same keys.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::error::ConfigError;

/// Dataflow of the systolic array (`Dataflow` in `[architecture_presets]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Dataflow {
    /// Output stationary (`scalesim/compute/systolic_compute_os.py`).
    Os,
    /// Weight stationary (`scalesim/compute/systolic_compute_ws.py`).
    Ws,
    /// Input stationary (`scalesim/compute/systolic_compute_is.py`).
    Is,
}

impl Dataflow {
    /// Parses `os`, `ws` or `is` (case-insensitive).
    pub fn parse(s: &str) -> Option<Dataflow> {
        match s.trim().to_ascii_lowercase().as_str() {
            "os" => Some(Dataflow::Os),
            "ws" => Some(Dataflow::Ws),
            "is" => Some(Dataflow::Is),
            _ => None,
        }
    }
}

impl fmt::Display for Dataflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dataflow::Os => "os",
            Dataflow::Ws => "ws",
            Dataflow::Is => "is",
        })
    }
}

/// DRAM interface bandwidth mode (`InterfaceBandwidth` in `[run_presets]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum BandwidthMode {
    /// `CALC`: SCALE-Sim estimates the bandwidth needed for a stall-free run
    /// (`scalesim/memory/read_buffer_estimate_bw.py`); there are never read stalls.
    Calc,
    /// `USER`: the DRAM delivers a fixed number of words per cycle
    /// (`scalesim/memory/read_buffer.py`); the array stalls when data is late.
    User,
}

/// One systolic array with its three double-buffered SRAMs, as a SCALE-Sim `.cfg` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArrayConfig {
    /// `[general] run_name`.
    pub run_name: String,
    /// `ArrayHeight`: rows of processing elements.
    pub array_rows: u64,
    /// `ArrayWidth`: columns of processing elements.
    pub array_cols: u64,
    /// `IfmapSramSzkB`.
    pub ifmap_sram_kb: u64,
    /// `FilterSramSzkB`.
    pub filter_sram_kb: u64,
    /// `OfmapSramSzkB`.
    pub ofmap_sram_kb: u64,
    /// `IfmapOffset`: base address of the ifmap operand.
    pub ifmap_offset: u64,
    /// `FilterOffset`.
    pub filter_offset: u64,
    /// `OfmapOffset`.
    pub ofmap_offset: u64,
    /// `Bandwidth` (words/cycle); SCALE-Sim only reads it in USER mode, where its first value
    /// is the ofmap DRAM bandwidth (`single_layer_sim.py`: `ofmap_backing_bw = bws[0]`).
    pub bandwidth: Vec<u64>,
    /// `Dataflow`.
    pub dataflow: Dataflow,
    /// `MemoryBanks` (recorded; SCALE-Sim 3.0.0 does not use it for these runs).
    pub memory_banks: u64,
    /// `InterfaceBandwidth`.
    pub bandwidth_mode: BandwidthMode,
    /// `[layout] IfmapSRAMBankBandwidth`: the ifmap DRAM bandwidth in USER mode.
    pub ifmap_dram_bandwidth: u64,
    /// `[layout] FilterSRAMBankBandwidth`: the filter DRAM bandwidth in USER mode.
    pub filter_dram_bandwidth: u64,
    /// `[layout] IfmapCustomLayout` (custom layouts are not modelled).
    pub ifmap_custom_layout: bool,
    /// `[layout] FilterCustomLayout` (custom layouts are not modelled).
    pub filter_custom_layout: bool,
    /// `[sparsity] SparsitySupport` (sparsity is not modelled).
    pub sparsity_support: bool,
}

impl ArrayConfig {
    /// A dense CALC-mode array with SCALE-Sim's default offsets and 10 words/cycle.
    pub fn new(rows: u64, cols: u64, dataflow: Dataflow, sram_kb: [u64; 3]) -> ArrayConfig {
        ArrayConfig {
            run_name: String::new(),
            array_rows: rows,
            array_cols: cols,
            ifmap_sram_kb: sram_kb[0],
            filter_sram_kb: sram_kb[1],
            ofmap_sram_kb: sram_kb[2],
            ifmap_offset: 0,
            filter_offset: 10_000_000,
            ofmap_offset: 20_000_000,
            bandwidth: vec![10],
            dataflow,
            memory_banks: 1,
            bandwidth_mode: BandwidthMode::Calc,
            ifmap_dram_bandwidth: 10,
            filter_dram_bandwidth: 10,
            ifmap_custom_layout: false,
            filter_custom_layout: false,
            sparsity_support: false,
        }
    }

    /// The ofmap DRAM bandwidth in USER mode (first `Bandwidth` value, at least 1).
    pub fn ofmap_dram_bandwidth(&self) -> u64 {
        self.bandwidth.first().copied().unwrap_or(1).max(1)
    }
}

/// Reads and parses a SCALE-Sim `.cfg` file.
pub fn load_config(path: impl AsRef<Path>) -> Result<ArrayConfig, ConfigError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_config(&text, path)
}

struct Entry {
    line: usize,
    value: String,
}

struct Ini<'a> {
    path: &'a Path,
    sections: HashMap<String, (usize, HashMap<String, Entry>)>,
}

/// Largest array side accepted: 2¹⁶ PEs, 256× the 256-wide array of TPU v1 (Jouppi et al.,
/// ISCA 2017), the widest systolic array built. The replay keeps per-row and per-column
/// state, so a side of 2³² would ask for gigabytes.
pub const MAX_ARRAY_DIM: u64 = 1 << 16;

/// Largest SRAM buffer accepted, kB: 2²⁶ kB = 64 GiB, above the 44 GB of on-chip SRAM of a
/// whole wafer-scale engine (Cerebras WSE-3, 2024).
pub const MAX_SRAM_KB: u64 = 1 << 26;

/// Largest address offset accepted: a 48-bit address space (256 TiB), as x86-64 and
/// AArch64 use, so trace addresses (offset + element index) stay inside 64 bits.
pub const MAX_OFFSET: u64 = 1 << 48;

/// Largest per-cycle bandwidth or bank count accepted: 2²⁰ words per cycle (or banks), far
/// above any array's fill rate (one word per edge PE per cycle, at most 2 × 2¹⁶).
pub const MAX_WORDS_PER_CYCLE: u64 = 1 << 20;

/// The bound on a numeric key, so an absurd value is an error naming it, not an allocation
/// or an overflow deep in the replay.
fn limit(key: &str) -> u64 {
    match key {
        "ArrayHeight" | "ArrayWidth" => MAX_ARRAY_DIM,
        "IfmapSramSzkB" | "FilterSramSzkB" | "OfmapSramSzkB" => MAX_SRAM_KB,
        "IfmapOffset" | "FilterOffset" | "OfmapOffset" => MAX_OFFSET,
        _ => MAX_WORDS_PER_CYCLE,
    }
}

impl Ini<'_> {
    fn raw(&self, section: &str, key: &str) -> Result<&Entry, ConfigError> {
        let (_, keys) = self
            .sections
            .get(section)
            .ok_or_else(|| ConfigError::MissingSection {
                path: self.path.to_path_buf(),
                section: section.to_string(),
            })?;
        keys.get(&key.to_ascii_lowercase())
            .ok_or_else(|| ConfigError::MissingKey {
                path: self.path.to_path_buf(),
                line: self.sections.get(section).map_or(0, |s| s.0),
                section: section.to_string(),
                key: key.to_string(),
            })
    }

    fn opt(&self, section: &str, key: &str) -> Option<&Entry> {
        self.sections
            .get(section)
            .and_then(|(_, keys)| keys.get(&key.to_ascii_lowercase()))
    }

    fn invalid(&self, e: &Entry, key: &str, expected: &str) -> ConfigError {
        ConfigError::InvalidValue {
            path: self.path.to_path_buf(),
            line: e.line,
            key: key.to_string(),
            value: e.value.clone(),
            expected: expected.to_string(),
        }
    }

    fn uint(&self, section: &str, key: &str) -> Result<u64, ConfigError> {
        let e = self.raw(section, key)?;
        let max = limit(key);
        match e.value.trim().parse::<u64>() {
            Ok(v) if v <= max => Ok(v),
            _ => Err(self.invalid(e, key, &format!("an integer from 0 to {max}"))),
        }
    }

    fn positive(&self, section: &str, key: &str) -> Result<u64, ConfigError> {
        let e = self.raw(section, key)?;
        let max = limit(key);
        match e.value.trim().parse::<u64>() {
            Ok(v) if (1..=max).contains(&v) => Ok(v),
            _ => Err(self.invalid(e, key, &format!("an integer from 1 to {max}"))),
        }
    }

    fn positive_or(&self, section: &str, key: &str, default: u64) -> Result<u64, ConfigError> {
        match self.opt(section, key) {
            None => Ok(default),
            Some(_) => self.positive(section, key),
        }
    }

    fn boolean_or(&self, section: &str, key: &str, default: bool) -> Result<bool, ConfigError> {
        let Some(e) = self.opt(section, key) else {
            return Ok(default);
        };
        // configparser.getboolean accepts these spellings.
        match e.value.trim().to_ascii_lowercase().as_str() {
            "1" | "yes" | "true" | "on" => Ok(true),
            "0" | "no" | "false" | "off" => Ok(false),
            _ => Err(self.invalid(e, key, "a boolean (true/false)")),
        }
    }
}

fn parse_ini<'a>(text: &str, path: &'a Path) -> Result<Ini<'a>, ConfigError> {
    let mut ini = Ini {
        path,
        sections: HashMap::new(),
    };
    let mut current: Option<String> = None;
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest.strip_suffix(']').ok_or_else(|| ConfigError::Syntax {
                path: path.to_path_buf(),
                line: line_no,
                message: format!("section header `{line}` lacks a closing `]`"),
            })?;
            let name = name.trim().to_string();
            // configparser is strict by default: a repeated section is an error.
            if let Some((first, _)) = ini.sections.get(&name) {
                return Err(ConfigError::Syntax {
                    path: path.to_path_buf(),
                    line: line_no,
                    message: format!("duplicate section [{name}] (first at line {first})"),
                });
            }
            ini.sections.insert(name.clone(), (line_no, HashMap::new()));
            current = Some(name);
            continue;
        }
        let Some(section) = current.as_ref() else {
            return Err(ConfigError::Syntax {
                path: path.to_path_buf(),
                line: line_no,
                message: format!("`{line}` appears before any [section] header"),
            });
        };
        let split = line.find(['=', ':']).ok_or_else(|| ConfigError::Syntax {
            path: path.to_path_buf(),
            line: line_no,
            message: format!("expected `key = value` or `key: value`, found `{line}`"),
        })?;
        let key = line[..split].trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err(ConfigError::Syntax {
                path: path.to_path_buf(),
                line: line_no,
                message: format!("empty key in `{line}`"),
            });
        }
        let value = line[split + 1..].trim().to_string();
        if let Some((_, keys)) = ini.sections.get_mut(section) {
            if let Some(first) = keys.get(&key) {
                return Err(ConfigError::Syntax {
                    path: path.to_path_buf(),
                    line: line_no,
                    message: format!(
                        "duplicate key `{key}` in [{section}] (first at line {})",
                        first.line
                    ),
                });
            }
            keys.insert(
                key,
                Entry {
                    line: line_no,
                    value,
                },
            );
        }
    }
    Ok(ini)
}

/// Parses the text of a SCALE-Sim `.cfg`; `path` is only used in error messages.
pub fn parse_config(text: &str, path: &Path) -> Result<ArrayConfig, ConfigError> {
    let ini = parse_ini(text, path)?;
    let run_name = ini.raw("general", "run_name")?.value.clone();

    let mode_entry = ini.raw("run_presets", "InterfaceBandwidth")?;
    let bandwidth_mode = match mode_entry.value.trim() {
        "USER" => BandwidthMode::User,
        "CALC" => BandwidthMode::Calc,
        _ => return Err(ini.invalid(mode_entry, "InterfaceBandwidth", "USER or CALC")),
    };

    const ARCH: &str = "architecture_presets";
    let df_entry = ini.raw(ARCH, "Dataflow")?;
    let dataflow = Dataflow::parse(&df_entry.value)
        .ok_or_else(|| ini.invalid(df_entry, "Dataflow", "os, ws or is"))?;

    // `Bandwidth` is a comma-separated list; SCALE-Sim only parses it in USER mode.
    let bandwidth = match ini.opt(ARCH, "Bandwidth") {
        None => {
            if bandwidth_mode == BandwidthMode::User {
                ini.raw(ARCH, "Bandwidth")?;
            }
            vec![10]
        }
        Some(e) => {
            let parsed: Option<Vec<u64>> = e
                .value
                .split(',')
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|&b| (1..=MAX_WORDS_PER_CYCLE).contains(&b))
                })
                .collect();
            match parsed {
                Some(v) if !v.is_empty() => v,
                _ => {
                    return Err(ini.invalid(
                        e,
                        "Bandwidth",
                        &format!("comma-separated integers from 1 to {MAX_WORDS_PER_CYCLE}"),
                    ));
                }
            }
        }
    };
    let default_bw = bandwidth.first().copied().unwrap_or(10);

    Ok(ArrayConfig {
        run_name,
        array_rows: ini.positive(ARCH, "ArrayHeight")?,
        array_cols: ini.positive(ARCH, "ArrayWidth")?,
        ifmap_sram_kb: ini.positive(ARCH, "IfmapSramSzkB")?,
        filter_sram_kb: ini.positive(ARCH, "FilterSramSzkB")?,
        ofmap_sram_kb: ini.positive(ARCH, "OfmapSramSzkB")?,
        ifmap_offset: ini.uint(ARCH, "IfmapOffset")?,
        filter_offset: ini.uint(ARCH, "FilterOffset")?,
        ofmap_offset: ini.uint(ARCH, "OfmapOffset")?,
        bandwidth,
        dataflow,
        memory_banks: ini.positive_or(ARCH, "MemoryBanks", 1)?,
        bandwidth_mode,
        ifmap_dram_bandwidth: ini.positive_or("layout", "IfmapSRAMBankBandwidth", default_bw)?,
        filter_dram_bandwidth: ini.positive_or("layout", "FilterSRAMBankBandwidth", default_bw)?,
        ifmap_custom_layout: ini.boolean_or("layout", "IfmapCustomLayout", false)?,
        filter_custom_layout: ini.boolean_or("layout", "FilterCustomLayout", false)?,
        sparsity_support: ini.boolean_or("sparsity", "SparsitySupport", false)?,
    })
}
