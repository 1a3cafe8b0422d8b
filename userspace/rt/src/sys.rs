//! System calls: the raw `syscall` stub and one typed wrapper per call.
//!
//! Every wrapper builds a [`Syscall`], takes its registers from
//! [`Syscall::encode`] (so unused registers are zero, as the ABI demands)
//! and turns the result registers into a `Result` with
//! [`ferrous_abi::decode_result`]. Calls that act on the console or the
//! address space use the [`initial`] handles.

use ferrous_abi::{
    CapInfo, ExitStatus, Grant, Handle, MAX_DEBUG_WRITE, MSG_WORDS, MsgInfo, Perms, RecvInfo,
    Rights, SysError, Syscall, UserPtr, decode_result, initial,
};

pub use ferrous_abi::WAIT_FOREVER;

/// The `syscall` instruction.
pub mod raw {
    use core::arch::asm;

    /// Executes `syscall` with `rax` = `nr` and the argument registers
    /// `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9` = `args`, and returns the
    /// result registers `(rax, rdx)`. `rcx` and `r11` are clobbered; every
    /// other register is preserved by the kernel.
    ///
    /// # Safety
    ///
    /// The call must not invalidate memory that Rust code still uses: it
    /// must not unmap or re-protect the program image, the stack, the
    /// argument bytes, the heap arena or anything borrowed, and any buffer
    /// it names must be valid for the access the call makes.
    #[inline(always)]
    pub unsafe fn syscall(nr: u64, args: [u64; 6]) -> (u64, u64) {
        let rax: u64;
        let rdx: u64;
        // SAFETY: the register convention is the ABI's (docs/ABI.md): the
        // kernel reads rax and the six argument registers, writes rax and
        // rdx, and `syscall` itself overwrites rcx and r11. The kernel runs
        // on its own stack, so the user stack is untouched (`nostack`).
        // Memory may be read or written (no `nomem`/`readonly`), which is
        // what a call like `debug_write` or `mem_map` needs; the caller
        // guarantees the call does not break Rust's view of memory.
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") nr => rax,
                in("rdi") args[0],
                in("rsi") args[1],
                inlateout("rdx") args[2] => rdx,
                in("r10") args[3],
                in("r8") args[4],
                in("r9") args[5],
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        (rax, rdx)
    }

    /// As [`syscall`], for the IPC calls, whose results fill more
    /// registers: returns `rax` and `[rdx, rdi, rsi, r10, r8, r9]` as the
    /// kernel left them.
    ///
    /// # Safety
    ///
    /// As for [`syscall`].
    #[inline(always)]
    pub unsafe fn syscall_ipc(nr: u64, args: [u64; 6]) -> (u64, [u64; 6]) {
        let rax: u64;
        let (rdx, rdi, rsi, r10, r8, r9): (u64, u64, u64, u64, u64, u64);
        // SAFETY: as in `syscall`; the IPC calls also write rdi, rsi, r10,
        // r8 and r9, which are declared as outputs here.
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") nr => rax,
                inlateout("rdi") args[0] => rdi,
                inlateout("rsi") args[1] => rsi,
                inlateout("rdx") args[2] => rdx,
                inlateout("r10") args[3] => r10,
                inlateout("r8") args[4] => r8,
                inlateout("r9") args[5] => r9,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        (rax, [rdx, rdi, rsi, r10, r8, r9])
    }
}

/// Makes `call` and decodes its result: the value (`rdx`) on success.
///
/// # Safety
///
/// As for [`raw::syscall`]: `call` must not take away or re-protect memory
/// that Rust code still uses, and any buffer it names must be valid.
pub unsafe fn invoke(call: &Syscall) -> Result<u64, SysError> {
    let (nr, args) = call.encode();
    // SAFETY: the caller's obligations are this function's.
    let (rax, rdx) = unsafe { raw::syscall(nr, args) };
    decode_result(rax, rdx)
}

/// Makes any call that cannot take memory away: everything but
/// `mem_unmap` and `mem_protect` (which panic here; use
/// [`mem_unmap`], [`mem_protect`] or [`invoke`]). `debug_write` and
/// `process_spawn` only read the buffers they name.
pub fn call(call: Syscall) -> Result<u64, SysError> {
    assert!(
        !matches!(call, Syscall::MemUnmap { .. } | Syscall::MemProtect { .. }),
        "sys::call cannot make {call}: it may take memory away"
    );
    // SAFETY: the call is not mem_unmap or mem_protect (callers below pass
    // only other calls), so it takes no memory away; any buffer it names is
    // a borrowed slice that outlives the call.
    unsafe { invoke(&call) }
}

