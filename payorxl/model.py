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

# Excel number formats, as Excel users expect them (US practice workbooks).
FMT_DATE = "mm/dd/yyyy"
FMT_MONEY = '"$"#,##0.00;[Red]-"$"#,##0.00'
FMT_INT = "0"
FMT_PERCENT = "0.0%"
FMT_NUMBER = "0.00"
FORMATS = {DATE: FMT_DATE, MONEY: FMT_MONEY, INT: FMT_INT, PERCENT: FMT_PERCENT,
           NUMBER: FMT_NUMBER}

PAYOR_TYPES = ("Medicare", "Medicare Advantage", "Medicaid", "Managed Medicaid",
               "Commercial", "Tricare", "Workers Comp", "Other")
FILING_UNITS = ("days", "months")
FILING_CLOCKS = ("DOS", "Through Date", "Primary Remit", "Later of DOS and Primary Remit")
FEE_BASES = ("Fee Schedule", "% of Medicare")
YES_NO = ("Yes", "No")
CLAIM_TYPES = ("Primary", "Secondary")
FREQUENCIES = ("1", "7", "8")  # CLM05-3: original, replacement (corrected), void
# CLP02 claim status codes (X12 835): 1-3 processed as primary/secondary/tertiary,
# 4 denied, 19-21 processed as primary/secondary/tertiary forwarded, 22 reversal of
# previous payment, 23 not our claim, forwarded.
CLAIM_STATUS_CODES = ("1", "2", "3", "4", "19", "20", "21", "22", "23", "25")
GROUP_CODES = ("CO", "PR", "OA", "PI", "CR")
APPEAL_OUTCOMES = ("Pending", "Overturned", "Partially Overturned", "Upheld", "Withdrawn")


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
               "Timely filing limit, in the unit of the next column (Medicare: 12 months).", minimum=1),
        Column("Filing Unit", "filing_unit", CHOICE, False, "Unit of the filing limit.", FILING_UNITS, "days", width=10),
        Column("Filing Clock", "filing_clock", CHOICE, False,
               "What starts the filing clock.", FILING_CLOCKS, "DOS", width=20),
        Column("Corrected Claim Days", "corrected_days", INT, False,
               "Days after the original remittance to file a corrected claim (blank: the filing limit).", minimum=1),
        Column("Appeal Days", "appeal_days", INT, True,
               "Days after the denial (remittance) date to file an appeal.", minimum=1),
        Column("Mailing Days", "mailing_days", INT, False,
               "Days added to the remittance date for mailing (Medicare presumes 5).", default=0, minimum=0),
        Column("Prompt Pay Days", "prompt_pay_days", INT, False,
               "Days a clean claim may stay unpaid after filing (state law or contract).", minimum=1),
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
        Column("Renewal Months", "renewal_months", INT, False, "Length of each renewal term.", default=12, minimum=1),
        Column("Notice Days", "notice_days", INT, False,
               "Days before the term end that notice of renegotiation or termination is due.", default=90, minimum=0),
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
    ),
    key=("payor", "cpt", "modifier", "effective_from"),
)

