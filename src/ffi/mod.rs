//! The C ABI (see include/warden.h).
