"""The status bar's figures: bytes, throughput and time left."""

from __future__ import annotations

from cci_uploader.ui.progress import ProgressMeter, human_bytes, human_duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_throughput_and_time_left_follow_the_recent_rate() -> None:
    clock = Clock()
    meter = ProgressMeter(clock)
    meter.reset({0: 40_000_000, 1: 60_000_000})
    assert meter.describe() == "0 B of 100.0 MB"
    meter.update(0, 0, 40_000_000)
    clock.now += 2
    meter.update(0, 20_000_000, 40_000_000)  # 10 MB/s
    assert meter.throughput() == 10_000_000
    assert meter.time_left() == 8.0
    assert meter.describe() == "20.0 MB of 100.0 MB · 10.0 MB/s · 8 s left"
    clock.now += 10  # older samples leave the window: the rate is the recent one
    meter.update(0, 40_000_000, 40_000_000)
    clock.now += 1
    meter.update(1, 5_000_000, 60_000_000)
    assert meter.throughput() == 5_000_000
    assert meter.done == 45_000_000


def test_converted_size_replaces_the_estimate() -> None:
    meter = ProgressMeter(Clock())
    meter.reset({0: 1000})
    meter.update(0, 500, 3000)
    assert (meter.done, meter.total) == (500, 3000)


def test_human_units() -> None:
    assert human_bytes(999) == "999 B"
    assert human_bytes(1_500_000) == "1.5 MB"
    assert human_bytes(1_073_741_824) == "1.1 GB"
    assert human_duration(12.4) == "12 s"
    assert human_duration(185) == "3 min 05 s"
    assert human_duration(3720) == "1 h 02 min"
