"""Every user-visible string has its Simplified Chinese translation: the strings of the
templates, of the Python code (pages, API errors, the upstream error sentences, the page
script's texts, which all come from chat/views.py's ui_strings) and the compiled catalogue the
site reads. A string added without a translation fails here."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from gettext import GNUTranslations
from pathlib import Path

from chat.views import ui_strings
from tests.support.po import Entry, read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "chat" / "locale" / "zh_Hans" / "LC_MESSAGES"
# The places makemessages reads, as `make messages` runs it.
SOURCES = ("chat", "chatsite", "templates", "static", "manage.py")


def untranslated(entries: list[Entry]) -> list[str]:
    return [e.msgid for e in entries if "fuzzy" in e.flags or not e.msgstr or not all(e.msgstr)]


def test_every_entry_of_the_catalogue_is_translated() -> None:
    entries = read_po(LOCALE / "django.po")
    assert len(entries) > 200
    assert untranslated(entries) == []


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    with (LOCALE / "django.mo").open("rb") as mo:
        catalogue = GNUTranslations(mo)
    for entry in read_po(LOCALE / "django.po"):
        if entry.plural:
            assert catalogue.ngettext(entry.msgid, entry.plural, 1) == entry.msgstr[0], entry.msgid
        else:
            assert catalogue.gettext(entry.msgid) == entry.msgstr[0], entry.msgid


def test_the_catalogue_covers_every_string_in_the_sources(tmp_path: Path) -> None:
    # makemessages on a copy of the sources, with the catalogue as it is: any string of the
    # code or the templates that the catalogue lacks comes out untranslated.
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    fresh = read_po(tmp_path / "chat" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    assert len(fresh) > 200
    assert untranslated(fresh) == []


def test_the_page_scripts_show_only_strings_from_ui_strings() -> None:
    # The scripts' texts come from the #chat-strings block (chat/views.py, ui_strings), which
    # the catalogue covers: every `strings.<name>` they read must be there.
    known = set(ui_strings()) | {"model_labels"}  # the models' labels: per page (views.py)
    used: set[str] = set()
    for script in (ROOT / "static" / "chat").glob("*.js"):
        used |= set(re.findall(r"\bstrings\.(\w+)", script.read_text(encoding="utf-8")))
    assert used, "no strings found in the scripts"
    assert used - known == set()
