"""`payorxl report`: --csv writes the results without touching the workbook, and
--deidentify replaces every identifier with a stable keyed pseudonym in everything it
prints or writes. The real identifiers are read from the workbook itself, and one
pseudonym is recomputed here from the documented formula, independently of payorxl."""
import base64
import hashlib
import hmac
import os
import sys
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from payorxl import model as m, pipeline
from payorxl.cli import main
from payorxl.conversion import convert_value
from payorxl.demo import generate_demo
from payorxl.pseudonym import KEY_ENV, pseudonym
from payorxl.report import write_csv
from payorxl.workbook.read import read_inputs

ID_COLUMNS = ("claim_id", "patient_id", "payor_claim_no", "line_control_no")


@pytest.fixture(autouse=True)
def no_real_config(tmp_path, monkeypatch):
    """Never read or create a key in the real home folder."""
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "home" / "AppData"))


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "practice.xlsx"
    d = generate_demo(claims=40)
    pipeline.new_workbook(path, d.frames(), d.settings)
    return path


@pytest.fixture(scope="module")
def messy_book(tmp_path_factory):
    """The demo with a duplicated claim line and a payment for a claim not in Claims:
    two exceptions whose messages quote a claim ID."""
    path = tmp_path_factory.mktemp("report") / "messy.xlsx"
    d = generate_demo(claims=40)
    frames = d.frames()
    claims, payments = frames["Claims"], frames["Payments"]
    orphan = payments.iloc[[0]].assign(claim_id="ZZ-ORPHAN-77")
    frames["Claims"] = pd.concat([claims, claims.iloc[[3]]], ignore_index=True)
    frames["Payments"] = pd.concat([payments, orphan], ignore_index=True)
    pipeline.new_workbook(path, frames, d.settings)
    return path


def real_ids(path) -> set[str]:
    """Every non-blank identifier in the workbook's Claims and Payments sheets."""
    frames = read_inputs(path).frames
    ids = set()
    for sheet in ("Claims", "Payments"):
        f = frames[sheet]
        for c in ID_COLUMNS:
            if c in f:
                ids |= {str(v) for v in f[c].dropna() if str(v).strip()}
    return ids


def new_key(path):
    path.write_bytes(os.urandom(32))
    return path


