//! The `warden` command line (SPEC §2).

use std::io::{Read, Write};
use std::process::ExitCode;
use warden::{Rejection, Scratch, Verified, Verifier};

const USAGE: &str = "usage:
  warden verify --config FILE [--now UNIX_SECONDS] [--repeat N] <credential>
      credential: --jwt TOKEN | --api-key KEY | --basic USER:PASS | --authorization \"Bearer …\" / \"Basic …\"
      prints one JSON object; exit 0 accepted, 1 rejected, 2 unusable command or config
  warden inspect TOKEN
      decodes a JWT's header and payload WITHOUT verifying anything
  warden keygen --prefix P [--id ID] [--owner NAME] [--scopes a,b] [--not-before UNIX_SECONDS]
                [--not-after UNIX_SECONDS]
      prints a new API key and the config entry for it
  warden hash-password [--iterations N]
      reads a password on stdin, prints a PHC PBKDF2-SHA256 hash
  warden version";

fn main() -> ExitCode {
    let r = args().and_then(|args| match args.first().map(String::as_str) {
        Some("verify") => verify(&args[1..]),
        Some("inspect") => inspect(&args[1..]),
        Some("keygen") => keygen(&args[1..]),
        Some("hash-password") => hash_password(&args[1..]),
        Some("version" | "--version" | "-V") => say(&format!("warden {}", warden::VERSION)).map(|_| ExitCode::SUCCESS),
        Some("help" | "--help" | "-h") => say(USAGE).map(|_| ExitCode::SUCCESS),
        _ => Err(format!("unknown or missing command\n{USAGE}")),
    });
    match r {
        Ok(c) => c,
        Err(msg) => {
            warn(&msg);
            ExitCode::from(2)
        }
    }
}

/// The arguments, which must be UTF-8 (`std::env::args` panics on others:
/// an exit code SPEC §2 does not have).
fn args() -> Result<Vec<String>, String> {
    std::env::args_os()
        .skip(1)
        .enumerate()
        .map(|(i, a)| a.into_string().map_err(|a| format!("argument {} is not UTF-8: {a:?}", i + 1)))
        .collect()
}

/// A line on stdout; a failed write (a closed pipe, a full disk) is an
/// error to report, not a panic (`println!` panics).
fn say(text: &str) -> Result<(), String> {
    writeln!(std::io::stdout().lock(), "{text}").map_err(|e| format!("cannot write to stdout: {e}"))
}

/// A line on stderr, `warden: ` first; nothing more can be done when that fails.
fn warn(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warden: {text}");
}

/// `--name value` options; every option takes a value.
struct Opts<'a> {
    pairs: Vec<(&'a str, &'a str)>,
    rest: Vec<&'a str>,
}

