//! The word layouts `metrics_read` fills: named indexes, so the kernel that
//! writes them and the programs that read them agree.
//!
//! From a trace capability, the kernel's counters: the number of CPUs `n`,
//! then `n` rows of [`CPU_COUNTERS`] words (one per [`CpuCounter`]), then
//! [`SYSCALL_SLOTS`] per-call counts (indexed by system-call number; the
//! last slot also counts every higher number), then the trace records lost
//! so far. From a process capability: [`PROCESS_METRICS`] words, one per
//! [`ProcessMetric`].

numbered! {
    /// What each CPU counts, in this order in a row.
    pub enum CpuCounter: u64 {
        /// Context switches.
        Switches = 0 => "switches",
        Syscalls = 1 => "syscalls",
        IpcMessages = 2 => "ipc",
        /// Exceptions in user mode (page faults and the rest).
        Faults = 3 => "faults",
        Interrupts = 4 => "irqs",
    }
}

/// Words in one CPU's row.
pub const CPU_COUNTERS: usize = 5;
/// System-call numbers counted one by one.
pub const SYSCALL_SLOTS: usize = 64;

numbered! {
    /// A process's counters, in this order.
    pub enum ProcessMetric: u64 {
        Syscalls = 0 => "syscalls",
        /// IPC messages sent (send, call, reply, reply_recv).
        IpcSent = 1 => "ipc_sent",
        Faults = 2 => "faults",
        /// CPU time of all its threads, live ones included.
        CpuNs = 3 => "cpu_ns",
        /// Bytes charged to its memory.
        MemoryCharged = 4 => "memory_charged",
    }
}

/// Words of a process's metrics.
pub const PROCESS_METRICS: usize = 5;

// Every name has a word.
const _: () = assert!(CpuCounter::ALL.len() == CPU_COUNTERS);
const _: () = assert!(ProcessMetric::ALL.len() == PROCESS_METRICS);

/// Words the kernel's counters take with `cpus` CPUs online.
pub const fn kernel_words(cpus: usize) -> usize {
    1 + cpus * CPU_COUNTERS + SYSCALL_SLOTS + 1
}

/// Reads the kernel's counters (from a trace capability). Every accessor
/// is `None` when the words are too few (a short buffer).
#[derive(Clone, Copy, Debug)]
pub struct KernelMetrics<'a>(pub &'a [u64]);

impl KernelMetrics<'_> {
    pub fn cpus(&self) -> Option<usize> {
        self.0.first().map(|&n| n as usize)
    }

    pub fn cpu(&self, cpu: usize, c: CpuCounter) -> Option<u64> {
        if cpu >= self.cpus()? {
            return None;
        }
        self.0.get(1 + cpu * CPU_COUNTERS + c as usize).copied()
    }

    /// Calls of system-call number `nr` (numbers past the table share the
    /// last slot).
    pub fn syscall(&self, nr: u64) -> Option<u64> {
        let slot = (nr as usize).min(SYSCALL_SLOTS - 1);
        self.0.get(1 + self.cpus()? * CPU_COUNTERS + slot).copied()
    }

    /// Trace records lost so far.
    pub fn lost(&self) -> Option<u64> {
        self.0.get(kernel_words(self.cpus()?) - 1).copied()
    }
}

/// Reads a process's counters.
#[derive(Clone, Copy, Debug)]
pub struct ProcessMetrics<'a>(pub &'a [u64]);

impl ProcessMetrics<'_> {
    pub fn get(&self, m: ProcessMetric) -> Option<u64> {
        self.0.get(m as usize).copied()
    }
}
