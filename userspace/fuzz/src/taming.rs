//! What keeps the fuzzer's calls from harming the fuzzer itself: the
//! tame rules ([`Fuzz::tame`]), and [`perform`], the one place the
//! registers reach the kernel, which asserts the memory rules once more.
//!
//! # Tame rules
//!
//! What the fuzzer must never do, and how it avoids it (see
//! [`Fuzz::tame`]):
//!
//! - `process_exit` (3) and `thread_exit` (21) are never called.
//! - `thread_sleep` sleeps at most 100 µs, and only one drawn sleep in 32
//!   is kept (a sleep lasts until the next scheduler tick).
//! - Nothing waits for long: `process_wait`, `thread_wait` and
//!   `notification_wait` poll (timeout 0), one in 64 with at most 100 µs;
//!   `ipc_send`, `ipc_recv`, `ipc_call` and `ipc_reply_recv` are
//!   non-blocking, except one in 64 with a timeout of at most 100 µs, and
//!   the sends and calls to an endpoint a server thread serves (its own or
//!   the shared one), which wait at most 50 ms; a non-blocking `ipc_call`
//!   gets a timeout of at most 100 µs too, because it still waits for the
//!   reply (for ever without one).
//! - `mem_unmap`, `mem_protect`, `frame_map` and fixed `mem_map`s stay in
//!   the fuzz window, which holds nothing but memory the fuzzer mapped and
//!   never touches; `mem_map` maps at most 16 pages (a kernel-chosen
//!   mapping, `addr` 0, is unmapped at once); `trace_read` and
//!   `metrics_read` write only into the window or at an unmapped address.
//! - `debug_write` reads at most 64 bytes, from an unmapped address or
//!   page 0, except for a few real writes of a fixed line.
//! - `cap_delete` and `cap_move` never take a protected slot: the console,
//!   its own address space, its memory, the endpoints the server threads
//!   serve, the server threads and the running workers; `cap_revoke` never
//!   revokes slot 3 (that would destroy the servers' endpoints).
//! - `process_spawn` never names a module, and `thread_create` names an
//!   address space only for a worker on a free stack: the others get an
//!   empty slot instead.
//! - No message carries an address space or a module (`cap_slot` becomes
//!   0), so no peer can map into this process or start copies of it.
//! - `memory_split` and `frame_create` take at most 16 pages.

use crate::rng::Rng;
use crate::{Fuzz, Planned};
use ferrous_rt::abi::{
    Handle, ObjectType, PAGE_SIZE, SysError, Syscall, Sysno, USER_MAP_END, decode_result, initial,
};
use ferrous_rt::sys;

/// The fuzz window: the only memory the fuzzer's calls may unmap,
/// re-protect or have the kernel write. It holds nothing but mappings the
/// fuzzer made and never touches.
pub const WINDOW: u64 = 0x5000_0000;
pub const WINDOW_END: u64 = 0x5100_0000;
pub const WINDOW_PAGES: u64 = (WINDOW_END - WINDOW) / PAGE_SIZE;
pub const MAX_MAP_PAGES: u64 = 16;
pub const MAX_SLEEP_NS: u64 = 100_000;
/// Keep one drawn `thread_sleep` in this many.
pub const SLEEP_ONE_IN: u64 = 32;
/// Keep one drawn blocking wait (with at most [`MAX_WAIT_US`]) in this
/// many; the others poll.
const WAIT_ONE_IN: u64 = 64;
const MAX_WAIT_US: u64 = 100;
/// The longest wait of a send or call to an endpoint a server thread
/// serves.
pub const SERVED_WAIT_US: u32 = 50_000;
pub const MAX_WRITE: u64 = 64;
/// Most real `debug_write`s (of [`REAL_LINE`]).
const REAL_WRITES: u32 = 3;
/// Nothing is ever mapped here (far from the image, the window and the
/// stack).
pub const UNMAPPED: u64 = 0x7000_0000_0000;
/// An empty slot that tamed calls are sent to instead.
const EMPTY: u64 = 200;

/// What the real writes print: from `.rodata`, or from a copy on the stack.
pub const REAL_LINE: &[u8; LINE_LEN] =
    b"fuzz: one of the few real debug_writes among the random calls\n";
pub const LINE_LEN: usize = 62;

fn in_window(addr: u64, len: u64) -> bool {
    addr >= WINDOW && addr.checked_add(len).is_some_and(|end| end <= WINDOW_END)
}

/// A page-aligned address in the window with room for `pages` pages.
pub fn window_addr(r: &mut Rng, pages: u64) -> u64 {
    WINDOW + r.below(WINDOW_PAGES - pages + 1) * PAGE_SIZE
}

