"""The Simplified Chinese catalogue stays complete, and the compiled .mo matches the .po."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "chat" / "locale" / "zh_Hans" / "LC_MESSAGES"


def parse_po(path: Path) -> list[dict[str, object]]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (list), fuzzy flag."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] = {"msgstr": [], "fuzzy": False}
    key = ""

    def flush() -> None:
        nonlocal entry
        if "msgid" in entry:
            entries.append(entry)
        entry = {"msgstr": [], "fuzzy": False}

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            entry["fuzzy"] = "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key.startswith("msgstr"):
                entry["msgstr"][-1] += value  # type: ignore[index]
            else:
                entry[key] = str(entry[key]) + value
        else:
            key, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if key.startswith("msgstr"):
                entry["msgstr"].append(value)  # type: ignore[union-attr]
            else:
                entry[key] = value
    flush()
    return [e for e in entries if e["msgid"]]  # the header has an empty msgid


ENTRIES = parse_po(LOCALE / "django.po")


def test_the_catalogue_has_entries() -> None:
    assert len(ENTRIES) > 100


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: str(e["msgid"])[:40])
def test_every_message_is_translated_and_none_is_fuzzy(entry: dict[str, object]) -> None:
    assert not entry["fuzzy"]
    assert all(entry["msgstr"]), entry["msgid"]  # type: ignore[arg-type]


def test_the_compiled_catalogue_matches_the_source() -> None:
    with (LOCALE / "django.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    for entry in ENTRIES:
        msgid = str(entry["msgid"])
        context = entry.get("msgctxt")
        strings: list[str] = entry["msgstr"]  # type: ignore[assignment]
        if "msgid_plural" in entry:
            plural = str(entry["msgid_plural"])
            found = [compiled.ngettext(msgid, plural, n) for n in (1, 2)]
            assert strings[0] in found, msgid
        elif context:
            assert compiled.pgettext(str(context), msgid) == strings[0], msgid
        else:
            assert compiled.gettext(msgid) == strings[0], msgid
