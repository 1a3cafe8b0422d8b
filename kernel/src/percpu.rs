//! The portable kernel's per-CPU state: one [`CpuBlock`] per CPU, holding
//! one struct per subsystem (Redox's `PercpuBlock` is the model), in one
//! [`PerCpu`] store indexed by the CPU's logical index. The running CPU's
//! block is reached through `arch::percpu`: its per-CPU slot holds the
//! block's address, so [`this_cpu`] is one `gs:` load.
//!
//! A subsystem keeps its per-CPU fields private in its own struct and
//! reaches them as `percpu::this_cpu().<subsystem>` (the running CPU's) or
//! `percpu::cpu(i)` (any CPU's). Everything in a block is an atomic, a
//! `spin::Once` or a lock, so the blocks are shared as `&'static` and need
//! no `unsafe`. `this_cpu` is only as stable as the CPU it names: a thread
//! that may be preempted and migrated reads it with interrupts off (or
//! accepts, as the counters do, touching the CPU it just left).
//!
//! The arch layer keeps its own slot per CPU (`arch::percpu`, the GS
//! block the SYSCALL entry and the context switch use); per-CPU state that
//! the scheduler lock protects stays under that lock (`thread::Cpu`).

use crate::arch::{self, percpu::MAX_CPUS};

/// Per-CPU state with a `const` initial value (the store is a `static`).
pub trait CpuLocal: Sized {
    const INIT: Self;
}

/// One `T` per possible CPU.
pub struct PerCpu<T> {
    cpus: [T; MAX_CPUS],
}

impl<T: CpuLocal> PerCpu<T> {
    pub const fn new() -> Self {
        PerCpu {
            cpus: [const { T::INIT }; MAX_CPUS],
        }
    }
}

impl<T> PerCpu<T> {
    /// CPU `cpu`'s `T`, if there can be such a CPU.
    #[inline]
    pub fn get(&self, cpu: usize) -> Option<&T> {
        self.cpus.get(cpu)
    }

    /// Every CPU's `T`, by index (online or not).
    pub fn iter(&self) -> core::slice::Iter<'_, T> {
        self.cpus.iter()
    }
}

/// What the portable kernel keeps per CPU: one field per subsystem. A
/// cache line apart, so CPUs do not share lines through it.
#[repr(align(64))]
pub struct CpuBlock {
    pub thread: crate::thread::CpuState,
    pub trace: crate::trace::CpuTrace,
    pub metrics: crate::metrics::CpuCounters,
    pub irq: crate::irq::CpuTicks,
    pub heap: crate::mm::heap::CpuHeap,
    pub ports: crate::ports::CpuPorts,
}

impl CpuLocal for CpuBlock {
    const INIT: Self = CpuBlock {
        thread: crate::thread::CpuState::new(),
        trace: crate::trace::CpuTrace::new(),
        metrics: crate::metrics::CpuCounters::new(),
        irq: crate::irq::CpuTicks::new(),
        heap: crate::mm::heap::CpuHeap::new(),
        ports: crate::ports::CpuPorts::new(),
    };
}

static CPUS: PerCpu<CpuBlock> = PerCpu::new();

/// The running CPU's block.
#[inline]
pub fn this_cpu() -> &'static CpuBlock {
    arch::percpu::this_block()
}

/// CPU `cpu`'s block (`None` past `MAX_CPUS`).
#[inline]
pub fn cpu(cpu: usize) -> Option<&'static CpuBlock> {
    CPUS.get(cpu)
}

/// Every CPU's block, by index.
pub fn all() -> core::slice::Iter<'static, CpuBlock> {
    CPUS.iter()
}
