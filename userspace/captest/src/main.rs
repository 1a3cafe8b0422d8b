//! `captest`: the capability model seen from user space. One program plays
//! every role; its argument (`captest:<mode>` in init's `run=`) picks one:
//!
//! - `confine`: starts a copy of itself holding only a console capability
//!   (`console-only`), which finds that every other slot is empty and that
//!   mapping memory, creating threads, spawning, waiting and killing all
//!   fail with `EmptySlot`.
//! - `revoke`: passes a derived console capability to a child that writes
//!   until a write fails, revokes it, and checks the child saw `EmptySlot`
//!   (exit code 32). Then a child blocked in `process_wait` on a process
//!   capability it was given wakes with `ObjectGone` when the parent
//!   revokes it.
//! - `tree`: a chain of three processes below this one, each passing on
//!   fewer rights (no thread control at level 1, no execute mappings at
//!   level 2, a smaller budget each time, no module at the last level);
//!   each level checks that it holds exactly what it was given and that
//!   anything more is refused with the specific error.
//! - `forged`: forged slot numbers, wrong object types, missing rights
//!   and misused capability calls, each with its exact error.
//! - `memory`: memory budgets: a child made from a split is charged, its
//!   mappings beyond the budget fail with `QuotaExceeded`, and deleting the
//!   split (which ends the child) returns every byte.
//! - `threads`: four threads made with `thread_create` exit with their own
//!   codes, which `thread_wait` returns.
//!
//! Every check prints `captest: ok <what>` or `captest: FAIL <what>: ...`;
//! the last line is `captest: <mode>: <n> checks, <f> failed`. Exit code
//! 0 only if every check passed.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};
use ferrous_rt::abi::{
    CSPACE_SLOTS, ErrorCode, ExitStatus, Grant, Handle, ObjectType, PAGE_SIZE, Perms, Rights,
    SysError, initial,
};
use ferrous_rt::checks::Checks;
use ferrous_rt::{println, sys};

ferrous_rt::entry!(main);

const CONSOLE: Handle = initial::CONSOLE;
const SPACE: Handle = initial::SELF_SPACE;
const MEMORY: Handle = initial::MEMORY;
/// init puts the program's own module here.
const MODULE: Handle = Handle(4);
/// Where children map memory and threads find their stacks.
const WINDOW: u64 = 0x5000_0000;

fn main() -> i32 {
    let arg = ferrous_rt::args().next().unwrap_or(b"");
    let text = core::str::from_utf8(arg).unwrap_or("");
    let (mode, rest) = text.split_once(':').unwrap_or((text, ""));
    let mode: &'static str = match mode {
        "confine" => "confine",
        "console-only" => "console-only",
        "revoke" => "revoke",
        "write-until-refused" => "write-until-refused",
        "wait-on-slot" => "wait-on-slot",
        "sleep" => "sleep",
        "tree" => "tree",
        "forged" => "forged",
        "memory" => "memory",
        "map-and-sleep" => "map-and-sleep",
        "threads" => "threads",
        _ => {
            println!("captest: unknown mode {text:?}");
            return 2;
        }
    };
    let mut c = Checks::new("captest");
    match mode {
        "confine" => confine(&mut c),
        "console-only" => console_only(&mut c),
        "revoke" => revoke(&mut c),
        "write-until-refused" => return write_until_refused(),
        "wait-on-slot" => return wait_on_slot(),
        "sleep" => loop {
            sys::sleep_ns(1_000_000_000);
        },
        "tree" => tree(&mut c, rest.parse().unwrap_or(0)),
        "forged" => forged(&mut c),
        "memory" => memory(&mut c),
        "map-and-sleep" => return map_and_sleep(),
        _ => threads(&mut c),
    }
    c.finish(mode)
}

/// A budget for a child, split from this process's memory.
fn budget(bytes: u64) -> Result<Handle, SysError> {
    sys::memory_split(MEMORY, bytes)
}

