"""837P professional claims to rows of the Claims table: `read_837` walks the 837's
hierarchy once, handing each segment to the handler of its segment id. The subscriber loop
(HL 22) gives the payer (NM1*PR), the claim's payer responsibility (SBR01) and the
subscriber's member id (NM1*IL); a patient loop (HL 23) marks a dependent; each CLM starts
a claim and each LX/SV1 a service line. Segments after CLM that look like the subscriber's
(SBR, NM1*IL, NM1*PR) belong to other payers in coordination of benefits (loops 2320/2330)
and do not change the claim's own payer. One row per service line, shaped as model.CLAIMS,
money in integer cents; text is kept exactly as sent.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import model as m, rules
from .segments import Segment, Segments, X12Error, clipped, load_text, quoted, warning
from .values import (
    BadValue,
    Dates,
    cents,
    date_series,
    dollars,
    int_series,
    number,
    table_frame,
    text_series,
    whole_number,
)

# HI qualifiers for diagnosis codes (ICD-10: ABK principal, ABF other; ICD-9: BK, BF).
DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "ABJ", "ABN", "APR", "BK", "BF", "BJ", "BN",
                                  "PR", "DR"})
SECONDARY_PAYER_CODES = frozenset("STABCDEFGH")  # SBR01: secondary, tertiary, 4th..11th
# Patient ID of a claim whose 837 names no member id for its patient (a dependent without
# NM1*QC NM109: 5010 dependents usually have none). Patient ID is required (model.CLAIMS),
# so a blank one would make every line of the claim a conversion error, left out of the
# figures; this constant keeps the claim and is plainly not an identifier. Never CLM01
# (a claim id, not a patient's) nor anything from the patient's name or birth date.
NO_PATIENT_ID = "(not in 837)"
CLAIM_EXTRAS = ("diagnoses", "modifiers", "payer_id", "claim_charge", "st", "segment")


# The records the reader builds. Amounts are cents (None when blank or unreadable), dates
# CCYYMMDD text already checked (None likewise); read_837 converts both.

@dataclass(slots=True)
class Subscriber:
    """The subscriber loop (2000B) the claims that follow belong to, and its patient loop
    (2000C) when the patient is a dependent.

    Attributes:
      payer: NM103 of NM1*PR (loop 2010BB), the payer's name.
      payer_id: NM109 of NM1*PR, the payer's id.
      member_id: NM109 of NM1*IL (loop 2010BA), the subscriber's member id.
      patient_id: NM109 of NM1*QC (loop 2010CA), the patient's own member id, when sent.
      responsibility: SBR01, the payer's place in the order of payment: P, S, T...
      dependent: True after an HL*23: the patient is not the subscriber.
    """
    payer: str = ""
    payer_id: str = ""
    member_id: str = ""
    patient_id: str = ""
    responsibility: str = ""
    dependent: bool = False


@dataclass(slots=True)
class Claim:
    """A claim (loop 2300, from its CLM to the next CLM, HL or SE).

    Attributes:
      claim_id: CLM01, the patient control number.
      charge: CLM02, the total claim charge.
      frequency: CLM05-3, the claim frequency code ("1" when not sent).
      patient_id: The patient's member id (see read_837), else NO_PATIENT_ID.
      payer: The subscriber loop's payer name.
      payer_id: The subscriber loop's payer id.
      claim_type: "Secondary" when SBR01 is S, or T and later payers; else "Primary".
      segment: The CLM's segment number.
      payor_claim_no: REF02 of REF*F8, the payer's number of the claim this one replaces
        or voids.
      diagnoses: The claim's HI codes, comma-joined.
      dos: DTP03 of a claim-level DTP*472: the date of service of lines without their own.
      through: The end of that DTP*472's range, when it is one.
      lines: The claim's service lines, in order.
    """
    claim_id: str
    charge: int | None
    frequency: str
    patient_id: str
    payer: str
    payer_id: str
    claim_type: str
    segment: int
    payor_claim_no: str = ""
    diagnoses: str = ""
    dos: str | None = None
    through: str | None = None
    lines: list = field(default_factory=list)


@dataclass(slots=True)
class ClaimLine:
    """A service line (loop 2400, LX and its SV1): one row of the frame read_837 returns,
    under the same names (read_837's docstring says what each is).

    Attributes:
      claim_id, patient_id, payor, claim_type, frequency, payor_claim_no, diagnoses,
        payer_id: Those of its claim when the SV1 was read.
      line: LX01, else the line's position in the claim.
      cpt: SV101-2, the procedure code.
      modifiers: SV101-3 to SV101-6, the non-blank modifiers, comma-joined.
      units: SV104 as a whole number (1 when blank); None when it is not one.
      dos: DTP03 of the line's DTP*472 (else the claim's): the date of service.
      through_date: The end of that date range, when it is one.
      charge: SV102, the line charge.
      filed_date: BHT04, the file's creation date.
      line_control_no: REF02 of REF*6R, the line item control number.
      pos: SV105, else its claim's CLM05-1: the place of service.
      claim_charge: CLM02 of its claim.
      st: Position of the transaction's ST in the file.
      segment: The SV1's segment number.
    """
    claim_id: str
    line: int
    patient_id: str
    payor: str
    claim_type: str
    frequency: str
    cpt: str
    modifiers: str
    units: int | None
    dos: str | None
    through_date: str | None
    charge: int | None
    filed_date: str | None
    payor_claim_no: str
    diagnoses: str
    payer_id: str
    claim_charge: int | None
    st: int
    segment: int
    line_control_no: str = ""
    pos: str = ""


def pricing_modifier(modifiers: str) -> str:
    """The one modifier the Claims row keeps (comma-joined SV101-3..6 in): the first that
    changes the price (26, TC, 50, 80...), else the first (25, 59, RT...: informational,
    priced at the code's base rate, rules.MODIFIER_SEED), else ""."""
    codes = [c.strip().upper() for c in modifiers.split(",") if c.strip()]
    informational = {code for code, pricing, _, _ in rules.MODIFIER_SEED if pricing == rules.BASE_RATE}
    return next((c for c in codes if c not in informational), codes[0] if codes else "")


def read_837(source: Any, source_name: str | None = None) -> pd.DataFrame:
    """Claim lines of an 837P (text, bytes or path) as a Claims-table frame.

    Columns (model.CLAIMS keys): claim_id (CLM01), line (LX01), patient_id (the
    patient's member id: NM1*QC NM109 when sent, the subscriber's NM1*IL NM109 when the
    subscriber is the patient; else NO_PATIENT_ID with a warning: never CLM01, which
    identifies the claim, nor the subscriber's id for a dependent), payor (NM1*PR name of
    the subscriber loop), claim_type ("Secondary" when SBR01 is S, or T and later
    payers; else "Primary"), frequency (CLM05-3), cpt and modifier (SV101-2 and the first
    of SV101-3..6 that changes the price: `pricing_modifier`), pos (SV105, else CLM05-1),
    units (SV104), dos and through_date (the line's DTP*472; D8 gives a
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
    rows = _Reader837(segments, name, warnings).read()

    def column(attribute: str) -> list:
        return [getattr(row, attribute) for row in rows]

    modifiers = column("modifiers")
    frame = table_frame(m.CLAIMS, {
        "claim_id": text_series(column("claim_id")), "line": int_series(column("line")),
        "patient_id": text_series(column("patient_id")), "payor": text_series(column("payor")),
        "claim_type": text_series(column("claim_type")),
        "frequency": text_series(column("frequency")), "cpt": text_series(column("cpt")),
        "modifier": text_series([pricing_modifier(mods) for mods in modifiers]),
        "pos": text_series(column("pos")),
        "units": int_series(column("units")), "dos": date_series(column("dos")),
        "through_date": date_series(column("through_date")),
        "charge": int_series(column("charge")), "filed_date": date_series(column("filed_date")),
        "payor_claim_no": text_series(column("payor_claim_no")),
        "line_control_no": text_series(column("line_control_no")),
        "diagnoses": text_series(column("diagnoses")), "modifiers": text_series(modifiers),
        "payer_id": text_series(column("payer_id")),
        "claim_charge": int_series(column("claim_charge")),
        "st": pd.Series(column("st"), dtype="int64"),
        "segment": pd.Series(column("segment"), dtype="int64"),
    }, length=len(rows))
    _warn_duplicates(frame, name, warnings)
    frame.attrs["warnings"] = warnings
    frame.attrs["source"] = name
    return frame


class _Reader837:
    """One read of an 837P: the subscriber, claim and line being read, and one method per
    segment id (`_clm` for CLM...), each mapping the elements it uses to names once.
    Segments with no method (N3, DMG, PAT...) carry nothing the Claims table holds."""

    def __init__(self, segments: Segments, source: str, warnings: list):
        self.segments, self.source, self.warnings = segments, source, warnings
        self.dates = Dates()
        self.rows: list[ClaimLine] = []
        self.st = 0                          # transactions so far
        self.filed: str | None = None        # BHT04 of the transaction
        self.subscriber = Subscriber()
        self.claim: Claim | None = None
        self.line: ClaimLine | None = None   # the current service line
        self.lx_number: int | None = None    # LX01 waiting for its SV1
        self.positions = 0                   # service lines seen in the current claim

    def read(self) -> list[ClaimLine]:
        handlers = {"SV1": self._sv1, "DTP": self._dtp, "REF": self._ref, "LX": self._lx,
                    "CLM": self._clm, "HI": self._hi, "NM1": self._nm1, "SBR": self._sbr,
                    "HL": self._hl, "BHT": self._bht, "ST": self._st, "SE": self._se}.get
        for seg in self.segments:
            handler = handlers(seg.elements[0])
            if handler is not None:
                handler(seg)
        for row in self.rows:
            if row.dos is None:
                self.warnings.append(warning(
                    self.source, row.segment, "SV1", "DTP03", None,
                    "the service line has no date of service (DTP*472)",
                    "enter the date of service in the Claims sheet"))
        return self.rows

    def _warn(self, seg: Segment, element: str, value, message: str, fix: str) -> None:
        self.warnings.append(warning(self.source, seg.number, seg.elements[0], element, value,
                                     message, fix))

    def _close_claim(self) -> None:
        """Checks that need the whole claim: its total against its lines, and that it has
        lines at all."""
        claim = self.claim
        if claim is None:
            return
        lines = claim.lines
        total = sum(line.charge or 0 for line in lines)
        if claim.charge is not None and lines and total != claim.charge:
            self.warnings.append(warning(
                self.source, claim.segment, "CLM", "CLM02", dollars(claim.charge),
                f"the claim's total charge CLM02 ({dollars(claim.charge)}) is not the sum of "
                f"its lines' SV102 ({dollars(total)})", "check the claim's lines"))
        if not lines:
            self.warnings.append(warning(self.source, claim.segment, "CLM", "", None,
                                         "the claim has no service lines (SV1); it is left out",
                                         "check that this is an 837P professional claim"))

    # Envelope and hierarchy.

    def _st(self, seg: Segment) -> None:
        e = seg.elements
        kind = e[1] if len(e) > 1 else ""                 # ST01 transaction set: 837
        if kind != "837":
            raise X12Error(f"this transaction is a {clipped(kind) or '(blank)'}, not an 837 claim",
                           "read 835 remittances with read_835; choose the 837 file here",
                           segment=seg.number, segment_id="ST", source=self.source)
        self.st += 1
        self.claim = self.line = self.lx_number = None
        self.filed = None
        self.subscriber = Subscriber()

    def _se(self, seg: Segment) -> None:
        self._close_claim()
        self.claim = self.line = self.lx_number = None

    def _bht(self, seg: Segment) -> None:
        e = seg.elements
        created = e[4] if len(e) > 4 else ""              # BHT04 creation date
        self.filed = None
        if created:
            try:
                self.filed = self.dates.check(created)
            except BadValue:
                self._warn(seg, "BHT04", created, f"BHT04 (creation date) {quoted(created)} is not "
                           "a date", "enter the filed date by hand")

    def _hl(self, seg: Segment) -> None:
        e = seg.elements
        level = e[3] if len(e) > 3 else ""   # HL03 20 billing provider, 22 subscriber, 23 patient
        self._close_claim()
        self.claim = self.line = self.lx_number = None
        if level == "22" or level == "20":
            self.subscriber = Subscriber()
        elif level == "23":
            self.subscriber.patient_id = ""
            self.subscriber.dependent = True

    def _sbr(self, seg: Segment) -> None:
        if self.claim is None:  # after CLM, SBR is another payer's (loop 2320)
            e = seg.elements
            self.subscriber.responsibility = e[1] if len(e) > 1 else ""   # SBR01 P, S, T...

    def _nm1(self, seg: Segment) -> None:
        if self.claim is not None:
            return  # 2310/2330/2420 loops: providers and other payers
        e = seg.elements
        n = len(e)
        entity = e[1] if n > 1 else ""       # NM101 IL subscriber, PR payer, QC patient...
        name = e[3] if n > 3 else ""         # NM103 last or organization name
        identifier = e[9] if n > 9 else ""   # NM109 member or payer id
        subscriber = self.subscriber
        if entity == "IL":
            subscriber.member_id = identifier
        elif entity == "PR":
            subscriber.payer, subscriber.payer_id = name, identifier
        elif entity == "QC":
            subscriber.patient_id = identifier

    # Claims and service lines.

    def _clm(self, seg: Segment) -> None:
        e = seg.elements
        n = len(e)
        claim_id = e[1] if n > 1 else ""      # CLM01 patient control number
        charge_text = e[2] if n > 2 else ""   # CLM02 total charge
        facility = e[5] if n > 5 else ""      # CLM05 place of service:qualifier:frequency
        self._close_claim()
        if not claim_id:
            self._warn(seg, "CLM01", None, "CLM01 (patient control number) is blank",
                       "fix the claim in the practice management system")
        charge = None
        if charge_text:
            try:
                charge = cents(charge_text)
            except BadValue:
                self._warn(seg, "CLM02", charge_text, f"CLM02 (total charge) {quoted(charge_text)} "
                           "is not an amount", "nothing to do: line charges are used")
        place = self.segments.split_components(facility, seg, "CLM05") if facility else []
        frequency = place[2] if len(place) > 2 else ""
        self.claim_pos = place[0] if place else ""     # CLM05-1 place of service
        if frequency and frequency not in m.FREQUENCIES:
            self._warn(seg, "CLM05", frequency, f"claim frequency {quoted(frequency)} is not one of "
                       f"{', '.join(m.FREQUENCIES)}", "pick the frequency in the Claims sheet")
        subscriber = self.subscriber
        # The patient's own id (NM1*QC), else the subscriber's when the subscriber is the
        # patient; a dependent without one gets NO_PATIENT_ID, not the subscriber's id.
        patient_id = subscriber.patient_id if subscriber.dependent else \
            (subscriber.patient_id or subscriber.member_id)
        if not patient_id:
            patient_id = NO_PATIENT_ID
            loop = "NM1*QC" if subscriber.dependent else "NM1*IL"
            self._warn(seg, "", None, f"the claim's patient has no member id ({loop} NM109); "
                       f"Patient ID is {NO_PATIENT_ID!r}",
                       "enter the patient's account number as Patient ID in the Claims sheet")
        self.claim = Claim(
            claim_id, charge, frequency or "1", patient_id, subscriber.payer,
            subscriber.payer_id,
            "Secondary" if subscriber.responsibility in SECONDARY_PAYER_CODES else "Primary",
            seg.number)
        self.line = self.lx_number = None
        self.positions = 0

    def _hi(self, seg: Segment) -> None:
        claim = self.claim
        if claim is not None and self.line is None and self.lx_number is None:
            codes = _diagnoses(self.segments, seg, self._warn)
            claim.diagnoses = ",".join(c for c in (claim.diagnoses, codes) if c)

    def _lx(self, seg: Segment) -> None:
        if self.claim is None:
            self._warn(seg, "", None, "LX outside a claim; ignored", "export the file again")
            return
        e = seg.elements
        text = e[1] if len(e) > 1 else ""                 # LX01 line number
        value = whole_number(text, 1, 99999)
        if value is None:
            self._warn(seg, "LX01", text if len(e) > 1 else None,
                       "LX01 (line number) is not a whole number; numbered by position",
                       "nothing to do")
            value = self.positions + 1
        self.lx_number, self.line = value, None

    def _sv1(self, seg: Segment) -> None:
        claim = self.claim
        if claim is None:
            self._warn(seg, "", None, "SV1 outside a claim (no CLM before it); ignored",
                       "the file's structure is damaged; export it again")
            return
        e = seg.elements
        n = len(e)
        procedure = e[1] if n > 1 else ""     # SV101 HC:code:modifier 1-4
        charge_text = e[2] if n > 2 else ""   # SV102 line charge
        units_text = e[4] if n > 4 else ""    # SV104 units (SV103 says of what: UN, MJ)
        line_pos = e[5] if n > 5 else ""      # SV105 place of service, when it differs from CLM05-1
        self.positions += 1
        if self.lx_number is not None:
            line_number, self.lx_number = self.lx_number, None
        else:
            line_number = self.positions
            self._warn(seg, "", None, "SV1 without its LX line number; numbered by position",
                       "nothing to do")
        composite = self.segments.split_components(procedure, seg, "SV101")
        cpt = composite[1] if len(composite) > 1 else ""
        if not cpt:
            self._warn(seg, "SV101", procedure if n > 1 else None,
                       "SV101 has no procedure code", "enter the CPT by hand")
        units = self._units(seg, units_text)
        charge = None
        if charge_text:
            try:
                charge = cents(charge_text)
            except BadValue:
                self._warn(seg, "SV102", charge_text, f"SV102 (line charge) {quoted(charge_text)} "
                           "is not an amount", "enter the charge by hand")
        else:
            self._warn(seg, "SV102", None, "SV102 (line charge) is blank",
                       "enter the charge by hand")
        self.line = ClaimLine(
            claim.claim_id, line_number, claim.patient_id, claim.payer, claim.claim_type,
            claim.frequency, cpt, ",".join(c for c in composite[2:6] if c), units, claim.dos,
            claim.through, charge, self.filed, claim.payor_claim_no, claim.diagnoses,
            claim.payer_id, claim.charge, self.st, seg.number, pos=line_pos or getattr(self, "claim_pos", ""))
        self.rows.append(self.line)
        claim.lines.append(self.line)

    def _units(self, seg: Segment, text: str) -> int | None:
        """SV104 as a whole number: 1 when blank, None (with a warning) when it is not."""
        if not text:
            return 1
        try:
            value = number(text)
        except BadValue:
            self._warn(seg, "SV104", text, f"SV104 (units) {quoted(text)} is not a number; left blank",
                       "enter the units by hand")
            return None
        if value.is_integer() and value >= 0:
            return int(value)
        self._warn(seg, "SV104", text, f"SV104 (units) {quoted(text)} is not a whole number; "
                   "left blank", "enter the units by hand")
        return None

    def _dtp(self, seg: Segment) -> None:
        e = seg.elements
        n = len(e)
        qualifier = e[1] if n > 1 else ""     # DTP01 472: date of service
        form = e[2] if n > 2 else ""          # DTP02 D8 (a date) or RD8 (a range)
        value = e[3] if n > 3 else ""         # DTP03 the date or range
        claim = self.claim
        if qualifier != "472" or claim is None:
            return
        dos, through = self._service_dates(seg, form, value)
        if self.line is not None:
            self.line.dos, self.line.through_date = dos, through
        else:
            claim.dos, claim.through = dos, through

    def _service_dates(self, seg: Segment, form: str, value: str) -> tuple:
        """(date of service, through date or None) of a DTP*472; (None, None), with a
        warning, when they are not dates."""
        check = self.dates.check
        try:
            if form == "RD8":
                start, _, end = value.partition("-")
                start, end = check(start), check(end)
                if end < start:
                    self._warn(seg, "DTP03", value, "the service date range ends before it "
                               "starts", "check the dates of service")
                return start, (end if end != start else None)
            return check(value), None
        except BadValue:
            self._warn(seg, "DTP03", value, f"DTP03 (date of service) {quoted(value)} is not a date "
                       f"({'CCYYMMDD-CCYYMMDD' if form == 'RD8' else 'CCYYMMDD'})",
                       "enter the date of service in the Claims sheet")
            return None, None

    def _ref(self, seg: Segment) -> None:
        e = seg.elements
        n = len(e)
        qualifier = e[1] if n > 1 else ""     # REF01 6R line item control number, F8 payer's
        value = e[2] if n > 2 else ""         # REF02 the reference
        if self.line is not None:
            if qualifier == "6R":
                self.line.line_control_no = value
        elif self.claim is not None and self.lx_number is None and qualifier == "F8":
            self.claim.payor_claim_no = value


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
                                f"claim {clipped(claim_id)} line {line_no} appears more than once in the "
                                f"file", "keep one of them in the Claims sheet"))
