//! System calls: the raw `syscall` stub and one typed wrapper per call.
//!
//! Every wrapper takes its call from the ABI's typed constructors
//! ([`ferrous_abi::calls`], generated from the one `syscalls!` table), so
//! the registers come from [`Syscall::encode`] (unused ones zero, as the
//! ABI demands) and the result registers become the call's typed result
//! ([`CallResult`]). [`make`] is the one place that turns a
//! [`Call`] into a system call. Calls that act on the console or the
//! address space use the [`initial`] handles.

use ferrous_abi::{
    Call, CallResult, CapInfo, ExitStatus, Grant, Handle, MAX_DEBUG_WRITE, MSG_WORDS, MsgInfo,
    Perms, Rights, SysError, Syscall, UserPtr, calls, initial,
};

pub use ferrous_abi::Received;

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
    // SAFETY: the caller's obligations are this function's.
    unsafe { make_unchecked(Call::<u64>::new(*call)) }
}

/// Makes a typed call: the registers from [`Syscall::encode`], the result
/// as the call's type. The IPC calls write the message registers
/// ([`Syscall::writes_message_registers`], made with
/// [`raw::syscall_ipc`]); the rest use the cheaper [`raw::syscall`].
///
/// # Safety
///
/// As for [`raw::syscall`]: the call must not take away or re-protect
/// memory that Rust code still uses, and any buffer it names must be
/// valid.
pub unsafe fn make_unchecked<R: CallResult>(c: Call<R>) -> Result<R, SysError> {
    let (nr, args) = c.call.encode();
    let (rax, out) = if c.call.writes_message_registers() {
        // SAFETY: the caller's obligations are this function's.
        unsafe { raw::syscall_ipc(nr, args) }
    } else {
        // SAFETY: as above.
        let (rax, rdx) = unsafe { raw::syscall(nr, args) };
        (rax, [rdx, 0, 0, 0, 0, 0])
    };
    Call::<R>::result(rax, out)
}

/// Makes any typed call that cannot take memory away: everything but
/// `mem_unmap` and `mem_protect` ([`Syscall::may_take_memory`]; they panic
/// here; use [`mem_unmap`], [`mem_protect`] or [`make_unchecked`]).
/// `debug_write` and `process_spawn` only read the buffers they name; the
/// IPC calls read and write registers only (a transferred capability lands
/// in a slot, not in memory).
pub fn make<R: CallResult>(c: Call<R>) -> Result<R, SysError> {
    assert!(
        !c.call.may_take_memory(),
        "sys::make cannot make {}: it may take memory away",
        c.call
    );
    // SAFETY: the call takes no memory away (checked above); any buffer
    // it names is a borrowed slice that outlives the call.
    unsafe { make_unchecked(c) }
}

/// Makes any untyped call that cannot take memory away (the fuzzer's and
/// the ABI tests' raw calls), returning `rdx` on success. As [`make`],
/// `mem_unmap` and `mem_protect` panic here.
pub fn call(call: Syscall) -> Result<u64, SysError> {
    assert!(
        !call.may_take_memory(),
        "sys::call cannot make {call}: it may take memory away"
    );
    // SAFETY: the call is not mem_unmap or mem_protect (callers below pass
    // only other calls), so it takes no memory away; any buffer it names is
    // a borrowed slice that outlives the call.
    unsafe { invoke(&call) }
}

/// For the calls the ABI says cannot fail once encoded correctly: an error
/// means the kernel broke the ABI, which is worth a loud panic.
fn infallible<R: CallResult>(c: Call<R>) -> R {
    match make(c) {
        Ok(v) => v,
        Err(e) => panic!("the kernel broke the ABI: {} failed: {e}", c.call),
    }
}

/// `abi_version`: the kernel's [`ferrous_abi::ABI_VERSION`].
pub fn abi_version() -> u32 {
    infallible(calls::abi_version())
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
        make(calls::debug_write(
            console,
            UserPtr::from_ptr(chunk.as_ptr()),
            chunk.len() as u64,
        ))?;
    }
    Ok(())
}

/// Ends the process with `code` (`process_exit`). If the kernel ever
/// returns from the call, the process traps with `ud2`.
pub fn exit(code: u32) -> ! {
    let _ = make(calls::process_exit(code));
    // SAFETY: `ud2` only raises #UD; it touches no memory or registers.
    unsafe { core::arch::asm!("ud2", options(noreturn, nomem, nostack)) }
}

