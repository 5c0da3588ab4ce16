"""Loading the user's entrypoint class and describing it (parameters, examples, endpoints).

Nothing here speaks HTTP; ``server.py`` does. Errors that make the job unusable are raised as
:class:`EntrypointError` with a message meant for the person who deploys the job.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import importlib.util
import inspect
import json
import mimetypes
import os
import sys
import typing
import uuid
from pathlib import PurePath
from typing import Any, Callable, Dict, List, Optional, Tuple

# Racetrack's limit for docs input examples (JR validate.py): 1 MB of JSON.
MAX_EXAMPLE_BYTES = 1024 * 1024


class EntrypointError(Exception):
    """The entrypoint file or class cannot be served; the message says why and what to change."""


def load_module(entrypoint_path: str) -> Any:
    """Imports the file at ``entrypoint_path`` as a module named after the file (``adder.py`` gives
    ``adder``), with the file's directory first on ``sys.path`` so its sibling modules import."""
    path = os.path.abspath(entrypoint_path)
    if not os.path.isfile(path):
        raise EntrypointError(f"entrypoint file not found: {entrypoint_path}")
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    name = os.path.splitext(os.path.basename(path))[0]
    if not name.isidentifier() or name in sys.modules:
        # `json.py` must not replace the standard library's json for everybody else.
        name = "pitlane_job_" + "".join(c if c.isalnum() else "_" for c in name)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise EntrypointError(f"cannot import {entrypoint_path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so pickle, dataclasses and typing find the module by name
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        sys.modules.pop(name, None)
        where = f"{os.path.relpath(e.filename or path)}, line {e.lineno}" if e.lineno else entrypoint_path
        raise EntrypointError(f"syntax error in {where}: {e.msg}") from e
    except BaseException as e:
        sys.modules.pop(name, None)
        raise EntrypointError(f"importing {entrypoint_path} failed: {type(e).__name__}: {e}") from e
    return module


def classes_defined_in(module: Any) -> List[str]:
    """Names of the classes the module itself defines (imported classes are not counted)."""
    return [
        name
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and getattr(obj, "__module__", None) == module.__name__ and not name.startswith("__")
    ]


def find_class(module: Any, entrypoint_path: str, class_name: Optional[str]) -> type:
    """The entry class: ``class_name`` when given, otherwise the only class the file defines."""
    if class_name:
        cls = getattr(module, class_name, None)
        if cls is None:
            defined = classes_defined_in(module)
            hint = f"; it defines {', '.join(defined)}" if defined else ""
            raise EntrypointError(f"{entrypoint_path} has no class {class_name} (jobtype_extra.entrypoint_class){hint}")
        if not inspect.isclass(cls):
            raise EntrypointError(f"{class_name} in {entrypoint_path} is not a class")
    else:
        defined = classes_defined_in(module)
        if len(defined) == 0:
            raise EntrypointError(
                f"{entrypoint_path} defines no class; define one class with a perform method "
                "or name it in jobtype_extra.entrypoint_class"
            )
        if len(defined) > 1:
            raise EntrypointError(
                f"{entrypoint_path} defines {len(defined)} classes ({', '.join(defined)}); "
                "say which one to serve in jobtype_extra.entrypoint_class"
            )
        cls = getattr(module, defined[0])
    if not callable(getattr(cls, "perform", None)):
        raise EntrypointError(f"class {cls.__name__} in {entrypoint_path} has no perform method")
    return cls


def construct(cls: type) -> Any:
    """Instantiates the entry class (its ``__init__`` may load a model and take a while)."""
    try:
        return cls()
    except BaseException as e:
        raise EntrypointError(f"{cls.__name__}() failed: {type(e).__name__}: {e}") from e


# ---------------------------------------------------------------------------------------- parameters


def type_name(annotation: Any) -> Optional[str]:
    """A readable name of a type annotation: ``float``, ``list[float]``, ``Optional[int]``."""
    if annotation is inspect.Parameter.empty or annotation is None:
        return None
    if isinstance(annotation, str):
        return annotation
    if getattr(annotation, "__args__", None) is not None or typing.get_origin(annotation) is not None:
        return str(annotation).replace("typing.", "")
    name = getattr(annotation, "__name__", None)
    return name if isinstance(name, str) else str(annotation).replace("typing.", "")


def parameters(func: Callable[..., Any]) -> List[Dict[str, Any]]:
    """The parameters of a bound method as Racetrack lists them: required ones first, then those
    with a default (``default_value``); ``type`` is the annotation's name or null."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    required: List[Dict[str, Any]] = []
    optional: List[Dict[str, Any]] = []
    for p in sig.parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        entry: Dict[str, Any] = {"name": p.name, "type": type_name(p.annotation)}
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            entry["type"] = f"List[{entry['type']}]"
            required.append(entry)
        elif p.default is inspect.Parameter.empty:
            required.append(entry)
        else:
            entry["default_value"] = jsonable_or_repr(p.default)
            optional.append(entry)
    return required + optional


def jsonable_or_repr(value: Any) -> Any:
    try:
        json.dumps(value, default=to_jsonable, allow_nan=False)
        return value
    except (TypeError, ValueError):
        return repr(value)


# ------------------------------------------------------------------------------------------ results


def to_jsonable(obj: Any) -> Any:
    """``json.dumps`` fallback for common non-JSON results: numpy arrays and scalars, sets, dates,
    decimals, UUIDs, paths, bytes, enums, dataclasses and pydantic models."""
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy arrays (and scalars)
        return obj.tolist()
    if hasattr(obj, "item") and callable(obj.item) and type(obj).__module__ == "numpy":
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, (datetime.datetime, datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, decimal.Decimal):
        return float(obj)
    if isinstance(obj, (uuid.UUID, PurePath)):
        return str(obj)
    if isinstance(obj, (bytes, bytearray)):
        try:
            return bytes(obj).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(bytes(obj)).decode("ascii")
    if isinstance(obj, enum.Enum):
        return obj.value
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    for method in ("model_dump", "dict"):  # pydantic v2, v1
        m = getattr(obj, method, None)
        if callable(m) and hasattr(obj, "__fields__"):
            return m()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    """JSON-encodes a result. Raises TypeError/ValueError (NaN, Infinity) when it cannot."""
    return json.dumps(value, default=to_jsonable, allow_nan=False, ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------------- optional methods


def normalise_path(path: str) -> str:
    path = "/" + str(path).strip().lstrip("/")
    return path.rstrip("/") or "/"


def auxiliary_endpoints(instance: Any) -> Dict[str, Callable[..., Any]]:
    """``auxiliary_endpoints()`` as ``{'/explain': bound method}`` (paths normalised to start with ``/``)."""
    method = getattr(instance, "auxiliary_endpoints", None)
    if not callable(method):
        return {}
    mapping = method() or {}
    if not isinstance(mapping, dict):
        raise EntrypointError("auxiliary_endpoints() must return a dict of path -> method")
    out: Dict[str, Callable[..., Any]] = {}
    for path, handler in mapping.items():
        if not callable(handler):
            raise EntrypointError(f"auxiliary endpoint {path!r} is not callable")
        p = normalise_path(path)
        if p in ("/perform", "/parameters") or p.startswith("/webview"):
            raise EntrypointError(f"auxiliary endpoint {path!r} clashes with a built-in endpoint")
        out[p] = handler
    return out


def static_endpoints(instance: Any) -> Dict[str, Tuple[str, str]]:
    """``static_endpoints()`` expanded to ``{'/path': (file, mimetype)}``; directories are served
    recursively, as Racetrack does."""
    method = getattr(instance, "static_endpoints", None)
    if not callable(method):
        return {}
    mapping = method() or {}
    if not isinstance(mapping, dict):
        raise EntrypointError("static_endpoints() must return a dict of path -> file")
    out: Dict[str, Tuple[str, str]] = {}

    def add(path: str, target: Any) -> None:
        mimetype: Optional[str] = None
        if isinstance(target, (tuple, list)):
            if len(target) != 2:
                raise EntrypointError(f"static endpoint {path!r}: give a file or a (file, mimetype) pair")
            filename, mimetype = str(target[0]), str(target[1])
        else:
            filename = str(target)
        if mimetype is None and os.path.isdir(filename):
            for child in sorted(os.listdir(filename)):
                add(f"{normalise_path(path)}/{child}", os.path.join(filename, child))
            return
        if not os.path.isfile(filename):
            raise EntrypointError(f"static endpoint {path!r}: file not found: {filename}")
        if not mimetype:
            mimetype = mimetypes.guess_type(filename, strict=False)[0] or "text/plain"
        out[normalise_path(path)] = (filename, mimetype)

    for path, target in mapping.items():
        add(str(path), target)
    return out


def input_examples(instance: Any, endpoints: List[str]) -> Dict[str, Any]:
    """Example inputs by endpoint path (``/perform``, ``/explain``), from ``docs_input_examples()``
    and ``docs_input_example()``; each must be a JSON object of at most 1 MB."""
    examples: Dict[str, Any] = {}
    many = getattr(instance, "docs_input_examples", None)
    if callable(many):
        value = many() or {}
        if not isinstance(value, dict):
            raise EntrypointError("docs_input_examples() must return a dict of endpoint -> example")
        for path, example in value.items():
            examples[normalise_path(path)] = example
    one = getattr(instance, "docs_input_example", None)
    if callable(one):
        value = one()
        if value is not None and value != {}:
            examples["/perform"] = value
    for path, example in examples.items():
        if not isinstance(example, dict):
            raise EntrypointError(f"the docs input example for {path} must be a dict, not {type(example).__name__}")
        try:
            size = len(dumps(example))
        except (TypeError, ValueError) as e:
            raise EntrypointError(f"the docs input example for {path} is not JSON-serialisable: {e}") from e
        if size > MAX_EXAMPLE_BYTES:
            raise EntrypointError(f"the docs input example for {path} is {size} bytes of JSON (at most {MAX_EXAMPLE_BYTES})")
    return {p: e for p, e in examples.items() if p == "/perform" or p in endpoints}


def user_metrics(instance: Any) -> List[Dict[str, Any]]:
    """``metrics()``: ``[{name, value, description?, labels?}]`` (Racetrack's user gauges)."""
    method = getattr(instance, "metrics", None)
    if not callable(method):
        return []
    value = method() or []
    return [m for m in value if isinstance(m, dict) and isinstance(m.get("name"), str)]


def docstring(obj: Any) -> str:
    return inspect.getdoc(obj) or ""