/// Runs `mode` as a child made from a fresh budget with `grants`; waits
/// for it. Returns its status.
fn run_child(c: &mut Checks, mode: &str, bytes: u64, grants: &[Grant]) -> Option<ExitStatus> {
    let mem = c.ok("memory_split for a child", budget(bytes))?;
    let child = c.ok(
        "process_spawn of a child",
        sys::spawn(MODULE, mem, mode.as_bytes(), grants),
    );
    let status = child.and_then(|h| {
        let s = sys::wait(h, sys::WAIT_FOREVER);
        let _ = sys::cap_delete(h);
        s.ok().flatten()
    });
    let _ = sys::cap_delete(mem);
    status
}

const CHILD_BYTES: u64 = 2 << 20;

// ----- confine -----

fn confine(c: &mut Checks) {
    let status = run_child(
        c,
        "console-only",
        CHILD_BYTES,
        &[Grant::new(CONSOLE, Rights::WRITE)],
    );
    c.check(
        "a console-only child stays confined (exit 0)",
        status == Some(ExitStatus::Exited { code: 0 }),
        status,
    );
}

fn console_only(c: &mut Checks) {
    // Its whole capability table: slot 1, nothing else.
    let held: u32 = (0..CSPACE_SLOTS)
        .filter(|&s| sys::cap_identify(Handle(s)).is_ok())
        .count() as u32;
    c.check("only one capability in the whole table", held == 1, held);
    let info = sys::cap_identify(CONSOLE);
    c.check(
        "slot 1 is a console with write only",
        matches!(info, Ok(Some(i)) if i.kind == ObjectType::Console && i.rights == Rights::WRITE),
        info,
    );
    let empty = SysError::EmptySlot { arg: 0 };
    c.expect(
        "mem_map without an address space",
        sys::mem_map(WINDOW, PAGE_SIZE, Perms::READ_WRITE),
        empty,
    );
    c.expect(
        "thread_create without an address space",
        sys::thread_create(SPACE, thread_body, WINDOW + PAGE_SIZE, 0),
        empty,
    );
    c.expect(
        "memory_split without memory",
        sys::memory_split(MEMORY, PAGE_SIZE),
        empty,
    );
    c.expect(
        "process_spawn without a module",
        sys::spawn(MODULE, MEMORY, b"", &[]),
        empty,
    );
    // Other processes cannot be named: waiting on or killing any slot
    // finds nothing (slot 1 is the wrong type).
    let touched = (2..CSPACE_SLOTS)
        .filter(|&s| sys::kill(Handle(s)) != Err(empty))
        .count();
    c.check(
        "process_kill finds no process anywhere",
        touched == 0,
        touched,
    );
    c.expect(
        "process_wait on the console",
        sys::wait(CONSOLE, 0),
        SysError::WrongObjectType { arg: 0 },
    );
    c.expect(
        "cap_copy of the console without derive",
        sys::cap_copy(CONSOLE, Handle(5)),
        SysError::MissingRight {
            arg: 0,
            missing: Rights::DERIVE,
        },
    );
}

// ----- revoke -----