/// Everything one can do with an address space. By convention a program
/// holds its own address space with these rights (slot 2): whoever starts
/// it grants `Grant::child_space(SPACE_RIGHTS)` to [`spawn`].
pub const SPACE_RIGHTS: Rights = Rights::READ
    .union(Rights::WRITE)
    .union(Rights::EXECUTE)
    .union(Rights::CONTROL)
    .union(Rights::GRANT)
    .union(Rights::DERIVE);

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
    make(calls::process_spawn(
        module,
        memory,
        UserPtr::from_ptr(args.as_ptr()),
        args.len() as u64,
        UserPtr::from_ptr(grants.as_ptr()),
        grants.len() as u64,
    ))
}

/// Waits up to `timeout_ns` for the process to end (0 polls,
/// [`WAIT_FOREVER`] never times out). `Ok(None)` is a status word that this
/// version of the ABI does not know (from a newer kernel).
pub fn wait(process: Handle, timeout_ns: u64) -> Result<Option<ExitStatus>, SysError> {
    make(calls::process_wait(process, timeout_ns))
}

/// Ends a process (`process_kill`; needs control).
pub fn kill(process: Handle) -> Result<(), SysError> {
    make(calls::process_kill(process))
}

/// Lets another thread run (`thread_yield`).
pub fn yield_now() {
    infallible(calls::thread_yield());
}

/// Sleeps for at least `ns` nanoseconds (`thread_sleep`).
pub fn sleep_ns(ns: u64) {
    infallible(calls::thread_sleep(ns));
}

/// Nanoseconds since boot (`clock_monotonic`).
pub fn clock_monotonic() -> u64 {
    infallible(calls::clock_monotonic())
}

/// Maps `len` bytes (a page multiple) of zero-filled memory with `perms`
/// into this process ([`initial::SELF_SPACE`]) and returns its address.
/// `addr` 0 lets the kernel choose; otherwise the mapping goes exactly there
/// and never replaces an existing one (`AlreadyMapped`).
pub fn mem_map(addr: u64, len: u64, perms: Perms) -> Result<u64, SysError> {
    make(calls::mem_map(
        initial::SELF_SPACE,
        UserPtr::new(addr),
        len,
        perms,
    ))
}

/// Unmaps `[addr, addr + len)` from this process.
///
/// # Safety
///
/// Nothing Rust code still uses may lie in the range: not the program
/// image, the stack, the argument bytes, the heap arena, or any live
/// reference.
pub unsafe fn mem_unmap(addr: u64, len: u64) -> Result<(), SysError> {
    let c = calls::mem_unmap(initial::SELF_SPACE, UserPtr::new(addr), len);
    // SAFETY: the caller guarantees that nothing in use is unmapped.
    unsafe { make_unchecked(c) }
}

/// Changes the permissions of `[addr, addr + len)` to `perms`.
///
/// # Safety
///
/// Memory that Rust code still uses must keep the access it needs: data
/// that is written stays writable, code that runs stays executable.
pub unsafe fn mem_protect(addr: u64, len: u64, perms: Perms) -> Result<(), SysError> {
    let c = calls::mem_protect(initial::SELF_SPACE, UserPtr::new(addr), len, perms);
    // SAFETY: the caller guarantees that memory in use keeps its access.
    unsafe { make_unchecked(c) }
}

/// Empties a capability slot (`cap_delete`). Deleting the last capability
/// to a process ends it.
pub fn cap_delete(slot: Handle) -> Result<(), SysError> {
    make(calls::cap_delete(slot))
}

/// A derived copy of `src` into the empty slot `dest` (`cap_copy`).
pub fn cap_copy(src: Handle, dest: Handle) -> Result<(), SysError> {
    make(calls::cap_copy(src, dest))
}

/// A derived copy with rights `src & rights` and, if `badge` is not 0,
/// that badge (`cap_mint`).
pub fn cap_mint(src: Handle, dest: Handle, rights: Rights, badge: u64) -> Result<(), SysError> {
    make(calls::cap_mint(src, dest, rights, badge))
}

pub fn cap_move(src: Handle, dest: Handle) -> Result<(), SysError> {
    make(calls::cap_move(src, dest))
}

