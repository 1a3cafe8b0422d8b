//! `irq`: interrupt lines reach a driver in ring 3 through a capability
//! and a notification, stay masked until it acknowledges, and go back to
//! nobody when it dies (issue 17). The device is the CMOS clock's periodic
//! interrupt (ISA IRQ 8, GSI 8), programmed through its two ports. Run
//! from the kernel with init's capabilities (`IRQ_LINES` in slot 4,
//! `IO_PORTS` in 5; the argument names this program's module slot):
//!
//! - `irq_bind` and `irq_ack` refuse a line outside the capability's range
//!   (`OutsideRange`), a bind without bits (`ZeroLength`), an ack of a line
//!   not bound (`NotBound`), and a second binding of a bound line
//!   (`LineBusy`);
//! - ten interrupts arrive as notification signals, one per acknowledge;
//! - a line not acknowledged stays masked: no signal for 100 ms while the
//!   clock keeps ticking;
//! - a child that binds the line and dies without acknowledging leaves it
//!   unbound (and masked): the parent can bind it again.

use crate::child_with;
use ferrous_rt::abi::{Grant, Handle, Rights, SysError, initial};
use ferrous_rt::checks::Checks;
use ferrous_rt::{port, sys};

const LINE: u32 = 8;
const BIT: u64 = 1 << LINE;
const INTERRUPTS: u32 = 10;
/// In the child: the console, then the lent line, its notification and
/// the clock's ports.
const CHILD_IRQ: Handle = Handle(2);
const CHILD_NOTIFY: Handle = Handle(3);

fn cmos_read(reg: u8) -> u8 {
    port::outb(0x70, reg);
    port::inb(0x71)
}

fn cmos_write(reg: u8, v: u8) {
    port::outb(0x70, reg);
    port::outb(0x71, v);
}

/// Starts the clock's periodic interrupt at 64 Hz (rate 10).
fn clock_start() {
    let a = cmos_read(0x0a);
    cmos_write(0x0a, (a & 0xf0) | 0x0a);
    let b = cmos_read(0x0b);
    cmos_write(0x0b, b | 0x40);
    let _ = cmos_read(0x0c);
}

fn clock_stop() {
    let b = cmos_read(0x0b);
    cmos_write(0x0b, b & !0x40);
    let _ = cmos_read(0x0c);
}

pub fn irq(module: Handle) -> i32 {
    let mut c = Checks::new("hostile");
    let Some(cmos) = c.ok(
        "split off the clock's ports",
        sys::hw_split(initial::IO_PORTS, 0x70, 2),
    ) else {
        return c.finish("irq");
    };
    c.ok("enable them", sys::io_ports_enable(cmos));
    let Some(n) = c.ok(
        "make a notification",
        sys::notification_create(initial::MEMORY),
    ) else {
        return c.finish("irq");
    };
    let Some(line) = c.ok(
        "split off line 8",
        sys::hw_split(initial::IRQ_LINES, u64::from(LINE), 1),
    ) else {
        return c.finish("irq");
    };
    c.expect(
        "a line outside the range is refused",
        sys::irq_bind(line, 9, n, BIT),
        SysError::OutsideRange { arg: 1 },
    );
    c.expect(
        "a binding without bits is refused",
        sys::irq_bind(line, LINE, n, 0),
        SysError::ZeroLength { arg: 3 },
    );
    c.expect(
        "an ack of an unbound line is refused",
        sys::irq_ack(line, LINE),
        SysError::NotBound { arg: 1 },
    );
    if c.ok(
        "bind line 8 to the notification",
        sys::irq_bind(line, LINE, n, BIT),
    )
    .is_some()
    {
        c.expect(
            "a second binding of the line is refused",
            sys::irq_bind(initial::IRQ_LINES, LINE, n, BIT),
            SysError::LineBusy,
        );
        clock_start();
        c.ok("acknowledge: unmask", sys::irq_ack(line, LINE));
        let mut got = 0;
        for _ in 0..INTERRUPTS {
            match sys::notification_wait(n, 2_000_000_000) {
                Ok(bits) if bits & BIT != 0 => got += 1,
                other => {
                    c.check("an interrupt arrives as a signal", false, other);
                    break;
                }
            }
            let _ = cmos_read(0x0c);
            let _ = sys::irq_ack(line, LINE);
        }
        c.check(
            "ten interrupts arrived, one per acknowledge",
            got == INTERRUPTS,
            got,
        );
        // Masked until acknowledged: the clock ticks on, nothing arrives.
        let _ = sys::notification_wait(n, 2_000_000_000);
        let _ = cmos_read(0x0c);
        sys::sleep_ns(100_000_000);
        let quiet = sys::notification_poll(n);
        c.check("an unacknowledged line stays masked", quiet == Ok(0), quiet);
        c.ok(
            "delete the capability: the line is unbound",
            sys::cap_delete(line),
        );
        clock_stop();
    }
    // A driver that dies holding the line leaves it to the next one.
    if let Some(lent) = c.ok(
        "split line 8 to lend",
        sys::hw_split(initial::IRQ_LINES, u64::from(LINE), 1),
    ) {
        let grants = [
            Grant::new(lent, Rights::CONTROL),
            Grant::new(n, Rights::SIGNAL),
        ];
        let status = child_with(&mut c, module, b"irq-child", &grants, |_| {});
        c.check(
            "the child bound the line and ended",
            status == Some(ferrous_rt::abi::ExitStatus::Exited { code: 0 }),
            status,
        );
        let again = sys::irq_bind(lent, LINE, n, BIT);
        c.check(
            "its line is free again after it died",
            again == Ok(()),
            again,
        );
        let _ = sys::cap_delete(lent);
    }
    let _ = sys::cap_delete(n);
    let _ = sys::cap_delete(cmos);
    c.finish("irq")
}

/// `irq-child`: binds the lent line, unmasks it and exits, holding it.
pub fn irq_child() -> i32 {
    let r = sys::irq_bind(CHILD_IRQ, LINE, CHILD_NOTIFY, BIT)
        .and_then(|()| sys::irq_ack(CHILD_IRQ, LINE));
    match r {
        Ok(()) => 0,
        Err(e) => {
            ferrous_rt::println!("hostile: FAIL child binding its lent line: {e}");
            1
        }
    }
}
