"""How many of a generated test's examples reached the code it claims to test.

A fuzzer whose requests are all refused at the door (a rate limit, a bad token) passes while testing
nothing behind it. Each generated test counts its examples and those that got through to the code
under test; the count is asserted against a floor and reported at the end of the run (conftest's
terminal summary), so a change that starves a fuzzer shows up as a number, not as silence.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

REACH_PROPERTY = "reach"


@dataclass
class Reach:
    """Examples tried and examples that reached `target`; `outcomes` counts what the examples ended in."""

    target: str
    examples: int = 0
    reached: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    _this_example: bool = False

    def example(self) -> None:
        """Call at the start of each generated example."""
        self._settle()
        self.examples += 1
        self._this_example = False

    def hit(self) -> None:
        """The current example reached the code under test (counted once per example)."""
        self._this_example = True

    def outcome(self, name: object) -> None:
        """What the current example ended in (a status code, an action), for the report."""
        self.outcomes[str(name)] += 1

    def spy(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
        """Count every example in which `owner.name` (the code under test) is called; it still runs as is."""
        real: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(real)
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.hit()
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)

    def share(self) -> float:
        self._settle()
        return self.reached / self.examples if self.examples else 0.0

    def report(self, record_property: Callable[[str, object], None]) -> str:
        """One line for the run's summary; also returned, for assertion messages."""
        self._settle()
        common = ", ".join(f"{name}: {count}" for name, count in self.outcomes.most_common(6))
        line = f"{self.reached:,} of {self.examples:,} examples ({100 * self.share():.1f} %) reached {self.target}" + (
            f" [{common}]" if common else ""
        )
        record_property(REACH_PROPERTY, line)
        return line

    def _settle(self) -> None:
        if self._this_example:
            self.reached += 1
            self._this_example = False
