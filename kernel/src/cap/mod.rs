//! Capabilities in the kernel: the one [`CapSystem`] (all policy: slots,
//! rights, badges, the derivation tree) plus the table of kernel objects
//! its object ids name. Everything here runs under one lock, `CAPS`,
//! which is never held while the kernel blocks, allocates frames or takes
//! another lock; what must happen to destroyed objects (a process ends, a
//! memory budget returns to its parent) happens after it is released.
//!
//! Nothing here allocates infallibly (issue 14): the object table is a
//! [`Slab`] reserved before the capability system changes, the revoked
//! notes are best effort, and teardown (a delete, a revoke, a process's
//! table going) walks what it destroys one object at a time, with ended
//! processes on a list linked through the processes themselves.
//!
//! Every refusal goes through [`deny`]: it becomes the specific
//! [`SysError`] and a `cap.denied` trace event that names the process, the
//! call, the slot and the reason, including "revoked" for a slot that was
//! emptied by a revocation.

mod deny;
mod object;
mod teardown;

pub use deny::Denial;
pub use object::{Kind, Object, kind};
use teardown::finish;
pub use teardown::{destroy_cspace, end_processes};

use crate::process::Process;
use crate::slab::Slab;
use crate::sync::IrqMutex;
use crate::trace;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use ferrous_abi::{CSPACE_SLOTS, CapInfo, Handle, SysError, Sysno};
use ferrous_caps::{CSpaceId, CapError, CapSystem, Capability, ObjectId, ObjectType, Rights};

struct State {
    sys: CapSystem,
    /// The objects, by `ObjectId` (the slab's key).
    objects: Slab<Object>,
    /// Slots emptied by a revocation and not filled since: (cspace index,
    /// generation, slot), each in the entry its hash picks. Only explains
    /// refusals: best effort (a later note may take the entry), O(1), and
    /// no allocation at all.
    revoked: [(u32, u32, u32); REVOKED_NOTES],
}

/// Heap bytes the object table can hold per capability: each object
/// there has at least one capability, and the table doubles (three
/// entries at the peak). Charged per slot with the process
/// (`process::PROCESS_OVERHEAD`).
pub const OBJECT_ENTRY_BYTES: usize = 3 * Slab::<Object>::ENTRY_BYTES;

const REVOKED_NOTES: usize = 4096;
/// An entry no slot has (generation `u32::MAX` is never handed out first).
const NO_NOTE: (u32, u32, u32) = (u32::MAX, u32::MAX, u32::MAX);

fn note_index((i, g, s): (u32, u32, u32)) -> usize {
    let h =
        (i.wrapping_mul(0x9e37_79b1) ^ g.wrapping_mul(0x85eb_ca6b) ^ s.wrapping_mul(0xc2b2_ae35))
            .rotate_left(13);
    h as usize % REVOKED_NOTES
}

static CAPS: IrqMutex<State> = IrqMutex::new(State {
    sys: CapSystem::new(),
    objects: Slab::new(0),
    revoked: [NO_NOTE; REVOKED_NOTES],
});

impl State {
    fn revoked_contains(&self, k: (u32, u32, u32)) -> bool {
        self.revoked[note_index(k)] == k
    }

    fn forget_revoked(&mut self, k: (u32, u32, u32)) {
        let at = &mut self.revoked[note_index(k)];
        if *at == k {
            *at = NO_NOTE;
        }
    }

    /// Notes a revoked slot (over whatever note had its entry).
    fn note_revoked(&mut self, k: (u32, u32, u32)) {
        self.revoked[note_index(k)] = k;
    }
}

/// Bumped by every delete and revoke: a blocked call whose wake condition
/// includes it looks at its capability again.
static EPOCH: AtomicU64 = AtomicU64::new(0);

pub fn epoch() -> u64 {
    EPOCH.load(Ordering::Acquire)
}

fn key(cspace: CSpaceId, slot: u32) -> (u32, u32, u32) {
    (cspace.index, cspace.generation, slot)
}