/// For the calls the ABI says cannot fail once encoded correctly: an error
/// means the kernel broke the ABI, which is worth a loud panic.
fn infallible(c: Syscall) -> u64 {
    match call(c) {
        Ok(v) => v,
        Err(e) => panic!("the kernel broke the ABI: {c} failed: {e}"),
    }
}

/// `abi_version`: the kernel's [`ferrous_abi::ABI_VERSION`].
pub fn abi_version() -> u32 {
    infallible(Syscall::AbiVersion) as u32
}

/// Writes `bytes` to the debug console ([`initial::CONSOLE`]), in pieces of
/// at most [`MAX_DEBUG_WRITE`] bytes. Stops at the first error. An empty
/// slice makes no call.
pub fn debug_write(bytes: &[u8]) -> Result<(), SysError> {
    debug_write_to(initial::CONSOLE, bytes)
}

/// [`debug_write`] to another console handle.
pub fn debug_write_to(console: Handle, bytes: &[u8]) -> Result<(), SysError> {
    for chunk in bytes.chunks(MAX_DEBUG_WRITE as usize) {
        call(Syscall::DebugWrite {
            console,
            buf: UserPtr::from_ptr(chunk.as_ptr()),
            len: chunk.len() as u64,
        })?;
    }
    Ok(())
}

/// Ends the process with `code` (`process_exit`). If the kernel ever
/// returns from the call, the process traps with `ud2`.
pub fn exit(code: u32) -> ! {
    let _ = call(Syscall::ProcessExit { code });
    // SAFETY: `ud2` only raises #UD; it touches no memory or registers.
    unsafe { core::arch::asm!("ud2", options(noreturn, nomem, nostack)) }
}

/// Starts the program in boot module `module` as a process made from
/// `memory`, with the argument bytes `args` (at most
/// [`ferrous_abi::MAX_SPAWN_ARGS`]) and the capabilities `grants` (grant `i`
/// lands in the child's slot `i + 1`); returns the process capability, for
/// [`wait`] and [`kill`].
pub fn spawn(
    module: Handle,
    memory: Handle,
    args: &[u8],
    grants: &[Grant],
) -> Result<Handle, SysError> {
    let child = call(Syscall::ProcessSpawn {
        module,
        memory,
        args: UserPtr::from_ptr(args.as_ptr()),
        args_len: args.len() as u64,
        grants: UserPtr::from_ptr(grants.as_ptr()),
        grant_count: grants.len() as u64,
    })?;
    Ok(Handle(child as u32))
}

/// Waits up to `timeout_ns` for the process to end (0 polls,
/// [`WAIT_FOREVER`] never times out). `Ok(None)` is a status word that this
/// version of the ABI does not know (from a newer kernel).
pub fn wait(process: Handle, timeout_ns: u64) -> Result<Option<ExitStatus>, SysError> {
    let raw = call(Syscall::ProcessWait {
        process,
        timeout_ns,
    })?;
    Ok(ExitStatus::from_raw(raw))
}

/// Ends a process (`process_kill`; needs control).
pub fn kill(process: Handle) -> Result<(), SysError> {
    call(Syscall::ProcessKill { process }).map(|_| ())
}

/// Lets another thread run (`thread_yield`).
pub fn yield_now() {
    infallible(Syscall::ThreadYield);
}

/// Sleeps for at least `ns` nanoseconds (`thread_sleep`).
pub fn sleep_ns(ns: u64) {
    infallible(Syscall::ThreadSleep { ns });
}

/// Nanoseconds since boot (`clock_monotonic`).
pub fn clock_monotonic() -> u64 {
    infallible(Syscall::ClockMonotonic)
}

/// Maps `len` bytes (a page multiple) of zero-filled memory with `perms`
/// into this process ([`initial::SELF_SPACE`]) and returns its address.
/// `addr` 0 lets the kernel choose; otherwise the mapping goes exactly there
/// and never replaces an existing one (`AlreadyMapped`).
pub fn mem_map(addr: u64, len: u64, perms: Perms) -> Result<u64, SysError> {
    call(Syscall::MemMap {
        space: initial::SELF_SPACE,
        addr: UserPtr::new(addr),
        len,
        perms,
    })
}

