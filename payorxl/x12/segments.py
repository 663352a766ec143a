"""X12 text to segments: the one place that knows separators and envelopes.

An X12 file declares its own separators in the ISA segment: the element separator is
the character after "ISA", the component separator is ISA16, the segment terminator is
the character after ISA16 (newlines around segments are tolerated), and in 5010 the
repetition separator is ISA11. Files cut out of a larger interchange may start at GS or
ST instead; then the element separator is the character after the segment id, the
terminator is "~" and the component separator is taken to be ":".

`Segments` splits the text with plain ``str.split`` (no regular expression per element,
so a 4 MB remittance splits in a fraction of a second) and checks the envelope as it
goes: every ST closed by its SE, every GS by GE, the ISA by IEA. What stops the read is
raised as `X12Error`, naming the segment number, the segment id, what is wrong and how to
fix it; what is only untidy (a wrong segment count in SE, an unpadded ISA) becomes a
warning `DataError` and the read goes on. Element values are kept as the text they are:
nothing here interprets or evaluates them.
"""
from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import MAX_COMMAND_MESSAGE, MAX_VALUE, WARNING, CellRef, DataError, PayorxlError, cut

ENVELOPE_IDS = frozenset(("ISA", "IEA", "GS", "GE", "ST", "SE"))
# Characters an X12 file never holds as data; finding one means the file is binary (a
# PDF, ZIP, Excel file) or damaged. Separators that happen to be control characters
# (some translators use \x1c-\x1f) are taken out of this set before the search.
_CONTROL = "".join(chr(c) for c in list(range(0, 9)) + [11, 12] + list(range(14, 32)) + [127])
# Separators seen in the wild when a composite does not use the one ISA16 declares.
_LIKELY_COMPONENT_SEPARATORS = ":>^<|\\!}@"
ISA_LENGTH = 106  # a padded ISA, terminator included
# Longest element text a message quotes: a 100 MB element must not become a 100 MB line.
QUOTE_LIMIT = 40


def quoted(text, limit: int = QUOTE_LIMIT) -> str:
    """Element text as a message quotes it: cut to `limit` characters ("…" at the end when
    cut), then repr'd so control characters show as escapes. Every message of the X12
    readers that quotes an element goes through this (or `clipped`)."""
    return repr(cut(str(text), limit))


def clipped(text, limit: int = QUOTE_LIMIT) -> str:
    """Element text cut to `limit` characters, for a message that shows it bare ("SE01
    says the transaction has 12 segments")."""
    return cut(str(text), limit)


class X12Error(PayorxlError):
    """An X12 file that cannot be read: where (segment number and id), what is wrong,
    and how to fix it.

    segment: 1-based segment number in the file (None when the file has none);
    segment_id: the segment's id ("CLP"), "" when unknown; source: the file name.
    """

    def __init__(self, message: str, fix: str = "", segment: int | None = None,
                 segment_id: str = "", source: str = ""):
        # Both may quote an element; the importer shows them apart from format().
        self.message = cut(str(message), MAX_COMMAND_MESSAGE)
        self.fix = cut(str(fix), MAX_COMMAND_MESSAGE)
        self.segment, self.segment_id, self.source = segment, segment_id, source
        super().__init__(self.format())

    def format(self) -> str:
        where = f"{self.source}: " if self.source else ""
        if self.segment is not None:
            where += f"segment {self.segment}"
            where += f" ({self.segment_id}): " if self.segment_id else ": "
        text = where + self.message
        return text + (f"\n    fix: {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class Delimiters:
    """The separators of one file. repetition is None when the file has none (4010, or
    no ISA); version is ISA12 ("00501", "00401"), "" without an ISA."""
    element: str
    component: str
    segment: str
    repetition: str | None = None
    version: str = ""
    has_isa: bool = True


class Segment(NamedTuple):
    """One segment: its 1-based number in the file and its elements as text, the
    segment id first (so ``elements[1]`` is the XX01 element)."""
    number: int
    elements: list

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, index: int) -> str:
        """Element `index` (1-based, as the implementation guides number them), or ""
        when the segment stops before it."""
        e = self.elements
        return e[index] if index < len(e) else ""


