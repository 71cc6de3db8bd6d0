//! libFuzzer driver for `warden_fuzz::targets::jwks` (properties documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| warden_fuzz::targets::jwks(data));
