"""Provider registry. The openai provider is imported only when a run needs it."""

from __future__ import annotations

from sigilctl.errors import InputError
from sigilctl.providers.base import Provider

PROVIDER_NAMES = ("offline", "openai")


def interface_version(name: str) -> str:
    """What the model_config snapshot records about how the provider is driven."""
    if name == "offline":
        from sigilctl.providers.offline import GENERATOR_VERSION

        return GENERATOR_VERSION
    return "openai-chat-completions/json-schema/v1"


def get_provider(name: str) -> Provider:
    if name == "offline":
        from sigilctl.providers.offline import OfflineProvider

        return OfflineProvider()
    if name == "openai":
        from sigilctl.providers.openai_chat import OpenAIProvider

        return OpenAIProvider()
    raise InputError(f"unknown provider '{name}' (known: {', '.join(PROVIDER_NAMES)})")
