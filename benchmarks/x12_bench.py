"""How fast is payorxl's 835 reader, next to pyx12?

Generates a balanced 5010 835 in memory (default 50,000 claims, one or two service lines
each, with claim- and line-level CAS, REF*6R, AMT*B6, LQ remarks and a PLB), then times:

- payorxl: the tokenizer alone (``Segments``), ``read_835``, ``to_payments`` and
  ``balance_835``;
- pyx12 (if installed; it is not a dependency: ``pip install pyx12``): its segment
  reader ``pyx12.x12file.X12Reader`` on the same text, and its full parse and validation
  ``pyx12.x12n_document.x12n_document`` (what ``x12valid`` runs). The full parse takes
  minutes on a large file, so it runs on the first ``--pyx12-claims`` claims (a file of
  its own, generated the same way) and the ratio is taken per claim; the output says so.

Usage: python benchmarks/x12_bench.py [--claims 50000] [--pyx12-claims 2000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import io
import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from payorxl.x12 import Segments, balance_835, read_835, to_payments  # noqa: E402

CPTS = [("99213", 11000, 7500), ("99214", 16000, 11000), ("36415", 2500, 900),
        ("81002", 1500, 450), ("93000", 5500, 1700), ("G0439", 19000, 13000)]


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}".replace(".00", "")


def generate_835(n_claims: int, seed: int = 7) -> str:
    """A balanced 835 with n_claims claims in one transaction."""
    rng = random.Random(seed)
    segs = []
    total = 0
    for i in range(1, n_claims + 1):
        claim_lines = []
        charge_sum = paid_sum = pr_sum = 0
        for line_no in range(1, rng.choice((1, 1, 2)) + 1):
            cpt, charge, allowed = rng.choice(CPTS)
            pr = rng.choice((0, 0, 2000, 3000)) if allowed > 3000 else 0
            paid = allowed - pr
            lines = [f"SVC*HC:{cpt}*{money(charge)}*{money(paid)}**1",
                     f"DTM*472*2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
                     f"CAS*CO*45*{money(charge - allowed)}"]
            if pr:
                lines.append(f"CAS*PR*3*{money(pr)}")
            lines += [f"REF*6R*{line_no}", f"AMT*B6*{money(allowed)}"]
            if rng.random() < 0.2:
                lines.append("LQ*HE*N130")
            claim_lines += lines
            charge_sum += charge
            paid_sum += paid
            pr_sum += pr
        status = "1"
        segs.append(f"CLP*PCN{i:07d}*{status}*{money(charge_sum)}*{money(paid_sum)}*"
                    f"{money(pr_sum) if pr_sum else ''}*12*PAYER{i:09d}*11*1")
        segs.append(f"NM1*QC*1*PATIENT*TEST****MI*M{i:08d}")
        segs += claim_lines
        total += paid_sum
    plb = "PLB*1234567893*20241231*L6:INT*-12.34*WO:RECOUP1*100"
    total = total + 1234 - 10000
    body = ["BPR*I*" + money(total) + "*C*ACH*CCP*01*999999999*DA*123456*1999999999**01*"
            "888888888*DA*654321*20240131",
            "TRN*1*EFT0001*1999999999", "DTM*405*20240130",
            "N1*PR*BENCHMARK HEALTH PLAN*XV*PAYER01", "N3*PO BOX 100", "N4*AUSTIN*TX*78701",
            "PER*BL*EDI SUPPORT*TE*8005551212",
            "N1*PE*MAIN STREET CLINIC*XX*1234567893", "N3*1 MAIN ST", "N4*AUSTIN*TX*78702",
            "REF*TJ*123456789",
            "LX*1", *segs, plb]
    st = ["ST*835*0001", *body, f"SE*{len(body) + 2}*0001"]
    isa = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240131*1200*^*"
           "00501*000000001*0*P*:")
    out = [isa, "GS*HP*SENDER*RECEIVER*20240131*1200*1*X*005010X221A1", *st, "GE*1*1",
           "IEA*1*000000001"]
    return "~\n".join(out) + "~\n"


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def pyx12_reader(text: str) -> int:
    import pyx12.x12file
    count = 0
    for _ in pyx12.x12file.X12Reader(io.StringIO(text)):
        count += 1
    return count


def pyx12_document(text: str) -> bool:
    import pyx12.params
    import pyx12.x12n_document
    params = pyx12.params.params()
    with tempfile.NamedTemporaryFile("w", suffix=".835", delete=False) as f:
        f.write(text)
        name = f.name
    # No 997/999 or HTML output: only the parse and validation are timed (and pyx12 4.0
    # raises an internal EngineError writing a 999 for a valid 835).
    logging.disable(logging.CRITICAL)
    try:
        return pyx12.x12n_document.x12n_document(param=params, src_file=name, fd_997=None,
                                                 fd_html=None, fd_xmldoc=None, map_path=None)
    finally:
        logging.disable(logging.NOTSET)
        os.unlink(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=50_000)
    parser.add_argument("--pyx12-claims", type=int, default=2_000,
                        help="claims in the file given to pyx12's full parse")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    text = generate_835(args.claims)
    n_segments = text.count("~")
    print(f"835 with {args.claims:,} claims: {len(text) / 1e6:.1f} MB, {n_segments:,} segments")

    t_split, _ = best_of(args.repeat, lambda: sum(1 for _ in Segments(text).lists()))
    t_read, remittance = best_of(args.repeat, lambda: read_835(text))
    t_pay, payments = best_of(args.repeat, lambda: to_payments(remittance))
    t_bal, failures = best_of(args.repeat, lambda: balance_835(remittance))
    assert failures.empty, failures.head()
    print(f"payorxl tokenizer          {t_split:8.3f} s  ({len(text) / 1e6 / t_split:.0f} MB/s)")
    print(f"payorxl read_835           {t_read:8.3f} s  "
          f"({len(remittance.claims):,} claims, {len(remittance.service_lines):,} lines)")
    print(f"payorxl to_payments        {t_pay:8.3f} s  ({len(payments):,} rows)")
    print(f"payorxl balance_835        {t_bal:8.3f} s  (balanced)")

    try:
        import pyx12  # noqa: F401
    except ImportError:
        print("pyx12 is not installed: no comparison (pip install pyx12 to compare)")
        return
    t_reader, count = best_of(1, lambda: pyx12_reader(text))
    print(f"pyx12 X12Reader (segments) {t_reader:8.3f} s  ({count:,} segments, full file)")
    print(f"  ratio pyx12 X12Reader / payorxl tokenizer: {t_reader / t_split:6.1f}x")
    print(f"  ratio pyx12 X12Reader / payorxl read_835:  {t_reader / t_read:6.1f}x")

    full = args.pyx12_claims >= args.claims
    n_sub = args.claims if full else args.pyx12_claims
    small = text if full else generate_835(n_sub)
    t_small = t_read if full else best_of(args.repeat, lambda: read_835(small))[0]
    t_doc, ok = best_of(1, lambda: pyx12_document(small))
    what = "the full file" if full else f"a subset of {n_sub:,} claims ({len(small) / 1e6:.2f} MB)"
    print(f"pyx12 x12n_document        {t_doc:8.3f} s  on {what}; valid={ok}; "
          f"payorxl read_835 on it {t_small:.3f} s")
    print(f"  ratio pyx12 x12n_document / payorxl read_835 (same file): {t_doc / t_small:6.1f}x")
    if not full:
        per_claim = t_doc / n_sub
        print(f"  pyx12 x12n_document extrapolated linearly to {args.claims:,} claims: "
              f"~{per_claim * args.claims:,.0f} s (~{per_claim * args.claims / t_read:,.0f}x "
              f"payorxl read_835 on the full file)")

if __name__ == "__main__":
    main()
