//! Source lints run by `cargo test -p xtask` (and so by `cargo xtask
//! test`):
//!
//! - **No infallible allocation on a system-call path** (issue 14). In the
//!   kernel code that system calls, user faults and process teardown
//!   reach ([`SYSCALL_PATHS`]), every line that may allocate infallibly
//!   (a growing `push`, `insert`, `extend`, `collect`, `vec!`, `format!`,
//!   `Box::new`, `Arc::new`, a `BTreeMap`, …; [`PATTERNS`]) carries a
//!   marker comment, on the line itself or the line before, that says why
//!   it cannot panic for want of heap. The markers (docs/CONTRIBUTING.md,
//!   "Allocation on system-call paths"):
//!   - `// alloc: reserved above` — room was made with `try_reserve` (or
//!     a structure's fallible `reserve`) earlier on the path;
//!   - `// alloc: fixed-size` — a fixed-size kernel object behind `Arc` or
//!     `Box`, which stable Rust cannot allocate fallibly (the decision is
//!     in kernel/src/mm/heap.rs, "Fixed-size objects");
//!   - `// alloc: none` — the match does not allocate (a ring buffer's
//!     push, a fallible push that returns an error, a type's own method);
//!   - `// alloc: off the system-call path` — boot, kernel tests' reports.
//!
//! Only tests use this module.
#![cfg(test)]

use crate::build;
use std::path::{Path, PathBuf};

/// The kernel code system calls reach: folders (every `.rs` file below)
/// and files, relative to the repository's root.
const SYSCALL_PATHS: &[&str] = &[
    "kernel/src/syscall",
    "kernel/src/ipc",
    "kernel/src/cap",
    "kernel/src/thread",
    "kernel/src/process",
    "kernel/src/frame.rs",
    "kernel/src/memory.rs",
    "kernel/src/trace.rs",
    "kernel/src/metrics.rs",
    "kernel/src/slab.rs",
    "kernel/src/exec.rs",
    "kernel/src/mm",
];

/// What may allocate infallibly. `.push(` and `.insert(` also match
/// methods of the kernel's own types; those lines say `alloc: none` or
/// `alloc: reserved above`.
const PATTERNS: &[&str] = &[
    ".push(",
    ".push_back(",
    ".push_front(",
    ".insert(",
    ".extend(",
    ".extend_from_slice(",
    ".resize(",
    ".collect",
    "vec!",
    "format!",
    "Box::new",
    "Arc::new",
    "Rc::new",
    "BTreeMap",
    "BTreeSet",
    "VecDeque",
    "String::",
    ".to_vec(",
    ".to_string(",
    ".to_owned(",
];

/// The marker vocabulary: a line matching a pattern needs one of these.
const MARKERS: &[&str] = &[
    "// alloc: reserved above",
    "// alloc: fixed-size",
    "// alloc: none",
    "// alloc: off the system-call path",
];

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for e in entries {
            rust_files(&e, out);
        }
    } else if path.extension().is_some_and(|x| x == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The code of a line: without a trailing `//` comment, and empty for a
/// comment line (doc comments mention the patterns freely).
fn code(line: &str) -> &str {
    let t = line.trim_start();
    if t.starts_with("//") {
        return "";
    }
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

fn marked(line: &str) -> bool {
    MARKERS.iter().any(|m| line.contains(m))
}

/// Every `file:line: pattern: text` in `source` that matches a pattern
/// without a marker on it or on the line before.
fn unmarked(name: &str, source: &str) -> Vec<String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let c = code(line);
        let Some(p) = PATTERNS.iter().find(|p| c.contains(*p)) else {
            continue;
        };
        // A marker on the line or the one before; for a fixed-size object
        // the closure of `mm::heap::fixed` may open on the line before,
        // with the marker above it.
        let before = |k: usize| i >= k && marked(lines[i - k]);
        let in_fixed = i > 0 && code(lines[i - 1]).contains("heap::fixed(");
        if marked(line) || before(1) || (in_fixed && before(2)) {
            continue;
        }
        found.push(format!("{name}:{}: `{p}`: {}", i + 1, line.trim()));
    }
    found
}

/// An unknown `// alloc:` marker is an error too: the vocabulary stays small.
fn unknown_markers(name: &str, source: &str) -> Vec<String> {
    source
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("// alloc:") && !marked(l))
        .map(|(i, l)| format!("{name}:{}: unknown marker: {}", i + 1, l.trim()))
        .collect()
}

#[test]
fn no_unmarked_allocation_on_system_call_paths() {
    let root = build::root();
    let mut files = Vec::new();
    for p in SYSCALL_PATHS {
        let path = root.join(p);
        assert!(path.exists(), "{p} is gone: update SYSCALL_PATHS");
        rust_files(&path, &mut files);
    }
    let mut problems = Vec::new();
    for f in &files {
        let source = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let name = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        problems.extend(unmarked(&name, &source));
        problems.extend(unknown_markers(&name, &source));
    }
    assert!(
        problems.is_empty(),
        "allocation on a system-call path without a marker (docs/CONTRIBUTING.md, \
         \"Allocation on system-call paths\"): reserve first with try_reserve and mark \
         the line, or mark why it cannot fail:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_bare_push_in_ipc_fails_the_lint() {
    let source = std::fs::read_to_string(build::root().join("kernel/src/ipc/mod.rs"))
        .expect("kernel/src/ipc/mod.rs");
    let added = format!("{source}\nfn added(v: &mut Vec<u64>) {{\n    v.push(1);\n}}\n");
    let before = unmarked("kernel/src/ipc/mod.rs", &source);
    let found = unmarked("kernel/src/ipc/mod.rs", &added);
    assert_eq!(found.len(), before.len() + 1, "{found:?}");
    assert!(
        found
            .last()
            .is_some_and(|f| f.contains("`.push(`: v.push(1);")),
        "{found:?}"
    );
}

#[test]
fn markers_comments_and_patterns() {
    let src = "\
//! Doc comments may say v.push(x) or Arc::new.
let a = Arc::new(x); // alloc: fixed-size
// alloc: reserved above
v.push(1);
w.insert(k, v);
let s = 1; // v.push(2) in a comment
// alloc: maybe
";
    let found = unmarked("f.rs", src);
    assert_eq!(found, ["f.rs:5: `.insert(`: w.insert(k, v);"]);
    assert_eq!(
        unknown_markers("f.rs", src),
        ["f.rs:7: unknown marker: // alloc: maybe"]
    );
}
