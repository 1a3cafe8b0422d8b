//! Checks that keep the documentation true to the code, run by
//! `cargo test -p xtask` (and so by `cargo xtask test`):
//!
//! - docs/TESTS.md's tables are generated: the kernel tests from `TESTS` in
//!   kernel/src/ktest/mod.rs, the QEMU scenarios from tests/scenarios.toml
//!   (each scenario's `about`, grouped by the file's `# ---- <section> ----`
//!   lines). The text between `<!-- ktests:begin -->` and
//!   `<!-- ktests:end -->`, and between `<!-- scenarios:begin -->` and
//!   `<!-- scenarios:end -->`, must be exactly what this module renders.
//!   `FERROUS_BLESS=1 cargo test -p xtask docs` rewrites it.
//! - Every scenario has an `about` and a section.
//! - README.md links every file in docs/ and docs/adr/README.md, and its
//!   layout table names every folder in lib/ and userspace/.
//! - docs/ARCHITECTURE.md's scenario tables name every scenario.
//! - Every relative link in a Markdown file of the repository names a file
//!   or folder that exists and, in a Markdown file, a heading it has.
//!
//! Only tests use this module.
#![cfg(test)]

use crate::build;
use crate::scenario::{self, Expect, Scenario};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One entry of the kernel's test registry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KernelTest {
    name: String,
    about: String,
}

