//! The boot-time memory report.

use ferrous_bootinfo::{MapSummary, MemoryKind, MemoryRegion, memmap};

const MIB: u64 = 1 << 20;

/// Logs the memory map and its totals; returns the summary, or `None` (after
/// an error line) if the map fails validation.
pub fn report(map: &[MemoryRegion]) -> Option<MapSummary> {
    for r in map {
        log::debug!(
            "  {:#014x}..{:#014x} {:>9} KiB {}",
            r.base,
            r.base.saturating_add(r.len),
            r.len / 1024,
            r.kind
        );
    }
    let summary = match memmap::validate(map) {
        Ok(s) => s,
        Err(e) => {
            log::error!("memory map from the loader is invalid: {e}");
            return None;
        }
    };
    log::info!(
        "memory: {} regions, {} MiB RAM, {} MiB usable, highest RAM address {:#x}",
        summary.regions,
        summary.total_ram() / MIB,
        summary.bytes(MemoryKind::USABLE) / MIB,
        summary.ram_end
    );
    for kind in MemoryKind::ALL {
        let bytes = summary.bytes(kind);
        if bytes != 0 && kind != MemoryKind::USABLE {
            log::info!("  {:<18} {:>8} KiB", kind.name(), bytes / 1024);
        }
    }
    Some(summary)
}
