"""A ChatGPT `conversations.json` as its export writes it (the fields the import reads, and
a few of those it leaves out), built from a compact description of the tree."""

from __future__ import annotations

from typing import Any


def node(
    ref: str,
    parent: str | None,
    children: list[str],
    role: str | None = None,
    text: str = "",
    at: float = 0.0,
    content_type: str = "text",
) -> dict[str, Any]:
    message = None
    if role is not None:
        message = {
            "id": ref,
            "author": {"role": role, "name": None, "metadata": {}},
            "create_time": at or None,
            "update_time": None,
            "content": {"content_type": content_type, "parts": [text]},
            "status": "finished_successfully",
            "end_turn": True if role == "assistant" else None,
            "weight": 1.0,
            "metadata": {"model_slug": "gpt-4o"} if role == "assistant" else {},
            "recipient": "all",
        }
    return {"id": ref, "message": message, "parent": parent, "children": children}


def conversation(
    title: str, nodes: list[dict[str, Any]], current: str, at: float = 1_700_000_000.0
) -> dict[str, Any]:
    return {
        "title": title,
        "create_time": at,
        "update_time": at + 60,
        "mapping": {n["id"]: n for n in nodes},
        "moderation_results": [],
        "current_node": current,
        "plugin_ids": None,
        "conversation_id": "67b1c2d3-0000-0000-0000-000000000000",
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": False,
        "safe_urls": [],
        "default_model_slug": "gpt-4o",
        "id": "67b1c2d3-0000-0000-0000-000000000000",
    }


def branching_conversation() -> dict[str, Any]:
    """root → system (hidden) → question → two answers (a regenerate); under the first answer
    a follow-up, under the second a tool call and then an answer after it; the second answer's
    branch is current."""
    return conversation(
        "Trip to Kyoto",
        [
            node("root", None, ["sys"]),
            node("sys", "root", ["q1"], role="system", text=""),
            node("q1", "sys", ["a1", "a2"], role="user", text="Plan 3 days in 京都", at=10),
            node("a1", "q1", ["q2"], role="assistant", text="Day 1: **Fushimi Inari**", at=20),
            node("q2", "a1", [], role="user", text="Cheaper?", at=30),
            node("a2", "q1", ["tool"], role="assistant", text="Day 1: temples", at=40),
            node("tool", "a2", ["a3"], role="tool", text="search results", at=50),
            node("a3", "tool", [], role="assistant", text="Updated: add Nara", at=60),
        ],
        current="a3",
    )
