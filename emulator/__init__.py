"""Local runner: the whole system on moto with a simulated clock (``python -m emulator``)."""
