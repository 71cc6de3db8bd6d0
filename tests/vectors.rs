//! Every file in ../shared/vectors, through the library API and through the
//! `warden verify` binary (SPEC §4). New files are picked up without code
//! changes; an unexpected accept is reported as a security bug.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use warden::{Scratch, Verified, Verifier};

fn fields(v: &Verified<'_>) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("ok".into(), json!(true));
    m.insert("kind".into(), json!(v.kind().as_str()));
    if let Some(s) = v.subject() {
        m.insert("subject".into(), json!(s));
    }
    if let Some(s) = v.kid() {
        m.insert("kid".into(), json!(s));
    }
    if let Some(s) = v.key_id() {
        m.insert("key_id".into(), json!(s));
    }
    if v.kind() == warden::Kind::ApiKey || v.scopes().len() > 0 {
        m.insert("scopes".into(), json!(v.scopes().collect::<Vec<_>>()));
    }
    if let Some(e) = v.exp_text() {
        m.insert("exp".into(), serde_json::from_str(e).unwrap());
    }
    Value::Object(m)
}

/// Compare one printed/computed verdict object with the case.
fn check(file: &str, case: &Value, got: &Value, failures: &mut Vec<String>) {
    let name = case_name(case);
    let expect = case["expect"].as_str().unwrap();
    let ok = got["ok"] == json!(true);
    if expect == "ok" {
        if !ok {
            failures.push(format!("{file} / {name}: expected ok, got {got}"));
            return;
        }
        if let Some(want) = case.get("expect_fields").and_then(Value::as_object) {
            for (k, v) in want {
                if !got.get(k).is_some_and(|g| json_eq(g, v)) {
                    failures.push(format!("{file} / {name}: field {k}: expected {v}, got {got}"));
                }
            }
        }
    } else if ok {
        failures.push(format!("{file} / {name}: SECURITY: accepted, expected {expect}"));
    } else if got["error"] != json!(expect) {
        failures.push(format!("{file} / {name}: expected {expect}, got {got}"));
    } else if expect == "rate_limited" && !got["retry_after_s"].as_u64().is_some_and(|s| s >= 1) {
        failures.push(format!("{file} / {name}: rate_limited without retry_after_s: {got}"));
    }
}

fn run_library(v: &Verifier, case: &Value, s: &mut Scratch) -> Value {
    let now = case["now"].as_f64().expect("now");
    let (flag, cred) = credential(case);
    let repeat = case.get("repeat").and_then(Value::as_u64).unwrap_or(1);
    let mut last = Value::Null;
    for _ in 0..repeat {
        let r = match flag {
            "--jwt" => v.verify_jwt(cred.as_bytes(), now, s),
            "--api-key" => v.verify_api_key(cred.as_bytes(), now, s),
            "--basic" => v.verify_basic_pair(cred.as_bytes(), now, s),
            _ => v.verify_authorization(cred.as_bytes(), now, s),
        };
        last = match r {
            Ok(ok) => fields(&ok),
            Err(rej) => {
                let mut o = json!({"ok": false, "error": rej.code.as_str()});
                if let Some(s) = rej.retry_after_s {
                    o["retry_after_s"] = json!(s);
                }
                o
            }
        };
    }
    last
}

#[test]
fn vectors_through_library() {
    let files = load_all();
    let mut failures = Vec::new();
    let mut ran = 0;
    for f in &files {
        if f.expect_load_error() {
            assert!(f.cases().is_empty(), "{}: expect_load files have no cases", f.name);
            match Verifier::from_file(&f.config_path) {
                Ok(_) => failures.push(format!("{}: SECURITY: config loaded, expected a load error", f.name)),
                Err(e) => {
                    // The message names the file and the place.
                    let msg = e.to_string();
                    assert!(msg.contains("config.json"), "{}: message without file: {msg}", f.name);
                    assert!(!e.at.is_empty(), "{}: message without a place: {msg}", f.name);
                }
            }
            ran += 1;
            continue;
        }
        let mut s = Scratch::new();
        for case in f.cases() {
            // A fresh verifier per case, as a fresh `warden verify` process.
            let v = Verifier::from_file(&f.config_path).unwrap_or_else(|e| panic!("{}: {e}", f.name));
            let got = run_library(&v, case, &mut s);
            check(&f.name, case, &got, &mut failures);
            ran += 1;
        }
    }
    assert!(failures.is_empty(), "{} of {ran} vector checks failed:\n{}", failures.len(), failures.join("\n"));
    println!("library: {ran} vector checks passed over {} files", files.len());
}

