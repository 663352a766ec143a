"""A 50 MB remittance: read in one pass, and when it is cut off mid-segment the error
names the segment and `payorxl import` leaves the workbook byte for byte as it was."""

import pytest
from script_helpers import load_script

from payorxl import pipeline
from payorxl.importer import import_files
from payorxl.x12 import X12Error, read_835


@pytest.fixture(scope="module")
def big_835():
    text = load_script("benchmarks/x12_bench.py").generate_835(262_000)
    assert len(text) > 50 * 1024 * 1024
    return text


def test_fifty_megabytes_read_and_totals_agree(big_835):
    r = read_835(big_835)
    assert len(r.claims) == 262_000
    # The file's own balancing: sum of CLP04 - PLB = BPR02, per transaction.
    paid = r.claims.groupby("st")["paid"].sum()
    plb = r.plb.groupby("st")["amount"].sum() if len(r.plb) else 0
    bpr = r.checks.set_index("st")["bpr_amount"]
    assert ((paid - plb).reindex(bpr.index).fillna(paid) == bpr).all()


def test_fifty_megabytes_cut_mid_segment_changes_nothing(big_835, tmp_path):
    cut = big_835[: len(big_835) - 1000]
    cut = cut[: cut.rfind("~") + 6]          # end inside a segment, with no IEA
    path = tmp_path / "cut.835"
    path.write_text(cut)
    with pytest.raises(X12Error) as e:
        read_835(cut)
    assert "segment" in str(e.value)
    book = tmp_path / "book.xlsx"
    pipeline.new_workbook(book)
    before = book.read_bytes()
    result = import_files(book, [path])
    assert book.read_bytes() == before
    (failed,) = result.refused
    assert "segment" in failed.message
