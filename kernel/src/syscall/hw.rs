//! Hardware calls (issue 17): `hw_split`, a capability to part of an
//! interrupt-line, I/O-port or MMIO range, and `io_ports_enable`, the
//! caller's threads' use of a port range (`crate::ports`).

use crate::cap::{self, Object, Parent};
use crate::process::Process;
use ferrous_abi::{Handle, ObjectType, PAGE_SIZE, Rights, SysError, Sysno};

/// `first..first + count` within `0..len`, or why not (argument 1 is
/// `first`, 2 is `count`).
fn within(first: u64, count: u64, len: u64) -> Result<(), SysError> {
    if count == 0 {
        return Err(SysError::ZeroLength { arg: 2 });
    }
    let end = first
        .checked_add(count)
        .ok_or(SysError::LengthWraps { arg: 2 })?;
    if end > len {
        return Err(SysError::LengthTooLarge { arg: 2 });
    }
    Ok(())
}

pub fn split(me: &Process, range: Handle, first: u64, count: u64) -> Result<u64, SysError> {
    let op = Sysno::HwSplit;
    let (obj, c) = cap::lookup(me.cspace, op, range, 0, None, Rights::DERIVE)?;
    let part = match obj {
        Object::IrqLines { first: f, count: n } => {
            within(first, count, u64::from(n))?;
            Object::IrqLines {
                first: f + first as u32,
                count: count as u32,
            }
        }
        Object::IoPorts { base, count: n } => {
            within(first, count, u64::from(n))?;
            Object::IoPorts {
                base: base + first as u32,
                count: count as u32,
            }
        }
        Object::Mmio { base, len } => {
            if !first.is_multiple_of(PAGE_SIZE) {
                return Err(SysError::Misaligned { arg: 1 });
            }
            if !count.is_multiple_of(PAGE_SIZE) {
                return Err(SysError::Misaligned { arg: 2 });
            }
            within(first, count, len)?;
            Object::Mmio {
                base: base + first,
                len: count,
            }
        }
        _ => return Err(SysError::WrongObjectType { arg: 0 }),
    };
    let slot = cap::insert(
        me.cspace,
        None,
        part,
        c.rights,
        Parent::Range(range, c.object),
        op,
    )?;
    Ok(u64::from(slot))
}

pub fn io_ports_enable(me: &Process, ports: Handle) -> Result<u64, SysError> {
    let op = Sysno::IoPortsEnable;
    let need = Rights::READ | Rights::WRITE;
    let (obj, c) = cap::lookup(me.cspace, op, ports, 0, Some(ObjectType::IoPorts), need)?;
    let Object::IoPorts { base, count } = obj else {
        return Err(SysError::WrongObjectType { arg: 0 });
    };
    let (base, count) = (base as u16, count.min(0x1_0000 - base));
    if count > crate::ports::MAX_PORTS {
        return Err(SysError::LengthTooLarge { arg: 0 });
    }
    if let Some(port) = crate::ports::kernel_port_in(base, count) {
        log::debug!(
            "io_ports_enable: {}: port {port:#x} is the kernel's",
            me.name
        );
        return Err(SysError::PermissionDenied {
            addr: u64::from(port),
        });
    }
    let p = crate::thread::current_process().ok_or(SysError::ObjectGone)?;
    cap::while_names((me.cspace, ports.0), c.object, || {
        crate::ports::enable(&p, (me.cspace, ports.0), base, count)
    })?;
    crate::ports::publish();
    Ok(0)
}

/// The caller's `irq_line` capability with control, and `line` within it
/// (`OutsideRange` on argument 1 otherwise).
fn line_of(
    me: &Process,
    op: Sysno,
    irq: Handle,
    line: u32,
) -> Result<ferrous_caps::Capability, SysError> {
    let (obj, c) = cap::lookup(
        me.cspace,
        op,
        irq,
        0,
        Some(ObjectType::IrqLine),
        Rights::CONTROL,
    )?;
    let Object::IrqLines { first, count } = obj else {
        return Err(SysError::WrongObjectType { arg: 0 });
    };
    if line < first || line - first >= count {
        return Err(SysError::OutsideRange { arg: 1 });
    }
    Ok(c)
}

pub fn irq_bind(
    me: &Process,
    irq: Handle,
    line: u32,
    notification: Handle,
    bits: u64,
) -> Result<u64, SysError> {
    let op = Sysno::IrqBind;
    let c = line_of(me, op, irq, line)?;
    let (n, _) =
        cap::lookup_as::<cap::kind::Notification>(me.cspace, op, notification, 2, Rights::SIGNAL)?;
    if bits == 0 {
        return Err(SysError::ZeroLength { arg: 3 });
    }
    cap::while_names((me.cspace, irq.0), c.object, || {
        crate::irqline::bind(line, (me.cspace, irq.0), n.id(), bits)
    })?;
    Ok(0)
}

pub fn irq_ack(me: &Process, irq: Handle, line: u32) -> Result<u64, SysError> {
    line_of(me, Sysno::IrqAck, irq, line)?;
    crate::irqline::ack(line, (me.cspace, irq.0))?;
    Ok(0)
}
