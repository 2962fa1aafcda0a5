"""Progress: throttling with a fake clock, the final state always delivered, the sinks."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from gen_nb.transfer.progress import Progress, ProgressState, make_sink


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_updates_are_throttled_and_the_final_state_always_sent() -> None:
    clock, seen = FakeClock(), []
    progress = Progress(seen.append, clock=clock)
    progress.start(total=10_000)
    for _ in range(1000):          # 1000 pieces in 1 s of fake time
        clock.now += 0.001
        progress.advance(10)
    progress.finish("done")
    assert seen[-1].phase == "done" and seen[-1].done == 10_000
    assert seen[0].phase == "starting"
    assert len(seen) <= 10         # start + ≤ 8 throttled + final, for one second of transfer
    assert progress.updates == len(seen)


def test_finish_is_delivered_once_and_rate_ignores_resumed_bytes() -> None:
    clock, seen = FakeClock(), []
    progress = Progress(seen.append, interval=0, clock=clock)
    progress.start(total=300, done=100)
    clock.now = 2.0
    progress.advance(100)
    progress.finish("done")
    progress.finish("failed")
    assert [s.phase for s in seen] == ["starting", "transferring", "done"]
    assert seen[1].rate == pytest.approx(50.0)
    assert seen[1].eta == pytest.approx(2.0)
    assert seen[1].fraction == pytest.approx(2 / 3)


def test_state_fraction_edge_cases() -> None:
    assert ProgressState(5, None, 0, 0, None, "transferring").fraction is None
    assert ProgressState(0, 0, 0, 0, None, "done").fraction == 1.0
    assert ProgressState(20, 10, 0, 0, None, "done").fraction == 1.0


def test_a_raising_sink_is_disabled_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    def broken(state: ProgressState) -> None:
        calls.append(state)
        raise RuntimeError("widget gone")

    progress = Progress(broken, interval=0)
    progress.start(total=10)
    progress.advance(5)
    progress.finish("done")
    assert len(calls) == 1
    assert "progress sink raised" in caplog.text


class FakeBar:
    def __init__(self) -> None:
        self.total: int | None = None
        self.n = 0
        self.closed = False
        self.postfix = ""

    def update(self, n: float = 1) -> None:
        self.n += int(n)

    def refresh(self) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    def close(self) -> None:
        self.closed = True


def test_tqdm_like_objects_are_fed_but_not_closed() -> None:
    bar = FakeBar()
    sink = make_sink(bar)
    assert sink is not None
    progress = Progress(sink, interval=0)
    progress.start(total=100)
    progress.advance(40)
    progress.advance(60)
    progress.finish("failed", "boom")
    assert (bar.total, bar.n, bar.closed, bar.postfix) == (100, 100, False, "boom")


def test_make_sink_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    def callback(state: ProgressState) -> None:
        pass

    assert make_sink(False) is None
    assert make_sink(callback) is callback
    assert make_sink(None, default_bar=False) is None
    with pytest.raises(TypeError):
        make_sink(42)


def test_default_sink_is_tqdm_auto_when_enabled(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    sink: Any = make_sink(None, "clip.mp4", default_bar=True)
    assert sink is not None and sink.owned
    progress = Progress(sink, interval=0)
    progress.start(total=2048)
    progress.advance(2048)
    progress.finish("done")
    assert sink.bar.n == 2048
    assert "clip.mp4" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "off"), [("", False), ("0", False), ("false", False),
                                            ("1", True), ("yes", True)])
def test_progress_disabled(value: str, off: bool) -> None:
    from gen_nb.api.settings import TransferOptions

    assert TransferOptions.from_env({"GEN_NB_DISABLE_PROGRESS": value}).progress is not off


def test_transfer_core_imports_no_ui_libraries() -> None:
    import subprocess

    code = ("import sys, gen_nb.transfer, gen_nb.transfer.segmented, gen_nb.cli; "
            "bad = [m for m in ('ipywidgets', 'IPython', 'pandas', 'tqdm', 'gen_nb.api.client') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_transfer_public_surface() -> None:
    import importlib

    import gen_nb.transfer as transfer

    assert sorted(transfer.__all__) == ["DownloadResult", "ProgressState", "StreamResult",
                                        "TransferResult", "download", "download_many",
                                        "stream_to"]
    import pkgutil

    names = [m.name for m in pkgutil.iter_modules(transfer.__path__)]
    assert len(names) >= 15
    for name in names:
        module = importlib.import_module(f"gen_nb.transfer.{name}")
        assert len(set(module.__all__)) == len(module.__all__), name
        assert all(hasattr(module, n) for n in module.__all__), (name, module.__all__)
