"""What the five judgments share: several condition groups, each a branch group_i, plus "others". Groups are
tried in order and the first one a customer matches wins, so nobody takes two branches."""

from abc import abstractmethod
from typing import Any

from engine.components.base import Batch, Component, CustomerView, Outcome, Ports
from engine.components.splitting import draft_group_count, group_branches, unique

OTHERS = "others"


class JudgmentComponent(Component):
    def branches(self, config: Any) -> list[str]:
        return group_branches(len(config.groups)) + [OTHERS]

    def draft_branches(self, raw: dict[str, Any]) -> list[str]:
        return group_branches(draft_group_count(raw)) + [OTHERS]

    def ordered_groups(self, config: Any) -> list[tuple[int, Any]]:
        """(index, group) in the order they are tried; Audience Judgment orders by priority."""
        return list(enumerate(config.groups))

    def context(self, batch: Batch, config: Any, ports: Ports, customers: list[CustomerView]) -> Any:
        """Data read once per batch and handed to every `matching` call (e.g. the previous results)."""
        return None

    @abstractmethod
    def matching(self, batch: Batch, config: Any, ports: Ports, group: Any, customers: list[CustomerView],
                 context: Any) -> set[int]:
        """Ids of `customers` that meet every condition of `group` (called once per group, for the batch)."""

    def execute(self, batch: Batch, config: Any, ports: Ports) -> Outcome:
        remaining = unique(batch.customers)
        routes: dict[str, list[int]] = {b: [] for b in self.branches(config)}
        context = self.context(batch, config, ports, remaining)
        for index, group in self.ordered_groups(config):
            if not remaining:
                break
            matched = self.matching(batch, config, ports, group, remaining, context)
            branch = f"group_{index + 1}"
            routes[branch] = [c.id for c in remaining if c.id in matched]
            remaining = [c for c in remaining if c.id not in matched]
        routes[OTHERS] = [c.id for c in remaining]
        results: dict[int, tuple[str, str | None]] = {}
        for branch, ids in routes.items():  # one (branch, None) per branch, shared by its customers
            results.update(dict.fromkeys(ids, (branch, None)))
        return Outcome(routes=routes, results=results)
