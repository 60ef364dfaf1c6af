# Type stub for the compiled stream pump, shipped in the native wheel beside
# the extension module. It is also what gives maturin its mixed layout:
# `python/cuprum/` holds no `__init__.py`, so the wheel installs
# `cuprum/_rust_backend_native*.so` and this stub into the `cuprum` package
# of the pure-Python distribution without shipping any of that package's files.
# cuprum/unittests/test_native_packaging.py checks it against the real module.

DEFAULT_BUFFER_SIZE: int
MAX_BUFFER_SIZE: int

def is_available() -> bool: ...
def rust_pump_stream(
    reader_fd: int,
    writer_fd: int,
    buffer_size: int = 65536,
    cancel_fd: int = -1,
) -> int: ...
def rust_consume_stream(fd: int, buffer_size: int = 65536) -> str: ...
