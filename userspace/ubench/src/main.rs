//! `ubench`: micro-benchmarks measured from user space, printed in the
//! kernel's bench format (`bench <name>: median N cycles/op (...)`) so
//! `cargo xtask bench` pairs them with the Linux peer.
//!
//! - `null-syscall`: `abi_version`, the cheapest call (SYSCALL, decode,
//!   SYSRET), per call.
//! - `yield-syscall`: `thread_yield` with no other runnable thread.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use ferrous_rt::println;

ferrous_rt::entry!(main);

const BATCHES: usize = 15;

use ferrous_rt::sys::rdtsc as tsc;

fn measure(name: &str, iters: u64, mut op: impl FnMut()) {
    for _ in 0..iters {
        op(); // warm-up
    }
    let mut per_op = [0u64; BATCHES];
    for slot in per_op.iter_mut() {
        let start = tsc();
        for _ in 0..iters {
            op();
        }
        *slot = tsc().wrapping_sub(start) / iters;
    }
    per_op.sort_unstable();
    println!(
        "bench {name}: median {} cycles/op (min {}, max {}, {BATCHES} x {iters} ops)",
        per_op[BATCHES / 2],
        per_op[0],
        per_op[BATCHES - 1]
    );
}

fn main() -> i32 {
    measure("null-syscall", 2000, || {
        core::hint::black_box(ferrous_rt::sys::abi_version());
    });
    measure("yield-syscall", 500, ferrous_rt::sys::yield_now);
    0
}
