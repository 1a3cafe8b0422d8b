//! User programs running in ring 3: spawn, system calls, exit status.

use super::{Outcome, ensure};
use crate::Boot;
use crate::mm::frames;
use crate::process;
use ferrous_abi::ExitStatus;

fn run(boot: &Boot, name: &'static str, is_init: bool) -> Result<ExitStatus, &'static str> {
    let elf = boot.data.module(name).ok_or("boot module missing")?;
    let initial = if is_init {
        process::Initial::Init {
            modules: boot.data.modules.len(),
        }
    } else {
        process::Initial::Test
    };
    let p = process::spawn_from_kernel(name, elf, b"", initial).map_err(|e| {
        log::error!("user: spawning {name}: {e}");
        "spawn failed"
    })?;
    p.wait(u64::MAX, || true)
        .map_err(|_| "wait returned without a status")
}

/// Waits until the exited threads have left their CPUs and been reaped,
/// so that their stacks and address spaces are back: until the user
/// frames and kernel stacks are as `before`, or the attempts run out (a
/// real leak). Polls instead of sleeping a fixed time, which a loaded
/// host can outlast (the guest clock follows the host's).
fn settle(before: &frames::Stats) -> frames::Stats {
    let same = |a: &frames::Stats| {
        [frames::FrameKind::User, frames::FrameKind::KernelStack]
            .into_iter()
            .all(|k| a.allocated(k) == before.allocated(k))
    };
    let mut after = frames::stats();
    for _ in 0..500 {
        crate::thread::reap_detached();
        after = frames::stats();
        if same(&after) {
            break;
        }
        crate::thread::sleep_ns(10_000_000);
    }
    after
}

/// hello prints through debug_write and exits 0; its address space and
/// stacks come back.
pub fn hello(boot: &Boot) -> Outcome {
    let before = frames::stats();
    let status = run(boot, "hello", false)?;
    log::info!("user: hello ended: {status}");
    ensure(
        status == ExitStatus::Exited { code: 0 },
        "hello did not exit 0",
    )?;
    let after = settle(&before);
    log::info!(
        "user: user frames {} -> {}",
        before.allocated(frames::FrameKind::User),
        after.allocated(frames::FrameKind::User)
    );
    ensure(
        after.allocated(frames::FrameKind::User) == before.allocated(frames::FrameKind::User),
        "the process's frames were not all returned",
    )?;
    ensure(
        after.allocated(frames::FrameKind::KernelStack)
            == before.allocated(frames::FrameKind::KernelStack),
        "the process's kernel stack was not freed",
    )
}

/// init, started with init's authority, runs and exits 0.
pub fn init(boot: &Boot) -> Outcome {
    let status = run(boot, "init", true)?;
    log::info!("user: init ended: {status}");
    ensure(
        status == ExitStatus::Exited { code: 0 },
        "init did not exit 0",
    )
}

/// Boots the way a system does: init runs the programs of `run=`; passes
/// when init exits 0 and every user frame and kernel stack came back.
pub fn init_runs_programs(boot: &Boot) -> Outcome {
    let before = frames::stats();
    let caps_before = crate::cap::counts();
    let status = crate::start_init(boot).ok_or("init did not run")?;
    let after = settle(&before);
    log::info!(
        "user: after init: user frames {} -> {}, kernel stacks {} -> {}",
        before.allocated(frames::FrameKind::User),
        after.allocated(frames::FrameKind::User),
        before.allocated(frames::FrameKind::KernelStack),
        after.allocated(frames::FrameKind::KernelStack)
    );
    let caps_after = crate::cap::counts();
    log::info!(
        "user: after init: capabilities {} -> {}, objects {} -> {}; {} refusals traced; {} IPC handoffs",
        caps_before.0,
        caps_after.0,
        caps_before.1,
        caps_after.1,
        crate::trace::denials(),
        crate::ipc::FAST_PATH.load(core::sync::atomic::Ordering::Relaxed)
    );
    ensure(
        status == ExitStatus::Exited { code: 0 },
        "init did not exit 0",
    )?;
    crate::cap::check_invariants().map_err(|e| {
        log::error!("user: capability invariants: {e}");
        "capability invariants broken"
    })?;
    ensure(caps_after == caps_before, "capabilities or objects leaked")?;
    ensure(
        after.allocated(frames::FrameKind::User) == before.allocated(frames::FrameKind::User),
        "user frames leaked",
    )?;
    ensure(
        after.allocated(frames::FrameKind::KernelStack)
            == before.allocated(frames::FrameKind::KernelStack),
        "kernel stacks leaked",
    )
}

/// System-call costs measured from user space (the `ubench` program).
/// IPC costs from user space (`ubench ipc`): with the fast path and the
/// default trace categories, with tracing off (`-notrace`, the overhead
/// figure), and with the fast path off (`-slowpath`).
pub fn ipc_bench(boot: &Boot) -> Outcome {
    let index = boot
        .data
        .modules
        .iter()
        .position(|m| m.name() == "ubench")
        .ok_or("no ubench module")?;
    let slot = ferrous_abi::initial::FIRST_MODULE.0 as usize + index;
    let elf = boot.data.module("ubench").ok_or("boot module missing")?;
    let categories = crate::trace::FILTER.get();
    for (suffix, fast, traced) in [
        ("", true, true),
        (":-notrace", true, false),
        (":-slowpath", false, true),
    ] {
        crate::ipc::FAST_PATH_ON.store(fast, core::sync::atomic::Ordering::Relaxed);
        crate::trace::FILTER.set(if traced {
            categories
        } else {
            ferrous_trace::Categories::NONE
        });
        let args = alloc::format!("ipc:{slot}{suffix}");
        let initial = process::Initial::Init {
            modules: boot.data.modules.len(),
        };
        let p = process::spawn_from_kernel("ubench", elf, args.as_bytes(), initial)
            .map_err(|_| "spawn failed")?;
        let status = p.wait(u64::MAX, || true).map_err(|_| "wait failed")?;
        ensure(
            status == ExitStatus::Exited { code: 0 },
            "ubench ipc did not exit 0",
        )?;
    }
    crate::ipc::FAST_PATH_ON.store(true, core::sync::atomic::Ordering::Relaxed);
    crate::trace::FILTER.set(categories);
    Ok(())
}

/// tracetool, with init's capabilities (the trace capability among them),
/// reads back what its own IPC exchange left in the trace.
pub fn trace_user(boot: &Boot) -> Outcome {
    let elf = boot.data.module("tracetool").ok_or("boot module missing")?;
    let initial = process::Initial::Init {
        modules: boot.data.modules.len(),
    };
    let p =
        process::spawn_from_kernel("tracetool", elf, b"", initial).map_err(|_| "spawn failed")?;
    let status = p.wait(u64::MAX, || true).map_err(|_| "wait failed")?;
    ensure(
        status == ExitStatus::Exited { code: 0 },
        "tracetool did not exit 0",
    )
}

/// The `hostile` program's `ports` mode with init's capabilities (the
/// I/O-port range in slot 5): ports only through a capability, only while
/// held, never the kernel's; nothing leaks.
pub fn hw_ports(boot: &Boot) -> Outcome {
    hostile_with_init_caps(boot, "ports")
}

/// The `hostile` program's `irq` mode with init's capabilities (the
/// interrupt lines in slot 4, the ports in slot 5): the CMOS clock's
/// interrupt through a capability and a notification; nothing leaks.
pub fn hw_irq(boot: &Boot) -> Outcome {
    hostile_with_init_caps(boot, "irq")?;
    log::info!(
        "user: {} interrupts delivered on line 8",
        crate::irqline::count(8)
    );
    Ok(())
}

/// Runs `hostile` in `mode` (told its module slot) with init's
/// capabilities; passes if it exits 0 and no frame or stack leaks.
fn hostile_with_init_caps(boot: &Boot, mode: &str) -> Outcome {
    let before = frames::stats();
    let elf = boot.data.module("hostile").ok_or("boot module missing")?;
    let index = boot
        .data
        .modules
        .iter()
        .position(|m| m.name() == "hostile")
        .ok_or("boot module missing")?;
    let slot = ferrous_abi::initial::FIRST_MODULE.0 as usize + index;
    let initial = process::Initial::Init {
        modules: boot.data.modules.len(),
    };
    // alloc: off the system-call path (a kernel test)
    let args = alloc::format!("{mode}:{slot}");
    let p = process::spawn_from_kernel("hostile", elf, args.as_bytes(), initial)
        .map_err(|_| "spawn failed")?;
    let status = p.wait(u64::MAX, || true).map_err(|_| "wait failed")?;
    drop(p);
    ensure(
        status == ExitStatus::Exited { code: 0 },
        "hostile did not exit 0",
    )?;
    let after = settle(&before);
    log::info!(
        "user: after hostile {mode}: user frames {} -> {}, kernel stacks {} -> {}",
        before.allocated(frames::FrameKind::User),
        after.allocated(frames::FrameKind::User),
        before.allocated(frames::FrameKind::KernelStack),
        after.allocated(frames::FrameKind::KernelStack)
    );
    ensure(
        after.allocated(frames::FrameKind::User) == before.allocated(frames::FrameKind::User)
            && after.allocated(frames::FrameKind::KernelStack)
                == before.allocated(frames::FrameKind::KernelStack),
        "frames or kernel stacks leaked",
    )
}

/// System-call costs from user space, with the trace categories in force
/// and with tracing off (`-notrace`: the overhead figure).
pub fn bench(boot: &Boot) -> Outcome {
    // Init's capabilities: `frame-map-unmap` makes its frame from memory.
    let status = run(boot, "ubench", true)?;
    ensure(
        status == ExitStatus::Exited { code: 0 },
        "ubench did not exit 0",
    )?;
    let categories = crate::trace::FILTER.get();
    crate::trace::FILTER.set(ferrous_trace::Categories::NONE);
    let elf = boot.data.module("ubench").ok_or("boot module missing")?;
    let initial = process::Initial::Init {
        modules: boot.data.modules.len(),
    };
    let p = process::spawn_from_kernel("ubench", elf, b"plain:-notrace", initial)
        .map_err(|_| "spawn failed")?;
    let status = p.wait(u64::MAX, || true).map_err(|_| "wait failed")?;
    crate::trace::FILTER.set(categories);
    ensure(
        status == ExitStatus::Exited { code: 0 },
        "ubench (no trace) did not exit 0",
    )
}
