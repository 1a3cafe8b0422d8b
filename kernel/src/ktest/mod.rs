//! In-kernel test scenarios, selected with `test=<name>` on the command
//! line. Each ends the QEMU run through `isa-debug-exit`: pass, fail, or (for
//! `hang`) never, so the harness's timeout path is exercised too. Tests that
//! expect a fault end in the fault report (a failure exit) and the scenario
//! in tests/scenarios.toml checks the report's text.

mod cap;
mod exec;
mod memory;
mod mm;
mod oom;
mod sched;
mod user;

use crate::Boot;
use crate::arch::{self, qemu::ExitCode};
use ferrous_bootinfo::MemoryKind;

pub type Outcome = Result<(), &'static str>;

struct Test {
    name: &'static str,
    about: &'static str,
    run: fn(&Boot) -> Outcome,
}

const TESTS: &[Test] = &[
    Test {
        name: "boot",
        about: "the kernel reaches kmain and exits cleanly",
        run: |_| Ok(()),
    },
    Test {
        name: "memmap",
        about: "the memory map is sane and describes what the loader placed",
        run: memmap_sane,
    },
    Test {
        name: "panic",
        about: "a deliberate panic is reported with message and backtrace",
        run: |_| deliberate_panic(3),
    },
    Test {
        name: "exception",
        about: "an invalid opcode is reported as a decoded exception",
        run: |_| {
            arch::cpu::trigger_invalid_opcode();
            Err("execution continued after ud2")
        },
    },
    Test {
        name: "hang",
        about: "never finishes, so the harness must report a timeout",
        run: |_| arch::cpu::halt_forever(),
    },
    Test {
        name: "mm-map",
        about: "map / protect / translate / unmap round trip, 4 KiB and 2 MiB, nothing leaked",
        run: mm::map_round_trip,
    },
    Test {
        name: "mm-heap",
        about: "the heap grows on demand, frees, and refuses what it cannot hold",
        run: mm::heap,
    },
    Test {
        name: "mm-oom",
        about: "allocating every frame ends in OutOfMemory; freeing restores the count exactly",
        run: mm::out_of_memory,
    },
    Test {
        name: "mm-bad-free",
        about: "double frees and frees of frames never handed out are reported",
        run: mm::bad_frees,
    },
    Test {
        name: "mm-wx",
        about: "kernel sections are mapped W^X and the direct map is not executable",
        run: mm::w_xor_x,
    },
    Test {
        name: "mm-hardening",
        about: "NXE, WP, SMEP, SMAP and UMIP are on when the CPU offers them",
        run: mm::hardening,
    },
    Test {
        name: "mm-usercopy",
        about: "usercopy copies valid user ranges and turns bad ones into errors",
        run: mm::usercopy,
    },
    Test {
        name: "mm-user-budget",
        about: "a user space charges its frames and page tables to its budget, refuses past it and refunds all; mapping ceilings hold",
        run: mm::user_budget,
    },
    Test {
        name: "mm-write-text",
        about: "writing kernel text faults with a decoded report",
        run: mm::write_text,
    },
    Test {
        name: "mm-exec-heap",
        about: "executing from the heap faults (NX)",
        run: mm::exec_heap,
    },
    Test {
        name: "mm-stack-overflow",
        about: "running off a guarded kernel stack is reported as a stack overflow",
        run: mm::stack_overflow,
    },
    Test {
        name: "mm-smap",
        about: "the kernel touching user memory outside usercopy faults (SMAP)",
        run: mm::smap,
    },
    Test {
        name: "mm-smep",
        about: "the kernel executing a user page faults (SMEP)",
        run: mm::smep,
    },
    Test {
        name: "timer",
        about: "timer interrupts arrive at the programmed rate; the clock is monotonic",
        run: sched::timer,
    },
    Test {
        name: "ioapic",
        about: "an ISA interrupt (the PIT) arrives through the I/O APIC routing",
        run: sched::ioapic,
    },
    Test {
        name: "sched-preempt",
        about: "a busy thread does not starve another of the same priority",
        run: sched::preemption,
    },
    Test {
        name: "sched-priority",
        about: "a high-priority thread runs before a low-priority one",
        run: sched::priority,
    },
    Test {
        name: "waitq",
        about: "producer/consumer over a wait queue: blocking waits, every item once",
        run: sched::wait_queue,
    },
    Test {
        name: "smp-all-cpus",
        about: "every CPU in the MADT comes online and runs a thread",
        run: sched::all_cpus,
    },
    Test {
        name: "threads-1000",
        about: "1,000 threads created, run and joined with nothing leaked",
        run: sched::thousand_threads,
    },
    Test {
        name: "thread-fault",
        about: "a fault inside a kernel thread is reported with the thread's name",
        run: sched::thread_fault,
    },
    Test {
        name: "tlb-shootdown",
        about: "remapping a page is seen by every other CPU (TLB shootdown IPIs)",
        run: sched::tlb_shootdown,
    },
    Test {
        name: "sched-bench",
        about: "context switch and scheduler pick costs in cycles",
        run: sched::bench,
    },
    Test {
        name: "elf-load",
        about: "user programs (boot modules) load into address spaces with exact W^X mappings; bad ones are refused",
        run: exec::elf_load,
    },
    Test {
        name: "user-hello",
        about: "a user program runs in ring 3, writes to the console through a system call and exits 0",
        run: user::hello,
    },
    Test {
        name: "user-init",
        about: "init runs as a user process and exits 0",
        run: user::init,
    },
    Test {
        name: "init",
        about: "init runs the user programs named by run= and exits 0; nothing leaks",
        run: user::init_runs_programs,
    },
    Test {
        name: "user-bench",
        about: "system-call costs measured from user space",
        run: user::bench,
    },
    Test {
        name: "trace-user",
        about: "a user program reads the trace and metrics through a trace capability; the trace explains its IPC exchange",
        run: user::trace_user,
    },
    Test {
        name: "hw-ports",
        about: "I/O ports from ring 3 only through an io_ports capability, only while it is held (a revoke reaches every CPU's bitmap), never the kernel's own",
        run: user::hw_ports,
    },
    Test {
        name: "hw-irq",
        about: "an interrupt line reaches ring 3 through an irq_line capability and a notification, stays masked until acknowledged, and is freed when its driver dies",
        run: user::hw_irq,
    },
    Test {
        name: "ipc-bench",
        about: "IPC round trips (other process, other thread, other CPU) and notification round trips from user space, fast path on and off",
        run: user::ipc_bench,
    },
    Test {
        name: "cap-bench",
        about: "capability lookup, mint and revoke-of-1000 costs; a revoked tree leaves nothing behind",
        run: cap::bench,
    },
    Test {
        name: "heap-oom",
        about: "the heap made to fail on purpose: capability tables, capabilities, copies, endpoints and notifications are refused with OutOfMemory, nothing changes and every charge comes back",
        run: oom::run,
    },
    Test {
        name: "memory-chain",
        about: "chains of 100,000 memory splits destroyed and freed in the worst orders: no recursion per link, every byte refunded exactly",
        run: memory::chain_teardown,
    },
    Test {
        name: "mm-bench",
        about: "frame alloc/free, map/unmap and heap costs in cycles",
        run: mm::bench,
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

fn memmap_sane(boot: &Boot) -> Outcome {
    let s = &boot.map;
    if boot.data.memory_map.is_empty() {
        return Err("memory map is empty");
    }
    if s.bytes(MemoryKind::USABLE) < 16 << 20 {
        return Err("less than 16 MiB usable");
    }
    let image = boot.data.info.kernel.virt_size;
    if s.bytes(MemoryKind::KERNEL_IMAGE) < image {
        return Err("kernel-image regions smaller than the mapped image");
    }
    if s.bytes(MemoryKind::PAGE_TABLES) == 0 || s.bytes(MemoryKind::BOOT_INFO) == 0 {
        return Err("page tables or boot info missing from the map");
    }
    if s.ram_end > boot.data.info.direct_map_size {
        return Err("RAM beyond the direct map");
    }
    log::info!(
        "memmap: {} regions, no overlaps, all kinds known",
        s.regions
    );
    Ok(())
}

pub fn run(name: &str, boot: &Boot) -> ! {
    let Some(test) = TESTS.iter().find(|t| t.name == name) else {
        log::error!("test `{name}` does not exist; known tests:");
        for t in TESTS {
            log::error!("  {:<18} {}", t.name, t.about);
        }
        arch::qemu::exit(ExitCode::Failure);
    };
    log::info!("test {}: {}", test.name, test.about);
    let outcome = (test.run)(boot);
    crate::metrics::report();
    crate::trace::finish();
    match outcome {
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

/// `Err(why)` unless `cond`.
pub fn ensure(cond: bool, why: &'static str) -> Outcome {
    if cond { Ok(()) } else { Err(why) }
}
