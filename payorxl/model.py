"""The tables of a payorxl workbook, declared once.

Every input table the practice keeps (Contracts, FeeSchedule, Claims, Payments, Appeals)
and the Settings sheet are declared here: column header, the key the engine uses, the kind
of value, whether it is required, the allowed values, the Excel number format and a
one-line description. The template builder, the reader and validator, the UDF argument
conversion and the documentation all read this declaration, so adding a column is a
one-place change.

Inside the engine, frames use the column *keys* (snake_case). Money is held as integer
cents (exact sums); dates as ``datetime64`` normalised to midnight; text as ``str``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Kinds of value a column can hold; conversion.py turns Excel values into these.
TEXT, INT, MONEY, DATE, PERCENT, NUMBER, CHOICE = (
    "text", "int", "money", "date", "percent", "number", "choice")
# Kinds that only results have: a status word (styled by its value on the sheets), a
# yes/no flag, a count (a KPI's whole number) and a date with its time (ImportLog).
STATUS, BOOL, COUNT, DATETIME = "status", "bool", "count", "datetime"

# Excel number formats, as Excel users expect them (US practice workbooks).
FMT_DATE = "mm/dd/yyyy"
FMT_MONEY = '"$"#,##0.00;[Red]-"$"#,##0.00'
FMT_INT = "0"
FMT_PERCENT = "0.0%"
FMT_NUMBER = "0.00"
FMT_DATETIME = "yyyy-mm-dd hh:mm"
# No claim line, payment or rate of a practice comes near this; an amount at or beyond it
# is a stray digit or an ID pasted into a money column (and past ~$92 trillion it would
# overflow the engine's integer cents), so it is a data error, not a figure.
MONEY_LIMIT = 10_000_000
# Dates payorxl reads: a year outside is a typo (or 9999-12-31 for "no end": leave it blank).
FIRST_YEAR, LAST_YEAR = 1900, 2099
# The most days (or months) a contract term may count: five years of days. No contract has
# a longer one, and a date up to LAST_YEAR plus that many months (152 years) still falls
# within the dates the engine holds (to 2262), so no deadline can wrap round.
DAY_COUNT_LIMIT = 1825
# The same for a whole number (units, a line number, days, an appeal level): past it a cell
# holds an ID or a stray paste, and past ~9.2e18 it would wrap round in int64.
INT_LIMIT = 1_000_000_000
FORMATS = {DATE: FMT_DATE, MONEY: FMT_MONEY, INT: FMT_INT, PERCENT: FMT_PERCENT,
           NUMBER: FMT_NUMBER, DATETIME: FMT_DATETIME}

PAYOR_TYPES = ("Medicare", "Medicare Advantage", "Medicaid", "Managed Medicaid",
               "Commercial", "Tricare", "Workers Comp", "Other")
FILING_UNITS = ("days", "months")
FILING_CLOCKS = ("DOS", "Through Date", "Primary Remit", "Later of DOS and Primary Remit")
FEE_BASES = ("Fee Schedule", "% of Medicare")
YES_NO = ("Yes", "No")
CLAIM_TYPES = ("Primary", "Secondary", "Tertiary")
FREQUENCIES = ("1", "7", "8")  # CLM05-3: original, replacement (corrected), void
# CLP02 claim status codes (X12 835): 1-3 processed as primary/secondary/tertiary,
# 4 denied, 19-21 processed as primary/secondary/tertiary forwarded, 22 reversal of
# previous payment, 23 not our claim, forwarded.
CLAIM_STATUS_CODES = ("1", "2", "3", "4", "19", "20", "21", "22", "23", "25")
GROUP_CODES = ("CO", "PR", "OA", "PI", "CR")
PAYER_SEQS = ("1", "2", "3")   # primary, secondary, tertiary
APPEAL_OUTCOMES = ("Pending", "Overturned", "Partially Overturned", "Upheld", "Withdrawn")
# Payment rules and denial routing vocabulary (rules.py says what each does).
FEE_SETTINGS = ("Facility", "Non-facility")
ALL_PAYORS = "All payors"
MODIFIER_PRICING = ("Base rate", "Own rate", "% of base")
DENIAL_ACTIONS = ("Correct and resubmit", "Rebill other payer", "Appeal", "Bill patient", "Write off")


@dataclass(frozen=True)
class Column:
    """One column of a table.

    name: the header billing staff see in Excel ("Date of Service").
    key: the name the engine uses ("dos").
    kind: one of text, int, money, date, percent, number, choice.
    required: a blank cell is an error.
    description: one line, shown as the header's note and in the docs.
    choices: allowed values for a choice column (a dropdown in Excel).
    default: the value a blank optional cell takes.
    minimum: the smallest allowed number (inclusive), for numeric kinds.
    maximum: the largest (inclusive): a day or month count past it would carry a date
        beyond the years the engine reads (and no contract has one).
    width: Excel column width.
    phi: holds patient-identifying information (never logged unless asked).
    """
    name: str
    key: str
    kind: str
    required: bool = False
    description: str = ""
    choices: tuple = ()
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    width: int = 14
    phi: bool = False

    @property
    def number_format(self) -> str | None:
        return FORMATS.get(self.kind)


@dataclass(frozen=True)
class Calculated:
    """A calculated column inside an input table: a native Excel formula in the
    workbook (see workbook/formulas.py) that the engine also computes, under `key`."""
    name: str
    key: str
    kind: str
    description: str
    width: int = 14

    @property
    def number_format(self) -> str | None:
        return FORMATS.get(self.kind)


@dataclass(frozen=True)
class Table:
    """An input table: its sheet (and Excel table) name, columns and row key."""
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()          # columns that identify a row (duplicates are errors)
    calculated: tuple[Calculated, ...] = field(default=())
    optional: bool = False             # a workbook made before the table existed may lack its sheet

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(f"{self.name} has no column {key!r}")

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def headers(self) -> list[str]:
        return [c.name for c in self.columns] + [c.name for c in self.calculated]


CONTRACTS = Table(
    "Contracts",
    "One row per payor contract: filing, appeal and prompt-pay terms, fee basis, term and notice.",
    (
        Column("Payor", "payor", TEXT, True, "Payor name as used on claims (unique).", width=24),
        Column("Payor Type", "payor_type", CHOICE, True, "Kind of payor.", PAYOR_TYPES, width=18),
        Column("Payor ID", "payor_id", TEXT, False, "Payer ID used by the clearinghouse (835 N1*PR).", width=12),
        Column("Filing Limit", "filing_limit", INT, True,
               "Timely filing limit, in the unit of the next column (Medicare: 12 months).",
               minimum=1, maximum=DAY_COUNT_LIMIT),
        Column("Filing Unit", "filing_unit", CHOICE, False, "Unit of the filing limit.", FILING_UNITS, "days",
               width=10),
        Column("Filing Clock", "filing_clock", CHOICE, False,
               "What starts the filing clock.", FILING_CLOCKS, "DOS", width=20),
        Column("Corrected Claim Days", "corrected_days", INT, False,
               "Days after the original remittance to file a corrected claim (blank: the filing limit).",
               minimum=1, maximum=DAY_COUNT_LIMIT),
        Column("Appeal Days", "appeal_days", INT, True,
               "Days after the denial (remittance) date to file an appeal.", minimum=1, maximum=DAY_COUNT_LIMIT),
        Column("Appeal Levels", "appeal_levels", INT, False,
               "Levels of appeal before a denial is final (blank: 5 for Medicare and Medicare Advantage, "
               "2 otherwise).", minimum=1, width=8),
        Column("Next Level Days", "next_level_days", INT, False,
               "Days after a level's decision to appeal to the next (blank: Medicare 180 for "
               "reconsideration, then 60; otherwise 60).", minimum=1, width=9, maximum=DAY_COUNT_LIMIT),
        Column("Mailing Days", "mailing_days", INT, False,
               "Days added to the remittance date for mailing (Medicare presumes 5).",
               default=0, minimum=0, maximum=DAY_COUNT_LIMIT),
        Column("Prompt Pay Days", "prompt_pay_days", INT, False,
               "Days a clean claim may stay unpaid after filing (state law or contract).",
               minimum=1, maximum=DAY_COUNT_LIMIT),
        Column("Prompt Pay Interest", "prompt_pay_interest", PERCENT, False,
               "Annual interest rate owed on late payment of a clean claim.", default=0.0, minimum=0),
        Column("Fee Basis", "fee_basis", CHOICE, False,
               "How expected allowed is set.", FEE_BASES, "Fee Schedule", width=14),
        Column("% of Medicare", "pct_of_medicare", PERCENT, False,
               "Contracted rate as a share of the Medicare fee (for '% of Medicare').", minimum=0),
        Column("Proposed % of Medicare", "proposed_pct_of_medicare", PERCENT, False,
               "What-if: a proposed rate as a share of Medicare.", minimum=0),
        Column("Effective Date", "effective_date", DATE, False, "First day of the contract term."),
        Column("Term End", "term_end", DATE, False, "Last day of the current contract term."),
        Column("Auto Renew", "auto_renew", CHOICE, False, "Renews automatically unless notice is given.",
               YES_NO, "No", width=10),
        Column("Renewal Months", "renewal_months", INT, False, "Length of each renewal term.",
               default=12, minimum=1, maximum=DAY_COUNT_LIMIT),
        Column("Notice Days", "notice_days", INT, False,
               "Days before the term end that notice of renegotiation or termination is due.",
               default=90, minimum=0, maximum=DAY_COUNT_LIMIT),
    ),
    key=("payor",),
    calculated=(
        Calculated("Notice Deadline", "notice_deadline", DATE,
                   "Last day to give notice before the current term renews or ends."),
    ),
)

FEE_SCHEDULE = Table(
    "FeeSchedule",
    "Contracted allowed amount per unit, by payor, CPT/HCPCS and modifier, effective-dated.",
    (
        Column("Payor", "payor", TEXT, True, "Payor (as in Contracts).", width=24),
        Column("CPT", "cpt", TEXT, True, "CPT/HCPCS code.", width=8),
        Column("Modifier", "modifier", TEXT, False, "Pricing modifier (blank: none).", default="", width=9),
        Column("Effective From", "effective_from", DATE, True, "First date of service the rate applies to."),
        Column("Effective To", "effective_to", DATE, False, "Last date of service (blank: open-ended)."),
        Column("Allowed", "allowed", MONEY, True, "Contracted allowed amount per unit.", minimum=0),
        Column("Proposed Allowed", "proposed_allowed", MONEY, False, "What-if: a proposed rate per unit.", minimum=0),
        Column("Setting", "setting", CHOICE, False,
               "Facility or Non-facility rate (by the claim's place of service); blank: either.",
               FEE_SETTINGS, "", width=11),
        Column("Multiple Procedure", "multiple_procedure", CHOICE, False,
               "Yes: the code is subject to the multiple-procedure reduction (Medicare's MULT PROC "
               "indicator 2) under this payor.", YES_NO, "No", width=10),
    ),
    key=("payor", "cpt", "modifier", "setting", "effective_from"),
)

CLAIMS = Table(
    "Claims",
    "One row per claim line billed.",
    (
        Column("Claim ID", "claim_id", TEXT, True, "Patient control number (CLM01).", width=14),
        Column("Line", "line", INT, True, "Line number within the claim.", minimum=1, width=6),
        Column("Patient ID", "patient_id", TEXT, True, "Practice's patient account number.", phi=True, width=12),
        Column("Payor", "payor", TEXT, True, "Payor billed (as in Contracts).", width=24),
        Column("Claim Type", "claim_type", CHOICE, False,
               "Which payer of the line this bill goes to: a Secondary or Tertiary row with the same Claim ID "
               "and Line as a Primary row is that line's next payer.", CLAIM_TYPES, "Primary",
               width=10),
        Column("Frequency", "frequency", CHOICE, False,
               "Claim frequency: 1 original, 7 replacement (corrected), 8 void.", FREQUENCIES, "1", width=9),
        Column("CPT", "cpt", TEXT, True, "CPT/HCPCS code billed.", width=8),
        Column("Modifier", "modifier", TEXT, False,
               "Pricing modifier (one: the import puts the first one that changes the price).", default="", width=9),
        Column("Units", "units", INT, False, "Units billed.", default=1, minimum=1, width=6),
        Column("Date of Service", "dos", DATE, True, "Date of service (from)."),
        Column("Through Date", "through_date", DATE, False, "Date of service (to) or discharge date."),
        Column("Charge", "charge", MONEY, True, "Billed charge for the line.", minimum=0),
        Column("Filed Date", "filed_date", DATE, False, "Date the claim was filed (blank: not yet filed)."),
        Column("Primary Remit Date", "primary_remit_date", DATE, False,
               "For a secondary claim: the primary payor's remittance date."),
        Column("Original Remit Date", "original_remit_date", DATE, False,
               "For a corrected claim (frequency 7): the remittance date of the original claim."),
        Column("Payor Claim No", "payor_claim_no", TEXT, False, "Payor's claim control number (CLP07).", width=16),
        Column("Line Control No", "line_control_no", TEXT, False, "Line item control number (REF*6R).", width=14),
        Column("POS", "pos", TEXT, False,
               "Place of service code (CLM05-1 or SV105: 11 office, 22 outpatient hospital...); facility "
               "places are paid at the facility rate.", default="", width=6),
        Column("NPP", "npp", CHOICE, False,
               "Yes: rendered by a nurse practitioner, physician assistant or clinical nurse specialist "
               "under their own NPI (paid at the NPP % of PaymentRules).", YES_NO, "No", width=6),
    ),
    key=("claim_id", "line", "claim_type"),     # a void (frequency 8) row is exempt: validate.duplicate_keys
    calculated=(
        Calculated("Role", "role", TEXT,
                   "Line: the claim line, counted in every figure; Next payer: a Secondary/Tertiary bill of a "
                   "line whose Primary row is here (its filing only); Void: the line was voided (frequency 8).",
                   width=10),
        Calculated("Filing Deadline", "filing_deadline", DATE, "Clock start + filing limit."),
        Calculated("Filing Days Left", "filing_days_left", INT, "Filing deadline − as-of date.", width=10),
        Calculated("Filing Status", "filing_status", TEXT,
                   "Filed on time or Filed late (filed again after a denial routed to a resubmission: by that "
                   "window), Open, Due soon or Missed.", width=14),
        Calculated("Setting", "setting", TEXT,
                   "Facility or Non-facility: the rate the place of service is paid at (CMS: hospital, ASC, SNF... "
                   "places are facility; the office, a blank POS too, non-facility).", width=11),
        Calculated("Base Rate", "base_rate", MONEY,
                   "FeeSchedule rate per unit of the code without a modifier (the Medicare payor's for a % of "
                   "Medicare contract), by the place of service's setting."),
        Calculated("Unit Rate", "unit_rate", MONEY,
                   "Contracted rate per unit: FeeSchedule (or % of Medicare) by modifier and setting, × the NPP % "
                   "for an NPP."),
        Calculated("Multiple Procedure", "multiple_procedure", TEXT,
                   "Yes: the code is subject to the multiple-procedure reduction (FeeSchedule).", width=10),
        Calculated("Procedure Rank", "procedure_rank", INT,
                   "Of a Multiple Procedure line: its rank on the claim that day, by unit rate (1 = highest; "
                   "each unit takes a rank).", width=9),
        Calculated("Pricing", "pricing", TEXT, "Which payment rules set the expected allowed.", width=30),
        Calculated("Expected Allowed", "expected_allowed", MONEY,
                   "Unit rate × units, reduced as the claim's procedure rank says, never more than the charge "
                   "(PaymentRules)."),
        Calculated("Paid", "paid", MONEY, "Sum of payor payments posted to the line."),
        Calculated("Remittances", "n_remits", INT,
                   "Remittance rows posted to the line (reversals too); 0: not adjudicated yet.", width=9),
        Calculated("Allowed", "allowed", MONEY,
                   "Allowed by the line's own payer (payer seq 1; 2 on a Secondary row); blank Allowed: "
                   "paid + patient resp. + sequestration."),
        Calculated("Variance", "variance", MONEY, "Expected allowed − allowed (positive: underpaid)."),
        Calculated("Underpaid", "underpaid", BOOL,
                   "TRUE: the variance is over both Underpayment Tolerances (Settings).", width=10),
        Calculated("Follow-up", "follow_up", TEXT,
                   "The line's Status on the Underpayments sheet (its last row); Open for an underpaid line "
                   "with none.", width=10),
        Calculated("Patient Share", "patient_share", MONEY,
                   "What left insurance A/R as the patient's: the last payer's patient resp. (none while that "
                   "payer forwarded the claim, or a later payer billed has not remitted)."),
        Calculated("Last Denial", "denial_date", DATE,
                   "Remit date of the line's latest denial (any payer's; blank: never denied): the appeal "
                   "and resubmission clocks start there."),
        Calculated("Denied Amount", "denied_amount", MONEY,
                   "Denied amounts posted to the line, net of reversals."),
        Calculated("Denied First Pass", "denied_first_pass", BOOL,
                   "TRUE: the line's first remittance denied it, in full or in part (the initial denial "
                   "rate counts it).", width=10),
        Calculated("Denial Action", "denial_action", TEXT,
                   "What the line's latest denial calls for (DenialRouting): Correct and resubmit, Rebill other "
                   "payer, Appeal, Bill patient or Write off.", width=16),
        Calculated("Appeal Status", "appeal_status", TEXT,
                   "Of a denial to appeal: Open, Due soon or Missed (its window, or the next level's once "
                   "upheld), Appealed on time or late, or Upheld at the final level.", width=14),
        Calculated("Resubmit Status", "resubmit_status", TEXT,
                   "Of a denial routed to a resubmission: Open, Due soon, Missed, or Resubmitted (late).",
                   width=14),
        Calculated("Prompt Pay Status", "prompt_pay_status", TEXT,
                   "Of a clean claim filed under a contract with Prompt Pay Days: Pending, Overdue, Paid on "
                   "time or Paid late.", width=12),
        Calculated("Written Off", "written_off", MONEY,
                   "Denied dollars written off: the final level of appeal upheld, the appeal or resubmission "
                   "window missed, or a denial routed to Write off."),
        Calculated("Balance", "balance", MONEY,
                   "Insurance A/R: charge − paid − contractual adj. − the last payer's patient resp. "
                   "(none while forwarded) − write-offs."),
        Calculated("Aging Bucket", "aging_bucket", TEXT, "Age of an open balance from the date of service.", width=9),
    ),
)

PAYMENTS = Table(
    "Payments",
    "One row per remittance line (835 SVC) or manual posting; its adjustments, one row each, are in Adjustments.",
    (
        Column("Claim ID", "claim_id", TEXT, True, "Patient control number (CLP01).", width=14),
        Column("Line", "line", INT, True, "Claim line paid (as in Claims).", minimum=1, width=6),
        Column("Payor", "payor", TEXT, True, "Payor that paid (as in Contracts).", width=24),
        Column("Remit Date", "remit_date", DATE, True, "Remittance (check/EFT) date."),
        Column("Check No", "check_no", TEXT, False, "Check or EFT trace number (TRN02).", width=14),
        Column("Claim Status", "claim_status", CHOICE, False,
               "CLP02: 1/2/3 processed as primary/secondary/tertiary, 19/20/21 the same and forwarded "
               "to the next payer, 4 denied, 22 reversal, ...", CLAIM_STATUS_CODES, "1", width=8),
        Column("Payer Seq", "payer_seq", CHOICE, False,
               "Which payer of the line this is: 1 primary, 2 secondary, 3 tertiary (from CLP02; blank: 1).",
               PAYER_SEQS, "1", width=7),
        Column("Payor Claim No", "payor_claim_no", TEXT, False, "Payor's claim control number (CLP07).", width=16),
        Column("CPT", "cpt", TEXT, False, "Procedure paid (SVC01).", width=8),
        Column("Charge", "charge", MONEY, False, "Line charge as adjudicated.", default=0),
        Column("Allowed", "allowed", MONEY, False,
               "Allowed amount (AMT*B6); blank: paid + patient resp. + sequestration.", ),
        Column("Paid", "paid", MONEY, True, "Amount paid by the payor."),
        Column("Patient Resp", "patient_resp", MONEY, False, "Patient responsibility (CAS group PR).", default=0),
        Column("Contractual Adj", "contractual_adj", MONEY, False,
               "Contractual write-down (CO-45, 42, 59, 253, A2, 24, 131, 122, 144); not OA-23.", default=0),
        Column("Sequestration", "sequestration", MONEY, False,
               "Of the contractual adj.: Medicare sequestration (CO-253).", default=0),
        Column("Denied Amount", "denied_amount", MONEY, False,
               "Amount denied: every other CO, OA, PI or CR reason (a part of a paid line too); not OA-23.",
               default=0),
        Column("Group Code", "group_code", CHOICE, False, "CAS group of the largest denial.", GROUP_CODES, width=7),
        Column("CARC", "carc", TEXT, False, "Claim adjustment reason code of the largest denial.", width=7),
        Column("RARC", "rarc", TEXT, False, "Remittance advice remark code.", width=8),
        Column("Interest", "interest", MONEY, False,
               "Prompt-pay interest the payer paid with the claim (AMT*I), on its first line.", default=0),
        Column("Source", "source", TEXT, False, "Where the row came from (835 file or 'manual').", width=16),
    ),
    key=(),
    calculated=(
        Calculated("Action", "action", TEXT,
                   "For a denial: what to do (DenialRouting, by group, CARC and remark code; Appeal when no row "
                   "matches).", width=16),
    ),
)

# The columns that tie an Adjustments row to its Payments row.
REMIT_KEY = ("claim_id", "line", "payor", "remit_date", "check_no", "claim_status")
LEVELS = ("line", "claim", "provider")

ADJUSTMENTS = Table(
    "Adjustments",
    "Every adjustment of every remittance: one row per CAS reason (line, or claim-level spread over "
    "the claim's lines) and per PLB provider-level adjustment. Import fills it; the Payments row's "
    "Patient Resp, Contractual Adj, Sequestration and Denied Amount are its sums by rule.",
    (
        Column("Claim ID", "claim_id", TEXT, False,
               "Patient control number (CLP01); blank for a PLB that names no claim.", width=14),
        Column("Line", "line", INT, False, "Claim line (as in Claims); blank for a PLB.", minimum=1, width=6),
        Column("Payor", "payor", TEXT, True, "Payor of the remittance (as in Contracts).", width=24),
        Column("Remit Date", "remit_date", DATE, True, "Remittance (check/EFT) date."),
        Column("Check No", "check_no", TEXT, False, "Check or EFT trace number (TRN02).", width=14),
        Column("Claim Status", "claim_status", CHOICE, False, "CLP02 of the claim.", CLAIM_STATUS_CODES,
               width=8),
        Column("Level", "level", CHOICE, False,
               "line (CAS after an SVC), claim (claim-level CAS, spread over the lines) or provider (PLB).",
               LEVELS, "line", width=8),
        Column("Group", "group_code", CHOICE, True, "CAS group (CO, PR, OA, PI, CR), or PLB.",
               GROUP_CODES + ("PLB",), width=7),
        Column("Reason", "reason", TEXT, True, "CARC (CAS), or the PLB reason (WO, 72, FB, L6...).", width=8),
        Column("Amount", "amount", MONEY, True,
               "Amount adjusted (CAS); for a PLB, positive takes money back, negative pays more."),
        Column("Quantity", "quantity", NUMBER, False, "Units adjusted (CAS04).", width=8),
        Column("RARC", "rarc", TEXT, False, "Remark codes of the line (LQ*HE) or claim (MOA).", width=10),
        Column("Payor Claim No", "payor_claim_no", TEXT, False,
               "Payor's claim control number (CLP07; for a PLB, PLB03-2 when it names one).", width=16),
        Column("Source", "source", TEXT, False, "The 835 file the row came from.", width=16),
    ),
    key=(),
    calculated=(
        Calculated("Applies To", "kind", TEXT,
                   "What the adjustment does: Contractual, Sequestration, Patient Resp, Denied, Prior Payer "
                   "(OA-23: informational) or Provider (PLB).", width=13),
    ),
    optional=True,
)

ACK_RESULTS = ("Accepted", "Rejected", "Pending")
ACK_KINDS = ("277CA", "999")

ACKNOWLEDGEMENTS = Table(
    "Acknowledgements",
    "What the clearinghouse and payer said of each claim sent: one row per 277CA claim status and per "
    "999 rejection. A claim rejected after its Filed Date was never received: it counts as not filed.",
    (
        Column("Claim ID", "claim_id", TEXT, False,
               "Patient control number (277CA TRN02, 999 CTX); blank: a whole 837 file.", width=14),
        Column("Payor", "payor", TEXT, False, "Payer or clearinghouse that answered.", width=24),
        Column("Status Date", "status_date", DATE, True, "Date of the status (STC02), else of the file."),
        Column("Result", "result", CHOICE, True,
               "Accepted (A1, A2, A5), Rejected (A3, A4, A6, A7, A8, 999 R) or Pending.", ACK_RESULTS, width=10),
        Column("Category", "category", TEXT, False, "STC01-1 claim status category (A1, A7...).", width=9),
        Column("Status Code", "status_code", TEXT, False, "STC01-2 claim status code.", width=9),
        Column("Message", "message", TEXT, False, "Why, as sent (STC12 or the 999 errors).", width=40),
        Column("Payor Claim No", "payor_claim_no", TEXT, False, "Payer's claim number (REF*1K).", width=16),
        Column("Kind", "kind", CHOICE, False, "277CA or 999.", ACK_KINDS, "277CA", width=7),
        Column("Source", "source", TEXT, False, "The file the row came from.", width=16),
    ),
    key=(),
    optional=True,
)

FOLLOW_UP_STATUSES = ("Open", "Sent", "Recovered", "Invalid")

UNDERPAYMENTS = Table(
    "Underpayments",
    "Your follow-up of each underpaid line: sent to the payor, recovered, or found invalid. payorxl reads it "
    "and never writes it; an underpaid line with no row here is Open.",
    (
        Column("Claim ID", "claim_id", TEXT, True, "Claim of the underpaid line.", width=14),
        Column("Line", "line", INT, True, "Claim line.", minimum=1, width=6),
        Column("Status", "status", CHOICE, True,
               "Open (to send), Sent (to the payor, awaiting its answer), Recovered (paid), Invalid (not owed).",
               FOLLOW_UP_STATUSES, "Open", width=10),
        Column("Status Date", "status_date", DATE, False, "When the status was set (sent, recovered...)."),
        Column("Amount Recovered", "recovered", MONEY, False, "What the payor paid back.", default=0, minimum=0),
        Column("Note", "note", TEXT, False, "Reference, contact, reason.", width=30),
    ),
    key=("claim_id", "line"),
    optional=True,
)

APPEALS = Table(
    "Appeals",
    "One row per appeal filed on a denied or underpaid claim line.",
    (
        Column("Claim ID", "claim_id", TEXT, True, "Claim appealed.", width=14),
        Column("Line", "line", INT, True, "Claim line appealed.", minimum=1, width=6),
        Column("Appeal Date", "appeal_date", DATE, True, "Date the appeal was filed."),
        Column("Level", "level", INT, False, "Appeal level (1 = first).", default=1, minimum=1, width=6),
        Column("Outcome", "outcome", CHOICE, False, "Result of the appeal.", APPEAL_OUTCOMES, "Pending", width=18),
        Column("Decision Date", "decision_date", DATE, False, "Date of the payor's decision."),
        Column("Amount Recovered", "recovered", MONEY, False, "Additional amount paid after the appeal.", default=0),
    ),
    key=("claim_id", "line", "level"),
)


PAYMENT_RULES = Table(
    "PaymentRules",
    "Your contracts' payment rules, one row per payor (the All payors row for the rest): lesser of charge, "
    "multiple-procedure percentages, the non-physician practitioner percentage. A blank cell takes the All "
    "payors row's, then Medicare's rule.",
    (
        Column("Payor", "payor", TEXT, True, f"Payor (as in Contracts), or {ALL_PAYORS!r}.", width=24),
        Column("Lesser Of Charge", "lesser_of", CHOICE, False,
               "Yes: the payor allows the lesser of the contracted amount and the billed charge.", YES_NO, width=9),
        Column("First Procedure %", "first_pct", PERCENT, False,
               "Multiple procedures: the highest-rated procedure of a claim and date of service (Medicare 100%).",
               minimum=0, width=10),
        Column("Second Procedure %", "second_pct", PERCENT, False, "The second (Medicare 50%).", minimum=0,
               width=10),
        Column("Further Procedures %", "further_pct", PERCENT, False, "The third and later (Medicare 50%).",
               minimum=0, width=10),
        Column("NPP %", "npp_pct", PERCENT, False,
               "Share of the rate paid for a line rendered by an NPP (Medicare 85%).", minimum=0, width=8),
        Column("Note", "note", TEXT, False, "Contract section, source.", width=30),
    ),
    key=("payor",),
    optional=True,
)

MODIFIERS = Table(
    "Modifiers",
    "How each modifier prices a line: at the code's base rate (informational: 25, 59...), at the FeeSchedule "
    "rate listed with it (26, TC), or at a percentage of the base rate (50, 80...). A FeeSchedule row with the "
    "claim's modifier always wins.",
    (
        Column("Modifier", "modifier", TEXT, True, "The modifier (two characters).", width=9),
        Column("Pricing", "pricing", CHOICE, True,
               "Base rate, Own rate (a FeeSchedule row with the modifier), or % of base.", MODIFIER_PRICING,
               width=11),
        Column("Percent", "percent", PERCENT, False, "For % of base: the share of the base rate.", minimum=0,
               width=9),
        Column("Description", "description", TEXT, False, "What it means.", width=40),
    ),
    key=("modifier",),
    optional=True,
)

DENIAL_ROUTING = Table(
    "DenialRouting",
    "What to do about each denial, by group, CARC and remark code: the most specific matching row wins (group "
    "and RARC, then RARC, then group, then the bare CARC). Seeded from the X12 CARC list; yours to change.",
    (
        Column("Group", "group_code", CHOICE, False, "CAS group (blank: any).", GROUP_CODES, "", width=7),
        Column("CARC", "carc", TEXT, True, "Claim adjustment reason code, without its group (16, not CO-16).",
               width=7),
        Column("RARC", "rarc", TEXT, False, "Remark code the remittance must carry (blank: any).", default="",
               width=8),
        Column("Category", "category", TEXT, False, "Root cause the denial is reported under.", width=22),
        Column("Action", "action", CHOICE, True,
               "Correct and resubmit or Rebill other payer (filing window), Appeal (appeal window), Bill "
               "patient, or Write off.", DENIAL_ACTIONS, width=20),
        Column("Description", "description", TEXT, False, "What the code means.", width=50),
    ),
    key=("group_code", "carc", "rarc"),
    optional=True,
)

INPUT_TABLES: tuple[Table, ...] = (CONTRACTS, FEE_SCHEDULE, CLAIMS, PAYMENTS, ADJUSTMENTS, ACKNOWLEDGEMENTS,
                                    APPEALS, UNDERPAYMENTS, PAYMENT_RULES, MODIFIERS, DENIAL_ROUTING)
TABLES = {t.name: t for t in INPUT_TABLES}


@dataclass(frozen=True)
class Setting:
    """One row of the Settings sheet."""
    name: str
    key: str
    kind: str
    default: Any
    description: str


SETTINGS = (
    Setting("Practice Name", "practice_name", TEXT, "", "Shown on the Dashboard."),
    Setting("As-of Date", "as_of", DATE, None,
            "Date deadlines are measured from (blank: today, the Dashboard's Today)."),
    Setting("Filing Due Soon Days", "filing_due_soon_days", INT, 30,
            "An unfiled claim is 'Due soon' this many days before its filing deadline."),
    Setting("Appeal Due Soon Days", "appeal_due_soon_days", INT, 14,
            "A denial is 'Due soon' this many days before its appeal deadline."),
    Setting("Notice Due Soon Days", "notice_due_soon_days", INT, 60,
            "A contract is 'Due soon' this many days before its notice deadline."),
    Setting("Underpayment Tolerance $", "tolerance_amount", MONEY, 1.00,
            "A line is underpaid when expected − allowed exceeds this amount ..."),
    Setting("Underpayment Tolerance %", "tolerance_pct", PERCENT, 0.02,
            "... and this share of expected allowed."),
    Setting("Medicare Reference Payor", "medicare_payor", TEXT, "Medicare",
            "Payor whose fee schedule is the Medicare rate for '% of Medicare' contracts."),
    Setting("Days in A/R Period", "ar_period_days", INT, 90,
            "Days of charges averaged for Days in A/R."),
)
SETTINGS_BY_KEY = {s.key: s for s in SETTINGS}

# Owned sheets: payorxl rewrites these on every recalculation; nothing else is touched.
OWNED_SHEETS = ("Dashboard", "Worklist", "Scorecard", "Aging", "Portfolio",
                "Reconciliation", "Exceptions")
SETTINGS_SHEET = "Settings"


@dataclass(frozen=True)
class Settings:
    """The Settings sheet as the engine sees it (money in cents, as_of resolved)."""
    as_of: Any  # pandas Timestamp at midnight
    practice_name: str = ""
    filing_due_soon_days: int = 30
    appeal_due_soon_days: int = 14
    notice_due_soon_days: int = 60
    tolerance_amount: int = 100          # cents
    tolerance_pct: float = 0.02
    medicare_payor: str = "Medicare"
    ar_period_days: int = 90
    # What a blank As-of Date stands for: today, or the date a run was told to take as today
    # (`recalc --as-of`). The Dashboard shows it as its Today, which the native formulas
    # read for a blank As-of Date (formulas.settings_names).
    today: Any = None

    @classmethod
    def make(cls, as_of=None, today=None, **values) -> Settings:
        """Settings with defaults; as_of may be a date, string or None (`today`, itself
        today's date unless given)."""
        import pandas as pd
        now = (pd.Timestamp(today) if today is not None else pd.Timestamp.today()).normalize()
        stamp = pd.Timestamp(as_of).normalize() if as_of is not None and as_of != "" else now
        return cls(as_of=stamp, today=now, **values)


# --- results: every table payorxl writes -------------------------------------------------
# The owned sheets, the UDFs' spilled tables, `report --csv` and the JSON outputs are all
# laid out from these declarations (workbook/sheets.py, excel/udfs.py, report.py), so a
# column's header, kind (and so its Excel format and its unit in CSV/JSON) is said once.

@dataclass(frozen=True)
class Field:
    """One column of a result table.

    name: the header on the sheet ("Amount at Risk"); key: the engine frame's column
    ("amount"); kind: text, int, money, date, percent, number, status, bool, datetime;
    description: one line for the docs; width: Excel column width; number_format: an
    Excel format when the kind's default (FORMATS) is not the one wanted."""
    name: str
    key: str
    kind: str
    description: str = ""
    width: float = 14
    number_format: str | None = None

    @property
    def excel_format(self) -> str | None:
        return self.number_format or FORMATS.get(self.kind)


@dataclass(frozen=True)
class Output:
    """A result table: `name` names it in CSV files and JSON; `title` heads its sheet."""
    name: str
    title: str
    description: str
    fields: tuple[Field, ...]

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.fields]

    @property
    def headers(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(f"{self.name} has no field {key!r}")

    def only(self, *keys: str) -> tuple[Field, ...]:
        return tuple(self.field(k) for k in keys)

    def grouped_by(self, name: str, key: str, kind: str = TEXT) -> Output:
        """The same table with its first (grouping) column replaced, e.g. aging by CPT."""
        return Output(self.name, self.title, self.description,
                      (Field(name, key, kind, self.fields[0].description, self.fields[0].width),) + self.fields[1:])


def _money(name, key, description="", width=14):
    return Field(name, key, MONEY, description, width)


AGING_BUCKETS = ("0-30", "31-60", "61-90", "91-120", "120+")

WORKLIST = Output("worklist", "Worklist — what to do next, most urgent first",
                  "One row per action: deadlines about to pass, denials to appeal, underpayments, notices.", (
    Field("Rank", "rank", INT, "Most urgent first: dollars at risk ÷ days left.", 6),
    Field("Action", "action", TEXT, "What to do.", 24),
    Field("Payor", "payor", TEXT, "", 32),
    Field("Claim ID", "claim_id", TEXT, "", 14),
    Field("Line", "line", INT, "", 6),
    Field("CPT", "cpt", TEXT, "", 8),
    Field("Date of Service", "dos", DATE, "", 12),
    _money("Amount at Risk", "amount", "Dollars the action protects.", 14),
    Field("Deadline", "deadline", DATE, "", 12),
    Field("Days Left", "days_left", INT, "Deadline − as-of date.", 10),
    Field("Status", "status", STATUS, "Missed, Due soon, Open...", 10),
    Field("Detail", "detail", TEXT, "Why, in words.", 66),
))

SCORECARD = Output("scorecard", "Payor scorecard", "One row per payor: volume, denials, collections, A/R, deadlines.", (
    Field("Payor", "payor", TEXT, "", 32),
    Field("Payor Type", "payor_type", TEXT, "", 18),
    Field("Claims", "claims", INT, "", 10),
    Field("Lines", "lines", INT, "", 10),
    _money("Charges", "charges", "", 14),
    _money("Paid", "paid", "", 14),
    Field("Initial Denial Rate", "denial_rate", PERCENT, "HFMA MAP Key, claims basis.", 13),
    Field("Denial Rate ($)", "charge_denial_rate", PERCENT, "HFMA MAP Key, charges basis.", 13),
    _money("Adjudicated Charges", "charges_adjudicated", "Charges of the lines with a remittance.", 14),
    _money("Contractual Adj", "contractual_adj", "Contractual adjustments of those lines.", 14),
    Field("Net Collection Rate", "net_collection_rate", PERCENT,
          "MGMA: Paid ÷ (Adjudicated Charges − Contractual Adj).", 13),
    _money("A/R", "ar", "Insurance A/R.", 14),
    Field("Underpaid Lines", "underpaid_lines", INT, "", 10),
    _money("Underpayment", "underpayment", "Open or sent underpayments (Underpayments sheet).", 13),
    _money("Recovered", "recovered", "Underpayments recovered (Underpayments sheet).", 13),
    Field("Missed Filing", "missed_filing", INT, "Never filed in time, or filed late.", 10),
    Field("Missed Appeals", "missed_appeals", INT, "", 10),
    Field("Due Soon", "due_soon", INT, "", 10),
))

AGING = Output("aging", "Insurance A/R aging by payor (days from date of service)",
               "Open insurance balances by age from the date of service.", (
    Field("Payor", "payor", TEXT, "", 32),
    *(_money(b, b, f"Balance on lines {b} days from the date of service.") for b in AGING_BUCKETS),
    _money("Total", "total", "All open balances."),
    Field("Open Lines", "open_lines", INT, "Lines with a balance.", 11),
    Field("Open Claims", "open_claims", INT, "Claims with a balance.", 11),
))

DENIALS = Output("denials", "Initial denial rate", "HFMA initial denial rate, by payor, root cause, CPT or month.", (
    Field("Payor", "payor", TEXT, "The grouping.", 24),
    Field("Claims adjudicated", "claims_adjudicated", INT),
    Field("Claims denied", "claims_denied", INT),
    Field("Denial rate", "denial_rate", PERCENT, "Claims denied ÷ claims adjudicated."),
    _money("Charges adjudicated", "charges_adjudicated"),
    _money("Charges denied", "charges_denied"),
    Field("Denial rate ($)", "charge_denial_rate", PERCENT, "Charges denied ÷ charges adjudicated."),
))
DENIAL_GROUPS = {"payor": "Payor", "category": "Category", "cpt": "CPT", "month": "Month"}

MONTHLY = Output("monthly", "Charges, payments and denial rate by month of service", "The last 12 months.", (
    Field("Month", "month", TEXT), _money("Charges", "charges"), _money("Paid", "paid"),
    Field("Denial rate", "denial_rate", PERCENT),
))

DEADLINES = Output("deadlines", "Deadlines", "Missed and due-soon counts and dollars by kind of deadline.", (
    Field("Deadline", "deadline", TEXT), Field("Missed", "missed", INT), _money("Missed $", "missed_amount"),
    Field("Due soon", "due_soon", INT), _money("Due soon $", "due_soon_amount"),
))

EXCEPTIONS = Output("exceptions", "Exceptions — rows left out of the figures, and warnings",
                    "Every problem found in the data: where it is and how to fix it.", (
    Field("Severity", "severity", TEXT, "Error (row left out) or Warning.", 10),
    Field("Sheet", "sheet", TEXT, "", 14),
    Field("Row", "row", INT, "", 8),
    Field("Column", "column", TEXT, "", 20),
    Field("Value", "value", TEXT, "Patient IDs masked.", 24),
    Field("Problem", "problem", TEXT, "", 60),
    Field("Fix", "fix", TEXT, "", 70),
))

RECONCILIATION = Output("reconciliation", "Remittance reconciliation (835 balancing)",
                        "Each imported 835's totals and balancing failures, and payments with no claim line.", (
    Field("Item", "item", TEXT, "835 file, Balancing failure, Unmatched payment or Provider adjustment (PLB).", 19),
    Field("Status", "status", STATUS, "", 15),
    Field("File", "file", TEXT, "", 22),
    Field("Imported At", "imported_at", DATE, "", 12),
    Field("Check No", "check_no", TEXT, "", 11),
    Field("Claim ID", "claim_id", TEXT, "", 13),
    Field("Line", "line", INT, "", 6),
    Field("Payor", "payor", TEXT, "", 30),
    Field("CPT", "cpt", TEXT, "", 7),
    _money("Paid", "paid", "Sum of CLP04.", 12),
    _money("Provider Adj Amount", "provider_adj_amount", "Sum of PLB amounts.", 18),
    _money("Payment Amount", "payment_amount", "BPR02: the money sent.", 16),
    _money("Difference Amount", "difference_amount", "Paid − PLB − payment: zero when the file balances.", 17),
    Field("Detail", "detail", TEXT, "", 60),
))

IMPORT_LOG = Output("import_log", "ImportLog", "One row per imported 835/837P file; appended by `payorxl import`.", (
    Field("Imported At", "imported_at", DATETIME, "When the file was imported.", 17),
    Field("File", "file", TEXT, "The file's name.", 36),
    Field("SHA-256", "sha256", TEXT, "Fingerprint of the file's bytes: the same file is never imported twice.",
          20, "@"),
    Field("Kind", "kind", TEXT, "835 (remittance) or 837P (professional claims).", 7),
    Field("ISA13", "isa13", TEXT, "Interchange control number(s).", 11, "@"),
    Field("GS06", "gs06", TEXT, "Group control number(s).", 9, "@"),
    Field("ST count", "st_count", INT, "Transactions in the file.", 8, "0"),
    Field("Claims", "claims", INT, "Claims (CLP or CLM) in the file.", 8, "#,##0"),
    Field("Lines", "lines", INT, "Service lines (SVC or SV1) in the file.", 8, "#,##0"),
    _money("Paid Total", "paid_total", "835: sum of CLP04, what the claims paid.", 14),
    _money("BPR Total", "bpr_total", "835: sum of BPR02, the money sent (debits negative).", 14),
    _money("PLB Total", "plb_total", "835: sum of PLB amounts (positive reduces the payment).", 14),
    Field("Balanced", "balanced", TEXT, "835: Yes when every line, claim and transaction balances.", 9),
    Field("Unmatched", "unmatched", INT, "835: payment rows with no claim line in Claims.", 10, "#,##0"),
    Field("Balancing Failures", "failures", TEXT, "835: each balancing failure, one a line.", 60),
))

PAYER_MIX = Output("payer_mix", "Payer mix", "Claims, charges and payments by payor, with shares.", (
    Field("Payor", "payor", TEXT, "", 32), Field("Payor Type", "payor_type", TEXT, "", 18),
    Field("Claims", "claims", INT), Field("Lines", "lines", INT), _money("Charges", "charges"), _money("Paid", "paid"),
    Field("Share Of Charges", "share_of_charges", PERCENT), Field("Share Of Paid", "share_of_paid", PERCENT),
))
RENEWAL_CALENDAR = Output("calendar", "Contract renewal and notice calendar",
                          "Each contract's term end and last day to give notice.", (
    Field("Payor", "payor", TEXT, "", 32), Field("Payor Type", "payor_type", TEXT, "", 18),
    Field("Term End", "term_end", DATE), Field("Auto Renew", "auto_renew", TEXT),
    Field("Notice Deadline", "notice_deadline", DATE), Field("Days Left", "days_left", INT),
    Field("Status", "status", STATUS),
))
RATES = Output("rates", "Rates in force compared with Medicare", "Each contracted rate beside the Medicare rate.", (
    Field("Payor", "payor", TEXT, "", 32), Field("Payor Type", "payor_type", TEXT, "", 18),
    Field("Fee Basis", "fee_basis", TEXT), Field("CPT", "cpt", TEXT), Field("Modifier", "modifier", TEXT),
    _money("Allowed", "allowed"), _money("Medicare Rate", "medicare_rate"),
    Field("% Of Medicare", "pct_of_medicare", PERCENT), _money("Gap To Medicare", "gap_to_medicare"),
))
WHAT_IF = Output("what_if", "What-if: proposed rates on the last 12 months' volume",
                 "Revenue at current and proposed rates on the last 12 months' units.", (
    Field("Payor", "payor", TEXT, "", 32), Field("CPT", "cpt", TEXT), Field("Modifier", "modifier", TEXT),
    Field("Units", "units", INT), _money("Current Rate", "current_rate"), _money("Proposed Rate", "proposed_rate"),
    _money("Current Revenue", "current_revenue"), _money("Proposed Revenue", "proposed_revenue"),
    _money("Change", "change"),
))
REVENUE_BY_PAYOR_CPT = Output("revenue_by_payor_cpt", "Revenue and volume by payor and CPT",
                              "Lines, units, charges and payments by payor and CPT.", (
    Field("Payor", "payor", TEXT, "", 32), Field("CPT", "cpt", TEXT), Field("Lines", "lines", INT),
    Field("Units", "units", INT), _money("Charges", "charges"), _money("Paid", "paid"),
    _money("Paid Per Unit", "paid_per_unit"),
))
PORTFOLIO = (PAYER_MIX, RENEWAL_CALENDAR, RATES, WHAT_IF, REVENUE_BY_PAYOR_CPT)

# Every per-line result (report --csv lines.csv): the Claims columns, then what the engine
# adds. patient_id is written only as a pseudonym (report --deidentify).
LINES = Output("lines", "Claim lines", "One row per claim line: its inputs and every per-line result.", (
    *(Field(c.name, c.key, TEXT if c.kind == CHOICE else c.kind, c.description) for c in CLAIMS.columns),
    _money("Paid", "paid", "Sum of every payer's payments posted to the line."),
    _money("Allowed", "allowed", "Allowed by the line's own payer (payer seq 1; 2 on a Secondary row)."),
    _money("Patient Resp", "patient_resp", "Patient responsibility, every payer's."),
    _money("Contractual Adj", "contractual_adj"), _money("Sequestration", "sequestration"),
    _money("Received", "received", "Paid + patient resp. + sequestration from the line's own payer."),
    _money("Denied Amount", "denied_amount"),
    Field("Last Payer Seq", "last_payer_seq", INT, "The highest payer sequence that has remitted."),
    Field("Forwarded", "forwarded", BOOL, "That payer forwarded the claim to the next payer (CLP02 19/20/21)."),
    _money("Patient Share", "patient_share",
           "What left insurance A/R as the patient's: the last payer's patient resp. (0 while forwarded)."),
    Field("Partial Denial", "partial_denial", BOOL, "Paid, with part of the line denied."),
    Field("Denial Open", "denial_open", BOOL, "Denied in full or in part: a denial to work."),
    Field("Awaiting Reprocessing", "awaiting_reprocessing", BOOL,
          "Every adjudication reversed (CLP02 22), no correction yet."),
    _money("Interest Paid", "interest", "Prompt-pay interest paid (AMT*I; PLB L6 naming the claim), first line."),
    Field("Rejected", "rejected", BOOL, "The latest acknowledgement since filing rejects the claim: not filed."),
    Field("Rejected On", "rejected_on", DATE), Field("Rejection", "rejection", TEXT, "Category:code and message."),
    Field("Accepted On", "accepted_on", DATE, "The latest acceptance (277CA A1/A2/A5) since filing."),
    Field("Remittances", "n_remits", INT), Field("First Remit Date", "first_remit_date", DATE),
    Field("Last Remit Date", "last_remit_date", DATE), _money("First Paid", "first_paid"),
    Field("Denied First Pass", "denied_first_pass", BOOL), Field("Denial Date", "denial_date", DATE),
    Field("Denial CARC", "denial_carc", TEXT), Field("Denial Group", "denial_group", TEXT),
    Field("Denial RARC", "denial_rarc", TEXT, "Remark codes of the latest denial."),
    Field("Denial Action", "denial_action", TEXT,
          "What the open denial calls for (DenialRouting; Appeal once appealed)."),
    Field("CARC 29", "carc29", BOOL), Field("Adjudicated", "adjudicated", BOOL), Field("Denied", "denied", BOOL),
    Field("Fee Source", "fee_source", TEXT), Field("Setting", "setting", TEXT, "Facility or Non-facility."),
    _money("Base Rate", "base_rate"), _money("Unit Rate", "unit_rate"),
    Field("Multiple Procedure", "multiple_procedure", TEXT, "Yes: subject to the multiple-procedure reduction."),
    Field("Procedure Rank", "procedure_rank", INT, "Rank of its first unit among the claim's such lines that day."),
    Field("Pricing", "pricing", TEXT, "The payment rules that set the expected allowed."),
    _money("Expected Allowed", "expected_allowed", "Unit rate × units, as the payment rules reduce it."),
    _money("Variance", "variance", "Expected allowed − allowed (positive: underpaid)."),
    _money("Variance vs Paid", "variance_vs_paid"), Field("Underpaid", "underpaid", BOOL),
    Field("Clock Start", "clock_start", DATE), Field("Filing Deadline", "filing_deadline", DATE),
    Field("Filing Days Left", "filing_days_left", INT), Field("Filing Status", "filing_status", STATUS),
    Field("Appeal Deadline", "appeal_deadline", DATE), Field("Appeal Days Left", "appeal_days_left", INT),
    Field("Appeal Date", "appeal_date", DATE), Field("Appeal Status", "appeal_status", STATUS),
    Field("Appeal Level", "appeal_level", INT, "The level of appeal the line stands at (the next to file)."),
    Field("Resubmit Deadline", "resubmit_deadline", DATE,
          "A denial routed to a resubmission: latest denial + Corrected Claim Days, else the filing deadline."),
    Field("Resubmit Days Left", "resubmit_days_left", INT),
    Field("Resubmit Status", "resubmit_status", STATUS, "Resubmitted, Open, Due soon or Missed."),
    Field("Prompt Pay Due", "prompt_pay_due", DATE), Field("Prompt Pay Status", "prompt_pay_status", STATUS),
    Field("Prompt Pay Days Late", "prompt_pay_days_late", INT),
    _money("Prompt Pay Interest", "prompt_pay_interest", "Interest owed on a late clean claim."),
    Field("Denial Category", "denial_category", TEXT), _money("Written Off", "written_off"),
    Field("Write-off Reason", "writeoff_reason", TEXT),
    _money("Balance", "balance", "Insurance A/R."), Field("Credit", "credit", BOOL),
    Field("Aging Bucket", "aging_bucket", TEXT),
    Field("Underpayment Deadline", "underpayment_deadline", DATE),
    Field("Follow-up", "follow_up", TEXT, "Underpayments' Status of an underpaid line (blank row: Open)."),
    Field("Follow-up Date", "follow_up_date", DATE), _money("Recovered", "recovered_underpayment",
                                                            "Amount Recovered on the line's Underpayments row."),
    Field("Underpayment Days Left", "underpayment_days_left", INT), Field("Appealed", "appealed", BOOL),
))


@dataclass(frozen=True)
class KPIDef:
    """A headline figure: key, label, kind (percent, money, number, count), definition
    (may name a Settings key in braces, e.g. {ar_period_days}) and the source it follows."""
    key: str
    label: str
    kind: str
    definition: str
    source: str = ""


KPIS = (
    KPIDef("initial_denial_rate", "Initial denial rate", PERCENT,
           "claims denied (in full or in part) on first adjudication ÷ claims adjudicated", "HFMA MAP Key"),
    KPIDef("charge_denial_rate", "Initial denial rate ($)", PERCENT,
           "charges of the lines denied (in full or in part) on first adjudication ÷ charges adjudicated",
           "HFMA MAP Key"),
    KPIDef("final_denial_writeoff_rate", "Final denial write-off rate", PERCENT,
           "denied dollars written off (appeal upheld or missed) ÷ charges adjudicated", "HFMA MAP Key"),
    KPIDef("appeal_overturn_rate", "Appeal overturn rate", PERCENT, "appeals won (fully or partly) ÷ appeals decided"),
    KPIDef("clean_claim_rate", "Clean claim rate", PERCENT,
           "claims with no denial on first adjudication and never resubmitted ÷ claims adjudicated", "HFMA"),
    KPIDef("first_pass_resolution_rate", "First-pass resolution rate", PERCENT,
           "claims resolved by their first remittance ÷ claims adjudicated"),
    KPIDef("net_collection_rate", "Net collection rate", PERCENT, "payments ÷ (charges − contractual adjustments)",
           "MGMA"),
    KPIDef("days_in_ar", "Days in A/R", NUMBER,
           "A/R ÷ average daily gross charges over the last {ar_period_days} days", "MGMA"),
    KPIDef("ar_total", "A/R (insurance)", MONEY,
           "charge − paid − contractual adj. − the last payer's patient resp. − write-offs, open lines"),
    KPIDef("underpayment", "Underpayments", MONEY, "expected allowed − allowed on lines short beyond the tolerance"),
    KPIDef("missed_deadlines", "Missed deadlines", COUNT,
           "filing (never filed, or filed late), appeal and prompt-pay deadlines passed, and contract notices "
           "missed"),
    KPIDef("missed_amount", "Missed deadlines ($ at risk)", MONEY,
           "dollars at risk on the lines whose deadline passed: expected allowed (the charge where there is no "
           "rate) for filing and prompt pay, the denied amount for appeals"),
    KPIDef("at_risk", "Due soon", COUNT, "deadlines inside their due-soon window (Settings)"),
    KPIDef("at_risk_amount", "Due soon ($ at risk)", MONEY,
           "dollars at risk on the lines whose deadline is inside its due-soon window: expected allowed (the "
           "charge where there is no rate) for filing, the denied amount for appeals"),
)
KPIS_BY_KEY = {k.key: k for k in KPIS}
KPI_TABLE = Output("kpis", "KPIs", "Every headline figure, its definition and source.", (
    Field("KPI", "kpi", TEXT), Field("Label", "label", TEXT), Field("Value", "value", NUMBER,
                                                                    "Money in dollars, rates as fractions."),
    Field("Kind", "kind", TEXT), Field("Definition", "definition", TEXT), Field("Source", "source", TEXT),
))

OUTPUTS: tuple[Output, ...] = (LINES, WORKLIST, SCORECARD, AGING, DENIALS, MONTHLY, DEADLINES, EXCEPTIONS,
                               RECONCILIATION, IMPORT_LOG, *PORTFOLIO, KPI_TABLE)

# What an 835 imported without balancing says in its Payments rows' Source column, and the
# kinds of file the ImportLog records.
UNBALANCED_SOURCE = "UNBALANCED: "
KIND_835, KIND_837, KIND_999, KIND_277CA = "835", "837P", "999", "277CA"


# --- many practices: `payorxl rollup` (payorxl/rollup.py) --------------------------------
# Every rate of a roll-up comes with its numerator and denominator, so the totals can
# recompute it from the summed figures (never an average of the practices' rates).
_PAYOR_BENCHMARK = (
    Field("Claims Adjudicated", "claims_adjudicated", INT, "Distinct claims with a remittance.", 12),
    Field("Claims Denied", "claims_denied", INT, "Distinct claims denied on first adjudication.", 10),
    Field("Denial Rate", "denial_rate", PERCENT, "Claims denied ÷ claims adjudicated (HFMA, claims basis).", 10),
    Field("Lines Adjudicated", "lines_adjudicated", INT, "Claim lines with a remittance.", 12),
    Field("Underpaid Lines", "underpaid_lines", INT, "Lines paid short beyond the tolerance.", 11),
    Field("Underpayment Rate", "underpayment_rate", PERCENT, "Underpaid lines ÷ lines adjudicated.", 12),
    _money("Underpayment", "underpayment", "Expected allowed − allowed on the underpaid lines.", 13),
    Field("Lines Timed", "lines_timed", INT, "Lines with both a filed date and a first remittance.", 10),
    Field("Days Total", "days_total", INT, "Sum over the timed lines of days from filed date to first remittance.",
          11),
    Field("Days To Pay", "days_to_pay", NUMBER, "Average days from filed date to first remittance: "
          "days total ÷ lines timed.", 10),
    Field("Top Denial Reasons", "top_denial_reasons", TEXT,
          "The most frequent denial reasons (CAS group-CARC) with their line counts.", 36),
)
ROLLUP_PRACTICES = Output("rollup_practices", "Practices — every KPI with its numerator and denominator",
                          "One row per practice workbook; the totals row (rollup_totals) recomputes every rate "
                          "from the summed numerators and denominators.", (
    Field("Workbook", "workbook", TEXT, "The file's name.", 24),
    Field("Practice", "practice", TEXT, "Practice Name (Settings).", 30),
    Field("As Of", "as_of", DATE, "The date the figures are measured from.", 11),
    Field("Claim Lines", "claim_lines", INT, "Claim lines in the figures.", 10),
    Field("Rows Left Out", "rows_left_out", INT, "Rows with errors, left out of the figures.", 9),
    Field("Warnings", "warnings", INT, "", 9),
    Field("Initial Denial Rate", "initial_denial_rate", PERCENT, "Claims denied ÷ claims adjudicated.", 10),
    Field("Claims Adjudicated", "claims_adjudicated", INT, "", 12),
    Field("Claims Denied", "claims_denied", INT, "On first adjudication.", 10),
    Field("Denial Rate ($)", "charge_denial_rate", PERCENT, "Charges denied ÷ charges adjudicated.", 10),
    _money("Charges Adjudicated", "charges_adjudicated", "Charges of the lines with a remittance."),
    _money("Charges Denied", "charges_denied", "Charges of the lines denied on first adjudication."),
    Field("Clean Claim Rate", "clean_claim_rate", PERCENT, "Clean claims ÷ claims adjudicated.", 10),
    Field("Clean Claims", "clean_claims", INT, "", 10),
    Field("First-pass Resolution Rate", "first_pass_resolution_rate", PERCENT,
          "Claims resolved by their first remittance ÷ claims adjudicated.", 11),
    Field("First-pass Resolved", "first_pass_resolved", INT, "", 10),
    Field("Appeal Overturn Rate", "appeal_overturn_rate", PERCENT, "Appeals overturned ÷ appeals decided.", 10),
    Field("Appeals Decided", "appeals_decided", INT, "", 9),
    Field("Appeals Overturned", "appeals_overturned", INT, "Fully or partly.", 10),
    Field("Final Denial Write-off Rate", "final_denial_writeoff_rate", PERCENT,
          "Denied dollars written off ÷ charges adjudicated.", 11),
    _money("Written Off", "written_off", "Denied dollars written off (appeal upheld or missed)."),
    Field("Net Collection Rate", "net_collection_rate", PERCENT, "Payments ÷ net charges.", 10),
    _money("Payments", "payments", "Payor payments on the adjudicated lines."),
    _money("Net Charges", "net_charges", "Charges adjudicated − contractual adjustments."),
    _money("Contractual Adj", "contractual_adj", "On the adjudicated lines."),
    Field("Days in A/R", "days_in_ar", NUMBER, "A/R ÷ average daily charges.", 9),
    _money("A/R", "ar_total", "Insurance A/R (positive balances)."),
    *(_money(b, b, f"A/R on lines {b} days from the date of service.", 12) for b in AGING_BUCKETS),
    _money("Avg Daily Charges", "avg_daily_charges",
           "Charges with a date of service in the A/R period ÷ its days (the totals: the practices' sum)."),
    _money("Period Charges", "period_charges", "Charges with a date of service in the A/R period."),
    Field("A/R Period Days", "ar_period_days", INT, "Days in A/R Period (Settings).", 9),
    Field("Underpaid Lines", "underpaid_lines", INT, "", 10),
    _money("Underpayment", "underpayment", "Expected allowed − allowed on lines short beyond the tolerance."),
    Field("Missed Deadlines", "missed_deadlines", INT, "Filing, appeal, prompt pay and contract notices.", 10),
    _money("Missed $", "missed_amount", "Dollars on lines whose deadline passed."),
    Field("Due Soon", "due_soon", INT, "Deadlines inside their due-soon window.", 9),
    _money("Due Soon $", "due_soon_amount", "Dollars on lines whose deadline is due soon."),
))
ROLLUP_PAYORS = Output("rollup_payors", "Payor benchmark — all practices",
                       "One row per payor (by name) over every practice: rates from the summed counts.", (
    Field("Payor", "payor", TEXT, "", 32),
    Field("Practices", "practices", INT, "Practices with lines of this payor.", 10),
    *_PAYOR_BENCHMARK,
))
ROLLUP_PAYOR_PRACTICES = Output("rollup_payor_practices", "Payor benchmark — by practice",
                                "One row per practice and payor.", (
    Field("Practice", "practice", TEXT, "", 30),
    Field("Workbook", "workbook", TEXT, "", 24),
    Field("Payor", "payor", TEXT, "", 32),
    *_PAYOR_BENCHMARK,
))
ROLLUP_FAILED = Output("rollup_failed", "Workbooks not rolled up",
                       "Each workbook that could not be read or calculated, and why.", (
    Field("Workbook", "workbook", TEXT, "", 30),
    Field("Path", "path", TEXT, "As given.", 50),
    Field("Reason", "reason", TEXT, "What is wrong, and the fix.", 100),
))
ROLLUP_OUTPUTS = (ROLLUP_PRACTICES, ROLLUP_PAYORS, ROLLUP_PAYOR_PRACTICES, ROLLUP_FAILED)
OUTPUTS = OUTPUTS + ROLLUP_OUTPUTS
