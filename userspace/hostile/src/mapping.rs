//! Attacks through mappings.
//!
//! - `tables`: page tables cost the budget that asks for them. A child
//!   with an 840 KiB budget maps one 4 KiB frame at 1 GiB strides (each
//!   mapping needs a new page table and directory) until the kernel
//!   refuses with `QuotaExceeded`; deleting the frame capability gives the
//!   tables back; then the same with anonymous pages. Before the budget
//!   paid for tables this took 254 MiB of kernel memory and panicked the
//!   kernel. The parent checks that the child's whole budget comes back.
//! - `rights`: a mapping keeps the rights of the capability it came
//!   through. A frame mapped read-only through a capability without write
//!   or execute cannot be made writable or executable with `mem_protect`;
//!   one frame is never writable at one address and executable at another
//!   (a frame is data or code for its whole life). A child that writes to
//!   its read-only mapping after the refused upgrade faults.

use ferrous_rt::abi::{ExitStatus, Grant, Handle, Perms, Rights, SysError, USER_MAP_END, initial};
use ferrous_rt::checks::Checks;
use ferrous_rt::println;
use ferrous_rt::sys::{self, SharedBuf};

use crate::MODULE;

const CHILD_BUDGET: u64 = 840 * 1024;
const GIB: u64 = 1 << 30;

/// Spawns this program in `mode` with its own budget of `bytes`, its own
/// address space and the console; returns its exit status and what of the
/// budget is unused after it ended.
fn run_child(c: &mut Checks, mode: &[u8], bytes: u64) -> Option<(ExitStatus, u64)> {
    let budget = c.ok(
        "split a budget for the child",
        sys::memory_split(initial::MEMORY, bytes),
    )?;
    let grants = [
        Grant::new(initial::CONSOLE, Rights::WRITE),
        Grant::child_space(Rights::READ | Rights::WRITE | Rights::EXECUTE),
        Grant::new(budget, Rights::ALL),
    ];
    let child = c.ok("spawn the child", sys::spawn(MODULE, budget, mode, &grants))?;
    let status = c.ok("wait for the child", sys::wait(child, sys::WAIT_FOREVER))??;
    let _ = sys::cap_delete(child);
    let left = c.ok("read the budget", sys::memory_info(budget))?;
    let _ = sys::cap_delete(budget);
    Some((status, left))
}

pub fn tables() -> i32 {
    let mut c = Checks::new("hostile");
    if let Some((status, left)) = run_child(&mut c, b"tables-child", CHILD_BUDGET) {
        c.check(
            "the child was refused and confined",
            status == ExitStatus::Exited { code: 0 },
            status,
        );
        c.check(
            "its whole budget came back when it ended",
            left == CHILD_BUDGET,
            (left, CHILD_BUDGET),
        );
    }
    // The kernel is still here and still serves this process.
    let after = sys::memory_split(initial::MEMORY, 4096);
    c.check("the kernel still works", after.is_ok(), after);
    c.finish("tables")
}

/// Maps `map(addr)` at 1 GiB strides until refused; returns how many
/// succeeded and the refusal.
fn strides(mut map: impl FnMut(u64) -> Result<u64, SysError>) -> (u64, Option<SysError>) {
    let mut mapped = 0;
    let mut addr = GIB;
    while addr < USER_MAP_END {
        if let Err(e) = map(addr) {
            return (mapped, Some(e));
        }
        mapped += 1;
        addr += GIB;
    }
    (mapped, None)
}

pub fn tables_child() -> i32 {
    let mut c = Checks::new("hostile-child");
    let before = sys::memory_info(initial::MEMORY).unwrap_or(0);
    // Most mappings the budget could pay for at two tables each.
    let bound = CHILD_BUDGET / (2 * 4096);
    if let Some(frame) = c.ok(
        "make a one-page frame",
        sys::frame_create(initial::MEMORY, 4096),
    ) {
        let (mapped, refusal) =
            strides(|addr| sys::frame_map(frame, initial::SELF_SPACE, addr, Perms::READ));
        println!(
            "hostile-child: one frame mapped {mapped} times at 1 GiB strides, then {refusal:?}"
        );
        c.check(
            "frame_map is refused when the budget cannot pay for page tables",
            refusal == Some(SysError::QuotaExceeded),
            refusal,
        );
        c.check("the budget bounded the tables", mapped < bound, mapped);
        let _ = sys::cap_delete(frame);
        let after = sys::memory_info(initial::MEMORY).unwrap_or(0);
        c.check(
            "deleting the frame gave back the frame and every table",
            after == before,
            (after, before),
        );
    }
    let (mapped, refusal) = strides(|addr| sys::mem_map(addr, 4096, Perms::READ_WRITE));
    println!("hostile-child: {mapped} anonymous pages at 1 GiB strides, then {refusal:?}");
    c.check(
        "mem_map is refused when the budget cannot pay for the page and its tables",
        refusal == Some(SysError::QuotaExceeded),
        refusal,
    );
    c.check("the budget bounded them", mapped < bound, mapped);
    c.finish("tables-child")
}

