"""The native formulas of the calculated columns inside the input tables.

These recompute in Excel (2016 and later) and LibreOffice (7.4 and later) the moment a cell
changes, even where Python is not attached; the engine computes the same fields and a test
proves the two agree in LibreOffice. Only functions both have: INDEX/MATCH, SUMIFS,
COUNTIFS, SUMPRODUCT, EDATE, DATEDIF, IF, IFERROR, AND/OR, MAX, ROUND — no XLOOKUP,
FILTER, UNIQUE, LET or MAXIFS. Structured references are written in full
(``Claims[[#This Row],[Charge]]``), the only form LibreOffice reads.

Each formula mirrors one engine rule; the rule's definition lives in the engine's
docstring and the README, not here.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .. import model as m, rules
from ..engine import lines as roles

PCT_OF_MEDICARE = m.FEE_BASES[1]

# Defined names for the Settings values (Settings!B<row>); px_AsOf is the as-of date
# with "blank = today" applied.
SETTINGS_FIRST_ROW = 2
# Today, for a blank As-of Date: the date on the Dashboard (TODAY_CELL, below) that every
# recalculation writes and the .xlsm sets on opening (Auto_Open in macros/PayorxlButtons.bas),
# never TODAY(): a volatile function is recalculated, with every formula that reads it, each
# time anything is, makes Excel ask to save an unchanged workbook on every close, and makes
# LibreOffice recalculate half the workbook on opening.
TODAY_NAME = "px_Today"
TODAY_CELL = (1, 6)     # its cell on the Dashboard, G2 (0-based row, column; see sheets.py)


def settings_names() -> dict[str, str]:
    """Defined name -> reference, one per setting, plus px_Today and px_AsOf."""
    from .xlsxpart import col_letter
    names = {}
    for i, s in enumerate(m.SETTINGS):
        names[f"px_{s.key}"] = f"=Settings!$B${SETTINGS_FIRST_ROW + i}"
    row, column = TODAY_CELL
    names[TODAY_NAME] = f"=Dashboard!${col_letter(column)}${row + 1}"
    names["px_AsOf"] = f"=IF(px_as_of=\"\",{TODAY_NAME},px_as_of)"
    return names


def setting_value(key: str) -> str:
    """A Settings value as the engine reads it: blank is its default."""
    default = m.SETTINGS_BY_KEY[key].default
    return f'IF(px_{key}="",{default},px_{key})'


def _specifier(header: str) -> str:
    """A column name as a structured reference writes it: ' before each [ ] # ' (Excel's escape)."""
    return re.sub(r"(['#\[\]])", r"'\1", header)


def this(table: str, header: str) -> str:
    return f"{table}[[#This Row],[{_specifier(header)}]]"


def col(table: str, header: str) -> str:
    """A whole column: ``Claims[Paid]``; ``Claims[[Follow-up]]`` when the name has a character
    other than letters, digits and spaces, which Excel reads only inside its own brackets."""
    if re.fullmatch(r"[A-Za-z0-9 ]+", header):
        return f"{table}[{header}]"
    return f"{table}[[{_specifier(header)}]]"


# --- a line's own rows (issue 17: a cost per edit that does not grow) -------------------------
# A formula over whole Payments columns (SUMIFS(Payments[Paid],...)) depends on every
# Payments cell: one payment posted recomputes it on every Claims row, each scanning every
# payment, so the cost of an edit grows as lines x payments. The same holds for a claim's
# other lines (the multiple-procedure rank, a line's role), read from whole Claims columns.
# Instead each Claims row reads two small parts of each, through defined names:
#
# - its SLOTS: the hidden Index sheet's row of the same number holds, side by side, references
#   to the line's own Payments cells (=Payments!$K$57) and to its claim's Claims rows,
#   K_SLOTS of them per column; recalc (index.py) writes them. The names (px_p_<column> for
#   Payments, px_q_<column> for Claims) are relative to the row (Index!$H1:$W1 read from
#   Claims row 57 is Index!$H57:$W57; index_names), so one formula serves every row, and
#   an edit recomputes only the rows whose slots name the cell.
# - the TAIL: TAIL_ROWS rows of Index mirroring the rows no slot holds (a line or claim with
#   more than K_SLOTS of them, a payment of no claim line, a row not read), then the rows
#   below the table as recalc left it (a payment or a claim line typed there counts at once;
#   index.py has the order). The names (px_t_, px_u_) are fixed ranges; a row reads
#   them only when its gate (px_gate, px_cgate: Index columns D and F of its row, how many
#   tail rows are its line's or claim's) is not 0, and always when it is blank (a row added
#   since the recalculation, or an empty template).
#
# Both parts keep the formula's own criteria (the claim ID and line), so a mirrored cell
# that no longer holds the line's row (Payments sorted, a row deleted) is left out, and
# Index's check column counts such rows for the Dashboard's "recalculate" notice.


@dataclass(frozen=True)
class Mirror:
    """One table's part of the Index: its mirrored columns and where they are."""
    table: str
    columns: tuple[str, ...]
    slots: str           # the slots' names: px_<slots>_<column>
    tail: str            # the tail's names
    gate: str            # the gate's name (relative to the row)
    gate_column: int     # Index column of the gate; the count of slots used is the next one
    first_slot: int      # Index column of the first column's first slot
    tail_column: int     # Index column of the first column's tail

    @property
    def skip_tail(self) -> str:
        return f'{self.gate}&""="0"'

    def slot_columns(self, header: str) -> tuple[int, int]:
        first = self.first_slot + self.columns.index(header) * K_SLOTS
        return first, first + K_SLOTS - 1


K_SLOTS = 16
TAIL_ROWS = 2000
INDEX_SHEET = "Index"
_PAYMENT_COLUMNS = ("Claim ID", "Line", "Payer Seq", "Claim Status", "Remit Date", "Paid", "Allowed", "Patient Resp",
                    "Sequestration", "Contractual Adj", "Denied Amount", "CARC", "Action")
_CLAIM_COLUMNS = ("Claim ID", "Line", "Claim Type", "Frequency", "Units", "Date of Service", "Payor", "Role",
                  "Multiple Procedure", "Unit Rate")
# Index columns: A claim ID, B line, C check, D-E the Payments gate and slots used, F-G the
# Claims', then the Payments slots, the Claims slots, the Payments tail, the Claims tail.
_FIRST_SLOT = 7
_CLAIM_SLOT = _FIRST_SLOT + K_SLOTS * len(_PAYMENT_COLUMNS)
_PAYMENT_TAIL = _CLAIM_SLOT + K_SLOTS * len(_CLAIM_COLUMNS)
PAYMENTS_MIRROR = Mirror("Payments", _PAYMENT_COLUMNS, "p", "t", "px_gate", 3, _FIRST_SLOT, _PAYMENT_TAIL)
CLAIMS_MIRROR = Mirror("Claims", _CLAIM_COLUMNS, "q", "u", "px_cgate", 5, _CLAIM_SLOT,
                       _PAYMENT_TAIL + len(_PAYMENT_COLUMNS))
MIRRORS = (PAYMENTS_MIRROR, CLAIMS_MIRROR)
INDEX_COLUMNS = _PAYMENT_TAIL + len(_PAYMENT_COLUMNS) + len(_CLAIM_COLUMNS)    # the Index's columns in use


def mirror_name(part: str, header: str) -> str:
    """px_p_RemitDate (the Payments slots), px_t_RemitDate (their tail), px_q_ and px_u_
    (the Claims slots and tail)."""
    return f"px_{part}_" + re.sub(r"\W", "", header)


def index_names() -> dict[str, str]:
    """The defined names of the Index sheet: each mirrored column's slots (relative to the
    row: the row that reads them) and tail (fixed), and the gates (relative)."""
    from .xlsxpart import col_letter
    names = {}
    for mirror in MIRRORS:
        for g, header in enumerate(mirror.columns):
            first, last = mirror.slot_columns(header)
            names[mirror_name(mirror.slots, header)] = f"={INDEX_SHEET}!${col_letter(first)}1:${col_letter(last)}1"
            tail = col_letter(mirror.tail_column + g)
            names[mirror_name(mirror.tail, header)] = f"={INDEX_SHEET}!${tail}$2:${tail}${TAIL_ROWS + 1}"
        names[mirror.gate] = f"={INDEX_SHEET}!${col_letter(mirror.gate_column)}1"
    return names


# Whole columns (not [#This Row] ones) of a table: Payments[Paid], Claims[[Follow-up]].
_WHOLE = {t: re.compile(t + r"\[(?:\[([^\[\]#][^\[\]]*)\]|([^\[\]]+))\]") for t in ("Payments", "Claims")}


def _part(text: str, part: str, mirror: Mirror) -> str:
    """A formula over whole columns of the mirror's table, over one part instead: the slots
    (laid out in a row, so ROW becomes COLUMN and INDEX takes its column) or the tail."""
    out = _WHOLE[mirror.table].sub(lambda f: mirror_name(part, f.group(1) or f.group(2)), text)
    if part == mirror.slots:
        prefix = f"px_{part}_"
        out = out.replace(f"ROW({prefix}", f"COLUMN({prefix}")
        out = re.sub(rf"INDEX\(({prefix}\w+),", r"INDEX(\1,1,", out)
    return out


def _summed(text: str, mirror: Mirror = PAYMENTS_MIRROR) -> str:
    """A count or a sum over the line's (claim's) rows: its slots plus, when its gate says
    so, the tail."""
    return (f'({_part(text, mirror.slots, mirror)}'
            f'+IF({mirror.skip_tail},0,{_part(text, mirror.tail, mirror)}))')


def _largest(text: str) -> str:
    """The largest of a scan over the line's Payments rows (a date; 0 when none)."""
    m_ = PAYMENTS_MIRROR
    return f'MAX({_part(text, m_.slots, m_)},IF({m_.skip_tail},0,{_part(text, m_.tail, m_)}))'


def _claims_summed(text: str) -> str:
    return _summed(text, CLAIMS_MIRROR)


def _macro_maker(macros: dict[str, str] | None):
    """A function that writes a sub-expression once, as a defined name (px_m_KEY, recorded
    in `macros`, when given), and returns the name to read it by: relative to the row as the names it
    reads are, so every row of a column reads its own. LibreOffice parses and keeps every
    cell's formula text: a sub-expression read in several places, written out in each, made
    a Claims row ~60 KB of text and a Payments row 3 KB."""
    macros = {} if macros is None else macros

    def macro(key: str, text: str) -> str:
        name = f"px_m_{key}"
        assert macros.get(name, text) == text, name
        macros[name] = text
        return name
    return macro


def _claims(macros: dict[str, str] | None = None) -> dict[str, str]:
    """The Claims calculated columns' formulas; `macros` gets the defined names they call
    (px_m_...: a sub-expression written once as a name, relative to the row as the names it
    reads are, rather than in full wherever it is read; the formulas were ~60 KB of text a
    row, more than a 50,000-line Claims sheet can hold)."""
    macro = _macro_maker(macros)
    T = "Claims"
    ID, LINE, P = this(T, "Claim ID"), this(T, "Line"), this(T, "Payor")
    DOS = this(T, "Date of Service")
    UNITS = f'IF({this(T, "Units")}="",1,{this(T, "Units")})'

    def contract(field: str) -> str:
        return macro("k_" + re.sub(r"\W", "", field), f'INDEX({col("Contracts", field)},MATCH({P},Contracts[Payor],0))')

    clock = (f'IF({contract("Filing Clock")}="Through Date",'
             f'IF({this(T, "Through Date")}<>"",{this(T, "Through Date")},{DOS}),'
             f'IF({contract("Filing Clock")}="Primary Remit",'
             f'IF(AND(OR({this(T, "Claim Type")}="Secondary",{this(T, "Claim Type")}="Tertiary"),'
             f'{this(T, "Primary Remit Date")}<>""),'
             f'{this(T, "Primary Remit Date")},{DOS}),'
             f'IF({contract("Filing Clock")}="Later of DOS and Primary Remit",'
             f'MAX({DOS},{this(T, "Primary Remit Date")}),{DOS})))')
    clock = macro("clock", clock)
    original = (f'IF({contract("Filing Unit")}="months",EDATE({clock},{contract("Filing Limit")}),'
                f'{clock}+{contract("Filing Limit")})')
    original = macro("original", original)
    corrected = (f'IF(AND({this(T, "Frequency")}&""="7",{this(T, "Original Remit Date")}<>"",'
                 f'{contract("Corrected Claim Days")}<>""),'
                 f'{this(T, "Original Remit Date")}+{contract("Corrected Claim Days")},{original})')
    corrected = macro("corrected", corrected)
    deadline = this(T, "Filing Deadline")
    days_left = this(T, "Filing Days Left")

    # Claim IDs match as COUNTIFS and SUMIFS match them (and as the engine does, reading every
    # ID as text): case ignored, the number 123 and the text "123" alike. An array comparison
    # (X[Claim ID]=ID, in the SUMPRODUCT scans) compares them as text, &"" on both sides: a
    # number and a text are never equal there.
    # The criteria as text (ID&""): the Index mirrors IDs as text, and LibreOffice matches a
    # text criterion to the text "123" and the number 123 alike, a number only to numbers.
    key = f'Payments[Claim ID],{ID}&"",Payments[Line],{LINE}'
    same_line = f'Claims[Claim ID],{ID}&"",Claims[Line],{LINE}'
    # CARC 29 as the import writes it, or typed with its group ("CO-29"; `check` asks for 29).
    carc29 = _summed(f'COUNTIFS({key},Payments[CARC],"29")+COUNTIFS({key},Payments[CARC],"CO-29")') + ">0"
    carc29 = macro("carc29", carc29)
    # A claim rejected (Acknowledgements) on or after its Filed Date, and not accepted since,
    # was never received: it is judged as not filed.
    filed_date = this(T, "Filed Date")

    def latest(result: str) -> str:
        # ... from this row's payor (a secondary's rejection does not un-file the primary),
        # or from a clearinghouse that names none.
        return (f'SUMPRODUCT(MAX((Acknowledgements[Claim ID]&""={ID}&"")*(Acknowledgements[Result]="{result}")'
                f'*(((Acknowledgements[Payor]="")+(Acknowledgements[Payor]={P}))>0)'
                f'*(Acknowledgements[Status Date]>={filed_date})*Acknowledgements[Status Date]))')
    rejected = f'AND({latest("Rejected")}>0,{latest("Rejected")}>={latest("Accepted")})'
    rejected = macro("rejected", rejected)
    unfiled = f'IF({days_left}<0,"Missed",IF({days_left}<={setting_value("filing_due_soon_days")},"Due soon","Open"))'
    # The latest denial (rows with an Action: the Payments column routes every denial).
    n_denials = _summed(f'COUNTIFS({key},Payments[Claim Status],"4")'
                        f'+COUNTIFS({key},Payments[Denied Amount],">0",'
                        f'Payments[Claim Status],"<>4",Payments[Claim Status],"<>22")')
    n_denials = macro("n_denials", n_denials)
    denying = f'(Payments[Claim ID]&""={ID}&"")*(Payments[Line]={LINE})*(Payments[Action]<>"")'
    # The latest denial's date is a column of its own (Last Denial, blank: never denied), so
    # its scan over Payments runs once a row, not once each place it is read; N() reads a
    # blank as 0, as the scan gives it.
    last_denial_cell = this(T, "Last Denial")
    last_denial_scan = _largest(f'SUMPRODUCT(MAX({denying}*Payments[Remit Date]))')
    last_denial = f'N({last_denial_cell})'
    has_denial = f'{last_denial_cell}<>""'
    # ... its row (the last in the sheet among several that day) and that row's Action
    latest_row = f'SUMPRODUCT(MAX({denying}*(Payments[Remit Date]={last_denial})*ROW(Payments[Action])))'
    routed = f'INDEX(Payments[Action],{latest_row}-MIN(ROW(Payments[Action]))+1)'
    # (the tail's rows come after the slots' in the sheet: a tail row that day is the later)
    pm = PAYMENTS_MIRROR
    routed_action = (f'IF({pm.skip_tail},{_part(routed, "p", pm)},IF({_part(latest_row, "t", pm)}>0,'
                     f'{_part(routed, "t", pm)},{_part(routed, "p", pm)}))')
    routed_action = macro("routed_action", routed_action)
    # A resubmission's window: the later of the latest denial + Corrected Claim Days and the
    # filing deadline (deadlines.resubmission_deadline).
    resubmit_by = (f'IF({contract("Corrected Claim Days")}<>"",'
                   f'MAX({last_denial}+{contract("Corrected Claim Days")},{deadline}),{deadline})')
    resubmit_by = macro("resubmit_by", resubmit_by)
    # Filed again after a denial routed to a resubmission: judged by the resubmission's window.
    resubmit_route = f'ISNUMBER(MATCH({routed_action},{_array(rules.RESUBMIT_ACTIONS)},0))'
    filed_by = (f'IF(NOT({has_denial}),{deadline},IF({filed_date}>{last_denial},'
                f'IF({resubmit_route},{resubmit_by},{deadline}),{deadline}))')
    filed_by = macro("filed_by", filed_by)
    filed = f'IF({filed_date}<={filed_by},"Filed on time","Filed late")'
    status = (f'IF({deadline}="","",IF({carc29},"Missed",'
              f'IF({filed_date}<>"",IF({rejected},{unfiled},{filed}),{unfiled})))')

    # --- the contracted rate (reimbursement.expected_allowed) ---------------------------------
    charge = this(T, "Charge")
    basis = contract("Fee Basis")
    of_medicare = f'{basis}="{PCT_OF_MEDICARE}"'
    lookup_payor = f'IF({of_medicare},px_medicare_payor,{P})'
    lookup_payor = macro("lookup_payor", lookup_payor)
    pos = f'IF(LEN({this(T, "POS")}&"")=1,"0"&{this(T, "POS")},{this(T, "POS")}&"")'
    setting_formula = (f'IF(ISNUMBER(MATCH({pos},{_array(rules.FACILITY_POS)},0)),"{rules.FACILITY}",'
                       f'"{rules.NON_FACILITY}")')
    setting = this(T, "Setting")
    modifier = f'UPPER(TRIM({this(T, "Modifier")}&""))'
    modifier = macro("modifier", modifier)

    def fee(fn: str, mod: str, where: str, what: str = "") -> str:
        """fn over the FeeSchedule rows of the lookup payor, CPT, `mod` and Setting `where`
        in effect on the date of service (a blank Effective To is open-ended)."""
        crit = (f'FeeSchedule[Payor],{lookup_payor},FeeSchedule[CPT],{this(T, "CPT")}&"",'
                f'FeeSchedule[Modifier],{mod},FeeSchedule[Setting],{where},'
                f'FeeSchedule[Effective From],"<="&{DOS}')
        return (f'({fn}({what}{crit},FeeSchedule[Effective To],">="&{DOS})'
                f'+{fn}({what}{crit},FeeSchedule[Effective To],""))')

    def rate(mod: str) -> str:
        return macro("rate_" + ("own" if mod != chr(34) * 2 else "base"), _rate(mod))

    def _rate(mod: str) -> str:
        # a row of the claim's setting wins over one with a blank Setting; "" when neither
        return (f'IF({fee("COUNTIFS", mod, setting)}>0,{fee("SUMIFS", mod, setting, "FeeSchedule[Allowed],")},'
                f'IF({fee("COUNTIFS", mod, chr(34) * 2)}>0,{fee("SUMIFS", mod, chr(34) * 2, "FeeSchedule[Allowed],")},'
                f'""))')

    def listed_with(mod: str) -> str:
        return f'({fee("COUNTIFS", mod, setting)}+{fee("COUNTIFS", mod, chr(34) * 2)})>0'

    def setting_of(mod: str) -> str:
        return macro("setting_" + ("own" if mod != chr(34) * 2 else "base"),
                     f'IF({fee("COUNTIFS", mod, setting)}>0,", "&LOWER({setting}),"")')

    base_cell = this(T, "Base Rate")
    own_listed = listed_with(modifier)
    own_listed = macro("own_listed", own_listed)
    where = f'IFERROR(MATCH({modifier},Modifiers[Modifier],0),IFERROR(MATCH(--{modifier},Modifiers[Modifier],0),0))'
    where = macro("where", where)
    mod_pricing = f'IF({where}=0,"",INDEX(Modifiers[Pricing],{where}))'
    mod_pricing = macro("mod_pricing", mod_pricing)
    mod_pct = f'INDEX(Modifiers[Percent],{where})'
    mod_pct = macro("mod_pct", mod_pct)
    # no modifier, or one priced at the base rate: × 1; % of base: × its Percent; else no rate
    # ("" makes the product an error, caught below). A FeeSchedule row with the modifier wins.
    factor = (f'IF({modifier}="",1,IF({mod_pricing}="{rules.BASE_RATE}",1,'
              f'IF({mod_pricing}="{rules.PCT_OF_BASE}",IF({mod_pct}="","",{mod_pct}),"")))')
    factor = macro("factor", factor)
    at_base = f'ROUND({base_cell}*{factor},2)'
    at_base = macro("at_base", at_base)
    by_modifier = f'IF({modifier}="",{at_base},IFERROR({rate(modifier)}+0,{at_base}))'
    by_modifier = macro("by_modifier", by_modifier)

    def rule(header: str, default) -> str:
        """A PaymentRules term: the payor's row, else the All payors row, else Medicare's."""
        own_row = f'IFERROR(INDEX({col("PaymentRules", header)},MATCH({P},PaymentRules[Payor],0)),"")'
        everyone = f'IFERROR(INDEX({col("PaymentRules", header)},MATCH("{rules.ALL}",PaymentRules[Payor],0)),"")'
        return macro("rule_" + re.sub(r"\W", "", header),
                     f'IF({own_row}<>"",{own_row},IF({everyone}<>"",{everyone},{default}))')
    first_pct, second_pct, further_pct = (rule(h, d) for h, d in zip(
        ("First Procedure %", "Second Procedure %", "Further Procedures %"), rules.PROCEDURE_PCTS_DEFAULT))
    lesser_of = f'{rule("Lesser Of Charge", chr(34) + rules.LESSER_OF_DEFAULT + chr(34))}="Yes"'
    lesser_of = macro("lesser_of", lesser_of)
    npp = f'{this(T, "NPP")}="Yes"'
    # × % of Medicare, then × the NPP %, each rounded to the cent (× 1 where neither applies)
    scaled = f'ROUND({by_modifier}*IF({of_medicare},{contract("% of Medicare")},1),2)'
    unit_rate = f'IFERROR(ROUND({scaled}*IF({npp},{rule("NPP %", rules.NPP_PCT_DEFAULT)},1),2),"")'
    base_rate = f'IFERROR({rate(chr(34) * 2)}+0,"")'
    rate_cell, rank_cell = this(T, "Unit Rate"), this(T, "Procedure Rank")
    subject = (f'IF({rate_cell}="","",IF(IFERROR(COUNTIFS(FeeSchedule[Payor],{lookup_payor},'
               f'FeeSchedule[CPT],{this(T, "CPT")}&"",FeeSchedule[Multiple Procedure],"Yes"),0)>0,"Yes",""))')
    # Each unit of a higher-rated subject line (or an equal one with a lower line number) comes first.
    peers = (f'Claims[Claim ID],{ID}&"",Claims[Date of Service],{DOS},Claims[Payor],{P},'
             f'Claims[Role],{this(T, "Role")},Claims[Multiple Procedure],"Yes"')
    above = f'Claims[Unit Rate],">"&{rate_cell}'
    tied = f'Claims[Unit Rate],{rate_cell},Claims[Line],"<"&{LINE}'
    rank = (f'IF({this(T, "Multiple Procedure")}<>"Yes","",1+'
            + _claims_summed(f'SUMIFS(Claims[Units],{peers},{above})'
                             f'+COUNTIFS({peers},{above},Claims[Units],"")+SUMIFS(Claims[Units],{peers},{tied})'
                             f'+COUNTIFS({peers},{tied},Claims[Units],"")') + ')')
    # The units at the first, second and further ranks, each at its PaymentRules percentage.
    share = (f'IF({rank_cell}="",{UNITS},({rank_cell}=1)*{first_pct}'
             f'+(({rank_cell}<=2)*({rank_cell}+{UNITS}>=3))*{second_pct}'
             f'+({UNITS}-({rank_cell}=1)-({rank_cell}<=2)*({rank_cell}+{UNITS}>=3))*{further_pct})')
    contracted = f'ROUND({rate_cell}*{share},2)'
    contracted = macro("contracted", contracted)
    lesser = f'AND({lesser_of},{charge}<{contracted})'
    expected = f'IF({rate_cell}="","",IF({lesser},{charge},{contracted}))'
    modifier_note = (f'IF({modifier}="","",IF({own_listed},", modifier "&{modifier}&" rate",'
                     f'IF({mod_pricing}="{rules.BASE_RATE}",", modifier "&{modifier}&" at base",'
                     f'IF({mod_pricing}="{rules.PCT_OF_BASE}",", modifier "&{modifier}&" % of base",""))))')
    setting_note = (f'IF(AND({modifier}<>"",{own_listed}),{setting_of(modifier)},{setting_of(chr(34) * 2)})')

    pricing = (f'IF({rate_cell}="","",IFERROR(IF({of_medicare},"% of Medicare","Fee schedule")'
               f'&{setting_note}&{modifier_note}&IF({npp},", NPP","")'
               f'&IF({rank_cell}="","",", procedure "&{rank_cell})'
               f'&IF(AND({lesser_of},{this(T, "Expected Allowed")}={charge}),", billed charge",""),""))')

    paid, allowed = this(T, "Paid"), this(T, "Allowed")
    later_row = f'OR({this(T, "Claim Type")}="Secondary",{this(T, "Claim Type")}="Tertiary")'
    # Payer sequence criteria: a blank Payer Seq is the primary.
    seq = {"1": 'Payments[Payer Seq],"<>2",Payments[Payer Seq],"<>3"',
           "2": 'Payments[Payer Seq],"2"', "3": 'Payments[Payer Seq],"3"'}

    def own_allowed(s: str) -> str:
        blank = f'{key},Payments[Allowed],"",{seq[s]}'
        return macro("allowed_" + s, _summed(f'SUMIFS(Payments[Allowed],{key},{seq[s]})+SUMIFS(Payments[Paid],{blank})'
                       f'+SUMIFS(Payments[Patient Resp],{blank})+SUMIFS(Payments[Sequestration],{blank})'))

    # IF is lazy in Excel and LibreOffice, AND/OR are not: nested IFs keep the costly
    # aggregates (COUNTIFS over Payments, SUMPRODUCT) off the rows that do not need them.
    denied_amount = f'N({this(T, "Denied Amount")})'
    last_paid = _largest(f'SUMPRODUCT(MAX((Payments[Claim ID]&""={ID}&"")*(Payments[Line]={LINE})*(Payments[Paid]>0)'
                         f'*(Payments[Claim Status]&""<>"22")*Payments[Remit Date]))')
    last_paid = macro("last_paid", last_paid)
    # Denied in full (nothing paid), or in part: a denied amount and no payment after the
    # latest denial (a denial paid on resubmission or appeal is closed).
    denial_open = (f'IF({has_denial},IF({paid}<=0,TRUE,IF({denied_amount}>0,{last_denial}>={last_paid},FALSE)),'
                   f'FALSE)')
    denial_open = macro("denial_open", denial_open)
    reversals = _summed(f'COUNTIFS({key},Payments[Claim Status],"22")')
    reversals = macro("reversals", reversals)
    remits = this(T, "Remittances")        # the line's remittance rows (COUNTIFS once, in its column)
    awaiting = f'IF({reversals}>0,2*{reversals}>={remits},FALSE)'
    awaiting = macro("awaiting", awaiting)
    variance = (f'IF({this(T, "Expected Allowed")}="","",IF({remits}=0,"",IF({later_row},"",'
                f'IF({denial_open},"",IF({awaiting},"",{this(T, "Expected Allowed")}-{allowed})))))')
    # Underpaid beyond both tolerances (reimbursement.underpayments), compared in cents as the
    # engine compares them: a float difference such as 85.13-84.13 is not one cent short.
    variance_cell, expected_cell = this(T, "Variance"), this(T, "Expected Allowed")
    short = f'ROUND({variance_cell}*100,0)'
    underpaid = (f'IF({variance_cell}="",FALSE,IF({short}>ROUND({setting_value("tolerance_amount")}*100,0),'
                 f'{short}>{setting_value("tolerance_pct")}*ROUND({expected_cell}*100,0),FALSE))')
    # The practice's follow-up (Underpayments: its last row for the line), Open when an
    # underpaid line has none (engine _follow_up).
    followed = f'Underpayments[Claim ID],{ID},Underpayments[Line],{LINE}'
    last_follow_up = (f'SUMPRODUCT(MAX((Underpayments[Claim ID]&""={ID}&"")*(Underpayments[Line]={LINE})'
                      f'*ROW(Underpayments[Status])))-MIN(ROW(Underpayments[Status]))+1')
    follow_up = (f'IF(COUNTIFS({followed})=0,IF({this(T, "Underpaid")},"Open",""),'
                 f'INDEX(Underpayments[Status],{last_follow_up})&"")')
    appeals = f'Appeals[Claim ID],{ID},Appeals[Line],{LINE}'
    # The highest level appealed (a blank level is 1), and whether it was upheld.
    top_level = (f'MAX(1,SUMPRODUCT(MAX((Appeals[Claim ID]&""={ID}&"")*(Appeals[Line]={LINE})'
                 f'*(Appeals[Level]+(Appeals[Level]="")))))')
    top_level = macro("top_level", top_level)
    # Levels of appeal (rules.py): the contract's, else Medicare's five, else two; the next
    # level's window runs from the upheld level's decision (else its appeal date).
    medicare = "OR(" + ",".join(f'{contract("Payor Type")}="{t}"' for t in rules.MEDICARE_TYPES) + ")"
    medicare = macro("medicare", medicare)
    levels = (f'IF({contract("Appeal Levels")}<>"",{contract("Appeal Levels")},'
              f'IF({medicare},{rules.MEDICARE_LEVELS},{rules.DEFAULT_LEVELS}))')
    levels = macro("levels", levels)
    schedule = ",".join(str(rules.MEDICARE_NEXT_LEVEL_DAYS.get(n, rules.DEFAULT_NEXT_LEVEL_DAYS))
                        for n in range(1, rules.MEDICARE_LEVELS + 1))
    next_days = (f'IF({contract("Next Level Days")}<>"",{contract("Next Level Days")},'
                 f'IF({medicare},CHOOSE(MIN({top_level}+1,{rules.MEDICARE_LEVELS}),{schedule}),'
                 f'{rules.DEFAULT_NEXT_LEVEL_DAYS}))')
    next_days = macro("next_days", next_days)
    at_top = (f'(Appeals[Claim ID]&""={ID}&"")*(Appeals[Line]={LINE})'
              f'*((Appeals[Level]+(Appeals[Level]=""))={top_level})')
    # The row of the top level the engine reads (top_appeals): the first in the sheet, since a
    # later row with the same claim, line and level is a duplicate the engine leaves out
    # (validate.duplicate_keys). The first as BIG - the largest (BIG - row), as below; its
    # outcome says whether the line was upheld, its decision (else its appeal date) starts
    # the next level's window.
    big = 10_000_000
    top_row = (f'({big}-SUMPRODUCT(MAX({at_top}*({big}-ROW(Appeals[Outcome])))))'
               f'-MIN(ROW(Appeals[Outcome]))+1')
    top_row = macro("top_row", top_row)
    upheld = f'INDEX(Appeals[Outcome],{top_row})="Upheld"'
    upheld = macro("upheld", upheld)
    top_decision = f'INDEX(Appeals[Decision Date],{top_row})'
    decided = f'IF({top_decision}<>"",{top_decision},INDEX(Appeals[Appeal Date],{top_row}))'
    decided = macro("decided", decided)

    # The patient's share: the last payer's patient responsibility, none while that payer
    # has forwarded the claim (CLP02 19/20/21) to the next one.
    # ... or while a later payer billed for the line (a Secondary/Tertiary row) has not.
    later_types = {"1": ("Secondary", "Tertiary"), "2": ("Tertiary",), "3": ()}

    seq_rows = {"1": '(Payments[Payer Seq]&""<>"2")*(Payments[Payer Seq]&""<>"3")',
                "2": '(Payments[Payer Seq]&""="2")', "3": '(Payments[Payer Seq]&""="3")'}

    this_line = f'(Payments[Claim ID]&""={ID}&"")*(Payments[Line]={LINE})'
    # Denied on its first adjudication (lines.line_summary: a denying row on the line's
    # earliest remit date), looked for only on a line with a denial at all. The earliest
    # date as BIG - the largest (BIG - date): MIN over an array would count the other rows' 0.
    first_remit = f'({big}-' + _largest(f'SUMPRODUCT(MAX({this_line}*({big}-Payments[Remit Date])))') + ')'
    first_remit = macro("first_remit", first_remit)
    on_first = f'{key},Payments[Remit Date],{first_remit}'
    denied_first_pass = (f'IF({has_denial},' + _summed(f'COUNTIFS({on_first},Payments[Claim Status],"4")'
                         f'+COUNTIFS({on_first},Payments[Denied Amount],">0",Payments[Claim Status],"<>4",'
                         f'Payments[Claim Status],"<>22")') + '>0,FALSE)')
    forwarding = "((" + "+".join(f'(Payments[Claim Status]&""="{c}")' for c in rules.FORWARDED) + ")>0)"

    def share(s: str) -> str:
        # forwarded by that payer's latest adjudication (a reversed forwarding is not)
        latest_adjudication = _largest(f'SUMPRODUCT(MAX({this_line}*{seq_rows[s]}'
                                       f'*(Payments[Claim Status]&""<>"22")*Payments[Remit Date]))')
        # (the array scan only on the few lines with a forwarding row at all: cheap COUNTIFS first)
        # (SUMPRODUCT over the statuses: COUNTIFS gives one count per status of the array)
        any_forwarding = _summed(f'SUMPRODUCT(COUNTIFS({key},{seq[s]},Payments[Claim Status],'
                                 f'{_array(rules.FORWARDED)}))')
        forwarded = (f'IF({any_forwarding}=0,0,' + _summed(f'SUMPRODUCT({this_line}*{seq_rows[s]}*{forwarding}'
                                                           f'*(Payments[Remit Date]={latest_adjudication}))') + ')')
        waiting = [forwarded] + [_claims_summed(f'COUNTIFS({same_line},Claims[Claim Type],"{t}")')
                                 for t in later_types[s]]
        own_share = _summed(f'SUMIFS(Payments[Patient Resp],{key},{seq[s]})')
        return macro("share_" + s, f'IF(({"+".join(waiting)})>0,0,{own_share})')
    billed_by = {s: macro("billed_" + s, _summed(f'COUNTIFS({key},{seq[s]})')) for s in ("2", "3")}
    patient_share = (f'IF({billed_by["3"]}>0,{share("3")},'
                     f'IF({billed_by["2"]}>0,{share("2")},{share("1")}))')
    share_cell, written_cell = this(T, "Patient Share"), this(T, "Written Off")
    adjustments = _summed(f'SUMIFS(Payments[Contractual Adj],{key})') + f'+{share_cell}'
    adjustments = macro("adjustments", adjustments)
    open_balance = f'MAX(0,{this(T, "Charge")}-{paid}-({adjustments}))'
    open_balance = macro("open_balance", open_balance)
    # What the latest denial calls for: its row's Action; Appeal once the line is appealed.
    denial_action = f'IF({denial_open},IF(COUNTIFS({appeals})>0,"{rules.APPEAL}",{routed_action}),"")'
    action = this(T, "Denial Action")
    resubmit = ",".join(f'{action}="{a}"' for a in rules.RESUBMIT_ACTIONS)

    def window_status(due: str, soon: str) -> str:
        """Not done yet: Missed past `due`, Due soon within `soon` days of it, else Open."""
        return f'IF(px_AsOf>{due},"Missed",IF({due}-px_AsOf<={soon},"Due soon","Open"))'

    # Appeal Status (deadlines.appeal_deadlines) of a denial the line is to appeal: its window
    # from the latest denial; once upheld with levels left, the next level's window from that
    # decision; "Upheld" at the final level. IFERROR: a payor with no contract has none.
    mailing = contract("Mailing Days")
    first_window = f'({last_denial}+{mailing}+{contract("Appeal Days")})'
    first_window = macro("first_window", first_window)
    next_window = f'(MAX({decided},{last_denial})+{mailing}+{next_days})'
    next_window = macro("next_window", next_window)
    appeal_soon = setting_value("appeal_due_soon_days")
    appealed_in_time = f'COUNTIFS({appeals},Appeals[Appeal Date],"<="&{first_window})>0'
    appealed_in_time = macro("appealed_in_time", appealed_in_time)
    appeal_status = (f'IF({action}<>"{rules.APPEAL}","",IFERROR(IF(COUNTIFS({appeals})>0,'
                     f'IF({upheld},IF({top_level}<{levels},{window_status(next_window, appeal_soon)},"Upheld"),'
                     f'IF({appealed_in_time},"Appealed on time","Appealed late")),'
                     f'{window_status(first_window, appeal_soon)}),""))')
    # Resubmit Status (deadlines.denial_actions) of a denial routed to a resubmission.
    filing_soon = setting_value("filing_due_soon_days")
    resubmit_status = (f'IF(OR({resubmit}),IFERROR(IF({resubmit_by}="","",IF({filed_date}>{last_denial},'
                       f'IF({filed_date}<={resubmit_by},"Resubmitted","Resubmitted late"),'
                       f'{window_status(resubmit_by, filing_soon)})),""),"")')
    # Prompt Pay Status (deadlines.prompt_pay): a line filed (and not rejected since: its
    # Filing Status says filed, or Missed for a CARC 29), not denied in full, under a contract
    # with Prompt Pay Days; processed once remitted with a payment or a patient share.
    prompt_days = contract("Prompt Pay Days")
    due = f'({filed_date}+{prompt_days})'
    due = macro("due", due)
    filing_cell = this(T, "Filing Status")
    received = (f'IF(OR(FILING="Filed on time",FILING="Filed late"),TRUE,IF(FILING="Missed",{carc29},FALSE))'
                .replace("FILING", filing_cell))
    received = macro("received", received)
    unprocessed = f'IF(px_AsOf>{due},"Overdue","Pending")'
    # (">0": a blank Remit Date is mirrored on Index as 0, which "<=" would count)
    remitted_by_due = _summed(f'COUNTIFS({key},Payments[Remit Date],"<="&{due},Payments[Remit Date],">0")')
    remitted_by_due = macro("remitted_by_due", remitted_by_due)
    processed = f'IF({remitted_by_due}>0,"Paid on time","Paid late")'
    patient_resp = _summed(f'SUMIFS(Payments[Patient Resp],{key})')
    patient_resp = macro("patient_resp", patient_resp)
    prompt_pay_status = (f'IFERROR(IF(OR({filed_date}="",{prompt_days}=""),"",'
                         f'IF(AND({has_denial},{paid}<=0),"",IF(NOT({received}),"",'
                         f'IF({remits}=0,{unprocessed},IF(OR({paid}>0,{patient_resp}>0),'
                         f'{processed},{unprocessed}))))),"")')
    # Final (denials.final_denial_writeoff): by the line's own Appeal and Resubmit Status.
    appeal_cell, resubmit_cell = this(T, "Appeal Status"), this(T, "Resubmit Status")
    final = (f'OR({action}="{rules.WRITE_OFF}",AND({action}="{rules.APPEAL}",'
             f'OR({appeal_cell}="Upheld",{appeal_cell}="Missed")),AND(OR({resubmit}),{resubmit_cell}="Missed"))')
    final = macro("final", final)
    written_off = (f'IF({action}="",0,IF({final},'
                   f'MIN(MAX(0,{denied_amount}),{open_balance}),0))')
    balance = f'IFERROR({this(T, "Charge")}-{paid}-({adjustments})-{written_cell},"")'
    role = this(T, "Role")
    kind = this(T, "Claim Type")
    row_payer = f'IF(OR({kind}="",{kind}="Primary"),1,IF({kind}="Secondary",2,3))'
    row_payer = macro("row_payer", row_payer)
    primary_rows = _claims_summed(f'COUNTIFS({same_line},Claims[Claim Type],"Primary")'
                                  f'+COUNTIFS({same_line},Claims[Claim Type],"")')
    primary_rows = macro("primary_rows", primary_rows)
    secondary_rows = _claims_summed(f'COUNTIFS({same_line},Claims[Claim Type],"Secondary")')
    secondary_rows = macro("secondary_rows", secondary_rows)
    first_payer = f'IF({primary_rows}>0,1,IF({secondary_rows}>0,2,3))'
    first_payer = macro("first_payer", first_payer)
    voided = _claims_summed(f'COUNTIFS({same_line},Claims[Frequency],"{roles.VOID_FREQUENCY}")')
    voided = macro("voided", voided)
    role_formula = (f'IF({voided}>0,"{roles.VOID}",'
                    f'IF({row_payer}={first_payer},"{roles.LINE}","{roles.NEXT_PAYER}"))')
    # A next payer the earlier one forwarded the claim to (CLP02 19 to the secondary, 20 to
    # the tertiary: a Medicare crossover) needs no claim of the practice's.
    crossed = _summed(f'COUNTIFS({key},Payments[Claim Status],IF({kind}="Tertiary","20","19"))') + ">0"
    crossed = macro("crossed", crossed)
    status = (f'IF(AND({role}="{roles.NEXT_PAYER}",{filed_date}=""),IF({crossed},"{roles.CROSSED_OVER}",{status}),'
              f'{status})')

    def line_only(formula: str) -> str:
        return f'IF({role}<>"{roles.LINE}","",{formula})'

    def not_void(formula: str, void: str = '""') -> str:
        return f'IF({role}="{roles.VOID}",{void},{formula})'
    age = f'(px_AsOf-{DOS})'
    bucket = (f'IF(OR({this(T, "Balance")}="",{this(T, "Balance")}<=0),"",'
              f'IF({age}<=30,"0-30",IF({age}<=60,"31-60",IF({age}<=90,"61-90",'
              f'IF({age}<=120,"91-120","120+")))))')
    return {
        "role": role_formula,
        "filing_deadline": not_void(f'IFERROR(IF({DOS}="","",{corrected}),"")'),
        "filing_days_left": f'IF({deadline}="","",{deadline}-px_AsOf)',
        "filing_status": not_void(status, f'"{roles.VOID}"'),
        "setting": not_void(setting_formula),
        "base_rate": not_void(base_rate),
        "unit_rate": not_void(unit_rate),
        "multiple_procedure": not_void(subject),
        "procedure_rank": not_void(rank),
        "pricing": not_void(pricing),
        "expected_allowed": not_void(expected),
        "paid": line_only(_summed(f'SUMIFS(Payments[Paid],{key})')),
        "n_remits": line_only(_summed(f'COUNTIFS({key})')),
        "allowed": line_only(f'IF({later_row},IF({kind}="Tertiary",{own_allowed("3")},{own_allowed("2")}),'
                             f'{own_allowed("1")})'),
        "variance": line_only(variance),
        "underpaid": line_only(underpaid),
        "follow_up": line_only(follow_up),
        "patient_share": line_only(patient_share),
        "denial_date": not_void(f'IF({n_denials}=0,"",{last_denial_scan})'),
        "denied_amount": line_only(_summed(f'SUMIFS(Payments[Denied Amount],{key})')),
        "denied_first_pass": line_only(denied_first_pass),
        "denial_action": line_only(denial_action),
        "appeal_status": line_only(appeal_status),
        "resubmit_status": line_only(resubmit_status),
        "prompt_pay_status": line_only(prompt_pay_status),
        "written_off": line_only(written_off),
        "balance": line_only(balance),
        "aging_bucket": bucket,
    }


def _contracts() -> dict[str, str]:
    T = "Contracts"
    te = this(T, "Term End")
    months = f'IF({this(T, "Renewal Months")}="",12,{this(T, "Renewal Months")})'
    notice = f'IF({this(T, "Notice Days")}="",90,{this(T, "Notice Days")})'
    k0 = f'INT(DATEDIF({te},px_AsOf,"m")/{months})'
    rolled = (f'IF(EDATE({te},{k0}*{months})>=px_AsOf,EDATE({te},{k0}*{months}),'
              f'EDATE({te},({k0}+1)*{months}))')
    current = f'IF(AND({this(T, "Auto Renew")}="Yes",{te}<px_AsOf),{rolled},{te})'
    return {"notice_deadline": f'IF({te}="","",{current}-{notice})'}


def _array(values) -> str:
    """An array constant of texts: {"CO","PR"}."""
    return "{" + ",".join(f'"{v}"' for v in values) + "}"


def _reason_code(cell: str) -> str:
    """The reason code in `cell` as rules.reason_code reads it: trimmed, upper case, a group
    prefix such as "CO-" or "CO " dropped."""
    typed = f'UPPER(TRIM({cell}&""))'
    prefixed = f'ISNUMBER(MATCH(LEFT({typed},2),{_array(m.GROUP_CODES)},0))'
    return f'IF({prefixed},TRIM(SUBSTITUTE(MID({typed},3,99),"-","")),{typed})'


def _adjustments(macros: dict[str, str] | None = None) -> dict[str, str]:
    """What an adjustment does (rules.adjustment_kind), as a formula (the reason code read by
    `_reason_code`, once: a name, as `_claims` writes its sub-expressions)."""
    macro = _macro_maker(macros)
    T = "Adjustments"
    group = this(T, "Group")
    code = macro("adj_reason", _reason_code(this(T, "Reason")))
    contractual = f'ISNUMBER(MATCH({code},{_array(rules.CONTRACTUAL_CARCS)},0))'
    kind = (f'IF({group}="{rules.PROVIDER_GROUP}","{rules.PROVIDER}",'
            f'IF({group}="{rules.PATIENT_GROUP}","{rules.PATIENT}",'
            f'IF(AND({group}="{rules.OTHER_GROUP}",{code}="{rules.PRIOR_PAYER_CARC}"),"{rules.PRIOR_PAYER}",'
            f'IF(AND({group}="{rules.CONTRACTUAL_GROUP}",{contractual}),'
            f'IF({code}="{rules.SEQUESTRATION_CARC}","{rules.SEQUESTRATION}","{rules.CONTRACTUAL}"),'
            f'"{rules.DENIED}"))))')
    return {"kind": kind}


def _payments(macros: dict[str, str] | None = None) -> dict[str, str]:
    """A denying row's action (denials.route): of the DenialRouting rows with its CARC (read
    as rules.reason_code reads it) whose Group is blank or its group and whose RARC is blank
    or among its remark codes, the most specific (rules.route_score), the first among
    equals; Appeal when none matches. (The reason code and the best match are names, as
    `_claims` writes its sub-expressions; the match is an array over DenialRouting, kept in
    the name that sums it.)"""
    macro = _macro_maker(macros)
    T = "Payments"
    status = f'{this(T, "Claim Status")}&""'
    denies = (f'AND({status}<>"{rules.REVERSAL_STATUS}",'
              f'OR({status}="{rules.DENIED_STATUS}",{this(T, "Denied Amount")}>0))')
    code = macro("pay_carc", _reason_code(this(T, "CARC")))
    group = f'UPPER(TRIM({this(T, "Group Code")}&""))'
    remarks = f'","&SUBSTITUTE(SUBSTITUTE(SUBSTITUTE(UPPER({this(T, "RARC")}&"")," ",","),";",","),":",",")&","'
    r_group, r_rarc = 'TRIM(DenialRouting[Group]&"")', 'TRIM(DenialRouting[RARC]&"")'
    # (a row with no Action, such as the blank row of an emptied table, routes nothing)
    matched = (f'(UPPER(TRIM(DenialRouting[CARC]&""))={code})*(DenialRouting[Action]&""<>"")'
               f'*((({r_group}="")+({r_group}={group}))>0)'
               f'*((({r_rarc}="")+ISNUMBER(SEARCH(","&{r_rarc}&",",{remarks})))>0)')
    score = f'{matched}*(1+2*({r_group}<>"")+4*({r_rarc}<>""))'
    position = 'ROW(DenialRouting[Action])-MIN(ROW(DenialRouting[Action]))+1'   # LibreOffice has no ROW([#Headers])
    best = macro("pay_best", f'IFERROR(SUMPRODUCT(MAX({score}*100000+({score}>0)*(100000-({position})))),0)')
    action = (f'IF({denies},IF({best}<100000,"{rules.DEFAULT_ACTION}",'
              f'INDEX(DenialRouting[Action],100000-MOD({best},100000))),"")')
    return {"action": action}


def _structured_formulas(macros: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Table name -> calculated column key -> formula, with structured references; `macros`
    gets the defined names the formulas call (_macro_maker)."""
    return {"Claims": _claims(macros), "Contracts": _contracts(), "Adjustments": _adjustments(macros),
            "Payments": _payments(macros)}


# --- one defined name per reference (issue 17: what LibreOffice keeps per cell) ---------------
# The formulas above are written with structured references, and the workbook gets them
# with each one replaced by a defined name: Claims[[#This Row],[Units]] by px_Claims_Units
# (=Claims!$I1, relative to the row: read from Claims row 57 it is Claims!$I57, as the
# Index names are) and Contracts[Filing Clock] by px_Contracts_all_FilingClock
# (=Contracts[Filing Clock], which grows with the table). LibreOffice compiles a structured
# reference into every cell that holds it, so its formula cells share nothing: a
# 10,000-line Claims sheet took 13.9 GB to open. With names, every row's formula is the
# same tokens and LibreOffice keeps one copy per column (a synthetic table of 200,000
# formula cells: 0.63 GB and 4.6 s of CPU to open with structured references, 0.21 GB and
# 1.4 s with names; benchmarks/results/shared-formulas.md). Excel reads both alike.
_THIS_ROW = re.compile(r"\b([A-Za-z_]\w*)\[\[#This Row\],\[((?:[^\[\]']|'.)*)\]\]")
_WHOLE_COLUMN = re.compile(r"\b([A-Za-z_]\w*)\[(?:\[((?:[^\[\]#']|'.)(?:[^\[\]']|'.)*)\]|([^\[\]#'][^\[\]']*))\]")


def _unescape(specifier: str) -> str:
    return re.sub(r"'(.)", r"\1", specifier)


def row_name(table: str, header: str) -> str:
    """The defined name of a table's column in the row that reads it: px_Claims_Units."""
    return f"px_{table}_" + re.sub(r"\W", "", header)


def formula_name(table: str, header: str) -> str:
    """The defined name holding a calculated column's formula, which its cells read:
    px_f_Claims_FilingStatus (relative to the row, as the names it reads are)."""
    return f"px_f_{table}_" + re.sub(r"\W", "", header)


def column_name(table: str, header: str) -> str:
    """The defined name of a table's whole column: px_Contracts_all_FilingClock."""
    return f"px_{table}_all_" + re.sub(r"\W", "", header)


def _named(formula: str, names: dict[str, str]) -> str:
    """`formula` with each structured reference replaced by its defined name, recorded in
    `names` (name -> what it refers to)."""
    from .xlsxpart import col_letter

    def this_row(found: re.Match) -> str:
        table, header = found.group(1), _unescape(found.group(2))
        at = m.TABLES[table].headers.index(header)
        name = row_name(table, header)
        names[name] = f"={table}!${col_letter(at)}1"
        return name

    def whole(found: re.Match) -> str:
        table = found.group(1)
        header = _unescape(found.group(2)) if found.group(2) is not None else found.group(3)
        if table not in m.TABLES:
            return found.group(0)
        name = column_name(table, header)
        names[name] = f"={col(table, header)}"
        return name

    # (outside string literals: the text "Claims[Paid]" is no reference)
    parts = re.split(r'("[^"]*")', formula)
    return "".join(part if i % 2 else _WHOLE_COLUMN.sub(whole, _THIS_ROW.sub(this_row, part))
                   for i, part in enumerate(parts))


@functools.lru_cache(maxsize=1)
def _with_names() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    names: dict[str, str] = {}
    macros: dict[str, str] = {}
    formulas = {table: {key: _named(text, names) for key, text in columns.items()}
                for table, columns in _structured_formulas(macros).items()}
    for name, text in macros.items():
        names[name] = "=" + _named(text, names)
    # Each calculated column's whole formula is a defined name too, and its cells read that
    # name: LibreOffice parses every cell's formula text on opening (no shared formulas,
    # above), so a Claims row of ~10 KB of text cost most of the time to open a workbook.
    # With one name per column a Claims row holds ~1,300 characters; opening a 10,000-line workbook
    # took 6.3 s of LibreOffice's CPU instead of 10.3 s, and every figure, edit and full
    # recalculation costs what it did (benchmarks/results/uno_bench.md, 2026-12-07).
    for table, columns in formulas.items():
        for key, text in columns.items():
            name = formula_name(table, next(c.name for c in m.TABLES[table].calculated if c.key == key))
            names[name] = "=" + text
            columns[key] = NOT_THREADED.format(name)
    return formulas, names


# What a calculated column's cells hold: its formula's name, behind a TEXT that is never
# evaluated. LibreOffice (6.2 and later, on by default) may calculate a column of identical
# formulas in threads, and it decides so from the functions in the cells' own text, not in
# the names they read; the first edit that reaches such a column then costs a pass over all
# its rows (2.7 s of CPU at 50,000 lines for a payment posted, 0.19 s for every edit after),
# and TEXT is one of the functions that keep a column out of threads. With it: 0.05 s for
# the first payment posted at 10,000 lines (0.40 s without), 0.01 s after (0.03 s); the
# figures are the same. Excel never evaluates the TEXT either.
NOT_THREADED = 'IF(FALSE(),TEXT(0,"0"),{})'


def table_formulas() -> dict[str, dict[str, str]]:
    """Table name -> calculated column key -> formula (without the leading '='), each
    structured reference written as its defined name (table_names)."""
    return {table: dict(columns) for table, columns in _with_names()[0].items()}


def table_names() -> dict[str, str]:
    """The defined names the calculated columns read: name -> reference."""
    return dict(_with_names()[1])
