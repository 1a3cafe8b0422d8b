//! I/O ports in ring 3 (`io_ports_enable`): which processes may use which
//! ports, and this CPU's I/O permission bitmap (`arch::ioport`) kept in
//! step with the process it runs.
//!
//! A process enables the range of an `io_ports` capability it holds; the
//! grant lives as long as that capability (a delete, a revoke or the
//! process's end takes it away) and follows it when it moves. Grants are
//! few and small (ports are for legacy devices: a UART, the RTC): at most
//! [`MAX_GRANTS`] in the system, [`PER_PROCESS`] per process and
//! [`MAX_PORTS`] ports each, in one table under one lock, so nothing here
//! allocates and a switch's bitmap work stays small.
//!
//! Every switch to a user thread calls [`load`]: a process that never
//! enabled a port, on a CPU whose bitmap holds no grant, costs one load and
//! a compare. A change to a process's grants raises its generation and
//! asks every CPU to [`refresh`] (with the TLB shootdown's IPI), so when
//! the call that took a grant away returns, no CPU lets the process reach
//! those ports.
//!
//! The kernel keeps some ports for itself ([`KERNEL_PORTS`]); enabling a
//! range that overlaps them fails with `PermissionDenied` naming the first.

use crate::arch::{self, ioport};
use crate::percpu;
use crate::process::Process;
use crate::sync::IrqMutex;
use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use ferrous_abi::SysError;
use ferrous_caps::CSpaceId;

/// Grants in the whole system.
pub const MAX_GRANTS: usize = 64;
/// Grants one process may hold at once (what a CPU's bitmap tracks).
pub const PER_PROCESS: usize = 4;
/// Most ports one grant opens (a UART has 8; the largest legacy device
/// 256), so a switch sets or clears at most this many bits per grant.
pub const MAX_PORTS: u32 = 1024;

/// Ports the kernel uses or no process may have, never enabled for one:
/// the interrupt controllers, the timer and its gate (0x61), the PS/2
/// controller (A20, reset), COM1 (the kernel's log) and COM2 (the trace
/// stream), PCI configuration mechanism #1, QEMU's exit and debug ports,
/// and QEMU's firmware configuration interface (0x510..0x51c), whose DMA
/// would write any physical memory. Any other port of a bus-master device
/// can also start DMA: until the IOMMU confines it (issue 17), a port
/// capability to such a device is authority over all memory.
pub const KERNEL_PORTS: &[(u16, u32)] = &[
    (0x20, 2),
    (0x40, 4),
    (0x60, 2),
    (0x64, 1),
    (0xa0, 2),
    (0xf4, 1),
    (0x2f8, 8),
    (0x3f8, 8),
    (0x402, 1),
    (0x510, 12),
    (0xcf8, 8),
];

struct Grant {
    process: u64,
    /// To raise its generation when the grant ends.
    owner: Weak<Process>,
    via: (CSpaceId, u32),
    base: u16,
    count: u32,
}

/// An `IrqMutex`: [`load`] takes it in `schedule` (under `THREADS`) and
/// from the shootdown IPI, so no interrupt may find it held on its CPU.
static GRANTS: IrqMutex<[Option<Grant>; MAX_GRANTS]> = IrqMutex::new([const { None }; MAX_GRANTS]);
/// Generations handed to processes whose grants change (0: none ever).
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// What this CPU's bitmap lets through: whose grants, at which
/// generation, and the ranges (`base << 32 | count`, 0: none).
pub struct CpuPorts {
    process: AtomicU64,
    generation: AtomicU64,
    ranges: [AtomicU64; PER_PROCESS],
    /// A [`load`] is under way on this CPU: a [`refresh`] meanwhile (from
    /// a lock spin inside it) only marks it `stale`, and it looks again.
    loading: AtomicBool,
    stale: AtomicBool,
}

impl CpuPorts {
    pub const fn new() -> CpuPorts {
        CpuPorts {
            process: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            ranges: [const { AtomicU64::new(0) }; PER_PROCESS],
            loading: AtomicBool::new(false),
            stale: AtomicBool::new(false),
        }
    }
}

/// The first port of `base..base + count` the kernel keeps, if any.
pub fn kernel_port_in(base: u16, count: u32) -> Option<u16> {
    let (lo, hi) = (u32::from(base), u32::from(base) + count);
    KERNEL_PORTS.iter().find_map(|&(b, n)| {
        let (kb, ke) = (u32::from(b), u32::from(b) + n);
        (kb < hi && lo < ke).then(|| lo.max(kb) as u16)
    })
}