fn revoke(c: &mut Checks) {
    // A derived console the parent can revoke; the child gets a copy of it.
    let lent = Handle(40);
    c.ok(
        "cap_mint a console to lend",
        sys::cap_mint(CONSOLE, lent, Rights::ALL, 0),
    );
    let Some(mem) = c.ok("memory_split", budget(CHILD_BYTES)) else {
        return;
    };
    let grants = [Grant::new(lent, Rights::WRITE)];
    let child = c.ok(
        "spawn a writer with the lent console",
        sys::spawn(MODULE, mem, b"write-until-refused", &grants),
    );
    if let Some(child) = child {
        sys::sleep_ns(50_000_000);
        let n = sys::cap_revoke(lent);
        c.check("cap_revoke deleted the child's copy", n == Ok(1), n);
        let status = sys::wait(child, sys::WAIT_FOREVER);
        let want = ExitStatus::Exited {
            code: ErrorCode::EmptySlot as u32,
        };
        c.check(
            "the child's next write failed with EmptySlot",
            status == Ok(Some(want)),
            status,
        );
        let _ = sys::cap_delete(child);
    }
    let _ = sys::cap_delete(lent);
    let _ = sys::cap_delete(mem);

    // A blocked waiter whose capability is revoked wakes with ObjectGone.
    let Some(mem) = c.ok("memory_split", budget(2 * CHILD_BYTES)) else {
        return;
    };
    let sleeper = c.ok("spawn a sleeper", sys::spawn(MODULE, mem, b"sleep", &[]));
    let Some(sleeper) = sleeper else { return };
    let grants = [
        Grant::new(CONSOLE, Rights::WRITE),
        Grant::new(sleeper, Rights::WAIT | Rights::GRANT | Rights::DERIVE),
    ];
    let waiter = c.ok(
        "spawn a waiter holding the sleeper",
        sys::spawn(MODULE, mem, b"wait-on-slot", &grants),
    );
    if let Some(waiter) = waiter {
        sys::sleep_ns(50_000_000);
        let early = sys::wait(waiter, 0);
        c.expect("the waiter is blocked", early, SysError::WouldBlock);
        let n = sys::cap_revoke(sleeper);
        c.check("cap_revoke of the sleeper's capability", n == Ok(1), n);
        let status = sys::wait(waiter, sys::WAIT_FOREVER);
        let want = ExitStatus::Exited {
            code: ErrorCode::ObjectGone as u32,
        };
        c.check(
            "the blocked waiter woke with ObjectGone",
            status == Ok(Some(want)),
            status,
        );
        let _ = sys::cap_delete(waiter);
    }
    c.ok("process_kill the sleeper", sys::kill(sleeper));
    let status = sys::wait(sleeper, sys::WAIT_FOREVER);
    c.check(
        "the sleeper ended Killed",
        status == Ok(Some(ExitStatus::Killed)),
        status,
    );
    let _ = sys::cap_delete(sleeper);
    let _ = sys::cap_delete(mem);
}

/// Writes (empty writes: nothing printed) until one fails; exits with the
/// error's code.
fn write_until_refused() -> i32 {
    let _ = sys::debug_write(b"captest: writer running\n");
    // Zero-length writes: checked like any other, print nothing.
    let write = ferrous_rt::abi::Syscall::DebugWrite {
        console: CONSOLE,
        buf: ferrous_rt::abi::UserPtr::NULL,
        len: 0,
    };
    loop {
        if let Err(e) = sys::call(write) {
            return e.code() as i32;
        }
        sys::sleep_ns(1_000_000);
    }
}

/// Blocks in `process_wait` on slot 2; exits with the error's code (or
/// 100 if the wait returned a status).
fn wait_on_slot() -> i32 {
    match sys::wait(Handle(2), sys::WAIT_FOREVER) {
        Ok(_) => 100,
        Err(e) => e.code() as i32,
    }
}

// ----- tree -----

/// What each level of the tree holds on its address space: level 1 loses
/// thread control, level 2 executable mappings.
fn space_rights(level: u32) -> Rights {
    let base = Rights::READ | Rights::WRITE;
    match level {
        0 => base | Rights::EXECUTE | Rights::CONTROL | Rights::GRANT | Rights::DERIVE,
        1 => base | Rights::EXECUTE,
        _ => base,
    }
}

/// The budget each level below 0 gets: halving.
const TREE_BYTES: [u64; 4] = [0, 8 << 20, 4 << 20, 2 << 20];
/// The console rights passed down (it must be passable).
const PASS: Rights = Rights::WRITE.union(Rights::GRANT).union(Rights::DERIVE);

