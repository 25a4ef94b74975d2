"""Data files shipped with the engine (outcome prototypes); read with ``importlib.resources``."""
