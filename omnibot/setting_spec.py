"""How a setting is declared and read: :func:`setting` declares a field of
:class:`omnibot.settings.Settings` with its environment variable, parser, default and what a
valid value looks like; :class:`Setting` reads it, and a refused value is a
:class:`SettingsError` naming the setting and the value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar, dataclass_transform

SPEC = "omnibot.setting"  # the key of a field's Setting in its metadata

T = TypeVar("T")
C = TypeVar("C")


class RefusedValueError(ValueError):
    """A value a parser refuses for a reason the error should show (which part, and why)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class SettingsError(ValueError):
    """A setting whose value cannot be used; carries the setting's name and the value."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        super().__init__(f"setting {name}={value!r} is not valid: expected {expected}")
        self.name = name
        self.value = value
        self.expected = expected


@dataclass(frozen=True)
class Setting(Generic[T]):
    """How one environment variable becomes one field of :class:`Settings`."""

    env: str
    parse: Callable[[str], T]
    expected: str  # completes "expected …" in the error
    secret: bool = False  # an error shows the value's length, never the value

    def read(self, values: Mapping[str, str], default: T) -> T:
        """The parsed value, ``default`` when unset or empty; :class:`SettingsError` if refused."""
        raw = values.get(self.env, "").strip()
        if not raw:
            return default
        try:
            return self.parse(raw)
        except ValueError as error:
            shown = f"<{len(raw)} characters>" if self.secret else raw
            expected = self.expected
            if isinstance(error, RefusedValueError) and not self.secret:
                expected = f"{expected}; {error.why}"
            raise SettingsError(self.env, shown, expected) from None


class Declared(NamedTuple):
    """One declared setting: the field's name, how it is read, and its default."""

    name: str
    setting: Setting[Any]
    default: Any


def setting(
    env: str, parser: Callable[[str], T], expected: str, *, default: T, secret: bool = False
) -> T:
    """A :class:`Settings` field read from ``env`` with ``parser`` (``default`` when unset)."""
    return field(default=default, metadata={SPEC: Setting(env, parser, expected, secret)})


@dataclass_transform(frozen_default=True, field_specifiers=(setting,))
def declared_by_setting(cls: type[C]) -> type[C]:
    """A frozen dataclass; the marker tells type checkers and linters that :func:`setting`
    declares a field (with the default given as ``default=``)."""
    return dataclass(frozen=True)(cls)
