//! Interrupt controllers: the local APIC (xAPIC, MMIO; QEMU TCG offers no
//! x2APIC), the I/O APIC and the legacy 8259 PIC, which is remapped out of
//! the exception range and masked for good.

use super::mm::phys_to_virt;
use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::instructions::port::Port;

/// Vectors. Exceptions own 0..32; the PIC is remapped to 0x20..0x30 and
/// masked, so a stray legacy interrupt lands on a vector we recognise.
pub const VECTOR_TIMER: u8 = 0x30;
pub const VECTOR_ISA_BASE: u8 = 0x40;
/// Interrupt lines bound to user-space notifications: GSI `g` on vector
/// `VECTOR_LINE_BASE + g` (`crate::irqline`).
pub const VECTOR_LINE_BASE: u8 = 0x50;
pub const VECTOR_RESCHEDULE: u8 = 0xf0;
pub const VECTOR_TLB_SHOOTDOWN: u8 = 0xf1;
pub const VECTOR_STOP: u8 = 0xf2;
pub const VECTOR_SPURIOUS: u8 = 0xff;

const REG_ID: u64 = 0x20;
const REG_TPR: u64 = 0x80;
const REG_EOI: u64 = 0xb0;
const REG_SVR: u64 = 0xf0;
const REG_ESR: u64 = 0x280;
const REG_ICR_LOW: u64 = 0x300;
const REG_ICR_HIGH: u64 = 0x310;
const REG_LVT_TIMER: u64 = 0x320;
const REG_TIMER_INITIAL: u64 = 0x380;
const REG_TIMER_CURRENT: u64 = 0x390;
const REG_TIMER_DIVIDE: u64 = 0x3e0;

const LVT_MASKED: u32 = 1 << 16;
const LVT_PERIODIC: u32 = 1 << 17;
const ICR_PENDING: u32 = 1 << 12;

static LAPIC: AtomicU64 = AtomicU64::new(0);

fn lapic_reg(reg: u64) -> *mut u32 {
    let base = LAPIC.load(Ordering::Relaxed);
    assert!(base != 0, "local APIC used before init");
    (base + reg) as *mut u32
}

fn read(reg: u64) -> u32 {
    // SAFETY: the register lies in the local APIC's 4 KiB MMIO page, reached
    // through the direct map (which covers the first 4 GiB).
    unsafe { lapic_reg(reg).read_volatile() }
}

fn write(reg: u64, value: u32) {
    // SAFETY: as in `read`; APIC register writes have no memory effects.
    unsafe { lapic_reg(reg).write_volatile(value) }
}

/// Records where the local APIC lives (from the MADT); same on every CPU.
pub fn set_base(phys: u64) {
    LAPIC.store(phys_to_virt(phys), Ordering::Relaxed);
}

/// Enables this CPU's local APIC with the spurious vector, accepting all
/// priorities, timer masked.
pub fn init_local() {
    write(REG_TPR, 0);
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_SVR, 0x100 | VECTOR_SPURIOUS as u32);
    write(REG_ESR, 0);
    eoi();
}

pub fn id() -> u32 {
    read(REG_ID) >> 24
}

pub fn eoi() {
    write(REG_EOI, 0);
}

/// Timer counting down from `count` at bus clock / 16, periodic or once.
pub fn timer_start(count: u32, periodic: bool) {
    write(REG_TIMER_DIVIDE, 0b0011); // divide by 16
    let mode = if periodic { LVT_PERIODIC } else { 0 };
    write(REG_LVT_TIMER, VECTOR_TIMER as u32 | mode);
    write(REG_TIMER_INITIAL, count);
}

/// Starts the timer masked and counting, for calibration.
pub fn timer_start_masked(count: u32) {
    write(REG_TIMER_DIVIDE, 0b0011);
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_TIMER_INITIAL, count);
}

pub fn timer_current() -> u32 {
    read(REG_TIMER_CURRENT)
}

pub fn timer_stop() {
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_TIMER_INITIAL, 0);
}

fn wait_icr_idle() {
    for _ in 0..1_000_000 {
        if read(REG_ICR_LOW) & ICR_PENDING == 0 {
            return;
        }
        core::hint::spin_loop();
    }
    log::warn!("apic: ICR still busy; sending anyway");
}

fn send(apic_id: u32, low: u32) {
    // ICR is two registers: an interrupt between the writes could send its
    // own IPI and leave ours aimed at the wrong CPU.
    super::cpu::without_interrupts(|| {
        wait_icr_idle();
        write(REG_ICR_HIGH, apic_id << 24);
        write(REG_ICR_LOW, low);
        wait_icr_idle();
    });
}

/// Whether the local APIC has been set up (panics may come earlier).
pub fn is_ready() -> bool {
    LAPIC.load(Ordering::Relaxed) != 0
}

