"""Running a function in two gloo processes on this machine, for the DDP tests.

Rendezvous over a fresh localhost port can fail on a busy machine (the port is taken between choosing and
binding it, and gloo then aborts the rank): a launch whose process dies is retried once on a new port.
Anything else — a wrong result, a Python exception in a rank — fails at once.
"""

from __future__ import annotations

import os
import socket

import torch.multiprocessing as mp


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn_on_localhost(worker, args_after_port: tuple, nprocs: int = 2, attempts: int = 2) -> None:
    """``mp.spawn(worker, (port, *args_after_port))`` with gloo pinned to the loopback interface."""
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    for attempt in range(attempts):
        try:
            mp.spawn(worker, args=(free_port(), *args_after_port), nprocs=nprocs, join=True)
            return
        except mp.ProcessExitedException:  # a rank killed by a signal (gloo's abort), not a Python error
            if attempt == attempts - 1:
                raise