/// Unmaps `[addr, addr + len)` from this process.
///
/// # Safety
///
/// Nothing Rust code still uses may lie in the range: not the program
/// image, the stack, the argument bytes, the heap arena, or any live
/// reference.
pub unsafe fn mem_unmap(addr: u64, len: u64) -> Result<(), SysError> {
    let c = Syscall::MemUnmap {
        space: initial::SELF_SPACE,
        addr: UserPtr::new(addr),
        len,
    };
    // SAFETY: the caller guarantees that nothing in use is unmapped.
    unsafe { invoke(&c) }.map(|_| ())
}

/// Changes the permissions of `[addr, addr + len)` to `perms`.
///
/// # Safety
///
/// Memory that Rust code still uses must keep the access it needs: data
/// that is written stays writable, code that runs stays executable.
pub unsafe fn mem_protect(addr: u64, len: u64, perms: Perms) -> Result<(), SysError> {
    let c = Syscall::MemProtect {
        space: initial::SELF_SPACE,
        addr: UserPtr::new(addr),
        len,
        perms,
    };
    // SAFETY: the caller guarantees that memory in use keeps its access.
    unsafe { invoke(&c) }.map(|_| ())
}

/// Empties a capability slot (`cap_delete`). Deleting the last capability
/// to a process ends it.
pub fn cap_delete(slot: Handle) -> Result<(), SysError> {
    call(Syscall::CapDelete { slot }).map(|_| ())
}

/// A derived copy of `src` into the empty slot `dest` (`cap_copy`).
pub fn cap_copy(src: Handle, dest: Handle) -> Result<(), SysError> {
    call(Syscall::CapCopy { src, dest }).map(|_| ())
}

/// A derived copy with rights `src & rights` and, if `badge` is not 0,
/// that badge (`cap_mint`).
pub fn cap_mint(src: Handle, dest: Handle, rights: Rights, badge: u64) -> Result<(), SysError> {
    call(Syscall::CapMint {
        src,
        dest,
        rights,
        badge,
    })
    .map(|_| ())
}

pub fn cap_move(src: Handle, dest: Handle) -> Result<(), SysError> {
    call(Syscall::CapMove { src, dest }).map(|_| ())
}

/// Deletes every capability derived from `slot`, in every process;
/// returns how many.
pub fn cap_revoke(slot: Handle) -> Result<u64, SysError> {
    call(Syscall::CapRevoke { slot })
}

/// What `slot` holds. `Ok(None)`: a word this ABI version does not know.
pub fn cap_identify(slot: Handle) -> Result<Option<CapInfo>, SysError> {
    call(Syscall::CapIdentify { slot }).map(CapInfo::from_raw)
}

/// A new memory capability with `bytes` (whole pages) of `memory`'s budget.
pub fn memory_split(memory: Handle, bytes: u64) -> Result<Handle, SysError> {
    call(Syscall::MemorySplit { memory, bytes }).map(|h| Handle(h as u32))
}

/// The unused budget of a memory capability, in bytes.
pub fn memory_info(memory: Handle) -> Result<u64, SysError> {
    call(Syscall::MemoryInfo { memory })
}

/// Starts a thread in the process of `space` at `entry(arg)` on the stack
/// ending at `stack_top` (16-byte aligned; the thread starts as if called,
/// with `rsp = stack_top - 8`). Returns the thread capability.
pub fn thread_create(
    space: Handle,
    entry: extern "C" fn(u64) -> !,
    stack_top: u64,
    arg: u64,
) -> Result<Handle, SysError> {
    call(Syscall::ThreadCreate {
        space,
        entry: UserPtr::new(entry as usize as u64),
        stack_top: UserPtr::new(stack_top - 8),
        arg,
    })
    .map(|h| Handle(h as u32))
}

/// Ends the calling thread; the last thread ends the process with `code`.
pub fn thread_exit(code: u32) -> ! {
    let _ = call(Syscall::ThreadExit { code });
    // SAFETY: `ud2` only raises #UD; it touches no memory or registers.
    unsafe { core::arch::asm!("ud2", options(noreturn, nomem, nostack)) }
}

/// Waits for a thread to end and returns its exit code.
pub fn thread_wait(thread: Handle, timeout_ns: u64) -> Result<u32, SysError> {
    call(Syscall::ThreadWait { thread, timeout_ns }).map(|c| c as u32)
}

