//! SCALE-Sim topology CSVs (`scalesim/topology_utils.py`).
//!
//! Two forms exist:
//! - conv: `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
//!   Num Filter, Strides,` (`load_arrays_conv`; the one stride is used for rows and columns; an
//!   optional ninth field is an `N:M` sparsity ratio);
//! - GEMM: `Layer name, M, N, K,` (`load_arrays_gemm`), which SCALE-Sim turns into an `M x K`
//!   ifmap convolved with `N` filters of `1 x K` and stride 1, so pixels = M, window = K and
//!   filters = N.
//!
//! Like SCALE-Sim, the first line is a header and blank lines are skipped; the trailing comma
//! is optional here.

use std::path::Path;

use serde::Serialize;

use crate::TopologyError;

/// Most layers one topology may expand to. SCALE-Sim splits a depthwise (`DP`) layer into one
/// layer per channel, so a file's layer count is its rows plus every depthwise layer's channels.
/// The topologies in `../shared/scalesim` expand to at most 34 layers; MobileNet-v2 written with
/// depthwise rows (17 of them, 32 to 960 channels) expands to about 7,200, a ninth of the cap.
/// Each expanded layer is simulated separately, so an unbounded count is a hang, not a bigger
/// answer.
pub const MAX_LAYERS: u64 = 1 << 16;

/// How a layer was written in its topology file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LayerKind {
    /// A convolution row.
    Conv,
    /// A GEMM `M,N,K` row.
    Gemm {
        /// Rows of the ifmap (output pixels).
        m: u64,
        /// Number of filters (output columns).
        n: u64,
        /// Reduction length (window).
        k: u64,
    },
}

/// One layer, in SCALE-Sim's convolution terms (batch is always 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// Layer name as written.
    pub name: String,
    /// How the layer was written.
    pub kind: LayerKind,
    /// IFMAP height.
    pub ifmap_h: u64,
    /// IFMAP width.
    pub ifmap_w: u64,
    /// Filter height.
    pub filter_h: u64,
    /// Filter width.
    pub filter_w: u64,
    /// Input channels.
    pub channels: u64,
    /// Number of filters (output channels).
    pub num_filters: u64,
    /// Stride along rows.
    pub stride_h: u64,
    /// Stride along columns.
    pub stride_w: u64,
}

/// Which form a topology file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopologyForm {
    /// Convolution rows.
    Conv,
    /// `M, N, K` rows.
    Gemm,
}

impl Layer {
    /// A convolution layer with a square stride. Fails when a size is zero, the filter is
    /// larger than the ifmap (SCALE-Sim asserts the same, `append_topo_arrays`) or the layer is
    /// too large to simulate.
    #[allow(clippy::too_many_arguments)]
    pub fn conv(
        name: &str,
        ifmap_h: u64,
        ifmap_w: u64,
        filter_h: u64,
        filter_w: u64,
        channels: u64,
        num_filters: u64,
        stride: u64,
    ) -> Result<Layer, &'static str> {
        let l = Layer {
            name: name.to_string(),
            kind: LayerKind::Conv,
            ifmap_h,
            ifmap_w,
            filter_h,
            filter_w,
            channels,
            num_filters,
            stride_h: stride,
            stride_w: stride,
        };
        l.validate().map(|()| l)
    }

    /// A GEMM layer as SCALE-Sim maps it: ifmap `M x K`, filter `1 x K`, `N` filters.
    pub fn gemm(name: &str, m: u64, n: u64, k: u64) -> Result<Layer, &'static str> {
        let l = Layer {
            name: name.to_string(),
            kind: LayerKind::Gemm { m, n, k },
            ifmap_h: m,
            ifmap_w: k,
            filter_h: 1,
            filter_w: k,
            channels: 1,
            num_filters: n,
            stride_h: 1,
            stride_w: 1,
        };
        l.validate().map(|()| l)
    }

    /// Checks what SCALE-Sim assumes of a layer (positive sizes, filter within the ifmap) and
    /// that it is small enough to simulate (32-bit operand addresses).
    pub fn validate(&self) -> Result<(), &'static str> {
        match self.check() {
            None => Ok(()),
            Some(why) => Err(why),
        }
    }

    fn check(&self) -> Option<&'static str> {
        let dims = [
            self.ifmap_h,
            self.ifmap_w,
            self.filter_h,
            self.filter_w,
            self.channels,
            self.num_filters,
            self.stride_h,
            self.stride_w,
        ];
        if dims.contains(&0) {
            return Some("all sizes and strides must be positive");
        }
        if dims.iter().any(|&d| d > 1 << 20) {
            return Some("layer is too large to simulate");
        }
        if self.filter_h > self.ifmap_h {
            return Some("filter height cannot be larger than IFMAP height");
        }
        if self.filter_w > self.ifmap_w {
            return Some("filter width cannot be larger than IFMAP width");
        }
        let macs = self
            .ofmap_pixels()
            .checked_mul(self.window())
            .and_then(|v| v.checked_mul(self.num_filters));
        let ifmap = self
            .ifmap_h
            .checked_mul(self.ifmap_w)
            .and_then(|v| v.checked_mul(self.channels));
        let filter = self.window().checked_mul(self.num_filters);
        let fits = |v: Option<u64>, max: u64| matches!(v, Some(x) if x <= max);
        let too_big = !fits(macs, 1 << 48)
            || !fits(ifmap, u32::MAX as u64 - 1)
            || !fits(filter, u32::MAX as u64 - 1);
        if too_big {
            return Some("layer is too large to simulate");
        }
        None
    }

    /// Output height: `ceil((H - F + s) / s)`, no padding (`topo_calc_hyperparams`).
    pub fn ofmap_h(&self) -> u64 {
        (self.ifmap_h - self.filter_h + self.stride_h).div_ceil(self.stride_h)
    }

    /// Output width: `ceil((W - F + s) / s)`.
    pub fn ofmap_w(&self) -> u64 {
        (self.ifmap_w - self.filter_w + self.stride_w).div_ceil(self.stride_w)
    }

    /// Output pixels per filter (rows of the ifmap operand matrix).
    pub fn ofmap_pixels(&self) -> u64 {
        self.ofmap_h() * self.ofmap_w()
    }

    /// Convolution window `Fh * Fw * C` (columns of the ifmap operand matrix).
    pub fn window(&self) -> u64 {
        self.filter_h * self.filter_w * self.channels
    }

    /// Multiply-accumulates: pixels x window x filters.
    pub fn num_macs(&self) -> u64 {
        self.ofmap_pixels() * self.window() * self.num_filters
    }
}

