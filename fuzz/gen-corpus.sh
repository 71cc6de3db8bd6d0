#!/usr/bin/env bash
# Regenerate the fuzz seed corpus from the shared vectors (SPEC §4):
#   1. fuzz/seeds/jwt_templates.txt: the vectors' JWT header.payload pairs,
#      which the fuzz fixture re-signs with its own keys;
#   2. fuzz/corpus/<target>/: tokens, Authorization values, API keys,
#      configs, JWK sets and htpasswd files from the vectors and the fixture.
# Runs on a stable toolchain (through ignored tests in tests/fuzz_smoke.rs).
#   fuzz/gen-corpus.sh            (WARDEN_VECTORS=dir to use other vectors)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --quiet --test fuzz_smoke -- --ignored --exact write_templates
cargo test --quiet --test fuzz_smoke -- --ignored --exact write_seed_corpus
for d in fuzz/corpus/*/; do
  printf '%-28s %4d files\n' "$d" "$(find "$d" -type f | wc -l)"
done
du -sh --apparent-size fuzz/corpus
