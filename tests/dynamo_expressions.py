"""A small evaluator for the DynamoDB expressions the seat ledger writes, so they can be tested without an engine.

It knows only what those expressions use: paths (`seats_taken`, `taken_in.#c`), values (`:one`),
comparisons, AND, OR and parentheses in conditions; `SET path = path + value` and `SET path = value`
in updates. Anything else is an error, so a new construct in the ledger fails loudly here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r"\s*(<=|>=|<>|[()<>=+,]|AND\b|OR\b|:[A-Za-z_]\w*|#?[A-Za-z_][\w#.]*)")
_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
}


def _tokens(text: str) -> list[str]:
    out, position = [], 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot read {text[position:]!r}")
        out.append(match.group(1))
        position = match.end()
    return out


def _path(token: str, names: Mapping[str, str]) -> list[str]:
    return [names[part] if part.startswith("#") else part for part in token.split(".")]


def _value(token: str, item: Mapping[str, Any], names: Mapping[str, str], values: Mapping[str, Any]) -> Any:
    if token.startswith(":"):
        return values[token]
    current: Any = item
    for part in _path(token, names):
        current = current[part]
    return current


def condition_holds(
    expression: str, item: Mapping[str, Any], names: Mapping[str, str], values: Mapping[str, Any]
) -> bool:
    """Whether `expression` holds for `item`."""
    tokens = _tokens(expression)
    position = 0

    def peek() -> str:
        return tokens[position] if position < len(tokens) else ""

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def disjunction() -> bool:
        result = conjunction()
        while peek() == "OR":
            take()
            result = conjunction() or result
        return result

    def conjunction() -> bool:
        result = primary()
        while peek() == "AND":
            take()
            result = primary() and result
        return result

    def primary() -> bool:
        if peek() == "(":
            take()
            result = disjunction()
            if take() != ")":
                raise ValueError(f"unbalanced parentheses in {expression!r}")
            return result
        left, operator, right = take(), take(), take()
        return bool(_COMPARE[operator](_value(left, item, names, values), _value(right, item, names, values)))

    result = disjunction()
    if position != len(tokens):
        raise ValueError(f"unread tokens {tokens[position:]} in {expression!r}")
    return result


def apply_update(
    expression: str, item: Mapping[str, Any], names: Mapping[str, str], values: Mapping[str, Any]
) -> dict[str, Any]:
    """The item after `SET a = b [+ c], ...` (nested maps copied, never shared)."""
    if not expression.startswith("SET "):
        raise ValueError(f"only SET is known here: {expression!r}")
    result = {k: dict(v) if isinstance(v, dict) else v for k, v in item.items()}
    for assignment in expression.removeprefix("SET ").split(","):
        target, _, source = (part.strip() for part in assignment.partition("="))
        terms = [t.strip() for t in source.split("+")]
        total = _value(terms[0], item, names, values)
        for term in terms[1:]:
            total = total + _value(term, item, names, values)
        *parents, last = _path(target, names)
        holder = result
        for part in parents:
            holder = holder[part]
        holder[last] = total
    return result
