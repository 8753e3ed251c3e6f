"""Xero's ``where`` filter: a small expression language over an entity's fields.

Supported, as Xero documents and integrators use it:
``Status=="AUTHORISED" AND Type=="ACCREC"``, ``Contact.ContactID==guid("…")``,
``Date>=DateTime(2024, 01, 31)``, ``AmountDue>0``, ``Name.Contains("Amazon")``,
``Name.StartsWith("A")``, ``Name.ToLower()=="amazon"``, ``IsSupplier==true``,
``Reference!=null``, ``NOT (...)``, ``OR``/``||``, ``AND``/``&&``.

Expressions are evaluated over a plain dict of the entity's facts (dates as ``date`` /
``datetime``, money as ``Decimal``). A malformed filter is an error, as at Xero.

Reference: developer.xero.com/documentation/api/accounting/requests-and-responses#get-modified
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

Facts = dict[str, Any]
Predicate = Callable[[Facts], bool]


class WhereError(ValueError):
    pass


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|>=|<=|&&|\|\||[=><!(),.])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


@dataclass
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise WhereError(f"Unexpected character at position {pos} in where clause")
        kind = match.lastgroup or ""
        out.append(_Tok(kind, match.group(kind)))
        pos = match.end()
    return out


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _normal(value: Any) -> Any:
    """Make two sides comparable: dates to datetimes, GUIDs and text to lower-case strings."""
    moment = _as_datetime(value)
    if moment is not None:
        return moment
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    return value


def _compare(left: Any, op: str, right: Any) -> bool:
    left, right = _normal(left), _normal(right)
    if op in ("==", "="):
        if isinstance(left, str) and isinstance(right, str):
            return left.lower() == right.lower()
        return bool(left == right)
    if op == "!=":
        if isinstance(left, str) and isinstance(right, str):
            return left.lower() != right.lower()
        return bool(left != right)
    if left is None or right is None or isinstance(left, bool) or isinstance(right, bool):
        return False
    try:
        if op == ">":
            return bool(left > right)
        if op == ">=":
            return bool(left >= right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
    except TypeError:
        return False
    raise WhereError(f"Unknown operator {op}")


def _lookup(facts: Facts, path: list[str]) -> Any:
    value: Any = facts
    for part in path:
        if not isinstance(value, dict):
            return None
        match = next((key for key in value if key.lower() == part.lower()), None)
        if match is None:
            return None
        value = value[match]
    return value


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.pos = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self, text: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None or (text is not None and tok.text.lower() != text.lower()):
            raise WhereError(f"Expected {text or 'more'} in where clause")
        self.pos += 1
        return tok

    def at(self, *texts: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text.upper() in {t.upper() for t in texts}

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.peek() is not None:
            raise WhereError(f"Unexpected '{self.peek().text}' in where clause")  # type: ignore[union-attr]
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.at("OR", "||"):
            self.pos += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda f: any(p(f) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.at("AND", "&&"):
            self.pos += 1
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda f: all(p(f) for p in parts))

    def not_expr(self) -> Predicate:
        if self.at("NOT", "!"):
            self.pos += 1
            inner = self.not_expr()
            return lambda f: not inner(f)
        return self.primary()

    def primary(self) -> Predicate:
        if self.at("("):
            self.pos += 1
            inner = self.or_expr()
            self.take(")")
            return inner
        left = self.operand()
        tok = self.peek()
        if (
            tok is not None
            and tok.kind == "op"
            and tok.text in ("==", "=", "!=", ">", ">=", "<", "<=")
        ):
            self.pos += 1
            right = self.operand()
            op = tok.text
            return lambda f: _compare(left(f), op, right(f))
        # A bare boolean (``IsSupplier`` or ``Name.Contains("x")``).
        return lambda f: bool(left(f))

    def operand(self) -> Callable[[Facts], Any]:
        tok = self.take()
        if tok.kind == "string":
            text = bytes(tok.text[1:-1], "utf-8").decode("unicode_escape")
            return lambda f: text
        if tok.kind == "number":
            number = Decimal(tok.text)
            return lambda f: number
        if tok.kind != "word":
            raise WhereError(f"Unexpected '{tok.text}' in where clause")
        word = tok.text
        if word.lower() in ("true", "false"):
            flag = word.lower() == "true"
            return lambda f: flag
        if word.lower() == "null":
            return lambda f: None
        if word.lower() == "guid" and self.at("("):
            self.take("(")
            raw = self.take()
            self.take(")")
            try:
                value = str(uuid.UUID(raw.text.strip('"')))
            except ValueError:
                raise WhereError(f"Invalid guid {raw.text}") from None
            return lambda f: value
        if word == "DateTime" and self.at("("):
            return self.datetime_literal()
        return self.path(word)

    def datetime_literal(self) -> Callable[[Facts], Any]:
        self.take("(")
        parts: list[int] = []
        text_value: str | None = None
        while not self.at(")"):
            tok = self.take()
            if tok.kind == "number":
                parts.append(int(Decimal(tok.text)))
            elif tok.kind == "string":
                text_value = tok.text.strip('"')
            elif tok.text != ",":
                raise WhereError("Invalid DateTime in where clause")
        self.take(")")
        try:
            if text_value is not None:
                moment = datetime.fromisoformat(text_value)
            else:
                if len(parts) < 3:
                    raise ValueError("DateTime needs a year, a month and a day")
                year, month, day, hour, minute, second = [*parts, 0, 0, 0][:6]
                moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except (TypeError, ValueError):
            raise WhereError("Invalid DateTime in where clause") from None
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return lambda f: aware

    def path(self, first: str) -> Callable[[Facts], Any]:
        path = [first]
        transform: Callable[[Any], Any] | None = None
        while self.at("."):
            self.pos += 1
            name = self.take().text
            if self.at("("):
                self.take("(")
                args: list[str] = []
                while not self.at(")"):
                    tok = self.take()
                    if tok.kind == "string":
                        args.append(tok.text[1:-1])
                    elif tok.text != ",":
                        raise WhereError(f"Invalid argument to {name}")
                self.take(")")
                transform = self.method(name, args, transform)
            else:
                path.append(name)
        fixed = list(path)
        final = transform
        if final is None:
            return lambda f: _lookup(f, fixed)
        return lambda f: final(_lookup(f, fixed))

    @staticmethod
    def method(
        name: str, args: list[str], before: Callable[[Any], Any] | None
    ) -> Callable[[Any], Any]:
        def text(value: Any) -> str | None:
            value = before(value) if before else value
            return None if value is None else str(value)

        lowered = name.lower()
        if lowered == "tolower":
            return lambda v: t.lower() if (t := text(v)) is not None else None
        if lowered == "toupper":
            return lambda v: t.upper() if (t := text(v)) is not None else None
        if not args:
            raise WhereError(f"{name} needs an argument")
        needle = args[0].lower()
        if lowered == "contains":
            return lambda v: (t := text(v)) is not None and needle in t.lower()
        if lowered == "startswith":
            return lambda v: (t := text(v)) is not None and t.lower().startswith(needle)
        if lowered == "endswith":
            return lambda v: (t := text(v)) is not None and t.lower().endswith(needle)
        raise WhereError(f"Unsupported method {name} in where clause")


def compile_where(text: str | None) -> Predicate | None:
    if text is None or not text.strip():
        return None
    return _Parser(text).parse()
