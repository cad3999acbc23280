"""Sentry grouping: fingerprint, else exception types and frames (not line numbers), else the message."""
from typing import Any

from app.sentry.grouping import default_components, expand_fingerprint, group_id


def _frame(function: str, lineno: int, in_app: bool = True, module: str = "shop.cart") -> dict[str, Any]:
    return {"module": module, "function": function, "lineno": lineno, "in_app": in_app, "filename": "cart.py"}


def _exception(kind: str, value: str, frames: list[dict[str, Any]]) -> dict[str, Any]:
    return {"exception": {"values": [{"type": kind, "value": value, "stacktrace": {"frames": frames}}]}}


def test_line_numbers_and_values_do_not_split_a_group() -> None:
    first = _exception("ValueError", "price -3", [_frame("main", 10), _frame("checkout", 40)])
    second = _exception("ValueError", "item 7 missing", [_frame("main", 12), _frame("checkout", 44)])
    assert group_id(1, first) == group_id(1, second)


def test_type_function_and_project_each_split_groups() -> None:
    base = _exception("ValueError", "x", [_frame("checkout", 40)])
    assert group_id(1, base) != group_id(1, _exception("KeyError", "x", [_frame("checkout", 40)]))
    assert group_id(1, base) != group_id(1, _exception("ValueError", "x", [_frame("refund", 40)]))
    assert group_id(1, base) != group_id(2, base)


def test_only_in_app_frames_count_when_any_is_marked() -> None:
    library_a = [_frame("dispatch", 1, False, "flask.app"), _frame("view", 5)]
    library_b = [_frame("full_dispatch", 9, False, "werkzeug.serving"), _frame("view", 6)]
    assert group_id(1, _exception("E", "", library_a)) == group_id(1, _exception("E", "", library_b))
    none_in_app = [_frame("dispatch", 1, False, "flask.app")]
    assert default_components(_exception("E", "", none_in_app)) == ["exception", "E", "flask.app:dispatch"]


def test_frames_without_module_use_the_file_name_not_its_url_or_folder() -> None:
    a = _exception("TypeError", "x", [{"filename": "https://cdn.example.com/a/app.js?v=1", "function": "f",
                                       "in_app": True}])
    b = _exception("TypeError", "y", [{"filename": "https://other.example.com/b/app.js?v=2", "function": "f",
                                       "in_app": True}])
    assert group_id(1, a) == group_id(1, b)


def test_exception_without_frames_groups_by_type_and_normalised_value() -> None:
    assert group_id(1, _exception("Timeout", "after 30s on 10.0.0.1", [])) == \
        group_id(1, _exception("Timeout", "after 45s on 10.0.0.2", []))


def test_the_whole_chain_counts() -> None:
    cause = {"type": "KeyError", "value": "k", "stacktrace": {"frames": [_frame("lookup", 3)]}}
    raised = {"type": "ValueError", "value": "v", "stacktrace": {"frames": [_frame("checkout", 3)]}}
    alone = {"exception": {"values": [raised]}}
    chained = {"exception": {"values": [cause, raised]}}
    assert group_id(1, alone) != group_id(1, chained)


def test_messages_group_by_template_or_normalised_text() -> None:
    assert group_id(1, {"message": "Disk 91% full"}) == group_id(1, {"message": "Disk 97% full"})
    templated = {"logentry": {"message": "user %s failed", "params": ["ada"], "formatted": "user ada failed"}}
    other = {"logentry": {"message": "user %s failed", "params": ["bob"], "formatted": "user bob failed"}}
    assert group_id(1, templated) == group_id(1, other)
    assert group_id(1, {"message": "Disk full"}) != group_id(1, {"message": "Network down"})


def test_a_fingerprint_overrides_grouping() -> None:
    a = {**_exception("ValueError", "x", [_frame("checkout", 1)]), "fingerprint": ["payment-timeout"]}
    b = {**_exception("KeyError", "y", [_frame("refund", 2)]), "fingerprint": ["payment-timeout"]}
    assert group_id(1, a) == group_id(1, b)


def test_default_in_a_fingerprint_expands_to_the_default_grouping() -> None:
    event = _exception("ValueError", "x", [_frame("checkout", 1)])
    assert group_id(1, {**event, "fingerprint": ["{{ default }}"]}) == group_id(1, event)
    eu = {**event, "fingerprint": ["{{default}}", "eu"]}
    us = {**event, "fingerprint": ["{{ default }}", "us"]}
    assert len({group_id(1, event), group_id(1, eu), group_id(1, us)}) == 3
    assert expand_fingerprint(eu["fingerprint"], event) == ["exception", "ValueError", "shop.cart:checkout", "eu"]


def test_fingerprint_variables_and_unknown_ones() -> None:
    event = {**_exception("ValueError", "x", []), "transaction": "/checkout", "level": "error"}
    assert expand_fingerprint(["{{ error.type }}", "{{ transaction }}", "{{ nope }}", 7], event) == \
        ["ValueError", "/checkout", "{{ nope }}", "7"]
