"""The alerts service's SQL, one module per area: the batch (`plan`), working tasks (`tasks`),
agents (`agents`), playbooks (`playbooks`), the uplift job and its reports (`uplift`), webhook
deliveries (`webhooks`). The other modules of the service hold rules, service layers, job loops
or the CLI, not SQL."""

from churnwatch_alerts.store.plan import load_roster, load_states, save_cursors, write_plan

__all__ = ["load_roster", "load_states", "save_cursors", "write_plan"]
