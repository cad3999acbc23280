"""The SQL console's gate: one read-only SELECT over the analytics tables, judged on ClickHouse's own parse.

1. `formatQuery({text:String})` parses the text as a bound parameter: exactly one statement, in
   ClickHouse's canonical spelling (comments gone). Only that canonical text is used from here on.
2. `EXPLAIN AST` (a parse, nothing runs): the root must be a SELECT; node kinds come from an allow
   list; no SETTINGS, FORMAT, INTO OUTFILE, table function, system or foreign database, nor a
   function that reads outside the tables (file, dictGet, joinGet, ...).
3. `EXPLAIN QUERY TREE` under the read-only bounds: ClickHouse resolves every table (CTE names, IN
   operands) and each one must be an analytics table of this database.
Execution then runs with `readonly` and the bounds as query settings: the second line of defence.
"""
from __future__ import annotations

import re
from typing import Any

from app.analytics.syntax_tree import Node, parse_explain_ast
from app.errors import BadRequest
from app.storage.clickhouse import ClickHouseStore

ANALYTICS_TABLES = frozenset({
    "error_events", "error_group_hourly", "error_user_group_hourly", "rate_limit_hits",
    "operation_metrics", "request_metrics", "error_group_daily",
    "error_totals_hourly", "error_group_users"})
_SELECT_NODES = frozenset({
    "SelectWithUnionQuery", "SelectIntersectExceptQuery", "SelectQuery", "ExpressionList", "Identifier",
    "TableIdentifier", "Function", "Literal", "Asterisk", "QualifiedAsterisk", "ColumnsRegexpMatcher",
    "ColumnsListMatcher", "QualifiedColumnsRegexpMatcher", "QualifiedColumnsListMatcher",
    "ColumnsTransformerList", "ColumnsApplyTransformer", "ColumnsExceptTransformer",
    "ColumnsReplaceTransformer", "ColumnsReplaceTransformer::Replacement", "Subquery",
    "TablesInSelectQuery", "TablesInSelectQueryElement", "TableExpression", "TableJoin", "ArrayJoin",
    "OrderByElement", "InterpolateElement", "WithElement", "WindowDefinition", "WindowListElement",
    "SampleRatio"})
_IN_FUNCTIONS = frozenset({"in", "notIn", "globalIn", "globalNotIn", "nullIn", "notNullIn", "globalNullIn",
                           "globalNotNullIn"})
_DENIED_FUNCTIONS = frozenset({"file", "joinget", "joingetornull", "hascolumnintable", "catboostevaluate",
                               "modelevaluate", "generateserialid", "getsetting", "getserversetting"})
_DENIED_PREFIXES = ("dict", "__")
_SYSTEM_DATABASES = frozenset({"system", "information_schema"})
_TOP_CLAUSE = re.compile(r"^(FORMAT|INTO OUTFILE)\b", re.M)
_RESOLVED_TABLE = re.compile(r"^\s*TABLE id: \d+,.*\btable_name: (\S+)\s*$")
_RESOLVED_TABLE_FUNCTION = re.compile(r"^\s*TABLE_FUNCTION id: ")
_NO_FROM = "system.one"  # what a SELECT without FROM reads; `FROM system.one` in the text is refused earlier


def refused(code: str, message: str) -> BadRequest:
    """The console's 400 for a statement it will not run."""
    return BadRequest(message, code=code)