/// Free slots this mode uses for derived capabilities.
const RO: Handle = Handle(200);
const CODE_FRAME: Handle = Handle(201);
const A: u64 = 0x10_0000_0000;
const B: u64 = A + 0x10_0000;
const C: u64 = A + 0x20_0000;
const D: u64 = A + 0x30_0000;
const E: u64 = A + 0x40_0000;

pub fn rights() -> i32 {
    let mut c = Checks::new("hostile");
    let Some(frame) = c.ok("make a frame", sys::frame_create(initial::MEMORY, 4096)) else {
        return c.finish("rights");
    };
    // A server hands out a read-only view: read, grant, derive.
    let ro = Rights::READ | Rights::GRANT | Rights::DERIVE;
    c.ok(
        "mint a read-only capability",
        sys::cap_mint(frame, RO, ro, 0),
    );
    let view = c.ok(
        "map it read-only",
        SharedBuf::map(RO, initial::SELF_SPACE, A, false),
    );
    if let Some(buf) = view {
        c.expect(
            "mem_protect cannot make it writable",
            buf.protect(Perms::READ_WRITE),
            SysError::PermissionDenied { addr: A },
        );
        c.expect(
            "mem_protect cannot make it executable",
            buf.protect(Perms::READ_EXECUTE),
            SysError::PermissionDenied { addr: A },
        );
        c.ok(
            "narrowing within the rights is allowed",
            buf.protect(Perms::READ),
        );
    }
    // The full capability writes: the frame is data from now on.
    if let Some(rw) = c.ok(
        "map the frame read-write through the full capability",
        SharedBuf::map(frame, initial::SELF_SPACE, B, true),
    ) {
        rw.write(0, 0xc3);
        let seen = view.and_then(|v| v.read(0));
        c.check(
            "the read-only view sees the write",
            seen == Some(0xc3),
            seen,
        );
        c.expect(
            "a writable frame is never mapped executable elsewhere",
            sys::frame_map(frame, initial::SELF_SPACE, C, Perms::READ_EXECUTE),
            SysError::WriteAndExecute { arg: 3 },
        );
        c.expect(
            "nor made executable where it is writable",
            rw.protect(Perms::READ_EXECUTE),
            SysError::PermissionDenied { addr: B },
        );
    }
    // A frame first mapped executable is code: never writable anywhere.
    if let Some(code) = c.ok(
        "make a second frame",
        sys::frame_create(initial::MEMORY, 4096),
    ) {
        let _ = sys::cap_move(code, CODE_FRAME);
        c.ok(
            "map it read-execute",
            sys::frame_map(CODE_FRAME, initial::SELF_SPACE, D, Perms::READ_EXECUTE),
        );
        c.expect(
            "an executable frame is never mapped writable elsewhere",
            sys::frame_map(CODE_FRAME, initial::SELF_SPACE, E, Perms::READ_WRITE),
            SysError::WriteAndExecute { arg: 3 },
        );
        if let Some(view) = c.ok(
            "a read-only view of it is allowed",
            SharedBuf::map(CODE_FRAME, initial::SELF_SPACE, E, false),
        ) {
            c.expect(
                "which cannot be made writable",
                view.protect(Perms::READ_WRITE),
                SysError::PermissionDenied { addr: E },
            );
        }
    }
    // Refused is not enough: a write through the read-only mapping faults.
    if let Some((status, _)) = run_child(&mut c, b"rights-child", 1 << 20) {
        c.check(
            "a write to a read-only mapping after the refused upgrade faults",
            status == ExitStatus::Faulted { vector: 14 },
            status,
        );
    }
    c.finish("rights")
}

pub fn rights_child() -> i32 {
    let mut c = Checks::new("hostile-child");
    let Some(frame) = c.ok("make a frame", sys::frame_create(initial::MEMORY, 4096)) else {
        return c.finish("rights-child");
    };
    c.ok(
        "mint a read-only capability",
        sys::cap_mint(frame, RO, Rights::READ | Rights::GRANT, 0),
    );
    let Some(buf) = c.ok(
        "map it read-only",
        SharedBuf::map(RO, initial::SELF_SPACE, A, false),
    ) else {
        return c.finish("rights-child");
    };
    c.expect(
        "mem_protect cannot make it writable",
        buf.protect(Perms::READ_WRITE),
        SysError::PermissionDenied { addr: A },
    );
    println!("hostile-child: writing to the read-only mapping");
    buf.write(0, 1);
    println!("hostile-child: FAIL the write went through");
    3
}
