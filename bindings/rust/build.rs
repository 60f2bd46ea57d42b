// SPDX-License-Identifier: Apache-2.0
//! Finds liblox with `pkg-config` (the command, not the crate) and tells
//! cargo how to link it.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_LIBDIR");
    println!("cargo:rerun-if-changed=build.rs");

    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let run = |args: &[&str]| Command::new(&pkg_config).args(args).output();
    let output = match run(&["--libs", "--cflags", "lox"]) {
        Ok(o) => o,
        Err(e) => panic!(
            "\n\nlox: could not run `{} --libs --cflags lox`: {}\n\
             Install pkg-config, and set PKG_CONFIG_PATH to the directory holding lox.pc\n\
             (e.g. PKG_CONFIG_PATH=/usr/local/lib/pkgconfig).\n\n",
            pkg_config, e
        ),
    };
    let output =
        if output.status.success() {
            output
        } else {
            // A lox.pc with `Requires.private: fmt spdlog` fails --cflags where
            // their .pc files are missing, though liblox itself is there.
            // Rust only needs --libs, which does not resolve private requires.
            match run(&["--libs", "lox"]) {
                Ok(o) if o.status.success() => {
                    println!(
                    "cargo:warning=`{} --libs --cflags lox` failed ({}); using `--libs lox` only",
                    pkg_config,
                    String::from_utf8_lossy(&output.stderr).trim().replace('\n', "; ")
                );
                    o
                }
                _ => panic!(
                "\n\nlox: pkg-config cannot find liblox (`{} --libs --cflags lox` failed):\n{}\n\
                 Set PKG_CONFIG_PATH to the directory holding lox.pc of a liblox install, e.g.\n\
                 PKG_CONFIG_PATH=/opt/lox/lib/pkgconfig cargo build\n\
                 (PKG_CONFIG_PATH is now {:?}).\n\n",
                pkg_config,
                String::from_utf8_lossy(&output.stderr).trim(),
                env::var("PKG_CONFIG_PATH").unwrap_or_default()
            ),
            }
        };

    let flags = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut linked = false;
    for flag in flags.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
        } else if let Some(lib) = flag.strip_prefix("-l") {
            if lib == "lox" {
                linked = true;
            }
            println!("cargo:rustc-link-lib={}", lib);
        }
        // -I and -D flags are for C compilers: nothing to do for Rust.
    }
    if !linked {
        println!("cargo:rustc-link-lib=lox");
    }
}
