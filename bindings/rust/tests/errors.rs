// SPDX-License-Identifier: Apache-2.0
//! Error values, version and logging helpers.

use lox::sys;

#[test]
fn error_carries_code_name_and_detail() {
    let err = lox::IndexSemaphore::new(0).unwrap_err();
    assert_eq!(err.code(), sys::LOX_EINVAL);
    assert_eq!(err.name(), lox::status_name(sys::LOX_EINVAL));
    assert_eq!(err.name(), "invalid argument");
    assert!(!err.detail().is_empty());
    let text = err.to_string();
    assert!(text.contains("invalid argument") && text.contains(err.detail()));
    assert!(!err.is_timeout() && !err.is_closed());
}

#[test]
fn detail_is_per_thread() {
    let err = lox::IndexSemaphore::new(0).unwrap_err();
    // Another thread's failure does not change this error's copy.
    let other = std::thread::spawn(|| {
        let q = lox::Queue::<u8>::new(0).unwrap();
        q.task_done().unwrap_err()
    })
    .join()
    .unwrap();
    assert_eq!(other.code(), sys::LOX_ESTATE);
    assert_ne!(other.detail(), err.detail());
}

#[test]
fn status_names() {
    assert_eq!(lox::status_name(sys::LOX_OK), "success");
    assert_eq!(lox::status_name(sys::LOX_ECLOSED), "closed");
    assert_eq!(lox::status_name(-1000), "unknown status");
}

#[test]
fn version_matches_header() {
    let (major, minor, patch) = lox::version();
    assert_eq!(
        (major << 16) | (minor << 8) | patch,
        sys::LOX_VERSION_NUMBER,
        "liblox {} does not match the declarations",
        lox::version_string()
    );
    assert_eq!(
        lox::version_string(),
        format!("{}.{}.{}", major, minor, patch)
    );
}

#[test]
fn log_level_round_trips() {
    let before = lox::log_level();
    lox::set_log_level(lox::LogLevel::Off);
    assert_eq!(lox::log_level(), lox::LogLevel::Off);
    lox::set_log_level(before);
    assert_eq!(lox::log_level(), before);
}

/// The `lox/...` path of a line `#include <lox/...>` (or `"lox/..."`).
fn lox_include(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let rest = rest.strip_prefix("include")?.trim_start();
    let rest = rest.strip_prefix('<').or_else(|| rest.strip_prefix('"'))?;
    let path = rest.split(|c| c == '>' || c == '"').next()?;
    if path.starts_with("lox/") {
        Some(path)
    } else {
        None
    }
}

/// `include/<name>` and every `<lox/...>` header it includes, recursively
/// (each once, resolved against `include`), as one text.
fn header_text(
    include: &std::path::Path,
    name: &str,
    seen: &mut std::collections::HashSet<std::path::PathBuf>,
) -> std::io::Result<String> {
    let path = include.join(name);
    if !seen.insert(path.clone()) {
        return Ok(String::new());
    }
    let text = std::fs::read_to_string(&path)?;
    let mut out = text.clone();
    for line in text.lines() {
        if let Some(inner) = lox_include(line) {
            out.push('\n');
            out.push_str(&header_text(include, inner, seen)?);
        }
    }
    Ok(out)
}

/// The entries of the LOX_STATUS_MAP in `text` as ("LOX_<NAME>", value,
/// text): the #define line and its continuation lines.
fn status_map(text: &str) -> Vec<(String, i32, String)> {
    let lines = text
        .lines()
        .skip_while(|l| !l.starts_with("#define LOX_STATUS_MAP(X)"));
    let mut block = String::new();
    for line in lines {
        block.push_str(line);
        block.push('\n');
        if !line.trim_end().ends_with('\\') {
            break;
        }
    }
    let mut out = Vec::new();
    for piece in block.split("X(").skip(1) {
        // piece: NAME, value, "text", ...
        let mut fields = piece.splitn(3, ',');
        let name = fields.next().unwrap().trim().to_string();
        let value: i32 = fields
            .next()
            .unwrap()
            .trim()
            .parse()
            .expect("a status value");
        let rest = fields.next().unwrap();
        let text = rest.split('"').nth(1).expect("a status text").to_string();
        out.push((format!("LOX_{name}"), value, text));
    }
    out
}

/// The entries of LOX_STATUS_MAP in lox.h and the headers it includes.
fn header_status_map() -> Vec<(String, i32, String)> {
    let include = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../include"));
    let text = header_text(include, "lox/lox.h", &mut Default::default())
        .expect("lox.h beside the binding");
    status_map(&text)
}

#[test]
fn header_reader_follows_the_lox_includes() {
    let dir = std::env::temp_dir().join(format!("lox-header-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("lox/c")).unwrap();
    std::fs::write(
        dir.join("lox/lox.h"),
        "#include <stddef.h>\n#include <lox/c/status.h>\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("lox/c/status.h"),
        "#include <lox/lox.h>\n#define LOX_STATUS_MAP(X) \\\n    X(OK, 0, \"success\", \"m\") \\\n    \
         X(EINVAL, -1, \"bad\", \\\n      \"m\")\nenum { LOX_STATUS_MAP(E) };\n",
    )
    .unwrap();
    let text = header_text(&dir, "lox/lox.h", &mut Default::default());
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        status_map(&text.unwrap()),
        vec![
            ("LOX_OK".to_string(), 0, "success".to_string()),
            ("LOX_EINVAL".to_string(), -1, "bad".to_string())
        ]
    );
}

/// The binding's constant for a status name, if it has one.
fn binding_constant(name: &str) -> Option<i32> {
    Some(match name {
        "LOX_OK" => sys::LOX_OK,
        "LOX_TIMEOUT" => sys::LOX_TIMEOUT,
        "LOX_EINVAL" => sys::LOX_EINVAL,
        "LOX_ENOMEM" => sys::LOX_ENOMEM,
        "LOX_ESTATE" => sys::LOX_ESTATE,
        "LOX_ECLOSED" => sys::LOX_ECLOSED,
        "LOX_ETASK" => sys::LOX_ETASK,
        "LOX_EWORKER" => sys::LOX_EWORKER,
        "LOX_ESYS" => sys::LOX_ESYS,
        "LOX_ECANCELLED" => sys::LOX_ECANCELLED,
        "LOX_EDEPENDENCY" => sys::LOX_EDEPENDENCY,
        _ => return None,
    })
}

#[test]
fn status_constants_match_the_header_map() {
    let map = header_status_map();
    assert!(
        map.len() >= 9,
        "parsed {} entries of LOX_STATUS_MAP",
        map.len()
    );
    for (name, value, text) in &map {
        assert_eq!(
            binding_constant(name),
            Some(*value),
            "{name}: the binding's constant"
        );
        assert_eq!(
            lox::status_name(*value),
            text.as_str(),
            "{name}: lox_status_str"
        );
        // SAFETY: lox_status_name returns static NUL-terminated text, never NULL.
        let c_name = unsafe { std::ffi::CStr::from_ptr(sys::lox_status_name(*value)) };
        assert_eq!(c_name.to_str().unwrap(), name.as_str());
    }
}
