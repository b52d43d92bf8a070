//! A node being imported: its resolved input values and typed attribute access.

use crate::error::{NResult, NodeErr};
use crate::proto::{AttributeProto, GraphProto, NodeProto};
use crate::value::Val;

/// One node with its input values (None for omitted optional inputs).
pub(crate) struct Node<'a> {
    pub p: &'a NodeProto,
    pub ins: Vec<Option<Val>>,
    /// Opset version of the node's domain.
    pub opset: i64,
    /// Display name: the node's name, or `op_type(first output)` when unnamed.
    pub name: String,
}

impl<'a> Node<'a> {
    pub fn op(&self) -> &str {
        &self.p.op_type
    }

    /// Required input `i`.
    pub fn x(&self, i: usize) -> NResult<&Val> {
        self.opt(i)
            .ok_or_else(|| NodeErr::msg(format!("missing required input #{i}")))
    }

    pub fn opt(&self, i: usize) -> Option<&Val> {
        self.ins.get(i).and_then(|v| v.as_ref())
    }

    pub fn in_name(&self, i: usize) -> &str {
        self.p.input.get(i).map(String::as_str).unwrap_or("")
    }

    pub fn out_name(&self, i: usize) -> &str {
        self.p.output.get(i).map(String::as_str).unwrap_or("")
    }

    /// Integer contents of input `i` if present; an error if present but not constant.
    pub fn const_ints(&self, i: usize) -> NResult<Option<Vec<i64>>> {
        match self.opt(i) {
            None => Ok(None),
            Some(v) => v.ints().map(Some).ok_or_else(|| {
                NodeErr::msg(format!(
                    "input `{}` must be known at import time (it is computed at run time)",
                    self.in_name(i)
                ))
            }),
        }
    }

    /// Float contents of input `i` if present; an error if present but not constant.
    pub fn const_floats(&self, i: usize) -> NResult<Option<Vec<f64>>> {
        match self.opt(i) {
            None => Ok(None),
            Some(v) => v.data.clone().map(Some).ok_or_else(|| {
                NodeErr::msg(format!(
                    "input `{}` must be known at import time (it is computed at run time)",
                    self.in_name(i)
                ))
            }),
        }
    }

    pub fn attr(&self, name: &str) -> Option<&'a AttributeProto> {
        self.p.attribute.iter().find(|a| a.name == name)
    }

    pub fn ai(&self, name: &str, default: i64) -> i64 {
        self.attr(name).map(|a| a.i).unwrap_or(default)
    }

    pub fn af(&self, name: &str, default: f32) -> f32 {
        self.attr(name).map(|a| a.f).unwrap_or(default)
    }

    pub fn astr(&self, name: &str, default: &str) -> String {
        self.attr(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
            .unwrap_or_else(|| default.to_string())
    }

    pub fn aints(&self, name: &str) -> Option<Vec<i64>> {
        self.attr(name).map(|a| a.ints.clone())
    }

    pub fn afloats(&self, name: &str) -> Option<Vec<f32>> {
        self.attr(name).map(|a| a.floats.clone())
    }

    pub fn agraph(&self, name: &str) -> NResult<&'a GraphProto> {
        self.attr(name)
            .and_then(|a| a.g.as_ref())
            .ok_or_else(|| NodeErr::attr(name, "missing graph attribute"))
    }

    /// Non-negative integer list attribute as u64 (at most 2^32: strides, pads, kernels).
    pub fn aus(&self, name: &str) -> NResult<Option<Vec<u64>>> {
        match self.aints(name) {
            None => Ok(None),
            Some(v) => v
                .iter()
                .map(|&x| {
                    u64::try_from(x).map_err(|_| NodeErr::attr(name, format!("negative value {x}")))
                })
                .collect::<NResult<Vec<u64>>>()
                .map(Some),
        }
    }
}
