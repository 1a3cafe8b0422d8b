//! Thread ids as the trace writes them, `(generation << 32) | (index + 1)`
//! with 0 for no thread, and as people read them: `T<index>`, with
//! `.g<generation>` if the generation is not 0, and the `trace.name`
//! name in parentheses when known: `T3(init)`, `T5.g2(ipctest)`.

use super::stream::Trace;

/// The label of a thread word: `T3`, `T5.g2`, `idle` for 0 (no thread:
/// the idle loop or boot), `thread#0x...` for a word with no index.
pub fn label(word: u64) -> String {
    if word == 0 {
        return "idle".into();
    }
    let low = word as u32;
    let generation = (word >> 32) as u32;
    if low == 0 {
        return format!("thread#{word:#x}");
    }
    let index = low - 1;
    if generation == 0 {
        format!("T{index}")
    } else {
        format!("T{index}.g{generation}")
    }
}

/// The label with the thread's name: `T3(init)`; just the label if the
/// trace never named it.
pub fn display(trace: &Trace, word: u64) -> String {
    match trace.names.get(&word) {
        Some(name) if word != 0 && !name.is_empty() => format!("{}({name})", label(word)),
        _ => label(word),
    }
}

/// The thread word for `T<n>`, `T<n>.g<g>`, `T<n>(name)` or a name known
/// from the trace (it must name exactly one thread).
pub fn parse(trace: &Trace, spec: &str) -> Result<u64, String> {
    let bare = spec.split('(').next().unwrap_or(spec);
    if let Some(word) = parse_label(bare) {
        return Ok(word);
    }
    let found: Vec<u64> = trace
        .names
        .iter()
        .filter(|(_, name)| name.as_str() == spec)
        .map(|(&w, _)| w)
        .collect();
    match found[..] {
        [word] => Ok(word),
        [] => {
            let known: Vec<String> = trace.names.keys().map(|&w| display(trace, w)).collect();
            Err(format!(
                "no thread `{spec}` in the trace (give T<n> or a name; named: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        }
        _ => {
            let all: Vec<String> = found.iter().map(|&w| display(trace, w)).collect();
            Err(format!(
                "`{spec}` names {} threads: {}; give one as T<n>",
                found.len(),
                all.join(", ")
            ))
        }
    }
}

fn parse_label(s: &str) -> Option<u64> {
    let rest = s.strip_prefix('T')?;
    let (index, generation) = match rest.split_once(".g") {
        Some((i, g)) => (i, g.parse::<u32>().ok()?),
        None => (rest, 0),
    };
    let index: u32 = index.parse().ok()?;
    let low = index.checked_add(1)?;
    Some((u64::from(generation) << 32) | u64::from(low))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip() {
        let mut t = Trace::default();
        t.names.insert(4, "init".into());
        assert_eq!(label(0), "idle");
        assert_eq!(label(4), "T3");
        assert_eq!(label((2 << 32) | 6), "T5.g2");
        assert_eq!(label(7 << 32), "thread#0x700000000");
        assert_eq!(display(&t, 4), "T3(init)");
        assert_eq!(display(&t, 5), "T4");
        assert_eq!(parse(&t, "T3").unwrap(), 4);
        assert_eq!(parse(&t, "T3(init)").unwrap(), 4);
        assert_eq!(parse(&t, "T5.g2").unwrap(), (2 << 32) | 6);
        assert_eq!(parse(&t, "init").unwrap(), 4);
        assert!(parse(&t, "nobody").unwrap_err().contains("T3(init)"));
        t.names.insert(9, "init".into());
        assert!(parse(&t, "init").unwrap_err().contains("2 threads"));
    }
}