#[test]
fn vectors_through_cli() {
    let files = load_all();
    let bin = env!("CARGO_BIN_EXE_warden");
    let mut jobs: Vec<(String, Value, Vec<String>, bool)> = Vec::new();
    for f in &files {
        let config = f.config_path.to_string_lossy().into_owned();
        if f.expect_load_error() {
            for cred in [["--jwt", "a.b.c"], ["--api-key", "x_y"], ["--basic", "a:b"], ["--authorization", "Bearer x"]]
            {
                let args = vec![
                    "verify".into(),
                    "--config".into(),
                    config.clone(),
                    "--now".into(),
                    "1700000000".into(),
                    cred[0].into(),
                    cred[1].into(),
                ];
                jobs.push((f.name.clone(), Value::Null, args, true));
            }
            continue;
        }
        for case in f.cases() {
            let (flag, cred) = credential(case);
            let mut args = vec!["verify".to_string(), "--config".into(), config.clone()];
            args.push("--now".into());
            args.push(case["now"].to_string());
            if let Some(n) = case.get("repeat") {
                args.push("--repeat".into());
                args.push(n.to_string());
            }
            args.push(flag.into());
            args.push(cred);
            jobs.push((f.name.clone(), case.clone(), args, false));
        }
    }
    let n = jobs.len();
    let jobs = std::sync::Mutex::new(jobs.into_iter());
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|sc| {
        for _ in 0..4 {
            sc.spawn(|| loop {
                let Some((file, case, args, load_error)) = jobs.lock().unwrap().next() else { break };
                let out = Command::new(bin).args(&args).output().expect("run warden");
                let code = out.status.code();
                let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                let mut fl = Vec::new();
                if load_error {
                    if code != Some(2) || !stdout.is_empty() {
                        fl.push(format!("{file}: SECURITY: expected exit 2 and no output for a refused config, got {code:?} {stdout}"));
                    }
                } else {
                    let lines: Vec<&str> = stdout.lines().collect();
                    match (lines.as_slice(), serde_json::from_str::<Value>(lines.first().unwrap_or(&""))) {
                        ([_], Ok(got)) => {
                            let want_code = if case["expect"] == "ok" { 0 } else { 1 };
                            if code != Some(want_code) {
                                fl.push(format!("{file} / {}: exit {code:?}, expected {want_code}: {stdout} {}", case_name(&case), String::from_utf8_lossy(&out.stderr)));
                            }
                            check(&file, &case, &got, &mut fl);
                        }
                        _ => fl.push(format!("{file} / {}: not one JSON line: {stdout:?} stderr {}", case_name(&case), String::from_utf8_lossy(&out.stderr))),
                    }
                }
                failures.lock().unwrap().extend(fl);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} of {n} CLI vector runs failed:\n{}", failures.len(), failures.join("\n"));
    println!("cli: {n} vector runs passed");
}

/// SPEC §2 has exit codes 0, 1 and 2 only: an argument that is not UTF-8,
/// or stdout that cannot be written, is an unusable command (2), not a
/// panic (101).
#[test]
fn cli_exit_codes_stay_in_the_spec() {
    use std::os::unix::ffi::OsStrExt;
    let bin = env!("CARGO_BIN_EXE_warden");
    let dir = std::env::temp_dir().join(format!("warden-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("c.json");
    std::fs::write(&config, br#"{"api_keys": {"prefixes": ["wk"], "keys": []}}"#).unwrap();
    let base = |cred: &[&std::ffi::OsStr]| {
        let mut c = Command::new(bin);
        c.args(["verify", "--config"]).arg(&config).args(["--now", "1700000000"]).args(cred);
        c
    };
    let bad = std::ffi::OsStr::from_bytes(b"u:\xff");
    let out = base(&["--basic".as_ref(), bad]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty() && String::from_utf8_lossy(&out.stderr).contains("not UTF-8"));
    let out = Command::new(bin).arg(std::ffi::OsStr::from_bytes(b"\xffverify")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let st = base(&["--api-key".as_ref(), "wk_x".as_ref()]).stdout(full).stderr(Stdio::null()).status().unwrap();
        assert_eq!(st.code(), Some(2), "a verdict that cannot be written");
    }
    // The verdicts themselves: 1 rejected.
    let out = base(&["--api-key".as_ref(), "wk_x".as_ref()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}
