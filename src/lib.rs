//! warden: an in-process credential verifier for JWTs, API keys and HTTP
//! Basic credentials.
//!
//! ```no_run
//! use warden::{Scratch, Verifier};
//!
//! let verifier = Verifier::from_file("examples/warden.json")?;
//! let mut scratch = Scratch::new(); // one per thread, reused
//! let now = warden::unix_now();
//! match verifier.verify_authorization(b"Bearer eyJ...", now, &mut scratch) {
//!     Ok(v) => println!("hello {}", v.subject().unwrap_or("?")),
//!     Err(r) => println!("rejected: {}", r.code),
//! }
//! # Ok::<(), warden::ConfigError>(())
//! ```
//!
//! The contract (config format, verdict codes and their order, the precise
//! rules) is SPEC.md; this crate follows it exactly. Time is always a
//! parameter: nothing inside the verification logic reads the clock.

pub mod apikey;
pub mod b64;
pub mod basic;
pub mod cache;
pub mod config;
mod ct;
pub mod ffi;
pub mod json;
pub mod jwks;
pub mod jwt;
pub mod keys;
pub mod ratelimit;
pub mod revocation;
mod runtime;
mod scratch;
pub mod stats;
mod verdict;
mod verified;
mod verifier;

pub use config::{ConfigError, Snapshot};
pub use revocation::Target;
pub use scratch::Scratch;
pub use stats::{Counter, StatsSnapshot};
pub use verdict::{Code, Kind, Rejection};
pub use verified::{Claim, Verified};
pub use verifier::{Logger, Verdict, Verifier, PRUNE_GRACE_S};

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The current Unix time in seconds, for hosts that do not inject their own.
/// (The verification logic never calls this: it takes `now` as a parameter.)
pub fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}
