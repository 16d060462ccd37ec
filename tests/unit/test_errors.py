"""The exception tree at the top of core/errors.py is the tree the code defines."""

from __future__ import annotations

import importlib
import re

import core.errors

LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Za-z_.]+)")


def classes_in_docstring() -> list[tuple[type, type | None]]:
    """(class, parent) for each line of the drawn tree, resolved to the real classes."""
    assert core.errors.__doc__ is not None
    drawn = core.errors.__doc__.split("\n\n")[1].splitlines()
    found: list[tuple[type, type | None]] = []
    stack: list[tuple[int, type]] = []
    for line in drawn:
        match = LINE.match(line.strip("\n")[4:])
        assert match, line
        depth = len(match["indent"]) // 4
        name = match["name"]
        module_name, _, class_name = name.rpartition(".")
        if module_name:
            module = importlib.import_module(module_name)
        elif stack:
            module = importlib.import_module(stack[-1][1].__module__)
            module = module if hasattr(module, class_name) else core.errors
        else:
            module = core.errors
        cls = getattr(module, class_name)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        found.append((cls, stack[-1][1] if stack else None))
        stack.append((depth, cls))
    return found


def test_each_class_in_the_drawn_tree_derives_from_the_one_above_it():
    drawn = classes_in_docstring()

    assert len(drawn) >= 15
    for cls, parent in drawn:
        if parent is None:
            assert cls is core.errors.PairtimeError
        else:
            assert parent in cls.__mro__[1:], f"{cls.__name__} is not a {parent.__name__}"


def test_every_error_class_of_core_is_drawn():
    drawn = {cls for cls, _ in classes_in_docstring()}
    defined = {
        value
        for value in vars(core.errors).values()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert defined <= drawn
