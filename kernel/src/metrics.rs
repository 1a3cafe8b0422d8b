//! Counters that are always on: per CPU (context switches, system calls,
//! IPC messages, page faults, interrupts) and per system call. Each is a
//! relaxed atomic add on the path it counts. User space reads them through
//! a trace capability (`metrics_read`); kernel tests print them at the end
//! (`metrics:` lines).

use crate::percpu;
use core::sync::atomic::{AtomicU64, Ordering};

/// What each CPU counts: the ABI's names, in their `metrics_read` order
/// (`ferrous_abi::metrics`).
pub use ferrous_abi::metrics::CpuCounter as Counter;

pub const COUNTERS: usize = ferrous_abi::metrics::CPU_COUNTERS;
/// System-call numbers counted one by one (the rest share the last slot).
pub const SYSCALLS: usize = ferrous_abi::metrics::SYSCALL_SLOTS;

/// One CPU's counters (its `percpu::CpuBlock::metrics`), by [`Counter`].
pub struct CpuCounters {
    counters: [AtomicU64; COUNTERS],
}

impl CpuCounters {
    pub const fn new() -> Self {
        CpuCounters {
            counters: [const { AtomicU64::new(0) }; COUNTERS],
        }
    }
}

static BY_SYSCALL: [AtomicU64; SYSCALLS] = [const { AtomicU64::new(0) }; SYSCALLS];

/// Counts one `c` on this CPU.
pub fn count(c: Counter) {
    percpu::this_cpu().metrics.counters[c as usize].fetch_add(1, Ordering::Relaxed);
}

pub fn syscall(nr: u64) {
    count(Counter::Syscalls);
    let i = (nr as usize).min(SYSCALLS - 1);
    BY_SYSCALL[i].fetch_add(1, Ordering::Relaxed);
}

/// The `metrics_read` layout of `ferrous_abi::metrics`, in `u64` words:
/// the number of CPUs `n`, then `n` rows of [`COUNTERS`] counters, then
/// [`SYSCALLS`] per-call counts, then the trace records lost so far.
pub fn snapshot(out: &mut alloc::vec::Vec<u64>) {
    let n = crate::thread::cpus_online() as usize;
    // alloc: reserved above (the caller: kernel_words(MAX_CPUS))
    out.push(n as u64);
    for cpu in percpu::all().take(n) {
        // alloc: reserved above (the caller: kernel_words(MAX_CPUS))
        out.extend(
            cpu.metrics
                .counters
                .iter()
                .map(|c| c.load(Ordering::Relaxed)),
        );
    }
    // alloc: reserved above (the caller: kernel_words(MAX_CPUS))
    out.extend(BY_SYSCALL.iter().map(|a| a.load(Ordering::Relaxed)));
    // alloc: reserved above (the caller: kernel_words(MAX_CPUS))
    out.push(crate::trace::lost());
}

/// Prints every counter (kernel tests, at the end).
pub fn report() {
    let n = crate::thread::cpus_online() as usize;
    for (cpu, block) in percpu::all().enumerate().take(n) {
        let counters = &block.metrics.counters;
        let row: [u64; COUNTERS] = core::array::from_fn(|c| counters[c].load(Ordering::Relaxed));
        log::info!(
            "metrics: cpu{cpu} switches={} syscalls={} ipc={} faults={} irqs={}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4]
        );
    }
    let mut top: alloc::vec::Vec<(u64, usize)> = (0..SYSCALLS)
        .map(|i| (BY_SYSCALL[i].load(Ordering::Relaxed), i))
        .filter(|&(n, _)| n > 0)
        // alloc: off the system-call path (kernel tests' report)
        .collect();
    top.sort_unstable_by(|a, b| b.cmp(a));
    for (n, nr) in top.iter().take(8) {
        let name = ferrous_abi::Sysno::from_raw(*nr as u64).map_or("?", ferrous_abi::Sysno::name);
        log::info!("metrics: syscall {name} {n}");
    }
    log::info!("metrics: trace records lost {}", crate::trace::lost());
}