impl<'a> Opts<'a> {
    fn parse(args: &'a [String], known: &[&str]) -> Result<Opts<'a>, String> {
        let mut pairs = Vec::new();
        let mut rest = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            if let Some(name) = a.strip_prefix("--") {
                let (name, value) = match name.split_once('=') {
                    Some((n, v)) => (n, v),
                    None => {
                        i += 1;
                        (name, args.get(i).map(String::as_str).ok_or_else(|| format!("--{name} needs a value"))?)
                    }
                };
                if !known.contains(&name) {
                    return Err(format!("unknown option --{name}\n{USAGE}"));
                }
                if pairs.iter().any(|(n, _)| *n == name) {
                    return Err(format!("--{name} given twice"));
                }
                pairs.push((name, value));
            } else {
                rest.push(a);
            }
            i += 1;
        }
        Ok(Opts { pairs, rest })
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

enum Cred<'a> {
    Jwt(&'a str),
    ApiKey(&'a str),
    Basic(&'a str),
    Authorization(&'a str),
}

fn verify(args: &[String]) -> Result<ExitCode, String> {
    let o = Opts::parse(args, &["config", "now", "repeat", "jwt", "api-key", "basic", "authorization"])?;
    if let Some(extra) = o.rest.first() {
        return Err(format!("unexpected argument {extra:?}"));
    }
    let config = o.get("config").ok_or("verify needs --config FILE")?;
    let now = match o.get("now") {
        None => warden::unix_now(),
        Some(s) => match s.parse::<f64>() {
            Ok(n) if n.is_finite() => n,
            _ => return Err(format!("--now {s:?} is not a number of seconds")),
        },
    };
    let repeat: u64 = match o.get("repeat") {
        None => 1,
        Some(s) => s.parse().ok().filter(|&n| n >= 1).ok_or_else(|| format!("--repeat {s:?} is not a count >= 1"))?,
    };
    let creds: Vec<Cred> = [
        o.get("jwt").map(Cred::Jwt),
        o.get("api-key").map(Cred::ApiKey),
        o.get("basic").map(Cred::Basic),
        o.get("authorization").map(Cred::Authorization),
    ]
    .into_iter()
    .flatten()
    .collect();
    let [cred] = <[Cred; 1]>::try_from(creds)
        .map_err(|_| "verify needs exactly one of --jwt, --api-key, --basic, --authorization".to_string())?;
    let snap = warden::Snapshot::from_file(std::path::Path::new(config)).map_err(|e| e.to_string())?;
    // Remote key fetch problems go to stderr; stdout stays one JSON object.
    let logger: warden::Logger = std::sync::Arc::new(|level, msg: &str| {
        if level != warden::jwks::LogLevel::Info {
            warn(msg);
        }
    });
    let verifier = Verifier::with_logger(snap, Some(logger));
    let mut scratch = Scratch::new();
    let run = |scratch: &mut Scratch| -> String {
        let r = match cred {
            Cred::Jwt(t) => verifier.verify_jwt(t.as_bytes(), now, scratch),
            Cred::ApiKey(k) => verifier.verify_api_key(k.as_bytes(), now, scratch),
            Cred::Basic(p) => verifier.verify_basic_pair(p.as_bytes(), now, scratch),
            Cred::Authorization(v) => verifier.verify_authorization(v.as_bytes(), now, scratch),
        };
        render(&r)
    };
    let mut last = String::new();
    for _ in 0..repeat {
        last = run(&mut scratch);
    }
    let ok = last.starts_with("{\"ok\": true");
    say(&last)?;
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn q(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// The SPEC §2 JSON object for a verdict.
fn render(r: &Result<Verified<'_>, Rejection>) -> String {
    match r {
        Err(rej) => match rej.retry_after_s {
            Some(s) => format!("{{\"ok\": false, \"error\": {}, \"retry_after_s\": {s}}}", q(rej.code.as_str())),
            None => format!("{{\"ok\": false, \"error\": {}}}", q(rej.code.as_str())),
        },
        Ok(v) => {
            let mut s = format!("{{\"ok\": true, \"kind\": {}", q(v.kind().as_str()));
            if let Some(x) = v.subject() {
                s += &format!(", \"subject\": {}", q(x));
            }
            if let Some(x) = v.kid() {
                s += &format!(", \"kid\": {}", q(x));
            }
            if let Some(x) = v.key_id() {
                s += &format!(", \"key_id\": {}", q(x));
            }
            let has_scopes = v.kind() == warden::Kind::ApiKey || v.scopes().len() > 0;
            if has_scopes {
                let list: Vec<String> = v.scopes().map(q).collect();
                s += &format!(", \"scopes\": [{}]", list.join(", "));
            }
            if let Some(x) = v.exp_text() {
                s += &format!(", \"exp\": {x}");
            }
            s.push('}');
            s
        }
    }
}

fn inspect(args: &[String]) -> Result<ExitCode, String> {
    let [token] = args else { return Err(format!("inspect takes one TOKEN\n{USAGE}")) };
    let parts: Vec<&str> = token.trim().split('.').collect();
    if parts.len() != 3 {
        return Err(format!("a compact JWS has 3 segments; this has {}", parts.len()));
    }
    let seg = |i: usize, what: &str| -> Result<serde_json::Value, String> {
        let bytes = warden::b64::decode_vec(&warden::b64::URL, parts[i])
            .ok_or_else(|| format!("the {what} is not base64url without padding"))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("the {what} is not JSON: {e}"))
    };
    let header = seg(0, "header")?;
    let payload = seg(1, "payload")?;
    let sig_len = warden::b64::decode_vec(&warden::b64::URL, parts[2]).map(|s| s.len());
    let out = serde_json::json!({
        "UNVERIFIED": "decoded only: the signature and claims were NOT checked",
        "header": header,
        "payload": payload,
        "signature_bytes": sig_len,
    });
    warn("UNVERIFIED — nothing about this token has been checked");
    say(&serde_json::to_string_pretty(&out).expect("json"))?;
    Ok(ExitCode::SUCCESS)
}

fn keygen(args: &[String]) -> Result<ExitCode, String> {
    let o = Opts::parse(args, &["prefix", "id", "owner", "scopes", "not-after", "not-before"])?;
    let prefix = o.get("prefix").ok_or("keygen needs --prefix P")?;
    let key = warden::apikey::generate(prefix)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let hex = warden::apikey::hex(digest.as_ref());
    let id = o.get("id").map(str::to_string).unwrap_or_else(|| format!("{prefix}_{}", &hex[..8]));
    let mut entry = serde_json::Map::new();
    entry.insert("id".into(), id.clone().into());
    entry.insert("sha256".into(), hex.into());
    entry.insert("owner".into(), o.get("owner").unwrap_or(&id).into());
    let scopes: Vec<serde_json::Value> = o
        .get("scopes")
        .map(|s| s.split([',', ' ']).filter(|x| !x.is_empty()).map(|x| x.into()).collect())
        .unwrap_or_default();
    entry.insert("scopes".into(), scopes.into());
    let mut window = [None, None];
    for (i, (opt, name)) in [("not-before", "not_before"), ("not-after", "not_after")].into_iter().enumerate() {
        if let Some(t) = o.get(opt) {
            let n: i64 = t.parse().map_err(|_| format!("--{opt} {t:?} is not Unix seconds"))?;
            entry.insert(name.into(), n.into());
            window[i] = Some(n);
        }
    }
    // The entry must be one the config accepts: an empty window is refused.
    if let [Some(nb), Some(na)] = window {
        if nb >= na {
            return Err(format!("--not-before {nb} must be before --not-after {na}"));
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "key: {key}");
    let _ = writeln!(out, "(shown once: warden stores only its SHA-256; add \"{prefix}\" to api_keys.prefixes)");
    let _ = writeln!(out, "config entry for api_keys.keys:");
    let _ = writeln!(out, "{}", serde_json::to_string_pretty(&entry).expect("json"));
    Ok(ExitCode::SUCCESS)
}

fn hash_password(args: &[String]) -> Result<ExitCode, String> {
    let o = Opts::parse(args, &["iterations"])?;
    let it: u32 = match o.get("iterations") {
        None => warden::basic::DEFAULT_PBKDF2_ITERATIONS,
        Some(s) => s.parse().map_err(|_| format!("--iterations {s:?} is not a number"))?,
    };
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).map_err(|e| format!("cannot read stdin: {e}"))?;
    // One trailing newline is the terminal's, not the password's.
    if input.ends_with(b"\n") {
        input.pop();
        if input.ends_with(b"\r") {
            input.pop();
        }
    }
    if input.is_empty() {
        return Err("empty password on stdin".into());
    }
    // Basic credentials holding one are `malformed` (RFC 7617 §2 forbids
    // them; SPEC §5): such a password could never be used.
    if input.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err("the password holds a control character (RFC 7617 forbids them in Basic credentials)".into());
    }
    say(&warden::basic::hash_password(&input, it)?)?;
    Ok(ExitCode::SUCCESS)
}
