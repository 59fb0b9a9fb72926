"""Who works a new task: the batch's view of the agents, their loads and the round-robin cursors.

`Roster` is loaded from the database at the start of a batch (`store.load_roster`, under a lock
on the teams' cursor rows) and then changed only by `plan_batch`, task by task in consumption
order: an assignment adds one to the agent's load and (round robin) moves the team's cursor, an
auto-close of an assigned task takes one off. The decisions are the pure
`churnwatch.alerts.assign_round_robin` / `assign_by_tier`, so a batch replayed after a crash —
from the same committed rows, since the crashed transaction left none — assigns the same agents,
and cutting a stream into batches differently changes nothing either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from churnwatch.alerts import Agent, Playbook, assign_by_tier, assign_round_robin

__all__ = ["ASSIGN_POLICIES", "Roster", "assign_policy", "task_teams"]

ASSIGN_POLICIES = frozenset({"round_robin", "by_tier", "none"})
"""``round_robin``: the next agent of the team after the last one given a task (by agent id);
``by_tier``: the least-loaded senior agent for platinum/gold, a standard one otherwise (either
falls back to any agent of the team with room); ``none``: tasks stay open."""


def assign_policy(playbook: Playbook, default: str) -> str:
    """The playbook's ``action.params.assign`` if it names a policy, else ``default``.

    >>> from churnwatch.alerts import default_playbooks
    >>> assign_policy(default_playbooks()[0], "by_tier")
    'by_tier'
    """
    value = playbook.action.params.get("assign")
    return value if isinstance(value, str) and value in ASSIGN_POLICIES else default


def task_teams(playbooks: Iterable[Playbook]) -> list[str]:
    """The teams the playbooks' tasks go to (sorted: the order their cursor rows are locked in,
    so two instances never deadlock)."""
    return sorted({p.action.team for p in playbooks if p.action.mode == "task" and p.action.team})


@dataclass(slots=True)
class Roster:
    """Active agents by team (``load`` ignored: the counter is the truth), each agent's open
    assigned tasks, and each team's round-robin cursor (the last agent it gave a task to)."""

    agents: Mapping[str, list[Agent]]
    load: Counter[str] = field(default_factory=Counter)
    cursors: dict[str, str | None] = field(default_factory=dict)
    moved: set[str] = field(default_factory=set)
    """Teams whose cursor changed (to be written back)."""

    @classmethod
    def of(
        cls, agents: Iterable[Agent], load: Mapping[str, int] | None = None,
        cursors: Mapping[str, str | None] | None = None,
    ) -> Roster:  # fmt: skip
        by_team: dict[str, list[Agent]] = {}
        for agent in sorted(agents, key=lambda a: a.agent_id):
            by_team.setdefault(agent.team, []).append(agent)
        return cls(by_team, Counter(load or {}), dict(cursors or {}))

    def pick(self, team: str, tier: str, policy: str) -> str | None:
        """The agent the next task of ``team`` (customer tier ``tier``) goes to, counted in;
        None when the policy is ``none`` or nobody in the team is active with room."""
        members = self.agents.get(team)
        if policy == "none" or not members:
            return None
        pool = [replace(a, load=self.load[a.agent_id]) for a in members]
        if policy == "by_tier":
            agent = assign_by_tier(pool, team, tier)
        else:
            agent = assign_round_robin(pool, team, self.cursors.get(team))
            if agent is not None:
                self.cursors[team] = agent.agent_id
                self.moved.add(team)
        if agent is None:
            return None
        self.load[agent.agent_id] += 1
        return agent.agent_id

    def release(self, agent_id: str) -> None:
        """One of the agent's tasks closed."""
        if self.load[agent_id] > 0:
            self.load[agent_id] -= 1