/// A fixed-vector IPI to every CPU but this one.
pub fn send_ipi_all_others(vector: u8) {
    send(0, vector as u32 | (1 << 14) | (0b11 << 18));
}

/// A fixed-vector IPI to one CPU.
pub fn send_ipi(apic_id: u32, vector: u8) {
    send(apic_id, vector as u32 | (1 << 14));
}

/// INIT (assert, level) to start an application processor.
pub fn send_init(apic_id: u32) {
    send(apic_id, 0x0000_4500);
}

/// STARTUP with the real-mode entry page `page` (address = page << 12).
pub fn send_startup(apic_id: u32, page: u8) {
    send(apic_id, 0x0000_4600 | page as u32);
}

/// Remaps the 8259 PICs to 0x20..0x30 and masks every line.
pub fn disable_pic() {
    let out = |port: u16, v: u8| {
        // SAFETY: programming the legacy PIC's own ports; no memory effects.
        unsafe { Port::<u8>::new(port).write(v) }
    };
    out(0x20, 0x11); // ICW1: init, expect ICW4
    out(0xa0, 0x11);
    out(0x21, 0x20); // ICW2: vector base
    out(0xa1, 0x28);
    out(0x21, 0x04); // ICW3: slave on IRQ2
    out(0xa1, 0x02);
    out(0x21, 0x01); // ICW4: 8086 mode
    out(0xa1, 0x01);
    out(0x21, 0xff); // mask all
    out(0xa1, 0xff);
}

/// One I/O APIC, reached through its index/data window.
#[derive(Clone, Copy, Debug)]
pub struct IoApic {
    base: u64,
    gsi_base: u32,
}

impl IoApic {
    pub fn new(phys: u64, gsi_base: u32) -> IoApic {
        IoApic {
            base: phys_to_virt(phys),
            gsi_base,
        }
    }

    fn read(&self, reg: u32) -> u32 {
        // SAFETY: IOREGSEL at +0 and IOWIN at +0x10 of the I/O APIC's MMIO
        // page, reached through the direct map.
        unsafe {
            (self.base as *mut u32).write_volatile(reg);
            ((self.base + 0x10) as *mut u32).read_volatile()
        }
    }

    fn write(&self, reg: u32, value: u32) {
        // SAFETY: as in `read`.
        unsafe {
            (self.base as *mut u32).write_volatile(reg);
            ((self.base + 0x10) as *mut u32).write_volatile(value)
        }
    }

    /// Number of redirection entries.
    pub fn lines(&self) -> u32 {
        ((self.read(1) >> 16) & 0xff) + 1
    }

    pub fn handles(&self, gsi: u32) -> bool {
        gsi >= self.gsi_base && gsi < self.gsi_base + self.lines()
    }

    /// Routes `gsi` to `vector` on the CPU with `apic_id`. `flags` are the
    /// MADT override's MPS INTI flags (active-low: polarity 0b11; level:
    /// trigger 0b11); 0 means the ISA default (edge, active high).
    pub fn route(&self, gsi: u32, vector: u8, apic_id: u32, flags: u16) {
        self.write_entry(gsi, Self::entry(vector, flags), apic_id);
    }

    /// [`IoApic::route`], with the line masked from the first write: no
    /// interrupt can come before the owner unmasks it.
    pub fn route_masked(&self, gsi: u32, vector: u8, apic_id: u32, flags: u16) {
        self.write_entry(gsi, Self::entry(vector, flags) | 1 << 16, apic_id);
    }

    /// The low word of a redirection entry for `vector` with `flags`.
    fn entry(vector: u8, flags: u16) -> u32 {
        let mut low = vector as u32;
        if flags & 0b11 == 0b11 {
            low |= 1 << 13; // active low
        }
        if (flags >> 2) & 0b11 == 0b11 {
            low |= 1 << 15; // level triggered
        }
        low
    }

    fn write_entry(&self, gsi: u32, low: u32, apic_id: u32) {
        let index = gsi - self.gsi_base;
        // Masked while the destination changes, then the entry itself.
        self.write(0x10 + index * 2, low | 1 << 16);
        self.write(0x10 + index * 2 + 1, apic_id << 24);
        self.write(0x10 + index * 2, low);
    }

    pub fn mask(&self, gsi: u32) {
        let index = gsi - self.gsi_base;
        let low = self.read(0x10 + index * 2);
        self.write(0x10 + index * 2, low | (1 << 16));
    }

    pub fn unmask(&self, gsi: u32) {
        let index = gsi - self.gsi_base;
        let low = self.read(0x10 + index * 2);
        self.write(0x10 + index * 2, low & !(1 << 16));
    }

    pub fn mask_all(&self) {
        for i in 0..self.lines() {
            self.mask(self.gsi_base + i);
        }
    }
}