/// The string literal that starts at the first `"` of `s`, unescaped, and
/// the rest of `s` after its closing quote.
fn string_literal(s: &str) -> Option<(String, &str)> {
    let start = s.find('"')?;
    let mut out = String::new();
    let mut chars = s[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[start + 1 + i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// The `name` and `about` of every `Test` in the `TESTS` table of
/// kernel/src/ktest/mod.rs, in table order.
fn kernel_tests(src: &str) -> Result<Vec<KernelTest>, String> {
    const START: &str = "const TESTS: &[Test] = &[";
    let start = src.find(START).ok_or(format!("no `{START}`"))?;
    let body = &src[start + START.len()..];
    let end = body
        .lines()
        .take_while(|l| l.trim() != "];")
        .map(|l| l.len() + 1)
        .sum::<usize>();
    if end >= body.len() {
        return Err("`TESTS` does not end with a `];` line".into());
    }
    let body = &body[..end];
    let mut tests = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("name:") {
        let (name, after) =
            string_literal(&rest[at..]).ok_or("a `name:` without a string literal")?;
        let about_at = after
            .find("about:")
            .ok_or(format!("test `{name}` has no `about:`"))?;
        let (about, after) = string_literal(&after[about_at..])
            .ok_or(format!("test `{name}`: `about:` without a string literal"))?;
        tests.push(KernelTest { name, about });
        rest = after;
    }
    if tests.is_empty() {
        return Err("`TESTS` lists no test".into());
    }
    Ok(tests)
}

/// The section of every scenario: the last `# ---- <section> ----` line
/// above its `[[scenario]]`. `(section, scenario names)` in file order.
fn sections(toml: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_scenario = false;
    for line in toml.lines().map(str::trim) {
        if let Some(title) = line
            .strip_prefix("# ----")
            .and_then(|l| l.strip_suffix("----"))
        {
            out.push((title.trim().to_string(), Vec::new()));
            in_scenario = false;
        } else if line == "[[scenario]]" {
            in_scenario = true;
        } else if in_scenario
            && let Some(v) = line
                .strip_prefix("name")
                .filter(|v| v.trim_start().starts_with('='))
        {
            let (name, _) = string_literal(v).ok_or(format!("bad name line `{line}`"))?;
            match out.last_mut() {
                Some((_, names)) => names.push(name),
                None => {
                    return Err(format!(
                        "scenario `{name}` is above the first `# ---- <section> ----` line"
                    ));
                }
            }
            in_scenario = false;
        }
    }
    Ok(out)
}

/// `s` as a Markdown code span that is safe inside a table cell.
fn code(s: &str) -> String {
    let s = s.replace('|', "\\|");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// Plain text safe inside a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn expect_name(e: Expect) -> &'static str {
    match e {
        Expect::Pass => "pass",
        Expect::Fail => "fail",
        Expect::Timeout => "timeout",
        Expect::LoaderStop => "loader-stop",
        Expect::Reset => "reset",
    }
}

/// What a scenario boots: its command line (with the trace options),
/// a broken kernel, extra boot.conf lines.
fn boots_with(s: &Scenario) -> String {
    let mut parts = Vec::new();
    let cmdline = s.kernel_cmdline();
    if !cmdline.is_empty() {
        parts.push(code(&cmdline));
    }
    if let Some(k) = s.broken_kernel {
        let kind = match k {
            scenario::BrokenKernel::Garbage => "garbage",
            scenario::BrokenKernel::Truncated => "truncated",
            scenario::BrokenKernel::WritableText => "writable-text",
        };
        parts.push(format!("broken kernel {}", code(kind)));
    }
    for line in &s.boot_conf {
        parts.push(format!("boot.conf {}", code(line)));
    }
    if parts.is_empty() {
        "(no command line)".into()
    } else {
        parts.join(", ")
    }
}

fn machine(s: &Scenario) -> String {
    let cpus = if s.smp == 1 {
        "1 CPU".to_string()
    } else {
        format!("{} CPUs", s.smp)
    };
    if s.mem == "512M" {
        cpus
    } else {
        format!("{cpus}, {}", s.mem)
    }
}

/// The kernel command line's `test=` value, if any.
fn test_of(s: &Scenario) -> Option<&str> {
    s.cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("test="))
}

/// The scenario tables, one per section.
fn render_scenarios(toml: &str) -> Result<String, String> {
    let all = scenario::parse(toml)?;
    let find = |name: &str| all.iter().find(|s| s.name == name);
    let mut out = String::from("\n");
    let mut listed = 0;
    for (title, names) in sections(toml)? {
        if names.is_empty() {
            continue;
        }
        let mut chars = title.chars();
        let title: String = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        let _ = writeln!(out, "\n### {title}\n");
        out.push_str("| Scenario | Boots with | Machine | Ends | Checks |\n");
        out.push_str("|---|---|---|---|---|\n");
        for name in names {
            let s = find(&name).ok_or(format!("`{name}` is not a scenario"))?;
            if s.about.trim().is_empty() {
                return Err(format!("scenario `{name}` has no `about`"));
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                code(&s.name),
                boots_with(s),
                machine(s),
                expect_name(s.expect),
                cell(&s.about)
            );
            listed += 1;
        }
    }
    if listed != all.len() {
        return Err(format!(
            "{listed} of {} scenarios found under section lines",
            all.len()
        ));
    }
    out.push('\n');
    Ok(out)
}

/// Scenarios named in one cell: up to `MAX_LISTED`, then how many in all.
const MAX_LISTED: usize = 6;

/// The kernel-test table, with the scenarios that run each test.
fn render_kernel_tests(tests: &[KernelTest], toml: &str) -> Result<String, String> {
    let scenarios = scenario::parse(toml)?;
    let mut out = String::from("\n\n| Test | What it does | Run by |\n|---|---|---|\n");
    for t in tests {
        let by: Vec<String> = scenarios
            .iter()
            .filter(|s| test_of(s) == Some(t.name.as_str()))
            .map(|s| code(&s.name))
            .collect();
        let by = match by.len() {
            0 => "no scenario".to_string(),
            n if n <= MAX_LISTED => by.join(", "),
            n => format!("{}, … ({n} scenarios)", by[..MAX_LISTED].join(", ")),
        };
        let _ = writeln!(out, "| {} | {} | {} |", code(&t.name), cell(&t.about), by);
    }
    out.push('\n');
    Ok(out)
}

fn begin(marker: &str) -> String {
    format!("<!-- {marker}:begin -->")
}

fn end(marker: &str) -> String {
    format!("<!-- {marker}:end -->")
}

/// `doc` with the text between the marker comments replaced by `body`.
fn splice(doc: &str, marker: &str, body: &str) -> Result<String, String> {
    let (b, e) = (begin(marker), end(marker));
    let start = doc.find(&b).ok_or(format!("no `{b}`"))? + b.len();
    let stop = start
        + doc[start..]
            .find(&e)
            .ok_or(format!("no `{e}` after `{b}`"))?;
    Ok(format!("{}{body}{}", &doc[..start], &doc[stop..]))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// What docs/TESTS.md must hold.
fn expected_tests_md(current: &str) -> Result<String, String> {
    let root = build::root();
    let toml = read(&root.join("tests/scenarios.toml"));
    let ktests = kernel_tests(&read(&root.join("kernel/src/ktest/mod.rs")))
        .map_err(|e| format!("kernel/src/ktest/mod.rs: {e}"))?;
    let doc = splice(current, "ktests", &render_kernel_tests(&ktests, &toml)?)?;
    splice(&doc, "scenarios", &render_scenarios(&toml)?)
}

/// Markdown files of the repository, outside `target/` and hidden folders.
fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            markdown_files(&path, out);
        } else if name.ends_with(".md") {
            out.push(path);
        }
    }
}

