//! 16550 UARTs, polled: COM1 is the kernel's console, COM2 (when asked
//! for) carries the binary trace stream.
//!
//! The UART is a device, so its register values are untrusted: if it does
//! not answer the probe, or never reports "transmitter empty", output is
//! dropped instead of hanging the kernel.

use core::sync::atomic::{AtomicBool, Ordering};
use x86_64::instructions::port::Port;

const COM1: u16 = 0x3f8;
pub const COM2: u16 = 0x2f8;
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
static COM2_PRESENT: AtomicBool = AtomicBool::new(false);

fn outb_at(base: u16, reg: u16, v: u8) {
    // SAFETY: the eight registers of COM1 and COM2 are owned by this
    // module (the only bases passed); writes have no memory effects.
    unsafe { Port::<u8>::new(base + reg).write(v) }
}

fn inb_at(base: u16, reg: u16) -> u8 {
    // SAFETY: as in `outb_at`; reads of UART registers have no memory
    // effects.
    unsafe { Port::<u8>::new(base + reg).read() }
}

/// Probes and programs a UART: 115200 baud, 8N1, FIFOs on, no interrupts.
fn init_at(base: u16) -> bool {
    outb_at(base, SCRATCH, 0x5a);
    if inb_at(base, SCRATCH) != 0x5a {
        return false;
    }
    outb_at(base, INT_ENABLE, 0x00);
    outb_at(base, LINE_CTRL, 0x80); // divisor latch
    outb_at(base, DATA, 0x01); // divisor 1 = 115200 baud
    outb_at(base, INT_ENABLE, 0x00);
    outb_at(base, LINE_CTRL, 0x03); // 8 data bits, no parity, 1 stop bit
    outb_at(base, FIFO_CTRL, 0xc7); // enable + clear FIFOs, 14-byte threshold
    outb_at(base, MODEM_CTRL, 0x0b); // DTR, RTS, OUT2
    true
}

/// Probes and programs COM1. Returns whether a UART answered.
pub fn init() -> bool {
    let ok = init_at(COM1);
    PRESENT.store(ok, Ordering::Release);
    ok
}

/// Probes and programs COM2 for the trace stream.
pub fn init_com2() -> bool {
    let ok = init_at(COM2);
    COM2_PRESENT.store(ok, Ordering::Release);
    ok
}

fn put_at(base: u16, byte: u8) {
    for _ in 0..SPIN_LIMIT {
        if inb_at(base, LINE_STATUS) & LSR_THR_EMPTY != 0 {
            outb_at(base, DATA, byte);
            return;
        }
        core::hint::spin_loop();
    }
}

fn put(byte: u8) {
    put_at(COM1, byte)
}

/// Writes raw bytes to COM2 (binary: no newline translation). Callers
/// serialise.
pub fn write_com2(bytes: &[u8]) {
    if !COM2_PRESENT.load(Ordering::Acquire) {
        return;
    }
    for &b in bytes {
        put_at(COM2, b);
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
