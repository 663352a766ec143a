"""A fictional practice to try payorxl on: Riverside Family Medicine, one year of claims.

`generate_demo()` builds the five input tables and the Settings of a small family
practice — eight payors of every kind (Medicare, a Medicare Advantage plan, state
Medicaid and a managed Medicaid plan, three commercial plans, TRICARE), an
effective-dated fee schedule with mid-year rate changes, about 2,500 claims (4,500 claim
lines) over the twelve months ending on the as-of date, their remittances (payments,
patient responsibility, contractual write-downs, denials with real CARCs) and appeals.

Everything ordinary is generated to stay clear of every alarm the engine raises: claims
are filed 1-10 days after the visit and paid at the contracted rate within the payor's
prompt-pay window; every denial old enough to worry about has been appealed, and the
rest are young enough that their appeal window is neither missed nor due soon; every
contract's notice date is far off. Then a known set of problems is planted — missed and
late filings, underpayments, appeal windows missed or closing, a contract notice coming
due, clean claims unpaid past prompt pay — and listed in `Demo.planted`, so a test can
check that the engine reports exactly these and nothing else.

`generate_large()` produces the same kind of data, without planted problems, at any size
(for benchmarks). Both are deterministic: numpy's `default_rng(seed)` is the only source
of randomness, so the same seed gives the same workbook.

Inside, tables are built column-wise in the engine's own types (cents, datetime64) and
turned into Excel values only at the end (`records_from_frame`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from . import model as m
from .codec import to_cents
from .conversion import ROW, empty_frame, typed_frame
from .engine.seeds import SEEDS

PRACTICE_NAME = "Riverside Family Medicine"
CLAIM_PREFIX = "RFM"
DEFAULT_AS_OF = dt.date(2026, 10, 31)
DEMO_CLAIMS = 2500

SETTINGS = {
    "filing_due_soon_days": 30,
    "appeal_due_soon_days": 14,
    "notice_due_soon_days": 60,
    "tolerance_amount": 1.00,
    "tolerance_pct": 0.02,
    "medicare_payor": "Medicare",
    "ar_period_days": 90,
}

NAT = np.datetime64("NaT", "D")

# --- the payors ----------------------------------------------------------------------

# Plan classes decide which codes are billed and how the patient's share is figured.
MEDICARE, MA, MEDICAID, COMMERCIAL, TRICARE = "medicare", "ma", "medicaid", "commercial", "tricare"


@dataclass(frozen=True)
class _Payor:
    """One contract of the demo practice (see model.CONTRACTS for each term).

    term_months_ahead: the term ends at the end of the month this many months after
        the as-of date (None: no term end, as for Medicare and state Medicaid);
    term_years: length of the current term, which sets the Effective Date;
    patients: share of the patient panel; visits: relative visit frequency.
    """
    name: str
    payor_type: str
    payor_id: str
    short: str
    plan: str
    filing_limit: int
    filing_unit: str
    appeal_days: int
    mailing_days: int
    prompt_pay_days: int
    interest: float
    fee_basis: str
    pct: float | None
    proposed_pct: float | None
    term_months_ahead: int | None
    term_years: int
    auto_renew: str
    notice_days: int | None
    patients: float
    visits: float


PAYORS: tuple[_Payor, ...] = (
    _Payor("Medicare", "Medicare", "04912", "MCR", MEDICARE, 12, "months", 120, 5, 30, 0.04625,
           "Fee Schedule", None, None, None, 0, "No", None, 0.24, 1.5),
    _Payor("Silver Harbor Medicare Advantage", "Medicare Advantage", "SHMA7", "SHMA", MA, 180, "days",
           60, 0, 30, 0.10, "% of Medicare", 1.00, None, 14, 3, "Yes", 90, 0.13, 1.5),
    _Payor("State Medicaid", "Medicaid", "SMD01", "SMCD", MEDICAID, 365, "days", 90, 0, 30, 0.0,
           "Fee Schedule", None, None, None, 0, "No", None, 0.08, 1.0),
    _Payor("Riverbend Community Health Plan", "Managed Medicaid", "RCHP2", "RCHP", MEDICAID, 180, "days",
           60, 0, 30, 0.12, "% of Medicare", 0.78, None, 14, 2, "Yes", 60, 0.10, 1.0),
    # Keystone's notice date is the planted one: its term ends four months out.
    _Payor("Keystone Blue PPO", "Commercial", "KBP55", "KBP", COMMERCIAL, 90, "days", 180, 0, 30, 0.12,
           "% of Medicare", 1.25, 1.35, None, 3, "Yes", 90, 0.17, 1.0),
    _Payor("Northstar Health", "Commercial", "NSH10", "NSH", COMMERCIAL, 180, "days", 180, 0, 45, 0.18,
           "Fee Schedule", None, None, 8, 2, "Yes", 120, 0.13, 1.0),
    _Payor("Cascade Choice HMO", "Commercial", "CCH33", "CCH", COMMERCIAL, 90, "days", 180, 0, 30, 0.10,
           "% of Medicare", 1.12, None, 14, 3, "Yes", 90, 0.10, 1.0),
    _Payor("TRICARE East", "Tricare", "TRIEA", "TRI", TRICARE, 365, "days", 90, 0, 30, 0.0,
           "% of Medicare", 1.00, None, 11, 5, "Yes", 90, 0.05, 1.0),
)
PAYOR_INDEX = {p.name: i for i, p in enumerate(PAYORS)}
NOTICE_DUE_PAYOR = "Keystone Blue PPO"
RATE_CHANGE_PAYOR = "Northstar Health"   # own fee schedule, raised 6% mid-year
RATE_CHANGE = 1.06

# --- the codes -----------------------------------------------------------------------

# (code, kind, 2026 Medicare national non-facility rate in cents, paid on a yearly
# physician fee schedule). Clinical lab and vaccine prices (CLFS, ASP) did not change
# in 2026, so they have one open-ended row; physician services get a row per year.
EM, PREVENTIVE, OTHER, VACCINE, LAB = "em", "preventive", "other", "vaccine", "lab"
CODES = (
    ("99203", EM, 11297, True), ("99204", EM, 17162, True), ("99212", EM, 5794, True),
    ("99213", EM, 9246, True), ("99214", EM, 13060, True), ("99215", EM, 18364, True),
    ("99395", PREVENTIVE, 12738, True), ("99396", PREVENTIVE, 13647, True),
    ("G0439", PREVENTIVE, 13335, True),
    ("G2211", OTHER, 1637, True), ("93000", OTHER, 1688, True), ("96127", OTHER, 471, True),
    ("G0008", VACCINE, 3418, True), ("90471", VACCINE, 1752, True), ("90686", VACCINE, 2131, False),
    ("36415", LAB, 300, False), ("85025", LAB, 777, False), ("80053", LAB, 1056, False),
    ("80061", LAB, 1339, False), ("83036", LAB, 971, False), ("87880", LAB, 1607, False),
)
CPT = np.array([c[0] for c in CODES], dtype=object)
CODE_INDEX = {c[0]: i for i, c in enumerate(CODES)}
KIND = np.array([c[1] for c in CODES], dtype=object)
MEDICARE_2026 = np.array([c[2] for c in CODES], dtype=np.int64)
PFS_YEARLY_CHANGE = 1.033  # 2025 -> 2026 physician fee schedule
MEDICAID_SHARE = 0.72
NORTHSTAR_SHARE = 1.22
CHANGED_KINDS = (EM, PREVENTIVE)  # Northstar's raise applies to visits only

# Visit (line 1) mix by plan class: Medicare does not cover 9939x (it pays G0439).
VISITS = {
    MEDICARE: {"99212": .06, "99213": .33, "99214": .35, "99215": .06, "99203": .03, "99204": .03, "G0439": .14},
    MA: {"99212": .06, "99213": .33, "99214": .35, "99215": .06, "99203": .03, "99204": .03, "G0439": .14},
    MEDICAID: {"99212": .08, "99213": .38, "99214": .24, "99215": .03, "99203": .06, "99204": .03,
               "99395": .10, "99396": .08},
    COMMERCIAL: {"99212": .05, "99213": .36, "99214": .24, "99215": .03, "99203": .06, "99204": .03,
                 "99395": .11, "99396": .12},
    TRICARE: {"99212": .05, "99213": .36, "99214": .24, "99215": .03, "99203": .06, "99204": .03,
              "99395": .11, "99396": .12},
}
# What else is billed with the visit: none, G2211 add-on, venipuncture + a lab test,
# ECG, screening instrument, flu shot (product + administration), rapid strep test.
EXTRAS = ("none", "g2211", "labs", "ecg", "screen", "flu", "strep")
EXTRA_P = np.array([.36, .12, .24, .05, .07, .12, .04])
LAB_TESTS = ("85025", "80053", "80061", "83036")
LAB_P = np.array([.30, .25, .25, .20])
FLU_MONTHS = (9, 10, 11, 12, 1, 2, 3)

# --- denials -------------------------------------------------------------------------

# (group, CARC, RARC, weight, chance an appeal overturns it)
CLAIM_DENIALS = (
    ("CO", "16", "MA130", .30, .75),   # missing/invalid information
    ("CO", "197", "", .16, .50),       # precertification/authorization absent
    ("CO", "50", "N115", .14, .45),    # not medically necessary
    ("CO", "27", "", .14, .20),        # coverage terminated before the date of service
    ("CO", "18", "", .10, .60),        # exact duplicate claim
    ("CO", "96", "N130", .16, .25),    # non-covered charge
)
LINE_DENIALS = (
    ("CO", "97", "M15", .40, .30),     # bundled into another service
    ("CO", "4", "", .20, .70),         # modifier inconsistent with the procedure
    ("CO", "11", "", .25, .60),        # diagnosis inconsistent with the procedure
    ("CO", "96", "N130", .15, .25),    # non-covered charge
)
CLAIM_DENIAL_RATE = 0.062
LINE_DENIAL_RATE = 0.05   # of claims with more than one line


# --- the planted problems --------------------------------------------------------------

LineKey = tuple[str, int]


@dataclass(frozen=True)
class Planted:
    """The problems planted in the demo practice, each a sorted tuple of claim lines
    (claim_id, line) — or of payor names for contracts. The ordinary data meet none of
    these conditions, so an engine run on the demo must report exactly these.

    missed_filing: never filed, and the filing deadline (DOS + the payor's limit) passed.
    filed_late: filed after the filing deadline; the payor denied them with CO-29.
    filing_due_soon: not filed; the deadline falls 0-30 days after the as-of date.
    underpaid: allowed below the contracted rate by more than $1.00 and 2% (Northstar
        still paying its old rates after its mid-year raise, and four random short-pays,
        fewer in a practice too small to have four candidates).
    appeal_missed: denied, not appealed, and the appeal deadline (denial remittance date
        + mailing days + appeal days) passed.
    appeal_due_soon: denied, not appealed, appeal deadline 0-14 days after the as-of date.
    notice_due_soon: contracts whose notice deadline (term end − notice days) falls
        0-60 days after the as-of date.
    prompt_pay_overdue: filed, never adjudicated, and the prompt-pay due date (filed +
        prompt-pay days) is before the as-of date.
    """
    missed_filing: tuple[LineKey, ...] = ()
    filed_late: tuple[LineKey, ...] = ()
    filing_due_soon: tuple[LineKey, ...] = ()
    underpaid: tuple[LineKey, ...] = ()
    appeal_missed: tuple[LineKey, ...] = ()
    appeal_due_soon: tuple[LineKey, ...] = ()
    notice_due_soon: tuple[str, ...] = ()
    prompt_pay_overdue: tuple[LineKey, ...] = ()

    def as_dict(self) -> dict[str, tuple]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Demo:
    """A generated practice.

    records: table name -> rows, each a dict keyed by column key holding what Excel
        would hold (str, int, float dollars, datetime.date, None for a blank cell).
    settings: Settings key -> value, as typed on the Settings sheet.
    planted: the problems planted on purpose.
    """
    records: dict[str, list[dict]]
    settings: dict[str, object]
    planted: Planted

    def frames(self) -> dict[str, pd.DataFrame]:
        """The typed engine frames, through the same conversion a workbook goes through.
        Raises ValueError if any cell fails to convert (the demo must load clean)."""
        out = {}
        for name, table in m.TABLES.items():
            converted = typed_frame(table, self.records[name])
            if converted.errors:
                raise ValueError(f"demo {name} does not convert: {converted.errors[0]}")
            out[name] = converted.frame
        return out

    def settings_obj(self) -> m.Settings:
        s = self.settings
        return m.Settings.make(
            as_of=s["as_of"], practice_name=s["practice_name"],
            filing_due_soon_days=s["filing_due_soon_days"], appeal_due_soon_days=s["appeal_due_soon_days"],
            notice_due_soon_days=s["notice_due_soon_days"],
            tolerance_amount=to_cents(s["tolerance_amount"]), tolerance_pct=s["tolerance_pct"],
            medicare_payor=s["medicare_payor"], ar_period_days=s["ar_period_days"])


# --- dates ---------------------------------------------------------------------------

def _d(value) -> np.datetime64:
    return np.datetime64(value, "D")


def _add_months(day: dt.date, months: int) -> dt.date:
    """Excel's EDATE: the same day `months` later, clamped to the end of the month."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    following = dt.date(year + (month0 == 11), (month0 + 1) % 12 + 1, 1)
    last = (following - dt.timedelta(days=1)).day
    return dt.date(year, month0 + 1, min(day.day, last))


def _month_end(day: dt.date) -> dt.date:
    return _add_months(day.replace(day=1), 1) - dt.timedelta(days=1)


def _holidays(first_year: int, last_year: int) -> np.ndarray:
    """Days the office is closed: US federal holidays a family practice observes."""
    days = []
    for y in range(first_year, last_year + 1):
        def nth(month, weekday, n, y=y):
            first = dt.date(y, month, 1)
            return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

        def observed(day):
            return day + dt.timedelta(days={5: -1, 6: 1}.get(day.weekday(), 0))
        last_may = dt.date(y, 5, 31)
        days += [observed(dt.date(y, 1, 1)), last_may - dt.timedelta(days=last_may.weekday()),
                 observed(dt.date(y, 7, 4)), nth(9, 0, 1), nth(11, 3, 4), observed(dt.date(y, 12, 25))]
    return np.array(days, dtype="datetime64[D]")


def _workday(days: np.ndarray, holidays: np.ndarray, roll: str = "forward") -> np.ndarray:
    """Roll dates onto a business day (NaT stays NaT)."""
    days = np.asarray(days, dtype="datetime64[D]")
    out = days.copy()
    ok = ~np.isnat(days)
    out[ok] = np.busday_offset(days[ok], 0, roll=roll, holidays=holidays)
    return out


# --- the book: contracts, fee schedule, charge master -----------------------------------

@dataclass
class _Book:
    as_of: np.datetime64
    start: np.datetime64
    holidays: np.ndarray
    contracts: list[dict]
    fees: list[dict]
    price: np.ndarray            # charge master, cents per unit, by code
    rate: np.ndarray             # [payor, code, period] contracted cents per unit (-1: none)
    bounds: np.ndarray           # period start dates (datetime64[D])
    change_date: np.datetime64   # Northstar's rate change

    def period(self, dos: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.bounds, dos, side="right") - 1

    def expected(self, payor: np.ndarray, code: np.ndarray, dos: np.ndarray) -> np.ndarray:
        rate = self.rate[payor, code, self.period(dos)]
        if (rate < 0).any():
            raise AssertionError("demo billed a code its payor has no rate for")
        return rate


def _make_book(rng: np.random.Generator, as_of: dt.date) -> _Book:
    start = _add_months(as_of, -12) + dt.timedelta(days=1)
    holidays = _holidays(start.year - 1, as_of.year + 1)

    contracts = []
    for p in PAYORS:
        if p.term_months_ahead is None and p.name != NOTICE_DUE_PAYOR:
            # Medicare and state Medicaid: enrolment, no negotiated term.
            term_end = None
            effective = dt.date(start.year - 11, 1, 1) if p.plan == MEDICARE else dt.date(start.year - 9, 4, 1)
        else:
            if p.name == NOTICE_DUE_PAYOR:
                # notice deadline = term end - 90 days lands 30-60 days after as_of
                term_end = _month_end(as_of + dt.timedelta(days=p.notice_days + 30))
            else:
                term_end = _month_end(_add_months(as_of, p.term_months_ahead))
            effective = _add_months(term_end + dt.timedelta(days=1), -12 * p.term_years)
        contracts.append({
            "payor": p.name, "payor_type": p.payor_type, "payor_id": p.payor_id,
            "filing_limit": p.filing_limit, "filing_unit": p.filing_unit, "filing_clock": "DOS",
            "corrected_days": None, "appeal_days": p.appeal_days, "mailing_days": p.mailing_days,
            # The demo practice takes each denial to one level of appeal: an upheld appeal is
            # final (a real Medicare contract leaves Appeal Levels blank: five levels).
            "appeal_levels": 1, "next_level_days": None,
            "prompt_pay_days": p.prompt_pay_days, "prompt_pay_interest": p.interest,
            "fee_basis": p.fee_basis, "pct_of_medicare": p.pct, "proposed_pct_of_medicare": p.proposed_pct,
            "effective_date": effective, "term_end": term_end, "auto_renew": p.auto_renew,
            "renewal_months": 12 if term_end else None, "notice_days": p.notice_days,
        })

    # Fee schedule rows: (payor index, code index, from, to, cents, proposed cents)
    rows = []
    first_year, last_year = start.year, as_of.year
    medicare = PAYOR_INDEX["Medicare"]
    for c, (_code, _kind, cents_2026, yearly) in enumerate(CODES):
        if yearly:
            for y in range(first_year, last_year + 1):
                cents = int(round(cents_2026 * PFS_YEARLY_CHANGE ** (y - 2026)))
                to = dt.date(y, 12, 31) if y < last_year else None
                rows.append((medicare, c, dt.date(y, 1, 1), to, cents, None))
        else:
            rows.append((medicare, c, dt.date(first_year, 1, 1), None, cents_2026, None))
    # State Medicaid: its own schedule, set each state fiscal year (July 1).
    medicaid = PAYOR_INDEX["State Medicaid"]
    fiscal = dt.date(start.year if start.month >= 7 else start.year - 1, 7, 1)
    for c in range(len(CODES)):
        rows.append((medicaid, c, fiscal, None, int(round(MEDICARE_2026[c] * MEDICAID_SHARE)), None))
    # Northstar: its own schedule, visits raised 6% three months before as_of.
    northstar = PAYOR_INDEX[RATE_CHANGE_PAYOR]
    change = _add_months(as_of, -3).replace(day=1)
    base = dt.date(first_year, 1, 1)
    for c, (code, kind, cents_2026, _) in enumerate(CODES):
        old = int(round(cents_2026 / PFS_YEARLY_CHANGE * NORTHSTAR_SHARE))
        if kind in CHANGED_KINDS:
            new = int(round(old * RATE_CHANGE))
            proposed = int(round(new * 1.08)) if code in ("99213", "99214", "99215", "99395", "99396") else None
            rows.append((northstar, c, base, change - dt.timedelta(days=1), old, None))
            rows.append((northstar, c, change, None, new, proposed))
        else:
            rows.append((northstar, c, base, None, old, None))

    bounds = sorted({r[2] for r in rows} | {r[3] + dt.timedelta(days=1) for r in rows if r[3]})
    bounds_np = np.array(bounds, dtype="datetime64[D]")
    rate = np.full((len(PAYORS), len(CODES), len(bounds)), -1, dtype=np.int64)
    for p, c, frm, to, cents, _ in rows:
        for k, b in enumerate(bounds):
            if b >= frm and (to is None or b <= to):
                rate[p, c, k] = cents
    for p, payor in enumerate(PAYORS):
        if payor.fee_basis == "% of Medicare":
            bp = int(round(payor.pct * 10000))
            base_rate = rate[medicare]
            rate[p] = np.where(base_rate >= 0, (base_rate * bp + 5000) // 10000, -1)

    fees = [{"payor": PAYORS[p].name, "cpt": CODES[c][0], "modifier": None, "effective_from": frm,
             "effective_to": to, "allowed": cents / 100, "proposed_allowed": None if prop is None else prop / 100,
             "setting": None, "multiple_procedure": "No"}
            for p, c, frm, to, cents, prop in rows]

    # Charge master: one price per code, 1.6-2.2x the Medicare rate, in whole dollars.
    factor = rng.uniform(1.6, 2.2, len(CODES))
    dollars = np.clip(np.round(MEDICARE_2026 * factor / 100),
                      np.ceil(MEDICARE_2026 * 1.6 / 100), np.floor(MEDICARE_2026 * 2.2 / 100))
    price = (dollars * 100).astype(np.int64)

    return _Book(_d(as_of), _d(start), holidays, contracts, fees, price, rate, bounds_np, _d(change))


# --- patients -----------------------------------------------------------------------------

def _patients(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The patient panel: an account number, a payor, and the terms of the patient's plan."""
    share = np.array([p.patients for p in PAYORS])
    payor = rng.choice(len(PAYORS), size=n, p=share / share.sum())
    width = max(6, len(str(4 * n)))
    ids = np.sort(rng.choice(10 ** width - 1, size=n, replace=False) + 1)
    return {
        "id": np.array([f"P{i:0{width}d}" for i in ids], dtype=object),
        "payor": payor,
        "copay": rng.choice([2000, 2500, 3000, 4000], size=n),     # commercial office copay
        "hdhp": rng.random(n) < 0.30,                               # high-deductible plan
        "ma_copay": rng.choice([0, 1000, 1500, 2000], size=n),
        "tri_copay": rng.choice([0, 3300], size=n),
        "deductible": rng.random(n) < 0.35,                         # Medicare Part B not met by spring
        "weight": np.array([PAYORS[p].visits for p in payor]),
    }


# --- claims and their fate -------------------------------------------------------------

# A claim's fate, one array per field (claim-level): payor and patient (indexes),
# dos, filed, remit (first adjudication), deny (0 none, 1 whole claim, 2 one line),
# deny_line (0-based line denied when deny == 2), group/carc/rarc of the denial,
# appeal, outcome, decision, repay (the payment after an appeal won), tag (planted).


def _ordinary_claims(rng: np.random.Generator, book: _Book, pats: dict, n: int):
    """n ordinary claims (claim-level arrays) and their lines (claim index, code, units)."""
    days = np.arange(book.start, book.as_of + 1)
    days = days[np.is_busday(days, holidays=book.holidays)]
    dos = days[rng.integers(0, len(days), n)]
    weight = pats["weight"] / pats["weight"].sum()
    patient = rng.choice(len(weight), size=n, p=weight)
    payor = pats["payor"][patient]
    plan = np.array([p.plan for p in PAYORS], dtype=object)[payor]
    month = (dos.astype("datetime64[M]").astype(int) % 12) + 1

    visit = np.empty(n, dtype=np.int64)
    for cls, mix in VISITS.items():
        sel = plan == cls
        codes = np.array([CODE_INDEX[c] for c in mix])
        p = np.array(list(mix.values()))
        visit[sel] = rng.choice(codes, size=sel.sum(), p=p / p.sum())
    medicare_like = np.isin(plan, [MEDICARE, MA])
    extra = rng.choice(len(EXTRAS), size=n, p=EXTRA_P / EXTRA_P.sum())
    established_em = np.isin(CPT[visit], ["99212", "99213", "99214", "99215"])
    extra[(extra == EXTRAS.index("g2211")) & ~(medicare_like & established_em)] = 0
    extra[(extra == EXTRAS.index("strep")) & medicare_like] = 0
    extra[(extra == EXTRAS.index("flu")) & ~np.isin(month, FLU_MONTHS)] = 0

    slots = np.full((n, 3), -1, dtype=np.int64)
    units = np.ones((n, 3), dtype=np.int64)
    slots[:, 0] = visit
    lab = np.array([CODE_INDEX[c] for c in LAB_TESTS])[rng.choice(len(LAB_TESTS), size=n, p=LAB_P)]
    screen_units = np.where(rng.random(n) < 0.3, 2, 1)
    admin = np.where(medicare_like, CODE_INDEX["G0008"], CODE_INDEX["90471"])
    for name, second, third in (
            ("g2211", CODE_INDEX["G2211"], None), ("labs", CODE_INDEX["36415"], lab),
            ("ecg", CODE_INDEX["93000"], None), ("screen", CODE_INDEX["96127"], None),
            ("flu", CODE_INDEX["90686"], admin), ("strep", CODE_INDEX["87880"], None)):
        sel = extra == EXTRAS.index(name)
        slots[sel, 1] = second
        if third is not None:
            slots[sel, 2] = third[sel]
    sel = extra == EXTRAS.index("screen")
    units[sel, 1] = screen_units[sel]
    n_lines = (slots >= 0).sum(axis=1)

    # Fate: filed 1-7 days after the visit (rolled to a workday: at most 3 days more);
    # adjudicated 14 days after filing at the earliest and, rolled, always inside the
    # payor's prompt-pay window.
    filed = _workday(dos + rng.integers(1, 8, n), book.holidays)
    filed[filed > book.as_of] = NAT
    ppd = np.array([p.prompt_pay_days for p in PAYORS])[payor]
    lag_max = np.minimum(40, ppd) - 3
    lag = 14 + np.floor(rng.random(n) * (lag_max - 13)).astype(np.int64)
    remit = _workday(filed + lag, book.holidays)
    remit[remit > book.as_of] = NAT

    u = rng.random(n)
    deny = np.where(u < CLAIM_DENIAL_RATE, 1, 0)
    deny[(u >= CLAIM_DENIAL_RATE) & (u < CLAIM_DENIAL_RATE + LINE_DENIAL_RATE) & (n_lines > 1)] = 2
    deny[np.isnat(remit)] = 0
    deny_line = 1 + np.floor(rng.random(n) * np.maximum(n_lines - 1, 1)).astype(np.int64)
    deny_line[deny != 2] = 0
    group = np.full(n, "", dtype=object)
    carc, rarc = group.copy(), group.copy()
    overturn_p = np.zeros(n)
    for scope, table in ((1, CLAIM_DENIALS), (2, LINE_DENIALS)):
        sel = np.flatnonzero(deny == scope)
        w = np.array([t[3] for t in table])
        pick = rng.choice(len(table), size=len(sel), p=w / w.sum())
        group[sel] = np.array([t[0] for t in table], dtype=object)[pick]
        carc[sel] = np.array([t[1] for t in table], dtype=object)[pick]
        rarc[sel] = np.array([t[2] for t in table], dtype=object)[pick]
        overturn_p[sel] = np.array([t[4] for t in table])[pick]
    # Medicare needs no prior authorization for office visits, and reports exact
    # duplicates under OA.
    is_medicare = plan == MEDICARE
    swap = (deny == 1) & is_medicare & (carc == "197")
    carc[swap], rarc[swap] = "16", "MA130"
    group[(deny == 1) & is_medicare & (carc == "18")] = "OA"

    # Appeals: filed 7-40 days after the denial — every denial older than that has been
    # appealed, and a younger one still has 20+ days left on even a 60-day window.
    appeal = _workday(remit + rng.integers(7, 41, n), book.holidays)
    appeal[(deny == 0) | (appeal > book.as_of)] = NAT
    decision = _workday(appeal + rng.integers(30, 61, n), book.holidays)
    repay = _workday(decision + rng.integers(5, 15, n), book.holidays)
    won = rng.random(n) < overturn_p
    outcome = np.full(n, "", dtype=object)
    has_appeal = ~np.isnat(appeal)
    decided = has_appeal & (decision <= book.as_of)
    outcome[has_appeal] = "Pending"
    outcome[decided & won & (repay <= book.as_of)] = "Overturned"
    outcome[decided & ~won] = "Upheld"
    decision[outcome == "Pending"] = NAT
    decision[~has_appeal] = NAT
    repay[outcome != "Overturned"] = NAT

    claims = {"payor": payor, "patient": patient, "dos": dos, "filed": filed, "remit": remit,
              "deny": deny, "deny_line": deny_line, "group": group, "carc": carc, "rarc": rarc,
              "appeal": appeal, "outcome": outcome, "decision": decision, "repay": repay,
              "tag": np.full(n, "", dtype=object)}
    keep = slots >= 0
    lines = {"claim": np.repeat(np.arange(n), n_lines), "code": slots[keep], "units": units[keep]}
    return claims, lines


def _planted_claims(rng: np.random.Generator, book: _Book, pats: dict):
    """The planted claims, each built by hand from the deadline it must (not) meet."""
    as_of = book.as_of.astype(object)
    hol = book.holidays
    specs = []   # (tag, payor, dos, filed, remit, (group, carc, rarc) or None, codes)

    def back(day):   # the workday on or before
        return _workday(np.array([day], dtype="datetime64[D]"), hol, "backward")[0].astype(object)

    def fwd(day):
        return _workday(np.array([day], dtype="datetime64[D]"), hol, "forward")[0].astype(object)

    def days(n):
        return dt.timedelta(days=n)

    # Never filed, deadline (DOS + 90 days) 30-80 days ago.
    for payor, ago, codes in (("Keystone Blue PPO", 120, ("99214", "93000")),
                              ("Cascade Choice HMO", 150, ("99213", "87880")),
                              ("Keystone Blue PPO", 170, ("99396", "96127"))):
        specs.append(("missed_filing", payor, back(as_of - days(ago)), None, None, None, codes))
    # Never filed, deadline 7-22 days away.
    for payor, ahead, codes in (("Cascade Choice HMO", 9, ("99214", "36415")),
                                ("Northstar Health", 22, ("99213", "93000"))):
        limit = PAYORS[PAYOR_INDEX[payor]].filing_limit
        specs.append(("filing_due_soon", payor, back(as_of + days(ahead - limit)), None, None, None, codes))
    # Filed 5-12 days after a 90-day deadline, denied CO-29 about two weeks later.
    for payor, ago, late, codes in (("Keystone Blue PPO", 130, 12, ("99213",)),
                                    ("Cascade Choice HMO", 125, 5, ("99214", "36415"))):
        dos = back(as_of - days(ago))
        filed = fwd(dos + days(90 + late))
        specs.append(("filed_late", payor, dos, filed, fwd(filed + days(14)), ("CO", "29", ""), codes))
    # Denied, never appealed: deadline 18-41 days ago, or 4-12 days away.
    for tag, payor, margin, denial, code in (
            ("appeal_missed", "Silver Harbor Medicare Advantage", -25, ("CO", "96", "N130"), "99214"),
            ("appeal_missed", "Medicare", -18, ("CO", "50", "N115"), "99215"),
            ("appeal_missed", "Northstar Health", -41, ("CO", "197", ""), "99204"),
            ("appeal_due_soon", "Keystone Blue PPO", 4, ("CO", "197", ""), "99213"),
            ("appeal_due_soon", "Riverbend Community Health Plan", 9, ("CO", "97", "M15"), "99214"),
            ("appeal_due_soon", "Medicare", 10, ("CO", "50", "N115"), "99214")):
        p = PAYORS[PAYOR_INDEX[payor]]
        remit = back(as_of + days(margin - p.appeal_days - p.mailing_days))
        filed = back(remit - days(21))
        specs.append((tag, payor, back(filed - days(3)), filed, remit, denial, (code,)))
    # Filed, clean, never answered: prompt-pay due date 9-16 days ago.
    for payor, ago, codes in (("Northstar Health", 16, ("99214", "93000")),
                              ("Keystone Blue PPO", 9, ("99213", "96127"))):
        p = PAYORS[PAYOR_INDEX[payor]]
        filed = back(as_of - days(p.prompt_pay_days + ago))
        specs.append(("prompt_pay_overdue", payor, back(filed - days(3)), filed, None, None, codes))

    n = len(specs)
    claims = {k: np.full(n, "", dtype=object) for k in ("group", "carc", "rarc", "outcome", "tag")}
    for k in ("dos", "filed", "remit", "appeal", "decision", "repay"):
        claims[k] = np.full(n, NAT)
    claims.update(payor=np.zeros(n, np.int64), patient=np.zeros(n, np.int64), deny=np.zeros(n, np.int64),
                  deny_line=np.zeros(n, np.int64))
    line_claim, line_code = [], []
    for i, (tag, payor, dos, filed, remit, denial, codes) in enumerate(specs):
        p = PAYOR_INDEX[payor]
        claims["tag"][i] = tag
        claims["payor"][i] = p
        claims["patient"][i] = rng.choice(np.flatnonzero(pats["payor"] == p))
        claims["dos"][i] = dos
        claims["filed"][i] = NAT if filed is None else _d(filed)
        claims["remit"][i] = NAT if remit is None else _d(remit)
        if denial:
            claims["deny"][i] = 1
            claims["group"][i], claims["carc"][i], claims["rarc"][i] = denial
        for code in codes:
            line_claim.append(i)
            line_code.append(CODE_INDEX[code])
    lines = {"claim": np.array(line_claim, np.int64), "code": np.array(line_code, np.int64),
             "units": np.ones(len(line_code), np.int64)}
    return claims, lines


def _concat(a: dict, b: dict, offset: dict | None = None) -> dict:
    out = {}
    for k in a:
        extra = b[k] + offset[k] if offset and k in offset else b[k]
        out[k] = np.concatenate([a[k], extra])
    return out


# --- money on each line ------------------------------------------------------------------

def _patient_share(rng, book: _Book, pats: dict, payor, patient, code, dos, allowed):
    """Patient responsibility (cents) and its main CARC (1 deductible, 2 coinsurance,
    3 copay) for each line, as the payor would apply the patient's plan."""
    n = len(allowed)
    plan = np.array([p.plan for p in PAYORS], dtype=object)[payor]
    kind = KIND[code]
    month = (dos.astype("datetime64[M]").astype(int) % 12) + 1
    visit = kind == EM
    cost_shared = np.isin(kind, [EM, OTHER])
    u = rng.random(n)
    deductible = np.zeros(n, np.int64)
    coins = np.zeros(n, np.int64)
    copay = np.zeros(n, np.int64)

    # Medicare Part B: 20% coinsurance on physician services (not labs, vaccines or the
    # annual wellness visit); early in the year part of a visit may go to the deductible.
    sel = plan == MEDICARE
    ded = sel & visit & pats["deductible"][patient] & (month <= 3)
    deductible[ded] = np.floor(allowed[ded] * (0.4 + 0.5 * u[ded])).astype(np.int64)
    cs = sel & cost_shared
    coins[cs] = ((allowed[cs] - deductible[cs]) * 20 + 50) // 100
    # Medicare Advantage, TRICARE: a copay per office visit.
    sel = (plan == MA) & visit
    copay[sel] = pats["ma_copay"][patient[sel]]
    sel = (plan == TRICARE) & visit
    copay[sel] = pats["tri_copay"][patient[sel]]
    # Commercial: copay plans pay visits less a copay; high-deductible plans apply the
    # deductible in the first half of the year, then 20% coinsurance. Preventive care
    # and vaccines have no cost sharing (ACA).
    com = plan == COMMERCIAL
    hd = com & pats["hdhp"][patient] & np.isin(kind, [EM, OTHER, LAB])
    sel = com & ~pats["hdhp"][patient] & visit
    copay[sel] = pats["copay"][patient[sel]]
    early = hd & (month <= 6)
    deductible[early] = np.floor(allowed[early] * (0.5 + 0.45 * u[early])).astype(np.int64)
    coins[hd] = ((allowed[hd] - deductible[hd]) * 20 + 50) // 100

    share = np.minimum(deductible + coins + copay, np.maximum(allowed - 1, 0))
    parts = np.stack([deductible, coins, copay])
    carc = np.array(["1", "2", "3"], dtype=object)[parts.argmax(axis=0)]
    carc[share == 0] = ""
    return share, carc


# --- tables ----------------------------------------------------------------------------

def _simulate(rng, book: _Book, n_claims: int, plant: bool, n_lines: int | None = None):
    """Claims, Payments and Appeals as columns in engine types, and what was planted
    (None unless `plant`). With `n_lines`, exactly that many claim lines."""
    pats = _patients(rng, max(200, int(n_claims * 0.45)))
    claims, lines = _ordinary_claims(rng, book, pats, n_claims)
    if n_lines is not None:           # exactly n_lines: trim the last claims generated
        lines = {k: v[:n_lines] for k, v in lines.items()}
        used = lines["claim"].max() + 1
        claims = {k: v[:used] for k, v in claims.items()}
        n_per = np.bincount(lines["claim"], minlength=used)
        claims["deny_line"] = np.where(claims["deny_line"] >= n_per, 0, claims["deny_line"])
        claims["deny"] = np.where((claims["deny"] == 2) & (claims["deny_line"] == 0), 0, claims["deny"])
    if plant:
        pc, pl = _planted_claims(rng, book, pats)
        lines = _concat(lines, pl, {"claim": len(claims["payor"])})
        claims = _concat(claims, pc)

    # Claim numbers in order of service.
    n = len(claims["payor"])
    order = np.argsort(claims["dos"], kind="stable")
    number = np.empty(n, np.int64)
    number[order] = np.arange(1, n + 1)
    width = max(6, len(str(n)))
    claim_id = np.array([f"{CLAIM_PREFIX}-{i:0{width}d}" for i in range(n + 1)], dtype=object)
    icn = np.array([str(x) for x in rng.integers(10 ** 12, 10 ** 13, n)], dtype=object)

    # Lines: sorted by claim number, numbered 1..k within the claim.
    lc = lines["claim"]
    line_order = np.lexsort((np.arange(len(lc)), number[lc]))
    lc, code, units = lc[line_order], lines["code"][line_order], lines["units"][line_order]
    starts = np.r_[0, np.flatnonzero(np.diff(lc)) + 1]
    line_no = np.arange(len(lc)) - np.repeat(starts, np.diff(np.r_[starts, len(lc)])) + 1

    payor, patient, dos = claims["payor"][lc], claims["patient"][lc], claims["dos"][lc]
    charge = book.price[code] * units
    allowed = book.expected(payor, code, dos) * units
    share, share_carc = _patient_share(rng, book, pats, payor, patient, code, dos, allowed)
    line_tag = claims["tag"][lc].copy()

    deny = claims["deny"][lc]
    denied = (deny == 1) | ((deny == 2) & (claims["deny_line"][lc] == line_no - 1))
    remit = claims["remit"][lc]
    paid_first = ~np.isnat(remit) & ~denied

    # Underpayments: Northstar's first eight visits after its raise paid at the old rate,
    # and four visits at the %-of-Medicare plans short-paid 7-14%.
    pay_allowed = allowed.copy()
    if plant:
        visit_line = np.isin(KIND[code], CHANGED_KINDS)
        clean = paid_first & (line_tag == "") & (deny == 0) & (claims["outcome"][lc] == "")
        north = np.flatnonzero(clean & visit_line & (payor == PAYOR_INDEX[RATE_CHANGE_PAYOR])
                               & (dos >= book.change_date))
        north = north[np.argsort(dos[north], kind="stable")][:8]
        old_day = np.full(len(north), book.change_date - 1)
        pay_allowed[north] = book.expected(payor[north], code[north], old_day) * units[north]
        pct_payors = [PAYOR_INDEX[p] for p in ("Keystone Blue PPO", "Cascade Choice HMO",
                                                "Silver Harbor Medicare Advantage")]
        short = np.flatnonzero(clean & visit_line & np.isin(payor, pct_payors) & (allowed >= 8000))
        # (four when the practice has them: a small one, fewer, each listed as planted)
        short = np.sort(rng.choice(short, size=min(4, len(short)), replace=False))
        pay_allowed[short] = np.floor(allowed[short] * rng.uniform(0.86, 0.93, len(short))).astype(np.int64)
        line_tag[north] = "underpaid"
        line_tag[short] = "underpaid"
    pay_share = np.minimum(share, np.maximum(pay_allowed - 1, 0))

    claims_cols = {
        "claim_id": claim_id[number[lc]], "line": line_no, "patient_id": pats["id"][patient],
        "payor": _names(payor), "claim_type": "Primary", "frequency": "1",
        "cpt": CPT[code], "modifier": "", "units": units, "dos": dos, "through_date": NAT,
        "charge": charge, "filed_date": claims["filed"][lc], "primary_remit_date": NAT,
        "original_remit_date": NAT,
        "payor_claim_no": np.where(np.isnat(remit), "", icn[lc]).astype(object),
        "line_control_no": np.array([f"{c}-{n}" for c, n in zip(claim_id[number[lc]], line_no.tolist())],
                                    dtype=object),
        "pos": "11", "npp": "No",      # every visit in the office, by a physician
    }

    # Payments: the first remittance of every adjudicated line, then the payment that
    # followed each appeal won.
    first = np.flatnonzero(~np.isnat(remit))
    fd = denied[first]
    repaid = np.flatnonzero(denied & ~np.isnat(claims["repay"][lc]))
    rows = np.r_[first, repaid]
    is_denial = np.r_[fd, np.zeros(len(repaid), bool)]
    when = np.r_[remit[first], claims["repay"][lc][repaid]]
    allowed_rows = np.where(is_denial, 0, pay_allowed[rows])
    share_rows = np.where(is_denial, 0, pay_share[rows])
    status = np.where(is_denial & (deny[rows] == 1), "4", "1").astype(object)
    group = np.where(is_denial, claims["group"][lc][rows], "").astype(object)
    carc = np.where(is_denial, claims["carc"][lc][rows], "").astype(object)
    pr_carc = np.where(share_rows > 0, share_carc[rows], "").astype(object)
    rarc = np.where(is_denial, claims["rarc"][lc][rows], "").astype(object)
    p_order = np.lexsort((line_no[rows], number[lc][rows], when))
    rows, is_denial, when = rows[p_order], is_denial[p_order], when[p_order]
    allowed_rows, share_rows = allowed_rows[p_order], share_rows[p_order]
    status, group, carc, rarc = status[p_order], group[p_order], carc[p_order], rarc[p_order]
    pr_carc = pr_carc[p_order]
    check, source = _remit_labels(payor[rows], when)
    payments_cols = {
        "claim_id": claims_cols["claim_id"][rows], "line": line_no[rows], "payor": _names(payor[rows]),
        "remit_date": when, "check_no": check, "claim_status": status,
        "payor_claim_no": icn[lc][rows], "cpt": CPT[code[rows]], "charge": charge[rows],
        "allowed": allowed_rows, "paid": allowed_rows - share_rows, "patient_resp": share_rows,
        "contractual_adj": np.where(is_denial, 0, charge[rows] - allowed_rows),
        "denied_amount": np.where(is_denial, charge[rows], 0),
        "group_code": group, "carc": carc, "rarc": rarc, "source": source,
    }

    adjustments_cols = _adjustments(payments_cols, pr_carc)

    ap = np.flatnonzero(denied & ~np.isnat(claims["appeal"][lc]))
    ap = ap[np.lexsort((line_no[ap], number[lc][ap], claims["appeal"][lc][ap]))]
    outcome = claims["outcome"][lc][ap]
    recovered = np.where(outcome == "Overturned", pay_allowed[ap] - pay_share[ap], 0)
    appeals_cols = {
        "claim_id": claims_cols["claim_id"][ap], "line": line_no[ap], "appeal_date": claims["appeal"][lc][ap],
        "level": 1, "outcome": outcome, "decision_date": claims["decision"][lc][ap], "recovered": recovered,
    }

    planted = None
    if plant:
        ids, nos = claims_cols["claim_id"], line_no
        lists = {}
        for f in fields(Planted):
            sel = np.flatnonzero(line_tag == f.name)
            lists[f.name] = tuple(sorted((str(ids[i]), int(nos[i])) for i in sel))
        lists["notice_due_soon"] = (NOTICE_DUE_PAYOR,)
        planted = Planted(**lists)
    return {"Claims": claims_cols, "Payments": payments_cols, "Adjustments": adjustments_cols,
            "Appeals": appeals_cols}, planted


def _adjustments(pay: dict, pr_carc: np.ndarray) -> dict:
    """The Adjustments rows behind the demo's Payments rows, as an 835 would give them: the
    contractual write-down (CO-45), the patient's share (its PR reason) and the denial (its
    group and CARC), each where it is not zero, so every Payments row is their sum by rule."""
    n = len(pay["line"])
    parts = []
    for amount, group, carc in (
            (pay["contractual_adj"], np.full(n, "CO", dtype=object), np.full(n, "45", dtype=object)),
            (pay["patient_resp"], np.full(n, "PR", dtype=object), pr_carc),
            (pay["denied_amount"], pay["group_code"], pay["carc"])):
        amount = np.asarray(amount)
        picked = np.flatnonzero(amount != 0)
        parts.append((picked, amount[picked], group[picked], carc[picked]))
    rows = np.concatenate([p[0] for p in parts])
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    amount, group, carc = (np.concatenate([p[i] for p in parts])[order] for i in (1, 2, 3))
    return {
        "claim_id": pay["claim_id"][rows], "line": pay["line"][rows], "payor": pay["payor"][rows],
        "remit_date": pay["remit_date"][rows], "check_no": pay["check_no"][rows],
        "claim_status": pay["claim_status"][rows], "level": "line", "group_code": group,
        "reason": carc, "amount": amount, "quantity": np.full(len(rows), np.nan),
        "rarc": pay["rarc"][rows], "payor_claim_no": pay["payor_claim_no"][rows], "source": pay["source"][rows],
    }


def _names(payor: np.ndarray) -> np.ndarray:
    return np.array([p.name for p in PAYORS], dtype=object)[payor]


def _remit_labels(payor: np.ndarray, when: np.ndarray):
    """EFT trace number and 835 file name of each remittance (one per payor and day)."""
    key = payor.astype(np.int64) * 1_000_000 + when.astype(np.int64)
    uniq, inverse = np.unique(key, return_inverse=True)
    check, source = [], []
    for k in uniq:
        p = PAYORS[int(k // 1_000_000)]
        day = np.datetime64(int(k % 1_000_000), "D").astype(object)
        check.append(f"9{PAYOR_INDEX[p.name] + 1}{day:%Y%m%d}")
        source.append(f"{p.short}_{day:%Y%m%d}.835")
    return np.array(check, dtype=object)[inverse], np.array(source, dtype=object)[inverse]


# --- typed frames and Excel values -------------------------------------------------------

def _frame(table: m.Table, cols: dict) -> pd.DataFrame:
    """Columns in engine types -> the frame conversion.typed_frame would give, without
    converting cell by cell (the fast path for large data)."""
    n = max(len(v) for v in cols.values() if isinstance(v, np.ndarray))
    data = {}
    for col in table.columns:
        v = cols.get(col.key, col.default)
        if not isinstance(v, np.ndarray):   # one value for the whole column
            if col.kind == m.DATE:
                v = np.full(n, NAT if v is None else v, dtype="datetime64[D]")
            elif col.kind in (m.TEXT, m.CHOICE):
                v = np.full(n, "" if v is None else v, dtype=object)
            else:
                v = np.full(n, v, dtype=object)
        if col.kind in (m.TEXT, m.CHOICE):
            # Text here is always str, "" for a blank cell, which takes the default.
            s = pd.Series(v, dtype=object)
            data[col.key] = s if col.default in (None, "") else s.where(s != "", col.default)
        elif col.kind == m.DATE:
            data[col.key] = pd.Series(np.asarray(v, dtype="datetime64[D]").astype("datetime64[ns]"))
        elif col.kind in (m.INT, m.MONEY):
            data[col.key] = pd.Series(pd.array(v, dtype="Int64"))
        else:
            data[col.key] = pd.Series(pd.array(v, dtype="Float64"))
    frame = pd.DataFrame(data)
    frame[ROW] = pd.Series(np.arange(2, 2 + n), dtype="int64")
    return frame


def records_from_frame(table: m.Table, frame: pd.DataFrame) -> list[dict]:
    """A typed engine frame back to rows of Excel values (str, int, float dollars,
    datetime.date, None for a blank cell), keyed by column key: what a workbook writer
    puts in the cells. `typed_frame(table, records_from_frame(table, f))` gives `f` back."""
    columns = {}
    for col in table.columns:
        s = frame[col.key]
        if col.kind in (m.TEXT, m.CHOICE):
            values = [None if v is None or v == "" else str(v) for v in s.tolist()]
        elif col.kind == m.DATE:
            values = [None if pd.isna(v) else v.date() for v in s.tolist()]
        elif col.kind == m.INT:
            values = [None if v is pd.NA or v is None else int(v) for v in s.astype("Int64").tolist()]
        elif col.kind == m.MONEY:
            values = [None if v is pd.NA or v is None else round(int(v) / 100, 2)
                      for v in s.astype("Int64").tolist()]
        else:
            values = [None if v is pd.NA or v is None else float(v) for v in s.astype("Float64").tolist()]
        columns[col.key] = values
    keys = list(columns)
    return [dict(zip(keys, row)) for row in zip(*columns.values())]


def _settings(as_of: dt.date) -> dict:
    return {"practice_name": PRACTICE_NAME, "as_of": as_of, **SETTINGS}


# --- entry points ------------------------------------------------------------------------

def generate_demo(seed: int = 7, as_of: dt.date = DEFAULT_AS_OF, claims: int = DEMO_CLAIMS) -> Demo:
    """Riverside Family Medicine: one year of claims up to `as_of`, with the problems
    listed in `Demo.planted` and no others. Same seed, same practice. `claims` sets the
    number of ordinary claims (a smaller practice keeps spreadsheet-engine tests quick)."""
    rng = np.random.default_rng(seed)
    book = _make_book(rng, as_of)
    cols, planted = _simulate(rng, book, claims, plant=True)
    records = {"Contracts": book.contracts, "FeeSchedule": book.fees}
    for name, c in cols.items():
        records[name] = records_from_frame(m.TABLES[name], _frame(m.TABLES[name], c))
    for name, seed in SEEDS.items():       # the rule tables as `payorxl new` seeds them
        records[name] = records_from_frame(m.TABLES[name], seed())
    return Demo({name: records.get(name, []) for name in m.TABLES}, _settings(as_of), planted)


def generate_large(n_lines: int, seed: int = 7, as_of: dt.date = DEFAULT_AS_OF) -> dict[str, pd.DataFrame]:
    """The demo practice at any size, for benchmarks: exactly `n_lines` claim lines
    (about 1.9 per claim) over the twelve months before `as_of`, with their payments and
    appeals, and no planted problems. Returned as typed engine frames — what
    `conversion.typed_frame` would give for the same rows (integer cents, datetime64,
    object text, an `_row` column) — built column-wise, without the per-cell conversion,
    so a million lines take seconds. Use `records_from_frame` for Excel values."""
    if n_lines < 1:
        raise ValueError("n_lines must be at least 1")
    rng = np.random.default_rng(seed)
    book = _make_book(rng, as_of)
    n_claims = int(n_lines / 1.6) + 50    # about 1.8 lines per claim: enough to trim
    cols, _ = _simulate(rng, book, n_claims, plant=False, n_lines=n_lines)
    assert len(cols["Claims"]["line"]) == n_lines
    frames = {"Contracts": typed_frame(m.CONTRACTS, book.contracts).frame,
              "FeeSchedule": typed_frame(m.FEE_SCHEDULE, book.fees).frame}
    for name, c in cols.items():
        frames[name] = _frame(m.TABLES[name], c)
    frames.update({name: seed() for name, seed in SEEDS.items()})
    return {name: frames[name] if name in frames else empty_frame(m.TABLES[name]) for name in m.TABLES}


def demo_settings(as_of: dt.date = DEFAULT_AS_OF) -> m.Settings:
    """The demo's Settings as the engine sees them (for `generate_large` frames)."""
    return Demo({}, _settings(as_of), Planted()).settings_obj()