/// Turns a refusal into the error for argument `arg` and records it.
fn deny(st: &State, op: Sysno, cspace: CSpaceId, slot: u32, arg: u8, e: CapError) -> SysError {
    let (reason, err) = match e {
        CapError::EmptySlot { .. } if st.revoked_contains(key(cspace, slot)) => {
            (Denial::Revoked, SysError::EmptySlot { arg })
        }
        CapError::EmptySlot { .. } => (Denial::EmptySlot, SysError::EmptySlot { arg }),
        CapError::SlotOutOfRange { .. } => {
            (Denial::SlotOutOfRange, SysError::SlotOutOfRange { arg })
        }
        CapError::WrongType {
            expected, found, ..
        } => (
            Denial::WrongType { expected, found },
            SysError::WrongObjectType { arg },
        ),
        CapError::MissingRight { right, .. } => (
            Denial::MissingRight(right),
            SysError::MissingRight {
                arg,
                missing: right,
            },
        ),
        CapError::SlotOccupied { .. } => (Denial::SlotOccupied, SysError::SlotOccupied { arg }),
        CapError::BadgeAlreadySet { .. } => {
            (Denial::BadgeAlreadySet, SysError::BadgeAlreadySet { arg })
        }
        CapError::TableFull => (Denial::TableFull, SysError::TableFull),
        CapError::OutOfMemory => (Denial::OutOfMemory, SysError::OutOfMemory),
        CapError::NoSuchCSpace(_) => (Denial::ProcessEnded, SysError::ObjectGone),
        CapError::ObjectExists(o) => {
            log::error!("cap: {o} inserted twice");
            (Denial::OutOfMemory, SysError::OutOfMemory)
        }
    };
    trace::cap_denied(op, slot, reason);
    err
}

/// The caller's capability in `handle` (argument `arg` of `op`), if it
/// names a `kind` object with at least `needed`.
pub fn lookup(
    cspace: CSpaceId,
    op: Sysno,
    handle: Handle,
    arg: u8,
    kind: Option<ObjectType>,
    needed: Rights,
) -> Result<(Object, Capability), SysError> {
    let st = CAPS.lock();
    let cap = st
        .sys
        .lookup(cspace, handle.0, kind, needed)
        .map_err(|e| deny(&st, op, cspace, handle.0, arg, e))?;
    let obj = st
        .objects
        .get(cap.object.0)
        .cloned()
        .ok_or(SysError::ObjectGone)?;
    Ok((obj, cap))
}

/// [`lookup`] for one object type: the caller's capability in `handle`
/// (argument `arg` of `op`) with at least `needed`, and the object as the
/// kind's Rust type.
pub fn lookup_as<K: Kind>(
    cspace: CSpaceId,
    op: Sysno,
    handle: Handle,
    arg: u8,
    needed: Rights,
) -> Result<(K::Ref, Capability), SysError> {
    let (obj, cap) = lookup(cspace, op, handle, arg, Some(K::TYPE), needed)?;
    let r = K::from_object(obj).ok_or(SysError::ObjectGone)?;
    Ok((r, cap))
}

/// Runs `f` under the capability lock if the capability in `via` still
/// names `object` (else `ObjectGone`): what `f` records then cannot miss a
/// delete, revoke or move of that capability. `f` may take only locks that
/// come after the capability lock (a frame's mappings).
pub fn while_names<R>(
    via: (CSpaceId, u32),
    object: ObjectId,
    f: impl FnOnce() -> Result<R, SysError>,
) -> Result<R, SysError> {
    let st = CAPS.lock();
    match st.sys.lookup(via.0, via.1, None, Rights::NONE) {
        Ok(c) if c.object == object => f(),
        _ => Err(SysError::ObjectGone),
    }
}

/// Whether `handle` still names `object` (blocked calls re-check this).
pub fn still_names(cspace: CSpaceId, handle: Handle, object: ObjectId) -> bool {
    CAPS.lock()
        .sys
        .lookup(cspace, handle.0, None, Rights::NONE)
        .is_ok_and(|c| c.object == object)
}

pub fn create_cspace() -> Result<CSpaceId, SysError> {
    CAPS.lock()
        .sys
        .create_cspace(CSPACE_SLOTS)
        .map_err(|e| match e {
            CapError::TableFull => SysError::TableFull,
            _ => SysError::OutOfMemory,
        })
}

/// The lowest empty slot from 1 up (slot 0 is never filled).
fn free_slot(st: &State, cspace: CSpaceId) -> Result<u32, CapError> {
    st.sys.free_slot(cspace, 1)
}

/// Where a new object's capability goes and what it descends from.
pub enum Parent {
    /// An original (a root of the derivation tree).
    None,
    /// Made from the memory capability in this slot of the same cspace, as
    /// long as it still names this object (it was looked up earlier):
    /// revoking that capability destroys the object.
    Memory(Handle, ObjectId),
    /// A part of the hardware range in this slot of the same cspace (as
    /// long as it still names that object): revoking the range revokes it.
    Range(Handle, ObjectId),
}

