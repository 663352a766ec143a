"""The template builder remembers xlsxwriter's dynamic-array check per formula text
(template._memoize_dynamic_check). xlsxwriter 3.3.4 replaced the regex it used to check
with a function; a builder that reached for the regex by name could not write a workbook
at all under the new version. Both shapes are checked here on stand-in modules, so the
test says the same under whichever xlsxwriter is installed."""
import re
import types

from payorxl.workbook import template


def test_the_old_regex_is_remembered_and_answers_as_before():
    pattern = re.compile(r"\b(FILTER|SORT)\(")
    module = types.SimpleNamespace(re_dynamic_function=pattern)
    template._memoize_dynamic_check(module)
    memo = module.re_dynamic_function
    assert isinstance(memo, template._MemoSearch)
    assert memo.search("=SORT(A1:A3)").group(1) == "SORT"
    assert memo.search("=SUM(A1:A3)") is None
    assert memo.pattern is pattern and memo.flags == pattern.flags     # the rest reaches the regex
    template._memoize_dynamic_check(module)                           # a second import: not wrapped twice
    assert module.re_dynamic_function is memo


def test_the_new_function_is_remembered_and_called_once_per_formula_text():
    calls = []

    def has_dynamic_function(formula):
        calls.append(formula)
        return "FILTER(" in formula

    module = types.SimpleNamespace(_has_dynamic_function=has_dynamic_function)
    template._memoize_dynamic_check(module)
    check = module._has_dynamic_function
    assert [check(f) for f in ("=FILTER(A:A,B:B)", "=SUM(A:A)", "=FILTER(A:A,B:B)", "=SUM(A:A)")] \
        == [True, False, True, False]
    assert calls == ["=FILTER(A:A,B:B)", "=SUM(A:A)"]
    template._memoize_dynamic_check(module)
    assert module._has_dynamic_function is check


def test_a_version_with_neither_is_left_alone():
    module = types.SimpleNamespace(other=1)
    template._memoize_dynamic_check(module)
    assert vars(module) == {"other": 1}
