"""837P professional claims to rows of the Claims table.

`read_837` walks the 837's hierarchy once: the subscriber loop (HL 22) gives the payer
(NM1*PR), the claim's payer responsibility (SBR01) and the subscriber's member id
(NM1*IL); a patient loop (HL 23) marks a dependent; each CLM starts a claim and each
LX/SV1 a service line. Segments after CLM that look like the subscriber's (SBR, NM1*IL,
NM1*PR) belong to other payers in coordination of benefits (loops 2320/2330) and do not
change the claim's own payer. One row per service line, shaped as model.CLAIMS, money in
integer cents; text is kept exactly as sent.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from .. import model as m
from .segments import Segments, X12Error, load_text, warning
from .values import (BadValue, Dates, cents, date_series, dollars, int_series, number,
                     table_frame, text_series, whole_number)

# HI qualifiers for diagnosis codes (ICD-10: ABK principal, ABF other; ICD-9: BK, BF).
DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "ABJ", "ABN", "APR", "BK", "BF", "BJ", "BN",
                                  "PR", "DR"})
SECONDARY_PAYER_CODES = frozenset("STABCDEFGH")  # SBR01: secondary, tertiary, 4th..11th
CLAIM_EXTRAS = ("diagnoses", "modifiers", "payer_id", "claim_charge", "st", "segment")


def read_837(source: Any, source_name: str | None = None) -> pd.DataFrame:
    """Claim lines of an 837P (text, bytes or path) as a Claims-table frame.

    Columns (model.CLAIMS keys): claim_id (CLM01), line (LX01), patient_id (the
    patient's member id: NM1*QC NM109 when sent, the subscriber's NM1*IL NM109 when the
    subscriber is the patient; else the patient control number CLM01, because a
    dependent without an id of their own shares the subscriber's), payor (NM1*PR name of
    the subscriber loop), claim_type ("Secondary" when SBR01 is S, or T and later
    payers; else "Primary"), frequency (CLM05-3), cpt and modifier (SV101-2 and the first
    modifier SV101-3), units (SV104), dos and through_date (the line's DTP*472; D8 gives a
    dos only, RD8 a range), charge (SV102), filed_date (BHT04, the file's creation date),
    payor_claim_no (REF*F8, the payer's number of the claim a replacement or void
    refers to), line_control_no (REF*6R); blank primary/original remit dates.
    Extra columns: diagnoses (HI codes, comma-joined), modifiers (all, comma-joined),
    payer_id (NM1*PR NM109), claim_charge (CLM02), st, segment (of the SV1).

    Warnings (DataError) are in ``frame.attrs["warnings"]``. Raises X12Error when the
    file is not readable X12 or holds a transaction that is not an 837.
    """
    text, name = load_text(source)
    name = source_name or name or "837"
    warnings: list = []
    segments = Segments(text, name, warnings)
    rows = _read(segments, name, warnings)
    columns = list(zip(*rows)) if rows else [()] * 19
    (claim_id, line, patient_id, payor, claim_type, frequency, cpt, modifiers, units, dos,
     through, charge, filed, payor_claim_no, line_control, diagnoses, payer_id, claim_charge,
     st_seg) = columns
    frame = table_frame(m.CLAIMS, {
        "claim_id": text_series(claim_id), "line": int_series(line),
        "patient_id": text_series(patient_id), "payor": text_series(payor),
        "claim_type": text_series(claim_type), "frequency": text_series(frequency),
        "cpt": text_series(cpt),
        "modifier": text_series([mods.split(",")[0] for mods in modifiers]),
        "units": int_series(units), "dos": date_series(dos),
        "through_date": date_series(through), "charge": int_series(charge),
        "filed_date": date_series(filed), "payor_claim_no": text_series(payor_claim_no),
        "line_control_no": text_series(line_control),
        "diagnoses": text_series(diagnoses), "modifiers": text_series(modifiers),
        "payer_id": text_series(payer_id), "claim_charge": int_series(claim_charge),
        "st": pd.Series([s for s, _ in st_seg], dtype="int64"),
        "segment": pd.Series([g for _, g in st_seg], dtype="int64"),
    }, length=len(rows))
    _warn_duplicates(frame, name, warnings)
    frame.attrs["warnings"] = warnings
    frame.attrs["source"] = name
    return frame


def _read(segments: Segments, source: str, warnings: list) -> list:
    dates = Dates()
    rows: list = []
    st = 0
    filed = None
    payer = payer_id = subscriber_id = patient_id = sbr = ""
    dependent = False
    claim: dict | None = None
    line: list | None = None   # the current service line's row
    lx_number = None           # LX01 waiting for its SV1
    positions = 0              # service lines seen in the current claim

    def warn(seg, element, value, message, fix):
        warnings.append(warning(source, seg.number, seg.elements[0], element, value, message, fix))

    def close_claim():
        if claim is None:
            return
        lines = claim["rows"]
        total = sum(r[11] or 0 for r in lines)
        if claim["charge"] is not None and lines and total != claim["charge"]:
            warnings.append(warning(
                source, claim["segment"], "CLM", "CLM02", dollars(claim["charge"]),
                f"the claim's total charge CLM02 ({dollars(claim['charge'])}) is not the sum of "
                f"its lines' SV102 ({dollars(total)})", "check the claim's lines"))
        if not lines:
            warnings.append(warning(source, claim["segment"], "CLM", "", None,
                                    "the claim has no service lines (SV1); it is left out",
                                    "check that this is an 837P professional claim"))

    for seg in segments:
        e = seg.elements
        sid = e[0]
        n = len(e)
        if sid == "SV1":
            if claim is None:
                warn(seg, "", None, "SV1 outside a claim (no CLM before it); ignored",
                     "the file's structure is damaged; export it again")
                continue
            positions += 1
            if lx_number is not None:
                number_from_lx, lx_number = lx_number, None
            else:
                number_from_lx = positions
                warn(seg, "", None, "SV1 without its LX line number; numbered by position",
                     "nothing to do")
            composite = segments.split_components(e[1] if n > 1 else "", seg, "SV101")
            cpt = composite[1] if len(composite) > 1 else ""
            if not cpt:
                warn(seg, "SV101", e[1] if n > 1 else None, "SV101 has no procedure code",
                     "enter the CPT by hand")
            units = 1
            if n > 4 and e[4]:
                try:
                    value = number(e[4])
                    if value.is_integer() and value >= 0:
                        units = int(value)
                    else:
                        units = None
                        warn(seg, "SV104", e[4], f"SV104 (units) {e[4]!r} is not a whole number; "
                             "left blank", "enter the units by hand")
                except BadValue:
                    units = None
                    warn(seg, "SV104", e[4], f"SV104 (units) {e[4]!r} is not a number; left blank",
                         "enter the units by hand")
            charge = None
            if n > 2 and e[2]:
                try:
                    charge = cents(e[2])
                except BadValue:
                    warn(seg, "SV102", e[2], f"SV102 (line charge) {e[2]!r} is not an amount",
                         "enter the charge by hand")
            else:
                warn(seg, "SV102", None, "SV102 (line charge) is blank", "enter the charge by hand")
            # Row layout follows read_837's unpacking; [19] is the SV1's segment number.
            line = [claim["claim_id"], number_from_lx, claim["patient_id"], claim["payer"],
                    claim["claim_type"], claim["frequency"], cpt,
                    ",".join(c for c in composite[2:6] if c), units, claim["dos"],
                    claim["through"], charge, filed, claim["payor_claim_no"], "",
                    claim["diagnoses"], claim["payer_id"], claim["charge"],
                    (st, seg.number), seg.number]
            rows.append(line)
            claim["rows"].append(line)
        elif sid == "DTP":
            qualifier = e[1] if n > 1 else ""
            if qualifier != "472" or claim is None:
                continue
            dos, through = _service_dates(seg, e, dates, warn)
            if line is not None:
                line[9], line[10] = dos, through
            else:
                claim["dos"], claim["through"] = dos, through
        elif sid == "REF":
            qualifier = e[1] if n > 1 else ""
            value = e[2] if n > 2 else ""
            if line is not None:
                if qualifier == "6R":
                    line[14] = value
            elif claim is not None and lx_number is None and qualifier == "F8":
                claim["payor_claim_no"] = value
        elif sid == "LX":
            if claim is None:
                warn(seg, "", None, "LX outside a claim; ignored", "export the file again")
                continue
            value = whole_number(e[1] if n > 1 else "", 1, 99999)
            if value is None:
                warn(seg, "LX01", e[1] if n > 1 else None,
                     "LX01 (line number) is not a whole number; numbered by position",
                     "nothing to do")
                value = positions + 1
            lx_number, line = value, None
        elif sid == "CLM":
            close_claim()
            claim_id = e[1] if n > 1 else ""
            if not claim_id:
                warn(seg, "CLM01", None, "CLM01 (patient control number) is blank",
                     "fix the claim in the practice management system")
            charge = None
            if n > 2 and e[2]:
                try:
                    charge = cents(e[2])
                except BadValue:
                    warn(seg, "CLM02", e[2], f"CLM02 (total charge) {e[2]!r} is not an amount",
                         "nothing to do: line charges are used")
            facility = segments.split_components(e[5], seg, "CLM05") if n > 5 and e[5] else []
            frequency = facility[2] if len(facility) > 2 else ""
            if frequency and frequency not in m.FREQUENCIES:
                warn(seg, "CLM05", frequency, f"claim frequency {frequency!r} is not one of "
                     f"{', '.join(m.FREQUENCIES)}", "pick the frequency in the Claims sheet")
            if not frequency:
                frequency = "1"
            own_id = patient_id if dependent else (patient_id or subscriber_id)
            claim = {"claim_id": claim_id, "charge": charge, "frequency": frequency,
                     "patient_id": own_id or claim_id, "payer": payer, "payer_id": payer_id,
                     "claim_type": "Secondary" if sbr in SECONDARY_PAYER_CODES else "Primary",
                     "payor_claim_no": "", "diagnoses": "", "dos": None, "through": None,
                     "segment": seg.number, "rows": []}
            line = lx_number = None
            positions = 0
        elif sid == "HI":
            if claim is not None and line is None and lx_number is None:
                codes = _diagnoses(segments, seg, warn)
                claim["diagnoses"] = ",".join(c for c in (claim["diagnoses"], codes) if c)
        elif sid == "NM1":
            if claim is not None:
                continue  # 2310/2330/2420 loops: providers and other payers
            qualifier = e[1] if n > 1 else ""
            if qualifier == "IL":
                subscriber_id = e[9] if n > 9 else ""
            elif qualifier == "PR":
                payer = e[3] if n > 3 else ""
                payer_id = e[9] if n > 9 else ""
            elif qualifier == "QC":
                patient_id = e[9] if n > 9 else ""
        elif sid == "SBR":
            if claim is None:
                sbr = e[1] if n > 1 else ""
        elif sid == "HL":
            close_claim()
            claim = line = lx_number = None
            level = e[3] if n > 3 else ""
            if level == "22":
                payer = payer_id = subscriber_id = patient_id = sbr = ""
                dependent = False
            elif level == "23":
                patient_id = ""
                dependent = True
            elif level == "20":
                payer = payer_id = subscriber_id = patient_id = sbr = ""
                dependent = False
        elif sid == "BHT":
            filed = None
            if n > 4 and e[4]:
                try:
                    filed = dates.check(e[4])
                except BadValue:
                    warn(seg, "BHT04", e[4], f"BHT04 (creation date) {e[4]!r} is not a date",
                         "enter the filed date by hand")
        elif sid == "ST":
            kind = e[1] if n > 1 else ""
            if kind != "837":
                raise X12Error(f"this transaction is a {kind or '(blank)'}, not an 837 claim",
                               "read 835 remittances with read_835; choose the 837 file here",
                               segment=seg.number, segment_id="ST", source=source)
            st += 1
            claim = line = lx_number = None
            filed = None
            payer = payer_id = subscriber_id = patient_id = sbr = ""
            dependent = False
        elif sid == "SE":
            close_claim()
            claim = line = lx_number = None
    for r in rows:
        if r[9] is None:
            warnings.append(warning(source, r[19], "SV1", "DTP03", None,
                                    "the service line has no date of service (DTP*472)",
                                    "enter the date of service in the Claims sheet"))
    return [r[:19] for r in rows]


def _service_dates(seg, e, dates: Dates, warn) -> tuple:
    form = e[2] if len(e) > 2 else ""
    value = e[3] if len(e) > 3 else ""
    try:
        if form == "RD8":
            start, _, end = value.partition("-")
            start, end = dates.check(start), dates.check(end)
            if end < start:
                warn(seg, "DTP03", value, "the service date range ends before it starts",
                     "check the dates of service")
            return start, (end if end != start else None)
        return dates.check(value), None
    except BadValue:
        warn(seg, "DTP03", value, f"DTP03 (date of service) {value!r} is not a date "
             f"({'CCYYMMDD-CCYYMMDD' if form == 'RD8' else 'CCYYMMDD'})",
             "enter the date of service in the Claims sheet")
        return None, None


def _diagnoses(segments: Segments, seg, warn) -> str:
    """The codes of an HI segment, in order. Each element should be a composite
    "ABK:E119"; a qualifier sent as its own element followed by the code ("BK*8901", seen
    in some files) is read as one pair, with a warning."""
    codes = []
    elements = seg.elements[1:]
    i = 0
    split_warned = False
    while i < len(elements):
        value = elements[i]
        comp = segments.split_components(value, seg, f"HI{i + 1:02d}") if value else []
        if len(comp) > 1:
            if comp[1]:
                codes.append(comp[1])
        elif value in DIAGNOSIS_QUALIFIERS and i + 1 < len(elements) \
                and segments.delimiters.component not in elements[i + 1]:
            codes.append(elements[i + 1])
            if not split_warned:
                warn(seg, f"HI{i + 1:02d}", value, "diagnosis qualifier and code are separate "
                     "elements instead of one composite; read as a pair",
                     "ask the sender to join them with the component separator")
                split_warned = True
            i += 1
        elif value:
            codes.append(value)
        i += 1
    return ",".join(codes)


def _warn_duplicates(frame: pd.DataFrame, source: str, warnings: list) -> None:
    dup = frame[frame.duplicated(["claim_id", "line"], keep="first")]
    for claim_id, line_no, seg_no in zip(dup["claim_id"], dup["line"], dup["segment"]):
        warnings.append(warning(source, int(seg_no), "SV1", "", None,
                                f"claim {claim_id} line {line_no} appears more than once in the "
                                f"file", "keep one of them in the Claims sheet"))
