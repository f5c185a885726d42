"""The `loadgen` command, shared by `ecomctl loadgen` and `python -m ingest.loadgen`.

Both differ only in where defaults for Route 53 and the API key come from, so the command is built
by a factory that takes them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import orjson
import typer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ingest.loadgen.config import PROFILES, Funnel, LoadgenConfig, Route53Source, default_funnel
from ingest.loadgen.runner import Summary, run_loadgen

PROFILE_HELP = "Arrival profile: " + ", ".join(PROFILES) + "."


@dataclass(frozen=True)
class Defaults:
    route53: Route53Source
    api_key: str


def run_with_progress(config: LoadgenConfig, show: bool) -> Summary:
    """Run, with a progress bar on the terminal when ``show``."""
    if not show:
        return run_loadgen(config)
    columns = (TextColumn(f"loadgen {config.profile} @ {config.rate:g} ev/s"), BarColumn(),
               MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("events", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run_loadgen(config, progress=update)


def print_summary(summary: Summary) -> None:
    table = Table(title=f"loadgen ({summary.profile})", title_justify="left")
    table.add_column("figure")
    table.add_column("value")
    doc = summary.as_dict()
    for key in ("sent", "accepted", "rejected", "errors", "rate_target", "rate_achieved", "requests",
                "batch"):
        table.add_row(key, str(doc[key]))
    for key in ("latency_ms", "by_target", "by_type", "funnel", "errors_by_reason"):
        table.add_row(key, ", ".join(f"{k}={v}" for k, v in doc[key].items()) or "-")
    Console().print(table)


def make_command(defaults: Callable[[], Defaults]) -> Callable[..., None]:
    """The typer command function; ``defaults`` is called only when the command runs."""

    def loadgen(
        profile: Annotated[str, typer.Option(help=PROFILE_HELP)] = "steady",
        rate: Annotated[float, typer.Option(help="Mean events per second.")] = 50.0,
        duration: Annotated[float | None, typer.Option(help="Seconds to run (default 60 without --count).")
                            ] = None,
        count: Annotated[int | None, typer.Option(help="Events to send at most.")] = None,
        target: Annotated[str | None, typer.Option(help="Gateway URL (or host:port).")] = None,
        route53: Annotated[bool, typer.Option("--route53", help="Follow the weighted ingest record.")
                           ] = False,
        api_key: Annotated[str | None, typer.Option(help="X-API-Key (default: the first configured key).")
                           ] = None,
        batch: Annotated[int | None, typer.Option(help="Events per request (default: auto by rate).")] = None,
        seed: Annotated[int, typer.Option(help="Seed of shoppers, catalogue and target picks.")] = 0,
        view_to_cart: Annotated[float | None, typer.Option(help="Share of sessions that add to cart.")
                                ] = None,
        cart_to_purchase: Annotated[float | None, typer.Option(help="Share of carts that are bought.")
                                    ] = None,
        route53_endpoint: Annotated[str | None, typer.Option(help="Route 53 endpoint URL.")] = None,
        record: Annotated[str | None, typer.Option(help="Weighted record name.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")
                               ] = False,
    ) -> None:
        """Simulated shoppers sending events to a gateway (or the weighted record) at a set rate."""
        if target is not None and route53:
            raise typer.BadParameter("give --target URL or --route53, not both")
        base = defaults()
        source = None
        if target is None:
            source = base.route53.model_copy(update={
                k: v for k, v in (("endpoint_url", route53_endpoint), ("record", record)) if v is not None})
        try:
            funnel = None
            if view_to_cart is not None or cart_to_purchase is not None:
                changes = {k: v for k, v in (("view_to_cart", view_to_cart),
                                             ("cart_to_purchase", cart_to_purchase)) if v is not None}
                funnel = Funnel(**{**default_funnel(profile).model_dump(), **changes})  # type: ignore[arg-type]
            config = LoadgenConfig(profile=profile, rate=rate, duration=duration, count=count,  # type: ignore[arg-type]
                                   target=target, route53=source, api_key=api_key or base.api_key,
                                   batch=batch, seed=seed, funnel=funnel)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']} "
                                 f"(got {e.get('input')!r})" for e in exc.errors())
            raise typer.BadParameter(problems) from None
        try:
            summary = run_with_progress(config, show=not json_output and sys.stdout.isatty())
        except (LookupError, BotoCoreError, ClientError) as exc:
            # The first Route 53 lookup failed: nothing can be sent anywhere.
            typer.secho(f"loadgen: cannot resolve the targets: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(2) from None
        if json_output:
            sys.stdout.write(orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            print_summary(summary)
        if summary.sent == 0 or summary.errors == summary.sent:
            raise typer.Exit(1)  # nothing got through

    return loadgen
