"""Shared output helpers: `--json` prints one JSON document; otherwise a readable table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

JSON_HELP = "Print one JSON document on stdout."


class CommandError(Exception):
    """A failure to report in one clear line (exit code 2 unless given)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, sort_keys=False, default=str))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("-" if cell is None else str(cell) for cell in row))
    Console().print(table)