fn tree(c: &mut Checks, level: u32) {
    println!("captest: tree level {level} starting");
    let info = sys::cap_identify(SPACE);
    c.check(
        "holds exactly the address-space rights it was given",
        matches!(info, Ok(Some(i)) if i.rights == space_rights(level)),
        (level, info),
    );
    let left = sys::memory_info(MEMORY).unwrap_or(0);
    if level > 0 {
        c.check(
            "its budget is at most what it was given",
            left > 0 && left <= TREE_BYTES[level as usize],
            left,
        );
    }
    c.expect(
        "memory_split beyond its budget",
        sys::memory_split(MEMORY, (left & !(PAGE_SIZE - 1)) + PAGE_SIZE),
        SysError::QuotaExceeded,
    );
    if level >= 1 {
        c.expect(
            "thread_create without control",
            sys::thread_create(SPACE, thread_body, WINDOW + PAGE_SIZE, 0),
            SysError::MissingRight {
                arg: 0,
                missing: Rights::CONTROL,
            },
        );
    }
    if level >= 2 {
        c.expect(
            "mem_map executable without execute",
            sys::mem_map(WINDOW, PAGE_SIZE, Perms::READ_EXECUTE),
            SysError::MissingRight {
                arg: 0,
                missing: Rights::EXECUTE,
            },
        );
    }
    c.ok(
        "mem_map read-write with write",
        sys::mem_map(WINDOW + 16 * PAGE_SIZE, PAGE_SIZE, Perms::READ_WRITE),
    );
    if level == 3 {
        c.expect(
            "no module at the last level",
            sys::spawn(MODULE, MEMORY, b"", &[]),
            SysError::EmptySlot { arg: 0 },
        );
        return;
    }
    let next = level + 1;
    let Some(mem) = c.ok(
        "memory_split for the next level",
        budget(TREE_BYTES[next as usize]),
    ) else {
        return;
    };
    let grants = [
        Grant::new(CONSOLE, PASS),
        Grant::child_space(space_rights(next)),
        Grant::new(mem, Rights::ALL),
        Grant::new(MODULE, Rights::ALL),
    ];
    // The last level gets no module: it cannot start anything.
    let count = if next == 3 { 3 } else { 4 };
    let arg = [b't', b'r', b'e', b'e', b':', b'0' + next as u8];
    let child = c.ok(
        "spawn the next level",
        sys::spawn(MODULE, mem, &arg, &grants[..count]),
    );
    if let Some(child) = child {
        let status = sys::wait(child, sys::WAIT_FOREVER);
        c.check(
            "the next level is confined to what it got (exit 0)",
            status == Ok(Some(ExitStatus::Exited { code: 0 })),
            (next, status),
        );
        let _ = sys::cap_delete(child);
    }
    let _ = sys::cap_delete(mem);
}

// ----- forged -----

