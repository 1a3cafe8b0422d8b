//! Leaving QEMU with a verdict through the `isa-debug-exit` device
//! (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`). QEMU exits with
//! status `(value << 1) | 1`: 0x10 → 33 (pass), 0x11 → 35 (fail).

use x86_64::instructions::port::Port;

const DEBUG_EXIT_PORT: u16 = 0xf4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ExitCode {
    Success = 0x10,
    Failure = 0x11,
}

/// Ends the QEMU session; on a machine without the device, halts instead.
pub fn exit(code: ExitCode) -> ! {
    let mut port = Port::<u32>::new(DEBUG_EXIT_PORT);
    // SAFETY: writing to an unused I/O port has no effect on real hardware;
    // under QEMU it ends the emulator. No memory is affected.
    unsafe { port.write(code as u32) };
    super::cpu::halt_forever()
}
