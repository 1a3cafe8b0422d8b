//! The kernel log: a `log` facade over the serial console. Each line carries
//! the TSC cycles since kernel entry, the CPU and the level:
//!
//! ```text
//! [     6983130] cpu0 INFO  memmap: memory: 33 regions, 511 MiB RAM, 505 MiB usable, ...
//! ```

use crate::arch;
use core::fmt::{self, Write};
use ferrous_cmdline::LogLevel;
use log::{Level, LevelFilter, Log, Metadata, Record};
use spin::Mutex;

/// Serialises whole lines so CPUs never interleave within one.
static LOCK: Mutex<()> = Mutex::new(());

struct Serial;

impl Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        arch::serial::write_bytes(s.as_bytes());
        Ok(())
    }
}

struct KernelLog;

impl Log for KernelLog {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let target = record.target();
        let target = target.strip_prefix("ferrous_kernel::").unwrap_or(target);
        let target = if target == "ferrous_kernel" {
            "kernel"
        } else {
            target
        };
        let level = match record.level() {
            Level::Error => "ERROR",
            Level::Warn => "WARN ",
            Level::Info => "INFO ",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        };
        arch::cpu::without_interrupts(|| {
            let _guard = LOCK.lock();
            let _ = writeln!(
                Serial,
                "[{:>12}] cpu{} {level} {target}: {}",
                arch::cpu::tsc_since_entry(),
                arch::cpu::id(),
                record.args()
            );
        });
    }

    fn flush(&self) {}
}

static LOGGER: KernelLog = KernelLog;

pub fn init(level: LogLevel) {
    // Only fails if a logger is already set, i.e. on a second call.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(match level {
        LogLevel::Error => LevelFilter::Error,
        LogLevel::Warn => LevelFilter::Warn,
        LogLevel::Info => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Debug,
        LogLevel::Trace => LevelFilter::Trace,
    });
}

/// Console access for panics and fatal exceptions. It does not wait for the
/// log lock, which the failing CPU may hold itself; output from other CPUs
/// may interleave, which beats a silent deadlock.
pub struct PanicWriter(());

impl PanicWriter {
    pub fn take() -> PanicWriter {
        PanicWriter(())
    }
}

impl Write for PanicWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        arch::serial::write_bytes(s.as_bytes());
        Ok(())
    }
}
