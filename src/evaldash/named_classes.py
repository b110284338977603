"""What every dataset (in memory or in an engine, single- or multi-label) says of its classes."""

from __future__ import annotations

from pathlib import Path

from evaldash.errors import InputError


class NamedClasses:
    """``n_classes``, ``name`` and ``class_index`` of a dataset with ``source`` and ``classes``."""

    source: str
    classes: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def name(self) -> str:
        return Path(self.source).name

    def class_index(self, name: str) -> int:
        """Index of the class called ``name`` (raises :class:`InputError`)."""
        try:
            return self.classes.index(str(name))
        except ValueError:
            raise InputError(f"{self.source}: no class named {name!r}; classes are {list(self.classes)}") from None
