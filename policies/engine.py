"""The policy engine: pure evaluation of every loaded policy, once per tick.

API (all values frozen; nothing here does I/O or reads a clock)::

    engine = PolicyEngine(load_policy_files(paths), dry_run=settings.dry_run)
    state = engine.initial_state()
    decisions, state = engine.evaluate(snapshot, observed, state, now)
    state = state.pause("purchases-lag")   # or state.pause() for all; resume(...) likewise

- ``snapshot`` (collectors.model.Snapshot): what the collectors saw; the signals read from it and
  the stale/error conventions are in ``policies.signals``.
- ``observed`` (policies.model.Observed): current weights per record and replicas per group, as the
  actuators report them.
- ``state`` (EngineState): pause flags, each policy's memory (breach timers, failed-check counts,
  weight it shifted) and the last change of each target. Keep the returned one for the next tick.
- One Decision per policy per tick, in load order. ``Decision.before``/``after``: ``{"replicas": n}``
  for a group, ``{set_identifier: weight}`` for a record.

Rules of the engine, in order:

1. A target (group or record) whose observed value differs from the last tick changed "by hand":
   that counts as a change for cooldowns.
2. Each policy's rules decide (see policies.lag and policies.traffic). Missing, stale or failing
   data makes them HOLD with the reason; they never act on it.
3. Paused (one policy, or all): an ACT becomes a HOLD "paused", saying what it would have done.
   Paused policies keep observing, so their timers are current when resumed.
4. One change per target per tick: when several policies want to change the same target, the
   highest ``priority`` wins (equal priority: the one loaded first); the others HOLD with
   "superseded by NAME".
5. Dry run, for the whole engine (``dry_run=True``) or one policy (``dry_run: true`` in its file):
   the ACT stays an ACT with ``Decision.dry_run`` set; the caller records it as "dry-run" and
   changes nothing. The engine's memory advances as if it were applied (cooldowns, restarted
   timers), so a dry run shows the cadence a live run would have.
6. The state advances as if every surviving ACT was applied. An apply that failed shows up in the
   next tick's Observed, which the policies read afresh; it costs one cooldown at most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from collectors.model import Snapshot
from policies.config import AnyPolicyConfig
from policies.kinds import KINDS, Rules
from policies.model import Decision, Observed, Tick, Verdict


@dataclass(frozen=True, slots=True)
class EngineState:
    """Everything the engine remembers between ticks. Never mutated: methods return a new state."""

    paused_all: bool = False
    paused: frozenset[str] = frozenset()
    memory: dict[str, Any] = field(default_factory=dict)  # policy name -> its rules' memory
    last_change: dict[str, datetime] = field(default_factory=dict)  # target -> last change
    last_seen: dict[str, dict[str, int]] = field(default_factory=dict)  # target -> value last tick

    def pause(self, name: str | None = None) -> EngineState:
        """Pause one policy, or every policy when ``name`` is None."""
        if name is None:
            return replace(self, paused_all=True)
        return replace(self, paused=self.paused | {name})

    def resume(self, name: str | None = None) -> EngineState:
        """Resume one policy, or lift the global pause when ``name`` is None."""
        if name is None:
            return replace(self, paused_all=False)
        return replace(self, paused=self.paused - {name})

    def is_paused(self, name: str) -> bool:
        return self.paused_all or name in self.paused


class PolicyEngine:
    """Evaluates a fixed set of policies; construct once, call ``evaluate`` every tick."""

    def __init__(self, policies: Sequence[AnyPolicyConfig], dry_run: bool = False) -> None:
        names = [p.name for p in policies]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"policy names used more than once: {', '.join(duplicates)}")
        self.policies = tuple(policies)
        self.dry_run = dry_run
        self._rules: dict[str, Rules] = {p.name: KINDS[p.kind].rules(p) for p in self.policies}

    def initial_state(self) -> EngineState:
        return EngineState(paused=frozenset(p.name for p in self.policies if p.paused))

    def evaluate(self, snapshot: Snapshot, observed: Observed, state: EngineState,
                 now: datetime) -> tuple[list[Decision], EngineState]:
        last_change, last_seen = self._notice_changes(observed, state, now)
        tick = Tick(snapshot, observed, now, last_change)
        memory = dict(state.memory)
        decisions: list[Decision] = []
        for policy in self.policies:
            rules = self._rules[policy.name]
            previous = state.memory.get(policy.name, rules.initial())
            decision, memory[policy.name] = rules.evaluate(tick, previous)
            decisions.append(self._paused(decision, state))
        decisions = supersede(decisions)
        if self.dry_run:
            decisions = [replace(d, dry_run=True) for d in decisions]
        for decision in decisions:
            if decision.verdict is Verdict.ACT:
                memory[decision.policy] = self._rules[decision.policy].applied(memory[decision.policy],
                                                                              decision, now)
                last_change[decision.target] = now
                # A live change is expected to show next tick; a dry run leaves the target as it was.
                last_seen[decision.target] = dict(decision.before if decision.dry_run else decision.after)
        return decisions, replace(state, memory=memory, last_change=last_change, last_seen=last_seen)

    def _notice_changes(self, observed: Observed, state: EngineState,
                        now: datetime) -> tuple[dict[str, datetime], dict[str, dict[str, int]]]:
        """A target that differs from what the last tick saw was changed (by someone): note when."""
        last_change, last_seen = dict(state.last_change), dict(state.last_seen)
        for policy in self.policies:
            current = KINDS[policy.kind].current(observed, policy.target)
            if current is None:
                continue
            previous = state.last_seen.get(policy.target)
            if previous is not None and previous != current:
                last_change[policy.target] = now
            last_seen[policy.target] = current
        return last_change, last_seen

    @staticmethod
    def _paused(decision: Decision, state: EngineState) -> Decision:
        if not state.is_paused(decision.policy):
            return decision
        scope = "all policies paused" if state.paused_all else "policy paused"
        return replace(decision, verdict=Verdict.HOLD, action="none", after=decision.before,
                       reason=f"{scope}; would {decision.verdict.value}: {decision.reason}")


def supersede(decisions: list[Decision]) -> list[Decision]:
    """At most one ACT per target: the highest priority wins, ties go to the one listed first."""
    winners: dict[str, Decision] = {}
    for decision in decisions:
        if decision.verdict is not Verdict.ACT:
            continue
        best = winners.get(decision.target)
        if best is None or decision.priority > best.priority:
            winners[decision.target] = decision
    result = []
    for decision in decisions:
        winner = winners.get(decision.target)
        if decision.verdict is Verdict.ACT and winner is not None and winner is not decision:
            decision = replace(
                decision, verdict=Verdict.HOLD, action="none", after=decision.before,
                reason=f"superseded by {winner.policy} (priority {winner.priority} vs {decision.priority}); "
                       f"wanted: {decision.reason}")
        result.append(decision)
    return result