fn next_generation() -> u64 {
    NEXT_GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// Lets `p` use `base..base + count` through the capability at `via`.
/// The caller then [`publish`]es it (outside its locks). Enabling the same
/// capability again changes nothing. `TableFull` if `p` holds
/// [`PER_PROCESS`] grants or the system [`MAX_GRANTS`].
pub fn enable(
    p: &Arc<Process>,
    via: (CSpaceId, u32),
    base: u16,
    count: u32,
) -> Result<(), SysError> {
    let mut g = GRANTS.lock();
    let same = |x: &Grant| x.process == p.id && x.via == via && (x.base, x.count) == (base, count);
    if g.iter().flatten().any(same) {
        return Ok(());
    }
    if g.iter().flatten().filter(|x| x.process == p.id).count() >= PER_PROCESS {
        return Err(SysError::TableFull);
    }
    let free = g
        .iter_mut()
        .find(|x| x.is_none())
        .ok_or(SysError::TableFull)?;
    *free = Some(Grant {
        process: p.id,
        owner: Arc::downgrade(p),
        via,
        base,
        count,
    });
    p.ports_changed(next_generation());
    Ok(())
}

/// Ends the grants `gone` picks, raising their processes' generations,
/// then brings every CPU up to date. Allocates nothing; the processes are
/// let go of after the lock (a last reference may end one, which must not
/// happen under an `IrqMutex`).
fn end_where(gone: impl Fn(&Grant) -> bool) {
    let mut ended: [Option<Arc<Process>>; PER_PROCESS] = [const { None }; PER_PROCESS];
    let mut any = false;
    loop {
        let mut more = false;
        {
            let mut g = GRANTS.lock();
            let mut n = 0;
            for x in g.iter_mut() {
                if !x.as_ref().is_some_and(&gone) {
                    continue;
                }
                if n == ended.len() {
                    more = true;
                    break;
                }
                any = true;
                if let Some(p) = x.take().and_then(|x| x.owner.upgrade()) {
                    p.ports_changed(next_generation());
                    ended[n] = Some(p);
                    n += 1;
                }
            }
        }
        ended = [const { None }; PER_PROCESS];
        if !more {
            break;
        }
    }
    if any {
        publish();
    }
}

/// The capability at `via` is gone (deleted, revoked): the grant made
/// through it ends on every CPU before this returns.
pub fn gone(via: (CSpaceId, u32)) {
    end_where(|x| x.via == via);
}

/// The capability table `cspace` is gone (its process ended): every grant
/// made through it ends, on every CPU before this returns.
pub fn cspace_gone(cspace: CSpaceId) {
    end_where(|x| x.via.0 == cspace);
}

/// The capability at `from` moved to `to`: its grant goes with it.
pub fn moved(from: (CSpaceId, u32), to: (CSpaceId, u32)) {
    for x in GRANTS.lock().iter_mut().flatten() {
        if x.via == from {
            x.via = to;
        }
    }
}

/// Brings every CPU's bitmap up to date (after [`enable`], and when a
/// grant ends): every other CPU by the shootdown IPI, then this one. The
/// caller holds no `IrqMutex` (it waits for the other CPUs).
pub fn publish() {
    crate::mm::shootdown::broadcast(0, 0);
    arch::cpu::without_interrupts(refresh);
}

/// Brings this CPU's bitmap up to date with the process it runs (the
/// shootdown IPI calls this, also from a lock spin). Interrupts off.
pub fn refresh() {
    let here = &percpu::this_cpu().ports;
    if here.loading.load(Ordering::Relaxed) {
        // Inside this CPU's own `load`, which looks again before it ends.
        here.stale.store(true, Ordering::Relaxed);
        return;
    }
    let p = crate::thread::current_process();
    load(p.map_or((0, 0), |p| (p.id, p.ports_generation())));
}

/// Makes this CPU's bitmap let through exactly the ports process `id`
/// enabled (`(0, 0)`: a kernel thread, none). What the CPU records and
/// what its bitmap lets through change together under `GRANTS`; a
/// [`refresh`] that arrives meanwhile makes it look again. Interrupts off.
#[inline]
pub fn load((id, generation): (u64, u64)) {
    let here = &percpu::this_cpu().ports;
    let loaded = here.process.load(Ordering::Relaxed);
    if generation == 0 && loaded == 0 {
        return;
    }
    if loaded == id && here.generation.load(Ordering::Relaxed) == generation {
        return;
    }
    reload(here, id, generation);
}

#[cold]
fn reload(here: &CpuPorts, id: u64, generation: u64) {
    here.loading.store(true, Ordering::Relaxed);
    loop {
        here.stale.store(false, Ordering::Relaxed);
        {
            let g = GRANTS.lock();
            for r in &here.ranges {
                let v = r.swap(0, Ordering::Relaxed);
                if v != 0 {
                    ioport::set((v >> 32) as u16, v as u32, false);
                }
            }
            here.process.store(0, Ordering::Relaxed);
            here.generation.store(0, Ordering::Relaxed);
            if id != 0 {
                let mut slots = here.ranges.iter();
                let mine = g.iter().flatten().filter(|x| x.process == id);
                for (slot, x) in (&mut slots).zip(mine) {
                    ioport::set(x.base, x.count, true);
                    slot.store(
                        u64::from(x.base) << 32 | u64::from(x.count),
                        Ordering::Relaxed,
                    );
                }
                here.process.store(id, Ordering::Relaxed);
                // The generation this matches: read under `GRANTS`, where
                // every change raises it.
                let now = g
                    .iter()
                    .flatten()
                    .find(|x| x.process == id)
                    .and_then(|x| x.owner.upgrade())
                    .map_or(generation, |p| p.ports_generation());
                here.generation.store(now, Ordering::Relaxed);
            }
        }
        if !here.stale.load(Ordering::Relaxed) {
            break;
        }
    }
    here.loading.store(false, Ordering::Relaxed);
}
