"""The Russian catalogue (locale/ru/LC_MESSAGES): every string translated, nothing fuzzy, the .mo compiled from the .po.

`make messages` (makemessages + compilemessages) refreshes both files; a new `_("...")` in the code shows up here as an
untranslated entry. Plain Python: no gettext tools and no extra packages are needed to run these checks.
"""

import ast
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.LOCALE_PATHS[0]) / "ru" / "LC_MESSAGES"
PO_PATH = LOCALE / "django.po"
MO_PATH = LOCALE / "django.mo"
RUSSIAN_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)
# A fresh clone writes the two files in one checkout, the .mo a moment before the .po: allow for that, no more.
CHECKOUT_SLACK_SECONDS = 2.0


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a singular entry, the form index for plurals

    @property
    def key(self) -> str:
        """The key of this entry in a compiled catalogue."""
        key = self.msgid if self.msgid_plural is None else f"{self.msgid}\0{self.msgid_plural}"
        return key if self.msgctxt is None else f"{self.msgctxt}\x04{key}"

    @property
    def translation(self) -> str:
        return "\0".join(self.msgstr[index] for index in sorted(self.msgstr))


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file, the header (msgid "") included; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None

    def start(line_number: int) -> Entry:
        nonlocal current
        if current is None or current.msgstr:
            current = Entry(line=line_number)
            entries.append(current)
        return current

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line:
                current, target = None, None
            continue
        if line.startswith("#,"):
            start(number).flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")', line)
        if match:
            keyword, index, literal = match.groups()
            entry = start(number) if keyword in ("msgctxt", "msgid") else current
            assert entry is not None, f"{path.name}:{number}: {keyword} without msgid"
            target = (keyword.split("[")[0], int(index or 0))
        elif line.startswith('"') and current is not None and target is not None:
            entry, literal = current, line
        else:
            raise AssertionError(f"{path.name}:{number}: cannot read {raw!r}")
        text = ast.literal_eval(literal)
        name, index = target
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + text
        else:
            setattr(entry, name, (getattr(entry, name) or "") + text)
    return entries


def read_mo(path: Path) -> dict[str, str]:
    """A compiled GNU catalogue as {key: translation} (plural forms joined by NUL, as stored)."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _revision, count, originals, translations = struct.unpack(order + "4I", data[4:20])

    def string(table: int, index: int) -> str:
        length, offset = struct.unpack(order + "2I", data[table + 8 * index : table + 8 * index + 8])
        return data[offset : offset + length].decode("utf-8")

    return {string(originals, index): string(translations, index) for index in range(count)}


def placeholders(text: str, flags: set[str]) -> list[str]:
    found = []
    if "python-format" in flags:
        found += re.findall(r"%(?:\(\w+\))?[#0 +-]*\d*(?:\.\d+)?[a-zA-Z%]", text)
    if "python-brace-format" in flags:
        found += re.findall(r"\{[^{}]*\}", text)
    return sorted(found)


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run `make messages`"
    return parse_po(PO_PATH)


def where(entry: Entry) -> str:
    return f"{PO_PATH.name}:{entry.line} {entry.msgid!r}"


def test_the_header_is_final_and_has_the_russian_plural_forms(entries):
    header = entries[0]
    assert header.msgid == "" and header.msgctxt is None, "the .po file must start with its header"
    assert "fuzzy" not in header.flags, "a fuzzy header is skipped by msgfmt: remove the flag"
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    assert fields.get("Language") == "ru"
    assert fields.get("Content-Type") == "text/plain; charset=UTF-8"
    assert fields.get("Plural-Forms") == RUSSIAN_PLURALS


def test_every_entry_is_translated_and_none_is_fuzzy(entries):
    messages = entries[1:]
    assert messages, "the catalogue has no messages"
    fuzzy = [where(entry) for entry in messages if "fuzzy" in entry.flags]
    untranslated = [
        where(entry)
        for entry in messages
        if not entry.msgstr
        or any(not text.strip() for text in entry.msgstr.values())
        or (entry.msgid_plural is not None and sorted(entry.msgstr) != [0, 1, 2])
    ]
    assert not (fuzzy or untranslated), "\n".join(
        [
            "Untranslated (translate, then `make messages`):",
            *untranslated,
            "Fuzzy (check the translation, then remove the flag):",
            *fuzzy,
        ]
    )


def test_translations_keep_the_placeholders(entries):
    broken = []
    for entry in entries[1:]:
        sources = [entry.msgid] if entry.msgid_plural is None else [entry.msgid, entry.msgid_plural]
        expected = placeholders(sources[-1], entry.flags)
        for text in entry.msgstr.values():
            # A Russian plural form may leave out the number (e.g. the "one" form), never add or rename one.
            got = placeholders(text, entry.flags)
            if got != expected and not (entry.msgid_plural and set(got) <= set(expected)):
                broken.append(f"{where(entry)}: {expected} -> {got}")
    assert not broken, "placeholders differ between source and translation:\n" + "\n".join(broken)


def test_the_mo_file_is_compiled_from_the_current_po_file(entries):
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run `make messages`"
    slack = PO_PATH.stat().st_mtime - MO_PATH.stat().st_mtime
    assert slack <= CHECKOUT_SLACK_SECONDS, (
        f"{MO_PATH.name} is older than {PO_PATH.name} by {slack:.0f} s: run `make messages`"
    )
    expected = {entry.key: entry.translation for entry in entries if "fuzzy" not in entry.flags and entry.msgstr}
    compiled = read_mo(MO_PATH)
    # msgfmt leaves the POT-Creation-Date out of the compiled header (reproducible builds).
    for catalogue in (expected, compiled):
        catalogue[""] = re.sub(r"(?m)^POT-Creation-Date: .*\n", "", catalogue.get("", ""))
    stale = sorted(key for key in expected.keys() | compiled.keys() if expected.get(key) != compiled.get(key))
    assert not stale, f"{MO_PATH.name} does not match {PO_PATH.name}; run `make messages`. Differences:\n" + "\n".join(
        repr(key) for key in stale[:20]
    )
