"""Small X12 texts for the tests, written the way payers and clearinghouses send them.

`interchange` wraps transactions in ISA/GS ... GE/IEA with a correctly padded ISA;
`transaction` wraps segments in ST/SE with the right segment count. Segments are given
as plain strings ("CLP*A1*1*100*80**12*PCN1"), joined with "~".
"""
from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "x12"


def isa(version: str = "00501", repetition: str = "^", component: str = ":",
        element: str = "*") -> str:
    fields = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ",
              "RECEIVER".ljust(15), "240102", "1200", repetition, version, "000000001", "0",
              "P", component]
    text = element.join(fields)
    assert len(text) + 1 == 106, len(text)
    return text


def transaction(segments: list[str], kind: str = "835", control: str = "0001",
                extra: str = "") -> list[str]:
    st = f"ST*{kind}*{control}" + (f"*{extra}" if extra else "")
    return [st, *segments, f"SE*{len(segments) + 2}*{control}"]


def interchange(*transactions: list[str], kind: str = "835", version: str = "00501",
                gs_version: str = "005010X221A1", terminator: str = "~\n") -> str:
    functional = "HP" if kind == "835" else "HC"
    segments = [isa(version, "^" if version == "00501" else "U"),
                f"GS*{functional}*SENDER*RECEIVER*20240102*1200*1*X*{gs_version}"]
    for t in transactions:
        segments.extend(t)
    segments += [f"GE*{len(transactions)}*1", "IEA*1*000000001"]
    return terminator.join(segments) + terminator


def header(amount: str, payer: str = "ACME HEALTH PLAN", trace: str = "CHK1001",
           date: str = "20240115", method: str = "CHK", credit: str = "C") -> list[str]:
    return [f"BPR*I*{amount}*{credit}*{method}************{date}",
            f"TRN*1*{trace}*1999999999",
            "DTM*405*20240114",
            f"N1*PR*{payer}*XV*PAYER01",
            "N1*PE*MAIN STREET CLINIC*XX*1234567893"]


def era(amount: str, claims: list[str], plb: list[str] = (), **kw) -> str:
    """One 835 interchange with one transaction."""
    return interchange(transaction(header(amount, **kw) + ["LX*1"] + list(claims) + list(plb)))


# A small 837P: a subscriber who is the patient (two lines), and a dependent on a
# corrected secondary claim with coordination-of-benefits loops after CLM.
CLAIM_FILE = interchange(transaction([
    "BHT*0019*00*B1*20240110*1200*CH",
    "NM1*41*2*MAIN STREET CLINIC*****46*S1",
    "NM1*40*2*CLEARINGHOUSE*****46*R1",
    "HL*1**20*1",
    "NM1*85*2*MAIN STREET CLINIC*****XX*1234567893",
    # subscriber is the patient
    "HL*2*1*22*0",
    "SBR*P*18*******CI",
    "NM1*IL*1*DOE*JANE****MI*MEM001",
    "NM1*PR*2*ACME HEALTH PLAN*****PI*PAYER01",
    "CLM*PCN100*250***11:B:1*Y*A*Y*Y",
    "HI*ABK:E119*ABF:I10",
    "LX*1", "SV1*HC:99214:25:GT*150*UN*1***1:2", "DTP*472*D8*20240105", "REF*6R*LC100-1",
    "LX*2", "SV1*HC:36415*100*UN*2***1", "DTP*472*RD8*20240105-20240107",
    # a dependent on a secondary claim, corrected (frequency 7)
    "HL*3*1*22*1",
    "SBR*S*01*******CI",
    "NM1*IL*1*ROE*RICHARD****MI*MEM777",
    "NM1*PR*2*SECOND PLAN*****PI*PAYER02",
    "HL*4*3*23*0",
    "PAT*19",
    "NM1*QC*1*ROE*TIMMY",
    "CLM*PCN200*80***11:B:7*Y*A*Y*Y",
    "REF*F8*PAYERCLM55",
    "HI*ABK:J069",
    "SBR*P*18*******CI",                       # other payer (loop 2320): not this claim's
    "NM1*IL*1*ROE*RICHARD****MI*OTHER1",
    "NM1*PR*2*FIRST PLAN*****PI*PAYER03",
    "LX*1", "SV1*HC:99213*80*UN*1***1", "DTP*472*D8*20240108",
], kind="837", extra="005010X222A1"), kind="837", gs_version="005010X222A1")
