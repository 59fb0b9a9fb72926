"""testcontainers-backed infrastructure, used only where a Docker engine exists."""

from __future__ import annotations

from typing import Any


class ContainerBroker:
    """apache/kafka in a container (KRaft), with the same stop/start/kill as the local broker."""

    def __init__(self, image: str = "apache/kafka:4.1.1") -> None:
        from testcontainers.kafka import KafkaContainer

        self._container: Any = KafkaContainer(image).with_kraft()
        self.bootstrap = ""

    def start(self) -> None:
        self._container.start()
        self.bootstrap = self._container.get_bootstrap_server()

    def stop(self) -> None:
        self._container.stop()

    def kill(self) -> None:
        self._container.get_wrapped_container().kill()