/// Deletes every capability derived from `slot`, in every process;
/// returns how many.
pub fn cap_revoke(slot: Handle) -> Result<u64, SysError> {
    make(calls::cap_revoke(slot))
}

/// What `slot` holds. `Ok(None)`: a word this ABI version does not know.
pub fn cap_identify(slot: Handle) -> Result<Option<CapInfo>, SysError> {
    make(calls::cap_identify(slot))
}

/// A new memory capability with `bytes` (whole pages) of `memory`'s budget.
pub fn memory_split(memory: Handle, bytes: u64) -> Result<Handle, SysError> {
    make(calls::memory_split(memory, bytes))
}

/// The unused budget of a memory capability, in bytes.
pub fn memory_info(memory: Handle) -> Result<u64, SysError> {
    make(calls::memory_info(memory))
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
    make(calls::thread_create(
        space,
        UserPtr::new(entry as usize as u64),
        UserPtr::new(stack_top - 8),
        arg,
    ))
}

/// Ends the calling thread; the last thread ends the process with `code`.
pub fn thread_exit(code: u32) -> ! {
    let _ = make(calls::thread_exit(code));
    // SAFETY: `ud2` only raises #UD; it touches no memory or registers.
    unsafe { core::arch::asm!("ud2", options(noreturn, nomem, nostack)) }
}

/// Waits for a thread to end and returns its exit code.
pub fn thread_wait(thread: Handle, timeout_ns: u64) -> Result<u32, SysError> {
    make(calls::thread_wait(thread, timeout_ns))
}

/// The time-stamp counter, for measurements (user mode may read it:
/// the kernel leaves CR4.TSD clear).
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC only reads a counter; it is permitted in ring 3 while
    // CR4.TSD is clear, which Ferrous never sets.
    unsafe { core::arch::x86_64::_rdtsc() }
}

// ----- IPC -----

/// A new endpoint made from `memory`.
pub fn endpoint_create(memory: Handle) -> Result<Handle, SysError> {
    make(calls::endpoint_create(memory))
}

/// A new notification made from `memory`.
pub fn notification_create(memory: Handle) -> Result<Handle, SysError> {
    make(calls::notification_create(memory))
}

/// Sends `words` (the first `info.words` of them count) and, if
/// `info.cap_slot` is not 0, that capability.
pub fn ipc_send(endpoint: Handle, info: MsgInfo, words: [u64; MSG_WORDS]) -> Result<(), SysError> {
    make(calls::ipc_send(endpoint, info, words))
}

/// Sends and waits for the reply.
pub fn ipc_call(
    endpoint: Handle,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
) -> Result<Received, SysError> {
    make(calls::ipc_call(endpoint, info, words))
}

/// Waits for a message; a capability it carries goes to `info.cap_slot`.
pub fn ipc_recv(endpoint: Handle, info: MsgInfo) -> Result<Received, SysError> {
    make(calls::ipc_recv(endpoint, info))
}

/// Answers the call this thread received last.
pub fn ipc_reply(info: MsgInfo, words: [u64; MSG_WORDS]) -> Result<(), SysError> {
    make(calls::ipc_reply(info, words))
}

