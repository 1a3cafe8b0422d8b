//! `exhaust`: a process takes every kernel resource its budget and tables
//! allow, in every class, and must be refused with the specific error each
//! time, never crash the kernel, and leave nothing behind. Run with 64 MiB
//! of RAM (`hostile-exhaust-64m`), where its budget is a real share of the
//! machine.
//!
//! The child (`exhaust-child`) fills its capability table with copies
//! (`TableFull`), then, with slots free again, spends its budget on
//! anonymous memory in 64 KiB steps, then pages, then endpoints in what is
//! left of the last page (`QuotaExceeded`), then tries one of everything
//! else the budget pays for: a frame, a notification, a split, a thread, a
//! process (each `QuotaExceeded`). The
//! parent checks the child's exit and that every byte of its budget came
//! back, then that the kernel still makes and runs a process.

use ferrous_rt::abi::{ExitStatus, Grant, Handle, Perms, Rights, SysError, initial};
use ferrous_rt::checks::Checks;
use ferrous_rt::{println, sys};

use crate::MODULE;

/// Where the child maps; far from its image and stack.
const HEAP: u64 = 0x40_0000_0000;
const STEP: u64 = 64 * 1024;

pub fn exhaust() -> i32 {
    let mut c = Checks::new("hostile");
    let total = sys::memory_info(initial::MEMORY).unwrap_or(0);
    // Most of what this process has, for the child.
    let bytes = (total / 2) & !(4096 - 1);
    println!(
        "hostile: giving the child {} KiB of {} KiB",
        bytes / 1024,
        total / 1024
    );
    if let Some(budget) = c.ok(
        "split the child's budget",
        sys::memory_split(initial::MEMORY, bytes),
    ) {
        let grants = [
            Grant::new(
                initial::CONSOLE,
                Rights::WRITE | Rights::GRANT | Rights::DERIVE,
            ),
            Grant::child_space(Rights::READ | Rights::WRITE | Rights::CONTROL),
            Grant::new(budget, Rights::ALL),
            Grant::new(MODULE, Rights::EXECUTE | Rights::GRANT | Rights::DERIVE),
        ];
        if let Some(child) = c.ok(
            "spawn the child",
            sys::spawn(MODULE, budget, b"exhaust-child", &grants),
        ) {
            let status = sys::wait(child, sys::WAIT_FOREVER);
            c.check(
                "the child was refused every time and exited 0",
                status == Ok(Some(ExitStatus::Exited { code: 0 })),
                status,
            );
            let _ = sys::cap_delete(child);
        }
        let left = sys::memory_info(budget);
        c.check(
            "every byte of the child's budget came back",
            left == Ok(bytes),
            (left, bytes),
        );
        let _ = sys::cap_delete(budget);
    }
    // The kernel still makes and runs a process.
    let grants = [Grant::new(initial::CONSOLE, Rights::WRITE)];
    let again = sys::spawn(MODULE, initial::MEMORY, b"exhaust-done", &grants);
    let status = again.and_then(|p| sys::wait(p, sys::WAIT_FOREVER));
    c.check(
        "the kernel still runs a new process",
        status == Ok(Some(ExitStatus::Exited { code: 0 })),
        status,
    );
    let after = sys::memory_info(initial::MEMORY);
    c.check(
        "this process's budget is whole again",
        after == Ok(total),
        (after, total),
    );
    c.finish("exhaust")
}

pub fn exhaust_done() -> i32 {
    0
}

extern "C" fn never(_: u64) -> ! {
    sys::thread_exit(0)
}

pub fn exhaust_child() -> i32 {
    let mut c = Checks::new("hostile-child");
    // 1. Capability table: copies of the console until it is full.
    let mut copies = 0u32;
    let full = loop {
        match sys::cap_copy(initial::CONSOLE, Handle(5 + copies)) {
            Ok(()) => copies += 1,
            Err(e) => break e,
        }
        if 5 + copies >= ferrous_rt::abi::CSPACE_SLOTS {
            break sys::endpoint_create(initial::MEMORY)
                .map(|_| ())
                .unwrap_err();
        }
    };
    println!("hostile-child: {copies} copies, then {full}");
    c.check(
        "a full capability table refuses (TableFull or SlotOutOfRange)",
        matches!(full, SysError::TableFull | SysError::SlotOutOfRange { .. }),
        full,
    );
    let made = sys::endpoint_create(initial::MEMORY);
    c.expect("no slot for a new object", made, SysError::TableFull);
    for i in 0..copies {
        let _ = sys::cap_delete(Handle(5 + i));
    }
    // 2. Anonymous memory until the budget is spent.
    let mut mapped = 0u64;
    let spent = loop {
        match sys::mem_map(HEAP + mapped, STEP, Perms::READ_WRITE) {
            Ok(_) => mapped += STEP,
            Err(e) => break e,
        }
    };
    println!("hostile-child: mapped {} KiB, then {spent}", mapped / 1024);
    c.check(
        "mem_map stops at the budget (QuotaExceeded)",
        spent == SysError::QuotaExceeded,
        spent,
    );
    // Single pages until not even one fits.
    let mut pages = 0u64;
    let last = loop {
        match sys::mem_map(HEAP + mapped + pages * 4096, 4096, Perms::READ_WRITE) {
            Ok(_) => pages += 1,
            Err(e) => break e,
        }
    };
    c.expect(
        "not even a page is left",
        Err::<(), _>(last),
        SysError::QuotaExceeded,
    );
    // 3. Everything else the budget pays for is refused too.
    let q = SysError::QuotaExceeded;
    c.expect("frame_create", sys::frame_create(initial::MEMORY, 4096), q);
    // Small objects fit in what is less than a page: until they do not.
    let mut small = 0u32;
    let refused = loop {
        match sys::endpoint_create(initial::MEMORY) {
            Ok(_) => small += 1,
            Err(e) => break e,
        }
    };
    println!("hostile-child: {small} endpoints in the last page, then {refused}");
    c.expect("endpoint_create", Err::<(), _>(refused), q);
    c.expect(
        "notification_create",
        sys::notification_create(initial::MEMORY),
        q,
    );
    c.expect("memory_split", sys::memory_split(initial::MEMORY, 4096), q);
    c.expect(
        "thread_create",
        sys::thread_create(initial::SELF_SPACE, never, HEAP + 4096, 0),
        q,
    );
    let grants = [Grant::new(initial::CONSOLE, Rights::WRITE)];
    c.expect(
        "process_spawn",
        sys::spawn(Handle(4), initial::MEMORY, b"exhaust-done", &grants),
        q,
    );
    // The kernel still answers this process.
    let info = sys::memory_info(initial::MEMORY);
    c.check("memory_info still answers", info.is_ok(), info);
    c.finish("exhaust-child")
}
