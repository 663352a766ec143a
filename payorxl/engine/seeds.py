"""The rule tables `payorxl new` seeds a workbook with, as typed frames: PaymentRules (the All
payors row with Medicare's rules), Modifiers (rules.MODIFIER_SEED) and DenialRouting
(``data/denial_routing.csv``: the X12 CARC list with a root cause and an action per code, and
a few codes routed by their remark code). The practice owns them once seeded; a workbook made
before a table existed is calculated with its seed.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

import pandas as pd

from .. import model as m, rules
from ..conversion import typed_frame


def _cached(build):
    """`build`'s frame made once; each call gets its own copy (callers may change it)."""
    made = lru_cache(maxsize=1)(build)

    def copy() -> pd.DataFrame:
        return made().copy()
    copy.__doc__ = build.__doc__
    return copy


@_cached
def payment_rules() -> pd.DataFrame:
    first, second, further = rules.PROCEDURE_PCTS_DEFAULT
    return typed_frame(m.PAYMENT_RULES, [{
        "payor": rules.ALL, "lesser_of": rules.LESSER_OF_DEFAULT, "first_pct": first, "second_pct": second,
        "further_pct": further, "npp_pct": rules.NPP_PCT_DEFAULT,
        "note": "Medicare: lesser of charge (SSA 1848(a)(1)); multiple surgery 100/50/50 (Pub. 100-04 ch. 12 "
                "40.6); NPP 85% (ch. 12 120)"}]).frame


@_cached
def modifiers() -> pd.DataFrame:
    return typed_frame(m.MODIFIERS, [{"modifier": code, "pricing": pricing, "percent": pct, "description": text}
                                     for code, pricing, pct, text in rules.MODIFIER_SEED]).frame


@lru_cache(maxsize=1)
def _routing_rows() -> tuple:
    with resources.files("payorxl").joinpath("data", "denial_routing.csv").open("r") as f:
        return tuple(dict(r) for r in csv.DictReader(f))


@_cached
def denial_routing() -> pd.DataFrame:
    return typed_frame(m.DENIAL_ROUTING, [{"group_code": r["group"], "carc": r["carc"], "rarc": r["rarc"],
                                           "category": r["category"], "action": r["action"],
                                           "description": r["description"]} for r in _routing_rows()]).frame


SEEDS = {m.PAYMENT_RULES.name: payment_rules, m.MODIFIERS.name: modifiers, m.DENIAL_ROUTING.name: denial_routing}
