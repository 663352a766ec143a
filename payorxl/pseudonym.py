"""Stable pseudonyms for the identifiers in payorxl's reports (`payorxl report --deidentify`).

This is **pseudonymisation of identifiers, not HIPAA Safe Harbor de-identification**
(45 CFR 164.514(b)(2)): only patient IDs, claim IDs, payor claim numbers and line
control numbers are replaced. Dates of service, payors, CPT codes, amounts and every
other column remain, and together they can still point to a patient. Treat the output
as patient data that is merely easier to share with a colleague who needs no real IDs.

A pseudonym is a keyed hash (HMAC-SHA256) of the identifier, so:

- the same identifier and the same key give the same pseudonym, in every run and every
  workbook of the practice: an analyst can still group lines by patient or claim;
- a different key gives unrelated pseudonyms;
- without the key nobody can compute a pseudonym, so a pseudonym cannot be matched to a
  real ID by hashing guesses. *With* the key and a list of real IDs (or an ID format
  short enough to try every value), anyone can link pseudonyms back: keep it private.

The formula (documented so other tools can reproduce it)::

    digest    = HMAC-SHA256(key, kind + b"\\x00" + identifier.encode("utf-8"))
    pseudonym = PREFIX + "-" + base32(digest).upper() without "=" padding, first 12 characters

where kind is b"patient", b"claim", b"payor_claim" or b"line_control" (domain
separation: a patient ID and a claim ID that are the same text get unrelated
pseudonyms), PREFIX is PT, CL, PC or LC, and identifier is the text as the engine reads
it (conversion.py: surrounding whitespace stripped, a whole number typed as a number
such as 123.0 is "123"). A blank identifier stays blank. 12 base32 characters carry 60
bits: collisions are negligible below hundreds of millions of identifiers.

The key is 32 random bytes in a file: `--key-file PATH`, else the file named by
$PAYORXL_PSEUDONYM_KEY_FILE, else ``pseudonym.key`` in payorxl's configuration folder
(click.get_app_dir). A missing key file is created (mode 0600, written atomically);
one that cannot be read or is not 32 bytes stops the command with a message.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import click
import pandas as pd

from .errors import PayorxlError

KEY_BYTES = 32
KEY_ENV = "PAYORXL_PSEUDONYM_KEY_FILE"
KEY_NAME = "pseudonym.key"
LENGTH = 12   # base32 characters kept from the digest (60 bits)

# kind -> prefix of its pseudonyms
KINDS = {"patient": "PT", "claim": "CL", "payor_claim": "PC", "line_control": "LC"}

# engine column key (model.py) -> kind: the identifiers report --deidentify replaces.
# Account-like numbers count: HIPAA Safe Harbor lists account numbers as identifiers.
IDENTIFIER_COLUMNS = {"patient_id": "patient", "claim_id": "claim",
                      "payor_claim_no": "payor_claim", "line_control_no": "line_control"}


def canonical(value) -> str:
    """The identifier as the engine reads a text cell (conversion.py's _text): blank for
    None/NaN/whitespace, a whole float as an integer (123.0 -> "123"), else the text
    with surrounding whitespace stripped. So " 123", "123" and 123.0 share a pseudonym."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def pseudonym(key: bytes, kind: str, value) -> str:
    """The pseudonym of one identifier of `kind` under `key` (the module docstring's
    formula); blank stays blank."""
    text = canonical(value)
    if not text:
        return ""
    digest = hmac.digest(key, kind.encode("ascii") + b"\x00" + text.encode("utf-8"), hashlib.sha256)
    # base32 encodes each 5 bytes on their own: the first 10 bytes give the same first
    # 16 characters as the whole digest, at a third of the cost (a million IDs add up)
    return f"{KINDS[kind]}-{base64.b32encode(digest[:10]).decode('ascii')[:LENGTH]}"


@dataclass(frozen=True)
class Pseudonyms:
    """A loaded key: call it to pseudonymise; `path` and `created` say where the key
    lives and whether this run made it."""
    key: bytes
    path: Path
    created: bool = False

    def __call__(self, kind: str, value) -> str:
        return pseudonym(self.key, kind, value)

    def series(self, values, kind: str):
        """A pandas Series with every identifier replaced (each distinct value hashed once)."""
        mapping = {v: self(kind, v) for v in values.dropna().unique()}
        return values.map(lambda v: "" if pd.isna(v) else mapping[v]).astype(object)

    def notice(self) -> str:
        """The line the CLI prints: which key was used, and what holding it allows."""
        made = "created " if self.created else ""
        return (f"pseudonym key: {made}{self.path}. The key alone reveals no IDs, but anyone with it and a "
                "list of real IDs can link the pseudonyms back to them: keep it private; share it only "
                "with someone who must reproduce the same pseudonyms.")


def key_path(option: str | Path | None = None) -> Path:
    """Where the key is: the --key-file option, else $PAYORXL_PSEUDONYM_KEY_FILE, else
    pseudonym.key in payorxl's configuration folder."""
    if option:
        return Path(option).expanduser()
    if os.environ.get(KEY_ENV, "").strip():
        return Path(os.environ[KEY_ENV].strip()).expanduser()
    return Path(click.get_app_dir("payorxl")) / KEY_NAME


def load(option: str | Path | None = None) -> Pseudonyms:
    """The key at key_path(option), created there on first use (only the default
    configuration folder is created if missing: an explicit path in a folder that
    does not exist is more likely a typing error)."""
    path = key_path(option)
    created = _missing(path)
    if created:
        _create(path, make_folder=not option and not os.environ.get(KEY_ENV, "").strip())
    return Pseudonyms(_read(path), path, created)


def _missing(path: Path) -> bool:
    """Nothing at all is at `path` (not even a broken link). A file that is there but
    cannot be reached counts as present: _read then says what is wrong with it."""
    try:
        path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _read(path: Path) -> bytes:
    """The key's bytes, or a PayorxlError naming the file and the fix."""
    fix = (f"restore the key file you used before, or delete {path} to start over with a new key "
           f"(pseudonyms made with the old key will then no longer match)")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PayorxlError(f"pseudonym key {path} cannot be read ({e.strerror or e}): "
                           f"check the file's permissions, or {fix}") from None
    if len(data) != KEY_BYTES:
        what = "is empty" if not data else f"holds {len(data)} bytes, not {KEY_BYTES}"
        raise PayorxlError(f"pseudonym key {path} {what}: {fix}")
    return data


def _create(path: Path, make_folder: bool) -> None:
    """Write a new random key to `path`, mode 0600, atomically: a temporary file in the
    same folder, then a hard link to the final name (which fails rather than replace a
    key another process created meanwhile)."""
    folder = path.parent
    try:
        if make_folder:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        elif not folder.is_dir():
            raise PayorxlError(f"cannot create pseudonym key {path}: the folder {folder} does not exist; "
                               f"create it, or give --key-file a path in an existing folder")
        tmp = folder / f".{path.name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(KEY_BYTES))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass   # created by another run meanwhile: use that one
            except OSError:
                os.replace(tmp, path)   # a file system without hard links
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as e:
        raise PayorxlError(f"cannot create pseudonym key {path} ({e.strerror or e}): choose a writable "
                           f"location with --key-file or ${KEY_ENV}") from None
