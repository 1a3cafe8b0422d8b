//! The Ferrous kernel.
//!
//! `kmain` is the first portable code; everything it needs from the hardware
//! comes through `arch`. Only `arch` may contain `unsafe` (see
//! docs/UNSAFE_GUIDELINES.md).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

#[cfg(target_arch = "x86_64")]
#[path = "../arch/x86_64/mod.rs"]
#[allow(unsafe_code)]
mod arch;

mod console;
mod ktest;
mod memmap;
mod panic;

use arch::BootData;
use ferrous_cmdline::KernelOptions;

/// Entered once, on the bootstrap CPU, with the console and CPU tables up.
fn kmain(boot: BootData) -> ! {
    let opts = KernelOptions::parse(boot.cmdline);
    console::init(opts.log);
    log::info!("Ferrous {} starting", env!("CARGO_PKG_VERSION"));
    log::info!("command line: \"{}\"", boot.cmdline);
    for problem in opts.problems() {
        log::warn!("command line: {problem}");
    }
    if opts.dropped_problems() > 0 {
        log::warn!("command line: {} more problems", opts.dropped_problems());
    }
    report_boot(&boot);
    let summary = memmap::report(boot.memory_map);
    log::info!("kernel main reached");

    let ready = arch::cpu::tsc_since_entry();
    log::info!("ready: {ready} TSC cycles after kernel entry");
    match opts.test {
        Some(name) => ktest::run(name, &boot, summary.as_ref()),
        None => {
            log::info!("nothing more to do yet; halting (quit QEMU with Ctrl-A X)");
            arch::cpu::halt_forever()
        }
    }
}

fn report_boot(boot: &BootData) {
    let info = boot.info;
    let k = &info.kernel;
    log::info!(
        "kernel image {:#x}..{:#x} ({} KiB mapped, {} KiB file)",
        k.virt_base,
        k.virt_base + k.virt_size,
        k.virt_size / 1024,
        k.file_size / 1024
    );
    log::info!(
        "loader: start to hand-over {} TSC cycles, hand-over to kernel entry {}",
        info.handoff_tsc.wrapping_sub(info.loader_start_tsc),
        arch::cpu::entry_tsc().wrapping_sub(info.handoff_tsc)
    );
    if info.rsdp != 0 {
        log::info!("ACPI RSDP at {:#x}", info.rsdp);
    } else {
        log::warn!("no ACPI RSDP from the firmware");
    }
    let fb = &info.framebuffer;
    if fb.phys != 0 {
        log::info!(
            "framebuffer {}x{} stride {} at {:#x}",
            fb.width,
            fb.height,
            fb.stride,
            fb.phys
        );
    }
    for m in boot.modules {
        log::info!("module {} at {:#x} ({} bytes)", m.name(), m.phys, m.len);
    }
}
