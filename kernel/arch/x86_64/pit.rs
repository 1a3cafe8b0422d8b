//! The 8254 PIT as a reference clock: its channel 2 counts a known interval
//! (1.193182 MHz input) against which the TSC and the local-APIC timer are
//! calibrated. It is a device: its status is untrusted and polls are bounded.

use x86_64::instructions::port::Port;

pub const PIT_HZ: u64 = 1_193_182;
/// Bound on status polls; far more than a 10 ms interval ever needs.
const POLL_LIMIT: u64 = 200_000_000;

fn outb(port: u16, v: u8) {
    // SAFETY: PIT and system-control ports; no memory effects.
    unsafe { Port::<u8>::new(port).write(v) }
}

fn inb(port: u16) -> u8 {
    // SAFETY: as in `outb`.
    unsafe { Port::<u8>::new(port).read() }
}

/// Runs `during` while PIT channel 2 counts `ticks` (one-shot, gate on port
/// 0x61). Returns `None` if the PIT never signals the end.
pub fn measure<R>(ticks: u16, start: impl FnOnce(), end: impl FnOnce() -> R) -> Option<R> {
    let ctrl = inb(0x61);
    outb(0x61, (ctrl & !0x02) | 0x01); // gate on, speaker off
    outb(0x43, 0b1011_0000); // channel 2, lobyte/hibyte, mode 0
    outb(0x42, ticks as u8);
    outb(0x42, (ticks >> 8) as u8);
    let gate = inb(0x61) & !0x01;
    outb(0x61, gate); // restart the count with a gate edge
    start();
    outb(0x61, gate | 0x01);
    for _ in 0..POLL_LIMIT {
        if inb(0x61) & 0x20 != 0 {
            let r = end();
            outb(0x61, ctrl);
            return Some(r);
        }
    }
    outb(0x61, ctrl);
    None
}

/// Starts PIT channel 0 as a rate generator at about `hz` (ISA IRQ 0).
pub fn start_periodic(hz: u32) {
    let divisor = (PIT_HZ / hz.max(19) as u64).min(0xffff) as u16;
    outb(0x43, 0b0011_0100); // channel 0, lobyte/hibyte, mode 2
    outb(0x40, divisor as u8);
    outb(0x40, (divisor >> 8) as u8);
}

/// Stops channel 0 (one-shot mode with no count loaded never fires again).
pub fn stop_periodic() {
    outb(0x43, 0b0011_0000);
}
