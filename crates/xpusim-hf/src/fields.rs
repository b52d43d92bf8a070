//! Typed access to `config.json` fields with one-line errors naming file and field.

use serde_json::{Map, Value};

use xpusim_models::MAX_DIM;

use crate::HfError;

/// A parsed config object plus the file it came from (for error messages).
pub(crate) struct Fields<'a> {
    pub obj: &'a Map<String, Value>,
    pub file: &'a str,
}

impl<'a> Fields<'a> {
    pub fn new(obj: &'a Map<String, Value>, file: &'a str) -> Fields<'a> {
        Fields { obj, file }
    }

    /// The first present, non-null key among `keys`.
    fn get(&self, keys: &[&str]) -> Option<(&'a str, &'a Value)> {
        keys.iter().find_map(|k| {
            self.obj
                .get_key_value(*k)
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.as_str(), v))
        })
    }

    fn invalid(&self, field: &str, msg: String) -> HfError {
        HfError::InvalidField {
            file: self.file.to_string(),
            field: field.to_string(),
            msg,
        }
    }

    /// An integer in `0..=MAX_DIM` (larger values are no real model and would overflow
    /// later size arithmetic).
    fn as_u64(&self, key: &str, v: &Value) -> Result<u64, HfError> {
        let n = self.as_any_u64(key, v)?;
        if n > MAX_DIM {
            return Err(self.invalid(
                key,
                format!("= {n} exceeds the {MAX_DIM} limit on a model dimension"),
            ));
        }
        Ok(n)
    }

    fn as_any_u64(&self, key: &str, v: &Value) -> Result<u64, HfError> {
        match v {
            Value::Number(n) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                        .map(|f| f as u64)
                })
                .ok_or_else(|| {
                    self.invalid(key, format!("expected a non-negative integer, got {n}"))
                }),
            other => Err(self.invalid(key, format!("expected an integer, got {other}"))),
        }
    }

    /// A required integer under any of `keys` (the first is named in the error).
    pub fn req(&self, keys: &[&str]) -> Result<u64, HfError> {
        match self.get(keys) {
            Some((k, v)) => self.as_u64(k, v),
            None => Err(HfError::MissingField {
                file: self.file.to_string(),
                field: keys.join("` or `"),
            }),
        }
    }

    /// An optional integer (absent or null → `default`).
    pub fn opt(&self, keys: &[&str], default: u64) -> Result<u64, HfError> {
        match self.get(keys) {
            Some((k, v)) => self.as_u64(k, v),
            None => Ok(default),
        }
    }

    /// An optional integer, None when absent or null.
    pub fn maybe(&self, keys: &[&str]) -> Result<Option<u64>, HfError> {
        self.get(keys).map(|(k, v)| self.as_u64(k, v)).transpose()
    }

    pub fn flag(&self, keys: &[&str], default: bool) -> Result<bool, HfError> {
        match self.get(keys) {
            Some((_, Value::Bool(b))) => Ok(*b),
            Some((k, other)) => {
                Err(self.invalid(k, format!("expected true or false, got {other}")))
            }
            None => Ok(default),
        }
    }

    pub fn string(&self, keys: &[&str]) -> Result<Option<&'a str>, HfError> {
        match self.get(keys) {
            Some((_, Value::String(s))) => Ok(Some(s.as_str())),
            Some((k, other)) => Err(self.invalid(k, format!("expected a string, got {other}"))),
            None => Ok(None),
        }
    }

    /// A list of integers (e.g. Qwen-MoE `mlp_only_layers`); absent → empty.
    pub fn list(&self, key: &str) -> Result<Vec<u64>, HfError> {
        match self.get(&[key]) {
            None => Ok(Vec::new()),
            Some((k, Value::Array(a))) => a.iter().map(|v| self.as_u64(k, v)).collect(),
            Some((k, other)) => {
                Err(self.invalid(k, format!("expected a list of integers, got {other}")))
            }
        }
    }

    /// A nested object (e.g. `rope_scaling`, `ssm_cfg`); absent or null → None.
    pub fn object(&self, key: &str) -> Result<Option<Fields<'a>>, HfError> {
        match self.get(&[key]) {
            None => Ok(None),
            Some((_, Value::Object(o))) => Ok(Some(Fields::new(o, self.file))),
            Some((k, other)) => Err(self.invalid(k, format!("expected an object, got {other}"))),
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(&[key]).is_some()
    }

    /// A required positive integer.
    pub fn req_pos(&self, keys: &[&str]) -> Result<u64, HfError> {
        let v = self.req(keys)?;
        if v == 0 {
            return Err(self.invalid(keys[0], "must be at least 1".into()));
        }
        Ok(v)
    }

    pub fn err(&self, field: &str, msg: impl Into<String>) -> HfError {
        self.invalid(field, msg.into())
    }
}