fn forged(c: &mut Checks) {
    use SysError::*;
    c.expect(
        "slot 0 never holds a capability",
        sys::debug_write_to(Handle(0), b"x"),
        EmptySlot { arg: 0 },
    );
    c.expect(
        "an empty slot",
        sys::debug_write_to(Handle(200), b"x"),
        EmptySlot { arg: 0 },
    );
    c.expect(
        "the first slot beyond the table",
        sys::debug_write_to(Handle(CSPACE_SLOTS), b"x"),
        SlotOutOfRange { arg: 0 },
    );
    c.expect(
        "a far slot",
        sys::debug_write_to(Handle(u32::MAX), b"x"),
        SlotOutOfRange { arg: 0 },
    );
    c.expect(
        "debug_write to memory",
        sys::debug_write_to(MEMORY, b"x"),
        WrongObjectType { arg: 0 },
    );
    c.expect(
        "mem_map on the console",
        map_on(CONSOLE),
        WrongObjectType { arg: 0 },
    );
    c.expect(
        "memory_info on the address space",
        sys::memory_info(SPACE),
        WrongObjectType { arg: 0 },
    );
    c.expect(
        "process_kill on memory",
        sys::kill(MEMORY),
        WrongObjectType { arg: 0 },
    );
    c.expect(
        "thread_wait on a module",
        sys::thread_wait(MODULE, 0),
        WrongObjectType { arg: 0 },
    );
    c.expect(
        "process_spawn with the module as memory",
        sys::spawn(MODULE, MODULE, b"", &[]),
        WrongObjectType { arg: 1 },
    );
    c.expect(
        "process_spawn with the console as module",
        sys::spawn(CONSOLE, MEMORY, b"", &[]),
        WrongObjectType { arg: 0 },
    );
    // Rights: a read-only address space cannot map, and says which right.
    let ro = Handle(30);
    c.ok(
        "cap_mint a read-only address space",
        sys::cap_mint(SPACE, ro, Rights::READ, 0),
    );
    c.expect(
        "mem_map on it lacks write",
        map_on(ro),
        MissingRight {
            arg: 0,
            missing: Rights::WRITE,
        },
    );
    let info = sys::cap_identify(ro);
    c.check(
        "rights never grow: cap_copy keeps read only",
        sys::cap_copy(ro, Handle(31)).is_err()
            && matches!(info, Ok(Some(i)) if i.rights == Rights::READ),
        info,
    );
    let mid = Handle(32);
    c.ok(
        "cap_mint with read+derive",
        sys::cap_mint(SPACE, mid, Rights::READ | Rights::DERIVE, 0),
    );
    c.ok(
        "cap_mint from it asking for everything",
        sys::cap_mint(mid, Handle(33), Rights::ALL, 0),
    );
    let info = sys::cap_identify(Handle(33));
    c.check(
        "the copy has no more than its source",
        matches!(info, Ok(Some(i)) if i.rights == Rights::READ | Rights::DERIVE),
        info,
    );
    c.expect(
        "cap_copy into an occupied slot",
        sys::cap_copy(SPACE, CONSOLE),
        SlotOccupied { arg: 1 },
    );
    c.expect(
        "cap_copy into slot 0 (never filled)",
        sys::cap_copy(SPACE, Handle(0)),
        SlotOutOfRange { arg: 1 },
    );
    c.expect(
        "cap_copy to beyond the table",
        sys::cap_copy(SPACE, Handle(CSPACE_SLOTS)),
        SlotOutOfRange { arg: 1 },
    );
    c.ok(
        "cap_mint with badge 7",
        sys::cap_mint(mid, Handle(34), Rights::ALL, 7),
    );
    let info = sys::cap_identify(Handle(34));
    c.check(
        "the copy is badged",
        matches!(info, Ok(Some(i)) if i.badged),
        info,
    );
    c.expect(
        "a badge cannot be changed",
        sys::cap_mint(Handle(34), Handle(35), Rights::ALL, 9),
        BadgeAlreadySet { arg: 0 },
    );
    c.ok(
        "cap_copy keeps the badge",
        sys::cap_copy(Handle(34), Handle(35)),
    );
    let info = sys::cap_identify(Handle(35));
    c.check(
        "the badge survived the copy",
        matches!(info, Ok(Some(i)) if i.badged),
        info,
    );
    c.ok("cap_move", sys::cap_move(Handle(35), Handle(36)));
    c.expect(
        "the moved-from slot is empty",
        sys::cap_identify(Handle(35)),
        EmptySlot { arg: 0 },
    );
    c.expect(
        "cap_revoke needs derive",
        sys::cap_revoke(ro),
        MissingRight {
            arg: 0,
            missing: Rights::DERIVE,
        },
    );
    let n = sys::cap_revoke(mid);
    c.check(
        "cap_revoke deletes the three copies below it",
        n == Ok(3),
        n,
    );
    for s in [33, 34, 36] {
        c.expect(
            "a revoked copy is gone",
            sys::cap_identify(Handle(s)),
            EmptySlot { arg: 0 },
        );
    }
    c.ok("cap_delete", sys::cap_delete(mid));
    c.ok("cap_delete", sys::cap_delete(ro));
    c.expect(
        "cap_delete twice",
        sys::cap_delete(ro),
        EmptySlot { arg: 0 },
    );
    c.expect(
        "memory_split of zero bytes",
        sys::memory_split(MEMORY, 0),
        ZeroLength { arg: 1 },
    );
}

