"""Acknowledgements of an 837P to frames: `read_999` reads the 999 implementation
acknowledgment (was each 837 transaction set syntactically accepted?) and `read_277ca` the
277CA claim acknowledgment (was each claim accepted into the payer's adjudication system, or
rejected?). Each walks the segments once, handing each to the handler of its segment id,
like read_835 and read_837. A claim the 277CA rejects never reached the payer: its timely
filing clock still runs, which is why these files matter to a practice. Text is kept
exactly as sent, money is integer cents, dates are ``datetime64[ns]``, every row keeps the
number of its segment. A value an element should not hold becomes a warning in
``frame.attrs["warnings"]`` and the read goes on; only a file that is not readable X12, or
holds another transaction set, raises `X12Error`.

Element positions follow the implementation guides as mapped in pyx12
(github.com/azoner/pyx12, pyx12/map/999.5010X231.A1.xml and pyx12/map/277.5010.X214.xml),
checked against X12 RFI 1942 (277CA STC01-1 category codes) and the datainsight.health
277CA data dictionary (TRN02, REF*1K, DTP*472, loop 2220D).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import cut
from .segments import Segment, Segments, X12Error, clipped, load_text, quoted, warning
from .values import BadValue, Dates, cents, record_frame, whole_number

# IK501 (a transaction set) and AK901 (the functional group): A accepted, E accepted with
# errors noted, M rejected (message authentication failed), P partially accepted (AK901
# only: some sets rejected), R rejected, W rejected (assurance failed validity tests),
# X rejected (content after decryption could not be analysed). 005010X231A1.
SET_STATUSES = frozenset("AEMRWX")
GROUP_STATUSES = frozenset("AEMPRWX")
ACCEPTED_ACKS = frozenset("AE")
# 277CA STC01-1 (and STC10-1, STC11-1) claim status categories, code source 507. A1
# received, A2 accepted into adjudication, A5 split (each part accepted); A3 returned as
# unprocessable, A4 not found, A6 rejected for missing information, A7 rejected for invalid
# information, A8 rejected for relational field errors. Others (A0 forwarded, E0-E4 system
# unavailable) decide nothing by themselves.
ACCEPTED_CATEGORIES = frozenset({"A1", "A2", "A5"})
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})
# STC03: WQ accepted, U rejected (005010X214).
ACCEPT_ACTION, REJECT_ACTION = "WQ", "U"
# HL03 of the loop whose TRN*2 starts a claim: PT in 005010X214 (loop 2000D); 22 and 23
# (subscriber, dependent) in older 277s some clearinghouses still send.
PATIENT_LEVELS = frozenset({"PT", "22", "23"})
INFORMATION_SOURCE_LEVEL = "20"
MAX_MESSAGE_TEXT = 120   # STC12 is free text: kept short on the sheet
MAX_LINE_NUMBER = 999    # a REF*FJ that is a small whole number is the claim's line number

ACK_999_COLUMNS = (
    ("st", "int"), ("group_control", "text"), ("functional_id", "text"), ("set_id", "text"),
    ("set_control", "text"), ("status", "text"), ("accepted", "bool"), ("errors", "text"),
    ("group_status", "text"), ("claim_ids", "text"), ("segment", "int"))
ACK_277CA_COLUMNS = (
    ("st", "int"), ("payer_name", "text"), ("claim_id", "text"), ("payer_claim_no", "text"),
    ("status_category", "text"), ("status_code", "text"), ("entity", "text"),
    ("status_date", "date"), ("action", "text"), ("charge", "money"), ("message", "text"),
    ("accepted", "bool"), ("rejected", "bool"), ("service_date", "date"), ("line", "int"),
    ("line_control_no", "text"), ("other_statuses", "text"), ("segment", "int"))


# The records the readers build, one per row of the frames they return. Amounts are cents
# (None when blank or unreadable), dates CCYYMMDD text already checked (None likewise).

@dataclass(slots=True)
class SetAck:
    """What a 999 says about one transaction set of the 837 it acknowledges (loop 2000:
    AK2 to IK5), or about the whole functional group when it names no set.

    Attributes:
      st: Position of the 999's ST in the file.
      group_control: AK102, the GS06 group control number of the 837 acknowledged.
      functional_id: AK101, the GS01 of that group: HC for 837 claims.
      set_id: AK201, the transaction set acknowledged (837); "" for a group-level row.
      set_control: AK202, its ST02 control number; "" for a group-level row.
      status: IK501 (A, E, M, R, W, X); AK901 for a group-level row.
      accepted: status is A (accepted) or E (accepted, errors noted).
      errors: The IK3 and IK4 notes ("IK3 CLM at segment 22 (loop 2300): 8; IK4 CLM01: 1")
        and the IK5 (or AK9) error codes, "; "-joined. Never IK404, the copy of the bad
        data, which can hold a patient's name or id.
      group_status: AK901, the functional group's status (A, E, M, P, R, W, X).
      claim_ids: The CLM01 patient control numbers a CTX*CLM01 names, comma-joined.
      segment: The AK2's segment number; the AK1's for a group-level row.
    """
    st: int
    group_control: str
    functional_id: str
    set_id: str
    set_control: str
    segment: int
    status: str = ""
    accepted: bool = False
    errors: str = ""
    group_status: str = ""
    claim_ids: str = ""


@dataclass(slots=True)
class ClaimStatus:
    """One STC of a 277CA about a claim (loop 2200D) or one of its lines (loop 2220D).

    Attributes:
      st: Position of the 277's ST in the file.
      payer_name: NM103 of the information source (loop 2100A): the payer (NM1*PR), or the
        clearinghouse (NM1*AY) when it is the one acknowledging.
      claim_id: TRN02 of the claim's TRN*2 (loop 2200D): the patient control number,
        CLM01 of the 837.
      payer_claim_no: REF02 of REF*1K, the payer's claim control number, when sent.
      status_category: STC01-1: A1, A2... (code source 507).
      status_code: STC01-2: why (code source 508: 19 entity acknowledges receipt, 562
        entity's NPI...).
      entity: STC01-3, the entity the status code is about (85 billing provider, 41
        submitter...), when sent.
      status_date: STC02, the status's effective date.
      action: STC03: WQ accepted, U rejected.
      charge: STC04, the claim's total charge; on a line, SVC02, the line charge.
      message: STC12, free text, cut to MAX_MESSAGE_TEXT characters.
      accepted: Not rejected, and a category of ACCEPTED_CATEGORIES or action WQ.
      rejected: A category of REJECTED_CATEGORIES (in STC01, STC10 or STC11) or action U.
      service_date: DTP03 of the DTP*472 (the start of a range) of the line, else of the
        claim.
      line: 0 for a claim-level status; on a line, REF*FJ when it is a whole number up to
        MAX_LINE_NUMBER, else the SVC's position in the claim.
      line_control_no: REF02 of the line's REF*FJ, the 837's line item control number.
      other_statuses: STC10 and STC11, more statuses of the same STC, as
        "category:code[:entity]", comma-joined.
      segment: The STC's segment number.
    """
    st: int
    payer_name: str
    claim_id: str
    payer_claim_no: str
    status_category: str
    status_code: str
    entity: str
    status_date: str | None
    action: str
    charge: int | None
    message: str
    accepted: bool
    rejected: bool
    service_date: str | None
    line: int
    line_control_no: str
    other_statuses: str
    segment: int


@dataclass(slots=True)
class _ClaimLoop:
    """A 277CA claim (loop 2200D, from its TRN*2 to the next HL, TRN or SE) and the rows
    read in it so far, updated when a REF*1K or DTP*472 follows its STCs."""
    claim_id: str
    payer_claim_no: str = ""
    service_date: str | None = None
    lines: int = 0
    rows: list = field(default_factory=list)


@dataclass(slots=True)
class _LineLoop:
    """A 277CA service line (loop 2220D, from its SVC to the next SVC or the claim's end)."""
    position: int
    charge: int | None
    control_no: str = ""
    service_date: str | None = None
    rows: list = field(default_factory=list)


def read_999(source: Any, source_name: str | None = None) -> pd.DataFrame:
    """Read a 999 implementation acknowledgment (005010X231A1) from its text, bytes or path.

    One row per AK2 transaction-set response, in file order: st (the 999's ST position in
    the file), group_control (AK102: the GS06 of the 837 acknowledged), functional_id
    (AK101: HC), set_id (AK201: 837), set_control (AK202: the ST02 of the 837 set), status
    (IK501: A accepted, E accepted with errors, M, R rejected, W, X), accepted (status A or
    E), errors (the IK3 segment ids, positions, loops and error codes, the IK4 element
    positions and error codes, and the IK5 codes, as "IK3 CLM at segment 22: 8; IK4 CLM01:
    1"; never IK404, the copy of the bad data), group_status (AK901), claim_ids (CTX*CLM01
    patient control numbers, comma-joined), segment (of the AK2). An AK1 ... AK9 with no
    AK2 (the whole group accepted or rejected) gives one row: set_id and set_control blank,
    status AK901, errors the AK905-AK909 codes, segment of the AK1.

    Warnings (DataError) are in ``frame.attrs["warnings"]``. Raises X12Error when the file
    is not readable X12 or holds a transaction that is not a 999.
    """
    return _read(source, source_name or "", "999", _Reader999, ACK_999_COLUMNS)


def read_277ca(source: Any, source_name: str | None = None) -> pd.DataFrame:
    """Read a 277CA health care claim acknowledgment (005010X214) from its text, bytes or
    path.

    One row per STC about a claim (loop 2200D: the TRN*2 under a patient HL, then its
    STCs) or about one of its service lines (loop 2220D: an SVC, then its STCs), in file
    order: st, payer_name, claim_id (TRN02 = CLM01 of the 837), payer_claim_no (REF*1K),
    status_category (STC01-1), status_code (STC01-2), entity (STC01-3), status_date
    (STC02), action (STC03), charge (STC04; SVC02 on a line), message (STC12, cut to 120
    characters), accepted, rejected, service_date (DTP*472), line (0 at claim level),
    line_control_no (REF*FJ), other_statuses (STC10, STC11), segment (of the STC); the
    ClaimStatus docstring says what each is.

    Several STCs about one claim stay several rows: this reader does not choose between
    them (the importer takes the decisive one; a claim any of whose claim-level rows is
    rejected was not accepted as sent). A row is rejected when a status category of its
    STC (STC01, STC10 or STC11) is A3, A4, A6, A7 or A8, or STC03 is U; else accepted when
    the category is A1, A2 or A5 or STC03 is WQ; else neither (A0 forwarded, E0-E4 payer
    system unavailable). Statuses of the batch (2200B) and the billing provider (2200C)
    make no rows: the claims under them carry their own.

    Warnings (DataError) are in ``frame.attrs["warnings"]``. Raises X12Error when the file
    is not readable X12 or holds a transaction that is not a 277.
    """
    return _read(source, source_name or "", "277CA", _Reader277, ACK_277CA_COLUMNS)


def _read(source: Any, source_name: str, kind: str, reader, columns) -> pd.DataFrame:
    """One read by `reader` (a reader class), its rows as a frame with the warnings."""
    text, name = load_text(source)
    name = source_name or name or kind
    warnings: list = []
    rows = reader(Segments(text, name, warnings), name, warnings).read()
    frame = record_frame(rows, columns)
    frame.attrs["warnings"] = warnings
    frame.attrs["source"] = name
    return frame


def _element(e: list, index: int) -> str:
    return e[index] if index < len(e) else ""


class _AckReader:
    """What the two acknowledgement readers share: one pass over the segments, handing each
    to the method its id names in HANDLERS, and warnings that name the segment."""
    HANDLERS: dict[str, str] = {}
    segments: Segments
    source: str
    warnings: list
    rows: list

    def read(self) -> list:
        handlers = {sid: getattr(self, name) for sid, name in self.HANDLERS.items()}.get
        for seg in self.segments:
            handler = handlers(seg.elements[0])
            if handler is not None:
                handler(seg)
        return self.rows

    def _warn(self, seg: Segment, element: str, value, message: str, fix: str) -> None:
        self.warnings.append(warning(self.source, seg.number, seg.elements[0], element, value,
                                     message, fix))


class _Reader999(_AckReader):
    """One read of a 999: the functional group and transaction-set responses being read,
    and one method per segment id (`_ik3` for IK3...). Segments with no method carry
    nothing the frame holds."""

    def __init__(self, segments: Segments, source: str, warnings: list):
        self.segments, self.source, self.warnings = segments, source, warnings
        self.rows: list[SetAck] = []
        self.st = 0                          # transactions so far
        self.group: list[SetAck] | None = None   # rows of the current AK1 (None before one)
        self.group_segment = 0               # the AK1's segment number
        self.functional_id = self.group_control = ""
        self.ack: SetAck | None = None       # the current AK2 response
        self.segment_id = ""                 # IK301 of the current IK3, to name IK4 elements
        self.ended = False                   # AK9 read in this transaction

    HANDLERS = {"AK2": "_ak2", "IK3": "_ik3", "IK4": "_ik4", "CTX": "_ctx", "IK5": "_ik5",
                "AK1": "_ak1", "AK9": "_ak9", "ST": "_st", "SE": "_se"}

    def _note(self, text: str) -> None:
        ack = self.ack
        if ack is not None:
            ack.errors = f"{ack.errors}; {text}" if ack.errors else text

    def _close_set(self) -> None:
        ack = self.ack
        if ack is not None and not ack.status:
            self.warnings.append(warning(
                self.source, ack.segment, "AK2", "IK501", None,
                f"the response to transaction set {clipped(ack.set_control) or '(blank)'} has no "
                "IK5 status; taken as not accepted",
                "ask the clearinghouse whether the 837 set was accepted"))
        self.ack = None
        self.segment_id = ""

    # Envelope and functional group.

    def _st(self, seg: Segment) -> None:
        kind = _element(seg.elements, 1)                  # ST01 transaction set: 999
        if kind != "999":
            hint = " (a 997: ask the clearinghouse for 5010 999 acknowledgments)" \
                if kind == "997" else ""
            raise X12Error(f"this transaction is a {clipped(kind) or '(blank)'}, not a 999 "
                           f"implementation acknowledgment{hint}",
                           "read 277CA claim acknowledgments with read_277ca and remittances "
                           "with read_835; choose the 999 file here", segment=seg.number,
                           segment_id="ST", source=self.source)
        self.st += 1
        self.group, self.ack, self.ended = None, None, False
        self.functional_id = self.group_control = ""

    def _se(self, seg: Segment) -> None:
        self._close_set()
        if self.group is None:
            self._warn(seg, "AK101", None, "the 999 has no AK1: it acknowledges no functional "
                       "group", "ask the clearinghouse for the complete 999")
        elif not self.ended:
            self._warn(seg, "AK901", None, "the 999 has no AK9: the functional group's status "
                       "is not known", "ask the clearinghouse for the complete 999")
        self.group = None

    def _ak1(self, seg: Segment) -> None:
        e = seg.elements
        self._close_set()
        self.functional_id = _element(e, 1)               # AK101 GS01 acknowledged: HC
        self.group_control = _element(e, 2)               # AK102 GS06 acknowledged
        self.group, self.group_segment, self.ended = [], seg.number, False

    def _ak2(self, seg: Segment) -> None:
        e = seg.elements
        self._close_set()
        set_id = _element(e, 1)                           # AK201 ST01 acknowledged: 837
        set_control = _element(e, 2)                      # AK202 ST02 acknowledged
        if self.group is None:
            self._warn(seg, "", None, "AK2 before any AK1: the functional group acknowledged "
                       "is not known", "ask the clearinghouse for the complete 999")
            self.group = []
        self.ack = SetAck(self.st, self.group_control, self.functional_id, set_id,
                          set_control, seg.number)
        self.rows.append(self.ack)
        self.group.append(self.ack)

    # Errors in the acknowledged set: IK3 names a segment, IK4 one of its elements.

    def _ik3(self, seg: Segment) -> None:
        e = seg.elements
        self.segment_id = segment_id = _element(e, 1)    # IK301 segment id in error
        position = _element(e, 2)                        # IK302 its position in the set
        loop = _element(e, 3)                            # IK303 its loop id
        code = _element(e, 4)                            # IK304 segment syntax error code
        text = f"IK3 {clipped(segment_id) or '?'} at segment {clipped(position) or '?'}"
        text += f" (loop {clipped(loop)})" if loop else ""
        self._note(text + (f": {clipped(code)}" if code else ""))

    def _ik4(self, seg: Segment) -> None:
        e = seg.elements
        place = _element(e, 1)       # IK401 element:component:repetition position
        code = _element(e, 3)        # IK403 data element syntax error code
        # IK404, the copy of the bad data element, is never read: it can be a patient's
        # name, member id or birth date.
        parts = self.segments.split_components(place, seg, "IK401") if place else [""]
        element = whole_number(parts[0], 1, 99)
        label = f"{clipped(self.segment_id)}{element:02d}" if element is not None else \
            f"{clipped(self.segment_id)} element {clipped(parts[0]) or '?'}"
        component = whole_number(parts[1], 1, 99) if len(parts) > 1 else None
        label += f"-{component}" if component is not None else ""
        self._note(f"IK4 {label}" + (f": {clipped(code)}" if code else ""))

    def _ctx(self, seg: Segment) -> None:
        ack = self.ack
        context = _element(seg.elements, 1)   # CTX01 context name:reference
        if ack is None or not context:
            return
        parts = self.segments.split_components(context, seg, "CTX01")
        # Only a claim's patient control number: other contexts (NM109, SUBSCRIBER NAME
        # NM109) identify a patient.
        if parts[0] == "CLM01" and len(parts) > 1 and parts[1]:
            ack.claim_ids = f"{ack.claim_ids},{parts[1]}" if ack.claim_ids else parts[1]

    def _ik5(self, seg: Segment) -> None:
        ack = self.ack
        if ack is None:
            self._warn(seg, "", None, "IK5 without an AK2; ignored",
                       "ask the clearinghouse for the complete 999")
            return
        e = seg.elements
        status = _element(e, 1)                           # IK501 A, E, M, R, W, X
        codes = [c for c in e[2:7] if c]                  # IK502-IK506 syntax error codes
        if status not in SET_STATUSES:
            self._warn(seg, "IK501", status or None,
                       f"IK501 (transaction set status) {quoted(status)} is not one of "
                       f"{', '.join(sorted(SET_STATUSES))}; taken as not accepted",
                       "ask the clearinghouse whether the 837 set was accepted")
        ack.status, ack.accepted = status, status in ACCEPTED_ACKS
        if codes:
            self._note(f"IK5: {', '.join(clipped(c) for c in codes)}")
        self._close_set()

    def _ak9(self, seg: Segment) -> None:
        e = seg.elements
        self._close_set()
        status = _element(e, 1)                           # AK901 A, E, M, P, R, W, X
        codes = [c for c in e[5:10] if c]                 # AK905-AK909 group error codes
        if status not in GROUP_STATUSES:
            self._warn(seg, "AK901", status or None,
                       f"AK901 (functional group status) {quoted(status)} is not one of "
                       f"{', '.join(sorted(GROUP_STATUSES))}",
                       "ask the clearinghouse whether the 837 file was accepted")
        group = self.group
        if group is None:
            self._warn(seg, "", None, "AK9 without an AK1; ignored",
                       "ask the clearinghouse for the complete 999")
            return
        if not group:
            # No AK2: the status is the whole group's (every set in the 837 file).
            row = SetAck(self.st, self.group_control, self.functional_id, "", "",
                         self.group_segment, status, status in ACCEPTED_ACKS,
                         f"AK9: {', '.join(clipped(c) for c in codes)}" if codes else "")
            self.rows.append(row)
            group.append(row)
        for row in group:
            row.group_status = status
        self.ended = True


class _Reader277(_AckReader):
    """One read of a 277CA: where the read is in the hierarchy (the HL level), the claim
    and line being read, and one method per segment id (`_stc` for STC...). Segments with
    no method (QTY, AMT, PER...) carry nothing the frame holds."""

    def __init__(self, segments: Segments, source: str, warnings: list):
        self.segments, self.source, self.warnings = segments, source, warnings
        self.rows: list[ClaimStatus] = []
        self.dates = Dates()
        self.st = 0                          # transactions so far
        self.level = ""                      # HL03 of the current HL: 20, 21, 19, PT
        self.payer_name = ""                 # NM103 of the information source
        self.claim: _ClaimLoop | None = None
        self.line: _LineLoop | None = None
        self.gs_version = ""

    HANDLERS = {"STC": "_stc", "TRN": "_trn", "REF": "_ref", "DTP": "_dtp", "DTM": "_dtm",
                "SVC": "_svc", "HL": "_hl", "NM1": "_nm1", "ST": "_st", "SE": "_se", "GS": "_gs"}

    def _date(self, seg: Segment, text: str, element: str, what: str) -> str | None:
        """A date element's text once checked; None when blank, or (with a warning) not a
        date."""
        if not text:
            return None
        try:
            return self.dates.check(text)
        except BadValue:
            self._warn(seg, element, text, f"{element} ({what}) {quoted(text)} is not a date "
                       "(CCYYMMDD); left blank", "enter the date by hand if it is needed")
            return None

    def _money(self, seg: Segment, text: str, element: str, what: str) -> int | None:
        """Cents of an amount element's text; None when blank, or (with a warning) not an
        amount."""
        if not text:
            return None
        try:
            return cents(text)
        except BadValue:
            self._warn(seg, element, text, f"{element} ({what}) {quoted(text)} is not an "
                       "amount; left blank", "nothing to do: the 837 holds the charge")
            return None

    # Envelope and hierarchy.

    def _gs(self, seg: Segment) -> None:
        self.gs_version = _element(seg.elements, 8)       # GS08 guide: 005010X214

    def _st(self, seg: Segment) -> None:
        e = seg.elements
        kind = _element(e, 1)                             # ST01 transaction set: 277
        if kind != "277":
            raise X12Error(f"this transaction is a {clipped(kind) or '(blank)'}, not a 277CA "
                           "claim acknowledgment", "read 999 acknowledgments with read_999 and "
                           "remittances with read_835; choose the 277CA file here",
                           segment=seg.number, segment_id="ST", source=self.source)
        version = self.gs_version or _element(e, 3)       # ST03 guide, when GS08 is not sent
        if version and "X214" not in version:
            self._warn(seg, "ST03", version, f"this 277 follows {quoted(version)}, not the "
                       "277CA guide 005010X214; read as a claim acknowledgment",
                       "check that this is the clearinghouse's or payer's 277CA")
        self.st += 1
        self.level = self.payer_name = ""
        self.claim = self.line = None

    def _se(self, seg: Segment) -> None:
        self.claim = self.line = None

    def _hl(self, seg: Segment) -> None:
        self.level = _element(seg.elements, 3)  # HL03 20 source, 21 receiver, 19 provider, PT
        self.claim = self.line = None
        if self.level == INFORMATION_SOURCE_LEVEL:
            self.payer_name = ""

    def _nm1(self, seg: Segment) -> None:
        e = seg.elements
        entity = _element(e, 1)                           # NM101 PR payer, AY clearinghouse
        if self.level == INFORMATION_SOURCE_LEVEL and entity in ("PR", "AY"):
            self.payer_name = _element(e, 3)              # NM103 organization name

    def _trn(self, seg: Segment) -> None:
        e = seg.elements
        trace_type = _element(e, 1)                       # TRN01 2: a claim's own trace
        claim_id = _element(e, 2)                         # TRN02 patient control number
        self.claim = self.line = None
        if trace_type != "2" or self.level not in PATIENT_LEVELS:
            return   # the batch's (2200A/B) or the provider's (2200C) trace
        if not claim_id:
            self._warn(seg, "TRN02", None, "TRN02 (patient control number) is blank: the "
                       "statuses that follow cannot be matched to a claim",
                       "ask the clearinghouse which claim this is")
        self.claim = _ClaimLoop(claim_id)

    # Claims and service lines.

    def _stc(self, seg: Segment) -> None:
        claim = self.claim
        if claim is None:
            return   # a batch (2200B) or billing provider (2200C) status
        e = seg.elements
        status = _element(e, 1)      # STC01 category:code:entity
        effective = _element(e, 2)   # STC02 status effective date
        action = _element(e, 3)      # STC03 WQ accepted, U rejected
        charge_text = _element(e, 4)  # STC04 total claim charge (not used on a line)
        message = _element(e, 12)    # STC12 free-form message
        split = self.segments.split_components
        parts = split(status, seg, "STC01") if status else [""]
        category = parts[0]
        if not category:
            self._warn(seg, "STC01", status or None, "STC01 has no status category; the status "
                       "is neither accepted nor rejected", "ask the clearinghouse about this claim")
        categories = [category]
        others = []
        for index in (10, 11):       # STC10, STC11: more statuses, same composite
            more = _element(e, index)
            if more:
                other = split(more, seg, f"STC{index}")
                categories.append(other[0])
                others.append(":".join(p for p in other[:3] if p))
        rejected = action == REJECT_ACTION or any(c in REJECTED_CATEGORIES for c in categories)
        accepted = not rejected and (category in ACCEPTED_CATEGORIES or action == ACCEPT_ACTION)
        line = self.line
        charge = self._money(seg, charge_text, "STC04", "charge")
        if line is not None and charge is None:
            charge = line.charge
        service_date = (line.service_date if line is not None else None) or claim.service_date
        row = ClaimStatus(
            self.st, self.payer_name, claim.claim_id, claim.payer_claim_no, category,
            parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "",
            self._date(seg, effective, "STC02", "status date"), action, charge,
            cut(message, MAX_MESSAGE_TEXT), accepted, rejected, service_date,
            _line_number(line), line.control_no if line is not None else "",
            ", ".join(others), seg.number)
        self.rows.append(row)
        claim.rows.append(row)
        if line is not None:
            line.rows.append(row)

    def _svc(self, seg: Segment) -> None:
        claim = self.claim
        if claim is None:
            self._warn(seg, "", None, "SVC outside a claim (no TRN*2 before it); ignored",
                       "the file's structure is damaged; ask the clearinghouse to resend it")
            self.line = None
            return
        charge_text = _element(seg.elements, 2)           # SVC02 line charge
        claim.lines += 1
        self.line = _LineLoop(claim.lines, self._money(seg, charge_text, "SVC02", "line charge"))

    def _ref(self, seg: Segment) -> None:
        e = seg.elements
        qualifier = _element(e, 1)    # REF01 1K payer claim number, FJ line item control number
        value = _element(e, 2)        # REF02 the reference
        line, claim = self.line, self.claim
        if line is not None:
            if qualifier == "FJ":
                line.control_no = value
                number = _line_number(line)
                for row in line.rows:
                    row.line_control_no, row.line = value, number
        elif claim is not None and qualifier == "1K":
            claim.payer_claim_no = value
            for row in claim.rows:
                row.payer_claim_no = value

    def _dtp(self, seg: Segment) -> None:
        e = seg.elements
        qualifier = _element(e, 1)    # DTP01 472: service date
        form = _element(e, 2)         # DTP02 D8 (a date) or RD8 (a range)
        value = _element(e, 3)        # DTP03 the date or range
        if qualifier == "472" and self.claim is not None:
            start = value.partition("-")[0] if form == "RD8" else value
            self._service_date(self._date(seg, start, "DTP03", "service date"))

    def _dtm(self, seg: Segment) -> None:
        # Not in 005010X214 (which uses DTP*472), but some senders write DTM*472 as in the 835.
        e = seg.elements
        if _element(e, 1) == "472" and self.claim is not None:   # DTM01 qualifier
            self._service_date(self._date(seg, _element(e, 2), "DTM02", "service date"))

    def _service_date(self, date: str | None) -> None:
        """The service date of the current line, else of the claim (and of its lines'
        rows that have none of their own)."""
        claim, line = self.claim, self.line
        if date is None or claim is None:
            return
        if line is not None:
            line.service_date = date
            for row in line.rows:
                row.service_date = date
            return
        claim.service_date = date
        for row in claim.rows:
            if row.service_date is None:
                row.service_date = date


def _line_number(line: _LineLoop | None) -> int:
    """0 for a claim-level status; a line's REF*FJ when it is a whole number from 1 to
    MAX_LINE_NUMBER (practice systems often send the line number there), else the SVC's
    position in the claim."""
    if line is None:
        return 0
    return whole_number(line.control_no, 1, MAX_LINE_NUMBER) or line.position
