//! The parallel layout of one evaluation.

use std::fmt;

use serde::Serialize;

use crate::SystemError;

/// Degrees of parallelism. A replica spans `tp·pp` devices; `ep` spreads MoE experts over
/// `ep` devices of the tensor-parallel group; `dp` replicas run independent batches;
/// `microbatches` split each replica's batch for the pipeline; `sp` adds Megatron's
/// sequence parallelism to tensor parallelism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Parallelism {
    pub tp: u64,
    pub pp: u64,
    pub ep: u64,
    pub dp: u64,
    pub microbatches: u64,
    /// Sequence parallelism (Korthikanti et al. 2022, §4.2.2): the work outside the
    /// tensor-parallel blocks (norms, residual adds, dropout) splits over the sequence, and
    /// each all-reduce becomes a reduce-scatter into it and an all-gather out of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sp: bool,
}

impl Default for Parallelism {
    fn default() -> Self {
        Parallelism {
            tp: 1,
            pp: 1,
            ep: 1,
            dp: 1,
            microbatches: 1,
            sp: false,
        }
    }
}

impl Parallelism {
    pub fn tp(tp: u64) -> Parallelism {
        Parallelism {
            tp,
            ..Default::default()
        }
    }

    /// Devices the layout occupies.
    pub fn devices(&self) -> u64 {
        self.tp.saturating_mul(self.pp).saturating_mul(self.dp)
    }

    pub fn check(&self) -> Result<(), SystemError> {
        for (n, v) in [
            ("tp", self.tp),
            ("pp", self.pp),
            ("ep", self.ep),
            ("dp", self.dp),
            ("microbatches", self.microbatches),
        ] {
            if v == 0 {
                return Err(SystemError::Layout {
                    layout: self.to_string(),
                    msg: format!("{n} must be at least 1"),
                });
            }
        }
        Ok(())
    }
}

impl fmt::Display for Parallelism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tp={} pp={} ep={} dp={} microbatches={}{}",
            self.tp,
            self.pp,
            self.ep,
            self.dp,
            self.microbatches,
            if self.sp { " sp" } else { "" }
        )
    }
}
