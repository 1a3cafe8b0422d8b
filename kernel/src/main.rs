//! The Ferrous kernel.
//!
//! `kmain` is the first portable code; everything it needs from the hardware
//! comes through `arch`. Only `arch` may contain `unsafe` (see
//! docs/UNSAFE_GUIDELINES.md).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

#[cfg(target_arch = "x86_64")]
#[path = "../arch/x86_64/mod.rs"]
#[allow(unsafe_code)]
mod arch;

mod bench;
mod cap;
mod console;
mod exec;
mod frame;
mod ipc;
mod irq;
mod irqline;
mod ktest;
mod memmap;
mod memory;
mod metrics;
mod mm;
mod panic;
mod percpu;
mod platform;
mod ports;
mod process;
mod slab;
mod smp;
mod sync;
mod syscall;
mod thread;
mod trace;

use arch::BootData;
use ferrous_bootinfo::MapSummary;
use ferrous_cmdline::KernelOptions;
use spin::Once;

/// What the boot established, for code running after the stack switch.
pub struct Boot {
    pub data: BootData,
    pub opts: KernelOptions<'static>,
    pub map: MapSummary,
    pub mem: mm::MemReport,
}

pub static BOOT: Once<Boot> = Once::new();

/// Size of the bootstrap CPU's guarded main stack.
const MAIN_STACK: u64 = 64 * 1024;

/// Entered once, on the bootstrap CPU, with the console and CPU tables up.
fn kmain(boot: BootData) -> ! {
    let opts = KernelOptions::parse(boot.cmdline);
    console::init(opts.log);
    log::info!("Ferrous {} starting", env!("CARGO_PKG_VERSION"));
    log::info!("kernel main reached");
    log::info!("command line: \"{}\"", boot.cmdline);
    for problem in opts.problems() {
        log::warn!("command line: {problem}");
    }
    if opts.dropped_problems() > 0 {
        log::warn!("command line: {} more problems", opts.dropped_problems());
    }
    report_boot(&boot);
    let Some(map) = memmap::report(boot.memory_map) else {
        panic!("cannot manage memory with an invalid memory map");
    };
    let mem = match mm::init(&boot) {
        Ok(m) => m,
        Err(e) => panic!("memory management failed to start: {e}"),
    };
    trace::init(&opts);
    BOOT.call_once(|| Boot {
        data: boot,
        opts,
        map,
        mem,
    });
    // Leave the unguarded .bss boot stack for a guarded one.
    let stack = mm::stacks::alloc("bsp-main", MAIN_STACK)
        .unwrap_or_else(|e| panic!("no main stack: {e:?}"));
    arch::run_on_stack(stack.top, kmain_on_stack)
}

fn kmain_on_stack() -> ! {
    let boot = BOOT.get().expect("set before the stack switch");
    mm::report_usage(boot);
    platform::init(boot.data.info.rsdp);
    trace::start_drain_thread();
    let ready = arch::cpu::tsc_since_entry();
    log::info!("ready: {ready} TSC cycles after kernel entry");
    match boot.opts.test {
        Some(name) => ktest::run(name, boot),
        None => {
            start_init(boot);
            trace::drain();
            // The main thread ends and every CPU idles (interrupts on,
            // ticks running) until there is work.
            log::info!("nothing more to do; all CPUs idle (quit QEMU with Ctrl-A X)");
            thread::exit(0)
        }
    }
}

/// init's arguments: `m:<name>` for each boot module (module i is handle
/// 16 + i), then `r:<spec>` for each program of `run=`, each followed by a
/// NUL byte (see userspace/init).
pub fn init_args(boot: &Boot) -> alloc::vec::Vec<u8> {
    let mut args = alloc::vec::Vec::new();
    for m in boot.data.modules {
        args.extend_from_slice(b"m:");
        args.extend_from_slice(m.name().as_bytes());
        args.push(0);
    }
    for spec in boot.opts.run_specs() {
        args.extend_from_slice(b"r:");
        args.extend_from_slice(spec.as_bytes());
        args.push(0);
    }
    args
}

/// Starts the boot module `init` as the first user process and waits for it.
pub fn start_init(boot: &Boot) -> Option<ferrous_abi::ExitStatus> {
    let Some(elf) = boot.data.module("init") else {
        log::warn!("no boot module `init`: no user space to start");
        return None;
    };
    let entry = arch::cpu::tsc_since_entry();
    let initial = process::Initial::Init {
        modules: boot.data.modules.len(),
    };
    match process::spawn_from_kernel("init", elf, &init_args(boot), initial) {
        Ok(init) => {
            log::info!("init started {entry} TSC cycles after kernel entry");
            let status = init.wait(u64::MAX, || true).ok();
            if let Some(s) = status {
                log::info!("init ended: {s}");
            }
            status
        }
        Err(e) => {
            log::error!("cannot start init: {e}");
            None
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
