"""Content tasks: draft posts for every brand from the latest market data."""

from __future__ import annotations

from sqlalchemy import select

from finagency.content.generators import generator_for
from finagency.content.service import generate_for_brand
from finagency.core.events import Event
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.models import Brand
from finagency.queue import JobContext, Task


async def generate_for_brands(ctx: JobContext) -> None:
    services: Services = ctx.services
    generator = generator_for(services)
    brands = (await ctx.session.execute(select(Brand).order_by(Brand.id))).scalars().all()
    for brand in brands:
        drafted = await generate_for_brand(
            ctx.session, brand, generator, now=utcnow(), before_generate=ctx.checkpoint
        )
        if drafted:
            services.events.publish(
                Event("content.drafted", {"items": len(drafted)}, brand_id=brand.id)
            )


TASKS = [
    Task(
        "content.generate_for_brands",
        generate_for_brands,
        queue="content",
        max_attempts=3,
        timeout_seconds=300,
    ),
]