/// Whether slot `h` holds a capability of one of `kinds`.
fn holds(h: Handle, kinds: &[ObjectType]) -> bool {
    matches!(sys::cap_identify(h), Ok(Some(info)) if kinds.contains(&info.kind))
}

impl Fuzz {
    /// Makes the call harmless to this program (see the module docs). Only
    /// calls that would pass decoding can act, so the others keep their
    /// arguments.
    pub fn tame(&mut self, plan: &mut Planned) {
        let (nr, args) = (plan.nr, &mut plan.args);
        match Sysno::from_raw(nr) {
            Some(Sysno::ThreadSleep) => args[0] %= MAX_SLEEP_NS + 1,
            Some(Sysno::ProcessWait | Sysno::ThreadWait | Sysno::NotificationWait) => {
                args[1] = if self.rng.one_in(WAIT_ONE_IN) {
                    self.rng.below(MAX_WAIT_US * 1000 + 1)
                } else {
                    0
                };
            }
            _ => {}
        }
        let Ok(call) = Syscall::decode(nr, *args) else {
            return;
        };
        match call {
            Syscall::DebugWrite { len, .. } => {
                let len = len % (MAX_WRITE + 1);
                args[2] = len;
                if len == 0 {
                    // Reads nothing, prints nothing: any address is fine.
                } else if self.real_writes < REAL_WRITES && self.rng.one_in(500) {
                    self.real_writes += 1;
                    // Alternately from the stack and from .rodata. The
                    // address is exposed: the kernel reads through it.
                    let line = if self.real_writes.is_multiple_of(2) {
                        self.stack_line.as_ptr()
                    } else {
                        REAL_LINE.as_ptr()
                    };
                    args[1] = line.expose_provenance() as u64;
                    args[2] = LINE_LEN as u64;
                } else if self.rng.one_in(2) {
                    args[1] = self.rng.below(PAGE_SIZE - len);
                } else {
                    args[1] = UNMAPPED + self.rng.below(1 << 30);
                }
            }
            Syscall::MemMap { addr, len, .. } => {
                let pages = 1 + (len / PAGE_SIZE - 1) % MAX_MAP_PAGES;
                args[2] = pages * PAGE_SIZE;
                if addr.addr() != 0 && !in_window(addr.addr(), args[2]) {
                    args[1] = window_addr(&mut self.rng, pages);
                }
            }
            Syscall::MemUnmap { addr, len, .. } | Syscall::MemProtect { addr, len, .. }
                if !in_window(addr.addr(), len) =>
            {
                let start = WINDOW + self.rng.below(WINDOW_PAGES) * PAGE_SIZE;
                args[1] = start;
                args[2] = len.min(WINDOW_END - start);
            }
            // A frame is at most 16 pages: all of it lands in the window.
            Syscall::FrameMap { addr, .. }
                if !in_window(addr.addr(), MAX_MAP_PAGES * PAGE_SIZE) =>
            {
                args[2] = window_addr(&mut self.rng, MAX_MAP_PAGES);
            }
            // The kernel writes these buffers: into the window or nowhere.
            Syscall::TraceRead { buf, len, .. } if !in_window(buf.addr(), len) => {
                args[3] = self.buffer(len);
            }
            Syscall::MetricsRead { buf, len, .. } if !in_window(buf.addr(), len) => {
                args[1] = self.buffer(len);
            }
            // Never give away the protected slots.
            Syscall::CapDelete { slot: h } | Syscall::CapMove { src: h, .. }
                if self.pool.is_protected(h.0) =>
            {
                args[0] = EMPTY;
            }
            Syscall::CapRevoke { slot } if slot == initial::MEMORY => args[0] = EMPTY,
            // No copies of itself, and no threads at random addresses:
            // these reach the kernel's checks with an empty slot instead.
            // (Copies and moves can put them in any slot, so ask the kernel.)
            Syscall::ProcessSpawn { module: h, .. }
                if holds(h, &[ObjectType::Module, ObjectType::AddressSpace]) =>
            {
                args[0] = EMPTY;
            }
            Syscall::ThreadCreate { space: h, .. }
                if !plan.sanctioned
                    && holds(h, &[ObjectType::Module, ObjectType::AddressSpace]) =>
            {
                args[0] = EMPTY;
            }
            // Budget splits and frames stay small, so its own mappings keep
            // working.
            Syscall::MemorySplit { bytes, .. } | Syscall::FrameCreate { bytes, .. }
                if bytes > MAX_MAP_PAGES * PAGE_SIZE =>
            {
                args[1] = PAGE_SIZE;
            }
            Syscall::IpcSend { endpoint, info, .. }
            | Syscall::IpcCall { endpoint, info, .. }
            | Syscall::IpcRecv { endpoint, info }
            | Syscall::IpcReplyRecv { endpoint, info, .. } => {
                let mut info = info;
                let sends = matches!(call, Syscall::IpcSend { .. } | Syscall::IpcCall { .. });
                // No message carries its address space or a module.
                if sends
                    && info.cap_slot != 0
                    && holds(
                        Handle(u32::from(info.cap_slot)),
                        &[ObjectType::AddressSpace, ObjectType::Module],
                    )
                {
                    info.cap_slot = 0;
                }
                // Waits are short: only for a served endpoint (a stateful
                // send or call), else rarely and briefly.
                let served =
                    sends && (endpoint.0 == self.private || Some(endpoint.0) == self.shared);
                // A non-blocking call still waits for the reply, for ever
                // without a timeout (docs/ABI.md, "Message info").
                if info.nonblocking
                    && matches!(call, Syscall::IpcCall { .. })
                    && (info.timeout_us == 0 || u64::from(info.timeout_us) > MAX_WAIT_US)
                {
                    info.timeout_us = 1 + self.rng.below(MAX_WAIT_US) as u32;
                }
                if !info.nonblocking {
                    if served {
                        if info.timeout_us == 0 || info.timeout_us > SERVED_WAIT_US {
                            info.timeout_us = SERVED_WAIT_US;
                        }
                    } else if self.rng.one_in(WAIT_ONE_IN) {
                        info.timeout_us = 1 + info.timeout_us % MAX_WAIT_US as u32;
                    } else {
                        info.nonblocking = true;
                    }
                }
                args[1] = info.to_raw();
            }
            _ => {}
        }
    }