CLAIMS = Table(
    "Claims",
    "One row per claim line billed.",
    (
        Column("Claim ID", "claim_id", TEXT, True, "Patient control number (CLM01).", width=14),
        Column("Line", "line", INT, True, "Line number within the claim.", minimum=1, width=6),
        Column("Patient ID", "patient_id", TEXT, True, "Practice's patient account number.", phi=True, width=12),
        Column("Payor", "payor", TEXT, True, "Payor billed (as in Contracts).", width=24),
        Column("Claim Type", "claim_type", CHOICE, False, "Primary or secondary claim.", CLAIM_TYPES, "Primary", width=10),
        Column("Frequency", "frequency", CHOICE, False,
               "Claim frequency: 1 original, 7 replacement (corrected), 8 void.", FREQUENCIES, "1", width=9),
        Column("CPT", "cpt", TEXT, True, "CPT/HCPCS code billed.", width=8),
        Column("Modifier", "modifier", TEXT, False, "Pricing modifier.", default="", width=9),
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
    ),
    key=("claim_id", "line"),
    calculated=(
        Calculated("Filing Deadline", "filing_deadline", DATE, "Clock start + filing limit."),
        Calculated("Filing Days Left", "filing_days_left", INT, "Filing deadline − as-of date.", width=10),
        Calculated("Filing Status", "filing_status", TEXT,
                   "Filed on time, Filed late, Open, Due soon or Missed.", width=14),
        Calculated("Expected Allowed", "expected_allowed", MONEY, "Contracted allowed × units."),
        Calculated("Paid", "paid", MONEY, "Sum of payor payments posted to the line."),
        Calculated("Allowed", "allowed", MONEY, "Sum of allowed amounts posted to the line."),
        Calculated("Variance", "variance", MONEY, "Expected allowed − allowed (positive: underpaid)."),
        Calculated("Balance", "balance", MONEY,
                   "Insurance A/R: charge − paid − contractual adj. − patient resp. − write-offs."),
        Calculated("Aging Bucket", "aging_bucket", TEXT, "Age of an open balance from the date of service.", width=9),
    ),
)

PAYMENTS = Table(
    "Payments",
    "One row per remittance line (835 SVC) or manual posting.",
    (
        Column("Claim ID", "claim_id", TEXT, True, "Patient control number (CLP01).", width=14),
        Column("Line", "line", INT, True, "Claim line paid (as in Claims).", minimum=1, width=6),
        Column("Payor", "payor", TEXT, True, "Payor that paid (as in Contracts).", width=24),
        Column("Remit Date", "remit_date", DATE, True, "Remittance (check/EFT) date."),
        Column("Check No", "check_no", TEXT, False, "Check or EFT trace number (TRN02).", width=14),
        Column("Claim Status", "claim_status", CHOICE, False,
               "CLP02: 1 primary, 2 secondary, 4 denied, 22 reversal, ...", CLAIM_STATUS_CODES, "1", width=8),
        Column("Payor Claim No", "payor_claim_no", TEXT, False, "Payor's claim control number (CLP07).", width=16),
        Column("CPT", "cpt", TEXT, False, "Procedure paid (SVC01).", width=8),
        Column("Charge", "charge", MONEY, False, "Line charge as adjudicated.", default=0),
        Column("Allowed", "allowed", MONEY, False, "Allowed amount (AMT*B6); blank: paid + patient resp.", ),
        Column("Paid", "paid", MONEY, True, "Amount paid by the payor."),
        Column("Patient Resp", "patient_resp", MONEY, False, "Patient responsibility (CAS group PR).", default=0),
        Column("Contractual Adj", "contractual_adj", MONEY, False,
               "Contractual write-down (CAS CO-45 and similar).", default=0),
        Column("Denied Amount", "denied_amount", MONEY, False,
               "Amount denied (CAS CO/OA/PI other than contractual).", default=0),
        Column("Group Code", "group_code", CHOICE, False, "CAS group of the denial reason.", GROUP_CODES, width=7),
        Column("CARC", "carc", TEXT, False, "Claim adjustment reason code of the denial.", width=7),
        Column("RARC", "rarc", TEXT, False, "Remittance advice remark code.", width=8),
        Column("Source", "source", TEXT, False, "Where the row came from (835 file or 'manual').", width=16),
    ),
    key=(),
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

INPUT_TABLES: tuple[Table, ...] = (CONTRACTS, FEE_SCHEDULE, CLAIMS, PAYMENTS, APPEALS)
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
    Setting("As-of Date", "as_of", DATE, None, "Date deadlines are measured from (blank: today)."),
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

    @classmethod
    def make(cls, as_of=None, **values) -> "Settings":
        """Settings with defaults; as_of may be a date, string or None (today)."""
        import pandas as pd
        stamp = pd.Timestamp(as_of) if as_of is not None and as_of != "" else pd.Timestamp.today()
        return cls(as_of=stamp.normalize(), **values)
