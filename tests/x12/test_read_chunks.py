"""A large 835 is read and made into rows a chunk of claims at a time (era835.READ_CHUNK_CLAIMS,
5,000): the frames and the Payments and Adjustments rows are the same, value for value, as
when the whole file is one chunk. Shown with chunks of 2 claims over a remittance of 7,
with several lines, adjustments, a reversal and a PLB."""
import pandas as pd

from payorxl.x12 import era835, read_835, remittance_rows
from x12_helpers import era


def claims() -> list[str]:
    out = []
    for i in range(7):
        out += [f"CLP*C{i}*{4 if i == 3 else 1}*200*{0 if i == 3 else 150}*20*12*P{i}",
                f"CAS*PR*2*{0 if i == 3 else 20}", "NM1*QC*1*DOE*JANE****MI*M1",
                "SVC*HC:99213*120*90**1", "DTM*472*20260301", "REF*6R*1", "CAS*CO*45*30",
                "SVC*HC:36415*80*60**1", "DTM*472*20260301", "REF*6R*2", "CAS*CO*45*10*CO*253*10"]
    out += ["CLP*C0*22*-200*-150**12*P0", "SVC*HC:99213*-120*-90**1", "DTM*472*20260301", "REF*6R*1"]
    return out


def read(chunk: int, monkeypatch):
    monkeypatch.setattr(era835, "READ_CHUNK_CLAIMS", chunk)
    remittance = read_835(era("900", claims(), plb=["PLB*1234567893*20261231*WO:X1*-50"]).encode(), "r.835")
    return remittance, remittance_rows(remittance, "r.835")


def test_chunked_frames_and_rows_equal_the_whole(monkeypatch):
    whole, (pay_w, adj_w) = read(10_000, monkeypatch)
    chunked, (pay_c, adj_c) = read(2, monkeypatch)
    assert len(whole.claims) == 8 and len(pay_w) > 8
    for name in ("claims", "service_lines", "adjustments", "plb", "checks"):
        pd.testing.assert_frame_equal(getattr(chunked, name), getattr(whole, name), check_dtype=False)
    pd.testing.assert_frame_equal(pay_c, pay_w, check_dtype=False)
    pd.testing.assert_frame_equal(adj_c, adj_w, check_dtype=False)
    assert pay_c.attrs.get("remarks", []) == pay_w.attrs.get("remarks", [])
