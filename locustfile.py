"""Locust: the loadgen shopper model, for load beyond one machine (Locust's distributed mode).

Each Locust user is one shopper after another (the same seeded ShopperSim as `ecomctl loadgen`),
sending one event per task to a gateway at ``LOADGEN_USER_RATE`` events/s (default 1).

    locust -f locustfile.py --host http://127.0.0.1:18081 --headless -u 200 -r 50 -t 60s
    locust -f locustfile.py --master ... / --worker ...      (distributed)

Environment: ``ECOMCTL_INGEST_API_KEYS`` (the first key is used), ``LOADGEN_SEED``,
``LOADGEN_FUNNEL_PROFILE`` (a loadgen profile name whose funnel to use, e.g. flash-sale), and
``LOADGEN_PROFILE`` + ``LOADGEN_RATE`` + ``LOADGEN_DURATION`` to drive the user count by a loadgen
arrival profile instead of -u/-r.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from typing import Any, cast

import orjson
from locust import FastHttpUser, LoadTestShape, constant_throughput, task

from ingest.loadgen.config import PROFILES, LoadgenConfig, ProfileName, default_funnel
from ingest.loadgen.profiles import build_profile
from ingest.loadgen.shoppers import ShopperSim, format_timestamp

API_KEY = (os.environ.get("ECOMCTL_INGEST_API_KEYS", "dev-key").split(",")[0].strip() or "dev-key")
USER_RATE = float(os.environ.get("LOADGEN_USER_RATE", "1"))
SEED = int(os.environ.get("LOADGEN_SEED", "0"))
FUNNEL_PROFILE = os.environ.get("LOADGEN_FUNNEL_PROFILE", "steady")
if FUNNEL_PROFILE not in PROFILES:
    raise ValueError(f"LOADGEN_FUNNEL_PROFILE={FUNNEL_PROFILE!r}: not one of {', '.join(PROFILES)}")
_user_seeds = itertools.count()


class Shopper(FastHttpUser):
    wait_time = constant_throughput(USER_RATE)

    def on_start(self) -> None:
        # Distinct, reproducible shoppers per user (and per worker through LOADGEN_SEED).
        seed = SEED * 1_000_003 + next(_user_seeds)
        self.sim = ShopperSim(default_funnel(cast(ProfileName, FUNNEL_PROFILE)), seed=seed, sessions=1)

    @task
    def send_event(self) -> None:
        event = self.sim.next_event(format_timestamp(time.time()))
        headers = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
        with self.client.post("/v1/events", data=orjson.dumps(event).decode(), headers=headers,
                              name=f"/v1/events [{event['event_type']}]", catch_response=True) as response:
            if response.status_code != 202:
                response.failure(f"HTTP {response.status_code}")
                return
            body: Any = response.json()
            if body.get("rejected"):
                response.failure(f"rejected: {body['rejected'][0].get('error')}")


if os.environ.get("LOADGEN_PROFILE"):

    class ProfileShape(LoadTestShape):
        """Users follow a loadgen arrival profile: users = rate(t) / per-user rate."""

        config = LoadgenConfig(profile=cast(ProfileName, os.environ["LOADGEN_PROFILE"]),
                               rate=float(os.environ.get("LOADGEN_RATE", "50")),
                               duration=float(os.environ.get("LOADGEN_DURATION", "60")), target="locust")
        profile = build_profile(config)

        def tick(self) -> tuple[int, float] | None:
            t = self.get_run_time()
            if t >= (self.config.duration or 0):
                return None
            users = max(1, math.ceil(self.profile.rate_at(t) / USER_RATE))
            return users, float(users)
