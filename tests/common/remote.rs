//! A remote key set's test set-up: a config naming the local HTTPS server
//! (tests/common/https.rs), a logger that keeps what it is told, and
//! polling for what the refresher thread does.

use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use warden::jwks::LogLevel;
use warden::{Code, Scratch, Snapshot, Verifier};

use super::https::Server;

pub const NOW: f64 = 1_750_000_000.0;

pub struct Setup {
    pub dir: PathBuf,
    pub logs: Arc<Mutex<Vec<(LogLevel, String)>>>,
}

impl Setup {
    pub fn new(server: &Server) -> Setup {
        let dir = std::env::temp_dir().join(format!(
            "warden-remote-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), &server.ca_pem).unwrap();
        Setup { dir, logs: Arc::default() }
    }

    pub fn verifier(&self, jwt: Value) -> Verifier {
        let path = self.dir.join("warden.json");
        std::fs::write(&path, serde_json::to_vec(&json!({ "jwt": jwt })).unwrap()).unwrap();
        let logs = self.logs.clone();
        let logger: warden::Logger = Arc::new(move |l, m| logs.lock().unwrap().push((l, m.to_string())));
        Verifier::with_logger(Snapshot::from_file(&path).unwrap(), Some(logger))
    }

    pub fn logged(&self, needle: &str) -> bool {
        self.logs.lock().unwrap().iter().any(|(_, m)| m.contains(needle))
    }
}

pub fn code(v: &Verifier, token: &str) -> Code {
    let mut s = Scratch::new();
    v.verify_jwt(token.as_bytes(), NOW, &mut s).map(|_| Code::Ok).unwrap_or_else(|r| r.code)
}

pub fn claims(iss: Option<&str>) -> Value {
    let mut c = json!({"sub": "s", "exp": NOW + 3600.0});
    if let Some(i) = iss {
        c["iss"] = json!(i);
    }
    c
}

/// Poll until `f` holds (the refresher runs on its own thread), at most `secs`.
pub fn eventually(secs: f64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}
