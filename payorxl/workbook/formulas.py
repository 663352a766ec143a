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

from .. import model as m

# Defined names for the Settings values (Settings!B<row>); px_AsOf is the as-of date
# with "blank = today" applied.
SETTINGS_FIRST_ROW = 2


def settings_names() -> dict[str, str]:
    """Defined name -> reference, one per setting, plus px_AsOf."""
    names = {}
    for i, s in enumerate(m.SETTINGS):
        names[f"px_{s.key}"] = f"=Settings!$B${SETTINGS_FIRST_ROW + i}"
    names["px_AsOf"] = "=IF(px_as_of=\"\",TODAY(),px_as_of)"
    return names


def this(table: str, header: str) -> str:
    return f"{table}[[#This Row],[{header}]]"


def col(table: str, header: str) -> str:
    return f"{table}[{header}]"


def _claims() -> dict[str, str]:
    T = "Claims"
    ID, LINE, P = this(T, "Claim ID"), this(T, "Line"), this(T, "Payor")
    DOS = this(T, "Date of Service")
    UNITS = f'IF({this(T, "Units")}="",1,{this(T, "Units")})'

    def contract(field: str) -> str:
        return f'INDEX(Contracts[{field}],MATCH({P},Contracts[Payor],0))'

    clock = (f'IF({contract("Filing Clock")}="Through Date",'
             f'IF({this(T, "Through Date")}<>"",{this(T, "Through Date")},{DOS}),'
             f'IF({contract("Filing Clock")}="Primary Remit",'
             f'IF(AND({this(T, "Claim Type")}="Secondary",{this(T, "Primary Remit Date")}<>""),'
             f'{this(T, "Primary Remit Date")},{DOS}),'
             f'IF({contract("Filing Clock")}="Later of DOS and Primary Remit",'
             f'MAX({DOS},{this(T, "Primary Remit Date")}),{DOS})))')
    original = (f'IF({contract("Filing Unit")}="months",EDATE({clock},{contract("Filing Limit")}),'
                f'{clock}+{contract("Filing Limit")})')
    corrected = (f'IF(AND({this(T, "Frequency")}&""="7",{this(T, "Original Remit Date")}<>"",'
                 f'{contract("Corrected Claim Days")}<>""),'
                 f'{this(T, "Original Remit Date")}+{contract("Corrected Claim Days")},{original})')
    deadline = this(T, "Filing Deadline")
    days_left = this(T, "Filing Days Left")

    key = f'Payments[Claim ID],{ID},Payments[Line],{LINE}'
    carc29 = f'COUNTIFS({key},Payments[CARC],"29")>0'
    status = (f'IF({deadline}="","",IF({carc29},"Missed",'
              f'IF({this(T, "Filed Date")}<>"",IF({this(T, "Filed Date")}<={deadline},"Filed on time","Filed late"),'
              f'IF({days_left}<0,"Missed",IF({days_left}<=px_filing_due_soon_days,"Due soon","Open")))))')

    def fee(payor: str, fn: str, what: str = "FeeSchedule[Allowed],") -> str:
        crit = (f'FeeSchedule[Payor],{payor},FeeSchedule[CPT],{this(T, "CPT")}&"",'
                f'FeeSchedule[Modifier],{this(T, "Modifier")}&"",'
                f'FeeSchedule[Effective From],"<="&{DOS}')
        return (f'({fn}({what}{crit},FeeSchedule[Effective To],">="&{DOS})'
                f'+{fn}({what}{crit},FeeSchedule[Effective To],""))')

    expected = (f'IFERROR(IF({contract("Fee Basis")}="% of Medicare",'
                f'IF({fee("px_medicare_payor", "COUNTIFS", "")}=0,"",'
                f'ROUND({fee("px_medicare_payor", "SUMIFS")}*{contract("% of Medicare")},2)*{UNITS}),'
                f'IF({fee(P, "COUNTIFS", "")}=0,"",{fee(P, "SUMIFS")}*{UNITS})),"")')

    paid, allowed = this(T, "Paid"), this(T, "Allowed")
    # IF is lazy in Excel and LibreOffice, AND/OR are not: nested IFs keep the costly
    # aggregates (COUNTIFS over Payments, SUMPRODUCT) off the rows that do not need them.
    n_denials = (f'(COUNTIFS({key},Payments[Claim Status],"4")'
                 f'+COUNTIFS({key},Payments[Paid],"<=0",Payments[Denied Amount],">0",'
                 f'Payments[Claim Status],"<>4",Payments[Claim Status],"<>22"))')
    denied = f'IF({paid}>0,FALSE,{n_denials}>0)'
    variance = (f'IF({this(T, "Expected Allowed")}="","",IF(COUNTIFS({key})=0,"",IF({denied},"",'
                f'{this(T, "Expected Allowed")}-{allowed})))')
    last_denial = (f'SUMPRODUCT(MAX((Payments[Claim ID]={ID})*(Payments[Line]={LINE})'
                   f'*(((Payments[Claim Status]&""="4")+(Payments[Paid]<=0)*(Payments[Denied Amount]>0))>0)'
                   f'*(Payments[Claim Status]&""<>"22")*Payments[Remit Date]))')
    appeals = f'Appeals[Claim ID],{ID},Appeals[Line],{LINE}'
    # The denial is final when the highest-level appeal was upheld (a blank level is 1),
    # or when no appeal was filed and the appeal window has closed.
    top_level = (f'MAX(1,SUMPRODUCT(MAX((Appeals[Claim ID]={ID})*(Appeals[Line]={LINE})'
                 f'*(Appeals[Level]+(Appeals[Level]="")))))')
    lost = (f'(COUNTIFS({appeals},Appeals[Outcome],"Upheld",Appeals[Level],{top_level})'
            f'+IF({top_level}=1,COUNTIFS({appeals},Appeals[Outcome],"Upheld",Appeals[Level],""),0))>0')
    missed = (f'AND(COUNTIFS({appeals})=0,'
              f'px_AsOf>{last_denial}+{contract("Mailing Days")}+{contract("Appeal Days")})')
    adjustments = f'SUMIFS(Payments[Contractual Adj],{key})+SUMIFS(Payments[Patient Resp],{key})'
    open_balance = f'MAX(0,{this(T, "Charge")}-{paid}-({adjustments}))'
    written_off = (f'IF({paid}>0,0,IF({n_denials}=0,0,IF(OR({lost},{missed}),'
                   f'MIN(MAX(0,SUMIFS(Payments[Denied Amount],{key})),{open_balance}),0)))')
    balance = f'IFERROR({this(T, "Charge")}-{paid}-({adjustments})-{written_off},"")'
    age = f'(px_AsOf-{DOS})'
    bucket = (f'IF(OR({this(T, "Balance")}="",{this(T, "Balance")}<=0),"",'
              f'IF({age}<=30,"0-30",IF({age}<=60,"31-60",IF({age}<=90,"61-90",'
              f'IF({age}<=120,"91-120","120+")))))')
    return {
        "filing_deadline": f'IFERROR(IF({DOS}="","",{corrected}),"")',
        "filing_days_left": f'IF({deadline}="","",{deadline}-px_AsOf)',
        "filing_status": status,
        "expected_allowed": expected,
        "paid": f'SUMIFS(Payments[Paid],{key})',
        "allowed": (f'SUMIFS(Payments[Allowed],{key})+SUMIFS(Payments[Paid],{key},Payments[Allowed],"")'
                    f'+SUMIFS(Payments[Patient Resp],{key},Payments[Allowed],"")'),
        "variance": variance,
        "balance": balance,
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


def table_formulas() -> dict[str, dict[str, str]]:
    """Table name -> calculated column key -> formula (without the leading '=')."""
    return {"Claims": _claims(), "Contracts": _contracts()}