/// Records `obj` and puts its capability with `rights` into `slot` (or the
/// lowest free one) of `cspace`. Returns the slot.
pub fn insert(
    cspace: CSpaceId,
    slot: Option<u32>,
    obj: Object,
    rights: Rights,
    parent: Parent,
    op: Sysno,
) -> Result<u32, SysError> {
    let mut st = CAPS.lock();
    let slot = match slot {
        Some(s) => s,
        None => free_slot(&st, cspace).map_err(|e| deny(&st, op, cspace, 0, 0, e))?,
    };
    // Room in the object table before anything changes.
    if st.objects.reserve().is_err() {
        return Err(deny(&st, op, cspace, slot, 0, CapError::OutOfMemory));
    }
    let id = ObjectId(st.objects.next_key());
    log::trace!(
        "cap.insert slot={slot} {} rights={}",
        obj.describe(),
        rights.names()
    );
    let cap = Capability::new(id, obj.kind(), rights);
    let result = match parent {
        Parent::None => st.sys.insert_original(cspace, slot, cap),
        Parent::Memory(m, expected) => {
            match st.sys.lookup(cspace, m.0, None, Rights::NONE) {
                Ok(c) if c.object == expected => {}
                // Moved or replaced since it was looked up: the object
                // must hang under the memory that paid for it.
                _ => return Err(SysError::ObjectGone),
            }
            st.sys.retype((cspace, m.0), (cspace, slot), cap)
        }
        Parent::Range(r, expected) => {
            match st.sys.lookup(cspace, r.0, None, Rights::NONE) {
                Ok(c) if c.object == expected => {}
                _ => return Err(SysError::ObjectGone),
            }
            st.sys.split((cspace, r.0), (cspace, slot), cap)
        }
    };
    result.map_err(|e| deny(&st, op, cspace, slot, 0, e))?;
    // alloc: reserved above (Slab::reserve)
    let got = st.objects.insert(obj);
    debug_assert_eq!(got, id.0);
    st.forget_revoked(key(cspace, slot));
    Ok(slot)
}

/// Puts a derived copy of `from` (in `from_cspace`) with rights masked by
/// `mask` into `to_cspace` at `to_slot`. The source needs grant and derive:
/// the holder may pass it on, and the copy stays revocable by the source.
pub fn grant(
    from_cspace: CSpaceId,
    from: Handle,
    to_cspace: CSpaceId,
    to_slot: u32,
    mask: Rights,
    op: Sysno,
    arg: u8,
) -> Result<(), SysError> {
    let mut st = CAPS.lock();
    st.sys
        .lookup(from_cspace, from.0, None, Rights::GRANT | Rights::DERIVE)
        .map_err(|e| deny(&st, op, from_cspace, from.0, arg, e))?;
    st.sys
        .mint((from_cspace, from.0), (to_cspace, to_slot), mask, None)
        .map_err(|e| deny(&st, op, from_cspace, from.0, arg, e))?;
    st.forget_revoked(key(to_cspace, to_slot));
    Ok(())
}

/// `cap_copy` and `cap_mint` within one cspace (`badge` 0: unchanged).
pub fn mint(
    cspace: CSpaceId,
    op: Sysno,
    src: Handle,
    dest: Handle,
    mask: Rights,
    badge: u64,
) -> Result<(), SysError> {
    let mut st = CAPS.lock();
    st.sys
        .lookup(cspace, src.0, None, Rights::NONE)
        .map_err(|e| deny(&st, op, cspace, src.0, 0, e))?;
    check_dest(&st, op, cspace, dest)?;
    let badge = (badge != 0).then_some(badge);
    st.sys
        .mint((cspace, src.0), (cspace, dest.0), mask, badge)
        .map_err(|e| {
            let arg = two_slot_arg(&e, src, dest);
            deny(
                &st,
                op,
                cspace,
                if arg == 0 { src.0 } else { dest.0 },
                arg,
                e,
            )
        })?;
    st.forget_revoked(key(cspace, dest.0));
    Ok(())
}

/// Slot 0 never holds a capability: as a destination it is out of range.
fn check_dest(st: &State, op: Sysno, cspace: CSpaceId, dest: Handle) -> Result<(), SysError> {
    if dest == Handle::NULL {
        return Err(deny(
            st,
            op,
            cspace,
            0,
            1,
            CapError::SlotOutOfRange { slot: 0 },
        ));
    }
    Ok(())
}

