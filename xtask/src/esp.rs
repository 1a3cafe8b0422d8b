//! The EFI system partition QEMU serves from a host folder (vvfat):
//!
//! ```text
//! EFI/BOOT/BOOTX64.EFI      the loader
//! ferrous/boot.conf         kernel file, command line, modules
//! ferrous/kernel.elf        the kernel
//! ferrous/<name>.elf        each user program, a boot module named <name>
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

/// `modules` are the user programs' names, each shipped as `<name>.elf`; the
/// `extra` lines come after them, so a scenario's modules take later slots.
pub fn boot_conf(cmdline: &str, modules: &[&str], extra: &[String]) -> String {
    let mut s = String::from("# Written by cargo xtask; see lib/bootinfo/src/bootconf.rs\n");
    s.push_str("kernel = kernel.elf\n");
    s.push_str(&format!("cmdline = {cmdline}\n"));
    for name in modules {
        s.push_str(&format!("module = {name} {name}.elf\n"));
    }
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
    for (name, path) in &art.user {
        let file = format!("{name}.elf");
        fs::copy(path, ferrous.join(&file)).map_err(|e| io(&format!("copying {file}"), e))?;
    }
    let names: Vec<&str> = art.user.iter().map(|(name, _)| name.as_str()).collect();
    fs::write(
        ferrous.join("boot.conf"),
        boot_conf(cmdline, &names, &tweaks.extra_conf),
    )
    .map_err(|e| io("writing boot.conf", e))?;
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_conf_carries_cmdline_and_extras() {
        let s = boot_conf("log=debug test=boot", &[], &["module = a a.elf".into()]);
        assert!(s.contains("\ncmdline = log=debug test=boot\n"));
        assert!(s.ends_with("module = a a.elf\n"));
    }

    #[test]
    fn boot_conf_lists_the_user_programs_before_the_extras() {
        let s = boot_conf(
            "test=boot",
            &["init", "hello"],
            &["module = conf boot.conf".into()],
        );
        assert!(s.ends_with(
            "cmdline = test=boot\n\
             module = init init.elf\n\
             module = hello hello.elf\n\
             module = conf boot.conf\n"
        ));
    }

    /// Every run (scenarios, run, gdb, bench) goes through `prepare`: the
    /// programs are on the volume and named in boot.conf, in order.
    #[test]
    fn prepare_ships_every_user_program() {
        let tmp = std::env::temp_dir().join(format!("xtask-esp-test-{}", std::process::id()));
        let src = tmp.join("src");
        fs::create_dir_all(&src).unwrap();
        let file = |name: &str, bytes: &[u8]| {
            let p = src.join(name);
            fs::write(&p, bytes).unwrap();
            p
        };
        let art = Artifacts {
            kernel: file("kernel", b"kernel"),
            loader: file("loader", b"loader"),
            user: vec![
                ("init".into(), file("init", b"init program")),
                ("hello".into(), file("hello", b"hello program")),
            ],
        };
        let esp = prepare(&tmp.join("esp"), &art, "test=boot", &EspTweaks::default()).unwrap();
        let ferrous = esp.join("ferrous");
        assert_eq!(fs::read(ferrous.join("init.elf")).unwrap(), b"init program");
        assert_eq!(
            fs::read(ferrous.join("hello.elf")).unwrap(),
            b"hello program"
        );
        let conf = fs::read_to_string(ferrous.join("boot.conf")).unwrap();
        let modules: Vec<&str> = conf.lines().filter(|l| l.starts_with("module")).collect();
        assert_eq!(
            modules,
            ["module = init init.elf", "module = hello hello.elf"]
        );
        fs::remove_dir_all(&tmp).unwrap();
    }

    /// The module names xtask ships must be valid boot.conf module names
    /// (lib/bootinfo: at most 48 bytes, no path separator, one word).
    #[test]
    fn user_program_names_are_valid_module_names() {
        for p in crate::build::user_programs().unwrap() {
            let (package, name) = (&p.package, &p.name);
            assert!(package.starts_with("ferrous-"), "{package}");
            assert!(!name.is_empty() && name.len() <= 48, "{name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{name}"
            );
        }
    }
}
