"""Hypothesis strategies and random generators of documents and ops that fit them."""

from __future__ import annotations

import random

from hypothesis import strategies as st

from ot import Delete, Insert, Op, apply

# Units chosen to catch code-unit mistakes: astral emoji, an emoji with a skin-tone
# modifier (two code points), a combining accent (two code points), CJK, ASCII.
UNITS = ["a", "b", " ", "\n", "😀", "👍🏽", "e\u0301", "中", "文", "Z"]

documents = st.lists(st.sampled_from(UNITS), max_size=12).map("".join)
snippets = st.lists(st.sampled_from(UNITS), min_size=1, max_size=3).map("".join)


@st.composite
def op_on(draw: st.DrawFn, text: str, client_id: int) -> Op:
    """An Insert or Delete that fits ``text``."""
    if not text or draw(st.booleans()):
        position = draw(st.integers(0, len(text)))
        return Insert(position, draw(snippets), client_id)
    position = draw(st.integers(0, len(text) - 1))
    stop = draw(st.integers(position + 1, len(text)))
    return Delete(position, text[position:stop], client_id)


@st.composite
def ops_on(draw: st.DrawFn, text: str, client_id: int) -> list[Op]:
    """A sequence of ops, each fitting the text its predecessors left."""
    ops: list[Op] = []
    for _ in range(draw(st.integers(0, 4))):
        op = draw(op_on(text, client_id))
        text = apply(text, op)
        ops.append(op)
    return ops


def random_op(rng: random.Random, text: str, client_id: int, op_id: str) -> Op:
    """A random edit for the simulation, biased towards small ones like typing."""
    if not text or rng.random() < 0.55:
        content = "".join(rng.choice(UNITS) for _ in range(rng.randint(1, 3)))
        return Insert(rng.randint(0, len(text)), content, client_id, op_id)
    position = rng.randrange(len(text))
    stop = min(len(text), position + rng.randint(1, 4))
    return Delete(position, text[position:stop], client_id, op_id)
