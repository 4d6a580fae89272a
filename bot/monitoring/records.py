"""What monitoring keeps in the store: each check's state, each component's health, history."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.monitoring.health import ComponentHealth
from bot.monitoring.history import History
from bot.monitoring.state import CheckStates
from bot.store.keyvalue import KeyValue


@dataclass(frozen=True)
class Records:
    states: CheckStates
    health: ComponentHealth
    history: History

    @classmethod
    def in_store(cls, config: Config, kv: KeyValue) -> Records:
        return cls(CheckStates(kv), ComponentHealth(config, kv), History(kv))
