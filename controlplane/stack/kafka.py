"""Apache Kafka, single node in KRaft mode, run from the jars Maven resolved (``make setup``)."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess  # noqa: S404 - runs our own java command lines, no shell
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from controlplane.stack.errors import StackError

LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka
logger.kafka.level = info
logger.org.name = org.apache
logger.org.level = warn
"""


@dataclass(frozen=True)
class KafkaNode:
    """Files and command line of one KRaft broker+controller under ``home``."""

    home: Path
    libs: Path
    host: str
    port: int
    controller_port: int
    heap: str = "768m"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def properties_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def server_properties(self) -> str:
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{self.host}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            # Single node: internal topics cannot have more replicas than brokers.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # Topics come from ingest/topics.yaml only; a typo must not create a topic.
            "auto.create.topics.enable": "false",
            "num.partitions": "1",
            "log.retention.check.interval.ms": "60000",
        }
        return "".join(f"{k}={v}\n" for k, v in settings.items())

    def java_command(self, *main_and_args: str) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise StackError(
                "java is not installed: install Java 17 (Debian: apt-get install -y openjdk-17-jre-headless)"
            )
        return [
            java,
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp",
            f"{self.libs}/*",
            *main_and_args,
        ]

    def broker_command(self) -> list[str]:
        return self.java_command("kafka.Kafka", str(self.properties_file))

    def prepare(self) -> None:
        """Write the config and format the storage on first start; refuse a storage of another cluster."""
        if not self.libs.is_dir() or not any(self.libs.glob("kafka_2.13-*.jar")):
            raise StackError(
                f"Kafka jars not found in {self.libs}: run `make setup` (needs Maven and Java 17)"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(self.server_properties())
        (self.home / "log4j2.properties").write_text(LOG4J2)
        meta = self.data_dir / "meta.properties"
        if meta.exists():
            self._check_meta(meta)
            return
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise StackError(
                f"corrupt state dir: {self.data_dir} has data but no meta.properties; "
                f"remove {self.home} to start from an empty broker"
            )
        cluster_id = self._cluster_id()
        proc = subprocess.run(  # noqa: S603
            self.java_command(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(self.properties_file),
                "--ignore-formatted",
            ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise StackError(
                f"formatting Kafka storage in {self.data_dir} failed: "
                f"{(proc.stderr or proc.stdout).strip()[-600:]}"
            )

    def _cluster_id(self) -> str:
        # A Kafka cluster id is 16 random bytes, base64url without padding (22 chars).
        return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")

    def _check_meta(self, meta: Path) -> None:
        try:
            fields = dict(
                line.split("=", 1)
                for line in meta.read_text().splitlines()
                if "=" in line and not line.startswith("#")
            )
        except (OSError, UnicodeDecodeError) as exc:
            raise StackError(f"corrupt state dir: cannot read {meta}: {exc}") from None
        if fields.get("node.id") != "1" or not fields.get("cluster.id"):
            raise StackError(
                f"corrupt state dir: {meta} does not describe this single-node cluster "
                f"(node.id={fields.get('node.id')!r}); remove {self.home} to start afresh"
            )

    def healthy(self, timeout: float = 2.0) -> bool:
        # A TCP probe first: an AdminClient against a closed port logs a line every 50 ms.
        try:
            socket.create_connection((self.host, self.port), timeout=timeout).close()
        except OSError:
            return False
        try:
            admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 2})
            metadata = admin.list_topics(timeout=timeout)
            return bool(metadata.brokers)
        except KafkaException:
            return False
