//! What the fuzzer learns from a call that decoded ([`Fuzz::learn`]): the
//! [`Pool`](crate::pool::Pool) follows what the call did.
//!
//! The handles calls return — `memory_split`, `endpoint_create`,
//! `notification_create`, `frame_create`, `thread_create`, the
//! destinations of `cap_copy`, `cap_mint` and `cap_move`, capabilities
//! received in IPC — go into the pool with their type; a slot `cap_delete`
//! or `cap_move` emptied leaves it; a call that found a slot empty or of
//! another type has the pool read that slot again. A worker's stack is
//! free again once `thread_wait` returns its exit code. Some new handles
//! and emptied slots are checked at once or at the next step
//! ([`crate::checks`]).

use crate::threads::{STACK, STACKS};
use crate::{Fuzz, Planned, pool};
use ferrous_rt::abi::{ObjectType, RecvInfo, SysError, Syscall};

impl Fuzz {
    /// Learns from a call that decoded: the pool follows what the call
    /// did.
    pub fn learn(
        &mut self,
        index: u64,
        plan: &Planned,
        call: Syscall,
        result: Result<u64, SysError>,
        out: [u64; 6],
    ) {
        let h = |v: u64| v as u32;
        match (call, result) {
            (Syscall::MemorySplit { bytes, .. }, Ok(new)) => {
                self.pool.set(h(new), Some(ObjectType::Memory));
                if self.rng.one_in(2) {
                    self.check_split(index, h(new), bytes);
                }
            }
            (Syscall::EndpointCreate { .. }, Ok(new)) => {
                self.made(h(new), ObjectType::Endpoint);
            }
            (Syscall::NotificationCreate { .. }, Ok(new)) => {
                self.made(h(new), ObjectType::Notification);
            }
            (Syscall::FrameCreate { .. }, Ok(new)) => self.made(h(new), ObjectType::Frame),
            (Syscall::ThreadCreate { stack_top, .. }, Ok(new)) => {
                self.made(h(new), ObjectType::Thread);
                if plan.sanctioned {
                    let i = ((stack_top.addr() - STACKS) / STACK) as usize;
                    self.workers[i] = Some((h(new), (plan.args[3] >> 32) as u32));
                    self.workers_started += 1;
                    self.pool.protect(h(new), true);
                }
            }
            // Only the worker's own exit code frees its stack: the slot may
            // name another thread by now.
            (Syscall::ThreadWait { .. }, Ok(code)) => {
                if let Some(w) = self
                    .workers
                    .iter_mut()
                    .find(|w| w.is_some_and(|(_, c)| u64::from(c) == code))
                {
                    self.pool.protect(w.map_or(0, |(t, _)| t), false);
                    *w = None;
                }
            }
            (Syscall::CapCopy { src, dest } | Syscall::CapMint { src, dest, .. }, Ok(_)) => {
                let kind = self.pool.get(src.0);
                self.pool.set(dest.0, kind);
                if kind.is_none() {
                    self.pool.refresh(dest.0);
                }
            }
            (Syscall::CapMove { src, dest }, Ok(_)) => {
                let kind = self.pool.get(src.0);
                self.pool.set(src.0, None);
                self.pool.set(dest.0, kind);
                if kind.is_none() {
                    self.pool.refresh(dest.0);
                }
                self.check_empty(index, src.0);
            }
            (Syscall::CapDelete { slot }, Ok(_)) => {
                self.pool.set(slot.0, None);
                self.check_empty(index, slot.0);
            }
            (Syscall::IpcRecv { info, .. } | Syscall::IpcReplyRecv { info, .. }, Ok(_))
                if RecvInfo::from_raw(out[2]).cap_received =>
            {
                let calls = self.pool.refresh(u32::from(info.cap_slot));
                self.count_bookkeeping(calls);
            }
            (
                _,
                Err(
                    SysError::EmptySlot { arg }
                    | SysError::WrongObjectType { arg }
                    | SysError::SlotOccupied { arg },
                ),
            ) => {
                // The pool was wrong about a handle: read what it holds.
                let slot = call.encode().1.get(usize::from(arg)).copied().unwrap_or(0);
                if (1..pool::SLOTS as u64).contains(&slot) {
                    let calls = self.pool.refresh(slot as u32);
                    self.count_bookkeeping(calls);
                }
            }
            _ => {}
        }
    }

    /// A handle a create call returned: remembered, and checked at the
    /// next step.
    fn made(&mut self, slot: u32, kind: ObjectType) {
        self.pool.set(slot, Some(kind));
        if self.rng.one_in(4) {
            self.pending = Some((slot, kind));
        }
    }
}
