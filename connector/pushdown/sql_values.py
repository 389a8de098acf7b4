"""Large value sets as SQL that stays cheap to build and that databases accept.

Two shapes matter once a request carries thousands of values:

- ``BoundValues``: one sqlglot node standing for ``count`` consecutive bind parameters (``?, ?, ...``). sqlglot
  spends tens of microseconds per node on every build, copy and generation, so an IN list of 30,000
  placeholders cost seconds; as one node it costs as much as a single placeholder, and its copies share the
  numbers instead of copying them.
- ``balanced``: a long AND/OR as a tree of parenthesised groups. sqlglot and the databases build
  ``a OR b OR c ...`` left-deep, and SQLite refuses expressions deeper than 1,000 levels ("Expression tree is too
  large"); groups of ``GROUP`` keep the depth at ``GROUP`` per level, a few levels for any size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlglot import exp

#: Terms per parenthesised group of a long AND/OR (SQLite's default depth limit is 1,000).
GROUP = 32


class BoundValues(exp.Expression):
    """Bind parameters ``first`` .. ``first + count - 1`` of a compiler, rendered as ``?, ?, ...`` in order."""

    arg_types = {"first": True, "count": True}


def balanced(parts: Sequence[exp.Expression], *, disjunction: bool) -> exp.Expression:
    """``parts`` joined by OR (``disjunction``) or AND, never deeper than ``GROUP`` per level of parentheses.

    The parts are used as they are (not copied): they must be fresh nodes that belong to nothing else.
    """
    if len(parts) <= GROUP:
        if len(parts) == 1:
            return parts[0]
        joined = exp.or_(*parts, copy=False) if disjunction else exp.and_(*parts, copy=False)
        return cast(exp.Expression, joined)  # an Or / And node
    groups = [exp.paren(balanced(parts[i : i + GROUP], disjunction=disjunction), copy=False)
              for i in range(0, len(parts), GROUP)]
    return balanced(groups, disjunction=disjunction)
