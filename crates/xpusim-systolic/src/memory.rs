//! SCALE-Sim's double-buffered scratchpad memory model, replayed line by line.
//!
//! This is the reference: `simulate_layer_replay` drives these buffers for every layer, and
//! `simulate_layer` for layers the event-skipping replay (`fast/`) does not cover
//! (overlapping convolution windows, `-1` padding). `tests/replay_equivalence.rs` holds the
//! two equal.
//!
//! `scalesim/memory/double_buffered_scratchpad_mem.py` (`service_memory_requests`) walks the
//! demand matrices one line per cycle. Line `i` is issued at `i + stalls so far`; each buffer
//! returns when it served the line, and the stall added is the largest lateness of the three
//! (reads count lateness beyond their one-cycle hit latency, which may be negative).
//! `Total Cycles` is the latest ofmap service cycle.
//!
//! The three buffers:
//! - [`EstimateReadBuffer`] — CALC mode's ifmap/filter buffer (`read_buffer_estimate_bw.py`):
//!   never stalls; DRAM reads are the addresses it had to fetch.
//! - [`UserReadBuffer`] — USER mode's ifmap/filter buffer (`read_buffer.py`): the prefetch
//!   matrix is cut into ~100 sets, a window of sets is resident, and a miss slides the window
//!   by the prefetch half, costing `ceil(prefetch_size / bw) + 1` cycles of DRAM time.
//! - [`WriteBuffer`] — the ofmap buffer (`write_buffer.py`): writes fill `bw`-wide lines; when
//!   the active half is full, `ceil(drain_size / bw)` lines drain at one line per cycle.

const NEVER: u32 = u32::MAX;

/// CALC-mode read buffer (`ReadBufferEstimateBw`). Fetched addresses are grouped into sets of
/// `floor(elems / 100)`; an address hits if it is in the set being filled or in an earlier set
/// of the current 50-set active window (`check_hit`, `manage_prefetches`).
pub struct EstimateReadBuffer {
    /// For each address, the set it was last fetched into.
    latest: Vec<u32>,
    items_per_set: u64,
    in_current: u64,
    current: u32,
    fetched: u64,
}

impl EstimateReadBuffer {
    /// A buffer of `size_elems` words over an address space of `space` words.
    pub fn new(size_elems: u64, space: usize) -> Self {
        EstimateReadBuffer {
            latest: vec![NEVER; space],
            items_per_set: size_elems / 100,
            in_current: 0,
            current: 0,
            fetched: 0,
        }
    }

    /// Services one demand line (never stalls).
    #[inline]
    pub fn service(&mut self, addrs: &[u32]) {
        for &addr in addrs {
            let window_start = self.current - self.current % 50;
            let Some(slot) = self.latest.get_mut(addr as usize) else {
                continue;
            };
            if *slot != NEVER && *slot >= window_start {
                continue;
            }
            *slot = self.current;
            self.fetched += 1;
            self.in_current += 1;
            if self.in_current == self.items_per_set {
                self.in_current = 0;
                self.current += 1;
            }
        }
    }

    /// Words fetched from DRAM (`get_num_accesses`).
    pub fn dram_reads(&self) -> u64 {
        self.fetched
    }
}

/// USER-mode read buffer (`read_buffer.py` without custom layout).
pub struct UserReadBuffer {
    /// For each address, the ascending ids of the sets that hold it.
    sets_of: Vec<Vec<u32>>,
    num_sets: u64,
    active_sets: u64,
    prefetch_sets: u64,
    start: u64,
    end: u64,
    last_prefetch: i64,
    accesses: u64,
    bw: u64,
    active_size: u64,
    prefetch_size: u64,
    fetch_rows: u64,
    started: bool,
}

impl UserReadBuffer {
    /// Builds the hashed sets from the prefetch order (`set_fetch_matrix`,
    /// `prepare_hashed_buffer`): sets of `ceil(elems / 100)` valid entries.
    pub fn new(size_elems: u64, bw: u64, fetch: &[u32], fetch_elems: u64, space: usize) -> Self {
        let bw = bw.max(1);
        let per_set = size_elems.div_ceil(100).max(1);
        let active_size = size_elems.div_ceil(2);
        let prefetch_size = size_elems - active_size;
        let mut sets_of: Vec<Vec<u32>> = vec![Vec::new(); space];
        let mut set_id: u32 = 0;
        let mut ctr = 0u64;
        for &addr in fetch {
            if let Some(list) = sets_of.get_mut(addr as usize) {
                if list.last() != Some(&set_id) {
                    list.push(set_id);
                }
            }
            ctr += 1;
            if ctr >= per_set {
                set_id += 1;
                ctr = 0;
            }
        }
        let num_sets = set_id as u64 + 1;
        let active_sets = num_sets.min(active_size.div_ceil(per_set));
        let prefetch_sets = (num_sets - active_sets).min(prefetch_size.div_ceil(per_set));
        UserReadBuffer {
            sets_of,
            num_sets,
            active_sets,
            prefetch_sets,
            start: 0,
            end: active_sets,
            last_prefetch: -1,
            accesses: 0,
            bw,
            active_size,
            prefetch_size,
            fetch_rows: fetch_elems.div_ceil(bw),
            started: false,
        }
    }

