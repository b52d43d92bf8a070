use thiserror::Error;

/// Errors from turning a device into the mapper's view.
#[derive(Debug, Error)]
pub enum ArchError {
    /// Loading the device failed (parse, validation with file:line:field, I/O).
    #[error(transparent)]
    Device(#[from] xpusim_hw::HwError),
    #[error("{path}: field `{field}`: {msg}")]
    Invalid {
        path: String,
        field: String,
        msg: String,
    },
    #[error(
        "device `{device}` has no [array] section, which the NPU mapping search needs; \
         devices with one: {known}"
    )]
    NoArray { device: String, known: String },
    #[error("unknown NPU architecture `{name}`{}; devices with an [array] section: {known}", suggest(.suggestions))]
    Unknown {
        name: String,
        suggestions: Vec<String>,
        known: String,
    },
}

fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(" or "))
    }
}

/// Errors from the mapping search.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum MapperError {
    /// Even the smallest legal tile (one array fold, one temporal step), double-buffered,
    /// does not fit in a memory level.
    #[error(
        "op `{op}`: the smallest legal tile does not fit in `{level}`: needs {need_bytes} B \
         (double-buffered) but the capacity is {capacity_bytes} B"
    )]
    TileDoesNotFit {
        op: String,
        level: String,
        capacity_bytes: u64,
        need_bytes: u64,
    },
    #[error("op `{op}`: loop nest has {inputs} input operands; the mapper needs exactly two")]
    UnsupportedNest { op: String, inputs: usize },
    #[error("op `{op}`: no supported dataflow of `{arch}` applies")]
    NoDataflow { op: String, arch: String },
}
