"""Hot-loading what the learner publishes: the serving model, the CLV parameters, the cut points.

Each batch may call `refresh`; at most every ``poll_s`` seconds it runs two cheap ``max()``
queries and loads a row only when a newer one exists. Until the learner has written a
checkpoint the worker scores with the cold-start prior (``ModelState().serving()``), and until
it has fitted CLV parameters with `ClvParams.default`; until a ``population_cuts`` row exists,
with `Population()` (everyone bronze, no segment).
"""

from __future__ import annotations

import logging
import time

from churnwatch.model import (
    BandThresholds,
    IncompatibleCheckpoint,
    ModelConfig,
    ModelState,
    Scorer,
    ServingModel,
)
from churnwatch_runtime.db import Pg, json_object
from churnwatch_scoring.population import Population
from churnwatch_scoring.valuation import ClvParams

log = logging.getLogger(__name__)


class ModelSource:
    """The current `Scorer`, `ClvParams` and `Population` cut points, refreshed from
    ``model_checkpoints``, ``clv_params`` and ``population_cuts``."""

    def __init__(
        self, *, bands: BandThresholds | None = None, horizon_days: int = 30, poll_s: float = 5.0
    ) -> None:
        config = ModelConfig(horizon_days=horizon_days, bands=bands or BandThresholds())
        self.prior: Scorer = ModelState(config).serving()
        self.model: Scorer = self.prior
        self.model_row: int | None = None
        self.clv = ClvParams.default()
        self.clv_row: int | None = None
        self.population = Population()
        self.cuts_row: int | None = None
        self.poll_s = poll_s
        self._last_poll = -float("inf")

    async def refresh(self, pg: Pg, *, force: bool = False) -> bool:
        """Load newer rows if any; True when something changed."""
        now = time.monotonic()
        if not force and now - self._last_poll < self.poll_s:
            return False
        self._last_poll = now
        row = await pg.fetchrow(
            "SELECT (SELECT max(version) FROM model_checkpoints), (SELECT max(id) FROM clv_params),"
            " (SELECT max(version) FROM population_cuts)"
        )
        changed = False
        if row[0] is not None and row[0] != self.model_row:
            data = await pg.fetchval(
                "SELECT serving FROM model_checkpoints WHERE version = $1", row[0]
            )
            try:
                self.model = ServingModel.from_bytes(bytes(data))
            except IncompatibleCheckpoint:
                log.exception("checkpoint not loadable", extra={"version": row[0]})
            else:
                log.info("model loaded", extra={"row": row[0], "model_version": self.model.version})
            self.model_row = int(row[0])
            changed = True
        if row[1] is not None and row[1] != self.clv_row:
            rec = await pg.fetchrow(
                "SELECT bgnbd, gamma_gamma FROM clv_params WHERE id = $1", row[1]
            )
            try:
                self.clv = ClvParams.from_row(int(row[1]), json_object(rec[0]), json_object(rec[1]))
            except (KeyError, TypeError, ValueError):
                log.exception("clv_params row not usable", extra={"id": row[1]})
            self.clv_row = int(row[1])
            changed = True
        if row[2] is not None and row[2] != self.cuts_row:
            self.cuts_row = int(row[2])
            cuts = await pg.fetchrow(
                "SELECT tiers, rfm FROM population_cuts WHERE version = $1", row[2]
            )
            try:
                self.population = Population.from_row(
                    int(row[2]),
                    None if cuts[0] is None else json_object(cuts[0]),
                    None if cuts[1] is None else json_object(cuts[1]),
                )
            except (KeyError, TypeError, ValueError):
                log.exception("population_cuts row not usable", extra={"version": row[2]})
            else:
                log.info("population cuts loaded", extra={"version": row[2]})
            changed = True
        return changed
