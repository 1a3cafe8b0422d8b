//! The Rust toolchain: the targets and components that `rust-toolchain.toml`
//! names, installed with rustup when the active toolchain lacks them.
//!
//! rustup does not add a toolchain file's targets on every machine: with
//! `RUSTUP_AUTO_INSTALL=0`, or when the pinned channel resolves to a toolchain
//! that is already installed (or linked), the file's `targets` and
//! `components` are silently ignored and the first bare-metal build fails
//! with "can't find crate for `core`". So every xtask command checks the
//! active toolchain's sysroot first and installs what is missing.
//!
//! The decision (what is missing, which rustup command fixes it) is pure and
//! host-tested below; [`ensure`] only gathers the facts and runs the command.

use crate::build;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `rust-toolchain.toml` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spec {
    pub channel: String,
    pub targets: Vec<String>,
    pub components: Vec<String>,
}

#[derive(serde::Deserialize)]
struct File {
    toolchain: Section,
}

#[derive(serde::Deserialize)]
struct Section {
    channel: String,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    components: Vec<String>,
}

impl Spec {
    pub fn parse(text: &str) -> Result<Spec, String> {
        let f: File = toml::from_str(text).map_err(|e| format!("rust-toolchain.toml: {e}"))?;
        Ok(Spec {
            channel: f.toolchain.channel,
            targets: f.toolchain.targets,
            components: f.toolchain.components,
        })
    }
}

/// What a sysroot holds, as far as the decision needs it.
#[derive(Debug, Clone, Default)]
pub struct Sysroot {
    /// File names in `<sysroot>/bin`.
    pub bin: Vec<String>,
    /// `(target, file names in <sysroot>/lib/rustlib/<target>/lib)`, for the
    /// targets that have such a folder.
    pub target_libs: Vec<(String, Vec<String>)>,
    /// Folder names in `<sysroot>/lib/rustlib` (component `rust-src` lives
    /// in `src`, `llvm-tools` in `<host>/bin`).
    pub rustlib: Vec<String>,
}

/// A target counts as installed when its library folder holds `core`.
pub fn target_installed(libs: &[String]) -> bool {
    libs.iter()
        .any(|f| f.starts_with("libcore-") && f.ends_with(".rlib"))
}

/// Whether a component is present, judged by the files it installs.
/// `None`: a component this check does not know; rustup is asked instead.
pub fn component_installed(component: &str, sysroot: &Sysroot) -> Option<bool> {
    let has_bin = |name: &str| sysroot.bin.iter().any(|b| b == name);
    match component {
        "rustfmt" | "rustfmt-preview" => Some(has_bin("rustfmt") && has_bin("cargo-fmt")),
        "clippy" | "clippy-preview" => Some(has_bin("cargo-clippy") && has_bin("clippy-driver")),
        "rust-src" => Some(sysroot.rustlib.iter().any(|d| d == "src")),
        "cargo" => Some(has_bin("cargo")),
        "rustc" => Some(has_bin("rustc")),
        "rust-docs" | "rust-std" => Some(true),
        _ => None,
    }
}

/// What is missing from a sysroot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Missing {
    pub targets: Vec<String>,
    pub components: Vec<String>,
    /// Components this check cannot judge from the sysroot.
    pub unknown: Vec<String>,
}

impl Missing {
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty() && self.components.is_empty()
    }
}

pub fn missing(spec: &Spec, sysroot: &Sysroot) -> Missing {
    let mut m = Missing::default();
    for t in &spec.targets {
        let libs = sysroot
            .target_libs
            .iter()
            .find(|(name, _)| name == t)
            .map(|(_, libs)| libs.as_slice())
            .unwrap_or(&[]);
        if !target_installed(libs) {
            m.targets.push(t.clone());
        }
    }
    for c in &spec.components {
        match component_installed(c, sysroot) {
            Some(true) => {}
            Some(false) => m.components.push(c.clone()),
            None => m.unknown.push(c.clone()),
        }
    }
    m
}

/// The rustup commands that install `missing` into `toolchain`.
pub fn install_commands(toolchain: &str, missing: &Missing) -> Vec<Vec<String>> {
    let mut cmds = Vec::new();
    for (kind, items) in [
        ("target", &missing.targets),
        ("component", &missing.components),
    ] {
        if !items.is_empty() {
            let mut c = vec![
                "rustup".to_string(),
                kind.to_string(),
                "add".to_string(),
                "--toolchain".to_string(),
                toolchain.to_string(),
            ];
            c.extend(items.iter().cloned());
            cmds.push(c);
        }
    }
    cmds
}

