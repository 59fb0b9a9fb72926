"""churnwatch package."""
