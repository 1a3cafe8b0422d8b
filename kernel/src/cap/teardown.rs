//! Taking capabilities and objects apart without recursion or
//! allocation: a cspace emptied slot by slot, the objects whose last
//! capability went destroyed one at a time, and the processes that end
//! meanwhile on a list linked through themselves.

use super::*;

/// Processes that ended and still have their table to take apart: a
/// stack linked through the processes (`Process::next_ended`), so that
/// ending a tree of processes allocates nothing.
#[derive(Default)]
pub(super) struct Ended(Option<Arc<Process>>);

impl Ended {
    fn push(&mut self, p: Arc<Process>) {
        p.set_next_ended(self.0.take());
        self.0 = Some(p);
    }

    fn pop(&mut self) -> Option<Arc<Process>> {
        let p = self.0.take()?;
        self.0 = p.take_next_ended();
        Some(p)
    }
}

/// Deletes every capability in the cspace, then the cspace.
pub fn destroy_cspace(cspace: CSpaceId) {
    let mut ended = Ended::default();
    clear_cspace(cspace, &mut ended);
    drain(ended);
}

/// Empties and removes the cspace, one capability at a time (as
/// `cap_delete` on each slot, in slot order), destroying each object
/// whose last capability goes and putting the processes that end on
/// `ended`. Allocates nothing: a process's end cannot fail.
pub(super) fn clear_cspace(cspace: CSpaceId, ended: &mut Ended) {
    EPOCH.fetch_add(1, Ordering::AcqRel);
    let mut from = 0;
    loop {
        let gone = {
            let mut st = CAPS.lock();
            let Ok(Some(slot)) = st.sys.used_slot(cspace, from) else {
                break;
            };
            from = slot + 1;
            st.sys.delete_one(cspace, slot).ok().flatten()
        };
        if let Some(id) = gone {
            destroy(id, ended);
        }
    }
    // Again after the deletes: a blocked call that sampled the epoch
    // meanwhile looks at its capability again.
    EPOCH.fetch_add(1, Ordering::AcqRel);
    {
        let mut st = CAPS.lock();
        // Empty now: nothing to return, nothing allocated.
        let _ = st.sys.destroy_cspace(cspace);
        for note in st.revoked.iter_mut() {
            if (note.0, note.1) == (cspace.index, cspace.generation) {
                *note = NO_NOTE;
            }
        }
    }
    // I/O port grants made through its capabilities end.
    crate::ports::cspace_gone(cspace);
    crate::irqline::cspace_gone(cspace);
    // Mappings made through the cspace's frame capabilities go with it:
    // every frame, one at a time, found again under the lock.
    let mut at = 0;
    loop {
        let next = CAPS
            .lock()
            .objects
            .find_from(at, |o| matches!(o, Object::Frame(_)))
            .map(|(i, _, o)| {
                at = i + 1;
                o.clone()
            });
        match next {
            Some(Object::Frame(f)) => f.unmap_cspace(cspace),
            Some(_) => {}
            None => return,
        }
    }
}

/// Ends `first` with `status` and, one after another, every process whose
/// last capability goes with an ended process's table (`Killed`).
pub fn end_processes(first: Arc<Process>, status: ferrous_abi::ExitStatus) {
    if first.mark_ended(status) {
        let mut ended = Ended::default();
        // alloc: none (a list linked through the processes)
        ended.push(first);
        drain(ended);
    }
}

/// After the lock: wake the waiters of `touched` (an object that lost a
/// capability), then carry out the destructions of `destroyed` (objects
/// whose last capability went, still in the table), one at a time.
pub(super) fn finish(destroyed: &[ObjectId], touched: Option<Object>) {
    EPOCH.fetch_add(1, Ordering::AcqRel);
    if let Some(o) = &touched {
        crate::process::wake_waiters(o);
    }
    let mut ended = Ended::default();
    for &id in destroyed {
        destroy(id, &mut ended);
    }
    drain(ended);
}

/// Finishes ending processes already marked ended: each one's table goes,
/// which may end more; a work list, not recursion.
pub(super) fn drain(mut ended: Ended) {
    while let Some(p) = ended.pop() {
        clear_cspace(p.cspace, &mut ended);
        p.after_end();
    }
}

/// Takes a destroyed object (no capability names it any more) out of the
/// table, wakes its waiters and destroys it; a process is marked ended
/// (`Killed`) and put on `ended` for the caller to finish without
/// recursion.
pub(super) fn destroy(id: ObjectId, ended: &mut Ended) {
    let Some(o) = CAPS.lock().objects.remove(id.0) else {
        return;
    };
    crate::process::wake_waiters(&o);
    match o {
        Object::Process(p) => {
            if p.mark_ended(ferrous_abi::ExitStatus::Killed) {
                // alloc: none (a list linked through the processes)
                ended.push(p);
            }
        }
        o => o.destroyed(),
    }
}
