//! Parameter axes: a path into the device TOML and the values it takes.
//!
//! Paths are dotted keys with array indices, as the device file is written:
//! `cores`, `clock_ghz`, `matrix.peak_tflops.bf16`, `matrix.tile`, `memory[2].bandwidth_gbps`.
//! Values are written in place of the base device's value, with integers and floats
//! coerced to the type the base uses (a range of `cores` yields integers).

use serde::Deserialize;
use toml::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Idx(usize),
}

/// A parsed path such as `memory[2].bandwidth_gbps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub text: String,
    pub segs: Vec<Seg>,
}

impl Path {
    pub fn parse(text: &str) -> Result<Path, String> {
        let mut segs = Vec::new();
        for part in text.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
            if key.is_empty() || !key.chars().all(ok) {
                return Err(format!(
                    "bad path segment `{part}` (expected key or key[index])"
                ));
            }
            segs.push(Seg::Key(key.to_string()));
            while !rest.is_empty() {
                let close = rest
                    .find(']')
                    .ok_or_else(|| format!("unclosed `[` in `{part}`"))?;
                let idx = rest[1..close]
                    .parse::<usize>()
                    .map_err(|_| format!("bad index `{}` in `{part}`", &rest[1..close]))?;
                segs.push(Seg::Idx(idx));
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(format!("unexpected `{rest}` in `{part}`"));
                }
            }
        }
        Ok(Path {
            text: text.to_string(),
            segs,
        })
    }

    /// The value at this path, if there is one.
    pub fn get<'v>(&self, doc: &'v Value) -> Option<&'v Value> {
        let mut cur = doc;
        for seg in &self.segs {
            cur = match seg {
                Seg::Key(k) => cur.as_table()?.get(k)?,
                Seg::Idx(n) => cur.as_array()?.get(*n)?,
            };
        }
        Some(cur)
    }

    /// Writes `new` at this path. Every parent must exist; the leaf may be new only in a
    /// table (a format the base lacks, e.g. `matrix.peak_tflops.fp8`) — an unknown field
    /// is then rejected by the device schema.
    pub fn set(&self, doc: &mut Value, new: &Value) -> Result<(), String> {
        let mut cur = doc;
        let last = self.segs.len().saturating_sub(1);
        for (i, seg) in self.segs.iter().enumerate() {
            let leaf = i == last;
            cur = match seg {
                Seg::Key(k) => {
                    let t = cur
                        .as_table_mut()
                        .ok_or_else(|| format!("`{k}` is not inside a table"))?;
                    if leaf {
                        let v = coerce(t.get(k), new);
                        t.insert(k.clone(), v);
                        return Ok(());
                    }
                    // A system base keeps its device's fields under `device.`.
                    let system = i == 0 && t.contains_key("device") && t.contains_key("count");
                    let path = &self.text;
                    t.get_mut(k).ok_or_else(|| {
                        let hint = if system {
                            format!(
                                "; a system's device fields are under `device.` (`device.{path}`)"
                            )
                        } else {
                            String::new()
                        };
                        format!("the base has no `{k}`{hint}")
                    })?
                }
                Seg::Idx(n) => {
                    let a = cur
                        .as_array_mut()
                        .ok_or_else(|| format!("[{n}] indexes something that is not an array"))?;
                    let len = a.len();
                    let slot = a
                        .get_mut(*n)
                        .ok_or_else(|| format!("index {n} out of range (the base has {len})"))?;
                    if leaf {
                        *slot = coerce(Some(slot), new);
                        return Ok(());
                    }
                    slot
                }
            };
        }
        Err("empty path".into())
    }
}

/// Integers where the base has an integer (ranges over integer fields are rounded to the
/// nearest whole number), floats where it has a float.
pub(crate) fn coerce(old: Option<&Value>, new: &Value) -> Value {
    match (old, new) {
        (Some(Value::Integer(_)), Value::Float(f)) if f.is_finite() && f.abs() < 9.0e15 => {
            Value::Integer(f.round() as i64)
        }
        (Some(Value::Float(_)), Value::Integer(i)) => Value::Float(*i as f64),
        _ => new.clone(),
    }
}

/// An axis as written in the sweep spec.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisSpec {
    pub path: String,
    pub values: Option<Vec<Value>>,
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub steps: Option<u64>,
    /// "linear" (default) or "log".
    pub scale: Option<String>,
}

/// A resolved axis.
#[derive(Debug, Clone)]
pub struct Axis {
    pub path: Path,
    pub values: Vec<Value>,
}

