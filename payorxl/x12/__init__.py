"""X12 electronic data interchange: 835 remittances and 837P claims, read into the
frames of model.py, balanced and matched. Pure Python; no X12 library is needed."""
from .balancing import balance_835
from .claims837 import read_837
from .era835 import Remittance, read_835, remittance_rows, to_adjustments, to_payments
from .matching import match_payments
from .segments import Delimiters, Segment, Segments, X12Error, tokenize

__all__ = ["Delimiters", "Remittance", "Segment", "Segments", "X12Error", "balance_835",
           "match_payments", "read_835", "read_837", "remittance_rows", "to_adjustments", "to_payments",
           "tokenize"]