/// Answers the last call, then waits for the next message: a server's
/// loop in one call.
pub fn ipc_reply_recv(
    endpoint: Handle,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
) -> Result<Received, SysError> {
    make(calls::ipc_reply_recv(endpoint, info, words))
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
pub fn notification_signal(notification: Handle, bits: u64) -> Result<(), SysError> {
    make(calls::notification_signal(notification, bits))
}

/// Waits until the word is not zero and takes it.
pub fn notification_wait(notification: Handle, timeout_ns: u64) -> Result<u64, SysError> {
    make(calls::notification_wait(notification, timeout_ns))
}

/// Takes the word without waiting.
pub fn notification_poll(notification: Handle) -> Result<u64, SysError> {
    make(calls::notification_poll(notification))
}

/// Runs `thread` only on CPU `cpu` ([`ferrous_abi::ANY_CPU`]: anywhere).
pub fn thread_set_cpu(thread: Handle, cpu: u32) -> Result<(), SysError> {
    make(calls::thread_set_cpu(thread, cpu))
}

/// Copies trace records of CPU `cpu` from `cursor` on into `buf` (which
/// starts with the next cursor and the skipped count, see
/// [`ferrous_abi::TRACE_READ_HEADER`]); returns how many records.
pub fn trace_read(trace: Handle, cpu: u32, cursor: u64, buf: &mut [u8]) -> Result<u64, SysError> {
    make(calls::trace_read(
        trace,
        cpu,
        cursor,
        UserPtr::from_ptr(buf.as_mut_ptr()),
        buf.len() as u64,
    ))
}

/// The counters of `object` (a trace or a process capability) into `out`;
/// returns how many words were written.
pub fn metrics_read(object: Handle, out: &mut [u64]) -> Result<usize, SysError> {
    make(calls::metrics_read(
        object,
        UserPtr::from_ptr(out.as_mut_ptr()),
        (out.len() * 8) as u64,
    ))
    .map(|n| n as usize)
}

/// Which trace categories are recorded from now on; returns the previous
/// set (bits of `ferrous_trace::Categories`).
pub fn trace_control(trace: Handle, categories: u32) -> Result<u32, SysError> {
    make(calls::trace_control(trace, categories))
}

/// For tests: every `every`-th kernel heap allocation fails from now on
/// (0: none); returns the previous `every` (`fault_inject`).
pub fn fault_inject(trace: Handle, every: u32) -> Result<u32, SysError> {
    make(calls::fault_inject(trace, every))
}

/// A capability to `first..first + count` of a hardware range: lines,
/// ports, or bytes in whole pages (`hw_split`).
pub fn hw_split(range: Handle, first: u64, count: u64) -> Result<Handle, SysError> {
    make(calls::hw_split(range, first, count))
}

/// Lets this process's threads use `in` and `out` on the ports of `ports`
/// for as long as it holds that capability (`io_ports_enable`; then
/// [`crate::port`]).
pub fn io_ports_enable(ports: Handle) -> Result<(), SysError> {
    make(calls::io_ports_enable(ports))
}

/// Interrupt line `line` of `irq` signals `bits` on `notification` at each
/// interrupt; it stays masked until [`irq_ack`] (`irq_bind`).
pub fn irq_bind(irq: Handle, line: u32, notification: Handle, bits: u64) -> Result<(), SysError> {
    make(calls::irq_bind(irq, line, notification, bits))
}

/// The interrupt on `line` was handled: unmask it (`irq_ack`).
pub fn irq_ack(irq: Handle, line: u32) -> Result<(), SysError> {
    make(calls::irq_ack(irq, line))
}

/// Zeroed pages made from `memory` to share (`frame_create`).
pub fn frame_create(memory: Handle, bytes: u64) -> Result<Handle, SysError> {
    make(calls::frame_create(memory, bytes))
}

/// Maps the whole frame into `space` at `addr` (`frame_map`); returns the
/// bytes mapped, with [`FRAME_MAP_OWN_SPACE`] set if `space` is the
/// caller's own address space.
pub fn frame_map(frame: Handle, space: Handle, addr: u64, perms: Perms) -> Result<u64, SysError> {
    make(calls::frame_map(frame, space, UserPtr::new(addr), perms))
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

    /// Changes the permissions of the buffer's pages (`mem_protect` on
    /// exactly its range, in this process's own space). The kernel allows
    /// at most what the frame capability it was mapped through allows
    /// (`PermissionDenied` otherwise). Safe: the buffer is never reached
    /// through a Rust reference, and a write after narrowing it faults and
    /// ends the process like any fault.
    pub fn protect(&self, perms: Perms) -> Result<(), SysError> {
        let c = calls::mem_protect(
            initial::SELF_SPACE,
            UserPtr::new(self.addr as u64),
            self.len as u64,
            perms,
        );
        // SAFETY: only this buffer's pages change, and no Rust reference
        // points into them (`read` and `write` are volatile accesses).
        unsafe { make_unchecked(c) }
    }

    /// Unmaps the buffer (`mem_unmap` on exactly its range). Safe: the
    /// buffer is consumed and was never reached through a Rust reference;
    /// a copy of it (`SharedBuf` is `Copy`) faults on its next access and
    /// ends the process, like any fault.
    pub fn unmap(self) -> Result<(), SysError> {
        let c = calls::mem_unmap(
            initial::SELF_SPACE,
            UserPtr::new(self.addr as u64),
            self.len as u64,
        );
        // SAFETY: only this buffer's pages go, and no Rust reference points
        // into them (`read` and `write` are volatile accesses).
        unsafe { make_unchecked(c) }
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