impl AxisSpec {
    pub fn resolve(&self) -> Result<Axis, String> {
        let path = Path::parse(&self.path)?;
        let values = match (&self.values, self.from, self.to, self.steps) {
            (Some(v), None, None, None) => v.clone(),
            (None, Some(from), Some(to), Some(steps)) => {
                range(from, to, steps, self.scale.as_deref())?
            }
            _ => return Err("give either `values = [...]` or `from`, `to` and `steps`".into()),
        };
        if values.is_empty() {
            return Err("no values".into());
        }
        if values.len() as u64 > MAX_AXIS_VALUES {
            return Err(format!(
                "{} values: expected at most {MAX_AXIS_VALUES} on one axis",
                values.len()
            ));
        }
        Ok(Axis { path, values })
    }
}

/// Most values on one axis. Each value is checked against the hardware schema when the
/// spec loads, and a million-point design space is ~100 values on each of three axes, so
/// 10,000 on one axis is far beyond any real sweep while loading stays under a second.
pub const MAX_AXIS_VALUES: u64 = 10_000;

fn range(from: f64, to: f64, steps: u64, scale: Option<&str>) -> Result<Vec<Value>, String> {
    if steps == 0 || !from.is_finite() || !to.is_finite() {
        return Err("expected finite from/to and steps ≥ 1".into());
    }
    if steps > MAX_AXIS_VALUES {
        return Err(format!(
            "steps = {steps}: expected at most {MAX_AXIS_VALUES} values on one axis"
        ));
    }
    let log = match scale.unwrap_or("linear") {
        "linear" => false,
        "log" if from > 0.0 && to > 0.0 => true,
        "log" => return Err("a log scale needs from > 0 and to > 0".into()),
        s => return Err(format!("unknown scale `{s}` (expected linear or log)")),
    };
    let n = steps as f64 - 1.0;
    Ok((0..steps)
        .map(|i| {
            let t = if n > 0.0 { i as f64 / n } else { 0.0 };
            let v = if log {
                (from.ln() + t * (to.ln() - from.ln())).exp()
            } else {
                from + t * (to - from)
            };
            // Endpoints exactly as written; interior points rounded to 12 significant digits
            // so that printed values are stable.
            let v = if i == 0 {
                from
            } else if i + 1 == steps {
                to
            } else {
                round12(v)
            };
            Value::Float(v)
        })
        .collect())
}

fn round12(v: f64) -> f64 {
    if v == 0.0 {
        return v;
    }
    let mag = 10f64.powi(11 - v.abs().log10().floor() as i32);
    (v * mag).round() / mag
}

/// A value as it appears in a results column (inline TOML; numbers plain).
pub fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_set() {
        let mut doc: Value = toml::from_str(
            "cores = 8\nclock_ghz = 1.0\n[[memory]]\nbandwidth_gbps = 1.0\n[[memory]]\nbandwidth_gbps = 2.0\n",
        )
        .unwrap();
        Path::parse("memory[1].bandwidth_gbps")
            .unwrap()
            .set(&mut doc, &Value::Integer(5))
            .unwrap();
        assert_eq!(doc["memory"][1]["bandwidth_gbps"], Value::Float(5.0));
        Path::parse("cores")
            .unwrap()
            .set(&mut doc, &Value::Float(16.0))
            .unwrap();
        assert_eq!(doc["cores"], Value::Integer(16));
        let e = Path::parse("memory[5].x")
            .unwrap()
            .set(&mut doc, &Value::Integer(1))
            .unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = Path::parse("nothing.x")
            .unwrap()
            .set(&mut doc, &Value::Integer(1))
            .unwrap_err();
        assert!(e.contains("no `nothing`"), "{e}");
        assert!(Path::parse("a..b").is_err());
        assert!(Path::parse("a[x]").is_err());
    }

    #[test]
    fn ranges_hit_their_endpoints() {
        let v = range(1000.0, 8000.0, 8, None).unwrap();
        assert_eq!(v.len(), 8);
        assert_eq!(v[0], Value::Float(1000.0));
        assert_eq!(v[1], Value::Float(2000.0));
        assert_eq!(v[7], Value::Float(8000.0));
        let l = range(1.0, 100.0, 3, Some("log")).unwrap();
        assert_eq!(l[1], Value::Float(10.0));
        assert!(range(0.0, 1.0, 3, Some("log")).is_err());
        assert!(range(0.0, 1.0, 0, None).is_err());
    }
}
