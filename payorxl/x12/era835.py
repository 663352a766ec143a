"""835 remittance advice to frames: checks, claims, adjustments, service lines, PLB.

`read_835` walks the segments once, keeping the loop it is in (header, claim CLP, service
line SVC, provider-level PLB), and collects one row per check (ST/BPR), per claim (CLP),
per adjustment reason (each CAS triplet), per service line (SVC) and per provider-level
adjustment (each PLB pair). Amounts are integer cents, dates ``datetime64[ns]``; every row
keeps the number of the segment it came from. A value that is not what its element should
hold (an amount that is not a number, a date that is not a date) becomes a warning next to
the result, and the read goes on; only a file that cannot be read as X12 at all raises
`X12Error`. Text (payer names, claim numbers) is kept exactly as sent and never
interpreted.

`to_payments` turns a remittance into rows of the Payments table (model.py), one per
service line, the way a biller posts an EOB: paid, allowed, patient responsibility (CAS
group PR), contractual write-down and denied amount, with the denial's group and reason.

Sign conventions are the 835's own: a reversal (CLP02 = 22) carries negative amounts; a
positive PLB amount *reduces* the payment (BPR02 = sum of CLP04 − sum of PLB amounts), so
interest paid to the provider (PLB L6) is negative and a recoupment (WO, 72) positive.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import model as m
from .segments import Segment, Segments, X12Error, load_text, warning
from .values import BadValue, Dates, cents, object_column, table_frame
from .values import number as number_value

# CARCs that are contractual write-downs when the group is CO: the fee-schedule reduction
# (45, and 42 which payers still send for it), multiple-procedure reduction (59),
# sequestration (253), contractual adjustment (A2), capitation (24), negotiated discount
# (131), psychiatric reduction (122) and incentive adjustments (144). Every other CO, OA,
# PI or CR reason is a denial, except OA-23 (what a prior payer paid or adjusted): that is
# not this payor refusing anything, so it is written down with the contractual amounts.
CONTRACTUAL_CARCS = frozenset({"45", "42", "59", "253", "A2", "24", "131", "122", "144"})
PRIOR_PAYER_CARC = "23"
# A REF*6R that is a small whole number is the claim's line number; a larger one is an id.
MAX_LINE_NUMBER = 999
# Claim-level DTM qualifiers: the claim row's field index, and what the date is.
_CLAIM_DATES = {"232": 11, "233": 12, "050": 13}
_CLAIM_DATE_NAMES = {"232": "statement from date", "233": "statement to date",
                     "050": "claim received date"}
_HANDLED_835 = frozenset({"CAS", "DTM", "SVC", "REF", "AMT", "CLP", "LQ", "MOA", "MIA", "N1",
                          "LX", "PLB", "BPR", "TRN", "ST", "SE", "GS", "ISA"})

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
    ("received_date", "date"), ("rarc", "text"), ("segment", "int"))
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
_KINDS = {"text": m.TEXT, "int": m.INT, "money": m.MONEY, "date": m.DATE, "float": m.NUMBER}


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
        payment), segment.
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


def read_835(source: Any, source_name: str | None = None) -> Remittance:
    """Read an 835 remittance from its text, bytes or path.

    Raises X12Error when the file is not readable X12 (or holds a transaction that is
    not an 835); everything else is read, with warnings."""
    text, name = load_text(source)
    name = source_name or name or "835"
    warnings: list = []
    segments = Segments(text, name, warnings)
    return _read(segments, name, warnings)


def _frame(rows: list, spec) -> pd.DataFrame:
    """Row lists to a typed frame; each spec entry is (column name, kind)."""
    names = [name for name, _ in spec]
    raw = pd.DataFrame(rows, columns=names, dtype=object) if rows else \
        pd.DataFrame({name: pd.Series([], dtype=object) for name in names})
    return pd.DataFrame({name: object_column(_KINDS[kind], raw[name].to_numpy())
                         for name, kind in spec}, index=pd.RangeIndex(len(rows)))


def _read(segments: Segments, source: str, warnings: list) -> Remittance:
    checks: list = []
    claims: list = []
    adjustments: list = []
    lines: list = []
    plbs: list = []
    dates = Dates()
    check_date = dates.check
    amounts: dict = {}   # amount text -> cents: remittances repeat the same few amounts
    check = claim = line = None
    isa_version = gs_version = ""
    st = claim_seq = line_seq = number = 0
    entity = ""          # the N1 loop we are in (PR payer, PE payee)
    statuses = set(m.CLAIM_STATUS_CODES)
    groups = set(m.GROUP_CODES)
    split = segments.split_components
    component = segments.delimiters.component
    amount_of = amounts.get
    units_seen: dict = {"": 1.0, "1": 1.0}

    def warn(sid, element, value, message, fix):
        warnings.append(warning(source, number, sid, element, value, message, fix))

    def money(e, i, element, what, required=True):
        text = e[i] if i < len(e) else ""
        value = amounts.get(text)
        if value is not None:
            return value
        if not text:
            if required:
                warn(e[0], element, None, f"{element} ({what}) is blank; taken as 0",
                     "ask the payer for a corrected remittance")
            return None
        try:
            value = amounts[text] = cents(text)
            return value
        except BadValue:
            warn(e[0], element, text, f"{element} ({what}) {text!r} is not an amount; taken as 0",
                 "ask the payer for a corrected remittance; post this one by hand")
            return None

    good_dates: set = set()   # dates already checked

    def date(e, i, element, what):
        text = e[i] if i < len(e) else ""
        if not text:
            return None
        try:
            check_date(text)
            good_dates.add(text)
            return text
        except BadValue:
            warn(e[0], element, text, f"{element} ({what}) {text!r} is not a date (CCYYMMDD)",
                 "enter the date by hand after importing")
            return None

    for e in segments.lists():
        number += 1
        sid = e[0]
        if sid not in _HANDLED_835:
            continue
        n = len(e)
        if sid == "CAS":
            if claim is None:
                warn(sid, "", None, "CAS outside a claim (no CLP before it); ignored",
                     "the file's structure is damaged; ask the payer to resend it")
                continue
            group = e[1] if n > 1 else ""
            if group not in groups:
                warn(sid, "CAS01", group, f"CAS01 {group!r} is not a claim adjustment group "
                     f"code ({', '.join(m.GROUP_CODES)})", "check this adjustment by hand")
            level, lseq = ("line", line_seq) if line is not None else ("claim", 0)
            claim_id = claim[2]
            if n == 4 and e[2]:  # the usual CAS: one reason, no quantity
                amount = amount_of(e[3])
                if amount is None:
                    amount = money(e, 3, "CAS03", "adjustment amount")
                adjustments.append((st, claim_seq, claim_id, level, lseq, group, e[2],
                                    amount, None, number))
                continue
            for i in range(2, min(n, 20), 3):
                reason = e[i]
                if not reason and (i + 1 >= n or not e[i + 1]):
                    continue
                quantity = None
                if i + 2 < n and e[i + 2]:
                    try:
                        quantity = number_value(e[i + 2])
                    except BadValue:
                        warn(sid, f"CAS{i + 2:02d}", e[i + 2], f"CAS{i + 2:02d} (quantity) "
                             f"{e[i + 2]!r} is not a number; left blank", "nothing to do")
                amount = amount_of(e[i + 1]) if i + 1 < n else None
                if amount is None:
                    amount = money(e, i + 1, f"CAS{i + 1:02d}", "adjustment amount")
                adjustments.append((st, claim_seq, claim_id, level, lseq, group, reason,
                                    amount, quantity, number))
        elif sid == "DTM":
            qualifier = e[1] if n > 1 else ""
            if line is not None:
                if qualifier == "472":
                    line[12] = e[2] if n > 2 and e[2] in good_dates else \
                        date(e, 2, "DTM02", "service date")
                elif qualifier == "150":
                    line[13] = date(e, 2, "DTM02", "service period start")
                elif qualifier == "151":
                    line[14] = date(e, 2, "DTM02", "service period end")
            elif claim is not None:
                index = _CLAIM_DATES.get(qualifier)
                if index is not None:
                    claim[index] = date(e, 2, "DTM02", _CLAIM_DATE_NAMES[qualifier])
            elif check is not None and qualifier == "405":
                check[8] = date(e, 2, "DTM02", "production date")
        elif sid == "SVC":
            if claim is None:
                warn(sid, "", None, "SVC outside a claim (no CLP before it); ignored",
                     "the file's structure is damaged; ask the payer to resend it")
                line = None
                continue
            line_seq += 1
            procedure = e[1] if n > 1 else ""
            composite = procedure.split(component) if component in procedure else \
                split(procedure, Segment(number, e), "SVC01")
            cpt = composite[1] if len(composite) > 1 else ""
            if not cpt:
                warn(sid, "SVC01", e[1] if n > 1 else None,
                     "SVC01 has no procedure code", "check this service line by hand")
            units = units_seen.get(e[5]) if n > 5 else 1.0
            if units is None:
                try:
                    units = units_seen[e[5]] = number_value(e[5])
                except BadValue:
                    units = 1.0
                    warn(sid, "SVC05", e[5], f"SVC05 (units paid) {e[5]!r} is not a number; "
                         "taken as 1", "nothing to do")
            billed = cpt
            if n > 6 and e[6]:
                original = split(e[6], Segment(number, e), "SVC06")
                billed = original[1] if len(original) > 1 and original[1] else cpt
            charge = amount_of(e[2]) if n > 2 else None
            if charge is None:
                charge = money(e, 2, "SVC02", "line charge")
            paid = amount_of(e[3]) if n > 3 else None
            if paid is None:
                paid = money(e, 3, "SVC03", "line paid")
            line = [st, claim_seq, claim[2], line_seq, composite[0], cpt,
                    ",".join([c for c in composite[2:6] if c]) if len(composite) > 2 else "",
                    charge, paid,
                    e[4] if n > 4 else "", units, billed, None, None, None, "", None, "",
                    number]
            lines.append(line)
        elif sid == "REF":
            qualifier = e[1] if n > 1 else ""
            if line is not None:
                if qualifier == "6R":
                    line[15] = e[2] if n > 2 else ""
            elif claim is None and check is not None and entity == "PR" and qualifier == "2U" \
                    and not check[11]:
                check[11] = e[2] if n > 2 else ""
        elif sid == "AMT":
            if line is not None and n > 1 and e[1] == "B6":
                allowed = amount_of(e[2]) if n > 2 else None
                line[16] = allowed if allowed is not None else \
                    money(e, 2, "AMT02", "allowed amount")
        elif sid == "CLP":
            if check is None:  # cannot happen: the tokenizer puts every segment in an ST
                continue
            claim_seq += 1
            line_seq = 0
            line = None
            claim_id = e[1] if n > 1 else ""
            status = e[2] if n > 2 else ""
            if not claim_id:
                warn(sid, "CLP01", None, "CLP01 (patient control number) is blank",
                     "match this claim by hand")
            if status not in statuses:
                warn(sid, "CLP02", status, f"CLP02 (claim status) {status!r} is not one of "
                     f"{', '.join(m.CLAIM_STATUS_CODES)}", "check this claim by hand")
            charge = amount_of(e[3]) if n > 3 else None
            paid = amount_of(e[4]) if n > 4 else None
            patient = amount_of(e[5]) if n > 5 and e[5] else None
            claim = [st, claim_seq, claim_id, status,
                     charge if charge is not None else money(e, 3, "CLP03", "claim charge"),
                     paid if paid is not None else money(e, 4, "CLP04", "claim paid"),
                     patient if patient is not None or n <= 5 or not e[5] else
                     money(e, 5, "CLP05", "patient responsibility", required=False),
                     e[6] if n > 6 else "", e[7] if n > 7 else "", e[8] if n > 8 else "",
                     e[9] if n > 9 else "", None, None, None, "", number]
            claims.append(claim)
        elif sid == "LQ":
            if line is not None and n > 2 and e[1] == "HE" and e[2]:
                line[17] = e[2] if not line[17] else f"{line[17]},{e[2]}"
        elif sid == "MOA" or sid == "MIA":
            if claim is not None and line is None and not claim[14]:
                indexes = (3, 4, 5, 6, 7) if sid == "MOA" else (5, 20, 21, 22, 23)
                claim[14] = next((e[i] for i in indexes if i < n and e[i]), "")
        elif sid == "N1":
            entity = e[1] if n > 1 else ""
            if check is not None and claim is None:
                if entity == "PR":
                    check[10] = e[2] if n > 2 else ""
                    check[11] = e[4] if n > 4 else ""
                elif entity == "PE":
                    check[12] = e[2] if n > 2 else ""
                    check[14] = e[4] if n > 4 else ""
                    check[13] = check[14] if n > 3 and e[3] == "XX" else ""
        elif sid == "LX":
            claim = line = None
        elif sid == "PLB":
            claim = line = None
            seg = Segment(number, e)
            provider = e[1] if n > 1 else ""
            period = date(e, 2, "PLB02", "fiscal period date")
            for i in range(3, min(n, 15), 2):
                reason_text = e[i]
                amount_text = e[i + 1] if i + 1 < n else ""
                if not reason_text and not amount_text:
                    continue
                composite = split(reason_text, seg, f"PLB{i:02d}")
                if not amount_text:
                    warn(sid, f"PLB{i + 1:02d}", None, f"PLB{i:02d} ({reason_text!r}) has no "
                         f"amount (PLB{i + 1:02d}); ignored",
                         "ask the payer what this provider-level adjustment is")
                    continue
                plbs.append((st, provider, period, composite[0],
                             composite[1] if len(composite) > 1 else "",
                             money(e, i + 1, f"PLB{i + 1:02d}", "provider adjustment"), number))
        elif sid == "BPR":
            if check is not None:
                check[4] = money(e, 2, "BPR02", "payment amount")
                check[5] = e[3] if n > 3 else ""
                check[6] = e[4] if n > 4 else ""
                check[7] = date(e, 16, "BPR16", "payment date")
        elif sid == "TRN":
            if check is not None and not check[9]:
                check[9] = e[2] if n > 2 else ""
        elif sid == "ST":
            kind = e[1] if n > 1 else ""
            if kind != "835":
                raise X12Error(f"this transaction is a {kind or '(blank)'}, not an 835 "
                               f"remittance", "read 837 claim files with read_837; choose the "
                               "835 (ERA) file here", segment=number, segment_id="ST",
                               source=source)
            st += 1
            claim = line = None
            entity = ""
            version = gs_version or (e[3] if n > 3 else "")
            check = [st, e[2] if n > 2 else "", version, _release(version, isa_version),
                     None, "", "", None, None, "", "", "", "", "", "", number]
            checks.append(check)
        elif sid == "SE":
            if check is not None and check[4] is None:
                warnings.append(warning(source, check[15], "ST", "BPR02", None,
                                        "the transaction has no BPR payment amount; its total "
                                        "cannot be checked", "ask the payer for the full 835"))
            check = claim = line = None
        elif sid == "GS":
            gs_version = e[8] if n > 8 else ""
        elif sid == "ISA":
            isa_version = e[12] if n > 12 else ""
            gs_version = ""

    frames = dict(checks=_frame(checks, CHECK_COLUMNS), claims=_frame(claims, CLAIM_COLUMNS),
                  adjustments=_frame(adjustments, ADJUSTMENT_COLUMNS),
                  service_lines=_frame(lines, LINE_COLUMNS), plb=_frame(plbs, PLB_COLUMNS))
    traces = dict(zip(frames["checks"]["st"], frames["checks"]["trace_number"]))
    claims_frame = frames["claims"]
    claims_frame.insert(len(claims_frame.columns) - 1, "trace_number",
                        pd.Series([traces.get(s, "") for s in claims_frame["st"]], dtype=object))
    sl = frames["service_lines"]
    sl.insert(4, "line", line_numbers(sl["line_control_no"], sl["line_seq"]))
    sl["service_date"] = sl["service_date"].fillna(sl["service_from"])
    return Remittance(warnings=warnings, source=source, **frames)


def line_numbers(line_control_no: pd.Series, position: pd.Series) -> pd.Series:
    """The claim line each service line pays: REF*6R when it is a whole number from 1 to
    MAX_LINE_NUMBER (practice systems often send the line number there), else the SVC's
    position in the claim."""
    ref = line_control_no.astype(str).str.strip()
    digits = ref.str.fullmatch("[0-9]{1,9}").fillna(False).astype(bool)
    numbers = pd.to_numeric(ref.where(digits, "0")).astype("int64")
    usable = digits & (numbers >= 1) & (numbers <= MAX_LINE_NUMBER)
    return pd.Series(np.where(usable, numbers, position.astype("int64")), dtype="int64",
                     index=position.index)


def _release(version: str, isa_version: str) -> str:
    if "5010" in version or isa_version == "00501":
        return "5010"
    if "4010" in version or isa_version == "00401":
        return "4010"
    return ""


def classify_adjustments(adjustments: pd.DataFrame) -> pd.Series:
    """Where each CAS amount goes on a Payments row: "patient_resp" (group PR),
    "contractual_adj" (CO with a contractual CARC, and OA-23) or "denied_amount" (any
    other CO, OA, PI or CR reason, or an unknown group)."""
    seen: dict = {}

    def bucket(group, reason) -> str:
        group, reason = str(group).strip().upper(), str(reason).strip().upper()
        if group == "PR":
            return "patient_resp"
        if (group == "CO" and reason in CONTRACTUAL_CARCS) or \
                (group == "OA" and reason == PRIOR_PAYER_CARC):
            return "contractual_adj"
        return "denied_amount"

    out = []
    for key in zip(adjustments["group"], adjustments["reason"]):
        value = seen.get(key)
        if value is None:
            value = seen[key] = bucket(*key)
        out.append(value)
    return pd.Series(out, index=adjustments.index, dtype=object)


# Columns to_payments adds after the Payments table's own, with their dtypes.
PAYMENT_EXTRAS = {"line_control_no": object, "service_date": "datetime64[ns]",
                  "billed_cpt": object, "modifier": object, "units": "Float64", "level": object,
                  "st": "int64", "segment": "int64"}


def to_payments(remittance: Remittance, source_name: str | None = None) -> pd.DataFrame:
    """Payments-table rows (model.PAYMENTS keys, money in cents) for a remittance.

    One row per SVC line: line (REF*6R when a whole number, else the SVC's position in the
    claim), cpt (SVC01), charge and paid (SVC02/03), allowed (AMT*B6; blank when not
    sent), patient_resp (CAS PR), contractual_adj (CO-45, 42, 59, 253, A2, 24, 131, 122,
    144 and OA-23), denied_amount (every other CO/OA/PI/CR amount), group_code and carc
    of the largest denial amount (for a denied claim, CLP02 = 4, of the largest
    adjustment when none is a denial), rarc (first LQ*HE). A CLP without SVC lines gives
    one row (line 1) with the claim's charge, paid and claim-level adjustments. A claim
    with SVC lines *and* claim-level CAS gets one more row on its first line (cpt blank,
    charge 0, paid = −claim-level adjustments), so the rows of a claim add up to CLP04,
    the money actually paid.

    Extra columns: line_control_no (REF*6R), service_date (DTM*472/150, else the claim's
    statement date), billed_cpt (SVC06 when the payer changed the code), modifier (the
    first), units, level ("line" or "claim"), st, segment (of the SVC or CLP: with source
    it identifies the row, so importing a file twice can be recognised).
    """
    r = remittance
    source = source_name or r.source
    claims = r.claims
    if claims.empty:
        return table_frame(m.PAYMENTS, {name: pd.Series([], dtype=dtype)
                                        for name, dtype in PAYMENT_EXTRAS.items()}, length=0)
    sl = r.service_lines
    adj = r.adjustments.copy()
    adj["bucket"] = classify_adjustments(adj)
    adj["amount0"] = adj["amount"].fillna(0).astype("int64")
    key = ["claim_seq", "line_seq"]

    has_lines = claims["claim_seq"].isin(sl["claim_seq"])
    claim_adj = adj[adj["level"] == "claim"]
    line_rows = pd.DataFrame({
        "claim_seq": sl["claim_seq"], "line_seq": sl["line_seq"], "level": "line",
        "line": sl["line"], "cpt": sl["cpt"], "charge": sl["charge"], "paid": sl["paid"],
        "allowed": sl["allowed"], "rarc": _first(sl["remarks"]),
        "line_control_no": sl["line_control_no"],
        "service_date": sl["service_date"], "billed_cpt": sl["billed_cpt"],
        "modifier": _first(sl["modifiers"]), "units": sl["units"],
        "segment": sl["segment"]})
    only = claims[~has_lines]
    claim_rows = pd.DataFrame({
        "claim_seq": only["claim_seq"], "line_seq": 0, "level": "claim", "line": 1,
        "cpt": "", "charge": only["charge"], "paid": only["paid"], "rarc": only["rarc"],
        "segment": only["segment"]})
    with_adj = claims[has_lines & claims["claim_seq"].isin(claim_adj["claim_seq"])]
    first_line = sl.groupby("claim_seq")["line"].first()
    claim_adj_total = claim_adj.groupby("claim_seq")["amount0"].sum()
    extra_rows = pd.DataFrame({
        "claim_seq": with_adj["claim_seq"], "line_seq": 0, "level": "claim",
        "line": with_adj["claim_seq"].map(first_line), "cpt": "", "charge": 0,
        "paid": -with_adj["claim_seq"].map(claim_adj_total), "rarc": with_adj["rarc"],
        "segment": with_adj["segment"]})
    frames = [frame for frame in (line_rows, claim_rows, extra_rows) if len(frame)]
    rows = pd.concat(frames, ignore_index=True) if frames else line_rows.iloc[0:0]
    rows = rows.reindex(columns=line_rows.columns)
    rows["line_seq"] = rows["line_seq"].astype("int64")
    rows["claim_seq"] = rows["claim_seq"].astype("int64")

    sums = adj.pivot_table(index=key, columns="bucket", values="amount0", aggfunc="sum")
    if len(sums):
        rows = rows.merge(sums.reset_index(), on=key, how="left")
    for bucket in ("patient_resp", "contractual_adj", "denied_amount"):
        if bucket not in rows:
            rows[bucket] = 0
        rows[bucket] = rows[bucket].fillna(0).astype("int64")

    info = claims.set_index("claim_seq")
    checks = r.checks.set_index("st")
    rows["st"] = rows["claim_seq"].map(info["st"]).astype("int64")
    rows["status"] = rows["claim_seq"].map(info["status"]).fillna("").astype(object)
    reason = _denial_reason(adj, rows[key], rows["status"])
    rows["group_code"], rows["carc"] = reason["group"], reason["reason"]
    rows["service_date"] = rows["service_date"].astype("datetime64[ns]").fillna(
        rows["claim_seq"].map(info["statement_from"]))
    # A claim's own row (line_seq 0) comes after its service lines.
    rows["order"] = rows["line_seq"].where(rows["line_seq"] > 0, 10**6)
    rows = rows.sort_values(["claim_seq", "order"], kind="stable").reset_index(drop=True)

    remit_date = checks["payment_date"].fillna(checks["production_date"])

    def text(s: pd.Series) -> pd.Series:
        s = s.astype(object)
        return s.where(s.notna(), "")

    columns = {
        "claim_id": text(rows["claim_seq"].map(info["claim_id"])),
        "line": rows["line"].astype("Int64"),
        "payor": text(rows["st"].map(checks["payer_name"])),
        "remit_date": rows["st"].map(remit_date).astype("datetime64[ns]"),
        "check_no": text(rows["st"].map(checks["trace_number"])),
        "claim_status": rows["status"],
        "payor_claim_no": text(rows["claim_seq"].map(info["payer_claim_no"])),
        "cpt": text(rows["cpt"]),
        "charge": rows["charge"].astype("Int64"),
        "allowed": rows["allowed"].astype("Int64"),
        "paid": rows["paid"].astype("Int64"),
        "patient_resp": rows["patient_resp"].astype("Int64"),
        "contractual_adj": rows["contractual_adj"].astype("Int64"),
        "denied_amount": rows["denied_amount"].astype("Int64"),
        "group_code": text(rows["group_code"]),
        "carc": text(rows["carc"]),
        "rarc": text(rows["rarc"]),
        "source": pd.Series(source, index=rows.index, dtype=object),
        "line_control_no": text(rows["line_control_no"]),
        "service_date": rows["service_date"],
        "billed_cpt": text(rows["billed_cpt"]),
        "modifier": text(rows["modifier"]),
        "units": rows["units"].astype("Float64"),
        "level": text(rows["level"]),
        "st": rows["st"],
        "segment": rows["segment"].astype("int64"),
    }
    return table_frame(m.PAYMENTS, columns, length=len(rows))


def _first(values: pd.Series) -> pd.Series:
    """The first of each comma-joined list ("25,GT" -> "25")."""
    return pd.Series([v.partition(",")[0] for v in values], index=values.index, dtype=object)


def _denial_reason(adj: pd.DataFrame, keys: pd.DataFrame, status: pd.Series) -> pd.DataFrame:
    """Group and CARC shown on each row (same index as keys): the largest denial amount's,
    or, on a denied claim (CLP02 = 4) with no denial amount, the largest adjustment's."""
    key = ["claim_seq", "line_seq"]
    ranked = adj.assign(size=adj["amount0"].abs()).sort_values("size", ascending=False,
                                                                kind="stable")
    denial = ranked[ranked["bucket"] == "denied_amount"].drop_duplicates(key).set_index(key)
    anything = ranked.drop_duplicates(key).set_index(key)
    index = pd.MultiIndex.from_frame(keys[key])
    group = np.array(denial["group"].reindex(index), dtype=object)
    reason = np.array(denial["reason"].reindex(index), dtype=object)
    fallback = pd.isna(group) & (status.to_numpy(dtype=object) == "4")
    group[fallback] = anything["group"].reindex(index).to_numpy(dtype=object)[fallback]
    reason[fallback] = anything["reason"].reindex(index).to_numpy(dtype=object)[fallback]
    return pd.DataFrame({"group": group, "reason": reason}, index=keys.index,
                        dtype=object).fillna("")
