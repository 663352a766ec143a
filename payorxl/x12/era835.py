"""835 remittance advice to frames: `read_835` walks the segments once, handing each to the
handler of its segment id, which fills the record being built (a check per ST/BPR, a
claim per CLP, a service line per SVC) or adds finished rows (an adjustment per CAS
reason, a provider-level adjustment per PLB pair); `to_payments` turns the frames into
Payments-table rows, one per service line, the way a biller posts an EOB. Amounts are
integer cents and keep the 835's signs (a reversal, CLP02 = 22, is negative; a positive
PLB amount reduces the payment, so BPR02 = sum of CLP04 − sum of PLB amounts); dates are
``datetime64[ns]``; text is kept exactly as sent; every row keeps the number of its
segment. A value an element should not hold becomes a warning and the read goes on; only
a file that is not readable X12 raises `X12Error`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .. import model as m, rules
from .segments import Segment, Segments, X12Error, clipped, load_text, quoted, warning
from .values import BadValue, Dates, cents, number as number_value, record_frame as _frame, table_frame, whole_number

# A REF*6R that is a small whole number is the claim's line number; a larger one is an id.
MAX_LINE_NUMBER = 999
# Claims read (with their lines and adjustments) before their records become frame rows,
# and claims made into Payments and Adjustments rows at a time (remittance_rows): what a
# large file costs beyond its frames stays that of a chunk.
READ_CHUNK_CLAIMS = 5_000
# Claim-level DTM01 qualifiers: the Claim attribute the date goes to, and what it is.
_CLAIM_DATES = {"232": ("statement_from", "statement from date"),
                "233": ("statement_to", "statement to date"),
                "050": ("received_date", "claim received date")}
# Where the remark codes are: MOA03-MOA07, and MIA05 and MIA20-MIA23.
_MOA_REMARKS = (3, 4, 5, 6, 7)
_MIA_REMARKS = (5, 20, 21, 22, 23)

CHECK_COLUMNS = (
    ("st", "int"), ("st_control", "text"), ("version", "text"), ("release", "text"),
    ("bpr_amount", "money"), ("credit_debit", "text"), ("method", "text"),
    ("payment_date", "date"), ("production_date", "date"), ("trace_number", "text"),
    ("payer_name", "text"), ("payer_id", "text"), ("payee_name", "text"),
    ("payee_npi", "text"), ("payee_id", "text"), ("segment", "int"))
CLAIM_COLUMNS = (
    ("st", "int"), ("claim_seq", "int"), ("claim_id", "text"), ("status", "text"),
    ("charge", "money"), ("paid", "money"), ("patient_resp", "money"),
    ("filing_indicator", "text"), ("payer_claim_no", "text"), ("facility_code", "text"),
    ("frequency", "text"), ("statement_from", "date"), ("statement_to", "date"),
    ("received_date", "date"), ("rarc", "text"), ("interest", "money"), ("segment", "int"))
ADJUSTMENT_COLUMNS = (
    ("st", "int"), ("claim_seq", "int"), ("claim_id", "text"), ("level", "text"),
    ("line_seq", "int"), ("group", "text"), ("reason", "text"), ("amount", "money"),
    ("quantity", "float"), ("segment", "int"))
LINE_COLUMNS = (
    ("st", "int"), ("claim_seq", "int"), ("claim_id", "text"), ("line_seq", "int"),
    ("qualifier", "text"), ("cpt", "text"), ("modifiers", "text"), ("charge", "money"),
    ("paid", "money"), ("revenue_code", "text"), ("units", "float"), ("billed_cpt", "text"),
    ("service_date", "date"), ("service_from", "date"), ("service_to", "date"),
    ("line_control_no", "text"), ("allowed", "money"), ("remarks", "text"), ("segment", "int"))
PLB_COLUMNS = (
    ("st", "int"), ("provider_id", "text"), ("fiscal_period_end", "date"), ("reason", "text"),
    ("reference", "text"), ("amount", "money"), ("segment", "int"))


@dataclass
class Remittance:
    """One 835 file, as frames (money in integer cents, dates datetime64[ns]).

    checks: one row per transaction (ST/BPR): st (1-based position of the ST in the
        file), st_control (ST02), version (GS08, e.g. 005010X221A1), release ("5010",
        "4010" or ""), bpr_amount (BPR02), credit_debit (BPR03, C or D), method (BPR04:
        ACH, CHK, NON...), payment_date (BPR16), production_date (DTM*405), trace_number
        (TRN02, the check or EFT number), payer_name / payer_id (N1*PR N102 / N104, else
        REF*2U), payee_name / payee_npi / payee_id (N1*PE N102, N104 when N103 is XX,
        N104), segment (of the ST).
    claims: one row per CLP: st, claim_seq (1-based across the file), claim_id (CLP01,
        the patient control number), status (CLP02), charge (CLP03), paid (CLP04),
        patient_resp (CLP05), filing_indicator (CLP06), payer_claim_no (CLP07),
        facility_code (CLP08), frequency (CLP09), statement_from / statement_to
        (DTM*232/233), received_date (DTM*050), rarc (first MOA/MIA remark code),
        trace_number (of its check), segment.
    adjustments: one row per CAS reason: st, claim_seq, claim_id, level ("claim" or
        "line"), line_seq (0 at claim level), group (CO, PR, OA, PI, CR), reason (CARC),
        amount, quantity, segment.
    service_lines: one row per SVC: st, claim_seq, claim_id, line_seq (position in the
        claim), line (REF*6R when a whole number up to 999, else line_seq), qualifier
        (HC, NU...), cpt, modifiers (comma-joined), charge (SVC02), paid (SVC03),
        revenue_code (SVC04), units (SVC05, default 1), billed_cpt (SVC06 when the payer
        changed the code, else cpt), service_date (DTM*472, else 150), service_from /
        service_to (DTM*150/151), line_control_no (REF*6R), allowed (AMT*B6), remarks
        (LQ*HE codes, comma-joined), segment.
    plb: one row per PLB adjustment: st, provider_id (PLB01), fiscal_period_end (PLB02),
        reason (L6 interest, WO overpayment recovery, FB forwarding balance, 72
        authorized return, CS adjustment...), reference, amount (positive reduces the
        payment, so interest paid to the provider, L6, is negative and a recoupment, WO
        or 72, positive), segment.
    warnings: DataError warnings (values that could not be read, counts that disagree).
    source: the file name the rows came from.
    """
    checks: pd.DataFrame
    claims: pd.DataFrame
    adjustments: pd.DataFrame
    service_lines: pd.DataFrame
    plb: pd.DataFrame
    warnings: list = field(default_factory=list)
    source: str = ""


# The records the reader builds, one per row of a Remittance frame. Amounts are cents
# (None when not sent or unreadable), dates CCYYMMDD text already checked (None likewise);
# the frames convert both. `segment` is always the number of the segment the row starts at.

@dataclass(slots=True)
class Check:
    """A transaction (ST ... SE): the payment it reports, its payer and payee.

    Attributes:
      st: The 1-based position of this ST in the file.
      st_control: ST02, the transaction set control number.
      version: GS08 (else ST03), the implementation guide: 005010X221A1...
      release: "5010", "4010" or "", from version, else from ISA12.
      bpr_amount: BPR02, the total payment.
      credit_debit: BPR03, C (credit) or D (debit).
      method: BPR04, the payment method: ACH, CHK, NON...
      payment_date: BPR16, the check issue or EFT effective date.
      production_date: DTM02 of DTM*405, when the payer produced the remittance.
      trace_number: TRN02 of the first TRN: the check or EFT number.
      payer_name: N102 of N1*PR.
      payer_id: N104 of N1*PR, else REF02 of a REF*2U in the payer's loop.
      payee_name: N102 of N1*PE.
      payee_npi: N104 of N1*PE when N103 is XX (an NPI), else "".
      payee_id: N104 of N1*PE, whatever its qualifier.
      segment: The ST's segment number.
    """
    st: int
    st_control: str
    version: str
    release: str
    segment: int
    bpr_amount: int | None = None
    credit_debit: str = ""
    method: str = ""
    payment_date: str | None = None
    production_date: str | None = None
    trace_number: str = ""
    payer_name: str = ""
    payer_id: str = ""
    payee_name: str = ""
    payee_npi: str = ""
    payee_id: str = ""


@dataclass(slots=True)
class Claim:
    """A claim payment (loop 2100, from its CLP to the next CLP, LX, PLB or SE).

    Attributes:
      st: Position of the transaction's ST in the file.
      claim_seq: 1-based position of the claim in the file.
      claim_id: CLP01, the patient control number the provider sent on the claim.
      status: CLP02, the claim status code (1 processed as primary, 4 denied, 22 reversal...).
      charge: CLP03, the total claim charge.
      paid: CLP04, the claim payment.
      patient_resp: CLP05, the patient responsibility; None when blank.
      filing_indicator: CLP06, the claim filing indicator (12 PPO, MC Medicaid...).
      payer_claim_no: CLP07, the payer's claim control number.
      facility_code: CLP08, the place of service or facility type.
      frequency: CLP09, the claim frequency code.
      statement_from: DTM*232, start of the claim's statement period.
      statement_to: DTM*233, end of the claim's statement period.
      received_date: DTM*050, when the payer received the claim.
      rarc: The first remark code of the claim's MOA or MIA, else "".
      interest: AMT02 of the claim's AMT*I, the prompt-pay interest paid with it; None if not sent.
      segment: The CLP's segment number.
    """
    st: int
    claim_seq: int
    claim_id: str
    status: str
    charge: int | None
    paid: int | None
    patient_resp: int | None
    filing_indicator: str
    payer_claim_no: str
    facility_code: str
    frequency: str
    segment: int
    statement_from: str | None = None
    statement_to: str | None = None
    received_date: str | None = None
    rarc: str = ""
    interest: int | None = None


@dataclass(slots=True)
class ServiceLine:
    """A service line payment (loop 2110, from its SVC to the next SVC or the claim's end).

    Attributes:
      st: Position of the transaction's ST in the file.
      claim_seq: claim_seq of the claim it belongs to.
      claim_id: CLP01 of that claim.
      line_seq: 1-based position of the SVC in its claim.
      qualifier: SVC01-1, the code list of the procedure: HC (CPT/HCPCS), NU (revenue)...
      cpt: SVC01-2, the procedure code paid.
      modifiers: SVC01-3 to SVC01-6, the non-blank modifiers, comma-joined.
      charge: SVC02, the line charge.
      paid: SVC03, the line payment.
      revenue_code: SVC04, the NUBC revenue code.
      units: SVC05, the units paid (1 when blank).
      billed_cpt: SVC06-2, the procedure billed when the payer paid another one, else cpt.
      service_date: DTM*472, the date of service.
      service_from: DTM*150, start of the service period.
      service_to: DTM*151, end of the service period.
      line_control_no: REF*6R REF02, the line item control number the provider sent.
      allowed: AMT*B6 AMT02, the allowed amount; None when not sent.
      remarks: The LQ*HE remark codes (LQ02), comma-joined.
      segment: The SVC's segment number.
    """
    st: int
    claim_seq: int
    claim_id: str
    line_seq: int
    qualifier: str
    cpt: str
    modifiers: str
    charge: int | None
    paid: int | None
    revenue_code: str
    units: float
    billed_cpt: str
    segment: int
    service_date: str | None = None
    service_from: str | None = None
    service_to: str | None = None
    line_control_no: str = ""
    allowed: int | None = None
    remarks: str = ""


class Adjustment(NamedTuple):
    """One reason of a CAS: an amount the payer did not pay, and why.

    Attributes:
      st: Position of the transaction's ST in the file.
      claim_seq: claim_seq of the claim.
      claim_id: CLP01 of the claim.
      level: "line" when the CAS follows an SVC, else "claim".
      line_seq: line_seq of the service line; 0 at claim level.
      group: CAS01, the claim adjustment group code: CO, PR, OA, PI, CR.
      reason: CAS02 (or CAS05, CAS08...), the claim adjustment reason code (CARC).
      amount: CAS03 (or CAS06, CAS09...), the amount adjusted.
      quantity: CAS04 (or CAS07, CAS10...), the units adjusted; None when blank.
      segment: The CAS's segment number.
    """
    st: int
    claim_seq: int
    claim_id: str
    level: str
    line_seq: int
    group: str
    reason: str
    amount: int | None
    quantity: float | None
    segment: int


class ProviderAdjustment(NamedTuple):
    """One reason and amount of a PLB: money added to or taken from the whole payment.

    Attributes:
      st: Position of the transaction's ST in the file.
      provider_id: PLB01, the provider identifier.
      fiscal_period_end: PLB02, the last day of the provider's fiscal year.
      reason: PLB03-1 (or PLB05-1...), the adjustment reason: L6 interest, WO overpayment
        recovery, FB forwarding balance, 72 authorized return, CS adjustment...
      reference: PLB03-2 (or PLB05-2...), the payer's reference for it, else "".
      amount: PLB04 (or PLB06...): positive reduces the payment.
      segment: The PLB's segment number.
    """
    st: int
    provider_id: str
    fiscal_period_end: str | None
    reason: str
    reference: str
    amount: int | None
    segment: int


# CAS is the most frequent segment of an 835: its rows are made with tuple.__new__ (fields
# in order), which costs half of calling Adjustment(...).
_adjustment = partial(tuple.__new__, Adjustment)


def read_835(source: Any, source_name: str | None = None) -> Remittance:
    """Read an 835 remittance from its text, bytes or path.

    Raises X12Error when the file is not readable X12 (or holds a transaction that is
    not an 835); everything else is read, with warnings."""
    text, name = load_text(source)
    name = source_name or name or "835"
    warnings: list = []
    segments = Segments(text, name, warnings)
    del text                  # Segments keeps the text it splits (a copy when it removed newlines)
    return _Reader835(segments, name, warnings).read()


class _Reader835:
    """One read of an 835: the records under construction, where the read is in the loops,
    and one method per segment id (`_clp` for CLP...), each mapping the elements it uses to
    names once. Segments with no method (NM1, N3, PER...) carry nothing the frames hold."""

    def __init__(self, segments: Segments, source: str, warnings: list):
        self.segments, self.source, self.warnings = segments, source, warnings
        self.checks: list[Check] = []
        self.claims: list[Claim] = []
        self.adjustments: list[Adjustment] = []
        self.lines: list[ServiceLine] = []
        self.plbs: list[ProviderAdjustment] = []
        # The claims, lines and adjustments read so far: the records not yet made frame
        # rows, and the frames made of the others (_flush), one per chunk.
        self.chunked: tuple[tuple[str, list, tuple, list[pd.DataFrame]], ...] = (
            ("claims", self.claims, CLAIM_COLUMNS, []), ("service_lines", self.lines, LINE_COLUMNS, []),
            ("adjustments", self.adjustments, ADJUSTMENT_COLUMNS, []))
        self.check: Check | None = None      # the transaction being read
        self.claim: Claim | None = None      # its current claim (None between claims)
        self.line: ServiceLine | None = None  # the claim's current service line
        self.st = 0                          # transactions so far
        self.claim_seq = 0                   # claims so far, across the file
        self.line_seq = 0                    # service lines so far in the current claim
        self.number = 0                      # the segment being read
        self.entity = ""                     # N101 of the N1 loop we are in: PR payer, PE payee
        self.isa_version = self.gs_version = ""
        self.split = segments.split_components
        self.component = segments.delimiters.component
        self.statuses = set(m.CLAIM_STATUS_CODES)
        self.groups = set(m.GROUP_CODES)
        # Remittances repeat the same few amounts, dates and units thousands of times:
        # each distinct text is converted (and checked) once.
        self.amounts: dict[str, int] = {}
        self.check_date = Dates().check
        self.good_dates: set[str] = set()
        self.units_seen: dict[str, float] = {"": 1.0, "1": 1.0}

    def read(self) -> Remittance:
        handlers = {"CAS": self._cas, "DTM": self._dtm, "SVC": self._svc, "REF": self._ref,
                    "AMT": self._amt, "CLP": self._clp, "LQ": self._lq, "MOA": self._moa,
                    "MIA": self._mia, "N1": self._n1, "LX": self._lx, "PLB": self._plb,
                    "BPR": self._bpr, "TRN": self._trn, "ST": self._st, "SE": self._se,
                    "GS": self._gs, "ISA": self._isa}.get
        number = 0
        for e in self.segments.lists():
            number += 1
            handler = handlers(e[0])
            if handler is not None:
                self.number = number
                handler(e)
        return self._remittance()

    def _flush(self) -> None:
        """The finished claims, lines and adjustments as frames, and the records let go: a
        record costs several times its row, and each distinct text of a chunk is kept once (a
        remittance repeats the same codes: a str object per row costs ~50 bytes, its
        reference 8)."""
        for _, records, spec, frames in self.chunked:
            if not records:
                continue
            frame = _frame(records, spec)
            records.clear()
            seen: dict[str, str] = {}
            for name in frame.columns:
                if frame[name].dtype == object:
                    frame[name] = pd.Series([seen.setdefault(v, v) for v in frame[name].tolist()], dtype=object)
            frames.append(frame)

    def _remittance(self) -> Remittance:
        self._flush()
        frames = dict(checks=_frame(self.checks, CHECK_COLUMNS), plb=_frame(self.plbs, PLB_COLUMNS))
        for name, _, spec, chunks in self.chunked:
            frames[name] = concat_rows(chunks) if chunks else _frame([], spec)
        traces = {check.st: check.trace_number for check in self.checks}
        claims = frames["claims"]
        claims.insert(len(claims.columns) - 1, "trace_number",
                      pd.Series([traces[st] for st in claims["st"].tolist()], dtype=object))
        sl = frames["service_lines"]
        sl.insert(4, "line", line_numbers(sl["line_control_no"], sl["line_seq"]))
        sl["service_date"] = sl["service_date"].fillna(sl["service_from"])
        return Remittance(warnings=self.warnings, source=self.source, **frames)

    # Values. Element names are the segment id and a two-digit position (CLP04), so a
    # warning about an element names its segment too.

    def _warn(self, segment_id: str, element: str, value, message: str, fix: str) -> None:
        self.warnings.append(warning(self.source, self.number, segment_id, element, value,
                                     message, fix))

    def _money(self, text: str, element: str, what: str) -> int | None:
        """Cents of an amount element's text; None, with a warning, when it is blank or not
        an amount."""
        value = self.amounts.get(text)
        if value is not None:
            return value
        if not text:
            self._warn(element[:-2], element, None, f"{element} ({what}) is blank; taken as 0",
                       "ask the payer for a corrected remittance")
            return None
        try:
            value = self.amounts[text] = cents(text)
            return value
        except BadValue:
            self._warn(element[:-2], element, text,
                       f"{element} ({what}) {quoted(text)} is not an amount; taken as 0",
                       "ask the payer for a corrected remittance; post this one by hand")
            return None

    def _date(self, text: str, element: str, what: str) -> str | None:
        """A date element's text once checked; None when blank, or (with a warning) not a
        date."""
        if not text:
            return None
        try:
            self.check_date(text)
            self.good_dates.add(text)
            return text
        except BadValue:
            self._warn(element[:-2], element, text,
                       f"{element} ({what}) {quoted(text)} is not a date (CCYYMMDD)",
                       "enter the date by hand after importing")
            return None

    # Envelope and payment header.

    def _isa(self, e: list) -> None:
        self.isa_version = e[12] if len(e) > 12 else ""   # ISA12 interchange version: 00501
        self.gs_version = ""

    def _gs(self, e: list) -> None:
        self.gs_version = e[8] if len(e) > 8 else ""      # GS08 guide: 005010X221A1

    def _st(self, e: list) -> None:
        n = len(e)
        kind = e[1] if n > 1 else ""                      # ST01 transaction set: 835
        control = e[2] if n > 2 else ""                   # ST02 control number
        guide = e[3] if n > 3 else ""                     # ST03 guide (5010), when GS08 is not sent
        if kind != "835":
            raise X12Error(f"this transaction is a {clipped(kind) or '(blank)'}, not an 835 "
                           f"remittance", "read 837 claim files with read_837; choose the "
                           "835 (ERA) file here", segment=self.number, segment_id="ST",
                           source=self.source)
        self.st += 1
        self.claim = self.line = None
        self.entity = ""
        version = self.gs_version or guide
        self.check = Check(self.st, control, version, _release(version, self.isa_version),
                           self.number)
        self.checks.append(self.check)

    def _se(self, e: list) -> None:
        check = self.check
        if check is not None and check.bpr_amount is None:
            # Named at the ST: the BPR that should follow it is missing.
            self.warnings.append(warning(self.source, check.segment, "ST", "BPR02", None,
                                         "the transaction has no BPR payment amount; its total "
                                         "cannot be checked", "ask the payer for the full 835"))
        self.check = self.claim = self.line = None

    def _bpr(self, e: list) -> None:
        check = self.check
        if check is None:
            return
        n = len(e)
        amount = e[2] if n > 2 else ""                    # BPR02 total payment
        check.bpr_amount = self._money(amount, "BPR02", "payment amount")
        check.credit_debit = e[3] if n > 3 else ""        # BPR03 C or D
        check.method = e[4] if n > 4 else ""              # BPR04 ACH, CHK, NON...
        paid_on = e[16] if n > 16 else ""                 # BPR16 payment date
        check.payment_date = self._date(paid_on, "BPR16", "payment date")

    def _trn(self, e: list) -> None:
        check = self.check
        if check is not None and not check.trace_number:
            check.trace_number = e[2] if len(e) > 2 else ""   # TRN02 check or EFT number

    def _n1(self, e: list) -> None:
        n = len(e)
        self.entity = entity = e[1] if n > 1 else ""     # N101 PR payer, PE payee...
        check = self.check
        if check is None or self.claim is not None:
            return
        name = e[2] if n > 2 else ""                      # N102 name
        id_qualifier = e[3] if n > 3 else ""              # N103 XX (NPI), FI (tax id)...
        identifier = e[4] if n > 4 else ""                # N104 id
        if entity == "PR":
            check.payer_name, check.payer_id = name, identifier
        elif entity == "PE":
            check.payee_name, check.payee_id = name, identifier
            check.payee_npi = identifier if id_qualifier == "XX" else ""

    def _lx(self, e: list) -> None:
        self.claim = self.line = None     # a new header number: the claims before it are done

    def _plb(self, e: list) -> None:
        self.claim = self.line = None     # PLB follows the last claim
        n = len(e)
        provider = e[1] if n > 1 else ""                  # PLB01 provider id
        period = e[2] if n > 2 else ""                    # PLB02 fiscal period end
        fiscal_period_end = self._date(period, "PLB02", "fiscal period date")
        segment = Segment(self.number, e)
        # PLB03/PLB04 are a reason composite (reason:reference) and its amount; PLB05/06
        # ... PLB13/14 repeat them.
        for i in range(3, min(n, 15), 2):
            reason_text = e[i]
            amount_text = e[i + 1] if i + 1 < n else ""
            if not reason_text and not amount_text:
                continue
            reason = self.split(reason_text, segment, f"PLB{i:02d}")
            if not amount_text:
                self._warn("PLB", f"PLB{i + 1:02d}", None,
                           f"PLB{i:02d} ({quoted(reason_text)}) has no amount (PLB{i + 1:02d}); "
                           "ignored", "ask the payer what this provider-level adjustment is")
                continue
            self.plbs.append(ProviderAdjustment(
                self.st, provider, fiscal_period_end, reason[0],
                reason[1] if len(reason) > 1 else "",
                self._money(amount_text, f"PLB{i + 1:02d}", "provider adjustment"),
                self.number))

    # Claims and service lines.

    def _clp(self, e: list) -> None:
        check = self.check
        if check is None:  # cannot happen: the tokenizer puts every segment in an ST
            return
        n = len(e)
        claim_id = e[1] if n > 1 else ""                  # CLP01 patient control number
        status = e[2] if n > 2 else ""                    # CLP02 claim status
        charge_text = e[3] if n > 3 else ""               # CLP03 total charge
        paid_text = e[4] if n > 4 else ""                 # CLP04 payment
        patient_text = e[5] if n > 5 else ""              # CLP05 patient responsibility
        if len(self.claims) >= READ_CHUNK_CLAIMS:   # the claims before this one are finished
            self._flush()
        self.claim_seq += 1
        self.line_seq = 0
        self.line = None
        if not claim_id:
            self._warn("CLP", "CLP01", None, "CLP01 (patient control number) is blank",
                       "match this claim by hand")
        if status not in self.statuses:
            self._warn("CLP", "CLP02", status, f"CLP02 (claim status) {quoted(status)} is not one "
                       f"of {', '.join(m.CLAIM_STATUS_CODES)}", "check this claim by hand")
        amount_of = self.amounts.get
        charge = amount_of(charge_text)
        if charge is None:
            charge = self._money(charge_text, "CLP03", "claim charge")
        paid = amount_of(paid_text)
        if paid is None:
            paid = self._money(paid_text, "CLP04", "claim paid")
        patient = None
        if patient_text:  # a blank CLP05 is no patient responsibility, not an error
            patient = amount_of(patient_text)
            if patient is None:
                patient = self._money(patient_text, "CLP05", "patient responsibility")
        self.claim = Claim(
            check.st, self.claim_seq, claim_id, status, charge, paid, patient,
            e[6] if n > 6 else "",                        # CLP06 claim filing indicator
            e[7] if n > 7 else "",                        # CLP07 payer claim control number
            e[8] if n > 8 else "",                        # CLP08 facility code
            e[9] if n > 9 else "",                        # CLP09 claim frequency
            self.number)
        self.claims.append(self.claim)

    def _cas(self, e: list) -> None:
        claim = self.claim
        if claim is None:
            self._warn("CAS", "", None, "CAS outside a claim (no CLP before it); ignored",
                       "the file's structure is damaged; ask the payer to resend it")
            return
        n = len(e)
        group = e[1] if n > 1 else ""                     # CAS01 group: CO, PR, OA, PI, CR
        if group not in self.groups:
            self._warn("CAS", "CAS01", group, f"CAS01 {quoted(group)} is not a claim adjustment "
                       f"group code ({', '.join(m.GROUP_CODES)})", "check this adjustment by hand")
        line = self.line
        if line is None:
            level, line_seq = "claim", 0
        else:
            level, line_seq = "line", line.line_seq
        if n == 4:
            # The usual CAS is one reason (CAS02, a CARC) and its amount (CAS03): read here
            # without the loop below, which gives the same row.
            reason, amount_text = e[2], e[3]
            if reason:
                amount = self.amounts.get(amount_text)
                if amount is None:
                    amount = self._money(amount_text, "CAS03", "adjustment amount")
                self.adjustments.append(_adjustment((
                    claim.st, claim.claim_seq, claim.claim_id, level, line_seq, group, reason,
                    amount, None, self.number)))
                return
        add, amount_of, number = self.adjustments.append, self.amounts.get, self.number
        # CAS02, CAS03, CAS04 are a reason (CARC), its amount and quantity; CAS05-07 ...
        # CAS17-19 repeat them.
        for i in range(2, min(n, 20), 3):
            reason = e[i]
            amount_text = e[i + 1] if i + 1 < n else ""
            quantity_text = e[i + 2] if i + 2 < n else ""
            if not reason and not amount_text:
                continue
            quantity = None
            if quantity_text:
                try:
                    quantity = number_value(quantity_text)
                except BadValue:
                    self._warn("CAS", f"CAS{i + 2:02d}", quantity_text,
                               f"CAS{i + 2:02d} (quantity) {quoted(quantity_text)} is not a number; "
                               "left blank", "nothing to do")
            amount = amount_of(amount_text)
            if amount is None:
                amount = self._money(amount_text, f"CAS{i + 1:02d}", "adjustment amount")
            add(_adjustment((claim.st, claim.claim_seq, claim.claim_id, level, line_seq,
                             group, reason, amount, quantity, number)))

    def _moa(self, e: list) -> None:
        self._remark(e, _MOA_REMARKS)

    def _mia(self, e: list) -> None:
        self._remark(e, _MIA_REMARKS)

    def _remark(self, e: list, positions: tuple) -> None:
        claim = self.claim
        if claim is not None and self.line is None and not claim.rarc:
            n = len(e)
            claim.rarc = next((e[i] for i in positions if i < n and e[i]), "")

    def _svc(self, e: list) -> None:
        claim = self.claim
        if claim is None:
            self._warn("SVC", "", None, "SVC outside a claim (no CLP before it); ignored",
                       "the file's structure is damaged; ask the payer to resend it")
            self.line = None
            return
        n = len(e)
        procedure = e[1] if n > 1 else ""    # SVC01 qualifier:code:modifier 1-4:description
        charge_text = e[2] if n > 2 else ""               # SVC02 line charge
        paid_text = e[3] if n > 3 else ""                 # SVC03 line payment
        revenue_code = e[4] if n > 4 else ""              # SVC04 NUBC revenue code
        units_text = e[5] if n > 5 else ""                # SVC05 units paid
        billed = e[6] if n > 6 else ""       # SVC06 the procedure billed, when not the one paid
        self.line_seq += 1
        component = self.component
        paid_code = procedure.split(component) if component in procedure else \
            self.split(procedure, Segment(self.number, e), "SVC01")
        cpt = paid_code[1] if len(paid_code) > 1 else ""
        if not cpt:
            self._warn("SVC", "SVC01", procedure if n > 1 else None,
                       "SVC01 has no procedure code", "check this service line by hand")
        units = self.units_seen.get(units_text)
        if units is None:
            try:
                units = self.units_seen[units_text] = number_value(units_text)
            except BadValue:
                units = 1.0
                self._warn("SVC", "SVC05", units_text, f"SVC05 (units paid) {quoted(units_text)} is "
                           "not a number; taken as 1", "nothing to do")
        billed_cpt = cpt
        if billed:
            billed_code = self.split(billed, Segment(self.number, e), "SVC06")
            if len(billed_code) > 1 and billed_code[1]:
                billed_cpt = billed_code[1]
        amount_of = self.amounts.get
        charge = amount_of(charge_text)
        if charge is None:
            charge = self._money(charge_text, "SVC02", "line charge")
        paid = amount_of(paid_text)
        if paid is None:
            paid = self._money(paid_text, "SVC03", "line paid")
        modifiers = ",".join([c for c in paid_code[2:6] if c]) if len(paid_code) > 2 else ""
        self.line = ServiceLine(claim.st, claim.claim_seq, claim.claim_id, self.line_seq,
                                paid_code[0], cpt, modifiers, charge, paid, revenue_code,
                                units, billed_cpt, self.number)
        self.lines.append(self.line)

    def _dtm(self, e: list) -> None:
        n = len(e)
        qualifier = e[1] if n > 1 else ""                 # DTM01 what the date is
        text = e[2] if n > 2 else ""                      # DTM02 the date, CCYYMMDD
        line = self.line
        if line is not None:
            if qualifier == "472":
                line.service_date = text if text in self.good_dates else \
                    self._date(text, "DTM02", "service date")
            elif qualifier == "150":
                line.service_from = self._date(text, "DTM02", "service period start")
            elif qualifier == "151":
                line.service_to = self._date(text, "DTM02", "service period end")
        elif self.claim is not None:
            claim_date = _CLAIM_DATES.get(qualifier)
            if claim_date is not None:
                attribute, what = claim_date
                setattr(self.claim, attribute, self._date(text, "DTM02", what))
        elif self.check is not None and qualifier == "405":
            self.check.production_date = self._date(text, "DTM02", "production date")

    def _ref(self, e: list) -> None:
        n = len(e)
        qualifier = e[1] if n > 1 else ""                 # REF01 what the reference is
        value = e[2] if n > 2 else ""                     # REF02 the reference
        if self.line is not None:
            if qualifier == "6R":
                self.line.line_control_no = value
        elif self.claim is None and self.check is not None and self.entity == "PR" \
                and qualifier == "2U" and not self.check.payer_id:
            self.check.payer_id = value

    def _amt(self, e: list) -> None:
        n = len(e)
        qualifier = e[1] if n > 1 else ""                 # AMT01 what the amount is
        if self.line is None and self.claim is not None and qualifier == "I":
            self.claim.interest = self._money(e[2] if n > 2 else "", "AMT02", "interest")   # claim interest
            return
        if self.line is not None and qualifier == "B6":
            text = e[2] if n > 2 else ""                  # AMT02 the amount
            allowed = self.amounts.get(text)
            self.line.allowed = allowed if allowed is not None else \
                self._money(text, "AMT02", "allowed amount")

    def _lq(self, e: list) -> None:
        n = len(e)
        code_list = e[1] if n > 1 else ""                 # LQ01 HE: remark codes (RARC)
        code = e[2] if n > 2 else ""                      # LQ02 the remark code
        line = self.line
        if line is not None and code_list == "HE" and code:
            line.remarks = f"{line.remarks},{code}" if line.remarks else code


def concat_rows(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """pd.concat(frames, ignore_index=True) of frames with the same columns (chunks of the
    rows of one frame), made a column at a time, each column taken out of the chunks as it
    is joined (the list is emptied): the rows are not held twice, as by pd.concat. Frames
    whose columns differ are left to pd.concat."""
    names = list(frames[0].columns)
    if any(list(frame.columns) != names for frame in frames):
        return pd.concat(frames, ignore_index=True)
    joined = {name: pd.concat([frame.pop(name) for frame in frames], ignore_index=True) for name in names}
    frames.clear()
    return pd.DataFrame(joined, copy=False)


def line_numbers(line_control_no: pd.Series, position: pd.Series) -> pd.Series:
    """The claim line each service line pays: REF*6R when it is a whole number from 1 to
    MAX_LINE_NUMBER (practice systems often send the line number there), else the SVC's
    position in the claim."""
    numbers = [whole_number(str(ref), 1, MAX_LINE_NUMBER) or at
               for ref, at in zip(line_control_no.tolist(), position.tolist())]
    return pd.Series(numbers, dtype="int64", index=position.index)


def _release(version: str, isa_version: str) -> str:
    if "5010" in version or isa_version == "00501":
        return "5010"
    if "4010" in version or isa_version == "00401":
        return "4010"
    return ""


def classify_adjustments(adjustments: pd.DataFrame) -> pd.Series:
    """What each adjustment does to its line (rules.adjustment_kind, one of rules.KINDS):
    worked out once per distinct (group, reason) pair."""
    seen: dict = {}
    out = []
    for key in zip(adjustments["group"], adjustments["reason"]):
        value = seen.get(key)
        if value is None:
            value = seen[key] = rules.adjustment_kind(*key)
        out.append(value)
    return pd.Series(out, index=adjustments.index, dtype=object)


# Columns to_payments adds after the Payments table's own, with their dtypes: claim_seq and
# line_seq tie each row to its rows in to_adjustments.
PAYMENT_EXTRAS = {"line_control_no": object, "service_date": "datetime64[ns]",
                  "billed_cpt": object, "modifier": object, "units": "Float64", "level": object,
                  "st": "int64", "segment": "int64", "claim_seq": "int64", "line_seq": "int64"}
ADJUSTMENT_EXTRAS = {"claim_seq": "int64", "line_seq": "int64", "segment": "int64", "st": "int64"}


def to_payments(remittance: Remittance, source_name: str | None = None) -> pd.DataFrame:
    """Payments-table rows (model.PAYMENTS keys, money in cents) for a remittance: the
    first of `remittance_rows`."""
    return remittance_rows(remittance, source_name)[0]


def to_adjustments(remittance: Remittance, source_name: str | None = None) -> pd.DataFrame:
    """Adjustments-table rows (model.ADJUSTMENTS keys) for a remittance: the second of
    `remittance_rows`."""
    return remittance_rows(remittance, source_name)[1]


def _spread_claim_level(adj: pd.DataFrame, sl: pd.DataFrame) -> pd.DataFrame:
    """Claim-level CAS of a claim that has service lines, spread over those lines pro rata by
    their charge (SVC02), to the cent, the remainder on the largest line (rules.spread):
    one row per adjustment and line, level "claim"."""
    on_lines = (adj["level"] == "claim") & adj["claim_seq"].isin(sl["claim_seq"])
    if not on_lines.any():
        return adj
    weights = {seq: (g["line_seq"].tolist(), g["charge"].fillna(0).astype("int64").tolist())
               for seq, g in sl.groupby("claim_seq", sort=False)}
    rows = []
    for record in adj[on_lines].to_dict("records"):
        line_seqs, charges = weights[record["claim_seq"]]
        for line_seq, share in zip(line_seqs, rules.spread(record["amount0"], charges)):
            rows.append({**record, "line_seq": line_seq, "amount": share, "amount0": share})
    spread = pd.DataFrame(rows, columns=adj.columns).astype({"line_seq": "int64", "amount0": "int64"})
    return pd.concat([adj[~on_lines], spread], ignore_index=True)


def _summaries(adj: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Per payment row (key): the Payments money columns as the sums of its adjustments by
    kind (rules.SUMMARY)."""
    out = pd.DataFrame(index=pd.MultiIndex.from_frame(adj[key].drop_duplicates()))
    for column, kinds in rules.SUMMARY.items():
        picked = adj[adj["kind"].isin(kinds)]
        out[column] = picked.groupby(key)["amount0"].sum().reindex(out.index).fillna(0).astype("int64")
    return out.reset_index()


def remittance_rows(remittance: Remittance, source_name: str | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(payments, adjustments): the rows a remittance adds to the Payments and Adjustments
    tables (model keys, money in cents), posted the way a biller posts an EOB.

    Payments: one row per SVC line: line (REF*6R when a whole number, else the SVC's
    position in the claim), cpt (SVC01), charge (SVC02), paid (SVC03 less the line's share
    of claim-level adjustments), allowed (AMT*B6; blank when not sent), payer_seq (from
    CLP02: 1/19 primary, 2/20 secondary, 3/21 tertiary; blank when CLP02 does not say),
    and the money columns summed from the line's adjustments by rule (rules.SUMMARY:
    patient_resp PR, contractual_adj CO-45 and the other contractual CARCs, sequestration
    CO-253, denied_amount every other CO/OA/PI/CR; OA-23 is in none of them), group_code
    and carc of the largest denial amount (for a denied claim, CLP02 = 4, of the largest
    adjustment when none is a denial), rarc (first LQ*HE). A CLP without SVC lines gives one
    row (line 1, level "claim") with the claim's charge, paid and adjustments: the importer
    spreads it over the claim's lines in Claims.

    Claim-level CAS on a claim with SVC lines is spread over its lines pro rata by charge
    (rules.spread), so the rows of a claim still add up to CLP04, the money actually paid,
    and every line carries its share.

    Adjustments: one row per CAS reason (claim-level ones once per line they were spread
    over) with the identifying columns of its Payments row, and one per PLB adjustment
    (level "provider", group "PLB", payor_claim_no = PLB03-2).

    Extra columns: see PAYMENT_EXTRAS and ADJUSTMENT_EXTRAS (claim_seq, line_seq tie an
    adjustment to its payment row; segment with source identifies a row).

    The rows are made READ_CHUNK_CLAIMS claims at a time (a claim's rows depend on its own
    lines and adjustments alone; the PLB rows come last, with the last chunk's), so that the
    frames made on the way are those of a chunk, not of the whole file.
    """
    r = remittance
    source = source_name or r.source
    claims = r.claims
    if len(claims) <= READ_CHUNK_CLAIMS:
        return _remittance_rows(r, source)
    line_seqs, adj_seqs = r.service_lines["claim_seq"].to_numpy(), r.adjustments["claim_seq"].to_numpy()
    payments: list[pd.DataFrame] = []
    adjustments: list[pd.DataFrame] = []
    remarks: list[str] = []
    for start in range(0, len(claims), READ_CHUNK_CLAIMS):
        part = claims.iloc[start:start + READ_CHUNK_CLAIMS]
        # Lines and adjustments are in file order, so in claim_seq order: a claim's are together.
        first, last = part["claim_seq"].iloc[[0, -1]].tolist()
        lines = slice(*np.searchsorted(line_seqs, [first, last + 1]))
        adjs = slice(*np.searchsorted(adj_seqs, [first, last + 1]))
        done = start + READ_CHUNK_CLAIMS >= len(claims)
        chunk = Remittance(r.checks, part.reset_index(drop=True), r.adjustments.iloc[adjs].reset_index(drop=True),
                           r.service_lines.iloc[lines].reset_index(drop=True), r.plb if done else r.plb.iloc[0:0],
                           source=source)
        pays, adj_rows = _remittance_rows(chunk, source)
        remarks += pays.attrs["remarks"]
        payments.append(pays)
        adjustments.append(adj_rows)
    joined = concat_rows(payments)
    joined.attrs["remarks"] = remarks
    return joined, concat_rows(adjustments)


def _remittance_rows(r: Remittance, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """remittance_rows of a whole remittance, or of a chunk of its claims."""
    claims = r.claims
    adj = r.adjustments.copy()
    adj["kind"] = classify_adjustments(adj)
    adj["amount0"] = adj["amount"].fillna(0).astype("int64")
    if claims.empty:
        payments = table_frame(m.PAYMENTS, {name: pd.Series([], dtype=dtype)
                                            for name, dtype in PAYMENT_EXTRAS.items()}, length=0)
        return payments, _adjustment_rows(r, adj.iloc[0:0], payments, source)
    sl = r.service_lines
    key = ["claim_seq", "line_seq"]
    adj = _spread_claim_level(adj, sl)
    spread_share = adj[adj["level"] == "claim"].groupby(key)["amount0"].sum()

    has_lines = claims["claim_seq"].isin(sl["claim_seq"])
    line_rows = pd.DataFrame({
        "claim_seq": sl["claim_seq"], "line_seq": sl["line_seq"], "level": "line",
        "line": sl["line"], "cpt": sl["cpt"], "charge": sl["charge"], "paid": sl["paid"],
        "allowed": sl["allowed"], "rarc": _first(sl["remarks"]), "remarks": sl["remarks"],
        "line_control_no": sl["line_control_no"],
        "service_date": sl["service_date"], "billed_cpt": sl["billed_cpt"],
        "modifier": _first(sl["modifiers"]), "units": sl["units"],
        "segment": sl["segment"]})
    share = pd.MultiIndex.from_frame(line_rows[key]).map(spread_share.to_dict()) if len(spread_share) \
        else None
    if share is not None:
        share = pd.Series(share, index=line_rows.index).fillna(0).astype("int64")
        line_rows["paid"] = (line_rows["paid"].astype("Int64") - share).astype("Int64")
    only = claims[~has_lines]
    claim_rows = pd.DataFrame({
        "claim_seq": only["claim_seq"], "line_seq": 0, "level": "claim", "line": 1,
        "cpt": "", "charge": only["charge"], "paid": only["paid"], "rarc": only["rarc"],
        "remarks": only["rarc"], "segment": only["segment"]})
    frames = [frame for frame in (line_rows, claim_rows) if len(frame)]
    rows = pd.concat(frames, ignore_index=True) if frames else line_rows.iloc[0:0]
    rows = rows.reindex(columns=line_rows.columns)
    rows["line_seq"] = rows["line_seq"].astype("int64")
    rows["claim_seq"] = rows["claim_seq"].astype("int64")

    if len(adj):
        rows = rows.merge(_summaries(adj, key), on=key, how="left")
    for column in rules.SUMMARY:
        if column not in rows:
            rows[column] = 0
        rows[column] = rows[column].fillna(0).astype("int64")

    info = claims.set_index("claim_seq")
    checks = r.checks.set_index("st")
    rows["st"] = rows["claim_seq"].map(info["st"]).astype("int64")
    rows["status"] = rows["claim_seq"].map(info["status"]).fillna("").astype(object)
    reason = _denial_reason(adj, rows[key], rows["status"])
    rows["group_code"], rows["carc"] = reason["group"], reason["reason"]
    rows["service_date"] = rows["service_date"].astype("datetime64[ns]").fillna(
        rows["claim_seq"].map(info["statement_from"]))
    rows = rows.sort_values(["claim_seq", "line_seq"], kind="stable").reset_index(drop=True)

    remit_date = checks["payment_date"].fillna(checks["production_date"])
    # The claim's interest (AMT*I) on its first row.
    first_of_claim = ~rows["claim_seq"].duplicated()
    interest = rows["claim_seq"].map(info["interest"]).astype("Int64").where(first_of_claim, 0).fillna(0)
    columns = {
        "claim_id": _text(rows["claim_seq"].map(info["claim_id"])),
        "line": rows["line"].astype("Int64"),
        "payor": _text(rows["st"].map(checks["payer_name"])),
        "remit_date": rows["st"].map(remit_date).astype("datetime64[ns]"),
        "check_no": _text(rows["st"].map(checks["trace_number"])),
        "claim_status": rows["status"],
        "payer_seq": pd.Series([rules.payer_seq(s) for s in rows["status"]], index=rows.index, dtype=object),
        "payor_claim_no": _text(rows["claim_seq"].map(info["payer_claim_no"])),
        "cpt": _text(rows["cpt"]),
        "charge": rows["charge"].astype("Int64"),
        "allowed": rows["allowed"].astype("Int64"),
        "paid": rows["paid"].astype("Int64"),
        "patient_resp": rows["patient_resp"].astype("Int64"),
        "contractual_adj": rows["contractual_adj"].astype("Int64"),
        "sequestration": rows["sequestration"].astype("Int64"),
        "denied_amount": rows["denied_amount"].astype("Int64"),
        "group_code": _text(rows["group_code"]),
        "carc": _text(rows["carc"]),
        "rarc": _text(rows["rarc"]),
        "interest": interest,
        "source": pd.Series(source, index=rows.index, dtype=object),
        "line_control_no": _text(rows["line_control_no"]),
        "service_date": rows["service_date"],
        "billed_cpt": _text(rows["billed_cpt"]),
        "modifier": _text(rows["modifier"]),
        "units": rows["units"].astype("Float64"),
        "level": _text(rows["level"]),
        "st": rows["st"],
        "segment": rows["segment"].astype("int64"),
        "claim_seq": rows["claim_seq"],
        "line_seq": rows["line_seq"],
    }
    payments = table_frame(m.PAYMENTS, columns, length=len(rows))
    payments.attrs["remarks"] = _text(rows["remarks"]).tolist()
    return payments, _adjustment_rows(r, adj, payments, source)


def _text(s: pd.Series) -> pd.Series:
    s = s.astype(object)
    return s.where(s.notna(), "")


def _adjustment_rows(r: Remittance, adj: pd.DataFrame, payments: pd.DataFrame, source: str) -> pd.DataFrame:
    """Adjustments-table rows: each CAS reason with its payment row's identifying columns,
    in the payments' order, then the PLB adjustments."""
    key = ["claim_seq", "line_seq"]
    ident = ["claim_id", "line", "payor", "remit_date", "check_no", "claim_status", "payor_claim_no"]
    remarks = payments.attrs.get("remarks", [""] * len(payments))
    owners = payments[key + ident + ["st"]].assign(rarc=remarks, _row=range(len(payments)))
    cas = (adj.drop(columns=["claim_id", "st"]).merge(owners, on=key, how="inner")
           .sort_values(["_row", "segment"], kind="stable"))
    checks = r.checks.set_index("st")
    plb = r.plb
    remit_date = checks["payment_date"].fillna(checks["production_date"]) if len(checks) else None
    n_cas, n_plb = len(cas), len(plb)

    def of_check(values: pd.Series) -> list:
        return plb["st"].map(values).tolist() if n_plb else []

    def both(cas_values, plb_values, dtype=object) -> pd.Series:
        values = pd.Series(list(cas_values) + list(plb_values), dtype=object)
        if dtype == "datetime64[ns]":
            return pd.to_datetime(values).astype(dtype)
        return values.astype(dtype)

    columns = {
        "claim_id": both(cas["claim_id"], [""] * n_plb),
        "line": both(cas["line"], [pd.NA] * n_plb, "Int64"),
        "payor": both(cas["payor"], of_check(checks["payer_name"].fillna(""))),
        "remit_date": both(cas["remit_date"], of_check(remit_date), "datetime64[ns]"),
        "check_no": both(cas["check_no"], of_check(checks["trace_number"].fillna(""))),
        "claim_status": both(cas["claim_status"], [""] * n_plb),
        "level": both(cas["level"], ["provider"] * n_plb),
        "group_code": both(cas["group"], [rules.PROVIDER_GROUP] * n_plb),
        "reason": both(cas["reason"], plb["reason"]),
        "amount": both(cas["amount"], plb["amount"], "Int64"),
        "quantity": both(cas["quantity"], [None] * n_plb, "Float64"),
        "rarc": both(cas["rarc"], [""] * n_plb),
        "payor_claim_no": both(cas["payor_claim_no"], plb["reference"]),
        "source": pd.Series(source, index=range(n_cas + n_plb), dtype=object),
        "claim_seq": both(cas["claim_seq"], [0] * n_plb, "int64"),
        "line_seq": both(cas["line_seq"], [0] * n_plb, "int64"),
        "segment": both(cas["segment"], plb["segment"], "int64"),
        "st": both(cas["st"], plb["st"], "int64"),
    }
    return table_frame(m.ADJUSTMENTS, columns, length=n_cas + n_plb)


def _first(values: pd.Series) -> pd.Series:
    """The first of each comma-joined list ("25,GT" -> "25")."""
    return pd.Series([v.partition(",")[0] for v in values], index=values.index, dtype=object)


def _denial_reason(adj: pd.DataFrame, keys: pd.DataFrame, status: pd.Series) -> pd.DataFrame:
    """Group and CARC shown on each row (same index as keys): the largest denial amount's,
    or, on a denied claim (CLP02 = 4) with no denial amount, the largest adjustment's."""
    key = ["claim_seq", "line_seq"]
    ranked = adj.assign(size=adj["amount0"].abs()).sort_values("size", ascending=False,
                                                                kind="stable")
    denial = ranked[ranked["kind"] == rules.DENIED].drop_duplicates(key).set_index(key)
    anything = ranked.drop_duplicates(key).set_index(key)
    index = pd.MultiIndex.from_frame(keys[key])
    group = np.array(denial["group"].reindex(index), dtype=object)
    reason = np.array(denial["reason"].reindex(index), dtype=object)
    fallback = pd.isna(group) & (status.to_numpy(dtype=object) == rules.DENIED_STATUS)
    group[fallback] = anything["group"].reindex(index).to_numpy(dtype=object)[fallback]
    reason[fallback] = anything["reason"].reindex(index).to_numpy(dtype=object)[fallback]
    return pd.DataFrame({"group": group, "reason": reason}, index=keys.index,
                        dtype=object).fillna("")