def load_text(source) -> tuple[str, str]:
    """(text, name) from X12 text, bytes, or a path (str or Path) to a file.

    A str is read as a path only when it does not look like X12 and names an existing
    file. Bytes are decoded as UTF-8, else Latin-1 (which never fails, so a binary file
    reaches the tokenizer and is reported there as not X12)."""
    if isinstance(source, Path) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise X12Error(f"the file {str(path)!r} does not exist",
                           "check the path and the file name", source=path.name) from None
        except OSError as exc:
            raise X12Error(f"the file {str(path)!r} cannot be read ({exc.strerror or exc})",
                           "check that it is a file you may read and not a folder",
                           source=path.name) from None
        return _decode(data), path.name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _decode(bytes(source)), ""
    if isinstance(source, str):
        return source, ""
    raise X12Error(f"cannot read X12 from a {type(source).__name__}",
                   "pass the file's path, its text or its bytes")


def _looks_like_path(text: str) -> bool:
    head = text.lstrip("\ufeff \t\r\n")[:3]
    if head[:3] == "ISA" or head[:2] in ("GS", "ST") or "~" in text or "\n" in text:
        return False
    if text.lower().endswith((".835", ".837", ".txt", ".edi", ".x12", ".era")):
        return True  # meant as a path: a missing file is reported as such
    return len(text) < 4096 and os.path.isfile(text)


def _decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # saved as "Unicode" by a Windows editor
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class Segments:
    """The segments of one X12 text, read lazily.

    Iterating yields `Segment`s, envelope segments included, numbered from 1 in file
    order; `delimiters` is known as soon as the object is made (a file that is not X12
    at all fails here). Warnings (DataError, severity warning) are appended to
    `warnings` as iteration reaches them.
    """

    def __init__(self, text: str, source: str = "", warnings: list | None = None):
        self.source = source
        self.warnings = warnings if warnings is not None else []
        self.delimiters, self._text = _prepare(text, source, self.warnings)
        self._warned: set = set()

    def __iter__(self) -> Iterator[Segment]:
        return (Segment(number, elements) for number, elements in enumerate(self.lists(), 1))

    def lists(self) -> Iterator[list]:
        """The segments as bare element lists, in file order: the n-th list yielded is
        segment number n. Faster than iterating `Segment`s; the readers use it."""
        return _segments(self._text, self.delimiters, self.source, self.warnings)

    def split_components(self, value: str, segment: Segment, element: str) -> list[str]:
        """A composite element's components. When the declared component separator is
        absent but the value looks like "HC>99213" (a two-character qualifier followed by
        another usual separator), that one is used and a warning says so: such files
        exist and the codes in them are still plain to read."""
        comp = self.delimiters.component
        if comp in value:
            return value.split(comp)
        if len(value) > 2 and value[2] in _LIKELY_COMPONENT_SEPARATORS and value[:2].isalnum():
            other = value[2]
            if other not in self._warned:
                self._warned.add(other)
                self.warnings.append(warning(
                    self.source, segment.number, segment.id, element, value,
                    f"the composite {element} is split with {other!r}, but the file's "
                    f"component separator is {comp!r} "
                    f"({'ISA16' if self.delimiters.has_isa else 'assumed: the file has no ISA'})"
                    f"; read with {other!r}",
                    "ask the sender to use one component separator throughout the file"))
            return value.split(other)
        return [value]


def tokenize(text: str, source: str = "", warnings: list | None = None) -> Iterator[Segment]:
    """The segments of `text` (see `Segments`)."""
    return iter(Segments(text, source, warnings))


def warning(source: str, number: int | None, segment_id: str, element: str, value, message: str,
            fix: str) -> DataError:
    """A warning about one element of one segment, as the Exceptions sheet shows it."""
    where = f"segment {number} ({segment_id})" if number is not None else "file"
    if isinstance(value, str):
        value = cut(value, MAX_VALUE)   # all DataError.shown_value prints; no 100 MB copy kept
    return DataError(CellRef(source or "X12", number, element or None), value,
                     f"{where}: {message}", fix, severity=WARNING)


def _sample(text: str, n: int = 10) -> str:
    """A short, safe rendering of the start of some text for a message (repr, so
    control characters show as escapes; short, so no patient data is quoted)."""
    return repr(text[:n] + ("…" if len(text) > n else ""))


