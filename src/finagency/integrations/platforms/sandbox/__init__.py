"""The sandbox platform: publishes into the product's own database, with a real platform's rules."""

from finagency.integrations.platforms.sandbox.client import (
    SandboxClient,
    SandboxStore,
    simulated_engagement,
)

__all__ = ["SandboxClient", "SandboxStore", "simulated_engagement"]
