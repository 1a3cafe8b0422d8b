//! In-kernel micro-benchmarks: run a closure in batches, report the median,
//! minimum and maximum TSC cycles per operation. Reports only; nothing here
//! ever fails a test on a timing.

use crate::arch;

#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub median: u64,
    pub min: u64,
    pub max: u64,
}

/// Runs `op` `iters` times per batch, `BATCHES` batches after one warm-up
/// batch, and logs `bench <name>: ...` for `cargo xtask bench` to collect.
pub fn measure(name: &str, iters: u64, mut op: impl FnMut()) -> Summary {
    const BATCHES: usize = 15;
    let mut per_op = [0u64; BATCHES];
    for _ in 0..iters {
        op(); // warm-up
    }
    for slot in per_op.iter_mut() {
        let start = arch::cpu::tsc();
        for _ in 0..iters {
            op();
        }
        *slot = arch::cpu::tsc().wrapping_sub(start) / iters.max(1);
    }
    per_op.sort_unstable();
    let s = Summary {
        median: per_op[BATCHES / 2],
        min: per_op[0],
        max: per_op[BATCHES - 1],
    };
    log::info!(
        "bench {name}: median {} cycles/op (min {}, max {}, {} x {} ops)",
        s.median,
        s.min,
        s.max,
        BATCHES,
        iters
    );
    s
}