    fn hit(&self, addr: u32) -> bool {
        let Some(list) = self.sets_of.get(addr as usize) else {
            return true;
        };
        if list.is_empty() {
            return true; // never fetched: SCALE-Sim would loop forever; treat as resident
        }
        let (s, e) = (self.start as u32, self.end as u32);
        let i = list.partition_point(|&x| x < s);
        if s < e {
            i < list.len() && list[i] < e
        } else {
            i < list.len() || list[0] < e
        }
    }

    fn new_prefetch(&mut self) {
        self.start = (self.start + self.prefetch_sets) % self.num_sets;
        self.end = (self.start + self.active_sets) % self.num_sets;
        let lines = self.prefetch_size.div_ceil(self.bw);
        self.accesses += lines * self.bw;
        self.last_prefetch += lines as i64 + 1;
    }

    /// Services one demand line issued at `cycle`; returns the service cycle.
    pub fn service(&mut self, addrs: &[u32], cycle: i64) -> i64 {
        if !self.started {
            // prefetch_active_buffer: fill the active half before cycle 0 (not a stall).
            self.started = true;
            let lines = self.active_size.div_ceil(self.bw).min(self.fetch_rows);
            self.accesses += lines * self.bw;
            self.last_prefetch = cycle - 1;
        }
        let mut offset: i64 = 1;
        for &addr in addrs {
            let mut guard = self.num_sets + 2;
            while !self.hit(addr) && guard > 0 {
                guard -= 1;
                self.new_prefetch();
                let potential = self.last_prefetch - (cycle + offset);
                // SCALE-Sim adds the potential stall unconditionally and then once more when
                // it is positive (`read_buffer.py`, `service_reads`).
                offset += potential;
                if potential > 0 {
                    offset += potential;
                }
            }
        }
        cycle + offset
    }

    /// Words fetched from DRAM: whole `bw`-wide lines (`get_num_accesses`).
    pub fn dram_reads(&self) -> u64 {
        self.accesses
    }
}

/// Ofmap write buffer (`write_buffer.py`).
pub struct WriteBuffer {
    active_size: i64,
    drain_lines: usize,
    bw: u64,
    free: i64,
    /// Fill of every line handed to the trace (a forced flush can leave a partial line).
    lines: Vec<u64>,
    line_fill: u64,
    drain_start: usize,
    drain_end_cycle: i64,
    accesses: u64,
}

impl WriteBuffer {
    /// A buffer of `size_elems` words draining `bw` words per cycle.
    pub fn new(size_elems: u64, bw: u64) -> Self {
        let bw = bw.max(1);
        let active = size_elems.div_ceil(2);
        let drain = size_elems - active;
        WriteBuffer {
            active_size: active as i64,
            drain_lines: drain.div_ceil(bw) as usize,
            bw,
            free: size_elems as i64,
            lines: Vec::new(),
            line_fill: 0,
            drain_start: 0,
            drain_end_cycle: 0,
            accesses: 0,
        }
    }

    fn flush(&mut self) {
        if self.line_fill != 0 {
            self.lines.push(self.line_fill);
            self.line_fill = 0;
        }
    }

    /// `empty_drain_buf`: drains up to `drain_lines` lines; all but the last count as full.
    fn drain(&mut self, start_cycle: i64) -> i64 {
        let end = (self.drain_start + self.drain_lines).min(self.lines.len());
        let n = end.saturating_sub(self.drain_start);
        if n == 0 {
            return start_cycle;
        }
        let data = (n as u64 - 1) * self.bw + self.lines[end - 1];
        self.accesses += data;
        self.free += data as i64;
        self.drain_start = end;
        if self.drain_start >= 4096 && self.drain_start * 2 >= self.lines.len() {
            // Drained lines are never read again; keep memory bounded.
            self.lines.drain(..self.drain_start);
            self.drain_start = 0;
        }
        start_cycle + n as i64 - 1
    }

    /// Services `count` writes issued at `cycle`; returns the service cycle.
    pub fn service(&mut self, count: u64, cycle: i64) -> i64 {
        let mut current = cycle;
        for _ in 0..count {
            self.line_fill += 1;
            self.free -= 1;
            if self.line_fill == self.bw {
                self.lines.push(self.bw);
                self.line_fill = 0;
            }
            if current < self.drain_end_cycle {
                if self.free <= 0 {
                    current = self.drain_end_cycle;
                }
            } else if self.free < self.active_size {
                self.flush();
                self.drain_end_cycle = self.drain(current);
            }
        }
        current
    }

    /// `empty_all_buffers`: drains everything left after the last line.
    pub fn finish(&mut self, mut cycle: i64) {
        self.flush();
        while self.drain_start < self.lines.len() {
            let pending = self.lines.len() - self.drain_start;
            self.drain_end_cycle = self.drain(cycle);
            cycle = self.drain_end_cycle + 1;
            if self.lines.len() - self.drain_start >= pending {
                break; // nothing drained (cannot happen with drain_lines >= 1)
            }
        }
    }

    /// Words written to DRAM (`get_num_accesses`).
    pub fn dram_writes(&self) -> u64 {
        self.accesses
    }
}