fn map_on(space: Handle) -> Result<u64, SysError> {
    // Through the raw call: the runtime's mem_map always names SELF_SPACE.
    let call = ferrous_rt::abi::Syscall::MemMap {
        space,
        addr: ferrous_rt::abi::UserPtr::new(WINDOW),
        len: PAGE_SIZE,
        perms: Perms::READ_WRITE,
    };
    sys::call(call)
}

// ----- memory -----

const SPLIT: u64 = 4 << 20;
/// What a split costs its source besides the bytes it moves: the kernel's
/// `Memory` object (docs/ABI.md, `memory_split`; 64 bytes today).
const SPLIT_OBJECT: u64 = 64;

fn memory(c: &mut Checks) {
    let Some(before) = c.ok("memory_info", sys::memory_info(MEMORY)) else {
        return;
    };
    let Some(mem) = c.ok("memory_split 4 MiB", budget(SPLIT)) else {
        return;
    };
    let after_split = sys::memory_info(MEMORY);
    c.check(
        "the split is charged to its source",
        after_split == Ok(before - SPLIT - SPLIT_OBJECT),
        (before, after_split),
    );
    // The child signals this notification once it has mapped and printed:
    // waiting for it, not for a fixed time, keeps the check independent
    // of how fast the host runs the guest.
    let Some(ready) = c.ok("notification_create", sys::notification_create(MEMORY)) else {
        return;
    };
    let grants = [
        Grant::new(CONSOLE, Rights::WRITE),
        Grant::child_space(Rights::READ | Rights::WRITE),
        Grant::new(mem, Rights::READ),
        Grant::new(ready, Rights::SIGNAL),
    ];
    let child = c.ok(
        "spawn a child that maps memory",
        sys::spawn(MODULE, mem, b"map-and-sleep", &grants),
    );
    let signalled = sys::notification_wait(ready, sys::WAIT_FOREVER);
    c.check(
        "the child has mapped its memory",
        signalled == Ok(1),
        signalled,
    );
    let used = sys::memory_info(mem).map(|left| SPLIT - left);
    c.check(
        "the child's image and mappings are charged to the split",
        matches!(used, Ok(u) if u >= 1 << 20),
        used,
    );
    if let Some(child) = child {
        let early = sys::wait(child, 0);
        c.expect("the child is still running", early, SysError::WouldBlock);
        // Deleting the split's last capability here leaves the child's
        // copy; revoking it first deletes that copy and the child's
        // process capability, which ends the child.
        let n = sys::cap_revoke(mem);
        c.check("cap_revoke of the split", matches!(n, Ok(k) if k >= 2), n);
        let status = sys::wait(child, sys::WAIT_FOREVER);
        c.expect(
            "the child's process capability went with the split",
            status,
            SysError::EmptySlot { arg: 0 },
        );
    }
    c.ok("cap_delete the split", sys::cap_delete(mem));
    c.ok("cap_delete the notification", sys::cap_delete(ready));
    // The unused part comes back at once, the child's pages as its killed
    // thread leaves (at its next return towards user mode): wait for that.
    let mut after = sys::memory_info(MEMORY);
    for _ in 0..1000 {
        if after == Ok(before) {
            break;
        }
        sys::sleep_ns(10_000_000);
        after = sys::memory_info(MEMORY);
    }
    c.check(
        "every byte came back to the source",
        after == Ok(before),
        (before, after),
    );

    // Deleting a split whose own split lives on returns only its unused
    // part: B's bytes come back when B goes, and A's object when nothing
    // refers to it any more (no budget is counted twice).
    let (Some(a), Some(_)) = (c.ok("memory_split A", budget(SPLIT + PAGE_SIZE)), Some(())) else {
        return;
    };
    let Some(b) = c.ok("memory_split B from A", sys::memory_split(a, SPLIT)) else {
        return;
    };
    c.expect(
        "A cannot split off the page it has left: the split's object costs too",
        sys::memory_split(a, PAGE_SIZE),
        SysError::QuotaExceeded,
    );
    c.ok(
        "cap_delete A (B moves up to our memory)",
        sys::cap_delete(a),
    );
    let mid = sys::memory_info(MEMORY);
    c.check(
        "B's bytes and both objects are still out",
        mid == Ok(before - SPLIT - 2 * SPLIT_OBJECT),
        (before, mid),
    );
    c.expect(
        "B is still usable but A's budget is not reusable through it",
        sys::memory_split(b, SPLIT + PAGE_SIZE),
        SysError::QuotaExceeded,
    );
    c.ok("cap_delete B", sys::cap_delete(b));
    let end = sys::memory_info(MEMORY);
    c.check("now every byte is back", end == Ok(before), (before, end));

    // A split never has more rights than its source.
    let narrow = Handle(37);
    c.ok(
        "cap_mint memory with read+write only",
        sys::cap_mint(MEMORY, narrow, Rights::READ | Rights::WRITE, 0),
    );
    if let Some(inner) = c.ok("memory_split from it", sys::memory_split(narrow, PAGE_SIZE)) {
        let info = sys::cap_identify(inner);
        c.check(
            "the split has no grant or derive",
            matches!(info, Ok(Some(i)) if i.rights == Rights::READ | Rights::WRITE),
            info,
        );
        let _ = sys::cap_delete(inner);
    }
    let _ = sys::cap_delete(narrow);
}

