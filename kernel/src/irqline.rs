//! Interrupt lines in user space (`irq_bind`, `irq_ack`): a line (a global
//! system interrupt of an I/O APIC) bound to a notification signals it at
//! each interrupt, and is masked from the interrupt until the driver
//! acknowledges, so a driver that is slow, stuck or dead holds its own
//! line and no other.
//!
//! A binding lives as long as the capability it was made through: a
//! delete, a revoke or the end of the process's table masks and unbinds
//! the line, and so does the notification's end (found at the next
//! interrupt). One binding per line, in one table under one lock, which
//! also serialises every I/O APIC access after boot (its index/data window
//! is one register pair); nothing is allocated, and the interrupt path
//! only masks, signals and counts.

use crate::arch::apic;
use crate::platform;
use crate::sync::IrqMutex;
use core::sync::atomic::{AtomicU64, Ordering};
use ferrous_abi::SysError;
use ferrous_caps::CSpaceId;

/// Lines a binding can name: GSIs `0..MAX_LINES`, each on its own vector.
pub const MAX_LINES: usize = 48;

#[derive(Clone, Copy)]
struct Binding {
    via: (CSpaceId, u32),
    notification: u64,
    bits: u64,
}

static LINES: IrqMutex<[Option<Binding>; MAX_LINES]> = IrqMutex::new([None; MAX_LINES]);
/// Interrupts delivered per line (tests, reports).
static COUNTS: [AtomicU64; MAX_LINES] = [const { AtomicU64::new(0) }; MAX_LINES];

/// The I/O APIC entry flags for `gsi`: the MADT's override for an ISA
/// line, else edge and active high below 16 (ISA) and level and active low
/// above (PCI).
fn flags(gsi: u32) -> u16 {
    let over = platform::info().and_then(|p| p.overrides.iter().find(|o| o.gsi == gsi));
    match over {
        Some(o) => o.flags,
        None if gsi < 16 => 0,
        None => 0b1111,
    }
}

/// Binds `gsi` to notification `notification` through the capability at
/// `via`: routed to the bootstrap CPU on its own vector, masked until
/// [`ack`]. `OutsideRange` if no I/O APIC has the line, `LineBusy` if it
/// is bound.
pub fn bind(gsi: u32, via: (CSpaceId, u32), notification: u64, bits: u64) -> Result<(), SysError> {
    let index = gsi as usize;
    let mut lines = LINES.lock();
    let ioapic = platform::ioapic_for(gsi)
        .filter(|_| index < MAX_LINES)
        .ok_or(SysError::OutsideRange { arg: 1 })?;
    if lines[index].is_some() {
        return Err(SysError::LineBusy);
    }
    lines[index] = Some(Binding {
        via,
        notification,
        bits,
    });
    // The bootstrap CPU takes device interrupts (the first in the MADT).
    let bsp = platform::info()
        .and_then(|p| p.cpus.first().copied())
        .unwrap_or(0);
    ioapic.route_masked(gsi, apic::VECTOR_LINE_BASE + gsi as u8, bsp, flags(gsi));
    Ok(())
}

/// Unmasks `gsi` if it is bound through the capability at `via`
/// (`NotBound` otherwise).
pub fn ack(gsi: u32, via: (CSpaceId, u32)) -> Result<(), SysError> {
    let lines = LINES.lock();
    match lines.get(gsi as usize).copied().flatten() {
        Some(b) if b.via == via => {
            if let Some(io) = platform::ioapic_for(gsi) {
                io.unmask(gsi);
            }
            Ok(())
        }
        _ => Err(SysError::NotBound { arg: 1 }),
    }
}

/// Line `gsi`'s interrupt (from `irq::interrupt`, which sends the EOI):
/// masks the line and signals its notification; a line whose notification
/// is gone stays masked and is unbound.
pub fn interrupt(gsi: u32) {
    let index = gsi as usize;
    // Under `LINES`, like every I/O APIC access after boot: its
    // index/data window must not interleave between CPUs.
    let binding = {
        let lines = LINES.lock();
        if let Some(io) = platform::ioapic_for(gsi) {
            io.mask(gsi);
        }
        lines.get(index).copied().flatten()
    };
    let Some(b) = binding else {
        return;
    };
    if let Some(c) = COUNTS.get(index) {
        c.fetch_add(1, Ordering::Relaxed);
    }
    if crate::ipc::signal_from_kernel(b.notification, b.bits).is_err() {
        let mut lines = LINES.lock();
        if lines[index].is_some_and(|x| x.notification == b.notification) {
            lines[index] = None;
        }
    }
}

/// Masks and unbinds every line bound through a capability `gone` picks.
fn unbind_where(gone: impl Fn((CSpaceId, u32)) -> bool) {
    let mut lines = LINES.lock();
    for (gsi, slot) in lines.iter_mut().enumerate() {
        if slot.is_some_and(|b| gone(b.via)) {
            *slot = None;
            if let Some(io) = platform::ioapic_for(gsi as u32) {
                io.mask(gsi as u32);
            }
        }
    }
}

/// The capability at `via` is gone: its lines are masked and unbound.
pub fn gone(via: (CSpaceId, u32)) {
    unbind_where(|v| v == via);
}

/// The capability table `cspace` is gone (its process ended).
pub fn cspace_gone(cspace: CSpaceId) {
    unbind_where(|v| v.0 == cspace);
}

/// The capability at `from` moved to `to`: its bindings go with it.
pub fn moved(from: (CSpaceId, u32), to: (CSpaceId, u32)) {
    for b in LINES.lock().iter_mut().flatten() {
        if b.via == from {
            b.via = to;
        }
    }
}

/// Interrupts delivered on `gsi` so far.
pub fn count(gsi: u32) -> u64 {
    COUNTS
        .get(gsi as usize)
        .map_or(0, |c| c.load(Ordering::Relaxed))
}
