//! System-call numbers.

numbered! {
    /// A system-call number, passed in `rax`. Numbers are stable and never
    /// reused; 0 is never assigned. Arguments are listed in register order
    /// (`rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`); the rest must be zero.
    pub enum Sysno {
        /// `abi_version() -> ABI_VERSION`.
        AbiVersion = 1 => "abi_version",
        /// `debug_write(console: Handle, buf: UserPtr, len)`: write bytes to
        /// the debug console, at most [`crate::MAX_DEBUG_WRITE`].
        DebugWrite = 2 => "debug_write",
        /// `process_exit(code: u32)`: end the calling process. Returns only
        /// if the call is malformed.
        ProcessExit = 3 => "process_exit",
        /// `process_spawn(module: Handle, args: UserPtr, args_len) -> Handle`:
        /// start a boot module as a child process, passing it the argument
        /// bytes; returns a handle to the child.
        ProcessSpawn = 4 => "process_spawn",
        /// `process_wait(child: Handle, timeout_ns) -> ExitStatus`: wait for
        /// a child to end. Timeout 0 polls; [`crate::WAIT_FOREVER`] never
        /// expires.
        ProcessWait = 5 => "process_wait",
        /// `thread_yield()`: give up the rest of the time slice.
        ThreadYield = 6 => "thread_yield",
        /// `thread_sleep(ns)`: block for at least `ns` nanoseconds.
        ThreadSleep = 7 => "thread_sleep",
        /// `clock_monotonic() -> ns`: nanoseconds since boot, never decreasing.
        ClockMonotonic = 8 => "clock_monotonic",
        /// `mem_map(space: Handle, addr: UserPtr, len, perms: Perms) -> addr`:
        /// map zeroed anonymous memory; `addr` 0 lets the kernel choose.
        MemMap = 9 => "mem_map",
        /// `mem_unmap(space: Handle, addr: UserPtr, len)`.
        MemUnmap = 10 => "mem_unmap",
        /// `mem_protect(space: Handle, addr: UserPtr, len, perms: Perms)`.
        MemProtect = 11 => "mem_protect",
        /// `handle_close(handle: Handle)`: empty a capability slot.
        HandleClose = 12 => "handle_close",
    }
}

impl Sysno {
    /// How many argument registers the call uses; the rest must be zero.
    pub const fn arg_count(self) -> usize {
        match self {
            Sysno::AbiVersion | Sysno::ThreadYield | Sysno::ClockMonotonic => 0,
            Sysno::ProcessExit | Sysno::ThreadSleep | Sysno::HandleClose => 1,
            Sysno::ProcessWait => 2,
            Sysno::DebugWrite | Sysno::ProcessSpawn | Sysno::MemUnmap => 3,
            Sysno::MemMap | Sysno::MemProtect => 4,
        }
    }
}
