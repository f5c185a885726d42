"""What the console reads from and asks of the control plane, behind one small typed interface.

``ControlPlaneClient`` is the port; ``HttpControlPlane`` reads the running control plane's API
(``GET /api/state``, ``GET /api/lag``) and carries out overrides through the audited operations;
``InMemoryControlPlane`` is the in-memory implementation for tests and the benchmark.
Every override takes the logged-in user's name: the audit log records ``user:NAME``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from controlplane.actuators.base import ActuatorError
from controlplane.model import ActionResult, Result
from controlplane.operations import Operations

log = logging.getLogger(__name__)


class ControlPlaneError(Exception):
    """The control plane could not be read or refused an override; the message is for the SRE."""


@dataclass(frozen=True, slots=True)
class PolicyView:
    """One policy as the console explains it: value against limit, breach time, what comes next."""

    name: str
    kind: str
    target: str
    paused: bool
    dry_run: bool
    verdict: str  # act | hold | noop | "" (not evaluated yet)
    reason: str
    metric: str
    value: float | None
    threshold: float | None
    breached_for_s: float | None
    condition: str | None  # "below": the scale-in window is running, not a breach
    next_action: str  # what the engine would do next, or why it holds

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> PolicyView:
        """One entry of ``GET /api/state`` ``policies``; ``last`` is None before the first tick."""
        last = doc.get("last") or {}
        kind = str(doc.get("kind", ""))
        return cls(
            name=str(doc["name"]),
            kind=kind,
            target=str(doc.get("target", "")),
            paused=bool(doc.get("paused")),
            dry_run=last.get("result") == "dry-run",
            verdict=str(last.get("verdict") or ""),
            reason=str(last.get("reason") or "not evaluated yet"),
            # A traffic shift compares its count of failed checks with `threshold`.
            metric=METRIC_BY_KIND.get(kind, "observed"),
            value=_number(last.get("observed")),
            threshold=_number(last.get("limit")),
            breached_for_s=_number(last.get("breach_for_s")),
            condition=last.get("condition"),
            next_action=str(last.get("next_action") or ""),
        )


METRIC_BY_KIND = {"ingest_traffic_shift": "failed checks"}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class StateView:
    at: str
    paused: bool
    dry_run: bool
    policies: tuple[PolicyView, ...]
    weights: dict[str, int] = field(default_factory=dict)  # set identifier -> weight
    replicas: dict[str, int] = field(default_factory=dict)  # consumer group -> replicas

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], weights: Mapping[str, int] | None = None,
                      replicas: Mapping[str, int] | None = None) -> StateView:
        """``GET /api/state``, with the weights and replicas the actuators report now."""
        return cls(
            at=str(doc.get("last_tick") or ""),
            paused=bool(doc.get("paused_all")),
            dry_run=bool(doc.get("dry_run")),
            policies=tuple(PolicyView.from_document(p) for p in doc.get("policies", [])),
            weights=dict(weights or {}),
            replicas=dict(replicas or {}),
        )


class ControlPlaneClient(Protocol):
    def state(self) -> StateView: ...

    def lag(self) -> dict[str, Any]:
        """The `ecomctl lag --json` document."""
        ...

    def audit(self, limit: int) -> list[dict[str, Any]]:
        """Audit entries in the `ecomctl audit --json` shape, newest first."""
        ...

    def set_weights(self, user: str, weights: dict[str, int]) -> ActionResult: ...

    def scale(self, user: str, group: str, replicas: int) -> ActionResult: ...

    def pause(self, user: str, policy: str) -> ActionResult: ...

    def resume(self, user: str, policy: str) -> ActionResult: ...

    def set_dry_run(self, user: str, enabled: bool) -> ActionResult: ...


class HttpControlPlane:
    """Reads the control plane over HTTP; overrides and the audit log go through the audited operations
    (controlplane.operations, the same ones the CLI uses)."""

    def __init__(self, base_url: str, operations: Operations, timeout_s: float = 2.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._base_url = base_url.rstrip("/")
        self._operations = operations
        self._timeout_s = timeout_s
        self._transport = transport
        self._http: httpx.Client | None = None

    def _client(self) -> httpx.Client:
        # Opened on first use, not at construction (DESIGN 2); one pooled client per console.
        if self._http is None:
            self._http = httpx.Client(base_url=self._base_url, timeout=self._timeout_s,
                                      transport=self._transport)
        return self._http

    def _get(self, path: str) -> dict[str, Any]:
        try:
            response = self._client().get(path)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ControlPlaneError(f"control plane at {self._base_url}{path}: {exc}") from None
        if not isinstance(document, dict):
            raise ControlPlaneError(f"control plane at {self._base_url}{path}: not a JSON object")
        return document

    def state(self) -> StateView:
        document = self._get("/api/state")
        weights: dict[str, int] = {}
        replicas: dict[str, int] = {}
        try:
            weights = self._operations.weights()
        except ActuatorError as exc:  # shown as missing; the figures still have the history
            log.warning("weights unreadable: %s", exc)
        try:
            replicas = {g: v["replicas"] for g, v in self._operations.consumers().items()}
        except ActuatorError as exc:
            log.warning("replicas unreadable: %s", exc)
        view = StateView.from_document(document, weights, replicas)
        # The switches as stored now, not as the loop saw them at its last tick: a pause shows at once.
        switches = self._operations.state.read()
        defaults = {p.name: p.paused for p in self._operations.policies}
        policies = tuple(replace(p, paused=switches.is_paused(p.name, defaults.get(p.name, False)))
                         for p in view.policies)
        return replace(view, policies=policies, paused=switches.paused_all, dry_run=switches.dry_run)

    def lag(self) -> dict[str, Any]:
        return self._get("/api/lag")

    def audit(self, limit: int) -> list[dict[str, Any]]:
        return [entry.to_document() for entry in self._operations.audit.entries(limit)]

    def set_weights(self, user: str, weights: dict[str, int]) -> ActionResult:
        return self._operations.set_weights(user, weights)

    def scale(self, user: str, group: str, replicas: int) -> ActionResult:
        return self._operations.scale(user, group, replicas)

    def pause(self, user: str, policy: str) -> ActionResult:
        return self._operations.pause(user, policy)

    def resume(self, user: str, policy: str) -> ActionResult:
        return self._operations.resume(user, policy)

    def set_dry_run(self, user: str, enabled: bool) -> ActionResult:
        return self._operations.set_dry_run(user, enabled)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


class InMemoryControlPlane:
    """A control plane held in memory: overrides change its state and append to its audit list."""

    def __init__(self, state: Mapping[str, Any], lag: Mapping[str, Any], weights: Mapping[str, int],
                 replicas: Mapping[str, int],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """``state`` in the ``GET /api/state`` shape, ``lag`` in the ``ecomctl lag --json`` shape."""
        self._state = copy.deepcopy(dict(state))
        self._weights = dict(weights)
        self._replicas = dict(replicas)
        self._lag = copy.deepcopy(dict(lag))
        self._clock = clock
        self.entries: list[dict[str, Any]] = []

    def state(self) -> StateView:
        return StateView.from_document(self._state, self._weights, self._replicas)

    def lag(self) -> dict[str, Any]:
        return copy.deepcopy(self._lag)

    def audit(self, limit: int) -> list[dict[str, Any]]:
        return list(reversed(self.entries))[:limit]

    def _record(self, user: str, action: str, target: str, before: dict[str, int],
                after: dict[str, int], reason: str) -> ActionResult:
        result = ActionResult(at=self._clock(), actor=f"user:{user}", action=action, target=target,
                              before=before, after=after, result=Result.APPLIED, reason=reason)
        self.entries.append({"at": result.at.isoformat(), "actor": result.actor, "action": action,
                             "target": target, "before": before, "after": after,
                             "result": result.result.value, "reason": reason})
        return result

    def set_weights(self, user: str, weights: dict[str, int]) -> ActionResult:
        before = dict(self._weights)
        self._weights.update(weights)
        return self._record(user, "set_weights", "ingest", before, dict(weights), "set from the console")

    def scale(self, user: str, group: str, replicas: int) -> ActionResult:
        before = {"replicas": self._replicas.get(group, 0)}
        self._replicas[group] = replicas
        return self._record(user, "scale", group, before, {"replicas": replicas}, "set from the console")

    def _policy(self, name: str) -> dict[str, Any]:
        for policy in self._state.get("policies", []):
            if policy["name"] == name:
                return policy
        raise ControlPlaneError(f"no policy named {name!r}")

    def pause(self, user: str, policy: str) -> ActionResult:
        doc = self._policy(policy)
        before = {"paused": int(bool(doc.get("paused")))}
        doc["paused"] = True
        return self._record(user, "pause", policy, before, {"paused": 1}, "paused from the console")

    def resume(self, user: str, policy: str) -> ActionResult:
        doc = self._policy(policy)
        before = {"paused": int(bool(doc.get("paused")))}
        doc["paused"] = False
        return self._record(user, "resume", policy, before, {"paused": 0},
                            "resumed from the console")

    def set_dry_run(self, user: str, enabled: bool) -> ActionResult:
        before = {"dry_run": int(bool(self._state.get("dry_run")))}
        self._state["dry_run"] = enabled
        return self._record(user, "dry_run", "controlplane", before, {"dry_run": int(enabled)},
                            "dry run set from the console")
