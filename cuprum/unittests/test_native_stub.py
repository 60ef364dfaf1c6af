"""The native wheel's type stub describes the compiled pump it ships with."""

from __future__ import annotations

import ast
import inspect
import pathlib
import typing as typ

STUB_NAME = "_rust_backend_native.pyi"
CHECKOUT_STUB = (
    pathlib.Path(__file__).resolve().parents[2] / "rust_extension" / "python" / "cuprum" / STUB_NAME
)


def stub_for(module: typ.Any) -> pathlib.Path:
    """The stub installed beside the module, else the checkout's copy
    (`make native` copies only the compiled module into cuprum/)."""
    beside = pathlib.Path(module.__file__).with_name(STUB_NAME)
    return beside if beside.is_file() else CHECKOUT_STUB


def stub_items(path: pathlib.Path) -> dict[str, list[tuple[str, object]] | None]:
    """Public names of the stub: functions map to (parameter, default) pairs."""
    items: dict[str, list[tuple[str, object]] | None] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            params = [arg.arg for arg in node.args.args]
            defaults = [ast.literal_eval(d) for d in node.args.defaults]
            padded = [inspect.Parameter.empty] * (len(params) - len(defaults)) + defaults
            items[node.name] = list(zip(params, padded, strict=True))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            items[node.target.id] = None
    return items


def test_the_stub_names_every_public_item_of_the_module(real_native: typ.Any) -> None:
    public = {name for name in dir(real_native) if not name.startswith("_")}

    assert set(stub_items(stub_for(real_native))) == public


def test_the_stub_signatures_match_the_module(real_native: typ.Any) -> None:
    for name, params in stub_items(stub_for(real_native)).items():
        item = getattr(real_native, name)
        if params is None:
            assert isinstance(item, int), name
            continue
        real = [(p.name, p.default) for p in inspect.signature(item).parameters.values()]
        assert real == params, name
