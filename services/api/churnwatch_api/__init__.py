"""churnwatch API and dashboard (:8000): thin endpoints over the service layers."""

from churnwatch_api.app import create_app
from churnwatch_api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