/// Reads a topology CSV, telling the GEMM form from its header (`M, N, K` columns).
pub fn load_topology(path: impl AsRef<Path>) -> Result<Vec<Layer>, TopologyError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_topology(&text, path, None)
}

fn split_fields(line: &str) -> Vec<&str> {
    let mut f: Vec<&str> = line.split(',').map(str::trim).collect();
    while f.last().is_some_and(|s| s.is_empty()) {
        f.pop();
    }
    f
}

/// Guesses the form from a header line: GEMM when its fields 2..4 are `M`, `N`, `K`.
pub fn detect_form(header: &str) -> TopologyForm {
    let f = split_fields(header);
    let is = |i: usize, s: &str| f.get(i).is_some_and(|v| v.eq_ignore_ascii_case(s));
    if is(1, "M") && is(2, "N") && is(3, "K") {
        TopologyForm::Gemm
    } else {
        TopologyForm::Conv
    }
}

/// Parses topology text; `form` forces a form, `None` detects it from the header.
/// `path` is only used in error messages.
pub fn parse_topology(
    text: &str,
    path: &Path,
    form: Option<TopologyForm>,
) -> Result<Vec<Layer>, TopologyError> {
    let mut lines = text.lines().enumerate();
    let header = loop {
        match lines.next() {
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((_, l)) => break l,
            None => {
                return Err(TopologyError::Empty {
                    path: path.to_path_buf(),
                })
            }
        }
    };
    let form = form.unwrap_or_else(|| detect_form(header));
    let mut layers = Vec::new();
    for (idx, raw) in lines {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let err = |message: String| TopologyError::Row {
            path: path.to_path_buf(),
            line: idx + 1,
            message,
        };
        let fields = split_fields(line);
        let (n_num, expected) = match form {
            TopologyForm::Conv => (
                7,
                "name, ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters, stride",
            ),
            TopologyForm::Gemm => (3, "name, M, N, K"),
        };
        if fields.len() < n_num + 1 {
            return Err(err(format!(
                "expected {} fields ({expected}), found {}: `{line}`",
                n_num + 1,
                fields.len()
            )));
        }
        if fields.len() > n_num + 2 {
            return Err(err(format!(
                "expected {} fields ({expected}[, N:M sparsity]), found {}: `{line}`",
                n_num + 1,
                fields.len()
            )));
        }
        let mut nums = Vec::with_capacity(n_num);
        for (i, f) in fields[1..=n_num].iter().enumerate() {
            let col = expected.split(", ").nth(i + 1).unwrap_or("value");
            match f.parse::<u64>() {
                Ok(v) if v > 0 => nums.push(v),
                _ => {
                    return Err(err(format!(
                        "field {} ({col}) = `{f}`: expected a positive integer",
                        i + 2
                    )))
                }
            }
        }
        if let Some(ratio) = fields.get(n_num + 1) {
            // Optional `N:M` sparsity ratio (`load_arrays_*`); parsed, not modelled.
            let ok = ratio.split_once(':').is_some_and(|(a, b)| {
                a.trim().parse::<u64>().is_ok() && b.trim().parse::<u64>().is_ok()
            });
            if !ok {
                return Err(err(format!(
                    "field {} = `{ratio}`: expected an N:M sparsity ratio",
                    n_num + 2
                )));
            }
        }
        let name = fields[0];
        let layer = match form {
            TopologyForm::Conv => Layer::conv(
                name, nums[0], nums[1], nums[2], nums[3], nums[4], nums[5], nums[6],
            ),
            TopologyForm::Gemm => Layer::gemm(name, nums[0], nums[1], nums[2]),
        };
        let layer = layer.map_err(|why| err(format!("layer `{name}`: {why}")))?;
        let depthwise = form == TopologyForm::Conv && name.contains("DP");
        let expanded = if depthwise { layer.channels } else { 1 };
        if layers.len() as u64 + expanded > MAX_LAYERS {
            return Err(err(format!(
                "layer `{name}` would take the topology past {MAX_LAYERS} layers{}",
                if depthwise {
                    format!(
                        " (a depthwise `DP` layer becomes one layer per channel: {expanded} here)"
                    )
                } else {
                    String::new()
                }
            )));
        }
        if depthwise {
            // load_arrays_conv: a layer whose name contains "DP" is depthwise and becomes one
            // single-channel layer per channel, named `<name>Channel_<i>`.
            for ch in 0..layer.channels {
                let mut l = layer.clone();
                l.name = format!("{name}Channel_{ch}");
                l.channels = 1;
                layers.push(l);
            }
        } else {
            layers.push(layer);
        }
    }
    if layers.is_empty() {
        return Err(TopologyError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(layers)
}
