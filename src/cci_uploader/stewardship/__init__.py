"""The facility's storage rules: upload history, the 4-week reminder, verified clean-up."""
