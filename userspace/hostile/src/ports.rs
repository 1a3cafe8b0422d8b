//! `ports`: I/O ports are reached only through a capability, only while
//! it is held, and never the kernel's own (issue 17). Run from the kernel
//! with init's capabilities (`IO_PORTS` in slot 5; the argument names this
//! program's module slot):
//!
//! - enabling all ports is refused (`LengthTooLarge`: more than 1,024),
//!   the first 256 too (`PermissionDenied` names the first port the
//!   kernel keeps, 0x20), and so is a part holding COM1 (0x3f8);
//! - `hw_split` refuses a part past the range's end, an empty part and a
//!   capability that is no hardware range;
//! - with the CMOS clock's two ports (0x70, 0x71) split off and enabled,
//!   `in` and `out` work: status register D says the clock is valid;
//! - a child holding no port capability that executes `in` ends with #GP
//!   (vector 13), and the kernel goes on;
//! - a child that enabled a lent part of the range faults at its next
//!   `in` once the lender has revoked the loan: revocation reaches the
//!   I/O permission bitmap of every CPU before `cap_revoke` returns.

use crate::child_with;
use ferrous_rt::abi::{ExitStatus, Grant, Handle, Rights, SysError, initial};
use ferrous_rt::checks::Checks;
use ferrous_rt::{port, sys};

/// The CMOS clock's index and data ports.
const CMOS_INDEX: u16 = 0x70;
const CMOS_DATA: u16 = 0x71;
/// Status register D: bit 7 set while the clock's RAM and time are valid.
const CMOS_STATUS_D: u8 = 0x0d;
/// In a child: the console, then the lent ports and notification.
const CHILD_PORTS: Handle = Handle(2);
const CHILD_READY: Handle = Handle(3);
/// Reads the `revoke` child makes before it gives up waiting for the fault.
const CHILD_READS: u32 = 2_000;
/// `Faulted { vector: 13 }`: a general-protection fault.
const GP: ExitStatus = ExitStatus::Faulted { vector: 13 };

fn status_d() -> u8 {
    port::outb(CMOS_INDEX, CMOS_STATUS_D);
    port::inb(CMOS_DATA)
}

pub fn ports(module: Handle) -> i32 {
    let mut c = Checks::new("hostile");
    // All of them: the kernel keeps some.
    c.expect(
        "enabling every port is refused: too many",
        sys::io_ports_enable(initial::IO_PORTS),
        SysError::LengthTooLarge { arg: 0 },
    );
    if let Some(low) = c.ok(
        "split off the first 256 ports",
        sys::hw_split(initial::IO_PORTS, 0, 256),
    ) {
        c.expect(
            "enabling them is refused at the first kernel port",
            sys::io_ports_enable(low),
            SysError::PermissionDenied { addr: 0x20 },
        );
        let _ = sys::cap_delete(low);
    }
    if let Some(com1) = c.ok("split off COM1", sys::hw_split(initial::IO_PORTS, 0x3f8, 8)) {
        c.expect(
            "COM1 is the kernel's",
            sys::io_ports_enable(com1),
            SysError::PermissionDenied { addr: 0x3f8 },
        );
        let _ = sys::cap_delete(com1);
    }
    c.expect(
        "a part past the end is refused",
        sys::hw_split(initial::IO_PORTS, 0xffff, 2),
        SysError::LengthTooLarge { arg: 2 },
    );
    c.expect(
        "an empty part is refused",
        sys::hw_split(initial::IO_PORTS, 0x70, 0),
        SysError::ZeroLength { arg: 2 },
    );
    c.expect(
        "the console is no hardware range",
        sys::hw_split(initial::CONSOLE, 0, 1),
        SysError::WrongObjectType { arg: 0 },
    );
    // The clock's ports: usable once enabled.
    if let Some(cmos) = c.ok(
        "split off the CMOS clock's ports",
        sys::hw_split(initial::IO_PORTS, 0x70, 2),
    ) {
        if c.ok("enable them", sys::io_ports_enable(cmos)).is_some() {
            let d = status_d();
            c.check(
                "the clock reads as valid (status D bit 7)",
                d & 0x80 != 0,
                d,
            );
        }
        // A child with no port capability faults on its first `in`.
        let status = child_with(&mut c, module, b"ports-none", &[], |_| {});
        c.check(
            "a child without ports ends with #GP",
            status == Some(GP),
            status,
        );
        // A lent part stops working when the loan is revoked.
        if let Some(lent) = c.ok("split a part to lend", sys::hw_split(cmos, 0, 2)) {
            let ready = c.ok(
                "make a notification",
                sys::notification_create(initial::MEMORY),
            );
            if let Some(ready) = ready {
                let grants = [
                    Grant::new(lent, Rights::READ | Rights::WRITE),
                    Grant::new(ready, Rights::SIGNAL),
                ];
                let status = child_with(&mut c, module, b"ports-revoke", &grants, |c| {
                    let woke = sys::notification_wait(ready, 10_000_000_000);
                    c.check(
                        "the child read the clock through its loan",
                        woke == Ok(1),
                        woke,
                    );
                    let n = sys::cap_revoke(cmos);
                    c.check(
                        "cap_revoke took the lent part and the child's copy",
                        n == Ok(2),
                        n,
                    );
                });
                c.check(
                    "the child faults once the loan is revoked",
                    status == Some(GP),
                    status,
                );
                let _ = sys::cap_delete(ready);
            }
        }
        let d = status_d();
        c.check("the lender keeps its own ports", d & 0x80 != 0, d);
        let _ = sys::cap_delete(cmos);
    }
    c.finish("ports")
}

/// `ports-none`: `in` with no port enabled.
pub fn ports_none() -> i32 {
    let v = port::inb(CMOS_DATA);
    ferrous_rt::println!("hostile: FAIL read port 0x71 without a capability: {v:#x}");
    1
}

/// `ports-revoke`: enables the lent ports, reads the clock, tells the
/// parent, then reads until the revocation makes a read fault.
pub fn ports_revoke() -> i32 {
    if let Err(e) = sys::io_ports_enable(CHILD_PORTS) {
        ferrous_rt::println!("hostile: FAIL child enabling its lent ports: {e}");
        return 1;
    }
    let d = status_d();
    let _ = sys::notification_signal(CHILD_READY, u64::from(d >> 7));
    for _ in 0..CHILD_READS {
        let _ = status_d();
        sys::sleep_ns(1_000_000);
    }
    ferrous_rt::println!("hostile: FAIL the lent ports still worked after the revoke");
    1
}