/// Which argument a two-slot call's error is about: the source is checked
/// first, so an error naming only the destination's problems is arg 1.
fn two_slot_arg(e: &CapError, src: Handle, dest: Handle) -> u8 {
    match *e {
        CapError::SlotOccupied { .. } => 1,
        CapError::SlotOutOfRange { slot } if slot == dest.0 && slot != src.0 => 1,
        _ => 0,
    }
}

pub fn move_cap(cspace: CSpaceId, src: Handle, dest: Handle) -> Result<(), SysError> {
    let mut st = CAPS.lock();
    st.sys
        .lookup(cspace, src.0, None, Rights::NONE)
        .map_err(|e| deny(&st, Sysno::CapMove, cspace, src.0, 0, e))?;
    check_dest(&st, Sysno::CapMove, cspace, dest)?;
    st.sys
        .move_cap((cspace, src.0), (cspace, dest.0))
        .map_err(|e| {
            let arg = two_slot_arg(&e, src, dest);
            let slot = if arg == 0 { src.0 } else { dest.0 };
            deny(&st, Sysno::CapMove, cspace, slot, arg, e)
        })?;
    st.forget_revoked(key(cspace, dest.0));
    // Under the lock (capabilities before frame mappings): a revoke of the
    // moved capability finds its mappings under the new slot.
    if let Some(Object::Frame(f)) = st
        .sys
        .lookup(cspace, dest.0, None, Rights::NONE)
        .ok()
        .and_then(|c| st.objects.get(c.object.0))
    {
        f.moved((cspace, src.0), (cspace, dest.0));
    }
    crate::ports::moved((cspace, src.0), (cspace, dest.0));
    crate::irqline::moved((cspace, src.0), (cspace, dest.0));
    Ok(())
}

pub fn delete(cspace: CSpaceId, slot: Handle) -> Result<(), SysError> {
    let mut frame = None;
    let (destroyed, touched) = {
        let mut st = CAPS.lock();
        let cap = st
            .sys
            .lookup(cspace, slot.0, None, Rights::NONE)
            .map_err(|e| deny(&st, Sysno::CapDelete, cspace, slot.0, 0, e))?;
        let touched = st.objects.get(cap.object.0).cloned();
        if let Some(Object::Frame(f)) = &touched {
            frame = Some(f.clone());
        }
        // Allocates nothing: cleanup after a failed call uses this too.
        let gone = st
            .sys
            .delete_one(cspace, slot.0)
            .map_err(|e| deny(&st, Sysno::CapDelete, cspace, slot.0, 0, e))?;
        (gone, touched)
    };
    if let Some(f) = frame {
        f.unmap_via((cspace, slot.0));
    }
    match touched {
        Some(Object::IoPorts { .. }) => crate::ports::gone((cspace, slot.0)),
        Some(Object::IrqLines { .. }) => crate::irqline::gone((cspace, slot.0)),
        _ => {}
    }
    finish(destroyed.as_slice(), touched);
    Ok(())
}

/// Capabilities one step of a revoke deletes under the lock; between
/// steps the lock is free and the caller may be preempted, so a revoke of
/// a large tree holds no CPU and no other caller for long.
const REVOKE_STEP: usize = 256;

/// Deletes everything derived from the capability in `slot` (which needs
/// derive); returns how many capabilities went. In steps of at most
/// [`REVOKE_STEP`] capabilities (`CapSystem::revoke_some`), each finished
/// (mappings gone, waiters failed, objects destroyed) before the next; a
/// preemption point between them. Returns once none is left: from then
/// on no thread acts through one of them. Something derived meanwhile
/// from a capability not yet deleted is deleted too, so a process that
/// derives faster than this deletes keeps its caller here; that process
/// is also the one paying for every slot it fills.
pub fn revoke(cspace: CSpaceId, slot: Handle) -> Result<usize, SysError> {
    let mut total = 0;
    loop {
        let (deleted, more) = revoke_step(cspace, slot)?;
        total += deleted;
        if !more {
            break;
        }
        crate::arch::cpu::without_interrupts(crate::thread::preempt_if_needed);
    }
    trace::cap_revoked(slot.0, total);
    Ok(total)
}

