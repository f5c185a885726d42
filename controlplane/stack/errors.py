"""Errors of the local stack, phrased for the person who typed the command."""


class StackError(Exception):
    """The stack cannot start or stop as asked; the message says why and what to do."""
