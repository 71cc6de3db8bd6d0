"""Build the warden Python package.

The package is a ctypes binding: it needs ``libwarden.so``, which this file
builds from the Rust crate at the root of the checkout (two levels up) with
``cargo build --release --lib`` and copies into ``warden/_lib/`` of the build,
so ``pip install ./bindings/python`` works without any path to set.

Environment:
    CARGO_TARGET_DIR   honoured (where cargo puts ``release/libwarden.so``)
    CARGO              the cargo executable (default: ``cargo`` on PATH, then ~/.cargo/bin/cargo)
    WARDEN_LIB         use this already-built ``libwarden.so`` instead of running cargo
"""

import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
LIBNAME = "libwarden.so" if not sys.platform == "darwin" else "libwarden.dylib"


def _cargo():
    cargo = os.environ.get("CARGO") or shutil.which("cargo")
    if cargo:
        return cargo
    home = os.path.expanduser("~/.cargo/bin/cargo")
    return home if os.path.exists(home) else None


def _target_dir():
    target = os.environ.get("CARGO_TARGET_DIR") or "target"
    if not os.path.isabs(target):
        target = os.path.join(ROOT, target)
    return target


def build_library():
    """Return the path of a freshly built libwarden."""
    given = os.environ.get("WARDEN_LIB")
    if given:
        if not os.path.isfile(given):
            raise SystemExit("WARDEN_LIB=%s: no such file" % given)
        return given
    if not os.path.isfile(os.path.join(ROOT, "Cargo.toml")):
        raise SystemExit(
            "warden: %s has no Cargo.toml; build the package from a warden checkout "
            "(pip install ./bindings/python) or set WARDEN_LIB to a built libwarden.so" % ROOT
        )
    built = os.path.join(_target_dir(), "release", LIBNAME)
    cargo = _cargo()
    if cargo is None:
        if os.path.isfile(built):
            sys.stderr.write("warden: cargo not found, using the existing %s\n" % built)
            return built
        raise SystemExit("warden: cargo is needed to build libwarden (install the Rust toolchain)")
    sys.stderr.write("warden: cargo build --release --lib in %s\n" % ROOT)
    subprocess.check_call([cargo, "build", "--release", "--lib"], cwd=ROOT)
    if not os.path.isfile(built):
        raise SystemExit("warden: cargo did not produce %s" % built)
    return built


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        src = build_library()
        dest_dir = os.path.join(self.build_lib, "warden", "_lib")
        os.makedirs(dest_dir, exist_ok=True)
        dest = os.path.join(dest_dir, LIBNAME)
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o755)
        # The release profile keeps line tables for profilers; the installed
        # copy does not need them (best effort: the library works either way).
        strip = shutil.which("strip")
        if strip:
            subprocess.call([strip, "--strip-debug", dest])


class BinaryDistribution(Distribution):
    """The wheel carries a native library: never tag it as pure Python."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithLibrary}, distclass=BinaryDistribution)