/// One step of [`revoke`]: at most [`REVOKE_STEP`] capabilities deleted
/// and finished. Returns how many, and whether any are left.
fn revoke_step(cspace: CSpaceId, slot: Handle) -> Result<(usize, bool), SysError> {
    let (destroyed, emptied, n, more) = {
        let mut st = CAPS.lock();
        st.sys
            .lookup(cspace, slot.0, None, Rights::DERIVE)
            .map_err(|e| deny(&st, Sysno::CapRevoke, cspace, slot.0, 0, e))?;
        let (r, more) = st
            .sys
            .revoke_some(cspace, slot.0, REVOKE_STEP)
            .map_err(|e| deny(&st, Sysno::CapRevoke, cspace, slot.0, 0, e))?;
        for &(s, sl, _) in &r.emptied {
            // Explaining later refusals is best effort: no memory, no note.
            st.note_revoked(key(s, sl));
        }
        // `ferrous-caps` sized both lists before it changed anything; the
        // destroyed objects stay in the table until `finish` takes them.
        (r.destroyed, r.emptied, r.deleted, more)
    };
    // Before any waiter is looked at: a call that checks its capability
    // after this sees the change (`ipc::Held::check`).
    EPOCH.fetch_add(1, Ordering::AcqRel);
    // Every capability that went: the mappings it made go, and the threads
    // waiting through it are failed, before this call returns. One object
    // at a time, found again under the lock: nothing is allocated, so no
    // step can be skipped for want of memory.
    // The object of the previous capability, kept (one `Arc`, no
    // allocation) while the next ones name it too: a revoke of many
    // copies of one object looks it up and wakes its waiters once.
    let mut last: Option<(ObjectId, Option<Object>)> = None;
    for &(s, sl, obj) in &emptied {
        if last.as_ref().is_none_or(|(id, _)| *id != obj) {
            let o = CAPS.lock().objects.get(obj.0).cloned();
            if let Some(o) = &o
                && !matches!(o, Object::Frame(_))
            {
                crate::process::wake_waiters(o);
            }
            last = Some((obj, o));
        }
        match &last {
            Some((_, Some(Object::Frame(f)))) => f.unmap_via((s, sl)),
            Some((_, Some(Object::IoPorts { .. }))) => crate::ports::gone((s, sl)),
            Some((_, Some(Object::IrqLines { .. }))) => crate::irqline::gone((s, sl)),
            _ => {}
        }
    }
    drop(last);
    finish(&destroyed, None);
    Ok((n, more))
}

pub fn identify(cspace: CSpaceId, slot: Handle) -> Result<CapInfo, SysError> {
    let st = CAPS.lock();
    let cap = st
        .sys
        .lookup(cspace, slot.0, None, Rights::NONE)
        .map_err(|e| deny(&st, Sysno::CapIdentify, cspace, slot.0, 0, e))?;
    Ok(CapInfo {
        kind: cap.kind,
        rights: cap.rights,
        badged: cap.badge != 0,
    })
}

/// Live capabilities and objects (tests, reports).
pub fn counts() -> (usize, usize) {
    let st = CAPS.lock();
    (st.sys.capabilities(), st.objects.len())
}

pub fn check_invariants() -> Result<(), &'static str> {
    let st = CAPS.lock();
    st.sys.check_invariants()?;
    if st
        .objects
        .iter()
        .any(|(id, _)| st.sys.count(ObjectId(id)) == 0)
    {
        return Err("an object without capabilities is still in the table");
    }
    Ok(())
}

/// `Ok` if the cspace has an empty slot for a handle a call will return.
pub fn free_slot_of(cspace: CSpaceId) -> Result<u32, SysError> {
    let st = CAPS.lock();
    free_slot(&st, cspace).map_err(|e| match e {
        CapError::TableFull => SysError::TableFull,
        _ => SysError::ObjectGone,
    })
}

/// Deletes the capability in `slot` if it still names `object` (cleanup
/// after a failed call, which must not delete what another thread put
/// there meanwhile).
pub fn delete_if(cspace: CSpaceId, slot: Handle, object: ObjectId) {
    if still_names(cspace, slot, object) {
        let _ = delete(cspace, slot);
    }
}

/// The object id behind `slot`, if any.
pub fn object_id(cspace: CSpaceId, slot: Handle) -> Option<ObjectId> {
    CAPS.lock()
        .sys
        .lookup(cspace, slot.0, None, Rights::NONE)
        .ok()
        .map(|c| c.object)
}