class SqlGuard:
    """Decides whether the console may run a text, and returns the exact text it will run."""

    def __init__(self, store: ClickHouseStore, tables: frozenset[str] = ANALYTICS_TABLES) -> None:
        self._store = store
        self._tables = tables
        self._table_functions: frozenset[str] | None = None

    def canonical(self, text: str) -> str:
        """ClickHouse's canonical spelling of one statement; a store error when it does not parse."""
        return str(self._store.query("SELECT formatQuery({text:String})", {"text": text})[0][0])

    def check(self, canonical: str, settings: dict[str, Any]) -> None:
        """Refuse (400) anything but one SELECT reading only the analytics tables of this database."""
        clause = _TOP_CLAUSE.search(canonical)
        if clause:
            raise _clause_refusal(clause.group(1))
        tree = parse_explain_ast([row[0] for row in self._store.query("EXPLAIN AST " + canonical)])
        self._check_tree(tree)
        rows = self._store.query("EXPLAIN QUERY TREE " + canonical, settings={**settings, "enable_analyzer": 1})
        for (line,) in rows:
            if _RESOLVED_TABLE_FUNCTION.match(line):
                raise refused("table_function_not_allowed", "Table functions are not allowed in the console.")
            match = _RESOLVED_TABLE.match(line)
            if match and match.group(1) != _NO_FROM and not self._is_analytics_table(match.group(1)):
                raise _table_refusal(match.group(1))

    def _check_tree(self, tree: Node) -> None:
        if tree.kind != "SelectWithUnionQuery":
            raise refused("statement_not_allowed",
                          f"Only one SELECT (or WITH ... SELECT) may run here, not a {tree.kind} statement.")
        extras = tree.children[1:]
        if extras and not (len(extras) == 1 and extras[0].kind == "Identifier" and extras[0].argument == "Native"):
            # clickhouse-connect appends FORMAT Native; anything else came from the text
            kinds = {extra.kind for extra in extras}
            raise (refused("settings_not_allowed", "SETTINGS clauses are not allowed; the bounds are fixed.")
                   if "Set" in kinds else _clause_refusal("INTO OUTFILE" if "Literal" in kinds else "FORMAT"))
        unresolved: set[str] = set()
        ctes = 0
        for node, _parent in tree.children[0].walk(tree):
            self._check_node(node, unresolved)
            ctes += node.kind == "WithElement"
        if unresolved and not ctes:  # no WITH: a name that is not ours is some other table
            raise _table_refusal(sorted(unresolved)[0])

    def _check_node(self, node: Node, unresolved: set[str]) -> None:
        if node.kind not in _SELECT_NODES:
            if node.kind == "Set":
                raise refused("settings_not_allowed", "SETTINGS clauses are not allowed; the bounds are fixed.")
            raise refused("statement_not_allowed", f"{node.kind} is not allowed in a console query.")
        if node.kind == "TableExpression":
            for child in node.children:
                if child.kind == "Function":
                    raise refused("table_function_not_allowed",
                                  f"Table functions such as {child.argument}() are not allowed in the console.")
        elif node.kind == "TableIdentifier":
            self._table_reference(node.argument, unresolved)
        elif node.kind == "Identifier" and node.argument.split(".")[0].lower() in _SYSTEM_DATABASES:
            raise _table_refusal(node.argument)
        elif node.kind == "Function":
            self._check_function(node, unresolved)

    def _check_function(self, node: Node, unresolved: set[str]) -> None:
        name = node.argument.lower()
        if name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES):
            raise refused("function_not_allowed", f"{node.argument}() reads outside the analytics tables.")
        operands = node.children[0].children if node.children else []
        if node.argument in _IN_FUNCTIONS and len(operands) == 2:
            right = operands[1]
            if right.kind == "Identifier":  # `x IN some_table`
                self._table_reference(right.argument, unresolved)
            elif right.kind == "Function" and right.argument in self.table_functions():
                raise refused("table_function_not_allowed",
                              f"Table functions such as {right.argument}() are not allowed in the console.")

    def _table_reference(self, name: str, unresolved: set[str]) -> None:
        if "." in name:
            if not self._is_analytics_table(name):
                raise _table_refusal(name)
        elif name not in self._tables:
            unresolved.add(name)  # a CTE's name, or another table: EXPLAIN QUERY TREE will tell

    def _is_analytics_table(self, qualified: str) -> bool:
        database, _, table = qualified.partition(".")
        return database == self._store.database and table in self._tables

    def table_functions(self) -> frozenset[str]:
        """The store's table function names (numbers, url, file, remote, ...), read once."""
        if self._table_functions is None:
            rows = self._store.query("SELECT name FROM system.table_functions")
            self._table_functions = frozenset(str(row[0]) for row in rows)
        return self._table_functions


def _clause_refusal(clause: str) -> BadRequest:
    if clause == "FORMAT":
        return refused("format_not_allowed", "FORMAT clauses are not allowed; use ?format= on the query API.")
    return refused("outfile_not_allowed", "INTO OUTFILE is not allowed.")


def _table_refusal(name: str) -> BadRequest:
    return refused("table_not_allowed",
                   f"{name} is not readable here: only {', '.join(sorted(ANALYTICS_TABLES))} of this database.")
