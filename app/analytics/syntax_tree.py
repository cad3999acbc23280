"""ClickHouse's own parse of a query: the text of `EXPLAIN AST` turned back into a tree."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

_DECORATION = re.compile(r"\s*\((?:children \d+|alias [^)]*)\)")


@dataclass
class Node:
    """One AST node: its kind (`SelectQuery`, `Function`, ...), its argument (a name) and children."""

    kind: str
    argument: str
    children: list["Node"] = field(default_factory=list)

    def walk(self, parent: "Node | None" = None) -> Iterator[tuple["Node", "Node | None"]]:
        """Every node with its parent, depth first."""
        yield self, parent
        for child in self.children:
            yield from child.walk(self)


def parse_explain_ast(lines: list[str]) -> Node:
    """Rebuild the tree from `EXPLAIN AST` lines, where one leading space is one level."""
    root: Node | None = None
    stack: list[tuple[int, Node]] = []
    for line in lines:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip(" "))
        kind, _, rest = line.strip().partition(" ")
        node = Node(kind, _DECORATION.sub("", rest).strip())
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            stack[-1][1].children.append(node)
        elif root is None:
            root = node
        else:
            raise ValueError("EXPLAIN AST returned more than one statement")
        stack.append((depth, node))
    if root is None:
        raise ValueError("EXPLAIN AST returned nothing")
    return root
