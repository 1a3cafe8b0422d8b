//! System-call numbers.

numbered! {
    /// A system-call number, passed in `rax`. Numbers are stable and, since
    /// version 2 (which gave 12 to `cap_delete`), never reused; 0 is never
    /// assigned. Arguments are listed in register order
    /// (`rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`); the rest must be zero.
    /// Every call that acts on an object names it by a capability
    /// ([`crate::Handle`]) and needs the rights docs/ABI.md lists.
    pub enum Sysno {
        /// `abi_version() -> ABI_VERSION`.
        AbiVersion = 1 => "abi_version",
        /// `debug_write(console: Handle, buf: UserPtr, len)`: write bytes to
        /// the debug console, at most [`crate::MAX_DEBUG_WRITE`]. Needs a
        /// console capability with write.
        DebugWrite = 2 => "debug_write",
        /// `process_exit(code: u32)`: end the calling process. Returns only
        /// if the call is malformed.
        ProcessExit = 3 => "process_exit",
        /// `process_spawn(module: Handle, memory: Handle, args: UserPtr,
        /// args_len, grants: UserPtr, grant_count) -> Handle`: start a boot
        /// module as a new process made from `memory`, passing it the
        /// argument bytes and the capabilities listed in `grants`
        /// ([`crate::Grant`]); returns a process capability.
        ProcessSpawn = 4 => "process_spawn",
        /// `process_wait(process: Handle, timeout_ns) -> ExitStatus`: wait
        /// for a process to end. Timeout 0 polls; [`crate::WAIT_FOREVER`]
        /// never expires.
        ProcessWait = 5 => "process_wait",
        /// `thread_yield()`: give up the rest of the time slice.
        ThreadYield = 6 => "thread_yield",
        /// `thread_sleep(ns)`: block for at least `ns` nanoseconds.
        ThreadSleep = 7 => "thread_sleep",
        /// `clock_monotonic() -> ns`: nanoseconds since boot, never decreasing.
        ClockMonotonic = 8 => "clock_monotonic",
        /// `mem_map(space: Handle, addr: UserPtr, len, perms: Perms) -> addr`:
        /// map zeroed anonymous memory, charged to the memory the space's
        /// process was made from.
        MemMap = 9 => "mem_map",
        /// `mem_unmap(space: Handle, addr: UserPtr, len)`.
        MemUnmap = 10 => "mem_unmap",
        /// `mem_protect(space: Handle, addr: UserPtr, len, perms: Perms)`.
        MemProtect = 11 => "mem_protect",
        /// `cap_delete(slot: Handle)`: empty a slot. Capabilities derived
        /// from it stay (they move up to its parent).
        CapDelete = 12 => "cap_delete",
        /// `cap_copy(src: Handle, dest: Handle)`: a derived copy, same
        /// rights and badge, into the empty slot `dest`. Needs derive.
        CapCopy = 13 => "cap_copy",
        /// `cap_mint(src: Handle, dest: Handle, rights: Rights, badge)`: a
        /// derived copy with `src`'s rights masked by `rights` and, if
        /// `badge` is not 0, that badge. Needs derive.
        CapMint = 14 => "cap_mint",
        /// `cap_move(src: Handle, dest: Handle)`: move a capability to
        /// another slot, keeping its place in the derivation tree.
        CapMove = 15 => "cap_move",
        /// `cap_revoke(slot: Handle) -> deleted`: delete every capability
        /// derived from the one in `slot`, in every process.
        CapRevoke = 16 => "cap_revoke",
        /// `cap_identify(slot: Handle) -> CapInfo`: what the slot holds.
        CapIdentify = 17 => "cap_identify",
        /// `memory_split(memory: Handle, bytes) -> Handle`: a new memory
        /// capability with `bytes` of the budget; revoking `memory` destroys
        /// it and everything made from it. Needs write.
        MemorySplit = 18 => "memory_split",
        /// `memory_info(memory: Handle) -> bytes`: the unused budget. Needs
        /// read.
        MemoryInfo = 19 => "memory_info",
        /// `thread_create(space: Handle, entry: UserPtr, stack_top: UserPtr,
        /// arg) -> Handle`: start a thread in the space's process. Needs
        /// control.
        ThreadCreate = 20 => "thread_create",
        /// `thread_exit(code: u32)`: end the calling thread; the last
        /// thread to end ends its process with this code.
        ThreadExit = 21 => "thread_exit",
        /// `thread_wait(thread: Handle, timeout_ns) -> code`: wait for a
        /// thread to end. Needs wait.
        ThreadWait = 22 => "thread_wait",
        /// `process_kill(process: Handle)`: end a process (status
        /// `Killed`). Needs control.
        ProcessKill = 23 => "process_kill",
        /// `endpoint_create(memory: Handle) -> Handle`: a new endpoint made
        /// from `memory` (write); the capability has send, receive, grant,
        /// derive. The endpoint belongs to the first process that receives
        /// on it (until then, the caller's): it closes when that process
        /// ends or its last capability goes.
        EndpointCreate = 24 => "endpoint_create",
        /// `notification_create(memory: Handle) -> Handle`: signal, wait,
        /// grant, derive.
        NotificationCreate = 25 => "notification_create",
        /// `ipc_send(endpoint: Handle, info: MsgInfo, w0, w1, w2, w3)`:
        /// deliver a message to a receiver, waiting for one. Needs send.
        IpcSend = 26 => "ipc_send",
        /// `ipc_recv(endpoint: Handle, info: MsgInfo) -> message`: wait for
        /// a message. Needs receive.
        IpcRecv = 27 => "ipc_recv",
        /// `ipc_call(endpoint: Handle, info: MsgInfo, w0, w1, w2, w3) ->
        /// reply`: send, then wait for the receiver's reply. Needs send.
        IpcCall = 28 => "ipc_call",
        /// `ipc_reply(0, info: MsgInfo, w0, w1, w2, w3)`: answer the call
        /// this thread received last (its one-shot reply capability).
        /// Replies carry words only: `info.cap_slot` must be 0.
        IpcReply = 29 => "ipc_reply",
        /// `ipc_reply_recv(endpoint: Handle, info: MsgInfo, w0, w1, w2, w3)
        /// -> message`: `ipc_reply`, then `ipc_recv`, in one call. Needs
        /// receive.
        IpcReplyRecv = 30 => "ipc_reply_recv",
        /// `notify_signal(notification: Handle, bits)`: OR `bits` into the
        /// word, waking a waiter. Needs signal.
        NotifySignal = 31 => "notify_signal",
        /// `notify_wait(notification: Handle, timeout_ns) -> bits`: wait
        /// until the word is not zero, then take (and clear) it. Needs wait.
        NotifyWait = 32 => "notify_wait",
        /// `notify_poll(notification: Handle) -> bits`: take the word
        /// without waiting (0 if nothing was signalled). Needs wait.
        NotifyPoll = 33 => "notify_poll",
        /// `thread_set_cpu(thread: Handle, cpu: u32)`: run the thread only
        /// on CPU `cpu` (by boot order; [`crate::ANY_CPU`] lifts the pin).
        /// Needs control.
        ThreadSetCpu = 34 => "thread_set_cpu",
        /// `trace_read(trace: Handle, cpu: u32, cursor, buf: UserPtr, len)
        /// -> records`: copies trace records of CPU `cpu` from `cursor` on
        /// (see [`crate::TRACE_READ_HEADER`]), without consuming them.
        /// Needs read.
        TraceRead = 35 => "trace_read",
        /// `metrics_read(object: Handle, buf: UserPtr, len) -> words`: the
        /// kernel's counters (a trace capability) or a process's (a process
        /// capability), as `u64` words. Needs read.
        MetricsRead = 36 => "metrics_read",
        /// `trace_control(trace: Handle, categories: u32) -> previous`:
        /// which trace categories are recorded from now on. Needs control.
        TraceControl = 37 => "trace_control",
        /// `frame_create(memory: Handle, bytes) -> Handle`: zeroed physical
        /// pages, charged to `memory` (write), to share: the capability has
        /// read, write, execute, grant, derive.
        FrameCreate = 38 => "frame_create",
        /// `frame_map(frame: Handle, space: Handle, addr: UserPtr, perms:
        /// Perms) -> bytes`: maps the whole frame at `addr`; the result
        /// has [`crate::FRAME_MAP_OWN_SPACE`] set if `space` is the
        /// caller's own. Needs read on the frame
        /// (and write or execute for those permissions) and write on the
        /// address space (execute too for an executable mapping). The
        /// mapping lives as long as the frame capability it was made with.
        FrameMap = 39 => "frame_map",
    }
}

