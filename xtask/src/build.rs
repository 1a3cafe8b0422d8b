//! Building the bare-metal crates with cargo, each for its own target.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const KERNEL_TARGET: &str = "x86_64-unknown-none";
pub const LOADER_TARGET: &str = "x86_64-unknown-uefi";
/// User programs are built for the kernel's target, linked by userspace/user.ld.
pub const USER_TARGET: &str = KERNEL_TARGET;

/// A user program shipped as a boot module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProgram {
    /// Its cargo package, e.g. `ferrous-init`.
    pub package: String,
    /// Its binary's name, which is also the module's name and, with `.elf`,
    /// its file on the ESP.
    pub name: String,
}

/// The user programs, in boot-configuration order: the order fixes each
/// module's handle slot (docs/ABI.md, "Handles": boot module `i` is in
/// init's slot `16 + i`), init first.
///
/// The list is written once, in the workspace's /Cargo.toml:
///
/// - `[workspace] members` has `userspace/*`, so a new folder there is a
///   member without an edit;
/// - `[workspace.metadata.ferrous] user-programs` lists the programs by
///   binary name in boot order. It is the one place to edit when adding a
///   program (append it: inserting one shifts the slots of those after it).
///
/// The packages and binary names come from `cargo metadata`: a user
/// program is a workspace member under `userspace/` with a binary
/// (`userspace/rt`, the runtime library, has none). The metadata list must
/// name each of them exactly once and nothing else, else this fails (and
/// so does every command that builds, and the host test
/// `the_workspace_lists_the_user_programs_once_in_boot_order`), so a program
/// cannot be left out of the boot volume or the lints by mistake.
pub fn user_programs() -> Result<Vec<UserProgram>, String> {
    let mut cmd = cargo();
    cmd.args(["metadata", "--no-deps", "--format-version", "1"]);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {}: {e}", describe(&cmd)))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}):\n{}",
            describe(&cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: Metadata = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("reading the output of {}: {e}", describe(&cmd)))?;
    let userspace = meta.workspace_root.join("userspace");
    let members: Vec<Member> = meta
        .packages
        .into_iter()
        .filter(|p| meta.workspace_members.contains(&p.id))
        .filter(|p| p.manifest_path.starts_with(&userspace))
        .map(|p| Member {
            bins: p
                .targets
                .into_iter()
                .filter(|t| t.kind.iter().any(|k| k == "bin"))
                .map(|t| t.name)
                .collect(),
            package: p.name,
        })
        .collect();
    let order = meta
        .metadata
        .and_then(|m| m.ferrous)
        .map(|f| f.user_programs)
        .ok_or(format!(
            "{MANIFEST} has no [workspace.metadata.ferrous] user-programs"
        ))?;
    in_boot_order(members, &order)
}

/// Where the boot order is written, for messages.
const MANIFEST: &str = "Cargo.toml (the workspace's)";

/// A workspace member under `userspace/`.
#[derive(Debug)]
struct Member {
    package: String,
    /// Its binaries' names: one for a program, none for a library.
    bins: Vec<String>,
}

/// The programs among `members`, in `order` (binary names); an error
/// unless `order` names each program exactly once and nothing else.
fn in_boot_order(members: Vec<Member>, order: &[String]) -> Result<Vec<UserProgram>, String> {
    let mut programs = Vec::new();
    for m in members {
        match m.bins.as_slice() {
            [] => {}
            [name] => programs.push(UserProgram {
                package: m.package,
                name: name.clone(),
            }),
            many => {
                return Err(format!(
                    "user program {} has {} binaries ({}); a boot module is one",
                    m.package,
                    many.len(),
                    many.join(", ")
                ));
            }
        }
    }
    let mut ordered = Vec::with_capacity(order.len());
    for (i, name) in order.iter().enumerate() {
        if order[..i].contains(name) {
            return Err(format!("{MANIFEST}: user-programs names `{name}` twice"));
        }
        let at = programs
            .iter()
            .position(|p| &p.name == name)
            .ok_or(format!(
                "{MANIFEST}: user-programs names `{name}`, but no userspace/ member builds a binary of that name"
            ))?;
        ordered.push(programs.swap_remove(at));
    }
    if let Some(p) = programs.first() {
        return Err(format!(
            "{MANIFEST}: user-programs lacks `{}` (package {}); append it to \
             [workspace.metadata.ferrous] user-programs",
            p.name, p.package
        ));
    }
    Ok(ordered)
}

/// The parts of `cargo metadata --no-deps` that [`user_programs`] reads.
#[derive(serde::Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    workspace_root: PathBuf,
    metadata: Option<WorkspaceMetadata>,
}