/// The time-stamp counter, for measurements (user mode may read it:
/// the kernel leaves CR4.TSD clear).
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC only reads a counter; it is permitted in ring 3 while
    // CR4.TSD is clear, which Ferrous never sets.
    unsafe { core::arch::x86_64::_rdtsc() }
}

// ----- IPC -----

/// A message as a receiver sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The badge of the capability the sender used (0: unbadged).
    pub badge: u64,
    pub info: RecvInfo,
    pub words: [u64; MSG_WORDS],
}

fn ipc(call: Syscall) -> Result<Received, SysError> {
    let (nr, args) = call.encode();
    // SAFETY: IPC calls read and write registers only (a transferred
    // capability lands in a slot, not in memory): no memory Rust uses can
    // change.
    let (rax, out) = unsafe { raw::syscall_ipc(nr, args) };
    if rax != 0 {
        return Err(match decode_result(rax, out[0]) {
            Err(e) => e,
            Ok(_) => unreachable!("rax != 0 is an error"),
        });
    }
    Ok(Received {
        badge: out[0],
        info: RecvInfo::from_raw(out[2]),
        words: [out[1], out[3], out[4], out[5]],
    })
}

/// A new endpoint made from `memory`.
pub fn endpoint_create(memory: Handle) -> Result<Handle, SysError> {
    call(Syscall::EndpointCreate { memory }).map(|h| Handle(h as u32))
}

/// A new notification made from `memory`.
pub fn notification_create(memory: Handle) -> Result<Handle, SysError> {
    call(Syscall::NotificationCreate { memory }).map(|h| Handle(h as u32))
}

/// Sends `words` (the first `info.words` of them count) and, if
/// `info.cap_slot` is not 0, that capability.
pub fn ipc_send(endpoint: Handle, info: MsgInfo, words: [u64; MSG_WORDS]) -> Result<(), SysError> {
    ipc(Syscall::IpcSend {
        endpoint,
        info,
        words,
    })
    .map(|_| ())
}

/// Sends and waits for the reply.
pub fn ipc_call(
    endpoint: Handle,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
) -> Result<Received, SysError> {
    ipc(Syscall::IpcCall {
        endpoint,
        info,
        words,
    })
}

/// Waits for a message; a capability it carries goes to `info.cap_slot`.
pub fn ipc_recv(endpoint: Handle, info: MsgInfo) -> Result<Received, SysError> {
    ipc(Syscall::IpcRecv { endpoint, info })
}

/// Answers the call this thread received last.
pub fn ipc_reply(info: MsgInfo, words: [u64; MSG_WORDS]) -> Result<(), SysError> {
    ipc(Syscall::IpcReply { info, words }).map(|_| ())
}

/// Answers the last call, then waits for the next message: a server's
/// loop in one call.
pub fn ipc_reply_recv(
    endpoint: Handle,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
) -> Result<Received, SysError> {
    ipc(Syscall::IpcReplyRecv {
        endpoint,
        info,
        words,
    })
}

/// A server loop: receives on `endpoint`, answers each call with the words
/// `handler` returns (all four), until a call fails; returns that error.
/// A reply to a caller that has gone (`CallerGone`) does not stop it.
pub fn serve(endpoint: Handle, mut handler: impl FnMut(&Received) -> [u64; MSG_WORDS]) -> SysError {
    let mut msg = match ipc_recv(endpoint, MsgInfo::default()) {
        Ok(m) => m,
        Err(e) => return e,
    };
    loop {
        let reply = handler(&msg);
        msg = match ipc_reply_recv(endpoint, MsgInfo::words(MSG_WORDS as u8), reply) {
            Ok(m) => m,
            Err(SysError::CallerGone) => match ipc_recv(endpoint, MsgInfo::default()) {
                Ok(m) => m,
                Err(e) => return e,
            },
            Err(e) => return e,
        };
    }
}

/// ORs `bits` into the notification's word.
pub fn notify_signal(notification: Handle, bits: u64) -> Result<(), SysError> {
    call(Syscall::NotifySignal { notification, bits }).map(|_| ())
}

/// Waits until the word is not zero and takes it.
pub fn notify_wait(notification: Handle, timeout_ns: u64) -> Result<u64, SysError> {
    call(Syscall::NotifyWait {
        notification,
        timeout_ns,
    })
}

/// Takes the word without waiting.
pub fn notify_poll(notification: Handle) -> Result<u64, SysError> {
    call(Syscall::NotifyPoll { notification })
}

