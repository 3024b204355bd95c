"""``cci-uploader --self-test``: prove this installation can do the app's work."""

from cci_uploader.selftest.runner import StepResult, run_self_test

__all__ = ["StepResult", "run_self_test"]
