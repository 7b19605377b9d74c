"""The offline demo model: streams an input-aware markdown reply at a realistic pace.

It needs no key and no network, so the site works out of the box, and it exercises everything
a real reply does: a heading, a list, a fenced code block, Chinese and emoji, and the user's
own text quoted back (which also shows that hostile markup in a reply renders inert).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from chat.providers.base import ChatRequest, Event, Finish, TextDelta, Timeouts, Usage

# One token: a CJK character, or a word with its leading space, or a run of spaces.
_TOKEN = re.compile(r"[\u3000-\u9fff\uff00-\uffef]|\s*[^\s\u3000-\u9fff\uff00-\uffef]+|\s+")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def compose_reply(request: ChatRequest) -> str:
    prompt = request.messages[-1].content if request.messages else ""
    first_line = prompt.strip().splitlines()[0] if prompt.strip() else ""
    topic = first_line[:60] + ("…" if len(first_line) > 60 else "")
    words = len(prompt.split())
    turns = sum(1 for t in request.messages if t.role == "user")
    quoted = "\n".join(f"> {line}" for line in prompt.strip().splitlines()[:6])
    literal = prompt.strip()[:40].replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    paragraphs = [
        f"## Demo reply: {topic}",
        f"You wrote **{len(prompt)} characters** in {words} words; this is message {turns} of "
        "our conversation. I am the offline demo model: no key and no network needed, and "
        "what I say changes with what you write.",
        "- Text streams in token by token, at about the pace of a real model.\n"
        "- When the reply ends, the server renders it as markdown, once.\n"
        "- Reload or close the tab: the reply carries on. **Stop** really stops it.",
        f'```python\ndef echo(message: str) -> str:\n    """Return the message."""\n'
        f'    return "{literal}"\n```',
        "中文也没问题：你好，世界！这是一段演示回复，用来检查中文在流式传输中不会乱码。🌏✨",
    ]
    if quoted:
        paragraphs.append(f"You said:\n\n{quoted}")
    if "/long" in prompt:
        paragraphs.extend(
            f"{i}. Paragraph number {i} of a long demo reply, streamed word by word."
            for i in range(1, 41)
        )
    return "\n\n".join(paragraphs) + "\n"


def compose_title(request: ChatRequest) -> str:
    """The demo's title for a conversation: fixed by its first message's first words."""
    first = next((t.content for t in request.messages if t.role == "user"), "")
    words = re.sub(r"[^\w\s\u3000-\u9fff]", " ", first).split()[:4]
    return "Demo: " + (" ".join(words) if words else "a conversation")


@dataclass(frozen=True)
class DemoProvider:
    token_delay: float = 0.03
    secrets: tuple[str, ...] = ()

    async def events(self, request: ChatRequest, timeouts: Timeouts) -> AsyncGenerator[Event]:
        text = compose_title(request) if request.purpose == "title" else compose_reply(request)
        tokens = tokenize(text)
        prompt_tokens = sum(len(tokenize(t.content)) for t in request.messages)
        del request, text  # not held while the reply streams
        for token in tokens:
            await asyncio.sleep(self.token_delay)
            yield TextDelta(token)
        yield Usage(input_tokens=prompt_tokens, output_tokens=len(tokens))
        yield Finish("stop", "stop")