def _prepare(text: str, source: str, warnings: list) -> tuple[Delimiters, str]:
    """Find the separators and return the text ready to split (BOM, leading blanks and
    newlines around segments removed)."""
    if not isinstance(text, str):
        raise X12Error(f"expected text, got {type(text).__name__}", "pass the file's text",
                       source=source)
    text = text.lstrip("\ufeff \t\r\n\x00")
    if not text.strip():
        raise X12Error("the file is empty: there is no ISA, GS or ST segment",
                       "check that the right file was chosen and that it was saved completely",
                       segment=1, source=source)
    if text.startswith("ISA"):
        delimiters = _isa_delimiters(text, source, warnings)
    elif text[:2] in ("GS", "ST") and len(text) > 2 and not text[2].isalnum() \
            and not text[2].isspace():
        term = "~" if "~" in text else ("\n" if "\n" in text else "~")
        delimiters = Delimiters(text[2], ":", term, None, "", has_isa=False)
    else:
        binary = re.search(f"[{re.escape(_CONTROL)}]", text[:512])
        what = ("it holds binary data (a PDF, ZIP or Excel file?)" if binary
                else "it does not start with an ISA, GS or ST segment")
        raise X12Error(f"this is not an X12 file: {what}; it starts with {_sample(text)}",
                       "choose the 835 or 837 file itself (often .835, .837, .txt or .edi), "
                       "not a report or a spreadsheet made from it", segment=1, source=source)

    if delimiters.segment in "\r\n":
        text = text.replace("\r", "")
    elif "\n" in text or "\r" in text:
        text = text.replace("\r", "").replace("\n", "")
    control = "".join(c for c in _CONTROL
                      if c not in (delimiters.element, delimiters.component, delimiters.segment,
                                   delimiters.repetition))
    found = re.search(f"[{re.escape(control)}]", text)
    if found:
        number = text.count(delimiters.segment, 0, found.start()) + 1
        raise X12Error(f"the file holds binary data (character {ord(found.group()):#04x}) — "
                       f"it is not a text X12 file, or it is damaged",
                       "export the 835/837 again from the clearinghouse or payer portal as a "
                       "text (EDI) file", segment=number, source=source)
    return delimiters, text


def _isa_delimiters(text: str, source: str, warnings: list) -> Delimiters:
    if len(text) < 4:
        raise X12Error("the ISA segment is truncated: the file ends after 'ISA'",
                       "the file was cut short; download or export it again",
                       segment=1, segment_id="ISA", source=source)
    element = text[3]
    if element.isalnum() or element.isspace():
        raise X12Error(f"wrong separators: the character after 'ISA' must be the element "
                       f"separator (usually '*'), found {element!r}",
                       "the file is not a standard X12 interchange; export it again",
                       segment=1, segment_id="ISA", source=source)
    positions = []
    pos = 3
    for _ in range(16):
        pos = text.find(element, pos)
        if pos < 0:
            break
        positions.append(pos)
        pos += 1
    # ISA16 is one character after the 16th element separator; the terminator follows it.
    if len(positions) < 16 or len(text) < positions[15] + 3:
        raise X12Error(f"the ISA segment is truncated: it needs 16 elements and the segment "
                       f"terminator, found {max(len(positions) - 1, 0)} element(s)",
                       "the file was cut short; download or export it again",
                       segment=1, segment_id="ISA", source=source)
    component = text[positions[15] + 1]
    after = text[positions[15] + 2]
    if after in "\r\n":
        rest = text[positions[15] + 2:].lstrip("\r\n")
        if not rest:
            raise X12Error("the file ends after the ISA segment", "the file was cut short; "
                           "download or export it again", segment=1, segment_id="ISA",
                           source=source)
        # "ISA...:\nGS*" uses newlines as terminators; "ISA...:\n~GS*" puts them before "~".
        segment = "\n" if rest[0].isalnum() else rest[0]
    else:
        segment = after
    if component.isalnum() or component == element or component.isspace():
        raise X12Error(f"wrong separators: ISA16 (the component separator) is {component!r}; "
                       f"it must be a single punctuation character such as ':' right after the "
                       f"16th {element!r}",
                       "the ISA is damaged or mis-padded; export the file again",
                       segment=1, segment_id="ISA", source=source)
    if segment.isalnum() or segment in (element, component) or segment == " ":
        raise X12Error(f"wrong separators: the segment terminator after ISA16 is {segment!r}; it "
                       f"must differ from the element separator {element!r}, the component "
                       f"separator {component!r} and from letters and digits",
                       "the ISA is damaged or mis-padded; export the file again",
                       segment=1, segment_id="ISA", source=source)
    isa = text[:positions[15] + 2].split(element)
    version = isa[12]
    repetition = isa[11] if (len(isa[11]) == 1 and not isa[11].isalnum()
                             and not version.startswith(("002", "003", "004"))
                             and isa[11] not in (element, component, segment)) else None
    if positions[15] + 2 != ISA_LENGTH - 1:
        warnings.append(warning(source, 1, "ISA", "", None,
                                f"the ISA is {positions[15] + 3} characters long, not the fixed "
                                f"{ISA_LENGTH}: its fields are not padded; read anyway",
                                "nothing to do unless other software rejects the file"))
    return Delimiters(element, component, segment, repetition, version, has_isa=True)


