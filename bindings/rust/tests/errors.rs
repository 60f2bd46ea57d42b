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