/// Maps 1 MiB, checks that mapping more than its budget is refused,
/// prints, sleeps until killed.
fn map_and_sleep() -> i32 {
    let ok = sys::mem_map(WINDOW, 1 << 20, Perms::READ_WRITE).is_ok();
    let over = sys::mem_map(WINDOW + (2 << 20), SPLIT, Perms::READ_WRITE);
    let refused = over == Err(SysError::QuotaExceeded);
    println!(
        "captest: child mapped 1 MiB: {ok}, beyond its budget refused with QuotaExceeded: {refused}"
    );
    // Slot 4: the parent's notification (the fourth grant).
    let _ = sys::notification_signal(Handle(4), 1);
    loop {
        sys::sleep_ns(1_000_000_000);
    }
}

// ----- threads -----

static RAN: AtomicU64 = AtomicU64::new(0);

extern "C" fn thread_body(arg: u64) -> ! {
    RAN.fetch_add(1, Ordering::SeqCst);
    sys::thread_exit(100 + arg as u32)
}

fn threads(c: &mut Checks) {
    const STACK: u64 = 4 * PAGE_SIZE;
    let Some(base) = c.ok(
        "mem_map thread stacks",
        sys::mem_map(WINDOW, 4 * STACK, Perms::READ_WRITE),
    ) else {
        return;
    };
    let mut handles = [Handle::NULL; 4];
    for (i, h) in handles.iter_mut().enumerate() {
        let top = base + (i as u64 + 1) * STACK;
        if let Some(t) = c.ok(
            "thread_create",
            sys::thread_create(SPACE, thread_body, top, i as u64),
        ) {
            *h = t;
        }
    }
    for (i, h) in handles.iter().enumerate() {
        let code = sys::thread_wait(*h, sys::WAIT_FOREVER);
        c.check(
            "thread_wait returns the thread's code",
            code == Ok(100 + i as u32),
            code,
        );
        let _ = sys::cap_delete(*h);
    }
    let ran = RAN.load(Ordering::SeqCst);
    c.check("all four threads ran", ran == 4, ran);
}
