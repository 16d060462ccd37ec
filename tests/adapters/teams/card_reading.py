"""Reading Adaptive Cards in tests: the nodes a card holds, however deeply it nests them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Node = dict[str, Any]


def nodes(card: object, keep: Callable[[Node], bool], *, fallbacks: bool = False) -> list[Node]:
    """Every object in ``card`` that ``keep`` accepts, in document order. An action's
    ``fallback`` (the Action.Submit behind each Action.Execute) is skipped unless asked for."""
    found: list[Node] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if keep(node):
                found.append(node)
            for key, value in node.items():
                if fallbacks or key != "fallback":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def of_type(card: object, *types: str) -> list[Node]:
    return nodes(card, lambda node: node.get("type") in types)


def actions(card: object) -> list[Node]:
    """Every action (Action.Execute, Action.OpenUrl, …), fallbacks left out."""
    return nodes(card, lambda node: str(node.get("type", "")).startswith("Action."))


def inputs(card: object) -> list[Node]:
    return nodes(card, lambda node: str(node.get("type", "")).startswith("Input."))


def texts(card: object) -> list[str]:
    """The words of every TextBlock, in order."""
    return [str(node["text"]) for node in of_type(card, "TextBlock")]


def choices(card: object, input_id: str) -> dict[str, str]:
    """A multi-select list's choices: title -> the value its tick sends."""
    return {
        choice["title"]: choice["value"]
        for node in of_type(card, "Input.ChoiceSet")
        if node.get("id") == input_id
        for choice in node["choices"]
    }
