"""Which activity names the model reads, picked from the business's own volumes and versioned.

Per-activity features (`churnwatch.profile.ActivityVocabulary`) need the business's activity
names, and a business should not have to list them by hand (``CW_SCORING_ACTIVITIES``). The
profile already keeps every customer's activity counts under a stable key (the CRC-32 of the
name), so *which* names become features is a decision about the feature set only, and it belongs
to the model: weights are learned per feature name, and a score is reproducible only from the
features its model was given. Hence:

- `VocabularyPolicy.choose` turns the volume of each name (uses counted over the business's
  recent events) into a vocabulary: the top ``top`` names by volume, ties by name; deterministic
  (same volumes, same vocabulary, whatever the order they were counted in);
- **hysteresis**: once chosen, a name is replaced only when an outsider's volume is at least
  ``margin`` times the weakest member's (and takes that member's slot, so the order of the rest
  does not move); a free slot is filled by a name with at least ``min_share`` of the volume
  (0.1%: low on purpose, the rare activities are often the telling ones — the social app's
  "report" is 0.2% of its uses). A vocabulary that changes with every day's noise would keep
  restarting the weights of the activities at the edge;
- nothing is chosen before ``min_uses`` uses have been counted (the first days of a business say
  little about its mix);
- `vocabulary_version` names a vocabulary by a hash of its names and bucket count; the model
  carries its vocabulary (`ModelState.set_activities`) and puts that tag into its version, so
  every score names the vocabulary its features were built with (issue 16).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

from churnwatch.profile import ActivityVocabulary

__all__ = ["VocabularyPolicy", "vocabulary_version"]


def vocabulary_version(vocab: ActivityVocabulary) -> str:
    """A short, stable tag of a vocabulary: ``a`` + 8 hex digits of the SHA-256 of its names (in
    order) and bucket count; ``a0`` for a vocabulary without names.

    >>> vocabulary_version(ActivityVocabulary(("like", "post")))
    'afc84aad7'
    >>> vocabulary_version(ActivityVocabulary(())), vocabulary_version(ActivityVocabulary(("x",)))
    ('a0', 'a4b6f52f7')
    """
    if not vocab.names:
        return "a0"
    text = "\x1f".join(vocab.names) + f"\x1e{vocab.buckets}"
    return "a" + hashlib.sha256(text.encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class VocabularyPolicy:
    """How the activity vocabulary is picked from name volumes (module docstring).

    Examples
    --------
    >>> policy = VocabularyPolicy(top=2, min_uses=100)
    >>> first = policy.choose(ActivityVocabulary(()), {"like": 90, "post": 30, "report": 5})
    >>> first.names
    ('like', 'post')
    >>> policy.choose(first, {"like": 90, "post": 30, "share": 40}).names  # 40 < 1.5 x 30
    ('like', 'post')
    >>> policy.choose(first, {"like": 90, "post": 30, "share": 45}).names  # takes post's slot
    ('like', 'share')
    """

    top: int = 8
    buckets: int = 2
    min_uses: float = 1_000.0
    margin: float = 1.5
    min_share: float = 0.001

    def __post_init__(self) -> None:
        if self.top < 0 or self.buckets < 0 or self.min_uses < 0:
            raise ValueError("top, buckets and min_uses must be >= 0")
        if self.margin < 1.0 or not 0.0 <= self.min_share < 1.0:
            raise ValueError("margin must be >= 1 and min_share in [0, 1)")

    def choose(
        self, current: ActivityVocabulary, volumes: Mapping[str, float]
    ) -> ActivityVocabulary:
        """The vocabulary to use given the ``current`` one and the names' volumes; ``current``
        itself (the same object) when nothing changes."""
        clean = {k: float(v) for k, v in volumes.items() if math.isfinite(v) and v > 0}
        total = sum(clean.values())
        if total < self.min_uses or total <= 0:
            return current
        floor = self.min_share * total
        if not current.names:
            first = ActivityVocabulary.top_by_volume(
                {k: v for k, v in clean.items() if v >= floor}, self.top, self.buckets
            )
            return first if first.names else current
        names = list(current.names)[: self.top]
        outsiders = [k for k in sorted(clean, key=lambda k: (-clean[k], k)) if k not in names]
        for name in outsiders:
            volume = clean[name]
            if volume < floor:
                break
            if _clashes(name, names):
                continue
            if len(names) < self.top:
                names.append(name)
                continue
            weakest = min(range(len(names)), key=lambda i: (clean.get(names[i], 0.0), names[i]))
            if volume < self.margin * clean.get(names[weakest], 0.0):
                break  # outsiders are ranked: no later one beats the weakest member either
            names[weakest] = name
        if tuple(names) == current.names and current.buckets == self.buckets:
            return current
        return ActivityVocabulary(tuple(names), self.buckets)


def _clashes(name: str, names: list[str]) -> bool:
    """Two names with one feature slug ("Post" and "post") cannot both be in a vocabulary."""
    try:
        ActivityVocabulary((*names, name), 0)
    except ValueError:
        return True
    return False
