"""Pure rules of bounded storage: compact snapshot features, retention cut-offs, score publishing.

No I/O: the scoring worker, the learner and the maintenance job (``churnwatch_runtime.retention``)
apply these. docs/scaling.md has the measured sizes they keep flat.
"""

from churnwatch.storage.features import decode_features, encode_features, feature_set_id
from churnwatch.storage.publish import Published, PublishPolicy
from churnwatch.storage.retention import RetentionPolicy

__all__ = [
    "PublishPolicy",
    "Published",
    "RetentionPolicy",
    "decode_features",
    "encode_features",
    "feature_set_id",
]
