//! The kernel's own console: a 16550 UART on COM1, polled.
//!
//! The UART is a device, so its register values are untrusted: if it does
//! not answer the probe, or never reports "transmitter empty", output is
//! dropped instead of hanging the kernel.

use core::sync::atomic::{AtomicBool, Ordering};
use x86_64::instructions::port::Port;

const COM1: u16 = 0x3f8;
const DATA: u16 = 0;
const INT_ENABLE: u16 = 1;
const FIFO_CTRL: u16 = 2;
const LINE_CTRL: u16 = 3;
const MODEM_CTRL: u16 = 4;
const LINE_STATUS: u16 = 5;
const SCRATCH: u16 = 7;
const LSR_THR_EMPTY: u8 = 1 << 5;
/// Polls of the line status before a byte is given up.
const SPIN_LIMIT: u32 = 100_000;

static PRESENT: AtomicBool = AtomicBool::new(false);

fn outb(reg: u16, v: u8) {
    // SAFETY: COM1's eight registers are owned by this module; writes have
    // no memory effects.
    unsafe { Port::<u8>::new(COM1 + reg).write(v) }
}

fn inb(reg: u16) -> u8 {
    // SAFETY: as in `outb`; reads of UART registers have no memory effects.
    unsafe { Port::<u8>::new(COM1 + reg).read() }
}

/// Probes and programs COM1: 115200 baud, 8N1, FIFOs on, no interrupts.
/// Returns whether a UART answered.
pub fn init() -> bool {
    outb(SCRATCH, 0x5a);
    if inb(SCRATCH) != 0x5a {
        return false;
    }
    outb(INT_ENABLE, 0x00);
    outb(LINE_CTRL, 0x80); // divisor latch
    outb(DATA, 0x01); // divisor 1 = 115200 baud
    outb(INT_ENABLE, 0x00);
    outb(LINE_CTRL, 0x03); // 8 data bits, no parity, 1 stop bit
    outb(FIFO_CTRL, 0xc7); // enable + clear FIFOs, 14-byte threshold
    outb(MODEM_CTRL, 0x0b); // DTR, RTS, OUT2
    PRESENT.store(true, Ordering::Release);
    true
}

fn put(byte: u8) {
    for _ in 0..SPIN_LIMIT {
        if inb(LINE_STATUS) & LSR_THR_EMPTY != 0 {
            outb(DATA, byte);
            return;
        }
        core::hint::spin_loop();
    }
}

/// Writes bytes, turning `\n` into `\r\n`. Callers serialise (see
/// `console`); the panic path may call it unsynchronised on purpose.
pub fn write_bytes(bytes: &[u8]) {
    if !PRESENT.load(Ordering::Acquire) {
        return;
    }
    for &b in bytes {
        if b == b'\n' {
            put(b'\r');
        }
        put(b);
    }
}
