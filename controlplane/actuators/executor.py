"""Carry out a change through the actuators and say what happened (an ActionResult); never decides.

Shared by the loop (policy decisions) and by the operator actions (``controlplane.operations``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from controlplane.actuators.base import ActuatorError, ConsumerScaler, WeightActuator
from controlplane.model import ActionResult, Result
from policies.model import Observed

SCALE = "scale"
SET_WEIGHTS = "set_weights"


class Executor:
    def __init__(self, weights: WeightActuator, scaler: ConsumerScaler,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.weights = weights
        self.scaler = scaler
        self._clock = clock

    def start(self) -> None:
        self.weights.start()
        self.scaler.start()

    def observe(self, records: Iterable[str], groups: Iterable[str]) -> tuple[Observed, dict[str, str]]:
        """Current weights and replicas; what could not be read is left out and named in the errors."""
        weights: dict[str, dict[str, int]] = {}
        replicas: dict[str, int] = {}
        errors: dict[str, str] = {}
        for record in records:
            try:
                weights[record] = self.weights.read(record)
            except ActuatorError as exc:
                errors[record] = str(exc)
        for group in groups:
            try:
                replicas[group] = self.scaler.replicas(group)
            except ActuatorError as exc:
                errors[group] = str(exc)
        return Observed(weights=weights, replicas=replicas), errors

    def change(self, actor: str, action: str, target: str, after: dict[str, int], reason: str,
               dry_run: bool = False) -> ActionResult:
        """Apply ``after`` to ``target``; a failure is a FAILED result (nothing half-applied), not a raise."""
        if action not in (SCALE, SET_WEIGHTS):
            raise ValueError(f"unknown action {action!r}; expected {SCALE} or {SET_WEIGHTS}")
        known: dict[str, int] = {}
        try:
            known = self._read(action, target)
            if dry_run:
                return self._result(actor, action, target, known, after, Result.DRY_RUN, reason)
            if action == SCALE:
                self.scaler.set_replicas(target, after["replicas"])
                # The count now in force is the one set: a read-back could still see processes stopping.
                now = {"replicas": after["replicas"]}
            else:
                now = self.weights.set_weights(target, after)
        except (ActuatorError, KeyError) as exc:
            why = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            failed = f"{reason}; failed: {why}"
            return self._result(actor, action, target, known, known, Result.FAILED, failed)
        return self._result(actor, action, target, known, now, Result.APPLIED, reason)

    def _read(self, action: str, target: str) -> dict[str, int]:
        if action == SCALE:
            return {"replicas": self.scaler.replicas(target)}
        return self.weights.read(target)

    def _result(self, actor: str, action: str, target: str, before: dict[str, int], after: dict[str, int],
                result: Result, reason: str) -> ActionResult:
        return ActionResult(at=self._clock(), actor=actor, action=action, target=target, before=dict(before),
                            after=dict(after), result=result, reason=reason)
