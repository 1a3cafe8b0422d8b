//! The EFI system partition QEMU serves from a host folder (vvfat):
//!
//! ```text
//! EFI/BOOT/BOOTX64.EFI      the loader
//! ferrous/boot.conf         kernel file, command line, modules
//! ferrous/kernel.elf        the kernel
//! ```

use crate::build::Artifacts;
use std::fs;
use std::path::{Path, PathBuf};

/// How a scenario alters the normal boot volume (to test the loader).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EspTweaks {
    /// Replace kernel.elf with these bytes.
    pub kernel_bytes: Option<Vec<u8>>,
    /// Extra lines appended to boot.conf.
    pub extra_conf: Vec<String>,
}

pub fn boot_conf(cmdline: &str, extra: &[String]) -> String {
    let mut s = String::from("# Written by cargo xtask; see lib/bootinfo/src/bootconf.rs\n");
    s.push_str("kernel = kernel.elf\n");
    s.push_str(&format!("cmdline = {cmdline}\n"));
    for line in extra {
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// Lays out a fresh ESP in `dir` (emptied first).
pub fn prepare(
    dir: &Path,
    art: &Artifacts,
    cmdline: &str,
    tweaks: &EspTweaks,
) -> Result<PathBuf, String> {
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| io(&format!("clearing {}", dir.display()), e))?;
    }
    let boot_dir = dir.join("EFI").join("BOOT");
    let ferrous = dir.join("ferrous");
    fs::create_dir_all(&boot_dir).map_err(|e| io("creating ESP", e))?;
    fs::create_dir_all(&ferrous).map_err(|e| io("creating ESP", e))?;
    fs::copy(&art.loader, boot_dir.join("BOOTX64.EFI")).map_err(|e| io("copying loader", e))?;
    match &tweaks.kernel_bytes {
        Some(bytes) => fs::write(ferrous.join("kernel.elf"), bytes),
        None => fs::copy(&art.kernel, ferrous.join("kernel.elf")).map(|_| ()),
    }
    .map_err(|e| io("writing kernel.elf", e))?;
    fs::write(
        ferrous.join("boot.conf"),
        boot_conf(cmdline, &tweaks.extra_conf),
    )
    .map_err(|e| io("writing boot.conf", e))?;
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_conf_carries_cmdline_and_extras() {
        let s = boot_conf("log=debug test=boot", &["module = a a.elf".into()]);
        assert!(s.contains("\ncmdline = log=debug test=boot\n"));
        assert!(s.ends_with("module = a a.elf\n"));
    }
}
