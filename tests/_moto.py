"""A real S3-protocol server on 127.0.0.1 for tests: moto in server mode, one per session."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CREDENTIALS = {"key": "testing", "secret": "testing"}


class MotoServer:
    def __init__(self) -> None:
        exe = Path(sys.executable).with_name("moto_server")
        if not exe.exists():
            if os.environ.get("CI"):
                pytest.fail("moto_server is missing: pip install 'moto[server]' (the test extra)")
            pytest.skip("moto_server is not installed")
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        self.process = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", "0"], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)
        self.endpoint = self._wait_for_address()

    def _wait_for_address(self) -> str:
        deadline = time.monotonic() + 30
        assert self.process.stderr is not None
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}")
            found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
            if found:  # keep reading its log, or a full pipe would stall the server
                threading.Thread(target=self._drain, name="moto-log", daemon=True).start()
                return found.group(1)
        raise RuntimeError("moto_server did not say where it listens within 30 s")

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for _line in self.process.stderr:
            pass

    def bucket(self, name: str) -> str:
        import boto3

        s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket=name)
        return name

    @property
    def storage_options(self) -> dict[str, Any]:
        return {**CREDENTIALS, "endpoint_url": self.endpoint}

    def s3fs(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(**self.storage_options)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()