/// The targets of the inline links `[text](target)` outside fenced code.
fn links(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            match after.find(')') {
                Some(close) => {
                    out.push(after[..close].to_string());
                    rest = &after[close..];
                }
                None => break,
            }
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces
/// as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|&c| c.is_alphanumeric() || c == '_' || c == '-' || c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (a repeated one gets `-1`,
/// `-2`, … as on GitHub).
fn anchors(md: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut fenced = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let Some(title) = line.strip_prefix('#') else {
            continue;
        };
        if fenced {
            continue;
        }
        let title = title.trim_start_matches('#');
        if !title.starts_with(' ') {
            continue;
        }
        let base = slug(title);
        let seen = out
            .iter()
            .filter(|a| {
                **a == base
                    || a.strip_prefix(base.as_str())
                        .and_then(|r| r.strip_prefix('-'))
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .count();
        out.push(if seen == 0 {
            base
        } else {
            format!("{base}-{seen}")
        });
    }
    out
}

#[test]
fn anchors_follow_github() {
    assert_eq!(
        slug(" User space: the trace capability"),
        "user-space-the-trace-capability"
    );
    assert_eq!(slug(" `trace=`"), "trace");
    assert_eq!(slug(" `trace_read` buffer"), "trace_read-buffer");
    assert_eq!(
        anchors("# A\n## Testing\n```\n# not a heading\n```\n### Testing\n#hashtag\n"),
        ["a", "testing", "testing-1"]
    );
}

#[test]
fn kernel_tests_are_read_from_the_registry() {
    let src = r#"
        const OTHER: &[Test] = &[Test { name: "not-this", about: "x", run: f }];
        const TESTS: &[Test] = &[
            Test {
                name: "boot",
                about: "reaches \"kmain\"",
                run: |_| Ok(()),
            },
            Test {
                name: "long",
                about:
                    "an about on its own line",
                run: f,
            },
        ];
    "#;
    let t = kernel_tests(src).unwrap();
    assert_eq!(
        t,
        [
            KernelTest {
                name: "boot".into(),
                about: "reaches \"kmain\"".into()
            },
            KernelTest {
                name: "long".into(),
                about: "an about on its own line".into()
            },
        ]
    );
    assert!(kernel_tests("const TESTS: &[Test] = &[\n];").is_err());
    assert!(kernel_tests("const TESTS: &[Test] = &[ Test { name: \"a\" } \n];").is_err());
}

#[test]
fn scenarios_are_grouped_by_section_lines() {
    let toml = "# ---- first ----\n[[scenario]]\nname = \"a\"\nexpect = \"pass\"\n\
                # ---- second part ----\n\n[[scenario]]\nname = \"b\"\nexpect = \"pass\"\n";
    assert_eq!(
        sections(toml).unwrap(),
        [
            ("first".to_string(), vec!["a".to_string()]),
            ("second part".to_string(), vec!["b".to_string()]),
        ]
    );
    assert!(sections("[[scenario]]\nname = \"a\"\nexpect = \"pass\"\n").is_err());
}

#[test]
fn table_cells_escape_pipes() {
    assert_eq!(code("a|b"), "`a\\|b`");
    assert_eq!(code("a`b"), "`` a`b ``");
    assert_eq!(cell("x | y"), "x \\| y");
}

#[test]
fn splice_replaces_only_between_markers() {
    let doc = "a\n<!-- t:begin -->\nold\n<!-- t:end -->\nb\n";
    assert_eq!(
        splice(doc, "t", "\nnew\n").unwrap(),
        "a\n<!-- t:begin -->\nnew\n<!-- t:end -->\nb\n"
    );
    assert!(splice("no markers", "t", "x").is_err());
}

#[test]
fn every_scenario_has_an_about_and_a_section() {
    let toml = read(&build::root().join("tests/scenarios.toml"));
    for s in scenario::parse(&toml).unwrap() {
        assert!(
            !s.about.trim().is_empty(),
            "scenario `{}` in tests/scenarios.toml has no `about`",
            s.name
        );
    }
    render_scenarios(&toml).unwrap();
}

/// docs/TESTS.md is what `tests/scenarios.toml` and the kernel's `TESTS`
/// say. With `FERROUS_BLESS=1` the file is rewritten instead.
#[test]
fn tests_md_is_current() {
    let path = build::root().join("docs/TESTS.md");
    let current = read(&path);
    let want = expected_tests_md(&current).unwrap_or_else(|e| panic!("docs/TESTS.md: {e}"));
    if current == want {
        return;
    }
    if std::env::var_os("FERROUS_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    panic!(
        "docs/TESTS.md is out of date with tests/scenarios.toml or the kernel's TESTS \
         (kernel/src/ktest/mod.rs). Rewrite it with\n\n    \
         FERROUS_BLESS=1 cargo test -p xtask docs\n\nand commit it. It should read:\n\n{want}"
    );
}

#[test]
fn readme_links_every_doc() {
    let root = build::root();
    let readme = read(&root.join("README.md"));
    let targets = links(&readme);
    let mut docs: Vec<String> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| format!("docs/{}", e.file_name().to_string_lossy()))
        .collect();
    docs.push("docs/adr/README.md".into());
    docs.sort();
    let missing: Vec<&String> = docs
        .iter()
        .filter(|d| {
            !targets
                .iter()
                .any(|t| t.split('#').next() == Some(d.as_str()))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "README.md does not link {missing:?}; its Documentation list must link every file in docs/"
    );
}

/// The layout table names every crate folder in lib/ and userspace/.
#[test]
fn readme_names_every_crate_folder() {
    let root = build::root();
    let readme = read(&root.join("README.md"));
    let mut missing = Vec::new();
    for dir in ["lib", "userspace"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() && !readme.contains(&format!("`{name}`")) {
                missing.push(format!("{dir}/{name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "README.md's layout table does not name {missing:?}"
    );
}

#[test]
fn architecture_names_every_scenario() {
    let root = build::root();
    let arch = read(&root.join("docs/ARCHITECTURE.md"));
    let start = arch
        .find("\n### Current scenarios\n")
        .expect("docs/ARCHITECTURE.md has no `### Current scenarios`");
    let section = &arch[start + 1..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let toml = read(&root.join("tests/scenarios.toml"));
    let missing: Vec<String> = scenario::parse(&toml)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .filter(|n| !section.contains(&format!("`{n}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md, \"Current scenarios\", does not describe {missing:?}"
    );
}

#[test]
fn relative_links_resolve() {
    let root = build::root();
    let mut files = Vec::new();
    markdown_files(&root, &mut files);
    files.sort();
    assert!(files.iter().any(|f| f.ends_with("README.md")));
    let mut broken = Vec::new();
    for file in &files {
        let dir = file.parent().unwrap();
        for target in links(&read(file)) {
            let path = target.split('#').next().unwrap_or("");
            if path.contains("://") || path.starts_with("mailto:") {
                continue;
            }
            let shown = file.strip_prefix(&root).unwrap_or(file);
            let to = if path.is_empty() {
                file.clone()
            } else {
                dir.join(path)
            };
            if !to.exists() {
                broken.push(format!("{}: {target}", shown.display()));
                continue;
            }
            let anchor = target.split_once('#').map(|(_, a)| a);
            if let Some(anchor) = anchor.filter(|_| to.extension().is_some_and(|e| e == "md"))
                && !anchors(&read(&to)).iter().any(|a| a == anchor)
            {
                broken.push(format!("{}: {target} (no such heading)", shown.display()));
            }
        }
    }
    assert!(broken.is_empty(), "links to nothing: {broken:#?}");
}