/// The name rustup knows the sysroot by. A linked toolchain (`rustup
/// toolchain link`, or the symlink that maps a pinned version onto an
/// installed `stable`) cannot take targets under its own name; the toolchain
/// folder it points into can. `toolchains_dir` is `$RUSTUP_HOME/toolchains`.
pub fn toolchain_name(active: &str, real_sysroot: &Path, toolchains_dir: &Path) -> String {
    match (real_sysroot.parent(), real_sysroot.file_name()) {
        (Some(parent), Some(name)) if parent == toolchains_dir => {
            name.to_string_lossy().into_owned()
        }
        _ => active.to_string(),
    }
}

fn list(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn read_sysroot(root: &Path, spec: &Spec) -> Sysroot {
    let rustlib = root.join("lib").join("rustlib");
    Sysroot {
        bin: list(&root.join("bin")),
        target_libs: spec
            .targets
            .iter()
            .map(|t| (t.clone(), list(&rustlib.join(t).join("lib"))))
            .collect(),
        rustlib: list(&rustlib),
    }
}

fn output(cmd: &mut Command) -> Result<String, String> {
    let o = cmd
        .output()
        .map_err(|e| format!("cannot start {}: {e}", build::describe(cmd)))?;
    if !o.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            build::describe(cmd),
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn rustc_sysroot() -> Result<PathBuf, String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut cmd = Command::new(rustc);
    cmd.current_dir(build::root()).args(["--print", "sysroot"]);
    output(&mut cmd).map(PathBuf::from)
}

fn rustup_home() -> Option<PathBuf> {
    std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rustup")))
}

/// The toolchain's name as rustup shows it: `rustup show active-toolchain`'s
/// first word, run in the workspace so that the toolchain file applies.
fn active_toolchain() -> Option<String> {
    let mut cmd = Command::new("rustup");
    cmd.current_dir(build::root())
        .args(["show", "active-toolchain"])
        .env_remove("RUSTUP_TOOLCHAIN");
    output(&mut cmd)
        .ok()
        .and_then(|s| s.split_whitespace().next().map(String::from))
}

fn shell_words(cmd: &[String]) -> String {
    cmd.join(" ")
}

/// Checks the active toolchain against `rust-toolchain.toml` and installs
/// the missing targets and components with rustup, saying so. Errors name
/// the exact command to run by hand.
pub fn ensure() -> Result<(), String> {
    let file = build::root().join("rust-toolchain.toml");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let spec = Spec::parse(&text)?;
    let sysroot = rustc_sysroot()?;
    let need = missing(&spec, &read_sysroot(&sysroot, &spec));
    if need.is_empty() {
        return Ok(());
    }
    let real = std::fs::canonicalize(&sysroot).unwrap_or_else(|_| sysroot.clone());
    let active = active_toolchain().unwrap_or_else(|| spec.channel.clone());
    let name = match rustup_home() {
        Some(home) => toolchain_name(&active, &real, &home.join("toolchains")),
        None => active.clone(),
    };
    let cmds = install_commands(&name, &need);
    let by_hand = cmds
        .iter()
        .map(|c| shell_words(c))
        .collect::<Vec<_>>()
        .join(" && ");
    let what = need
        .targets
        .iter()
        .map(|t| format!("target {t}"))
        .chain(need.components.iter().map(|c| format!("component {c}")))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "xtask: toolchain {active} (sysroot {}) lacks {what}, which rust-toolchain.toml \
         names and rustup did not add; installing: {by_hand}",
        sysroot.display()
    );
    if crate::qemu::which("rustup").is_none() {
        return Err(format!(
            "rustup is not on PATH, so the toolchain at {} cannot be completed here. \
             Install rustup, then run: {by_hand}",
            sysroot.display()
        ));
    }
    for c in &cmds {
        let mut cmd = Command::new(&c[0]);
        cmd.args(&c[1..]).current_dir(build::root());
        if let Err(e) = build::run_checked(&mut cmd) {
            return Err(format!("{e}\nrun by hand: {by_hand}"));
        }
    }
    let after = missing(&spec, &read_sysroot(&sysroot, &spec));
    if !after.is_empty() {
        return Err(format!(
            "rustup reported success, but {} still lacks {:?} {:?}; \
             the sysroot is not the one rustup manages. Run: {by_hand}",
            sysroot.display(),
            after.targets,
            after.components
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    fn spec() -> Spec {
        Spec::parse(
            r#"
[toolchain]
channel = "1.95.0"
components = ["rustfmt", "clippy"]
targets = ["x86_64-unknown-none", "x86_64-unknown-uefi"]
profile = "minimal"
"#,
        )
        .unwrap()
    }

    fn full_bin() -> Vec<String> {
        strings(&[
            "cargo",
            "rustc",
            "rustdoc",
            "rustfmt",
            "cargo-fmt",
            "cargo-clippy",
            "clippy-driver",
        ])
    }

    fn with_core() -> Vec<String> {
        strings(&[
            "libcore-6b3c1f0e1c8d2a4f.rlib",
            "liballoc-0e2a1c.rlib",
            "libcompiler_builtins-1.rlib",
        ])
    }

    #[test]
    fn the_workspace_toolchain_file_parses() {
        let text = std::fs::read_to_string(build::root().join("rust-toolchain.toml")).unwrap();
        let s = Spec::parse(&text).unwrap();
        assert_eq!(s.targets, [build::KERNEL_TARGET, build::LOADER_TARGET]);
        assert!(s.components.contains(&"clippy".to_string()));
        assert!(s.components.contains(&"rustfmt".to_string()));
    }

    #[test]
    fn a_host_only_sysroot_lacks_both_targets() {
        let sys = Sysroot {
            bin: full_bin(),
            target_libs: vec![
                ("x86_64-unknown-none".into(), vec![]),
                ("x86_64-unknown-uefi".into(), vec![]),
            ],
            rustlib: strings(&["x86_64-unknown-linux-gnu", "etc", "components"]),
        };
        let m = missing(&spec(), &sys);
        assert_eq!(m.targets, ["x86_64-unknown-none", "x86_64-unknown-uefi"]);
        assert!(m.components.is_empty());
        assert!(!m.is_empty());
    }

    #[test]
    fn a_complete_sysroot_needs_nothing() {
        let sys = Sysroot {
            bin: full_bin(),
            target_libs: vec![
                ("x86_64-unknown-none".into(), with_core()),
                ("x86_64-unknown-uefi".into(), with_core()),
            ],
            rustlib: vec![],
        };
        let m = missing(&spec(), &sys);
        assert!(m.is_empty(), "{m:?}");
        assert!(install_commands("1.95.0", &m).is_empty());
    }

    #[test]
    fn a_target_folder_without_core_is_not_installed() {
        // A half-removed target leaves its folder (and perhaps other files).
        let sys = Sysroot {
            bin: full_bin(),
            target_libs: vec![
                (
                    "x86_64-unknown-none".into(),
                    strings(&["libcore.so", "core.rlib"]),
                ),
                ("x86_64-unknown-uefi".into(), with_core()),
            ],
            rustlib: vec![],
        };
        assert_eq!(missing(&spec(), &sys).targets, ["x86_64-unknown-none"]);
    }

    #[test]
    fn missing_components_are_found_from_the_bin_folder() {
        let sys = Sysroot {
            bin: strings(&["cargo", "rustc", "rustfmt", "cargo-fmt"]),
            target_libs: vec![
                ("x86_64-unknown-none".into(), with_core()),
                ("x86_64-unknown-uefi".into(), with_core()),
            ],
            rustlib: vec![],
        };
        let m = missing(&spec(), &sys);
        assert!(m.targets.is_empty());
        assert_eq!(m.components, ["clippy"]);
    }

    #[test]
    fn unknown_components_are_not_guessed() {
        let mut s = spec();
        s.components.push("llvm-tools".into());
        s.components.push("rust-src".into());
        let sys = Sysroot {
            bin: full_bin(),
            target_libs: vec![
                ("x86_64-unknown-none".into(), with_core()),
                ("x86_64-unknown-uefi".into(), with_core()),
            ],
            rustlib: strings(&["x86_64-unknown-linux-gnu"]),
        };
        let m = missing(&s, &sys);
        assert_eq!(m.components, ["rust-src"]);
        assert_eq!(m.unknown, ["llvm-tools"]);
    }

    #[test]
    fn install_commands_name_the_toolchain_and_every_item() {
        let m = Missing {
            targets: strings(&["x86_64-unknown-none", "x86_64-unknown-uefi"]),
            components: strings(&["clippy"]),
            unknown: vec![],
        };
        let cmds = install_commands("1.95.0-x86_64-unknown-linux-gnu", &m);
        assert_eq!(
            cmds.iter().map(|c| shell_words(c)).collect::<Vec<_>>(),
            [
                "rustup target add --toolchain 1.95.0-x86_64-unknown-linux-gnu \
                 x86_64-unknown-none x86_64-unknown-uefi",
                "rustup component add --toolchain 1.95.0-x86_64-unknown-linux-gnu clippy",
            ]
        );
    }

    #[test]
    fn a_linked_toolchain_is_completed_through_the_folder_it_points_to() {
        let dir = Path::new("/root/.rustup/toolchains");
        // 1.95.0 is a symlink to the installed stable: install into stable.
        assert_eq!(
            toolchain_name(
                "1.95.0-x86_64-unknown-linux-gnu",
                &dir.join("stable-x86_64-unknown-linux-gnu"),
                dir
            ),
            "stable-x86_64-unknown-linux-gnu"
        );
        // A custom toolchain outside rustup's folder keeps its own name, and
        // rustup's refusal then names the command to run.
        assert_eq!(
            toolchain_name("mine", Path::new("/opt/rust/build/stage2"), dir),
            "mine"
        );
    }
}
