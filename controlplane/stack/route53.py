"""Route 53 (and ECS) endpoint for the local stack: moto's server mode on loopback.

The same boto3 code talks to real AWS in production: only ``endpoint_url`` differs. Locally both
gateways live on 127.0.0.1, so each weighted record's value carries ``host:port``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import boto3
import httpx

# The emulator needs some credentials; they are never sent anywhere but loopback.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def aws_client(service: str, endpoint_url: str | None, region: str) -> Any:
    """A boto3 client for ``service``; with a loopback endpoint, dummy credentials are used."""
    extra: dict[str, str] = {}
    if endpoint_url and ("127.0.0.1" in endpoint_url or "localhost" in endpoint_url):
        extra = dict(EMULATOR_CREDENTIALS)
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, **extra)  # type: ignore[call-overload]


@dataclass(frozen=True)
class MotoServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]

    def healthy(self, timeout: float = 2.0) -> bool:
        try:
            return httpx.get(f"{self.url}/moto-api/data.json", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False


def find_zone_id(client: Any, zone: str) -> str | None:
    wanted = zone.rstrip(".") + "."
    for hosted in client.list_hosted_zones_by_name(DNSName=wanted).get("HostedZones", []):
        if hosted["Name"] == wanted:
            return str(hosted["Id"]).rsplit("/", 1)[-1]
    return None


def weighted_upserts(
    record: str, values: dict[str, str], weights: dict[str, int], ttl: int
) -> list[dict[str, Any]]:
    """UPSERT changes of one weighted CNAME record set per set identifier."""
    return [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": record,
                "Type": "CNAME",
                "SetIdentifier": name,
                "Weight": weights[name],
                "TTL": ttl,
                "ResourceRecords": [{"Value": value}],
            },
        }
        for name, value in values.items()
    ]


def bootstrap_weighted_record(
    client: Any, zone: str, record: str, targets: dict[str, str], weights: dict[str, int], ttl: int
) -> str:
    """Create the hosted zone (once) and UPSERT one weighted record per target. Returns the zone id."""
    zone_id = find_zone_id(client, zone)
    if zone_id is None:
        created = client.create_hosted_zone(Name=zone, CallerReference=f"ecomctl-{zone}")
        zone_id = str(created["HostedZone"]["Id"]).rsplit("/", 1)[-1]
    existing = {
        rs.get("SetIdentifier")
        for rs in client.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if rs["Name"].rstrip(".") == record.rstrip(".")
    }
    # Keep the weights an operator (or a policy) already set when the stack restarts.
    changes = weighted_upserts(record, {n: v for n, v in targets.items() if n not in existing}, weights, ttl)
    if changes:
        client.change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Comment": "ecomctl bootstrap", "Changes": changes}
        )
    return zone_id