    /// A buffer the kernel may write: in the window, or unmapped.
    fn buffer(&mut self, len: u64) -> u64 {
        if self.rng.one_in(2) && len <= WINDOW_END - WINDOW {
            WINDOW + self.rng.below((WINDOW_END - WINDOW - len) / PAGE_SIZE + 1) * PAGE_SIZE
        } else {
            UNMAPPED + self.rng.below(1 << 30)
        }
    }
}

/// Makes the call. Only here may the registers reach the kernel, and only
/// after the checks that keep this program's memory intact. Returns the
/// result and the registers an IPC call left.
#[allow(unsafe_code)]
pub fn perform(nr: u64, args: [u64; 6]) -> (Result<u64, SysError>, [u64; 6]) {
    match Syscall::decode(nr, args) {
        Ok(Syscall::ProcessExit { .. } | Syscall::ThreadExit { .. }) => {
            panic!("the fuzzer must not exit through a call")
        }
        Ok(
            Syscall::MemUnmap { addr, len, .. }
            | Syscall::MemProtect { addr, len, .. }
            | Syscall::TraceRead { buf: addr, len, .. }
            | Syscall::MetricsRead { buf: addr, len, .. },
        ) => {
            assert!(
                in_window(addr.addr(), len) || addr.addr() >= UNMAPPED,
                "a call that changes memory outside the window"
            );
        }
        Ok(Syscall::FrameMap { addr, .. }) => {
            assert!(
                in_window(addr.addr(), MAX_MAP_PAGES * PAGE_SIZE),
                "frame_map outside the window"
            );
        }
        _ => {}
    }
    let ipc = (Sysno::IpcSend as u64..=Sysno::IpcReplyRecv as u64).contains(&nr);
    if ipc {
        // SAFETY: as below; the IPC calls also write the message
        // registers, which `syscall_ipc` declares as outputs.
        let (rax, out) = unsafe { sys::raw::syscall_ipc(nr, args) };
        return (decode_result(rax, out[0]), out);
    }
    // SAFETY: a call that fails to decode does nothing. Of the calls that
    // decode, only mem_unmap, mem_protect and frame_map can take away or
    // re-protect memory, and trace_read and metrics_read write it; all are
    // confined to the fuzz window (asserted above) or an unmapped address,
    // and the window holds only mappings the fuzzer made and never
    // accesses. mem_map never replaces an existing mapping; debug_write and
    // process_spawn only read user memory; thread_create starts a thread
    // only on a worker stack (see `tame`); the rest touch none. So no
    // memory Rust code uses can change.
    let (rax, rdx) = unsafe { sys::raw::syscall(nr, args) };
    (decode_result(rax, rdx), [rdx, 0, 0, 0, 0, 0])
}

/// Unmaps a mapping the kernel just created at an address it chose.
#[allow(unsafe_code)]
pub fn unmap_fresh(addr: u64, len: u64) -> Result<(), SysError> {
    if !addr.is_multiple_of(PAGE_SIZE) || addr.checked_add(len).is_none_or(|e| e > USER_MAP_END) {
        return Ok(());
    }
    // SAFETY: mem_map just returned `[addr, addr + len)` as a new mapping,
    // which by the ABI never replaces an existing one, so nothing else
    // lives there and no reference points into it.
    unsafe { sys::mem_unmap(addr, len) }
}
