//! The panic handler: `panic: <message> at <file>:<line>`, then exit 101.

use crate::print::ConsoleWriter;
use crate::{PANIC_EXIT_CODE, sys};
use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

/// Set by the first panic, so a panic while reporting one (a `Display`
/// impl that panics) does not recurse.
static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    if PANICKING.swap(true, Ordering::Relaxed) {
        let _ = sys::debug_write(b"panic: panicked while reporting a panic\n");
        sys::exit(PANIC_EXIT_CODE);
    }
    // Formatted on the stack: the heap may be what failed.
    let mut w = ConsoleWriter::new();
    let _ = match info.location() {
        Some(l) => writeln!(w, "panic: {} at {}:{}", info.message(), l.file(), l.line()),
        None => writeln!(w, "panic: {}", info.message()),
    };
    w.flush();
    sys::exit(PANIC_EXIT_CODE)
}
