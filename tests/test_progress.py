"""The status bar's figures: file N of M, bytes, throughput and an honest time left."""

from __future__ import annotations

from cci_uploader.progress import ProgressMeter, human_bytes, human_duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_throughput_time_left_and_file_n_of_m() -> None:
    clock = Clock()
    meter = ProgressMeter(clock)
    meter.reset({0: 40_000_000, 1: 60_000_000})
    assert meter.describe() == "File 1 of 2 · 0 B of 100.0 MB"
    meter.update(0, 0, 40_000_000)
    clock.now += 2
    meter.update(0, 20_000_000, 40_000_000)  # 10 MB/s
    assert meter.throughput() == 10_000_000
    assert meter.time_left() == 8.0
    assert meter.describe() == "File 1 of 2 · 20.0 MB of 100.0 MB · 10.0 MB/s · 8 s left"
    clock.now += 2
    meter.update(0, 40_000_000, 40_000_000)
    meter.finish(0)
    assert meter.position() == (2, 2)
    assert meter.describe().startswith("File 2 of 2 · 40.0 MB of 100.0 MB")


def test_total_never_shrinks_and_a_finished_file_counts_in_full() -> None:
    meter = ProgressMeter(Clock())
    meter.reset({0: 1000, 1: 1000})
    meter.update(0, 500, 3000)  # converted: larger than planned, the total grows
    assert (meter.done, meter.total) == (500, 4000)
    meter.update(1, 100, 400)  # converted: smaller, the total stays
    assert meter.total == 4000
    meter.finish(1)
    assert (meter.done, meter.total) == (1500, 4000)


def test_time_left_is_smoothed_and_zero_only_at_the_end() -> None:
    clock = Clock()
    meter = ProgressMeter(clock)
    meter.reset({0: 100_000_000})
    meter.update(0, 0, 100_000_000)
    for step in range(1, 5):  # 10 MB/s for 4 s
        clock.now += 1
        meter.update(0, step * 10_000_000, 100_000_000)
    steady = meter.time_left()
    assert steady == 6.0
    clock.now += 1  # the rate halves for one second
    meter.update(0, 45_000_000, 100_000_000)
    left = 55_000_000
    unsmoothed = left / (45_000_000 / 5)  # the rate over the 5 s window alone: 9 MB/s
    smoothed = meter.time_left()
    # It moves from the steady estimate towards the new one, without jumping there.
    assert smoothed is not None and left / 10_000_000 < smoothed < unsmoothed

    clock.now += 30  # all bytes sent, OMERO still importing: not "0 s left"
    meter.update(0, 100_000_000, 100_000_000)
    assert meter.time_left() == 1.0
    assert "0 s left" not in meter.describe()
    assert "OMERO is finishing" in meter.describe()
    meter.finish(0)
    assert meter.time_left() == 0.0
    assert meter.describe().endswith("0 s left")


def test_human_units() -> None:
    assert human_bytes(999) == "999 B"
    assert human_bytes(1_500_000) == "1.5 MB"
    assert human_bytes(1_073_741_824) == "1.1 GB"
    assert human_duration(12.4) == "12 s"
    assert human_duration(185) == "3 min 05 s"
    assert human_duration(3720) == "1 h 02 min"
