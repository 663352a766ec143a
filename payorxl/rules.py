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

from .model import ALL_PAYORS, DENIAL_ACTIONS, FEE_SETTINGS, MODIFIER_PRICING

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


def group_prefix(text) -> str:
    """The group a reason code was typed with ("CO-16", "co 16" -> "CO"), or "" when it has
    none (or is nothing but a group)."""
    typed = "" if text is None or (isinstance(text, float) and text != text) else str(text).strip().upper()
    found = _GROUP_PREFIX.match(typed)
    return found.group(1) if found and found.end() < len(typed) else ""


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


# --- payment rules: what a contract should pay for a line (engine/reimbursement.py) -------
# Sources: CMS Medicare Claims Processing Manual (Pub. 100-04) ch. 12: §20.4.2 site of
# service (facility and non-facility rates), §40.6 multiple surgery (indicator 2: the
# highest-valued procedure at 100%, others on the same day at 50%), §20.4.5 and §120
# non-physician practitioners (85% of the fee schedule), §40.7 bilateral (modifier 50:
# 150%), §20.4.3 assistant at surgery (80/82: 16%; AS: 85% of that, 13.6%); 42 CFR 414.20
# and 414.22; the lesser of the actual charge and the fee schedule amount (Social Security
# Act §1848(a)(1)). A contract may say otherwise: the PaymentRules and Modifiers tables
# (user-owned, seeded by `payorxl new`) hold the practice's terms.

# Places of service (CMS POS code set) paid at the facility rate (Pub. 100-04 ch. 12
# §20.4.2); every other code, and a blank one, is paid at the non-facility rate.
FACILITY_POS = ("02", "19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53",
                "56", "61")
FACILITY, NON_FACILITY = FEE_SETTINGS
ALL = ALL_PAYORS                   # the PaymentRules row whose terms apply to every payor

# How a modifier prices a line (Modifiers table): at the code's own rate without it (an
# informational modifier: 25, 59, XE...), at the FeeSchedule rate listed with it (26, TC),
# or at a percentage of the code's base rate (50 bilateral, 80/82/AS assistants).
BASE_RATE, OWN_RATE, PCT_OF_BASE = MODIFIER_PRICING
MODIFIER_SEED = (
    ("25", BASE_RATE, None, "Significant, separately identifiable E/M on the day of a procedure"),
    ("59", BASE_RATE, None, "Distinct procedural service"),
    ("XE", BASE_RATE, None, "Separate encounter"),
    ("XS", BASE_RATE, None, "Separate structure"),
    ("XP", BASE_RATE, None, "Separate practitioner"),
    ("XU", BASE_RATE, None, "Unusual non-overlapping service"),
    ("GT", BASE_RATE, None, "Via interactive audio and video telecommunication"),
    ("95", BASE_RATE, None, "Synchronous telemedicine service"),
    ("93", BASE_RATE, None, "Synchronous telemedicine, audio only"),
    ("24", BASE_RATE, None, "Unrelated E/M during a postoperative period"),
    ("57", BASE_RATE, None, "Decision for surgery"),
    ("76", BASE_RATE, None, "Repeat procedure, same physician"),
    ("77", BASE_RATE, None, "Repeat procedure, another physician"),
    ("79", BASE_RATE, None, "Unrelated procedure during a postoperative period"),
    ("91", BASE_RATE, None, "Repeat clinical laboratory test"),
    ("LT", BASE_RATE, None, "Left side"),
    ("RT", BASE_RATE, None, "Right side"),
    ("GA", BASE_RATE, None, "Waiver of liability (ABN) on file"),
    ("GC", BASE_RATE, None, "Performed in part by a resident"),
    ("KX", BASE_RATE, None, "Requirements in the medical policy met"),
    ("Q6", BASE_RATE, None, "Fee-for-time compensation (locum tenens)"),
    ("26", OWN_RATE, None, "Professional component: its own FeeSchedule rate"),
    ("TC", OWN_RATE, None, "Technical component: its own FeeSchedule rate"),
    ("50", PCT_OF_BASE, 1.5, "Bilateral procedure: 150% of the base rate"),
    ("80", PCT_OF_BASE, 0.16, "Assistant surgeon: 16%"),
    ("82", PCT_OF_BASE, 0.16, "Assistant surgeon, no qualified resident: 16%"),
    ("AS", PCT_OF_BASE, 0.136, "Non-physician assistant at surgery: 85% of 16%"),
    ("62", PCT_OF_BASE, 0.625, "Two surgeons: 62.5% each"),
)

# PaymentRules terms and what a blank cell means (the All payors row, then these).
LESSER_OF_DEFAULT = "Yes"
PROCEDURE_PCTS_DEFAULT = (1.0, 0.5, 0.5)    # first, second, third and later procedures
NPP_PCT_DEFAULT = 0.85

# --- denial routing: what to do about a denial (engine/denials.py) -------------------------
# Each denial is routed by its group, CARC and remark codes (the DenialRouting table, seeded
# from data/denial_routing.csv) to one action, and each action has its clock: a
# resubmission or a rebill runs against the filing window (a claim returned as
# unprocessable, CO-16 with MA130, has no appeal rights: Pub. 100-04 ch. 1 §80.3.2), an
# appeal against the appeal window; billing the patient and writing off have none.
CORRECT, REBILL, APPEAL, BILL_PATIENT, WRITE_OFF = ACTIONS = DENIAL_ACTIONS
RESUBMIT_ACTIONS = (CORRECT, REBILL)     # run against the filing window
DEFAULT_ACTION = APPEAL                  # a denial no routing row matches
DEFAULT_CATEGORY = "Other"
_SPLIT_RE = re.compile(r"[\s,;:]+")


def remark_codes(text) -> frozenset:
    """The remark codes (RARCs) in a cell: split on commas, blanks, semicolons and colons,
    upper case. "MA130, N290" -> {"MA130", "N290"}."""
    if text is None or (isinstance(text, float) and text != text):
        return frozenset()
    return frozenset(c for c in _SPLIT_RE.split(str(text).strip().upper()) if c)


def route_score(route_group: str, route_rarc: str) -> int:
    """How specific a routing row is: a row naming a group and a remark code beats one
    naming a remark code, which beats one naming a group, which beats the bare CARC."""
    return 1 + 2 * bool(route_group) + 4 * bool(route_rarc)
