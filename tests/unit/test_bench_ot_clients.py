"""The OT benchmark's editors parse the server's revisions without checks: they must see what the checked parser sees."""
from hypothesis import given
from hypothesis import strategies as st

from bench.ot_clients import trusted_components
from ot import components_from_wire, revision_to_wire, transform
from tests.unit.ot.strategies import documents, op_on


@st.composite
def stored_revisions(draw: st.DrawFn) -> dict:
    """A revision as the server sends it: an op transformed over a concurrent one (kept, split or emptied)."""
    text = draw(documents)
    origin = draw(op_on(text, 1))
    against = draw(op_on(text, 2))
    if draw(st.booleans()):
        origin = type(origin)(origin.position, origin.content, 1, draw(st.text(min_size=1, max_size=8)),
                              draw(st.none() | st.integers(0, 2**40)))
    return revision_to_wire(transform(origin, against, draw(st.booleans())), origin)


@given(stored_revisions())
def test_trusted_parse_equals_the_checked_parse(wire: dict) -> None:
    trusted, checked = trusted_components(wire), components_from_wire(wire)
    assert trusted == checked
    assert [(op.op_id, op.timestamp, type(op)) for op in trusted] == [
        (op.op_id, op.timestamp, type(op)) for op in checked]