#[derive(serde::Deserialize)]
struct Package {
    id: String,
    name: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
}

#[derive(serde::Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

#[derive(serde::Deserialize)]
struct WorkspaceMetadata {
    ferrous: Option<FerrousMetadata>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FerrousMetadata {
    user_programs: Vec<String>,
}

pub struct Artifacts {
    pub kernel: PathBuf,
    pub loader: PathBuf,
    /// `(name, path)` of each user program, in [`user_programs`] order.
    pub user: Vec<(String, PathBuf)>,
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Runs a command, turning a non-zero exit into an error naming it.
pub fn run_checked(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn profile_dir(release: bool) -> &'static str {
    if release { "release" } else { "debug" }
}

fn build_one(package: &str, target: &str, release: bool) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["build", "--package", package, "--target", target]);
    if release {
        cmd.arg("--release");
    }
    run_checked(&mut cmd)
}

/// All user programs in one cargo invocation (they share `ferrous-rt`).
fn build_user(programs: &[UserProgram], release: bool) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.arg("build");
    for p in programs {
        cmd.args(["--package", &p.package]);
    }
    cmd.args(["--target", USER_TARGET]);
    if release {
        cmd.arg("--release");
    }
    run_checked(&mut cmd)
}

pub fn build_all(release: bool) -> Result<Artifacts, String> {
    let programs = user_programs()?;
    build_one("ferrous-kernel", KERNEL_TARGET, release)?;
    build_one("ferrous-boot", LOADER_TARGET, release)?;
    build_user(&programs, release)?;
    let t = target_dir();
    let p = profile_dir(release);
    let a = Artifacts {
        kernel: t.join(KERNEL_TARGET).join(p).join("ferrous-kernel"),
        loader: t.join(LOADER_TARGET).join(p).join("ferrous-boot.efi"),
        user: programs
            .into_iter()
            .map(|u| {
                let path = t.join(USER_TARGET).join(p).join(&u.name);
                (u.name, path)
            })
            .collect(),
    };
    for f in [&a.kernel, &a.loader]
        .into_iter()
        .chain(a.user.iter().map(|(_, f)| f))
    {
        if !f.exists() {
            return Err(format!("build produced no {}", f.display()));
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The programs whose slots the scenarios and docs rely on, in boot
    /// order; new programs come after them.
    const FIRST: [&str; 11] = [
        "init",
        "hello",
        "fault",
        "spinner",
        "exitcode",
        "sysbad",
        "fuzz",
        "ubench",
        "captest",
        "ipctest",
        "tracetool",
    ];

    #[test]
    fn the_workspace_lists_the_user_programs_once_in_boot_order() {
        let programs = user_programs().unwrap();
        assert!(programs.len() >= FIRST.len(), "{programs:?}");
        for (p, name) in programs.iter().zip(FIRST) {
            assert_eq!(p.name, name);
        }
        for p in &programs {
            assert_eq!(p.package, format!("ferrous-{}", p.name));
        }
    }

    fn member(package: &str, bins: &[&str]) -> Member {
        Member {
            package: package.into(),
            bins: bins.iter().map(|b| b.to_string()).collect(),
        }
    }

    fn names(order: &[&str]) -> Vec<String> {
        order.iter().map(|s| s.to_string()).collect()
    }

    fn workspace() -> Vec<Member> {
        vec![
            member("ferrous-hello", &["hello"]),
            member("ferrous-rt", &[]),
            member("ferrous-init", &["init"]),
        ]
    }

    #[test]
    fn the_metadata_list_gives_the_order_and_libraries_are_left_out() {
        let got = in_boot_order(workspace(), &names(&["init", "hello"])).unwrap();
        assert_eq!(
            got,
            [
                UserProgram {
                    package: "ferrous-init".into(),
                    name: "init".into()
                },
                UserProgram {
                    package: "ferrous-hello".into(),
                    name: "hello".into()
                },
            ]
        );
    }

    #[test]
    fn the_places_must_agree() {
        let err = |order: &[&str], members| in_boot_order(members, &names(order)).unwrap_err();
        let e = err(&["init"], workspace());
        assert!(e.contains("lacks `hello` (package ferrous-hello)"), "{e}");
        let e = err(&["init", "hello", "gone"], workspace());
        assert!(e.contains("names `gone`, but no userspace/ member"), "{e}");
        let e = err(&["init", "hello", "init"], workspace());
        assert!(e.contains("names `init` twice"), "{e}");
        let e = err(&["two"], vec![member("ferrous-two", &["a", "b"])]);
        assert!(e.contains("has 2 binaries (a, b)"), "{e}");
    }
}
