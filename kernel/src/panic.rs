//! Kernel panics: message, location, a stack trace of return addresses, then
//! a failure exit (under QEMU) or a halt.

use crate::arch;
use crate::console::PanicWriter;
use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    arch::cpu::disable_interrupts();
    // Stop the other CPUs so the report is the last word.
    if arch::apic::is_ready() && crate::thread::cpus_online() > 1 {
        arch::apic::send_ipi_all_others(arch::apic::VECTOR_STOP);
    }
    let mut out = PanicWriter::take();
    if PANICKING.swap(true, Ordering::SeqCst) {
        let _ = writeln!(out, "\nKERNEL PANIC while panicking: {}", info.message());
        arch::qemu::exit(arch::qemu::ExitCode::Failure);
    }
    let _ = writeln!(
        out,
        "\nKERNEL PANIC on cpu{}: {}",
        arch::cpu::id(),
        info.message()
    );
    if let Some(loc) = info.location() {
        let _ = writeln!(out, "  at {}:{}:{}", loc.file(), loc.line(), loc.column());
    }
    arch::backtrace::print(&mut out, 0, arch::backtrace::current_frame());
    arch::qemu::exit(arch::qemu::ExitCode::Failure)
}
