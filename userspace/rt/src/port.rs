//! x86 I/O ports from ring 3: `in` and `out` on the ports the process
//! enabled (`sys::io_ports_enable`). Any other port raises #GP, which ends
//! the process (`Faulted { vector: 13 }`); the kernel's I/O permission
//! bitmap, not this crate, decides. Safe to call: a port access touches no
//! memory of the program.

/// Reads a byte from `port`.
pub fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: `in` reads a device register into `al`; it touches no memory
    // of this program. A port the process may not use faults in the CPU.
    unsafe {
        core::arch::asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack, preserves_flags));
    }
    v
}

/// Writes `v` to `port`.
pub fn outb(port: u16, v: u8) {
    // SAFETY: as for `inb`; `out` writes a device register.
    unsafe {
        core::arch::asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags));
    }
}
