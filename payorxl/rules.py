"""The remittance rules payorxl applies, said once: what each adjustment of an 835 does to a
claim line's money, which payer a remittance is from, and how an amount is spread over
lines. The 835 reader (x12), the engine and the native formulas (workbook/formulas.py) all
read them from here, so an import, a recalculation and a formula typed in Excel can never
classify the same adjustment two ways.

Sources: X12 005010X221A1 (CLP02 claim status, CAS groups), the X12 CARC list, CMS
(sequestration, CARC 253), and ../shared/DOMAIN.md.
"""
from __future__ import annotations

import re

# What an adjustment (a CAS reason, or a PLB) does to the line it is on.
CONTRACTUAL = "Contractual"        # written down under the contract: leaves A/R, not a denial
SEQUESTRATION = "Sequestration"    # CO-253: contractual, and reported on its own
PATIENT = "Patient Resp"           # group PR: billed to the next payer or the patient
DENIED = "Denied"                  # any other CO, OA, PI or CR reason: a denial of that part
PRIOR_PAYER = "Prior Payer"        # OA-23: what an earlier payer paid or adjusted; informational
PROVIDER = "Provider"              # a PLB: money added to or taken from the whole payment
KINDS = (CONTRACTUAL, SEQUESTRATION, PATIENT, DENIED, PRIOR_PAYER, PROVIDER)

# CARCs that are contractual write-downs under group CO: the fee-schedule reduction (45,
# and 42 which payers still send for it), multiple-procedure reduction (59), sequestration
# (253), contractual adjustment (A2), capitation (24), negotiated discount (131),
# psychiatric reduction (122) and incentive adjustments (144).
CONTRACTUAL_CARCS = ("45", "42", "59", "253", "A2", "24", "131", "122", "144")
SEQUESTRATION_CARC = "253"
PRIOR_PAYER_CARC = "23"
TIMELY_FILING_CARC = "29"
# How CARC 29 may be typed for the Filing Status (engine and native formula alike): as the
# import writes it, or with its group; `check` asks for the bare code.
TIMELY_FILING_FORMS = ("29", "CO-29")
PATIENT_GROUP, CONTRACTUAL_GROUP, OTHER_GROUP = "PR", "CO", "OA"
PROVIDER_GROUP = "PLB"             # the Group of an Adjustments row that came from a PLB

# CLP02 claim status codes and the payer sequence they say (1 primary, 2 secondary, 3
# tertiary). 19/20/21 are "processed as primary/secondary/tertiary, forwarded to
# additional payer(s)": that payer's patient responsibility is the next payer's bill.
# 4 (denied), 22 (reversal), 23 (not our claim) and 25 (predetermination) do not say.
PAYER_SEQ_BY_STATUS = {"1": "1", "19": "1", "2": "2", "20": "2", "3": "3", "21": "3"}
FORWARDED = ("19", "20", "21")
DENIED_STATUS = "4"
REVERSAL_STATUS = "22"
PAYER_SEQS = ("1", "2", "3")

# Appeal levels (42 CFR 405 subpart I for Medicare: redetermination 120 days from receipt of
# the initial determination, reconsideration 180 days from the redetermination, ALJ,
# Council and federal court 60 days each; commercial contracts usually two internal
# levels). Level 1's window is the contract's Appeal Days; a later level's runs from the
# previous level's decision.
MEDICARE_TYPES = ("Medicare", "Medicare Advantage")
MEDICARE_LEVELS, DEFAULT_LEVELS = 5, 2
MEDICARE_NEXT_LEVEL_DAYS = {2: 180, 3: 60, 4: 60, 5: 60}
DEFAULT_NEXT_LEVEL_DAYS = 60

_GROUP_PREFIX = re.compile(r"^(CO|PR|OA|PI|CR)\s*-?\s*")
_FLOAT_ZERO = re.compile(r"^(\d+)\.0+$")


def reason_code(text) -> str:
    """A CARC as the CARC list spells it: trimmed, upper case, no group prefix ("CO-29",
    "co 29", " 29 ", 29.0 all give "29")."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    code = _GROUP_PREFIX.sub("", str(text).strip().upper())
    return _FLOAT_ZERO.sub(r"\1", code)


def adjustment_kind(group, reason) -> str:
    """What one adjustment does (one of KINDS), from its group and reason code."""
    group = str(group or "").strip().upper()
    code = reason_code(reason)
    if group == PROVIDER_GROUP:
        return PROVIDER
    if group == PATIENT_GROUP:
        return PATIENT
    if group == OTHER_GROUP and code == PRIOR_PAYER_CARC:
        return PRIOR_PAYER
    if group == CONTRACTUAL_GROUP and code in CONTRACTUAL_CARCS:
        return SEQUESTRATION if code == SEQUESTRATION_CARC else CONTRACTUAL
    return DENIED


def payer_seq(status) -> str:
    """The payer sequence CLP02 says ("1", "2", "3"), or "" when it does not say."""
    return PAYER_SEQ_BY_STATUS.get(str(status or "").strip(), "")


def spread(amount: int, weights: list[int]) -> list[int]:
    """`amount` (cents) spread over lines pro rata by `weights` (their charges, cents), to
    the cent: each line but the largest gets its share rounded half away from zero, the
    largest (the first of equals) gets the rest, so the shares add up to `amount` exactly.
    Weights are taken as magnitudes (a reversal's negative charges spread as the original
    did); all zero: equal weights."""
    n = len(weights)
    if n == 0:
        return []
    w = [abs(int(x)) for x in weights]        # a reversal's charges are negative
    if sum(w) == 0:
        w = [1] * n
    total = sum(w)
    largest = max(range(n), key=lambda i: (w[i], -i))
    shares = []
    for i in range(n):
        if i == largest:
            shares.append(0)
            continue
        num = abs(amount) * w[i]
        share = (2 * num + total) // (2 * total)      # half up, on the magnitude
        shares.append(share if amount >= 0 else -share)
    shares[largest] = amount - sum(shares)
    return shares


# The Payments money columns an adjustment adds to, by what it does. OA-23 (Prior Payer)
# and PLBs (Provider) are in none: they do not change what is owed on the line.
SUMMARY = {
    "patient_resp": (PATIENT,),
    "contractual_adj": (CONTRACTUAL, SEQUESTRATION),
    "sequestration": (SEQUESTRATION,),
    "denied_amount": (DENIED,),
}
