"""cuprum's version: the one source of truth for both distributions.

setuptools reads it for the ``cuprum`` distribution; the native pump's
distribution (``cuprum-rust-backend``, version from
``rust_extension/Cargo.toml``) and the ``cuprum[rust]`` extra must carry the
same string, which ``tools/check_versions.py`` enforces before every build.
The stream backend probe compares it with the installed native pump's.
"""

from __future__ import annotations

__version__ = "0.1.0"
