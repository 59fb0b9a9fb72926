"""The package's public API: ``__all__`` lists exactly the public names it defines."""

from __future__ import annotations

import churnwatch_sim


def test_all_is_complete_and_sorted() -> None:
    module = type(churnwatch_sim)
    public = {
        name
        for name, value in vars(churnwatch_sim).items()
        if not name.startswith("_") and not isinstance(value, module)
    }
    assert set(churnwatch_sim.__all__) == public
    ordered = sorted(churnwatch_sim.__all__, key=lambda n: (not n.isupper(), n))
    assert churnwatch_sim.__all__ == ordered
