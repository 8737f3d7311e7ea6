"""What Anthropic models cost, in USD per million tokens (list prices at the time of writing).

Override with the ``prices`` setting. Dated snapshots ("claude-3-5-haiku-20241022") use the
price of their longest listed prefix; unknown models cost 0.
"""

from __future__ import annotations

ANTHROPIC_PRICES: dict[str, tuple[float, float]] = {
    "claude-3-haiku": (0.25, 1.25),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-opus-4-1": (15.00, 75.00),
}