def _valid_id(sid: str) -> bool:
    return (2 <= len(sid) <= 3 and sid.isascii() and sid.isalnum() and sid[0].isalpha()
            and sid == sid.upper())


def _segments(text: str, d: Delimiters, source: str, warnings: list) -> Iterator[Segment]:
    element, term = d.element, d.segment
    # The text is split a block at a time (_pieces): a list of every segment's text at
    # once would add several times the file's size. The last piece is what follows the
    # final terminator: blank in a complete file.
    last = text.rfind(term)
    tail = text[last + len(term):] if last >= 0 else text
    pieces = _pieces(text, term, last) if last >= 0 else iter(())
    tail_stripped = tail.strip()
    known_ids: set[str] = set()
    in_isa = in_gs = in_st = False
    isa_at = gs_at = st_at = 0
    isa_control = st_control = ""
    gs_count = st_in_gs = 0
    number = 0
    sid = ""

    def err(message, fix, seg_id=""):
        return X12Error(message, fix, segment=number, segment_id=seg_id, source=source)

    def warn(seg_id, el, value, message, fix):
        warnings.append(warning(source, number, seg_id, el, value, message, fix))

    if tail_stripped:
        # A file may end without its last terminator ("...~IEA*1*000000001"); accept that
        # when the last segment is an envelope trailer, else the file was cut short.
        tail_id = tail_stripped.split(element, 1)[0]
        if tail_id in ("IEA", "GE", "SE"):
            pieces = itertools.chain(pieces, (tail_stripped,))
            if term != "\n":
                warnings.append(warning(source, None, tail_id, "", None,
                                    f"the last segment ({tail_id}) has no segment terminator "
                                        f"{term!r}; read anyway", "nothing to do"))
            tail_stripped = ""

    newline_terminated = term == "\n"
    for raw in pieces:
        if not raw or (newline_terminated and not raw.strip()):
            continue
        number += 1
        elements = raw.split(element)
        sid = elements[0]
        if sid not in known_ids:
            if not _valid_id(sid):
                stripped = sid.strip()
                if stripped != sid and _valid_id(stripped):
                    elements[0] = sid = stripped
                else:
                    raise err(f"{_sample(raw)} does not start with a segment id followed by the "
                              f"element separator {element!r}: the file's separators (element "
                              f"{element!r}, segment terminator {term!r}"
                              f"{', declared in the ISA' if d.has_isa else ''}) do not match "
                              f"this segment, or it is damaged",
                              "export the file again; if it was edited by hand or joined from "
                              "several files, make every segment use the same separators")
            known_ids.add(sid)
        if sid in ENVELOPE_IDS:
            if sid == "ST":
                if in_st:
                    raise err(f"a new transaction starts, but the one that starts at segment "
                              f"{st_at} (ST {clipped(st_control)}) has no SE: the file is cut short or "
                              f"two files were joined", "export the file again", "ST")
                if d.has_isa and not in_gs:
                    raise err("ST outside a functional group (no GS before it)",
                              "export the file again; ST must follow a GS segment", "ST")
                in_st, st_at, st_control = True, number, _get(elements, 2)
                st_in_gs += 1
            elif sid == "SE":
                if not in_st:
                    raise err("SE without a matching ST", "export the file again", "SE")
                st_segments = number - st_at + 1
                count = _get(elements, 1)
                if count != str(st_segments) and count.lstrip("0") != str(st_segments):
                    warn("SE", "SE01", count,
                         f"SE01 says the transaction has {clipped(count) or '(blank)'} segments; it has "
                         f"{st_segments} (ST at segment {st_at} to this SE)",
                         "the sender's count is wrong or segments are missing; check the "
                         "totals of this transaction")
                if _get(elements, 2) != st_control:
                    warn("SE", "SE02", _get(elements, 2),
                         f"SE02 {quoted(_get(elements, 2))} does not match ST02 {quoted(st_control)}",
                         "the transaction may have been edited; check it")
                in_st = False
            elif sid == "GS":
                if in_st:
                    raise err(f"a functional group starts, but the transaction that starts at "
                              f"segment {st_at} (ST {clipped(st_control)}) has no SE",
                              "the file is cut short or joined from several files; export it "
                              "again", "GS")
                if in_gs:
                    raise err(f"a functional group starts, but the one that starts at segment "
                              f"{gs_at} has no GE", "export the file again", "GS")
                if d.has_isa and not in_isa:
                    raise err("GS after the interchange ended (IEA)", "export the file again",
                              "GS")
                in_gs, gs_at, st_in_gs = True, number, 0
                gs_count += 1
            elif sid == "GE":
                if in_st:
                    raise err(f"the functional group ends, but the transaction that starts at "
                              f"segment {st_at} (ST {clipped(st_control)}) has no SE",
                              "the file is cut short or damaged; export it again", "GE")
                if not in_gs:
                    raise err("GE without a matching GS", "export the file again", "GE")
                if _get(elements, 1).lstrip("0") != str(st_in_gs).lstrip("0"):
                    warn("GE", "GE01", _get(elements, 1),
                         f"GE01 says the group has {clipped(_get(elements, 1)) or '(blank)'} "
                         f"transactions; it has {st_in_gs}", "check that no transaction is missing")
                in_gs = False
            elif sid == "ISA":
                if in_isa:
                    raise err(f"a new interchange starts, but the one that starts at segment "
                              f"{isa_at} has no IEA", "the file is cut short or joined from "
                              "several files; export it again", "ISA")
                if number > 1 and (len(elements) < 17 or elements[16][:1] != d.component):
                    raise err("a second interchange in the file uses other separators",
                              "split the file into one file per interchange", "ISA")
                in_isa, isa_at, isa_control, gs_count = True, number, _get(elements, 13), 0
            elif sid == "IEA":
                if in_st:
                    raise err(f"the interchange ends, but the transaction that starts at segment "
                              f"{st_at} (ST {clipped(st_control)}) has no SE",
                              "the file is cut short or damaged; export it again", "IEA")
                if in_gs:
                    raise err(f"the interchange ends, but the functional group that starts at "
                              f"segment {gs_at} has no GE", "export the file again", "IEA")
                if not in_isa:
                    raise err("IEA without a matching ISA", "export the file again", "IEA")
                if _get(elements, 1).lstrip("0") != str(gs_count).lstrip("0"):
                    warn("IEA", "IEA01", _get(elements, 1),
                         f"IEA01 says the interchange has {clipped(_get(elements, 1)) or '(blank)'} "
                         f"functional groups; it has {gs_count}", "check that no group is missing")
                if _get(elements, 2) != isa_control:
                    warn("IEA", "IEA02", _get(elements, 2),
                         f"IEA02 {quoted(_get(elements, 2))} does not match ISA13 {quoted(isa_control)}",
                         "the interchange may have been edited; check it")
                in_isa = False
        elif not in_st:
            raise err("this segment is outside a transaction (no ST before it, or after its "
                      "SE)", "export the file again; if it was edited by hand, put the segment "
                      "back between its ST and SE", sid)
        yield elements

    if tail_stripped:
        number += 1
        tail_id = tail_stripped.split(element, 1)[0]
        shown = tail_id if _valid_id(tail_id) else ""
        raise err(f"the file ends in the middle of this segment: there is no segment terminator "
                  f"{term!r} after it, so it is truncated",
                  "the file was cut short; download or export it again", shown)
    if in_st:
        raise err(f"the file ends here, but the transaction that starts at segment {st_at} "
                  f"(ST {clipped(st_control)}) has no SE: the file is truncated",
                  "the file was cut short; download or export it again", sid)
    if in_gs:
        raise err(f"the file ends, but the functional group that starts at segment {gs_at} has "
                  f"no GE: the file is truncated", "download or export the file again", sid)
    if in_isa:
        raise err(f"the file ends, but the interchange that starts at segment {isa_at} has no "
                  f"IEA: the file is truncated", "download or export the file again", sid)
    if number == 0:
        raise X12Error("the file has no segments", "choose the 835 or 837 file itself",
                       segment=1, source=source)


SPLIT_BLOCK = 1 << 20   # characters of text split at a time (_pieces)


def _pieces(text: str, term: str, end: int) -> Iterator[str]:
    """``text[:end].split(term)``, a block of about SPLIT_BLOCK characters at a time (each
    block ends at a terminator, so the pieces are the same)."""
    pos = 0
    while True:
        cut_at = text.find(term, pos + SPLIT_BLOCK, end) if pos + SPLIT_BLOCK < end else -1
        if cut_at < 0:
            yield from text[pos:end].split(term)
            return
        yield from text[pos:cut_at].split(term)
        pos = cut_at + len(term)


def _get(elements: list, index: int) -> str:
    return elements[index] if index < len(elements) else ""