/// Runs `thread` only on CPU `cpu` ([`ferrous_abi::ANY_CPU`]: anywhere).
pub fn thread_set_cpu(thread: Handle, cpu: u32) -> Result<(), SysError> {
    call(Syscall::ThreadSetCpu { thread, cpu }).map(|_| ())
}

/// Copies trace records of CPU `cpu` from `cursor` on into `buf` (which
/// starts with the next cursor and the skipped count, see
/// [`ferrous_abi::TRACE_READ_HEADER`]); returns how many records.
pub fn trace_read(trace: Handle, cpu: u32, cursor: u64, buf: &mut [u8]) -> Result<u64, SysError> {
    call(Syscall::TraceRead {
        trace,
        cpu,
        cursor,
        buf: UserPtr::from_ptr(buf.as_mut_ptr()),
        len: buf.len() as u64,
    })
}

/// The counters of `object` (a trace or a process capability) into `out`;
/// returns how many words were written.
pub fn metrics_read(object: Handle, out: &mut [u64]) -> Result<usize, SysError> {
    call(Syscall::MetricsRead {
        object,
        buf: UserPtr::from_ptr(out.as_mut_ptr()),
        len: (out.len() * 8) as u64,
    })
    .map(|n| n as usize)
}

/// Which trace categories are recorded from now on; returns the previous
/// set (bits of `ferrous_trace::Categories`).
pub fn trace_control(trace: Handle, categories: u32) -> Result<u32, SysError> {
    call(Syscall::TraceControl { trace, categories }).map(|c| c as u32)
}

/// Zeroed pages made from `memory` to share (`frame_create`).
pub fn frame_create(memory: Handle, bytes: u64) -> Result<Handle, SysError> {
    call(Syscall::FrameCreate { memory, bytes }).map(|h| Handle(h as u32))
}

/// Maps the whole frame into `space` at `addr` (`frame_map`); returns the
/// bytes mapped, with [`FRAME_MAP_OWN_SPACE`] set if `space` is the
/// caller's own address space.
pub fn frame_map(frame: Handle, space: Handle, addr: u64, perms: Perms) -> Result<u64, SysError> {
    call(Syscall::FrameMap {
        frame,
        space,
        addr: UserPtr::new(addr),
        perms,
    })
}

pub use ferrous_abi::FRAME_MAP_OWN_SPACE;

/// Memory shared with another process (a frame mapped into this one): the
/// other side may change it at any time, so it is read and written a byte
/// at a time with volatile accesses, never through a Rust reference.
#[derive(Clone, Copy, Debug)]
pub struct SharedBuf {
    addr: usize,
    len: usize,
}

impl SharedBuf {
    /// Maps `frame` read-write or read-only at `addr` through `space`,
    /// which must be this process's own address space (the kernel says
    /// whether it is; a buffer over another process's mapping would read
    /// this one's memory, so that is refused, after unmapping nothing: the
    /// other mapping stays, as the call made it). The length is the
    /// frame's.
    pub fn map(
        frame: Handle,
        space: Handle,
        addr: u64,
        writable: bool,
    ) -> Result<SharedBuf, SysError> {
        let perms = if writable {
            Perms::READ_WRITE
        } else {
            Perms::READ
        };
        let word = frame_map(frame, space, addr, perms)?;
        if word & FRAME_MAP_OWN_SPACE == 0 {
            return Err(SysError::WrongObjectType { arg: 1 });
        }
        Ok(SharedBuf {
            addr: addr as usize,
            len: (word & !FRAME_MAP_OWN_SPACE) as usize,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The byte at `i` (`None` beyond the end).
    pub fn read(&self, i: usize) -> Option<u8> {
        (i < self.len).then(|| {
            // SAFETY: `addr..addr + len` was mapped readable by `map` and
            // stays mapped while the frame capability is held (a revoked
            // one faults here and ends the process, which is the ABI's
            // rule); a volatile read of one byte needs no exclusive access.
            unsafe { core::ptr::read_volatile((self.addr + i) as *const u8) }
        })
    }

    /// Writes `v` at `i`; `false` beyond the end.
    pub fn write(&self, i: usize, v: u8) -> bool {
        if i >= self.len {
            return false;
        }
        // SAFETY: as for `read`, for a mapping made writable by `map`; the
        // caller asked for a writable mapping (a read-only one faults).
        unsafe { core::ptr::write_volatile((self.addr + i) as *mut u8, v) };
        true
    }
}
