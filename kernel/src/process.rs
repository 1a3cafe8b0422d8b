//! User processes: an address space, one thread (for now), an exit status
//! and the children it spawned. Until capabilities land, a process's
//! handles are fixed by the ABI (`ferrous_abi::initial`): the console, its
//! own address space, boot modules (init only) and its children.

use crate::arch;
use crate::exec::{self, LoadError};
use crate::mm::kspace::UserSpace;
use crate::sync::SpinLock;
use crate::thread::{self, Priority, WaitQueue};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use ferrous_abi::ExitStatus;

/// Handles of children start here (after the module handles).
pub const FIRST_CHILD: u32 = 1024;
/// Most live children a process may hold handles to.
pub const MAX_CHILDREN: usize = 256;
const RUNNING: u64 = u64::MAX;
pub const USER_PRIORITY: Priority = Priority(12);

pub struct Process {
    pub name: &'static str,
    /// May spawn boot modules (the initial process).
    pub is_init: bool,
    space: SpinLock<Option<UserSpace>>,
    status: AtomicU64,
    exited: WaitQueue,
    children: SpinLock<Vec<Option<Arc<Process>>>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    Load(LoadError),
    Thread(thread::SpawnError),
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpawnError::Load(e) => write!(f, "{e}"),
            SpawnError::Thread(e) => write!(f, "no thread: {e:?}"),
        }
    }
}

impl Process {
    pub fn status(&self) -> Option<ExitStatus> {
        ExitStatus::from_raw(self.status.load(Ordering::SeqCst))
            .filter(|_| self.status.load(Ordering::SeqCst) != RUNNING)
    }

    /// Records `child` and returns its handle number.
    pub fn adopt(&self, child: Arc<Process>) -> Option<u32> {
        let mut c = self.children.lock();
        let slot = match c.iter().position(|s| s.is_none()) {
            Some(i) => i,
            None if c.len() < MAX_CHILDREN => {
                c.try_reserve(1).ok()?;
                c.push(None);
                c.len() - 1
            }
            None => return None,
        };
        c[slot] = Some(child);
        Some(FIRST_CHILD + slot as u32)
    }

    /// Whether `adopt` would find a slot.
    pub fn has_child_slot(&self) -> bool {
        let c = self.children.lock();
        c.len() < MAX_CHILDREN || c.iter().any(Option::is_none)
    }

    pub fn child(&self, handle: u32) -> Option<Arc<Process>> {
        let i = handle.checked_sub(FIRST_CHILD)? as usize;
        self.children.lock().get(i)?.clone()
    }

    pub fn close_child(&self, handle: u32) -> bool {
        let Some(i) = handle.checked_sub(FIRST_CHILD).map(|i| i as usize) else {
            return false;
        };
        self.children
            .lock()
            .get_mut(i)
            .and_then(Option::take)
            .is_some()
    }

    /// Blocks until the process has ended (or `timeout_ns` passed; 0 polls,
    /// `u64::MAX` waits for ever). `None` on time-out.
    pub fn wait(&self, timeout_ns: u64) -> Option<ExitStatus> {
        if timeout_ns == u64::MAX {
            self.exited
                .wait_until(|| self.status.load(Ordering::SeqCst) != RUNNING);
            return self.status();
        }
        // A bounded wait polls at tick granularity.
        let deadline = arch::time::now_ns().saturating_add(timeout_ns);
        loop {
            if let Some(s) = self.status() {
                return Some(s);
            }
            if arch::time::now_ns() >= deadline {
                return None;
            }
            thread::sleep_ns((deadline - arch::time::now_ns()).min(10_000_000));
        }
    }
}

impl Process {
    /// Runs `f` on the process's address space (`None` once it has exited).
    pub fn with_space<R>(&self, f: impl FnOnce(&mut UserSpace) -> R) -> Option<R> {
        self.space.lock().as_mut().map(f)
    }
}

/// Loads `elf` as a new process and starts its thread.
pub fn spawn(
    name: &'static str,
    elf: &[u8],
    args: &[u8],
    is_init: bool,
) -> Result<Arc<Process>, SpawnError> {
    let image = exec::load(elf, args).map_err(SpawnError::Load)?;
    let exec::Image {
        mut space,
        entry,
        stack_top,
        args: args_va,
        args_len,
        ..
    } = image;
    let root = space.root();
    let p = Arc::new(Process {
        name,
        is_init,
        space: SpinLock::new(Some(space)),
        status: AtomicU64::new(RUNNING),
        exited: WaitQueue::new(),
        children: SpinLock::new(Vec::new()),
    });
    let start = thread::UserStart {
        entry,
        stack_top,
        arg0: args_va,
        arg1: args_len,
        root,
    };
    if let Err(e) = thread::spawn_user(name, USER_PRIORITY, p.clone(), start) {
        if let Some(s) = p.space.lock().take() {
            s.destroy();
        }
        return Err(SpawnError::Thread(e));
    }
    log::info!("process {name}: started at {entry:#x}");
    Ok(p)
}

/// Ends the running process with `status`: its address space is torn down,
/// waiters are woken, and its thread exits. Never returns.
pub fn exit_current(status: ExitStatus) -> ! {
    if let Some(p) = thread::current_process() {
        log::info!("process {}: {status}", p.name);
        // The thread must not switch back to the root freed below.
        thread::leave_user_space();
        let space = p.space.lock().take();
        if let Some(space) = space {
            // Switches this CPU to the kernel's tables first.
            space.destroy();
        }
        p.status.store(status.to_raw(), Ordering::SeqCst);
        p.exited.wake_all();
    }
    thread::exit(status.to_raw())
}

/// A CPU exception in user mode, decoded by the arch layer.
pub struct UserFault {
    pub vector: u64,
    pub mnemonic: &'static str,
    pub name: &'static str,
    pub error_code: u64,
    pub rip: u64,
    pub rsp: u64,
    /// The faulting address of a page fault.
    pub addr: u64,
    /// (access, reason) of a page fault.
    pub detail: Option<(&'static str, &'static str)>,
}

/// Reports a user-mode fault and ends only the faulting process.
pub fn user_fault(f: UserFault) -> ! {
    let name = thread::current_process().map_or("?", |p| p.name);
    match f.detail {
        Some((access, why)) => log::warn!(
            "process {name} killed: {} {} at rip {:#x}: user {access} of {:#x}, {why}",
            f.mnemonic,
            f.name,
            f.rip,
            f.addr
        ),
        None => log::warn!(
            "process {name} killed: {} {} (vector {}, error code {:#x}) at rip {:#x}, rsp {:#x}",
            f.mnemonic,
            f.name,
            f.vector,
            f.error_code,
            f.rip,
            f.rsp
        ),
    }
    arch::cpu::enable_interrupts();
    exit_current(ExitStatus::Faulted {
        vector: f.vector as u8,
    })
}
