//! Trace and metrics calls: `trace_read`, `metrics_read`, `trace_control`,
//! and `fault_inject`, which the trace capability also grants.

use super::usermem::copy_out;
use crate::cap::{self, Object, kind};
use crate::process::Process;
use crate::trace;
use alloc::vec::Vec;
use ferrous_abi::{Handle, ObjectType, Rights, SysError, Sysno, UserPtr, metrics};
use ferrous_trace::EventType;

pub fn read(
    me: &Process,
    h: Handle,
    cpu: u32,
    cursor: u64,
    buf: UserPtr,
    len: u64,
) -> Result<u64, SysError> {
    cap::lookup_as::<kind::Trace>(me.cspace, Sysno::TraceRead, h, 0, Rights::READ)?;
    let room = len.saturating_sub(ferrous_abi::TRACE_READ_HEADER) / 64;
    if room == 0 {
        return Err(SysError::ZeroLength { arg: 4 });
    }
    let (records, next, skipped) = trace::read(cpu as usize, cursor, room as usize)?;
    let mut out = Vec::new();
    out.try_reserve_exact(16 + records.len() * 64)
        .map_err(|_| SysError::OutOfMemory)?;
    // alloc: reserved above (try_reserve_exact)
    out.extend_from_slice(&next.to_le_bytes());
    // alloc: reserved above (try_reserve_exact)
    out.extend_from_slice(&skipped.to_le_bytes());
    for r in &records {
        // alloc: reserved above (try_reserve_exact)
        out.extend_from_slice(&r.to_bytes());
    }
    copy_out(buf, &out, 4)?;
    Ok(records.len() as u64)
}

/// The words laid out as `ferrous_abi::metrics` says, for a trace or a
/// process capability.
pub fn metrics_read(me: &Process, object: Handle, buf: UserPtr, len: u64) -> Result<u64, SysError> {
    let op = Sysno::MetricsRead;
    // Type before rights, as for every call: a trace or a process.
    let (obj, _) = cap::lookup(me.cspace, op, object, 0, None, Rights::NONE)?;
    let kind = match obj {
        Object::Trace | Object::Process(_) => obj.kind(),
        _ => ObjectType::Trace,
    };
    let (obj, _) = cap::lookup(me.cspace, op, object, 0, Some(kind), Rights::READ)?;
    let mut words = Vec::new();
    words
        .try_reserve_exact(metrics::kernel_words(crate::arch::percpu::MAX_CPUS))
        .map_err(|_| SysError::OutOfMemory)?;
    match obj {
        Object::Trace => crate::metrics::snapshot(&mut words),
        // alloc: reserved above (kernel_words(MAX_CPUS))
        Object::Process(p) => words.extend_from_slice(&p.metrics()),
        _ => return Err(SysError::WrongObjectType { arg: 0 }),
    }
    words.truncate((len / 8) as usize);
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(words.len() * 8)
        .map_err(|_| SysError::OutOfMemory)?;
    // alloc: reserved above (try_reserve_exact)
    bytes.extend(words.iter().flat_map(|w| w.to_le_bytes()));
    copy_out(buf, &bytes, 2)?;
    Ok(words.len() as u64)
}

pub fn control(me: &Process, h: Handle, categories: u32) -> Result<u64, SysError> {
    cap::lookup_as::<kind::Trace>(me.cspace, Sysno::TraceControl, h, 0, Rights::CONTROL)?;
    let c = ferrous_trace::Categories::from_bits(categories)
        .ok_or(SysError::ReservedBitsSet { arg: 1 })?;
    let previous = trace::FILTER.get();
    trace::FILTER.set(c);
    trace::emit(EventType::TraceFilter, [u64::from(c.bits()), 0, 0, 0], 0);
    Ok(u64::from(previous.bits()))
}

pub fn fault_inject(me: &Process, h: Handle, every: u32) -> Result<u64, SysError> {
    cap::lookup_as::<kind::Trace>(me.cspace, Sysno::FaultInject, h, 0, Rights::CONTROL)?;
    let previous = crate::mm::heap::fail_every(every as usize);
    log::info!(
        "fault_inject: 1 in {every} kernel heap allocations fails from now on (0: none; was {previous}), asked by {}",
        me.name
    );
    trace::emit(EventType::TraceInject, [u64::from(every), me.id, 0, 0], 0);
    Ok(previous as u64)
}
