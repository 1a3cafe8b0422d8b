//! The fuzzer's own threads, the partners of its IPC and `thread_*` calls.
//!
//! Each process runs a server thread on a private endpoint (and, in a
//! swarm, one on the shared endpoint): it receives with a 20 ms timeout,
//! into its own receive slots (240 and up), and answers every call with the
//! words XOR [`REPLY_XOR`]. Short-lived worker threads (`thread_create`
//! on one of four pre-mapped stacks) signal a notification and exit.
//!
//! [`Fuzz::start`] maps the stacks and starts the servers, [`Fuzz::stop`]
//! ends them and waits for every thread; the stateful calls start the
//! workers.

use crate::pool::{RECV_BASE, RECV_SLOTS};
use crate::{Fuzz, through_faults};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use ferrous_rt::abi::{Handle, MsgInfo, ObjectType, PAGE_SIZE, Perms, SysError, initial};
use ferrous_rt::{println, sys};

/// How long a server thread waits for a message before it looks at
/// [`STOP`].
const SERVER_WAIT_US: u32 = 20_000;
/// How long a worker's `ipc_call` waits for the main thread to receive
/// and answer it.
const WORKER_CALL_US: u32 = 20_000;
/// What a server thread XORs into each word of a call it answers.
pub const REPLY_XOR: u64 = 0x5eed_f00d_cafe_0000;
/// The thread stacks (workers, then servers): outside the window, mapped
/// once at the start.
pub const STACKS: u64 = 0x6000_0000;
pub const STACK: u64 = 16 * PAGE_SIZE;
pub const WORKERS: usize = 4;
pub const SERVERS: usize = 2;

/// Tells the server threads to end.
static STOP: AtomicBool = AtomicBool::new(false);
/// Messages the server threads received.
pub static SERVED: AtomicU64 = AtomicU64::new(0);

impl Fuzz {
    /// Maps the thread stacks, makes the private endpoint and starts the
    /// server threads (one per served endpoint).
    pub fn start(&mut self, shared: Option<u32>) -> Result<(), SysError> {
        self.pool.resync(true);
        for slot in [initial::CONSOLE.0, initial::SELF_SPACE.0, initial::MEMORY.0] {
            self.pool.protect(slot, true);
        }
        // Each set-up call again while fault injection refuses it.
        through_faults(|| {
            sys::mem_map(
                STACKS,
                (WORKERS + SERVERS) as u64 * STACK,
                Perms::READ_WRITE,
            )
        })?;
        let private = through_faults(|| sys::endpoint_create(initial::MEMORY))?;
        self.private = private.0;
        self.pool.set(private.0, Some(ObjectType::Endpoint));
        self.pool.protect(private.0, true);
        self.shared = shared;
        let mut served = [Some(private.0), shared];
        for (i, ep) in served.iter_mut().enumerate() {
            let Some(ep) = ep.take() else { continue };
            self.pool.protect(ep, true);
            let recv = RECV_BASE + i as u32 * RECV_SLOTS;
            let top = STACKS + (WORKERS + i + 1) as u64 * STACK;
            let t = through_faults(|| {
                sys::thread_create(
                    initial::SELF_SPACE,
                    server,
                    top,
                    u64::from(ep) | u64::from(recv) << 32,
                )
            })?;
            self.servers[i] = t.0;
            self.pool.set(t.0, Some(ObjectType::Thread));
            self.pool.protect(t.0, true);
        }
        Ok(())
    }

    /// Stops the server threads and waits for every thread.
    pub fn stop(&mut self) {
        STOP.store(true, Ordering::Relaxed);
        let workers = self.workers.into_iter().flatten().map(|(t, _)| t);
        let threads = self.servers.into_iter().chain(workers);
        for t in threads.filter(|&t| t != 0) {
            if let Err(e) = through_faults(|| sys::thread_wait(Handle(t), 1_000_000_000)) {
                println!("fuzz: waiting for thread {t}: {e}");
            }
        }
    }
}

/// A server thread: receives on the endpoint in the low half of `arg`,
/// into the first empty one of its receive slots (from the high half),
/// and answers calls with the words XOR [`REPLY_XOR`], until [`STOP`].
extern "C" fn server(arg: u64) -> ! {
    let ep = Handle(arg as u32);
    let base = (arg >> 32) as u32;
    while !STOP.load(Ordering::Relaxed) {
        let slot = (base..base + RECV_SLOTS)
            .find(|&s| matches!(sys::cap_identify(Handle(s)), Ok(None)))
            .unwrap_or(0);
        let info = MsgInfo {
            words: 0,
            nonblocking: false,
            cap_slot: slot as u8,
            timeout_us: SERVER_WAIT_US,
        };
        match sys::ipc_recv(ep, info) {
            Ok(msg) => {
                SERVED.fetch_add(1, Ordering::Relaxed);
                if msg.info.is_call {
                    let words = msg.words.map(|w| w ^ REPLY_XOR);
                    let _ = sys::ipc_reply(MsgInfo::words(4), words);
                }
            }
            Err(SysError::TimedOut) => {}
            // The endpoint closed or went: keep looking at STOP, slowly.
            Err(_) => sys::sleep_ns(1_000_000),
        }
    }
    sys::thread_exit(0)
}

/// A worker thread: calls the endpoint in bits 8 to 15 of `arg` (if not
/// 0, waiting at most [`WORKER_CALL_US`]), signals the notification in
/// bits 0 to 7 and exits with the code in the high half.
pub extern "C" fn worker(arg: u64) -> ! {
    let code = (arg >> 32) as u32;
    let ep = (arg >> 8 & 0xff) as u32;
    if ep != 0 {
        let info = MsgInfo {
            words: 2,
            nonblocking: false,
            cap_slot: 0,
            timeout_us: WORKER_CALL_US,
        };
        let _ = sys::ipc_call(Handle(ep), info, [u64::from(code), arg, 0, 0]);
    }
    let _ = sys::notification_signal(Handle((arg & 0xff) as u32), 1 << (code & 63));
    sys::thread_exit(code)
}
