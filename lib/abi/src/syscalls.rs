//! The system calls: one row each. Everything else about a call — its
//! number and name ([`Sysno`]), argument count, the [`Syscall`] variant,
//! `decode`, `encode`, `Display` and the typed constructor in
//! [`crate::calls`] — is generated from the row (see `table.rs`).
//!
//! Arguments are listed in register order (`rdi`, `rsi`, `rdx`, `r10`, `r8`,
//! `r9`); the rest must be zero. Every call that acts on an object names it
//! by a handle (a slot in the caller's cspace) and needs the rights
//! docs/ABI.md lists. Numbers are stable: a call's meaning never changes
//! under its number, and a number's meaning is changed only by the rule in
//! docs/ABI.md ("Versions").

use crate::UserPtr;
use crate::call::{Args, BYTES_DEBUG, BYTES_SPAWN, BYTES_TRACE, Call, PAGES};
use crate::{CapInfo, ExitStatus, Handle, MSG_WORDS, MsgInfo, Perms, Received, Rights, SysError};
use core::fmt;

/// The message words of an IPC call.
type Words = [u64; MSG_WORDS];

syscalls! {
    /// `abi_version() -> ABI_VERSION`.
    1 abi_version => AbiVersion() -> u32;
    /// `debug_write(console, buf, len)`: write bytes to the debug console,
    /// at most [`crate::MAX_DEBUG_WRITE`]. Needs a console capability with
    /// write. `len` may be 0; `buf` must be a user address even then.
    2 debug_write => DebugWrite(console: Handle = handle, buf: UserPtr = ptr,
        len: u64 = len(buf, BYTES_DEBUG)) -> ();
    /// `process_exit(code)`: end the calling process. Returns only if the
    /// call is malformed.
    3 process_exit => ProcessExit(code: u32 = u32) -> ();
    /// `process_spawn(module, memory, args, args_len, grants, grant_count)
    /// -> handle`: start a boot module as a new process made from `memory`,
    /// passing it the argument bytes and the capabilities listed in
    /// `grants` ([`crate::Grant`]s); returns a process capability.
    4 process_spawn => ProcessSpawn(module: Handle = handle, memory: Handle = handle,
        args: UserPtr = ptr, args_len: u64 = len(args, BYTES_SPAWN),
        grants: UserPtr = ptr, grant_count: u64 = grant_count(grants)) -> Handle;
    /// `process_wait(process, timeout_ns) -> ExitStatus`: wait for a
    /// process to end. Timeout 0 polls; [`crate::WAIT_FOREVER`] never
    /// expires.
    5 process_wait => ProcessWait(process: Handle = handle, timeout_ns: u64 = raw)
        -> Option<ExitStatus>;
    /// `thread_yield()`: give up the rest of the time slice.
    6 thread_yield => ThreadYield() -> ();
    /// `thread_sleep(ns)`: block for at least `ns` nanoseconds.
    7 thread_sleep => ThreadSleep(ns: u64 = raw) -> ();
    /// `clock_monotonic() -> ns`: nanoseconds since boot, never decreasing.
    8 clock_monotonic => ClockMonotonic() -> u64;
    /// `mem_map(space, addr, len, perms) -> addr`: map zeroed anonymous
    /// memory, charged to the memory the address space's process was made
    /// from. `addr` 0: anywhere the kernel chooses. Otherwise exactly
    /// there, and never over an existing mapping
    /// ([`SysError::AlreadyMapped`]).
    9 mem_map => MemMap(space: Handle = handle, addr: UserPtr = page_ptr,
        len: u64 = len(addr, PAGES) as hex, perms: Perms = perms) -> u64;
    /// `mem_unmap(space, addr, len)`.
    10 mem_unmap => MemUnmap(space: Handle = handle, addr: UserPtr = page_ptr,
        len: u64 = len(addr, PAGES) as hex) -> ();
    /// `mem_protect(space, addr, len, perms)`.
    11 mem_protect => MemProtect(space: Handle = handle, addr: UserPtr = page_ptr,
        len: u64 = len(addr, PAGES) as hex, perms: Perms = perms) -> ();
    /// `cap_delete(slot)`: empty a slot. Capabilities derived from it stay
    /// (they move up to its parent).
    12 cap_delete => CapDelete(slot: Handle = handle) -> ();
    /// `cap_copy(src, dest)`: a derived copy, same rights and badge, into
    /// the empty slot `dest`. Needs derive.
    13 cap_copy => CapCopy(src: Handle = handle, dest: Handle = handle) -> ();
    /// `cap_mint(src, dest, rights, badge)`: a derived copy with `src`'s
    /// rights masked by `rights` and, if `badge` is not 0, that badge
    /// (0 keeps the source's badge). Needs derive.
    14 cap_mint => CapMint(src: Handle = handle, dest: Handle = handle,
        rights: Rights = rights, badge: u64 = raw as hex) -> ();
    /// `cap_move(src, dest)`: move a capability to another slot, keeping
    /// its place in the derivation tree.
    15 cap_move => CapMove(src: Handle = handle, dest: Handle = handle) -> ();
    /// `cap_revoke(slot) -> deleted`: delete every capability derived from
    /// the one in `slot`, in every cspace.
    16 cap_revoke => CapRevoke(slot: Handle = handle) -> u64;
    /// `cap_identify(slot) -> CapInfo`: what the slot holds.
    17 cap_identify => CapIdentify(slot: Handle = handle) -> Option<CapInfo>;
    /// `memory_split(memory, bytes) -> handle`: a new memory capability
    /// with `bytes` (whole pages, at least one) of the budget; revoking
    /// `memory` destroys it and everything made from it. Needs write.
    18 memory_split => MemorySplit(memory: Handle = handle, bytes: u64 = pages as hex)
        -> Handle;
    /// `memory_info(memory) -> bytes`: the unused budget. Needs read.
    19 memory_info => MemoryInfo(memory: Handle = handle) -> u64;
    /// `thread_create(space, entry, stack_top, arg) -> handle`: start a
    /// thread in the address space's process. Needs control.
    20 thread_create => ThreadCreate(space: Handle = handle, entry: UserPtr = ptr,
        stack_top: UserPtr = ptr, arg: u64 = raw as hex) -> Handle;
    /// `thread_exit(code)`: end the calling thread; the last thread to end
    /// ends its process with this code.
    21 thread_exit => ThreadExit(code: u32 = u32) -> ();
    /// `thread_wait(thread, timeout_ns) -> code`: wait for a thread to end.
    /// Needs wait.
    22 thread_wait => ThreadWait(thread: Handle = handle, timeout_ns: u64 = raw) -> u32;
    /// `process_kill(process)`: end a process (status `Killed`). Needs
    /// control.
    23 process_kill => ProcessKill(process: Handle = handle) -> ();
    /// `endpoint_create(memory) -> handle`: a new endpoint made from
    /// `memory` (write); the capability has send, receive, grant, derive.
    /// The endpoint belongs to the first process that receives on it
    /// (until then, the caller's): it closes when that process ends or its
    /// last capability goes.
    24 endpoint_create => EndpointCreate(memory: Handle = handle) -> Handle;
    /// `notification_create(memory) -> handle`: signal, wait, grant,
    /// derive.
    25 notification_create => NotificationCreate(memory: Handle = handle) -> Handle;
    /// `ipc_send(endpoint, info, w0, w1, w2, w3)`: deliver a message to a
    /// receiver, waiting for one. Needs send.
    26 ipc_send => IpcSend(endpoint: Handle = handle, info: MsgInfo = info as info,
        words: Words = words as words) -> ();
    /// `ipc_recv(endpoint, info) -> message`: wait for a message. Needs
    /// receive.
    27 ipc_recv => IpcRecv(endpoint: Handle = handle, info: MsgInfo = info as info)
        -> Received;
    /// `ipc_call(endpoint, info, w0, w1, w2, w3) -> reply`: send, then wait
    /// for the receiver's reply. Needs send.
    28 ipc_call => IpcCall(endpoint: Handle = handle, info: MsgInfo = info as info,
        words: Words = words as words) -> Received;
    /// `ipc_reply(0, info, w0, w1, w2, w3)`: answer the call this thread
    /// received last (its one-shot reply capability). `rdi` must be 0.
    /// Replies carry words only: `info.cap_slot` must be 0.
    29 ipc_reply => IpcReply[1](info: MsgInfo = reply_info as info,
        words: Words = words as words) -> ();
    /// `ipc_reply_recv(endpoint, info, w0, w1, w2, w3) -> message`:
    /// `ipc_reply`, then `ipc_recv`, in one call. Needs receive.
    30 ipc_reply_recv => IpcReplyRecv(endpoint: Handle = handle, info: MsgInfo = info as info,
        words: Words = words as words) -> Received;
    /// `notification_signal(notification, bits)`: OR `bits` into the word,
    /// waking a waiter. Needs signal.
    31 notification_signal => NotificationSignal(notification: Handle = handle,
        bits: u64 = raw as hex) -> ();
    /// `notification_wait(notification, timeout_ns) -> bits`: wait until
    /// the word is not zero, then take (and clear) it. Needs wait.
    32 notification_wait => NotificationWait(notification: Handle = handle,
        timeout_ns: u64 = raw) -> u64;
    /// `notification_poll(notification) -> bits`: take the word without
    /// waiting (0 if nothing was signalled). Needs wait.
    33 notification_poll => NotificationPoll(notification: Handle = handle) -> u64;
    /// `thread_set_cpu(thread, cpu)`: run the thread only on CPU `cpu` (by
    /// boot order; [`crate::ANY_CPU`] lifts the pin). Needs control.
    34 thread_set_cpu => ThreadSetCpu(thread: Handle = handle, cpu: u32 = u32) -> ();
    /// `trace_read(trace, cpu, cursor, buf, len) -> records`: copies trace
    /// records of CPU `cpu` from `cursor` on (see
    /// [`crate::TRACE_READ_HEADER`]), without consuming them. Needs read.
    35 trace_read => TraceRead(trace: Handle = handle, cpu: u32 = u32, cursor: u64 = raw,
        buf: UserPtr = ptr, len: u64 = len(buf, BYTES_TRACE)) -> u64;
    /// `metrics_read(object, buf, len) -> words`: the kernel's counters (a
    /// trace capability) or a process's (a process capability), as `u64`
    /// words laid out as [`crate::metrics`] says. Needs read.
    36 metrics_read => MetricsRead(object: Handle = handle, buf: UserPtr = ptr,
        len: u64 = len(buf, BYTES_TRACE)) -> u64;
    /// `trace_control(trace, categories) -> previous`: which trace
    /// categories are recorded from now on. Needs control.
    37 trace_control => TraceControl(trace: Handle = handle, categories: u32 = u32 as hex)
        -> u32;
    /// `frame_create(memory, bytes) -> handle`: zeroed physical pages
    /// (whole pages, at least one), charged to `memory` (write), to share:
    /// the capability has read, write, execute, grant, derive.
    38 frame_create => FrameCreate(memory: Handle = handle, bytes: u64 = pages as hex)
        -> Handle;
    /// `frame_map(frame, space, addr, perms) -> bytes`: maps the whole frame
    /// at `addr`; the result has [`crate::FRAME_MAP_OWN_SPACE`] set if
    /// `space` is the caller's own. Needs read on the frame (and write or
    /// execute for those permissions) and write on the address space
    /// (execute too for an executable mapping). The mapping lives as long
    /// as the frame capability it was made with.
    39 frame_map => FrameMap(frame: Handle = handle, space: Handle = handle,
        addr: UserPtr = page_ptr, perms: Perms = perms) -> u64;
    /// `fault_inject(trace, every) -> previous`: for tests, every
    /// `every`-th kernel heap allocation from now on fails as if memory
    /// were exhausted (0: none). Needs control.
    40 fault_inject => FaultInject(trace: Handle = handle, every: u32 = u32) -> u32;
    /// `hw_split(range, first, count) -> handle`: a capability to part of
    /// a hardware range (`irq_line` lines, `io_ports` ports, `mmio_region`
    /// bytes in whole pages), derived from `range`, with its rights. Needs
    /// derive.
    41 hw_split => HwSplit(range: Handle = handle, first: u64 = raw as hex,
        count: u64 = raw as hex) -> Handle;
    /// `io_ports_enable(ports)`: the caller's threads may use `in` and
    /// `out` on the capability's ports, for as long as it holds that
    /// capability. Needs read and write.
    42 io_ports_enable => IoPortsEnable(ports: Handle = handle) -> ();
    /// `irq_bind(irq, line, notification, bits)`: interrupt line `line`
    /// (a global system interrupt the capability's range holds) signals
    /// `bits` on the notification at each interrupt. The line stays masked
    /// until `irq_ack`, and again after every interrupt. Needs control on
    /// `irq` and signal on the notification.
    43 irq_bind => IrqBind(irq: Handle = handle, line: u32 = u32, notification: Handle = handle,
        bits: u64 = raw as hex) -> ();
    /// `irq_ack(irq, line)`: the interrupt was handled; unmask the line.
    /// Needs control.
    44 irq_ack => IrqAck(irq: Handle = handle, line: u32 = u32) -> ();
}