def run(*args, env=None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    assert "Traceback" not in result.output, result.output
    return result


def report(book, out, key, *more):
    result = run("report", book, "--deidentify", "--key-file", key, "--csv", out, *more)
    assert result.exit_code == 0, result.output
    return result


def csvs(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def read(folder, name) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def expected(key: bytes, kind: bytes, prefix: str, value: str) -> str:
    """The documented formula, written out here independently of payorxl."""
    digest = hmac.new(key, kind + b"\x00" + value.strip().encode(), hashlib.sha256).digest()
    return prefix + "-" + base64.b32encode(digest).decode().rstrip("=")[:12]


def test_deidentified_output_holds_no_real_identifier(book, tmp_path):
    key = new_key(tmp_path / "k")
    result = report(book, tmp_path / "out", key, "--top", "1000")
    files = csvs(tmp_path / "out" / book.stem)
    assert {"lines.csv", "worklist.csv", "exceptions.csv", "kpis.csv"} <= set(files)
    ids = real_ids(book)
    assert len(ids) > 100
    everything = [(name, data) for name, data in files.items()] + [
        ("stdout", result.stdout.encode()), ("stderr", result.stderr.encode())]
    for name, data in everything:
        leaked = sorted(i for i in ids if i.encode() in data)
        assert not leaked, f"{name} holds real identifiers: {leaked[:5]}"
    lines = read(tmp_path / "out" / book.stem, "lines.csv")
    for column, prefix in (("patient_id", "PT-"), ("claim_id", "CL-"), ("payor_claim_no", "PC-"),
                           ("line_control_no", "LC-")):
        filled = lines[column][lines[column] != ""]
        assert len(filled) and filled.str.match(rf"^{prefix}[A-Z2-7]{{12}}$").all(), column
    assert "CL-" in result.stdout and "pseudonym key" in result.stderr


def test_pseudonyms_are_stable_for_a_key_and_unrelated_across_keys(book, tmp_path):
    key, other = new_key(tmp_path / "k1"), new_key(tmp_path / "k2")
    report(book, tmp_path / "a", key)
    report(book, tmp_path / "b", key)
    report(book, tmp_path / "c", other)
    a, b = csvs(tmp_path / "a" / book.stem), csvs(tmp_path / "b" / book.stem)
    assert a == b and a
    la, lc = read(tmp_path / "a" / book.stem, "lines.csv"), read(tmp_path / "c" / book.stem, "lines.csv")
    for c in ID_COLUMNS:
        assert not (set(la[c]) - {""}) & set(lc[c]), f"{c}: another key gave some of the same pseudonyms"
    others = [c for c in la.columns if c not in ID_COLUMNS]
    pd.testing.assert_frame_equal(la[others], lc[others])   # only the identifiers differ


def test_one_real_id_maps_to_one_pseudonym_everywhere(book, tmp_path):
    key = new_key(tmp_path / "k")
    report(book, tmp_path / "d", key)
    plain = run("report", book, "--csv", tmp_path / "p")
    assert plain.exit_code == 0, plain.output
    d, p = tmp_path / "d" / book.stem, tmp_path / "p" / book.stem
    dl, pl = read(d, "lines.csv"), read(p, "lines.csv")
    claims = read_inputs(book).frames["Claims"].astype({"line": str})
    real = pl.merge(claims[["claim_id", "line", "patient_id"]], on=["claim_id", "line"], how="left",
                    validate="one_to_one")
    assert len(real) == len(dl) and real["patient_id"].notna().all()

    # the same rows in the same order: real -> pseudonym is a one-to-one mapping
    for column, reals in (("patient_id", real["patient_id"]), ("claim_id", pl["claim_id"]),
                          ("payor_claim_no", pl["payor_claim_no"]), ("line_control_no", pl["line_control_no"])):
        pairs = pd.DataFrame({"real": reals.values, "pseudo": dl[column].values})
        assert (pairs.groupby("real")["pseudo"].nunique() == 1).all(), column
        assert (pairs.groupby("pseudo")["real"].nunique() == 1).all(), column

    assert dl["patient_id"].nunique() == claims["patient_id"].nunique()
    assert sorted(dl.groupby("patient_id").size()) == sorted(claims.groupby("patient_id").size())

    to_pseudo = dict(zip(pl["claim_id"], dl["claim_id"]))
    dw, pw = read(d, "worklist.csv"), read(p, "worklist.csv")
    assert len(dw) == len(pw) and (pw["claim_id"] != "").sum() > 5
    assert list(dw["claim_id"]) == [to_pseudo.get(c, "") for c in pw["claim_id"]]


def test_a_pseudonym_follows_the_documented_formula(book, tmp_path):
    key = new_key(tmp_path / "k")
    report(book, tmp_path / "d", key)
    lines = read(tmp_path / "d" / book.stem, "lines.csv")
    first = read_inputs(book).frames["Claims"].iloc[0]
    k = key.read_bytes()
    row = lines[lines["claim_id"] == expected(k, b"claim", "CL", first["claim_id"])]
    assert len(row) >= 1
    assert row["patient_id"].iloc[0] == expected(k, b"patient", "PT", first["patient_id"])
    assert expected(k, b"payor_claim", "PC", first["payor_claim_no"]) in set(lines["payor_claim_no"])
    assert expected(k, b"line_control", "LC", first["line_control_no"]) in set(lines["line_control_no"])


def test_identifiers_are_read_as_the_engine_reads_them():
    """Spaces around an ID and a number typed for text do not change the pseudonym, as
    they do not change the ID the engine matches on; blank stays blank; the kinds are
    separate domains."""
    key, col = os.urandom(32), m.CLAIMS.column("claim_id")
    for typed in (" 123", "123 ", 123.0, 123):
        assert convert_value(typed, col) == "123"
        assert pseudonym(key, "claim", typed) == pseudonym(key, "claim", "123")
    assert pseudonym(key, "claim", "123") == expected(key, b"claim", "CL", "123")
    assert pseudonym(key, "claim", "A 1") != pseudonym(key, "claim", "A1")
    for blank in ("", "   ", None, float("nan"), pd.NA):
        assert pseudonym(key, "patient", blank) == ""
    assert pseudonym(key, "claim", "X1")[3:] != pseudonym(key, "patient", "X1")[3:]


def test_exceptions_carry_pseudonyms_in_their_values_and_messages(messy_book, tmp_path):
    key = new_key(tmp_path / "k")
    report(messy_book, tmp_path / "d", key)
    folder = tmp_path / "d" / messy_book.stem
    data = (folder / "exceptions.csv").read_bytes()
    exceptions = read(folder, "exceptions.csv")
    assert "ZZ-ORPHAN-77" in real_ids(messy_book)
    orphan = exceptions[exceptions["problem"].str.startswith("no claim line")]
    assert len(orphan) == 1 and len(exceptions[exceptions["problem"].str.startswith("duplicate row")]) == 1
    assert orphan["value"].iloc[0] == repr(expected(key.read_bytes(), b"claim", "CL", "ZZ-ORPHAN-77"))
    for i in real_ids(messy_book):
        assert i.encode() not in data, f"exceptions.csv holds {i}"
    for f in csvs(folder).values():
        assert b"ZZ-ORPHAN-77" not in f

    assert run("report", messy_book, "--csv", tmp_path / "p").exit_code == 0
    assert b"ZZ-ORPHAN-77" in (tmp_path / "p" / messy_book.stem / "exceptions.csv").read_bytes()


@pytest.mark.parametrize("content", [b"", b"short key", os.urandom(33), None],
                         ids=["empty", "short", "long", "folder"])
def test_a_bad_key_file_stops_with_a_message(book, tmp_path, content):
    if content is None:   # a folder where the key should be: unreadable as a file
        key = tmp_path / "keydir"
        key.mkdir()
        result = run("report", book, "--deidentify", "--csv", tmp_path / "out", env={KEY_ENV: str(key)})
    else:
        key = tmp_path / "bad.key"
        key.write_bytes(content)
        result = run("report", book, "--deidentify", "--key-file", key, "--csv", tmp_path / "out")
        assert key.read_bytes() == content, "a bad key must not be replaced"
    assert result.exit_code == 1
    flat = "".join(result.output.split())
    assert "".join(str(key).split()) in flat and "error:" in result.output
    assert not (tmp_path / "out").exists()


def test_without_deidentify_the_csvs_are_todays(book, tmp_path):
    result = run("report", book, "--csv", tmp_path / "r")
    assert result.exit_code == 0, result.output
    lines = read(tmp_path / "r" / book.stem, "lines.csv")
    assert "patient_id" not in lines.columns
    assert set(lines["claim_id"]) == set(read_inputs(book).frames["Claims"]["claim_id"])
    write_csv(book, tmp_path / "w")   # what recalc --csv writes
    assert csvs(tmp_path / "r" / book.stem) == csvs(tmp_path / "w" / book.stem)
    assert not (tmp_path / "home").exists(), "no key is created without --deidentify"
    assert "pseudonym" not in result.output


def test_key_file_needs_deidentify(book, tmp_path):
    result = run("report", book, "--key-file", tmp_path / "k")
    assert result.exit_code == 2 and "--deidentify" in result.output
    assert not (tmp_path / "k").exists()


def test_the_default_key_is_created_once_private_and_reused(book, tmp_path):
    key = Path(click.get_app_dir("payorxl")) / "pseudonym.key"
    assert tmp_path / "home" in key.parents, "the test must not touch the real home"
    assert not key.exists()

    first = report_default(book, tmp_path / "a")
    assert key.exists() and len(key.read_bytes()) == 32
    if sys.platform != "win32":
        assert key.stat().st_mode & 0o777 == 0o600
    assert "created" in first.stderr and "".join(str(key).split()) in "".join(first.stderr.split())
    assert [p.name for p in key.parent.iterdir()] == ["pseudonym.key"], "no temporary file left"

    secret = key.read_bytes()
    second = report_default(book, tmp_path / "b")
    assert key.read_bytes() == secret and "created" not in second.stderr
    assert csvs(tmp_path / "a" / book.stem) == csvs(tmp_path / "b" / book.stem)


def report_default(book, out):
    result = run("report", book, "--deidentify", "--csv", out)
    assert result.exit_code == 0, result.output
    return result


def test_the_environment_names_the_key_and_the_option_wins(book, tmp_path):
    from_env, from_option = tmp_path / "env.key", new_key(tmp_path / "opt.key")
    result = run("report", book, "--deidentify", "--csv", tmp_path / "e", env={KEY_ENV: str(from_env)})
    assert result.exit_code == 0 and from_env.exists() and from_env.stat().st_size == 32
    run("report", book, "--deidentify", "--key-file", from_option, "--csv", tmp_path / "o",
        env={KEY_ENV: str(from_env)})
    e, o = read(tmp_path / "e" / book.stem, "lines.csv"), read(tmp_path / "o" / book.stem, "lines.csv")
    first = read_inputs(book).frames["Claims"].iloc[0]["claim_id"]
    assert expected(from_env.read_bytes(), b"claim", "CL", first) in set(e["claim_id"])
    assert expected(from_option.read_bytes(), b"claim", "CL", first) in set(o["claim_id"])


def test_an_explicit_key_in_a_missing_folder_is_refused(book, tmp_path):
    key = tmp_path / "no-such-folder" / "practice.key"
    result = run("report", book, "--deidentify", "--key-file", key)
    assert result.exit_code == 1 and "does not exist" in result.output
    assert not key.parent.exists()
