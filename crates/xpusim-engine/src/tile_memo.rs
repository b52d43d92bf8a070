//! Memo of contraction tile searches, keyed on exactly what the search reads.
//!
//! A contraction's tile search has two halves. The geometry half (which tiles fit the core
//! buffer, the waves each takes over the cores, the bytes each moves through the chip
//! buffer and from off-chip memory) reads the op's shape (its kind's spec, from which its
//! loop nests come), its operands' storage and roles, and five fields of the device:
//! matrix tile, cores, core cluster, core-buffer capacity and chip-buffer capacity. The
//! timing half reads the rates (peaks, clocks, bandwidths, energies, power). A design sweep
//! over rates therefore repeats identical geometry searches; this memo answers them from
//! the first.
//!
//! The key is those inputs themselves (a derived `Eq`, so a field added to an op's spec is
//! part of it without anyone remembering to add it), not a hash of them: a hit is the same
//! search, and results are bit for bit those of an unmemoised run (tested). The memo is per
//! thread (no locks on the hot path) and keeps two generations of at most `GENERATION`
//! entries: when the current one fills it becomes the previous one, and an entry found
//! there moves back, so a sweep's working set stays while old shapes age out.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ahash::AHashMap as HashMap;
use xpusim_hw::DeviceSpec;
use xpusim_ir::{ConvSpec, MatmulSpec, Op, OpKind, RecurrentSpec, Role};

use crate::contraction::Plans;

/// Entries per generation. A sweep point of the era suite searches a few hundred distinct
/// (shape, geometry) pairs; this holds the pairs of dozens of geometries.
pub(crate) const GENERATION: usize = 8192;

/// The shape of a contraction op: its loop nests are a function of this alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Shape {
    Matmul(MatmulSpec),
    Conv(ConvSpec),
    Recurrent(RecurrentSpec),
}

/// How one operand is stored: what `storage_bytes` and the weight-residency rule read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Storage {
    bits: u64,
    group: u64,
    weight: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    shape: Shape,
    operands: Vec<Storage>,
    tile: [u64; 3],
    cores: u64,
    core_cluster: u64,
    core_buffer_bytes: Option<u64>,
    chip_buffer_bytes: Option<u64>,
}

impl Key {
    fn of(op: &Op, dev: &DeviceSpec) -> Option<Key> {
        let shape = match &op.kind {
            OpKind::Matmul(m) => Shape::Matmul(*m),
            OpKind::Conv(c) => Shape::Conv(*c),
            OpKind::Recurrent(r) => Shape::Recurrent(*r),
            _ => return None,
        };
        Some(Key {
            shape,
            operands: op
                .operands
                .iter()
                .map(|o| Storage {
                    bits: o.dtype.bits(),
                    group: o.group,
                    weight: o.role == Role::Weight,
                })
                .collect(),
            tile: dev.matrix.tile,
            cores: dev.cores,
            core_cluster: dev.core_cluster,
            core_buffer_bytes: dev.core_buffer().map(|l| l.capacity_bytes),
            chip_buffer_bytes: dev.chip_buffer().map(|l| l.capacity_bytes),
        })
    }
}

struct Memo {
    current: HashMap<Key, Rc<Vec<Plans>>>,
    previous: HashMap<Key, Rc<Vec<Plans>>>,
}

thread_local! {
    static PLANS: RefCell<Memo> = RefCell::new(Memo {
        current: HashMap::new(),
        previous: HashMap::new(),
    });
    static ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Turns the memo, and the pruning of dominated tile candidates it relies on to stay small,
/// off (or back on) for this thread: the exhaustive search that tests compare against.
pub fn set_enabled(on: bool) {
    ENABLED.with(|e| e.set(on));
}

pub(crate) fn enabled() -> bool {
    ENABLED.with(Cell::get)
}

/// The geometry of every contraction of `op` on `dev`: from the memo, or computed by
/// `search` and remembered. Ops that are not contractions are not memoised.
pub(crate) fn plans(
    op: &Op,
    dev: &DeviceSpec,
    search: impl FnOnce() -> Vec<Plans>,
) -> Rc<Vec<Plans>> {
    let key = match Key::of(op, dev) {
        Some(k) if enabled() => k,
        _ => return Rc::new(search()),
    };
    let hit = PLANS.with(|m| {
        let mut m = m.borrow_mut();
        if let Some(v) = m.current.get(&key) {
            return Some(v.clone());
        }
        let v = m.previous.remove(&key)?;
        insert(&mut m, key.clone(), v.clone());
        Some(v)
    });
    if let Some(v) = hit {
        return v;
    }
    // The search runs outside the borrow.
    let v = Rc::new(search());
    PLANS.with(|m| insert(&mut m.borrow_mut(), key, v.clone()));
    v
}

fn insert(m: &mut Memo, key: Key, v: Rc<Vec<Plans>>) {
    if m.current.len() >= GENERATION {
        m.previous = std::mem::take(&mut m.current);
    }
    m.current.insert(key, v);
}
