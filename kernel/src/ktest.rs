//! In-kernel test scenarios, selected with `test=<name>` on the command
//! line. Each ends the QEMU run through `isa-debug-exit`: pass, fail, or (for
//! `hang`) never, so the harness's timeout path is exercised too. The
//! expected outcome of each lives in tests/scenarios.toml.

use crate::arch::{self, BootData, qemu::ExitCode};
use ferrous_bootinfo::{MapSummary, MemoryKind};

type Outcome = Result<(), &'static str>;

struct Test {
    name: &'static str,
    about: &'static str,
    run: fn(&BootData, Option<&MapSummary>) -> Outcome,
}

const TESTS: &[Test] = &[
    Test {
        name: "boot",
        about: "the kernel reaches kmain and exits cleanly",
        run: |_, _| Ok(()),
    },
    Test {
        name: "memmap",
        about: "the memory map is sane and describes what the loader placed",
        run: memmap_sane,
    },
    Test {
        name: "panic",
        about: "a deliberate panic is reported with message and backtrace",
        run: |_, _| deliberate_panic(3),
    },
    Test {
        name: "exception",
        about: "an invalid opcode is reported as a decoded exception",
        run: |_, _| {
            arch::cpu::trigger_invalid_opcode();
            Err("execution continued after ud2")
        },
    },
    Test {
        name: "hang",
        about: "never finishes, so the harness must report a timeout",
        run: |_, _| arch::cpu::halt_forever(),
    },
];

/// Recursion gives the backtrace a few frames to show.
#[inline(never)]
fn deliberate_panic(depth: u32) -> Outcome {
    if depth == 0 {
        panic!("deliberate panic (test=panic)");
    }
    let r = deliberate_panic(depth - 1);
    core::hint::black_box(r)
}

fn memmap_sane(boot: &BootData, summary: Option<&MapSummary>) -> Outcome {
    let s = summary.ok_or("memory map failed validation")?;
    if boot.memory_map.is_empty() {
        return Err("memory map is empty");
    }
    if s.bytes(MemoryKind::USABLE) < 16 << 20 {
        return Err("less than 16 MiB usable");
    }
    let image = boot.info.kernel.virt_size;
    let held = s.bytes(MemoryKind::KERNEL_IMAGE);
    if held < image {
        return Err("kernel-image regions smaller than the mapped image");
    }
    if s.bytes(MemoryKind::PAGE_TABLES) == 0 || s.bytes(MemoryKind::BOOT_INFO) == 0 {
        return Err("page tables or boot info missing from the map");
    }
    if s.ram_end > boot.info.direct_map_size {
        return Err("RAM beyond the direct map");
    }
    log::info!(
        "memmap: {} regions, no overlaps, all kinds known",
        s.regions
    );
    Ok(())
}

pub fn run(name: &str, boot: &BootData, summary: Option<&MapSummary>) -> ! {
    let Some(test) = TESTS.iter().find(|t| t.name == name) else {
        log::error!("test `{name}` does not exist; known tests:");
        for t in TESTS {
            log::error!("  {:<10} {}", t.name, t.about);
        }
        arch::qemu::exit(ExitCode::Failure);
    };
    log::info!("test {}: {}", test.name, test.about);
    match (test.run)(boot, summary) {
        Ok(()) => {
            log::info!("test {}: PASS", test.name);
            arch::qemu::exit(ExitCode::Success)
        }
        Err(why) => {
            log::error!("test {}: FAIL: {why}", test.name);
            arch::qemu::exit(ExitCode::Failure)
        }
    }
}
