"""The alerts service's SQL, one module per area: the batch (`plan`), working tasks (`tasks`),
the uplift job (`uplift`). The other modules of the service hold rules or job loops, not SQL."""

from churnwatch_alerts.store.plan import load_roster, load_states, save_cursors, write_plan

__all__ = ["load_roster", "load_states", "save_cursors", "write_plan"]