impl Sysno {
    /// How many argument registers the call uses; the rest must be zero.
    pub const fn arg_count(self) -> usize {
        match self {
            Sysno::AbiVersion | Sysno::ThreadYield | Sysno::ClockMonotonic => 0,
            Sysno::ProcessExit
            | Sysno::ThreadSleep
            | Sysno::CapDelete
            | Sysno::CapRevoke
            | Sysno::CapIdentify
            | Sysno::MemoryInfo
            | Sysno::ThreadExit
            | Sysno::ProcessKill
            | Sysno::EndpointCreate
            | Sysno::NotificationCreate
            | Sysno::NotifyPoll => 1,
            Sysno::ProcessWait
            | Sysno::CapCopy
            | Sysno::CapMove
            | Sysno::MemorySplit
            | Sysno::ThreadWait
            | Sysno::IpcRecv
            | Sysno::NotifySignal
            | Sysno::NotifyWait
            | Sysno::ThreadSetCpu
            | Sysno::TraceControl
            | Sysno::FrameCreate => 2,
            Sysno::DebugWrite | Sysno::MemUnmap | Sysno::MetricsRead => 3,
            Sysno::MemMap
            | Sysno::MemProtect
            | Sysno::CapMint
            | Sysno::ThreadCreate
            | Sysno::FrameMap => 4,
            Sysno::TraceRead => 5,
            Sysno::ProcessSpawn
            | Sysno::IpcSend
            | Sysno::IpcCall
            | Sysno::IpcReply
            | Sysno::IpcReplyRecv => 6,
        }
    }
}
