"""TypeScript declarations of the stream's events, written from their typed definitions (``events.py``).

``declarations()`` walks ``events.DEFINITIONS`` and every TypedDict those reach, and returns TypeScript
source: one ``export interface`` per TypedDict (its docstring as the doc comment), one ``export type`` per
named scalar convention of ``events.py`` (``Money``, ``Timestamp``, ``Compressed``, ...), the map
``StreamEvents`` from event name to its ``data``, and the ``...Plain`` form of every event with compressed
fields: what ``?compress=0`` sends, and what a client holds after decoding them. Nothing here is a list
kept by hand: a field, event or type added to ``events.py`` appears here. Pure Python, no Django; the
``typescript_declarations`` command (live_trading/management/commands) adds the REST API's part.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Annotated, Any, Literal, NotRequired, get_args, get_origin, get_type_hints

from typing_extensions import NoExtraItems, is_typeddict

from live_trading.stream import events

JSON_TYPE = "export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };"


def _aliases() -> dict[str, Any]:
    """The module-level names of ``events`` that stand for a type but are not classes: the Annotated scalar
    conventions (``Money``...) and aliases such as ``CompactTickPosition``, by name, in source order."""
    out = {}
    for name, value in vars(events).items():
        if name.startswith("_") or name == "JSON":
            continue
        if get_origin(value) is Annotated or isinstance(value, types.GenericAlias):
            out[name] = value
    return out


def _comment(text: str | None, indent: str = "") -> list[str]:
    if not text:
        return []
    lines = inspect.cleandoc(text).replace("``", "`").replace("*/", "* /").splitlines()
    if len(lines) == 1:
        return [f"{indent}/** {lines[0]} */"]
    return [f"{indent}/**", *(f"{indent} * {line}".rstrip() for line in lines), f"{indent} */"]


def _alias_note(name: str) -> str | None:
    """The comment ``events.py`` gives the alias ``name``: the one ending its line, or the lines just above it."""
    lines = inspect.getsource(events).splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"{name} ="):
            if "  # " in line:
                return line.split("  # ", 1)[1]
            above = []
            while i > 0 and lines[i - 1].startswith("#"):
                i -= 1
                above.insert(0, lines[i].lstrip("# "))
            return "\n".join(above) or None
    return None


class _Writer:
    def __init__(self):
        self.aliases = _aliases()
        self.seen: dict[str, type] = {}  # TypedDict name -> class, in the order they are reached
        self.used_aliases: set[str] = set()

    def alias_name(self, tp) -> str | None:
        for name, value in self.aliases.items():
            if value == tp:
                return name
        return None

    def ts(self, tp, drop_compressed: bool = False) -> str:
        """The TypeScript type for the Python type ``tp``; ``drop_compressed`` leaves ``Compressed`` out of a union."""
        if tp is Any:
            return "Json"
        name = self.alias_name(tp)
        if name is not None:
            self.used_aliases.add(name)
            return name
        origin = get_origin(tp)
        if origin is Annotated:
            return self.ts(get_args(tp)[0])
        if origin in (typing.Union, types.UnionType):
            options = [o for o in get_args(tp) if not (drop_compressed and o is events.Compressed)]
            parts = []
            for option in options:
                part = self.ts(option)
                if part not in parts:
                    parts.append(part)
            return " | ".join(parts)
        if origin is Literal:
            return " | ".join(_literal(v) for v in get_args(tp))
        if origin is list:
            (item,) = get_args(tp)
            inner = self.ts(item)
            return f"({inner})[]" if " " in inner else f"{inner}[]"
        if origin is tuple:
            return "[" + ", ".join(self.ts(i) for i in get_args(tp)) + "]"
        if origin is dict:
            _, item = get_args(tp)
            return f"{{ [key: string]: {self.ts(item)} }}"
        if tp is type(None):
            return "null"
        if is_typeddict(tp):
            self.seen.setdefault(tp.__name__, tp)
            return tp.__name__
        if tp in (float, int):
            return "number"
        if tp is str:
            return "string"
        if tp is bool:
            return "boolean"
        raise TypeError(f"no TypeScript type for {tp!r}")

    def interface(self, tp, name: str, doc: str | None, drop: frozenset[str] = frozenset()) -> list[str]:
        """``export interface name`` for the TypedDict ``tp``; fields in ``drop`` lose their ``Compressed`` form."""
        hints = get_type_hints(tp, include_extras=True)
        lines = [*_comment(doc), f"export interface {name} {{"]
        for key, hint in hints.items():
            if get_origin(hint) is NotRequired:
                hint = get_args(hint)[0]
            optional = "?" if key in tp.__optional_keys__ else ""
            lines.append(f"  {_key(key)}{optional}: {self.ts(hint, drop_compressed=key in drop)};")
        extra = getattr(tp, "__extra_items__", NoExtraItems)
        if extra is not NoExtraItems and extra is not None:
            lines.append("  /** More fields (see the event's section in docs/protocol.md). */")
            lines.append("  [key: string]: unknown;")
        lines.append("}")
        return lines


def _literal(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _key(key: str) -> str:
    return key if key.isidentifier() else _literal(key)


def declarations() -> str:
    """TypeScript source declaring every stream event (``events.DEFINITIONS``) and the types they use."""
    w = _Writer()
    events_map = [(kind, w.ts(tp)) for kind, tp in events.DEFINITIONS.items()]
    body: list[str] = []
    aliases: dict[str, list[str]] = {}
    done: set[str] = set()
    while len(done) < len(w.seen) or w.used_aliases - aliases.keys():  # until nothing new is reached
        for name, tp in list(w.seen.items()):
            if name not in done:
                done.add(name)
                body += ["", *w.interface(tp, name, tp.__doc__)]
        for name in sorted(w.used_aliases - aliases.keys()):
            value = w.aliases[name]
            text = w.ts(get_args(value)[0]) if get_origin(value) is Annotated else _unaliased(w, value)
            aliases[name] = ["", *_comment(_alias_note(name)), f"export type {name} = {text};"]
    head = ["// -- Stream events (live_trading/stream/events.py) " + "-" * 52, "",
            "/** Any JSON value. */", JSON_TYPE]
    for name in w.aliases:  # in source order
        head += aliases.get(name, [])
    plain_map = []
    plain_body: list[str] = []
    for kind, tp in events.DEFINITIONS.items():
        fields = frozenset(events.COMPRESSED_FIELDS.get(kind, ())) & set(get_type_hints(tp))
        if not fields:
            plain_map.append((kind, tp.__name__))
            continue
        name = f"{tp.__name__}Plain"
        plain_map.append((kind, name))
        doc = f"`{kind}` with its compressed fields ({', '.join(sorted(fields))}) decoded: what `?compress=0` sends."
        plain_body += ["", *w.interface(tp, name, doc, drop=fields)]

    tail = ["", "/** Every stream event's `data`, by event name (the SSE `event:` field). */",
            "export interface StreamEvents {", *(f"  {kind}: {name};" for kind, name in events_map), "}",
            "", "/** The event names. */", "export type StreamEventKind = keyof StreamEvents;",
            "", "/** Every event's `data` with its compressed fields decoded (what a client applies; `?compress=0`). */",
            "export interface StreamEventsPlain {", *(f"  {kind}: {name};" for kind, name in plain_map), "}",
            "", "/** The fields each event sends gzip + base64 (unless `?compress=0`). */",
            "export interface CompressedFields {",
            *(f"  {kind}: {' | '.join(_literal(f) for f in fields)};" for kind, fields in events.COMPRESSED_FIELDS.items()),
            "}",
            "", "/** The events kept for replay: they carry an SSE `id`. */",
            f"export type StoredEventKind = {' | '.join(_literal(k) for k in events.DEFINITIONS if k in events.STORED_KINDS)};"]
    return "\n".join([*head, *body, *plain_body, *tail]) + "\n"


def _unaliased(w: _Writer, value) -> str:
    """The TypeScript for an alias's own definition (not its name)."""
    saved = w.aliases
    w.aliases = {k: v for k, v in saved.items() if v != value}
    try:
        return w.ts(value)
    finally:
        w.aliases = saved
